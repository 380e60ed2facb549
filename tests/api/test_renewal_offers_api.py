"""`Contract.renewalOffer` and `renewContract(offerId)` over GraphQL: the offer as computed, renewal
priced exactly as offered, a stale offer refused with nothing changed, another's offer looks missing."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import to_global_id
from domain.calendar import JST
from domain.runtime.clock import ManualClock
from domain.runtime.settings import Settings
from domain.services.renewals.offers import refresh_contract
from domain.store.uow import UnitOfWork
from tests.api.conftest import gql
from tests.api.test_contract_mutations import TABLES, bearer
from tests.factories import rated_contract

DUE = datetime(2027, 2, 15, 10, 0, tzinfo=JST)   # rated_contract terms end 2027-04-01

OFFER = """query($id: ID!) { contract(id: $id) { policyNumber lockVersion renewalOffer {
  id state nextStart nextEnd offerOn premiumYen currentPremiumYen changeYen tariffVersion currentTariffVersion
  grade { grade period label } ageBandBefore { code } ageBandAfter { code } expiredDiscounts
  diffLines { line before after change } diffCauses { line factor valueBefore valueAfter }
  explanation premium { totalYen tariffVersion explanation { totalYen tariffVersion steps { line factor rule before after } } } computedAt } } }"""
RENEW = """mutation($i: RenewContractInput!) { renewContract(input: $i) {
  change { premiumAfterYen tariffVersion grade { label } } userErrors { field code message } } }"""


@pytest.fixture(autouse=True)
def renewal_day(clock: ManualClock) -> None:
    clock.set(DUE)


async def _snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    out = {}
    async with pool.acquire() as conn:
        for t in (*TABLES, "renewal_offers", "renewal_offer_docs"):
            out[t] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


async def _offered(pool: asyncpg.Pool) -> tuple[int, str]:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    async with UnitOfWork(pool) as uow:
        await refresh_contract(uow, cid, DUE, reason="test")
    return b.policyholder.id, to_global_id("Contract", cid)


async def test_contract_shows_its_renewal_offer(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                settings: Settings) -> None:
    holder, gid = await _offered(pool)
    r = await gql(client, OFFER, {"id": gid}, bearer(settings, Role.POLICYHOLDER, party_id=holder))
    assert "errors" not in r, r
    o = r["data"]["contract"]["renewalOffer"]
    assert o["state"] == "OFFERED" and o["nextStart"] == "2027-04-01" and o["nextEnd"] == "2028-04-01"
    assert o["offerOn"] == "2027-01-31"                       # 60 days before expiry (SPEC §4.4)
    assert o["grade"] == {"grade": 11, "period": 0, "label": "11"}
    assert o["tariffVersion"] == "rakuten-drive-assist/DEMO-2026-01" == o["premium"]["tariffVersion"]
    assert o["premiumYen"] == o["premium"]["totalYen"] and o["changeYen"] == o["premiumYen"] - o["currentPremiumYen"]
    assert o["diffLines"] and any(c["factor"] == "GRADE" for c in o["diffCauses"]) and o["explanation"]
    # the offered premium explains itself step by step like a contract's premium (grade 11, 001 L775)
    e = o["premium"]["explanation"]
    assert e["tariffVersion"] == o["tariffVersion"] and e["totalYen"] == str(o["premiumYen"])
    assert any(s["factor"] == "GRADE" for s in e["steps"]) and all("E" not in s["after"] for s in e["steps"])
    # another policyholder: the contract (and its offer) looks missing
    r = await gql(client, OFFER, {"id": gid}, bearer(settings, Role.POLICYHOLDER, party_id=9_000_000))
    assert r["data"]["contract"] is None


async def test_renew_accepts_the_offer_at_its_price(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                    settings: Settings) -> None:
    _, gid = await _offered(pool)
    staff = bearer(settings, Role.STAFF)
    c = (await gql(client, OFFER, {"id": gid}, staff))["data"]["contract"]
    r = await gql(client, RENEW, {"i": {"contractId": gid, "expectedVersion": c["lockVersion"],
                                        "offerId": c["renewalOffer"]["id"]}}, staff)
    assert r["data"]["renewContract"]["userErrors"] == [], r
    assert r["data"]["renewContract"]["change"]["premiumAfterYen"] == c["renewalOffer"]["premiumYen"]
    assert r["data"]["renewContract"]["change"]["grade"]["label"] == "11"


async def test_stale_or_foreign_offer_is_refused_and_changes_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                     settings: Settings) -> None:
    holder, gid = await _offered(pool)
    _, other_gid = await _offered(pool)
    staff = bearer(settings, Role.STAFF)
    c = (await gql(client, OFFER, {"id": gid}, staff))["data"]["contract"]
    other = (await gql(client, OFFER, {"id": other_gid}, staff))["data"]["contract"]["renewalOffer"]
    await pool.execute("UPDATE parties SET licence_colour = 'BLUE' WHERE id = $1", holder)
    cases = [
        (c["renewalOffer"]["id"], staff, "OFFER_OUTDATED"),
        (other["id"], staff, "RENEWALOFFER_NOT_FOUND"),
        ("garbage", staff, "RENEWALOFFER_NOT_FOUND"),
        (c["renewalOffer"]["id"], bearer(settings, Role.POLICYHOLDER, party_id=9_000_000), "CONTRACT_NOT_FOUND"),
    ]
    before = await _snapshot(pool)
    for offer_id, h, code in cases:
        r = await gql(client, RENEW, {"i": {"contractId": gid, "expectedVersion": c["lockVersion"],
                                            "offerId": offer_id}}, h)
        assert "errors" not in r, r
        errs = r["data"]["renewContract"]["userErrors"]
        assert errs and errs[0]["code"] == code, (code, errs)
    assert await _snapshot(pool) == before
