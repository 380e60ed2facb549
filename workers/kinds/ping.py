"""The no-op `ping` kind: records one row in timer_ping_effects per effect, for tests and health.

Payload (all optional), so tests can stage failures and crashes:
- "fail_times": n   -- attempts 1..n raise PingFailure (the job retries with backoff)
- "sleep": seconds  -- after writing the effect, hold the transaction open this long, so a test can
                       kill the worker while the effect is written but not committed
"""

from __future__ import annotations

import asyncio

import asyncpg

from domain.runtime.clock import Clock
from domain.store.timers import TimerRow
from workers.registry import timer_kind


class PingFailure(RuntimeError):
    pass


@timer_kind("ping")
async def ping(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    fail_times = int(timer.payload.get("fail_times", 0))
    if timer.attempts <= fail_times:
        raise PingFailure(f"ping {timer.id} fails on purpose at attempt {timer.attempts} of {fail_times}")
    await conn.execute(
        "INSERT INTO timer_ping_effects (timer_id, fired_at) VALUES ($1, $2)", timer.id, clock.now()
    )
    sleep = float(timer.payload.get("sleep", 0))
    if sleep > 0:
        await asyncio.sleep(sleep)
