"""The benchmark book generator writes a consistent book into a database other tests share.

Counts are compared before/after (other tests insert rows too, so only this book's rows, found by
its policy-number prefix, are checked in detail). Any constraint failure raises out of
generate_book, so reaching the assertions means none failed.
"""

from __future__ import annotations

import secrets
from datetime import date

import asyncpg

from bench.book import generate_book

TABLES = ("parties", "agencies", "vehicles", "contracts", "terms", "transactions", "contract_versions",
          "version_drivers", "grade_records", "events")
TODAY = date(2026, 6, 1)


async def _counts(pool: asyncpg.Pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}


async def test_generate_book_inserts_a_consistent_book(pool: asyncpg.Pool) -> None:
    prefix = f"T{secrets.token_hex(3)}-"
    before = await _counts(pool)
    stats = await generate_book(pool, 50, seed=7, today=TODAY, prefix=prefix, chunk=20)
    after = await _counts(pool)

    added = {t: after[t] - before[t] for t in TABLES}
    assert added["contracts"] == 50
    assert added["terms"] == 50
    assert added["vehicles"] == 50
    assert added["agencies"] == 20
    assert added["parties"] >= 50
    # every contract has 1..3 current versions; each split adds a superseded row
    assert 50 <= added["contract_versions"] <= 250
    assert added["version_drivers"] >= added["contract_versions"]
    assert added["events"] >= 50
    assert stats.rows["contracts"] == 50 and stats.rows["contract_versions"] == added["contract_versions"]

    async with pool.acquire() as conn:
        ids = [r["id"] for r in await conn.fetch(
            "SELECT id FROM contracts WHERE policy_number LIKE $1 || '%'", prefix)]
        assert len(ids) == 50
        per = await conn.fetch(
            """SELECT c.id, c.event_seq,
                      (SELECT count(*) FROM contract_versions v
                        WHERE v.contract_id = c.id AND v.superseded_at IS NULL) AS current,
                      (SELECT count(*) FROM events e WHERE e.contract_id = c.id) AS events,
                      (SELECT count(*) FROM terms t WHERE t.contract_id = c.id) AS terms
               FROM contracts c WHERE c.id = any($1::bigint[])""", ids)
        for r in per:
            assert 1 <= r["current"] <= 3
            assert r["events"] == r["event_seq"] >= 1     # gapless outbox numbering
            assert r["terms"] == 1
        # current versions of a contract are contiguous from the term start; the last is open-ended
        gaps = await conn.fetchval(
            """SELECT count(*) FROM (
                 SELECT v.contract_id, lower(v.valid) AS lo, upper(v.valid) AS hi,
                        lead(lower(v.valid)) OVER (PARTITION BY v.contract_id ORDER BY lower(v.valid)) AS next_lo,
                        row_number() OVER (PARTITION BY v.contract_id ORDER BY lower(v.valid)) AS n,
                        t.starts_at
                 FROM contract_versions v JOIN terms t ON t.contract_id = v.contract_id
                 WHERE v.superseded_at IS NULL AND v.contract_id = any($1::bigint[])) x
               WHERE (next_lo IS NOT NULL AND hi IS DISTINCT FROM next_lo)
                  OR (next_lo IS NULL AND hi IS NOT NULL)
                  OR (n = 1 AND lo <> starts_at)""", ids)
        assert gaps == 0
        drivers = await conn.fetch(
            """SELECT count(d.party_id) AS n FROM contract_versions v
               LEFT JOIN version_drivers d ON d.version_id = v.id
               WHERE v.contract_id = any($1::bigint[]) GROUP BY v.id""", ids)
        assert all(1 <= r["n"] <= 3 for r in drivers)
        # 16:00 JST cover boundaries (07:00 UTC)
        off = await conn.fetchval(
            """SELECT count(*) FROM terms WHERE contract_id = any($1::bigint[])
               AND (extract(hour FROM starts_at AT TIME ZONE 'Asia/Tokyo') <> 16
                    OR extract(hour FROM ends_at AT TIME ZONE 'Asia/Tokyo') <> 16)""", ids)
        assert off == 0
        products = await conn.fetchval(
            "SELECT count(DISTINCT product_id) FROM contracts WHERE id = any($1::bigint[])", ids)
        assert products >= 3


async def test_generate_book_is_deterministic_for_a_seed(pool: asyncpg.Pool) -> None:
    shape = """SELECT c.product_id, c.channel, c.statuses, t.starts_at, v.premium_yen, v.age_condition,
                      v.explanation
               FROM contracts c JOIN terms t ON t.contract_id = c.id
               JOIN contract_versions v ON v.contract_id = c.id AND v.superseded_at IS NULL
               WHERE c.policy_number LIKE $1 || '%' ORDER BY c.policy_number, lower(v.valid)"""
    a, b = f"D{secrets.token_hex(3)}-", f"D{secrets.token_hex(3)}-"
    await generate_book(pool, 10, seed=3, today=TODAY, prefix=a)
    await generate_book(pool, 10, seed=3, today=TODAY, prefix=b)
    async with pool.acquire() as conn:
        rows_a = [tuple(r) for r in await conn.fetch(shape, a)]
        rows_b = [tuple(r) for r in await conn.fetch(shape, b)]
    assert rows_a and rows_a == rows_b
