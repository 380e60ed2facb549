"""The API's pool skips asyncpg's reset statement on release (domain/store/db.py, issue 16): what
the reset undid is still undone where it can arise — an open transaction is rolled back — and the
plain pool keeps resetting."""

from __future__ import annotations

import asyncpg

from domain.store.db import create_pool


async def _last_statement(admin: asyncpg.Pool, pid: int) -> str:
    return str(await admin.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid))


async def test_a_released_connection_is_not_reset_by_a_statement(database_url: str, pool: asyncpg.Pool) -> None:
    lean = await create_pool(database_url, min_size=1, max_size=1, session_free=True)
    plain = await create_pool(database_url, min_size=1, max_size=1)
    try:
        for p, reset in ((lean, False), (plain, True)):
            async with p.acquire() as conn:
                pid = await conn.fetchval("SELECT pg_backend_pid() /* the last statement */")
            last = await _last_statement(pool, pid)
            assert ("RESET ALL" in last) is reset, last
            assert ("the last statement" in last) is not reset, last
    finally:
        await lean.close()
        await plain.close()


async def test_an_open_transaction_is_still_rolled_back(database_url: str) -> None:
    lean = await create_pool(database_url, min_size=1, max_size=1, session_free=True)
    try:
        async with lean.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS session_free_probe (x int)")
            await conn.execute("BEGIN")   # left open by a careless user of the pool
            await conn.execute("INSERT INTO session_free_probe VALUES (1)")
        async with lean.acquire() as conn:   # the same connection (max_size=1)
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM session_free_probe") == 0
            await conn.execute("DROP TABLE session_free_probe")
    finally:
        await lean.close()
