"""domain/store/timers.py against real PostgreSQL: schedule, cancel, claim (due, lease, locks)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import asyncpg
import pytest

from domain.runtime.clock import JST
from domain.store import timers
from domain.store.timers import TimerConflict, TimerState
from tests.workers.conftest import START, Harness

LEASE = timedelta(seconds=30)


async def test_schedule_answers_the_same_id_for_a_replayed_key(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        first = await timers.schedule(conn, kind="ping", subject="contract:1", due_at=START,
                                      idempotency_key="k1", payload={"a": 1})
        again = await timers.schedule(conn, kind="ping", subject="contract:1",
                                      due_at=START + timedelta(days=1), idempotency_key="k1")
        row = await timers.get(conn, first)
    assert again == first
    assert row is not None
    assert row.due_at == START and row.payload == {"a": 1}  # the replay changed nothing
    assert row.state is TimerState.PENDING and row.attempts == 0 and row.due_at.tzinfo == JST


async def test_schedule_refuses_a_key_of_another_kind_and_naive_times(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        await timers.schedule(conn, kind="ping", subject="s", due_at=START, idempotency_key="k")
        with pytest.raises(TimerConflict, match="belongs to timer"):
            await timers.schedule(conn, kind="other", subject="s", due_at=START, idempotency_key="k")
        with pytest.raises(ValueError, match="naive"):
            await timers.schedule(conn, kind="ping", subject="s", due_at=datetime(2026, 4, 1),
                                  idempotency_key="k2")


async def test_schedule_joins_the_callers_transaction(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await timers.schedule(conn, kind="ping", subject="s", due_at=START, idempotency_key="k")
                raise RuntimeError("use case failed")
        assert await conn.fetchval("SELECT count(*) FROM timers") == 0


async def test_cancel_touches_live_timers_of_the_subject_only(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        a = await timers.schedule(conn, kind="ping", subject="c:1", due_at=START, idempotency_key="a")
        b = await timers.schedule(conn, kind="grace", subject="c:1", due_at=START, idempotency_key="b")
        done = await timers.schedule(conn, kind="ping", subject="c:1", due_at=START, idempotency_key="d")
        other = await timers.schedule(conn, kind="ping", subject="c:2", due_at=START, idempotency_key="o")
        await timers.mark_done(conn, done, START)
        assert await timers.cancel(conn, subject="c:1", kind="ping") == 1
        assert await timers.cancel(conn, subject="c:1") == 1
        assert await timers.cancel(conn, subject="c:1") == 0
        states = {t.id: t.state for t in await timers.for_subject(conn, "c:1")}
        assert states == {a: TimerState.CANCELLED, b: TimerState.CANCELLED, done: TimerState.DONE}
        assert (await timers.get(conn, other)).state is TimerState.PENDING  # type: ignore[union-attr]


async def test_claim_takes_due_rows_in_due_order_up_to_the_limit(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        late = await timers.schedule(conn, kind="ping", subject="s", due_at=START, idempotency_key="late")
        early = await timers.schedule(conn, kind="ping", subject="s", due_at=START - timedelta(hours=1),
                                      idempotency_key="early")
        mid = await timers.schedule(conn, kind="ping", subject="s", due_at=START - timedelta(minutes=1),
                                    idempotency_key="mid")
        future = await timers.schedule(conn, kind="ping", subject="s", due_at=START + timedelta(seconds=1),
                                       idempotency_key="future")
        assert await timers.claim_due(conn, START, 2, LEASE) == [early, mid]
        claims = await timers.claim_due_jobs(conn, START, 10, LEASE)
        assert [(c.timer_id, c.attempt, c.job_id) for c in claims] == [(late, 1, f"timer:{late}:1")]
        assert await timers.claim_due(conn, START, 10, LEASE) == []  # due_at <= now, ENQUEUED in lease
        row = await timers.get(conn, early)
        assert row is not None and row.state is TimerState.ENQUEUED and row.enqueued_at == START
        assert (await timers.get(conn, future)).state is TimerState.PENDING  # type: ignore[union-attr]


async def test_lease_hands_a_lost_row_over_again_then_fails_it(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        tid = await timers.schedule(conn, kind="ping", subject="s", due_at=START, idempotency_key="k")
        assert await timers.claim_due(conn, START, 10, LEASE, max_attempts=2) == [tid]
        # Just inside the lease: the job may still be waiting in Redis.
        assert await timers.claim_due(conn, START + LEASE - timedelta(seconds=1), 10, LEASE,
                                      max_attempts=2) == []
        claims = await timers.claim_due_jobs(conn, START + LEASE, 10, LEASE, max_attempts=2)
        assert [(c.timer_id, c.attempt) for c in claims] == [(tid, 2)]
        row = await timers.get(conn, tid)
        assert row is not None and row.attempts == 2 and "job lost" in (row.last_error or "")
        # Lost again after the last attempt: FAILED, not handed over a third time.
        assert await timers.claim_due(conn, START + 3 * LEASE, 10, LEASE, max_attempts=2) == []
        row = await timers.get(conn, tid)
        assert row is not None and row.state is TimerState.FAILED and row.attempts == 2
        assert "lease" in (row.last_error or "")


async def test_claim_skips_a_row_whose_job_is_running(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        tid = await timers.schedule(conn, kind="ping", subject="s", due_at=START, idempotency_key="k")
        await timers.claim_due(conn, START, 10, LEASE)
    job_conn: asyncpg.Connection
    async with harness.pool.acquire() as job_conn, job_conn.transaction():
        row = await timers.lock_for_run(job_conn, tid)  # a job holds the row past its lease
        assert row is not None and row.state is TimerState.ENQUEUED
        async with harness.pool.acquire() as sweep_conn:
            claimed = await asyncio.wait_for(
                timers.claim_due(sweep_conn, START + 10 * LEASE, 10, LEASE, max_attempts=1), 2)
            assert claimed == []
            assert (await timers.get(sweep_conn, tid)).state is TimerState.ENQUEUED  # type: ignore[union-attr]


async def test_two_sweeps_never_claim_the_same_row(harness: Harness) -> None:
    async with harness.pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO timers (kind, subject, due_at, idempotency_key) VALUES ('ping', 's', $1, $2)",
            [(START, f"k{i}") for i in range(400)],
        )

    async def one_sweep() -> list[int]:
        got: list[int] = []
        async with harness.pool.acquire() as conn:
            while True:
                async with conn.transaction():
                    batch = await timers.claim_due(conn, START, 37, LEASE)
                if not batch:
                    return got
                got += batch

    results = await asyncio.gather(*(one_sweep() for _ in range(4)))
    every = [tid for r in results for tid in r]
    assert len(every) == len(set(every)) == 400


async def test_concurrent_schedules_of_one_key_make_one_timer(harness: Harness) -> None:
    async with harness.pool.acquire() as a, harness.pool.acquire() as b:
        tx = a.transaction()
        await tx.start()
        first = await timers.schedule(a, kind="ping", subject="s", due_at=START, idempotency_key="same")
        # b's insert waits for a's uncommitted row, then answers it once a commits.
        second = asyncio.create_task(
            timers.schedule(b, kind="ping", subject="s", due_at=START, idempotency_key="same"))
        await asyncio.sleep(0.1)
        assert not second.done()
        await tx.commit()
        assert await asyncio.wait_for(second, 2) == first
        assert await a.fetchval("SELECT count(*) FROM timers WHERE idempotency_key = 'same'") == 1
