"""Pricing without storing: `createQuote(dryRun: true)` answers the priced change with its
explanation, and staff (only staff, only in a dry run) may price a start date that has passed by
the tariff in force then (rakuten DEMO-2023-12 until 2025-12-31, DEMO-2026-01 after)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.api.test_contract_mutations import TABLES, agent, bearer, setup_customer, snapshot

PRICE = """mutation($i: CreateQuoteInput!) { createQuote(input: $i) {
  change { premiumAfterYen tariffVersion
    premium { totalYen tariffVersion startDate lines { code amountYen }
              explanation { totalYen tariffVersion steps { line factor rule before after delta } } } }
  contract { id } userErrors { field code message } dryRun } }"""


@pytest.fixture(autouse=True)
def business_day(clock: ManualClock) -> None:
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))


def rakuten(party: str, vehicle: str, start: str) -> dict[str, Any]:
    return {"productId": "rakuten-drive-assist", "startDate": start, "policyholderId": party,
            "namedInsuredId": party, "vehicleId": vehicle, "drivers": [{"partyId": party, "relationship": "SELF"}],
            "coverages": [{"code": "BI"}, {"code": "PD"}, {"code": "PIP"}, {"code": "VEHICLE"}],
            "channel": "INTERNET", "usePurpose": "DAILY_LEISURE", "mileageClass": 2}


async def price(client: httpx.AsyncClient, h: dict[str, str], i: dict[str, Any]) -> dict[str, Any]:
    r = await gql(client, PRICE, {"i": i}, h)
    assert "errors" not in r, r
    return r["data"]["createQuote"]  # type: ignore[no-any-return]


async def test_a_dry_run_quote_answers_its_price_and_stores_nothing(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = await agent(pool, settings)
    party, vehicle = await setup_customer(client, h)
    i = {**rakuten(party, vehicle, "2026-04-10"), "channel": "AGENT"}
    before = await snapshot(pool)
    dry = await price(client, h, {**i, "dryRun": True})
    assert dry["userErrors"] == [] and dry["dryRun"] is True and dry["contract"] is None, dry
    assert await snapshot(pool) == before, f"a dry run wrote to {TABLES}"
    p = dry["change"]["premium"]
    assert p["totalYen"] == dry["change"]["premiumAfterYen"] == sum(ln["amountYen"] for ln in p["lines"]) > 0
    assert p["explanation"]["totalYen"] == str(p["totalYen"]) and p["explanation"]["steps"]
    for s in p["explanation"]["steps"]:  # exact decimals as people write them, never "0E-8"
        assert "E" not in s["before"] + s["after"] + s["delta"], s
    # the stored quote is priced the same
    stored = await price(client, h, i)
    assert stored["userErrors"] == [] and stored["contract"] is not None
    assert stored["change"]["premium"] == p


async def test_staff_price_a_past_start_by_the_tariff_then(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    party, vehicle = await setup_customer(client, staff)
    before = await snapshot(pool)
    past = await price(client, staff, {**rakuten(party, vehicle, "2025-06-01"), "dryRun": True})
    assert past["userErrors"] == [], past
    assert past["change"]["tariffVersion"] == "rakuten-drive-assist/DEMO-2023-12"
    assert past["change"]["premium"]["startDate"] == "2025-06-01"
    now = await price(client, staff, {**rakuten(party, vehicle, "2026-06-01"), "dryRun": True})
    assert now["change"]["tariffVersion"] == "rakuten-drive-assist/DEMO-2026-01"
    assert await snapshot(pool) == before

    # stored, a past start is refused even for staff (with the hint); never in any run for others
    stored = await price(client, staff, rakuten(party, vehicle, "2025-06-01"))
    assert [(e["code"], e["field"]) for e in stored["userErrors"]] == [("START_DATE_IN_PAST", "input.startDate")]
    assert "dryRun: true" in stored["userErrors"][0]["message"]
    holder = bearer(settings, Role.POLICYHOLDER, party_id=int(await pool.fetchval(
        "SELECT max(id) FROM parties")))
    for h in (holder, await agent(pool, settings)):
        r = await price(client, h, {**rakuten(party, vehicle, "2025-06-01"), "dryRun": True})
        assert r["change"] is None and r["userErrors"], r
    assert await snapshot(pool) == before
