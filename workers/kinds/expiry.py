"""Expiry timer kinds (domain/services/expiry.py, domain/services/auto_renew.py).

- `term.expiry` (subject/key `expiry:<instant>`): every term ending at the instant; fans out into
  `term.expiry.chunk` timers when the instant is large.
- `term.expiry.chunk` (payload at, fromId, toId): one keyset range of contract ids.
- `contract.auto_renew` (payload contractId, termId): tokio's renewal backup for one contract.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.runtime.clock import Clock
from domain.services.renewals.auto_renew import auto_renew
from domain.services.windows.expiry import (
    AUTO_RENEW_KIND,
    EXPIRY_CHUNK_KIND,
    EXPIRY_KIND,
    expire_range,
    run_expiry,
)
from domain.store.timers import TimerRow
from workers.registry import timer_kind


@timer_kind(EXPIRY_KIND)
async def term_expiry(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await run_expiry(conn, datetime.fromisoformat(timer.payload["at"]), clock.now())


@timer_kind(EXPIRY_CHUNK_KIND)
async def term_expiry_chunk(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    p = timer.payload
    await expire_range(conn, datetime.fromisoformat(p["at"]), clock.now(), int(p["fromId"]), int(p["toId"]))


@timer_kind(AUTO_RENEW_KIND)
async def contract_auto_renew(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await auto_renew(conn, int(timer.payload["contractId"]), int(timer.payload["termId"]), clock.now())
