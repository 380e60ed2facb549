"""Timer kinds `window.downgrade` and `window.void` (SPEC §5): a swap or driver-change window
not filed by day 30 keeps only the liability set from day 31; unfiled by expiry + 30 it is void.

The job hands us its connection, inside its transaction, with the timer row locked. The use
case (domain.services.windows.filings.advance_window) and the reactions it publishes take a UnitOfWork, so the
connection is wrapped in `JobUnitOfWork`: a UnitOfWork that is never entered, whose `conn` is the
job's and whose transaction the job commits (with the timer row DONE) or rolls back.

The state is the calendar's on the timer's due day (not on the day the worker happens to run),
so a late worker does what the deadline meant. A second run finds the window already moved and
changes nothing; a filed or closed window is left as it is.
"""

from __future__ import annotations

import asyncpg

from domain.runtime.clock import Clock, as_jst
from domain.services.windows.filings import advance_window
from domain.store.timers import TimerRow
from domain.store.uow import JobUnitOfWork
from workers.registry import timer_kind


def _window_id(timer: TimerRow) -> int:
    if "windowId" in timer.payload:
        return int(timer.payload["windowId"])
    return int(timer.subject.removeprefix("window:"))


async def _advance(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await advance_window(JobUnitOfWork(conn), _window_id(timer), as_jst(timer.due_at).date(), clock.now())


@timer_kind("window.downgrade")
async def window_downgrade(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await _advance(conn, timer, clock)


@timer_kind("window.void")
async def window_void(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await _advance(conn, timer, clock)
