"""`autopolicy simulate --until DATE|DATE-TIME`: move the business clock forward and run every
timer that falls due on the way, in due order, printing what each did (development and staging only).

A bare date means 09:00 JST of that day, the start of the office day (`parse_until`): the night's
timers (day-end transitions at 00:00, the nightly offer batch at 01:00) have run, the day's 16:00
expiries are still ahead, and the clock does not sit one second before the next day.

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
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

import workers.kinds  # noqa: F401  (registers every timer kind, as the worker does)
from domain.runtime.business_clock import describe_span, move_to, read_offset
from domain.runtime.clock import JST, Clock, ManualClock, as_jst
from domain.runtime.settings import Settings
from domain.store import timers
from workers.config import TimerTuning
from workers.kinds import webhooks
from workers.timer_job import CTX_KEY, TimerRuntime, run_timer

_CLAIM_BATCH = 500


class SimulationRefused(RuntimeError):
    """Production, or a target before the business clock's now."""


# What a bare `--until 2027-10-05` means: that day at the start of the office day (see above).
BARE_DATE_AT = time(9, 0)

# Outcomes worth a line even without an event: the timer did not do its work.
_TROUBLE = frozenset({"retry", "failed"})

# Nouns for the summary ("12 renewals, 3 rescissions"); other kinds read as their words.
_NOUNS: dict[str, tuple[str, str]] = {
    "CONTRACT_RENEWED": ("renewal", "renewals"),
    "CONTRACT_RESCINDED": ("rescission", "rescissions"),
    "CONTRACT_CANCELLED": ("cancellation", "cancellations"),
    "CONTRACT_ISSUED": ("contract issued", "contracts issued"),
    "CONTRACT_EXPIRED": ("expiry", "expiries"),
    "CONTRACT_LAPSED": ("lapse", "lapses"),
    "RENEWAL_OFFERED": ("renewal offer", "renewal offers"),
    "RENEWAL_REMINDER": ("renewal reminder", "renewal reminders"),
    "PREMIUM_PAID": ("premium paid", "premiums paid"),
    "PREMIUM_OVERDUE": ("premium overdue", "premiums overdue"),
    "RENEWAL_GRACE_OPENED": ("grace window opened", "grace windows opened"),
    "WINDOW_DOWNGRADED": ("window downgraded", "windows downgraded"),
    "WINDOW_VOIDED": ("window voided", "windows voided"),
    "CLAIM_COVERAGE_DECIDED": ("coverage decision", "coverage decisions"),
}


def parse_until(text: str) -> datetime:
    """`--until`: a date (09:00 JST that day) or a date-time (JST unless it carries an offset).

    Raises ValueError with a line fit for the user."""
    text = text.strip()
    try:
        return datetime.combine(date.fromisoformat(text), BARE_DATE_AT, tzinfo=JST)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--until {text!r} is not a date (YYYY-MM-DD) or a date-time "
                         "(YYYY-MM-DDTHH:MM, JST unless it carries an offset)") from None
    return when.replace(tzinfo=JST) if when.tzinfo is None else as_jst(when)


def _what(kind: str, n: int) -> str:
    singular, plural = _NOUNS.get(kind, (kind.lower().replace("_", " "),) * 2)
    return f"{n} {singular if n == 1 else plural}"


@dataclass(frozen=True, slots=True)
class Step:
    """One timer run: its moment, what it is, the contracts its events belong to, what happened."""

    at: datetime
    timer_id: int
    kind: str
    subject: str
    outcome: str
    events: tuple[str, ...]
    contracts: tuple[str, ...] = ()  # policy numbers, in event order, each once

    @property
    def had_effect(self) -> bool:
        """Worth a line: it changed a contract (events), or it could not do its work."""
        return bool(self.events) or self.outcome in _TROUBLE

    def line(self) -> str:
        counts = Counter(self.events)
        what = ", ".join(f"{k.lower().replace('_', ' ')}" + (f" ×{n}" if n > 1 else "") for k, n in counts.items())
        if self.outcome in _TROUBLE:
            what = f"{self.outcome.upper()}" + (f" ({what})" if what else "")
        if not self.contracts:
            who = self.subject
        elif len(self.contracts) == 1:
            who = self.contracts[0]
        else:
            who = f"{self.contracts[0]} +{len(self.contracts) - 1} more"
        return f"{self.at:%Y-%m-%d %H:%M} JST  {self.kind:<18} {who:<26} {what}"


@dataclass
class Simulation:
    started_at: datetime
    until: datetime
    steps: list[Step] = field(default_factory=list)
    offset: timedelta = timedelta(0)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(s.outcome for s in self.steps)

    @property
    def events(self) -> Counter[str]:
        return Counter(e for s in self.steps for e in s.events)

    def effects(self) -> Iterable[Step]:
        return (s for s in self.steps if s.had_effect)

    def summary(self) -> str:
        """E.g. "moved 62 days 6 hours ahead to 2027-10-05 09:30 JST; 143 timers run; 12 renewals, …"."""
        n = len(self.steps)
        parts = [f"moved {describe_span(self.until - self.started_at)} ahead to {self.until:%Y-%m-%d %H:%M} JST",
                 f"{n} timer{'' if n == 1 else 's'} run" if n else "no timer was due"]
        happened = ", ".join(_what(k, c) for k, c in sorted(self.events.items(), key=lambda kc: (-kc[1], kc[0])))
        trouble = ", ".join(f"{c} {o}" for o, c in sorted(self.outcomes.items()) if o in _TROUBLE)
        parts += [p for p in (happened, trouble) if p]
        ahead = (f"the business clock is {describe_span(self.offset)} ahead of the wall clock" if self.offset
                 else "the business clock is the wall clock")
        return "; ".join(parts) + f" ({ahead})"


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
        events = await pool.fetch(
            """SELECT e.kind, c.policy_number FROM events e JOIN contracts c ON c.id = e.contract_id
               WHERE e.id > $1 ORDER BY e.id""", seen)
        step = Step(clock.now(), timer_id, row["kind"], row["subject"], outcome,
                    tuple(e["kind"] for e in events), tuple(dict.fromkeys(e["policy_number"] for e in events)))
        sim.steps.append(step)
        if on_step is not None:
            on_step(step)

    # Webhook lane and email timers falling due on the way send as a worker would (their HTTP
    # client and SMTP settings live in workers.kinds.webhooks).
    await webhooks.start(settings)
    try:
        await run_due(pool, clock, until, run, max_attempts=settings.timer_max_attempts)
    finally:
        await webhooks.stop()
    sim.offset = await move_to(pool, until, wall_now=wall.now(), by="simulate")
    return sim
