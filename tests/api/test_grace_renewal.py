"""Renewal inside the forgotten-renewal window and declining a renewal, over GraphQL (SPEC §4.6.1,
002b L4153-4160; tokio 004 L1449-1451): premium paid or refused, day 31 refused, refusals change
nothing, dry runs store nothing, another's contract looks missing.

The expiry is run directly for the test's own contract (`expire_range` over its id only): the
shared test database holds other tests' contracts expiring at the same instants.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import db_id_of
from domain.calendar import JST, cover_moment
from domain.runtime.clock import ManualClock
from domain.runtime.settings import Settings
from domain.services.windows.expiry import expire_range
from domain.store.uow import UnitOfWork
from tests.api.conftest import gql
from tests.api.test_contract_mutations import (
    ISSUE,
    QUOTE,
    agent,
    bearer,
    quote_input,
    setup_customer,
)
from tests.api.test_contract_mutations import snapshot as base_snapshot

START = date(2026, 5, 17)   # an instant no other API test uses
EXPIRY = cover_moment(date(2027, 5, 17))

RENEW = """mutation($i: RenewContractInput!) { renewContract(input: $i) {
  change { lockVersion termNo effectiveAt statuses { code } premiumAfterYen }
  contract { lockVersion statuses { code } availableActions { code } }
  userErrors { field code message } dryRun replayed } }"""
DECLINE = """mutation($i: DeclineRenewalInput!) { declineRenewal(input: $i) {
  change { transactionKind lockVersion statuses { code } }
  contract { lockVersion statuses { code } availableActions { code } }
  userErrors { field code message } dryRun replayed } }"""
READ = """query($pn: String!) { contract(policyNumber: $pn) { lockVersion statuses { code } availableActions { code } } }"""


@pytest.fixture(autouse=True)
def business_day(clock: ManualClock) -> None:
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    out = await base_snapshot(pool)
    async with pool.acquire() as conn:
        for t in ("windows", "timers"):
            out[t] = await conn.fetchval(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


async def _issued(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    party, vehicle = await setup_customer(client, h)
    q = (await gql(client, QUOTE, {"i": quote_input(party, vehicle, startDate=START.isoformat())}, h))["data"]["createQuote"]
    assert q["userErrors"] == [], q
    issued = (await gql(client, ISSUE, {"i": {"contractId": q["contract"]["id"],
                                              "expectedVersion": q["contract"]["lockVersion"]}}, h))["data"]["issueContract"]
    assert issued["userErrors"] == [], issued
    return {"id": q["contract"]["id"], "pn": q["change"]["policyNumber"], "version": issued["change"]["lockVersion"]}


async def _expire(pool: asyncpg.Pool, contract_gid: str) -> None:
    cid = db_id(contract_gid)
    async with UnitOfWork(pool) as uow:
        await expire_range(uow.conn, EXPIRY, EXPIRY, cid, cid)


async def _version(client: httpx.AsyncClient, h: dict[str, str], pn: str) -> dict[str, Any]:
    return (await gql(client, READ, {"pn": pn}, h))["data"]["contract"]


def db_id(gid: str) -> int:
    found = db_id_of(gid, "Contract")
    assert found is not None
    return found


def _codes(items: list[dict[str, str]]) -> list[str]:
    return [i["code"] for i in items]


async def test_renewal_in_the_window_needs_the_premium_and_starts_at_the_old_expiry(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock) -> None:
    h = await agent(pool, settings)
    c = await _issued(client, h)
    await _expire(pool, c["id"])
    now = await _version(client, h, c["pn"])
    assert set(_codes(now["statuses"])) == {"EXPIRED", "IN_RENEWAL_GRACE"}
    assert "RENEW" in _codes(now["availableActions"])

    clock.set(EXPIRY + timedelta(days=29))   # day 29 (002b L4161: within 30 days from the day after)
    i = {"contractId": c["id"], "expectedVersion": now["lockVersion"]}
    before = await snapshot(pool)
    unpaid = (await gql(client, RENEW, {"i": i}, h))["data"]["renewContract"]
    assert unpaid["change"] is None
    assert [(e["field"], e["code"]) for e in unpaid["userErrors"]] == [("input.premiumPaid", "PREMIUM_NOT_PAID")]
    assert await snapshot(pool) == before
    dry = (await gql(client, RENEW, {"i": {**i, "premiumPaid": True, "dryRun": True}}, h))["data"]["renewContract"]
    assert dry["userErrors"] == [] and dry["dryRun"] is True, dry
    assert await snapshot(pool) == before

    done = (await gql(client, RENEW, {"i": {**i, "premiumPaid": True}}, h))["data"]["renewContract"]
    assert done["userErrors"] == [], done
    assert done["change"]["termNo"] == 2
    assert datetime.fromisoformat(done["change"]["effectiveAt"]) == EXPIRY  # cover is continuous
    assert _codes(done["contract"]["statuses"]) == ["IN_FORCE"]
    state = await pool.fetchrow("SELECT state, filed_on, details->>'premiumPaid' AS paid FROM windows "
                                "WHERE contract_id = $1", db_id(c["id"]))
    assert (state["state"], state["filed_on"], state["paid"]) == ("CONFIRMED", date(2027, 6, 15), "true")


async def test_day_31_is_too_late_and_changes_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                      settings: Settings, clock: ManualClock) -> None:
    h = await agent(pool, settings)
    c = await _issued(client, h)
    await _expire(pool, c["id"])
    now = await _version(client, h, c["pn"])
    clock.set(EXPIRY + timedelta(days=31))
    before = await snapshot(pool)
    late = (await gql(client, RENEW, {"i": {"contractId": c["id"], "expectedVersion": now["lockVersion"],
                                            "premiumPaid": True}}, h))["data"]["renewContract"]
    assert _codes(late["userErrors"]) == ["CONTRACT_LAPSED"]
    assert await snapshot(pool) == before


async def test_decline_renewal(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = await agent(pool, settings)
    c = await _issued(client, h)
    assert "DECLINE_RENEWAL" in _codes((await _version(client, h, c["pn"]))["availableActions"])
    i = {"contractId": c["id"], "expectedVersion": c["version"], "reason": "selling the car"}

    before = await snapshot(pool)
    stranger = bearer(settings, Role.POLICYHOLDER, party_id=1)
    hidden = (await gql(client, DECLINE, {"i": i}, stranger))["data"]["declineRenewal"]
    assert _codes(hidden["userErrors"]) == ["CONTRACT_NOT_FOUND"]   # another's contract looks missing
    stale = (await gql(client, DECLINE, {"i": {**i, "expectedVersion": 99}}, h))["data"]["declineRenewal"]
    assert _codes(stale["userErrors"]) == ["VERSION_CONFLICT"]
    dry = (await gql(client, DECLINE, {"i": {**i, "dryRun": True}}, h))["data"]["declineRenewal"]
    assert dry["userErrors"] == [] and dry["dryRun"] is True
    assert await snapshot(pool) == before

    done = (await gql(client, DECLINE, {"i": {**i, "idempotencyKey": f"decline-{c['pn']}"}}, h))["data"]["declineRenewal"]
    assert done["userErrors"] == [], done
    assert done["change"]["transactionKind"] == "DECLINE_RENEWAL"
    assert set(_codes(done["contract"]["statuses"])) == {"DO_NOT_RENEW", "IN_FORCE"}
    assert not {"RENEW", "DECLINE_RENEWAL"} & set(_codes(done["contract"]["availableActions"]))
    after = await snapshot(pool)
    again = (await gql(client, DECLINE, {"i": {**i, "idempotencyKey": f"decline-{c['pn']}"}}, h))["data"]["declineRenewal"]
    assert again["replayed"] is True and again["change"] == done["change"]
    twice = (await gql(client, DECLINE, {"i": {**i, "expectedVersion": done["change"]["lockVersion"]}}, h))
    assert _codes(twice["data"]["declineRenewal"]["userErrors"]) == ["NOT_ALLOWED_IN_STATE"]
    assert await snapshot(pool) == after

    # Declined: at the expiry the contract simply expires, no grace window.
    await _expire(pool, c["id"])
    assert set(_codes((await _version(client, h, c["pn"]))["statuses"])) == {"DO_NOT_RENEW", "EXPIRED"}
    assert await pool.fetchval("SELECT count(*) FROM windows WHERE contract_id = $1", db_id(c["id"])) == 0
