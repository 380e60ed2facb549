"""`autopolicy simulate`: the business clock moves forward and every timer due on the way runs once,
in due order, at its due moment; production refuses; the API and workers follow the stored offset."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from domain.runtime.business_clock import follow, read_offset
from domain.runtime.clock import JST, ManualClock, SystemClock
from domain.store import timers
from tests.workers.conftest import Harness
from workers.simulate import SimulationRefused, simulate

WALL = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
async def h(harness: Harness) -> AsyncIterator[Harness]:
    await harness.pool.execute("UPDATE business_clock SET offset_seconds = 0")
    yield harness
    await harness.pool.execute("UPDATE business_clock SET offset_seconds = 0")


async def _ping(pool: asyncpg.Pool, key: str, due: datetime, **payload: object) -> int:
    async with pool.acquire() as conn:
        return await timers.schedule(conn, kind="ping", subject=key, due_at=due, idempotency_key=key, payload=payload)


async def test_runs_every_due_timer_in_order_at_its_due_moment(h: Harness) -> None:
    dues = [WALL + timedelta(days=40), WALL + timedelta(days=3), WALL + timedelta(days=75, hours=7)]
    ids = [await _ping(h.pool, f"p{i}", d) for i, d in enumerate(dues)]
    later = await _ping(h.pool, "after", WALL + timedelta(days=200))
    until = datetime(2026, 6, 30, 23, 59, 59, tzinfo=JST)

    sim = await simulate(h.pool, h.settings, until, wall=ManualClock(WALL))

    assert [s.timer_id for s in sim.steps] == [ids[1], ids[0], ids[2]]
    fired = {r["timer_id"]: r["fired_at"] for r in await h.pool.fetch("SELECT timer_id, fired_at FROM timer_ping_effects")}
    assert fired == {ids[1]: dues[1], ids[0]: dues[0], ids[2]: dues[2]}  # each once, at its due time
    assert (await timers.get(h.pool, later)).state is timers.TimerState.PENDING  # type: ignore[union-attr]
    assert await read_offset(h.pool) == until - WALL


async def test_a_failing_timer_is_retried_inside_the_simulation(h: Harness) -> None:
    tid = await _ping(h.pool, "flaky", WALL + timedelta(days=1), fail_times=1)
    sim = await simulate(h.pool, h.settings, WALL + timedelta(days=2), wall=ManualClock(WALL))
    assert [s.outcome for s in sim.steps] == ["retry", "done"]
    assert await h.pool.fetchval("SELECT count(*) FROM timer_ping_effects WHERE timer_id = $1", tid) == 1


async def test_time_only_moves_forward_and_production_refuses(h: Harness) -> None:
    await simulate(h.pool, h.settings, WALL + timedelta(days=10), wall=ManualClock(WALL))
    with pytest.raises(SimulationRefused, match="only moves forward"):
        await simulate(h.pool, h.settings, WALL + timedelta(days=5), wall=ManualClock(WALL))
    prod = h.settings.model_copy(update={"environment": "production"})
    with pytest.raises(SimulationRefused, match="production"):
        await simulate(h.pool, prod, WALL + timedelta(days=20), wall=ManualClock(WALL))


async def test_a_wall_clock_follows_the_stored_offset(h: Harness) -> None:
    await h.pool.execute("UPDATE business_clock SET offset_seconds = 86400 * 30")
    clock = SystemClock()
    task = asyncio.create_task(follow(clock, h.pool, every=0.01))
    try:
        for _ in range(100):
            if clock.offset:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert clock.offset == timedelta(days=30)


async def test_cli_prints_a_line_per_effect_and_a_summary_in_words(h: Harness) -> None:
    env = {**os.environ, "DATABASE_URL": h.database_url, "REDIS_URL": h.redis_url}
    target = datetime.now(JST).date() + timedelta(days=3)
    await _ping(h.pool, "cli", datetime.now(JST) + timedelta(days=2))               # no effect: no line
    await _ping(h.pool, "cli-flaky", datetime.now(JST) + timedelta(days=1), fail_times=1)  # a retry: a line

    def cli(until: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", "simulate", "--until", until], check=False, env=env,
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    r = cli(target.isoformat())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2, r.stdout
    assert "ping" in lines[0] and "RETRY" in lines[0] and "cli-flaky" in lines[0]
    assert re.fullmatch(rf"moved (\d+ days?)( \d+ hours?)? ahead to {target} 09:00 JST; 3 timers run; 1 retry "
                        r"\(the business clock is \d+ days?( \d+ hours?)? ahead of the wall clock\)", lines[1]), lines[1]
    assert await read_offset(h.pool) > timedelta(days=2)

    later = f"{target + timedelta(days=1)}T10:45"
    r = cli(later)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(f"moved 1 day 1 hour ahead to {target + timedelta(days=1)} 10:45 JST; "
                                       "no timer was due"), r.stdout

    r = cli("2000-01-01")
    assert r.returncode == 2 and "only moves forward" in r.stderr and "Traceback" not in r.stderr
    r = cli("someday")
    assert r.returncode == 2 and "not a date" in r.stderr and "Traceback" not in r.stderr
