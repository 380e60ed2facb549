"""Migrations: applied in order, recorded, idempotent, and all-or-nothing per file."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from domain.store.migrate import Migration, MigrationError, discover, migrate


async def test_all_migrations_recorded_and_rerun_is_noop(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        recorded = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")]
        assert recorded == [m.name for m in discover()]
        assert await migrate(conn) == []


async def test_failed_migration_leaves_database_as_it_was(pool: asyncpg.Pool) -> None:
    bad = Migration(9001, "9001_bad.sql", "CREATE TABLE half_done (id int); SELECT no_such_function();")
    async with pool.acquire() as conn:
        with pytest.raises(MigrationError, match="9001_bad.sql failed and was rolled back"):
            await migrate(conn, discover() + [bad])
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations WHERE version = 9001") == 0


async def test_changed_applied_migration_is_refused(pool: asyncpg.Pool) -> None:
    first = discover()[0]
    edited = Migration(first.version, first.name, first.sql + "\n-- edited")
    async with pool.acquire() as conn:
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, [edited])


def test_file_names_are_checked(tmp_path: Path) -> None:
    (tmp_path / "1_oops.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="NNNN_snake_case"):
        discover(tmp_path)
