"""Property: whatever happens to the hand-overs, each timer's effect happens at most once, and once
for every timer that ends DONE (never for one that ends CANCELLED or FAILED).

Hypothesis draws interleavings of sweeps, partial worker runs, Redis flushes, lease expiries,
duplicate enqueues and cancellations, against the real database, Redis and arq worker.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.store import timers
from tests.workers.conftest import Harness, flush_redis
from workers.timer_job import RUN_TIMER

N_TIMERS = 6

ops = st.lists(
    st.one_of(
        st.just(("sweep",)),
        st.tuples(st.just("work"), st.integers(1, 8)),
        st.just(("flush",)),
        st.just(("lease",)),
        st.tuples(st.just("advance"), st.integers(1, 30)),
        st.tuples(st.just("dup"), st.integers(1, N_TIMERS)),
        st.tuples(st.just("cancel"), st.integers(1, N_TIMERS)),
    ),
    min_size=1, max_size=12,
)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=ops, fail_first=st.sets(st.integers(1, N_TIMERS)))
async def test_effects_are_exactly_once_under_any_interleaving(
        harness: Harness, plan: list[tuple], fail_first: set[int]) -> None:
    h = harness
    h.max_attempts = 10
    async with h.pool.acquire() as conn:
        await conn.execute("TRUNCATE timers, timer_ping_effects RESTART IDENTITY")
    flush_redis(h.redis_url)
    start = h.clock.now()
    async with h.pool.acquire() as conn:
        for i in range(1, N_TIMERS + 1):
            await timers.schedule(conn, kind="ping", subject=f"p:{i}", idempotency_key=f"p:{i}",
                                  due_at=start + timedelta(seconds=5 * i),
                                  payload={"fail_times": 1 if i in fail_first else 0})

    async def check_at_most_once() -> None:
        worst = await h.pool.fetchval(
            "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM timer_ping_effects GROUP BY timer_id) x")
        assert worst <= 1

    for op in plan:
        match op:
            case ("sweep",):
                await h.sweep()
            case ("work", n):
                await h.work(max_burst_jobs=n)
            case ("flush",):
                flush_redis(h.redis_url)
            case ("lease",):
                h.clock.advance(h.tuning.lease)
            case ("advance", seconds):
                h.clock.advance(timedelta(seconds=seconds))
            case ("dup", tid):
                await h.arq.enqueue_job(RUN_TIMER, tid, _queue_name=h.queue)
            case ("cancel", tid):
                async with h.pool.acquire() as conn:
                    await timers.cancel(conn, subject=f"p:{tid}")
        await check_at_most_once()

    for _ in range(12):  # drain: time passes, workers keep running
        live = await h.pool.fetchval("SELECT count(*) FROM timers WHERE state IN ('PENDING', 'ENQUEUED')")
        if not live:
            break
        h.clock.advance(h.tuning.lease + timedelta(minutes=1))
        await h.tick()
    rows = await h.pool.fetch(
        "SELECT t.state, count(e.id) AS n FROM timers t LEFT JOIN timer_ping_effects e ON e.timer_id = t.id "
        "GROUP BY t.id, t.state")
    assert len(rows) == N_TIMERS
    for r in rows:
        assert (r["state"], r["n"]) in {("DONE", 1), ("CANCELLED", 0), ("FAILED", 0)}, dict(r)
