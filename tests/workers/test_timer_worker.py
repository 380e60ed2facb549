"""The sweep and the timer job through a real arq worker (in process, burst mode, manual clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
from prometheus_client import REGISTRY

from domain.runtime.clock import Clock
from domain.store import timers
from domain.store.timers import TimerRow, TimerState
from tests.workers.conftest import START, Harness, flush_redis
from workers.config import TimerTuning
from workers.metrics import Outcome, job_count
from workers.registry import handlers, timer_kind
from workers.timer_job import RUN_TIMER


async def _schedule(h: Harness, key: str, *, due_in: timedelta = timedelta(0), kind: str = "ping",
                    payload: dict[str, Any] | None = None) -> int:
    async with h.pool.acquire() as conn:
        return await timers.schedule(conn, kind=kind, subject=f"test:{key}",
                                     due_at=h.clock.now() + due_in, idempotency_key=key, payload=payload)


async def _row(h: Harness, tid: int) -> TimerRow:
    async with h.pool.acquire() as conn:
        row = await timers.get(conn, tid)
    assert row is not None
    return row


async def _effects(h: Harness, tid: int | None = None) -> int:
    async with h.pool.acquire() as conn:
        if tid is None:
            return int(await conn.fetchval("SELECT count(*) FROM timer_ping_effects"))
        return int(await conn.fetchval("SELECT count(*) FROM timer_ping_effects WHERE timer_id = $1", tid))


def _lag_count() -> float:
    return REGISTRY.get_sample_value("autopolicy_worker_timer_lag_seconds_count", {"kind": "ping"}) or 0.0


async def test_a_due_timer_fires_once(harness: Harness) -> None:
    h = harness
    done_before, lags_before = job_count("ping", Outcome.DONE), _lag_count()
    tid = await _schedule(h, "a", due_in=-timedelta(seconds=3))
    assert await h.sweep() == 1
    assert await h.queued() == 1
    worker = await h.work()
    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    row = await _row(h, tid)
    assert row.state is TimerState.DONE and row.attempts == 1 and row.done_at == START
    assert await _effects(h, tid) == 1
    # Later sweeps and workers find nothing more to do.
    await h.tick()
    assert await _effects(h, tid) == 1
    assert job_count("ping", Outcome.DONE) == done_before + 1
    assert _lag_count() == lags_before + 1


async def test_a_timer_not_yet_due_waits_for_the_clock(harness: Harness) -> None:
    h = harness
    tid = await _schedule(h, "later", due_in=timedelta(hours=1))
    await h.tick()
    assert (await _row(h, tid)).state is TimerState.PENDING
    h.clock.advance(timedelta(minutes=59, seconds=59))
    await h.tick()
    assert await _effects(h, tid) == 0
    h.clock.advance(timedelta(seconds=1))  # due_at <= now: exactly at the deadline it fires
    await h.tick()
    assert await _effects(h, tid) == 1
    assert (await _row(h, tid)).done_at == START + timedelta(hours=1)


async def test_enqueued_twice_takes_effect_once(harness: Harness) -> None:
    h = harness
    skipped_before = job_count("ping", Outcome.SKIPPED)
    # The job holds the row for a moment, so the copies below really run while it works.
    tid = await _schedule(h, "dup", payload={"sleep": 0.3})
    assert await h.sweep() == 1
    job_id = timers.job_id(tid, 1)
    # The same hand-over again: arq refuses the id while the job is queued.
    assert await h.arq.enqueue_job(RUN_TIMER, tid, _job_id=job_id, _queue_name=h.queue) is None
    # Copies under other ids (a stale hand-over, a replayed enqueue): arq accepts them.
    for n in range(3):
        assert await h.arq.enqueue_job(RUN_TIMER, tid, _job_id=f"copy:{tid}:{n}", _queue_name=h.queue)
    worker = await h.work()
    assert worker.jobs_complete == 4
    assert await _effects(h, tid) == 1
    row = await _row(h, tid)
    assert row.state is TimerState.DONE and row.attempts == 1
    assert job_count("ping", Outcome.SKIPPED) == skipped_before + 3
    # After it finished, a copy arriving late is a no-op as well.
    await h.arq.enqueue_job(RUN_TIMER, tid, _job_id=f"late:{tid}", _queue_name=h.queue)
    await h.work()
    assert await _effects(h, tid) == 1


async def test_a_failing_kind_retries_with_backoff_and_ends_failed(harness: Harness) -> None:
    h = harness  # max_attempts 3, backoff 5 s doubling
    retry_before, failed_before = job_count("ping", Outcome.RETRY), job_count("ping", Outcome.FAILED)
    tid = await _schedule(h, "bad", payload={"fail_times": 99})
    await h.tick()
    row = await _row(h, tid)
    assert (row.state, row.attempts) == (TimerState.PENDING, 1)
    assert row.due_at == START + timedelta(seconds=5)
    assert row.last_error == "PingFailure: ping 1 fails on purpose at attempt 1 of 99"

    h.clock.advance(timedelta(seconds=4))  # backoff not over: no attempt
    await h.tick()
    assert (await _row(h, tid)).attempts == 1
    h.clock.advance(timedelta(seconds=1))
    await h.tick()
    row = await _row(h, tid)
    assert (row.state, row.attempts) == (TimerState.PENDING, 2)
    assert row.due_at == START + timedelta(seconds=5 + 10)  # doubled

    h.clock.advance(timedelta(seconds=10))
    await h.tick()
    row = await _row(h, tid)
    assert (row.state, row.attempts) == (TimerState.FAILED, 3)
    assert row.last_error is not None and "at attempt 3" in row.last_error
    h.clock.advance(timedelta(days=1))
    await h.tick()
    assert (await _row(h, tid)).attempts == 3  # FAILED is final
    assert await _effects(h, tid) == 0
    assert job_count("ping", Outcome.RETRY) == retry_before + 2
    assert job_count("ping", Outcome.FAILED) == failed_before + 1


async def test_a_flaky_kind_succeeds_on_a_later_attempt(harness: Harness) -> None:
    h = harness
    tid = await _schedule(h, "flaky", payload={"fail_times": 1})
    await h.tick()
    h.clock.advance(timedelta(seconds=5))
    await h.tick()
    row = await _row(h, tid)
    assert (row.state, row.attempts) == (TimerState.DONE, 2)
    assert row.last_error is not None  # the failure stays visible
    assert await _effects(h, tid) == 1


async def test_a_failing_handler_leaves_no_partial_effect(harness: Harness) -> None:
    h = harness

    @timer_kind("test_half_done")
    async def half_done(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
        await conn.execute("INSERT INTO timer_ping_effects (timer_id, fired_at) VALUES ($1, $2)",
                           timer.id, clock.now())
        raise RuntimeError("broke after writing")

    try:
        tid = await _schedule(h, "half", kind="test_half_done")
        await h.tick()
    finally:
        handlers.pop("test_half_done")
    row = await _row(h, tid)
    assert (row.state, row.last_error) == (TimerState.PENDING, "RuntimeError: broke after writing")
    assert await _effects(h, tid) == 0


async def test_an_unknown_kind_is_retried_then_failed_with_a_message(harness: Harness) -> None:
    h = harness
    h.max_attempts = 1
    tid = await _schedule(h, "unknown", kind="no_such_kind")
    await h.tick()
    row = await _row(h, tid)
    assert row.state is TimerState.FAILED
    assert row.last_error == "UnknownTimerKind: no handler for timer kind 'no_such_kind' in this worker"


async def test_a_timer_cancelled_after_hand_over_does_nothing(harness: Harness) -> None:
    h = harness
    tid = await _schedule(h, "cancel")
    await h.sweep()
    async with h.pool.acquire() as conn:
        assert await timers.cancel(conn, subject="test:cancel") == 1
    await h.work()
    assert (await _row(h, tid)).state is TimerState.CANCELLED
    assert await _effects(h, tid) == 0


async def test_redis_flushed_with_1000_enqueued_timers_loses_nothing(harness: Harness) -> None:
    h = harness
    async with h.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO timers (kind, subject, due_at, idempotency_key) VALUES ('ping', $1, $2, $3)",
            [(f"bulk:{i}", START - timedelta(seconds=i % 60), f"bulk:{i}") for i in range(1000)],
        )
    assert await h.sweep() == 1000
    assert await h.queued() == 1000
    # A worker gets through part of the queue, then Redis loses everything.
    await h.work(max_burst_jobs=250)
    done_before_flush = await _effects(h)
    assert 200 <= done_before_flush < 1000
    flush_redis(h.redis_url)
    assert await h.queued() == 0
    await h.tick()  # within the lease: the ENQUEUED rows wait
    assert await _effects(h) == done_before_flush

    h.clock.advance(h.tuning.lease)
    assert await h.sweep() == 1000 - done_before_flush
    await h.work()
    async with h.pool.acquire() as conn:
        per_timer = await conn.fetch(
            "SELECT t.id, t.state, count(e.id) AS effects FROM timers t "
            "LEFT JOIN timer_ping_effects e ON e.timer_id = t.id GROUP BY t.id, t.state"
        )
    assert len(per_timer) == 1000
    assert {(r["state"], r["effects"]) for r in per_timer} == {("DONE", 1)}


async def test_the_sweep_stops_at_the_queue_high_water_mark(harness: Harness) -> None:
    h = harness
    h.tuning = TimerTuning(**{**h.tuning.model_dump(), "queue_high_water": 30})
    async with h.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO timers (kind, subject, due_at, idempotency_key) VALUES ('ping', 's', $1, $2)",
            [(START, f"hw:{i}") for i in range(100)],
        )
        assert await h.sweep() == 30
        assert await h.sweep() == 0  # the queue is full: rows stay PENDING in PostgreSQL
        assert await conn.fetchval("SELECT count(*) FROM timers WHERE state = 'PENDING'") == 70
        for _ in range(4):
            await h.tick()
        assert await conn.fetchval("SELECT count(*) FROM timers WHERE state = 'DONE'") == 100


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    tuning = TimerTuning(backoff_base_seconds=5, backoff_cap_seconds=60)
    assert [tuning.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 500)] == [5, 10, 20, 40, 60, 60]
