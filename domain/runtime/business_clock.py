"""The shared business clock of development and staging: a SystemClock shifted by an offset that
`autopolicy simulate` stores in PostgreSQL (migrations/0012_business_clock.sql).

Time only moves forward: a simulation runs every timer due up to its target, so winding the clock
back would show a state from the future. Processes poll the offset (every couple of seconds), so
the API and the workers follow a simulation without restarting.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import asyncpg

from domain.runtime.clock import SystemClock, as_jst
from domain.runtime.settings import Settings

log = logging.getLogger("autopolicy.clock")

POLL_SECONDS = 2.0


async def read_offset(conn: asyncpg.Connection | asyncpg.Pool) -> timedelta:
    seconds = await conn.fetchval("SELECT offset_seconds FROM business_clock WHERE id")
    return timedelta(seconds=float(seconds or 0))


def follows_offset(settings: Settings) -> bool:
    """Whether processes read the stored offset: outside production, unless switched off."""
    return not settings.is_production and settings.allow_clock_override


async def business_clock(conn: asyncpg.Connection | asyncpg.Pool, settings: Settings) -> SystemClock:
    """The clock a command runs on: the wall clock shifted by the stored offset (not in production)."""
    return SystemClock(await read_offset(conn) if follows_offset(settings) else timedelta(0))


def describe_span(span: timedelta) -> str:
    """A duration as people say it: "62 days 6 hours", "3 hours 10 minutes", "less than a minute"."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(mins, 'minute')}" if mins else "")
    return unit(mins, "minute") if mins else "less than a minute"


async def move_to(conn: asyncpg.Connection | asyncpg.Pool, target: datetime, *, wall_now: datetime, by: str) -> timedelta:
    """Store the offset that makes the business clock read `target` at `wall_now`; never backwards."""
    offset = as_jst(target) - as_jst(wall_now)
    await conn.execute(
        """UPDATE business_clock SET offset_seconds = greatest(offset_seconds, $1), moved_at = $2, moved_by = $3
           WHERE id""",
        max(offset.total_seconds(), 0.0), as_jst(wall_now), by,
    )
    return await read_offset(conn)


async def follow(clock: SystemClock, pool: asyncpg.Pool, *, every: float = POLL_SECONDS) -> None:
    """Keep `clock.offset` equal to the stored offset until cancelled (a background task)."""
    while True:
        try:
            clock.offset = await read_offset(pool)
        except (OSError, asyncpg.PostgresError) as exc:  # PostgreSQL away: keep the last offset
            log.warning("business clock not refreshed: %s", exc)
        await asyncio.sleep(every)
