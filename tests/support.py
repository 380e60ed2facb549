"""Building blocks of the run-isolation fixtures: a fresh migrated database, a claimed Redis
logical database. Used by tests/conftest.py and by folders that need a second one of each."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import redis

from domain.runtime.services import with_database
from domain.store.migrate import migrate

CLAIM_KEY = "autopolicy:test-run-claim"
CLAIM_TTL = 6 * 3600


@contextmanager
def fresh_database(admin_url: str, name: str) -> Iterator[str]:
    """Create database `name` on the admin URL's server, migrate it, yield its URL, drop it."""
    url = with_database(admin_url, name)

    async def create() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    try:
        yield url
    finally:
        asyncio.run(drop())


@contextmanager
def moved_clock_database(admin_url: str, name: str, offset_seconds: float) -> Iterator[str]:
    """A fresh database (as `fresh_database`) whose business clock `simulate` moved ahead."""
    async def move(url: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("UPDATE business_clock SET offset_seconds = $1 WHERE id", offset_seconds)
        finally:
            await conn.close()

    with fresh_database(admin_url, name) as url:
        asyncio.run(move(url))
        yield url


def with_redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return f"{url.split('?')[0]}?db={db}"
    scheme, rest = url.rstrip("/").split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}/{db}"


@contextmanager
def claimed_redis_db(base_url: str, claim: str, dbs: range = range(1, 16)) -> Iterator[str]:
    """Claim a free logical database (SET NX of a claim key), flush it, yield its URL, flush it."""
    for db in dbs:
        url = with_redis_db(base_url, db)
        client = redis.Redis.from_url(url)
        if client.set(CLAIM_KEY, claim, nx=True, ex=CLAIM_TTL):
            client.flushdb()
            client.set(CLAIM_KEY, claim, ex=CLAIM_TTL)
            try:
                yield url
            finally:
                client.flushdb()
                client.close()
            return
        client.close()
    raise RuntimeError(f"no free Redis logical database among {dbs.start}..{dbs.stop - 1}")


async def statement_logging_pool(database_url: str, max_size: int = 4) -> tuple[asyncpg.Pool, list[str]]:
    """A pool whose connections append every statement they run to the returned list (close the pool)."""
    from domain.store.db import create_pool

    log: list[str] = []

    def record(rec: Any) -> None:
        # asyncpg's reset on release is pool housekeeping, not a statement of the request
        if not rec.query.startswith("SELECT pg_advisory_unlock_all"):
            log.append(rec.query)

    async def setup(conn: asyncpg.Connection) -> None:
        # setup runs at every acquire: add the logger once per connection
        conn.remove_query_logger(record)
        conn.add_query_logger(record)

    return await create_pool(database_url, min_size=1, max_size=max_size, setup=setup), log
