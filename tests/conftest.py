"""Shared fixtures: real PostgreSQL and Redis for every test run, never shared between runs.

DATABASE_URL / REDIS_URL (when set) name servers to use; otherwise embedded servers start under
.data/test/. Each run creates its own database (dropped at the end) and claims its own Redis
logical database (flushed at the end), so concurrent runs on one machine never see each other.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

from domain.runtime.services import Services, start_services, with_database
from domain.store.db import create_pool
from domain.store.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    svc = start_services(
        os.environ.get("DATABASE_URL") or None,
        os.environ.get("REDIS_URL") or None,
        ROOT / ".data" / "test",
        redis_persist=False,
        redis_dir=ROOT / ".data" / "test" / f"redis-{RUN_ID}",
    )
    yield svc
    svc.stop()
    shutil.rmtree(ROOT / ".data" / "test" / f"redis-{RUN_ID}", ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(services: Services) -> Iterator[str]:
    """A fresh, migrated database for this test run."""
    import asyncio

    name = f"autopolicy_test_{RUN_ID}"
    url = with_database(services.database_url, name)

    async def create() -> None:
        admin = await asyncpg.connect(services.database_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        admin = await asyncpg.connect(services.database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    yield url
    asyncio.run(drop())


@pytest.fixture(scope="session")
def redis_url(services: Services) -> Iterator[str]:
    """A Redis logical database claimed for this run (1..15), flushed before and after."""
    base = services.redis_url
    for db in range(1, 16):
        url = _with_redis_db(base, db)
        client = redis.Redis.from_url(url)
        if client.set("autopolicy:test-run-claim", RUN_ID, nx=True, ex=6 * 3600):
            client.flushdb()
            client.set("autopolicy:test-run-claim", RUN_ID, ex=6 * 3600)
            try:
                yield url
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    raise RuntimeError("all Redis logical databases 1..15 are claimed by other test runs")


def _with_redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={db}"
    base = url.rstrip("/")
    scheme, rest = base.split("://", 1)
    hostport = rest.split("/", 1)[0]
    return f"{scheme}://{hostport}/{db}"


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=10)
    yield p
    await p.close()
