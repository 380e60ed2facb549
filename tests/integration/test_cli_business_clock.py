"""Every CLI command takes time from the business clock (issue 12): after `simulate` moved it,
`recalc` recomputes the offers due on the simulated day, and `dev`'s banner says the clock moved."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from api.cli import _business_clock_line
from domain.runtime.business_clock import move_to
from domain.runtime.clock import JST
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from tests.conftest import RUN_ID
from tests.support import fresh_database

ROOT = Path(__file__).resolve().parents[2]
AHEAD = timedelta(days=306, hours=2)


@pytest.fixture
def moved_db(services: Services) -> Iterator[str]:
    """A database of its own (the run's keeps the wall clock), its business clock 306 days ahead."""
    with fresh_database(services.database_url, f"autopolicy_clock_{RUN_ID}") as url:
        async def move() -> None:
            conn = await asyncpg.connect(url)
            try:
                now = datetime.now(JST)
                await move_to(conn, now + AHEAD, wall_now=now, by="test")
            finally:
                await conn.close()

        asyncio.run(move())
        yield url


def test_recalc_takes_the_business_date(moved_db: str, redis_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": moved_db, "REDIS_URL": redis_url}
    r = subprocess.run([sys.executable, "-m", "api.cli", "recalc", "--parts", "1"], env=env, cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    business_today = (datetime.now(JST) + AHEAD).date()
    assert f"as of {business_today}:" in r.stdout, r.stdout


async def test_the_banner_says_the_clock_was_moved(moved_db: str, redis_url: str) -> None:
    line = await _business_clock_line(Services(moved_db, redis_url), Settings(environment="test"))
    business_now = datetime.now(JST) + AHEAD
    assert line.startswith(f"business clock: {business_now:%Y-%m-%d} ")
    assert "(moved 306 days 2 hours ahead by `autopolicy simulate`; it only moves forward, " \
           "an empty database starts over on the wall clock)" in line
    # Production never reads the stored offset.
    prod = await _business_clock_line(Services(moved_db, redis_url), Settings(environment="production"))
    assert "(the wall clock;" in prod and f"{datetime.now(JST):%Y-%m-%d}" in prod
