"""`autopolicy simulate --until DATE`: move the business clock forward and run every timer that
falls due on the way, in due order, printing what each did (development and staging only).

The timers run in this process through the same `run_timer` a worker runs (same row lock, same
one-transaction effect), at the moment they are due: a job sees `now` = its due time, so the
reminder of day 7 is sent "on day 7" and the lapse happens at the end of day 30 even when a
simulation crosses months in seconds. A timer a job schedules on the way (the next night's batch)
is picked up in turn. At the end the offset is stored (domain/runtime/business_clock.py) and the
API and workers follow it. A real worker running meanwhile is harmless: a row is run once,
whoever claims it (workers/timer_job.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg

import workers.kinds  # noqa: F401  (registers every timer kind, as the worker does)
from domain.runtime.business_clock import move_to, read_offset
from domain.runtime.clock import Clock, ManualClock, as_jst
from domain.runtime.settings import Settings
from domain.store import timers
from workers.config import TimerTuning
from workers.timer_job import CTX_KEY, TimerRuntime, run_timer

_CLAIM_BATCH = 500


class SimulationRefused(RuntimeError):
    """Production, or a target before the business clock's now."""


@dataclass(frozen=True, slots=True)
class Step:
    at: datetime
    timer_id: int
    kind: str
    subject: str
    outcome: str
    events: tuple[str, ...]

    def line(self) -> str:
        counts = Counter(self.events)
        what = ", ".join(f"{k}×{n}" if n > 1 else k for k, n in counts.items()) or "no events"
        return f"{self.at:%Y-%m-%d %H:%M} JST  {self.kind:<18} {self.subject:<34} {self.outcome:<7} {what}"


@dataclass
class Simulation:
    started_at: datetime
    until: datetime
    steps: list[Step] = field(default_factory=list)
    offset: timedelta = timedelta(0)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(s.outcome for s in self.steps)


async def run_due(pool: asyncpg.Pool, clock: ManualClock, until: datetime,
                  run: Callable[[int], Awaitable[Any]], *, max_attempts: int) -> None:
    """Run every timer due up to `until` in due order, `clock` at each one's due time; timers the
    runs schedule on the way are taken in turn. `run(timer_id)` runs one (e.g. `run_timer`)."""
    while True:
        due = await pool.fetchval(
            "SELECT min(due_at) FROM timers WHERE state IN ('PENDING', 'ENQUEUED') AND due_at <= $1", until
        )
        if due is None:
            return
        clock.set(max(clock.now(), as_jst(due)))
        async with pool.acquire() as conn, conn.transaction():
            # Lease 0: a row a real worker was handed but has not started is run here instead;
            # rows a running job holds are skipped (SKIP LOCKED) and finish there.
            claims = await timers.claim_due_jobs(conn, clock.now(), _CLAIM_BATCH, timedelta(0),
                                                 max_attempts=max_attempts)
        if not claims:
            return  # everything due is held by running jobs of a real worker
        for claim in claims:
            await run(claim.timer_id)


async def simulate(
    pool: asyncpg.Pool,
    settings: Settings,
    until: datetime,
    *,
    wall: Clock,
    on_step: Callable[[Step], Any] | None = None,
    tuning: TimerTuning | None = None,
) -> Simulation:
    if settings.is_production or not settings.allow_clock_override:
        raise SimulationRefused("simulate moves the clock: it is refused in production")
    until = as_jst(until)
    start = as_jst(wall.now()) + await read_offset(pool)
    if until < start:
        raise SimulationRefused(f"{until:%Y-%m-%d %H:%M} is before the business clock's now ({start:%Y-%m-%d %H:%M}); time only moves forward")
    clock = ManualClock(start)
    ctx: dict[str, Any] = {CTX_KEY: TimerRuntime(pool=pool, clock=clock, settings=settings, tuning=tuning or TimerTuning())}
    sim = Simulation(started_at=start, until=until)

    async def run(timer_id: int) -> None:
        seen = await pool.fetchval("SELECT coalesce(max(id), 0) FROM events")
        outcome = await run_timer(ctx, timer_id)
        row = await pool.fetchrow("SELECT kind, subject FROM timers WHERE id = $1", timer_id)
        kinds = await pool.fetch("SELECT kind FROM events WHERE id > $1 ORDER BY id", seen)
        step = Step(clock.now(), timer_id, row["kind"], row["subject"], outcome, tuple(k["kind"] for k in kinds))
        sim.steps.append(step)
        if on_step is not None:
            on_step(step)

    await run_due(pool, clock, until, run, max_attempts=settings.timer_max_attempts)
    sim.offset = await move_to(pool, until, wall_now=wall.now(), by="simulate")
    return sim
