"""The demo book (`autopolicy seed`, `make run`): loads through the use cases, covers the four
products, grades, channels and states, is the same every run, loads once, and fast enough.

It gets a database of its own so its 200 contracts never meet the other tests' rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import asyncpg
import pytest

from domain.runtime.services import Services
from domain.services.demo import load_demo_data
from tests.conftest import RUN_ID
from tests.support import fresh_database


@pytest.fixture(scope="module")
def demo_url(services: Services) -> Iterator[str]:
    with fresh_database(services.database_url, f"autopolicy_demo_{RUN_ID}") as url:
        yield url


async def _counts(conn: asyncpg.Connection) -> dict[str, int]:
    out = {}
    for t in ("parties", "vehicles", "agencies", "contracts", "terms", "contract_versions", "transactions",
              "events", "grade_records"):
        out[t] = await conn.fetchval(f"SELECT count(*) FROM {t}")
    return out


async def test_demo_book(demo_url: str) -> None:
    conn = await asyncpg.connect(demo_url)
    try:
        began = time.perf_counter()
        summary = await load_demo_data(conn)
        took = time.perf_counter() - began
        assert took < 15, f"demo load took {took:.1f} s"
        assert "200 contracts" in summary and "AG-TOKYO-001" in summary and "AP-RK-100001" in summary
        first = await _counts(conn)
        assert first["contracts"] == 200 and first["agencies"] == 3

        products = dict(await conn.fetch("SELECT product_id, count(*) FROM contracts GROUP BY 1"))
        assert set(products) == {"rakuten-drive-assist", "aioi-tough-biz", "tokio-total-assist-group",
                                 "kyosai-accident-expense"}
        channels = {r[0] for r in await conn.fetch("SELECT DISTINCT channel FROM contracts")}
        assert channels == {"INTERNET", "AGENT", "GROUP"}
        statuses = {r[0] for r in await conn.fetch("SELECT DISTINCT unnest(statuses) FROM contracts")}
        assert {"QUOTED", "IN_FORCE", "CANCELLED", "RESCINDED", "EXPIRED"} <= statuses
        kinds = {r[0] for r in await conn.fetch("SELECT DISTINCT kind FROM transactions")}
        assert {"QUOTE", "ISSUE", "ENDORSE", "RENEW", "CANCEL", "REINSTATE", "RESCIND",
                "ISSUE_INTERRUPTION_CERTIFICATE"} <= kinds
        graded = {r[0] for r in await conn.fetch("SELECT DISTINCT grade FROM grade_records")}
        assert graded == set(range(1, 21))
        periods = {r[0] for r in await conn.fetch("SELECT DISTINCT period FROM grade_records")}
        assert len(periods) >= 3
        uses = {r[0] for r in await conn.fetch("SELECT DISTINCT use_type FROM vehicles")}
        assert len(uses) >= 6
        ages = await conn.fetchval(
            """SELECT count(DISTINCT (date_part('year', age(date '2026-04-01', p.birth_date)) / 10)::int)
               FROM version_drivers d JOIN parties p ON p.id = d.party_id""")
        assert ages >= 5  # drivers from their late teens to their seventies
        holder = await conn.fetchval(
            "SELECT count(*) FROM parties WHERE name_kanji = '山田 太郎' AND name_en = 'Taro Yamada'")
        assert holder >= 1
        known = await conn.fetchrow(
            """SELECT c.statuses, a.code FROM contracts c JOIN agencies a ON a.id = c.agency_id
               WHERE c.policy_number = 'AP-RK-100001'""")
        assert known is not None and known["code"] == "AG-TOKYO-001" and list(known["statuses"]) == ["IN_FORCE"]

        again = await load_demo_data(conn)
        assert "already loaded" in again
        assert await _counts(conn) == first
    finally:
        await conn.close()
