"""The timer job and the sweep that hands due timers to it.

Why a timer's effect happens exactly once although arq delivers jobs at least once
----------------------------------------------------------------------------------
PostgreSQL holds every timer; Redis holds only hand-overs, which may be lost or doubled.

1. The sweep claims due rows in one statement (`FOR UPDATE SKIP LOCKED`, state -> ENQUEUED,
   attempts + 1), commits, and only then enqueues one arq job per row with the job id
   `timer:<id>:<attempt>`. A crash between commit and enqueue leaves an ENQUEUED row without a
   job, which the lease below repairs: nothing is lost.
2. The job locks its row (`SELECT ... FOR UPDATE`) and proceeds only when the row is ENQUEUED. It
   runs the kind's handler and sets the row DONE in the SAME transaction. So the effect and the
   "done" mark commit together or not at all, and any other copy of the job -- arq re-running it
   after a worker crash, a duplicate enqueue, a stale hand-over -- waits for the lock, then finds
   the row DONE (or PENDING for a later retry, or CANCELLED) and does nothing.
3. A worker killed mid-job never commits: PostgreSQL rolls the effect back and releases the lock
   when the connection drops. The row is still ENQUEUED; a later copy of the job does the work.
4. Rows ENQUEUED for longer than the lease (TIMER_LEASE_SECONDS) and not locked by a running job
   are claimed again under a new attempt, so a flushed Redis or a job arq gave up on is retried.

Why the attempt is part of the job id: arq refuses an enqueue while a job with the same id is
queued OR its result is still kept. With the bare row id, the retry after a failure (or the
re-claim after a lost job) could be refused for `keep_result` seconds, or -- worse -- silently
merged with a stale job that arq will only re-run after its in-progress key expires. One id per
hand-over makes every hand-over enqueue for certain; point 2, not arq's id check, is what makes
duplicates harmless. The id still stops the same hand-over being enqueued twice.

A handler failure rolls back to a savepoint, so the failure (attempts, last_error, next due_at or
FAILED) is recorded under the same row lock, atomically with the decision not to run again now.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from domain.runtime.clock import Clock
from domain.runtime.settings import Settings
from domain.store import timers
from domain.store.timers import Claim, TimerState
from workers.config import TimerTuning
from workers.metrics import (
    SWEEP_CLAIMED,
    SWEEP_ENQUEUE_ERRORS,
    SWEEP_ENQUEUE_REFUSED,
    TIMER_JOBS,
    TIMER_LAG,
    Outcome,
)
from workers.registry import handler_for, hands_over_now

log = logging.getLogger("workers.timers")

RUN_TIMER = "run_timer"
SWEEP = "sweep_timers"
CTX_KEY = "timers"
# Enqueues in flight at once: arq's enqueue is a WATCH/MULTI round trip per job.
_ENQUEUE_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class TimerRuntime:
    """What the timer jobs need, kept in the arq ctx under CTX_KEY."""

    pool: asyncpg.Pool
    clock: Clock
    settings: Settings
    tuning: TimerTuning


async def run_timer(ctx: dict[str, Any], timer_id: int) -> str:
    rt: TimerRuntime = ctx[CTX_KEY]
    kind = "unknown"
    try:
        async with rt.pool.acquire() as conn, conn.transaction():
            timer = await timers.lock_for_run(conn, timer_id)
            if timer is None or timer.state is not TimerState.ENQUEUED:
                kind = timer.kind if timer else kind
                outcome = Outcome.SKIPPED
                log.info("timer %s: nothing to do (state %s)", timer_id, timer.state if timer else "gone")
            else:
                kind = timer.kind
                started = rt.clock.now()
                TIMER_LAG.labels(kind).observe(max((started - timer.due_at).total_seconds(), 0.0))
                try:
                    async with conn.transaction():  # savepoint: a failing handler leaves no trace
                        await handler_for(kind)(conn, timer, rt.clock)
                except Exception as exc:  # noqa: BLE001 -- any handler failure is recorded and retried
                    last = timer.attempts >= rt.settings.timer_max_attempts
                    retry_at = None if last else started + rt.tuning.backoff(timer.attempts)
                    await timers.record_failure(conn, timer_id, f"{type(exc).__name__}: {exc}", retry_at)
                    outcome = Outcome.FAILED if last else Outcome.RETRY
                    log.warning("timer %s (%s) attempt %s failed: %s: %s; %s", timer_id, kind,
                                timer.attempts, type(exc).__name__, exc,
                                "giving up" if last else f"retry at {retry_at:%Y-%m-%d %H:%M:%S%z}")
                else:
                    await timers.mark_done(conn, timer_id, rt.clock.now())
                    outcome = Outcome.DONE
    except BaseException:
        # Includes cancellation (timeout, shutdown): nothing committed, the row stays ENQUEUED.
        TIMER_JOBS.labels(kind, Outcome.ERROR.value).inc()
        raise
    TIMER_JOBS.labels(kind, outcome.value).inc()
    if outcome is Outcome.DONE and kind in hands_over_now:
        try:
            await sweep_timers(ctx)   # the successor it scheduled, now rather than at the next sweep
        except Exception as exc:  # noqa: BLE001 -- the cron sweep hands it over anyway
            log.warning("timer %s (%s): immediate hand-over failed (%s); the sweep will", timer_id, kind, exc)
    return outcome.value


async def sweep_timers(ctx: dict[str, Any]) -> int:
    """Hand every due timer to arq, in batches, while the arq queue has room; answer how many."""
    rt: TimerRuntime = ctx[CTX_KEY]
    redis: ArqRedis = ctx["redis"]
    queue = rt.settings.arq_queue
    handed = 0
    while True:
        room = rt.tuning.queue_high_water - await redis.zcard(queue)
        limit = min(rt.settings.timer_batch, room)
        if limit <= 0:
            break
        async with rt.pool.acquire() as conn, conn.transaction():
            claims = await timers.claim_due_jobs(conn, rt.clock.now(), limit, rt.tuning.lease,
                                                 max_attempts=rt.settings.timer_max_attempts)
        await enqueue_claims(redis, claims, queue)
        handed += len(claims)
        if len(claims) < limit:
            break
    return handed


async def enqueue_claims(redis: ArqRedis, claims: list[Claim], queue: str) -> None:
    """Enqueue one job per claim. Failures are only counted: the lease hands those over again."""
    if not claims:
        return
    SWEEP_CLAIMED.inc(len(claims))
    gate = asyncio.Semaphore(_ENQUEUE_CONCURRENCY)

    async def one(claim: Claim) -> None:
        async with gate:
            try:
                job = await redis.enqueue_job(RUN_TIMER, claim.timer_id, _job_id=claim.job_id,
                                              _queue_name=queue)
            except (RedisError, OSError) as exc:
                SWEEP_ENQUEUE_ERRORS.inc()
                log.warning("timer %s: enqueue failed (%s); the lease will retry", claim.timer_id, exc)
                return
            if job is None:
                SWEEP_ENQUEUE_REFUSED.inc()

    await asyncio.gather(*(one(c) for c in claims))
