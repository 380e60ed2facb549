"""bench/expiry.py (P6) at a small scale: the bulk book, the real worker, and what it leaves.

It runs a worker whose sweep claims every due timer of its database, so it gets a database and a
Redis logical database of its own instead of the run's shared ones.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import pytest

from bench.expiry import BAR_SECONDS, EXPIRY, run
from domain.runtime.services import Services
from tests.support import claimed_redis_db, fresh_database

N = 300


@pytest.fixture(scope="module")
def bench_database_url(services: Services, database_url: str) -> Iterator[str]:
    with fresh_database(services.database_url, urlsplit(database_url).path.lstrip("/") + "_expiry") as url:
        yield url


@pytest.fixture(scope="module")
def bench_redis_url(services: Services, redis_url: str) -> Iterator[str]:
    with claimed_redis_db(services.redis_url, f"expiry_{os.getpid()}_{secrets.token_hex(3)}", range(15, 0, -1)) as url:
        yield url


async def test_the_expiry_bench_opens_every_window_and_queues_every_reminder(
        bench_database_url: str, bench_redis_url: str) -> None:
    result = await run(bench_database_url, bench_redis_url, N, sweep_seconds=1, timeout=120)
    assert result.contracts == N
    assert 0 < result.seconds < BAR_SECONDS
    assert result.ratio == result.seconds / BAR_SECONDS
    assert "| 300 |" in result.table()
    conn = await asyncpg.connect(bench_database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM contracts WHERE statuses = ARRAY['EXPIRED', 'IN_RENEWAL_GRACE']") == N
        assert await conn.fetchval("SELECT count(*) FROM terms WHERE status = 'EXPIRED' AND ends_at = $1", EXPIRY) == N
        assert await conn.fetchval("""SELECT count(*) FROM windows WHERE state = 'OPEN' AND opens_at = $1
                                      AND full_until = '2027-05-10'""", EXPIRY) == N
        kinds = dict(await conn.fetch("SELECT kind, count(*) FROM events GROUP BY kind"))
        assert kinds == {"RENEWAL_GRACE_OPENED": N, "RENEWAL_REMINDER": N}
        timers = dict(await conn.fetch(
            "SELECT kind || ':' || state, count(*) FROM timers WHERE kind LIKE 'window.%' GROUP BY 1"))
        assert timers == {"window.remind:DONE": N, "window.remind:PENDING": 2 * N, "window.lapse:PENDING": N}
        assert await conn.fetchval("SELECT state FROM timers WHERE kind = 'term.expiry'") == "DONE"
    finally:
        await conn.close()
