"""Forgotten-renewal window timer kinds (domain/services/grace.py).

- `window.remind` (subject window:<id>, key window:<id>:REMIND:<day>): a RENEWAL_REMINDER event
  while the window is open.
- `window.lapse` (key window:<id>:LAPSE): window VOID, contract LAPSED as of the expiry.
"""

from __future__ import annotations

import asyncpg

from domain.runtime.clock import Clock
from domain.services.windows.grace import lapse_window, remind_window, reminder_day
from domain.store.timers import TimerRow
from workers.registry import timer_kind


@timer_kind("window.remind")
async def window_remind(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await remind_window(conn, int(timer.payload["windowId"]), reminder_day(timer.idempotency_key), clock.now())


@timer_kind("window.lapse")
async def window_lapse(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await lapse_window(conn, int(timer.payload["windowId"]), clock.now())
