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


def test_registration_holds_grandfather_duplicates_already_there(services, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """0018 on a database that already has two live contracts on one number: it applies, the
    earlier contract holds the number, the later is kept outside the rule (it ends in time)."""
    from urllib.parse import urlsplit

    from domain.store.db import create_pool
    from tests.factories import rated_contract
    from tests.support import fresh_database

    async def run(url: str) -> None:
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await conn.execute("DROP TABLE registration_holds CASCADE; DROP FUNCTION refresh_registration_holds, "
                                   "registration_covers, registration_holds_by_contract, registration_holds_by_status, "
                                   "registration_holds_by_vehicle, registration_hash, registration_key CASCADE; "
                                   "DELETE FROM schema_migrations WHERE version = 18")
            a, b = await rated_contract(pool), await rated_contract(pool)
            await pool.execute("UPDATE vehicles SET registration_no = '品川 300 な 10-01' WHERE id = any($1::bigint[])",
                               [a.vehicle.id, b.vehicle.id])
            async with pool.acquire() as conn:
                assert await migrate(conn) == ["0018_registration_once.sql"]
            rows = await pool.fetch("SELECT contract_id, reg_key, grandfathered FROM registration_holds ORDER BY 1")
            assert [(r["contract_id"], r["reg_key"], r["grandfathered"]) for r in rows] == [
                (a.created.contract.id, "品川300な1001", False), (b.created.contract.id, "品川300な1001", True)]
            # the grandfathered contract keeps working (its statuses change), a third one is refused
            await pool.execute("UPDATE contracts SET statuses = '{IN_FORCE,DO_NOT_RENEW}' WHERE id = $1",
                               b.created.contract.id)
            c = await rated_contract(pool)
            with pytest.raises(asyncpg.ExclusionViolationError):
                await pool.execute("UPDATE vehicles SET registration_no = '品川300な1001' WHERE id = $1", c.vehicle.id)
        finally:
            await pool.close()

    import asyncio

    with fresh_database(services.database_url, urlsplit(database_url).path.lstrip("/") + "_holds") as url:
        asyncio.run(run(url))
