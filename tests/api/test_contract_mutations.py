"""The lifecycle over GraphQL: quote → issue → endorse → cancel, concurrency, idempotency, dry
runs, refusals that change nothing, and who may do what."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.factories import unique
from tests.tokens import long_token


@pytest.fixture(autouse=True)
def business_day(clock: ManualClock) -> None:
    """The shared API clock may have been moved by other tests; these stories start on 1 April 2026."""
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))


TABLES = ("contracts", "terms", "contract_versions", "version_drivers", "transactions", "events",
          "grade_records", "parties", "vehicles", "idempotency_records")


def bearer(settings: Settings, role: Role, **claims: int) -> dict[str, str]:
    token = long_token(settings, role, f"{role.value}-{unique('s')}", **claims)  # type: ignore[arg-type]
    return {"authorization": f"Bearer {token}"}


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    """A digest of every row of the tables a mutation can touch."""
    out = {}
    async with pool.acquire() as conn:
        for t in TABLES:
            out[t] = await conn.fetchval(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


REGISTER_DRIVER = """mutation($i: RegisterDriverInput!) { registerDriver(input: $i) {
  party { id nameKanji } userErrors { field code message } } }"""
REGISTER_VEHICLE = """mutation($i: RegisterVehicleInput!) { registerVehicle(input: $i) {
  vehicle { id } userErrors { field code message } } }"""
QUOTE = """mutation($i: CreateQuoteInput!) { createQuote(input: $i) {
  change { policyNumber premiumAfterYen lockVersion statuses { code } }
  contract { id lockVersion statuses { code } premium { totalYen } }
  userErrors { field code message } dryRun replayed } }"""
ISSUE = """mutation($i: ContractRefInput!) { issueContract(input: $i) {
  change { lockVersion statuses { code } } contract { id lockVersion statuses { code } }
  userErrors { field code message } } }"""
ENDORSE = """mutation($i: EndorseContractInput!) { endorseContract(input: $i) {
  change { lockVersion premiumBeforeYen premiumAfterYen premiumDeltaYen deltaSteps { name value rule }
           changes { field before after } }
  contract { lockVersion version { ageCondition { code } } }
  userErrors { field code message } dryRun replayed } }"""
CANCEL = """mutation($i: CancelContractInput!) { cancelContract(input: $i) {
  change { premiumDeltaYen statuses { code } deltaSteps { name value } }
  contract { statuses { code } availableActions { code } }
  userErrors { field code message } } }"""


async def agent(pool: asyncpg.Pool, settings: Settings) -> dict[str, str]:
    """An agent of a fresh agency (agency business is quoted and issued by its agent)."""
    agency_id = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, 'テスト代理店') RETURNING id",
                                    unique("AG"))
    return bearer(settings, Role.AGENT, agency_id=agency_id)


async def setup_customer(client: httpx.AsyncClient, h: dict[str, str]) -> tuple[str, str]:
    r = await gql(client, REGISTER_DRIVER, {"i": {"nameKanji": "鈴木 一郎", "nameKana": "スズキ イチロウ",
                                                "birthDate": "1980-05-05", "licenceColour": "GOLD",
                                                "addressJa": "東京都港区1-1", "postalCode": "105-0001"}}, h)
    assert r["data"]["registerDriver"]["userErrors"] == [], r
    party = r["data"]["registerDriver"]["party"]["id"]
    r = await gql(client, REGISTER_VEHICLE, {"i": {
        "useType": "PRIVATE_STANDARD_PASSENGER", "registrationNo": unique("品川300さ"), "firstRegistration": "2019-04",
        "modelRelease": "2018-10", "ratingClasses": [{"group": "BI", "class": 5}, {"group": "PD", "class": 6},
                                                     {"group": "INJURY", "class": 4}, {"group": "VEHICLE", "class": 7}],
        "valueYen": 2000000, "ownerPartyId": party, "accountPartyId": party}}, h)
    assert r["data"]["registerVehicle"]["userErrors"] == [], r
    return party, r["data"]["registerVehicle"]["vehicle"]["id"]


def quote_input(party: str, vehicle: str, **extra: Any) -> dict[str, Any]:
    return {"productId": "aioi-tough-biz", "startDate": "2026-04-10", "policyholderId": party,
            "namedInsuredId": party, "vehicleId": vehicle, "drivers": [{"partyId": party, "relationship": "SELF"}],
            "coverages": [{"code": "BI"}, {"code": "PD"}, {"code": "PI"}, {"code": "VEHICLE"}],
            "ageCondition": "AGE_26", "channel": "AGENT", **extra}


async def test_quote_issue_endorse_cancel_story(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                settings: Settings, clock: ManualClock) -> None:
    h = await agent(pool, settings)
    party, vehicle = await setup_customer(client, h)
    r = await gql(client, QUOTE, {"i": quote_input(party, vehicle)}, h)
    q = r["data"]["createQuote"]
    assert q["userErrors"] == [], q
    contract = q["contract"]
    assert [s["code"] for s in contract["statuses"]] == ["QUOTED"]
    assert contract["premium"]["totalYen"] == q["change"]["premiumAfterYen"] > 0

    r = await gql(client, ISSUE, {"i": {"contractId": contract["id"], "expectedVersion": contract["lockVersion"]}}, h)
    issued = r["data"]["issueContract"]
    assert issued["userErrors"] == [], issued
    assert "IN_FORCE" in [s["code"] for s in issued["contract"]["statuses"]]

    endorse = {"contractId": contract["id"], "expectedVersion": issued["contract"]["lockVersion"],
               "effectiveDate": "2026-10-10", "changes": {"ageCondition": "AGE_21"}}
    before = await snapshot(pool)
    dry = (await gql(client, ENDORSE, {"i": {**endorse, "dryRun": True}}, h))["data"]["endorseContract"]
    assert dry["userErrors"] == [] and dry["dryRun"] is True, dry
    assert await snapshot(pool) == before  # a dry run stores nothing
    real = (await gql(client, ENDORSE, {"i": endorse}, h))["data"]["endorseContract"]
    assert real["userErrors"] == [], real
    assert real["change"]["premiumDeltaYen"] == dry["change"]["premiumDeltaYen"]
    assert real["change"]["premiumDeltaYen"] > 0  # 21+ costs more than 26+
    assert any(c["field"].endswith("ageCondition") for c in real["change"]["changes"])

    r = await gql(client, CANCEL, {"i": {"contractId": contract["id"], "expectedVersion": real["change"]["lockVersion"],
                                         "effectiveDate": "2026-12-10", "reason": "sold the car"}}, h)
    cancel = r["data"]["cancelContract"]
    assert cancel["userErrors"] == [], cancel
    assert [s["code"] for s in cancel["contract"]["statuses"]] == ["CANCELLED"]
    assert cancel["change"]["premiumDeltaYen"] <= 0
    # an endorsement of a cancelled contract is refused and changes nothing
    before = await snapshot(pool)
    again = (await gql(client, ENDORSE, {"i": {**endorse, "expectedVersion": 99}}, h))["data"]["endorseContract"]
    assert again["change"] is None and again["userErrors"][0]["code"] in ("NOT_ALLOWED_IN_STATE", "VERSION_CONFLICT")
    assert await snapshot(pool) == before


async def _in_force(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    party, vehicle = await setup_customer(client, h)
    q = (await gql(client, QUOTE, {"i": quote_input(party, vehicle)}, h))["data"]["createQuote"]
    assert q["userErrors"] == [], q
    issued = (await gql(client, ISSUE, {"i": {"contractId": q["contract"]["id"],
                                              "expectedVersion": q["contract"]["lockVersion"]}}, h))["data"]["issueContract"]
    assert issued["userErrors"] == [], issued
    return issued["contract"]


async def test_fifty_concurrent_endorsements_one_wins(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                      settings: Settings) -> None:
    h = await agent(pool, settings)
    c = await _in_force(client, h)
    base = {"contractId": c["id"], "expectedVersion": c["lockVersion"], "effectiveDate": "2026-10-10"}
    conditions = ["AGE_21", "ANY"]
    results = await asyncio.gather(*[
        gql(client, ENDORSE, {"i": {**base, "changes": {"ageCondition": conditions[i % 2]}}}, h) for i in range(50)
    ])
    payloads = [r["data"]["endorseContract"] for r in results]
    winners = [p for p in payloads if not p["userErrors"]]
    losers = [p for p in payloads if p["userErrors"]]
    assert len(winners) == 1, [p["userErrors"] for p in payloads][:3]
    assert len(losers) == 49 and all(p["userErrors"][0]["code"] == "VERSION_CONFLICT" for p in losers)
    db_id = int(__import__("base64").b64decode(c["id"]).decode().split(":")[1])
    seqs = [r["seq"] for r in await pool.fetch("SELECT seq FROM events WHERE contract_id = $1 ORDER BY seq", db_id)]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap


async def test_idempotency_key_replays_and_refuses_another_payload(
    client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings
) -> None:
    h = await agent(pool, settings)
    c = await _in_force(client, h)
    i = {"contractId": c["id"], "expectedVersion": c["lockVersion"], "effectiveDate": "2026-10-10",
         "changes": {"ageCondition": "AGE_21"}, "idempotencyKey": unique("key")}
    first = (await gql(client, ENDORSE, {"i": i}, h))["data"]["endorseContract"]
    assert first["userErrors"] == [] and first["replayed"] is False
    before = await snapshot(pool)
    second = (await gql(client, ENDORSE, {"i": i}, h))["data"]["endorseContract"]
    assert second["replayed"] is True and second["change"] == first["change"]
    assert await snapshot(pool) == before  # one effect
    other = (await gql(client, ENDORSE, {"i": {**i, "changes": {"ageCondition": "ANY"}}}, h))["data"]["endorseContract"]
    assert other["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await snapshot(pool) == before


async def test_bad_input_gets_codes_and_changes_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                        settings: Settings) -> None:
    h = await agent(pool, settings)
    party, vehicle = await setup_customer(client, h)
    c = await _in_force(client, h)
    cases = [
        (QUOTE, {"i": quote_input(to_global_id("Party", 9_000_000_000), vehicle)}, "createQuote", "PARTY_NOT_FOUND"),
        (QUOTE, {"i": quote_input(party, "garbage")}, "createQuote", "VEHICLE_NOT_FOUND"),
        # an in-force contract has no interruption certificate to start from (004 L1427-1431)
        (QUOTE, {"i": quote_input(party, vehicle, gradeOrigin="INTERRUPTION_CERTIFICATE",
                                  certificateContractId=c["id"])}, "createQuote", "CERTIFICATE_NOT_FOUND"),
        (QUOTE, {"i": quote_input(party, vehicle, gradeOrigin="INTERRUPTION_CERTIFICATE")}, "createQuote",
         "CERTIFICATE_REQUIRED"),
        (ENDORSE, {"i": {"contractId": c["id"], "expectedVersion": c["lockVersion"], "effectiveDate": "2028-01-01",
                         "changes": {"ageCondition": "AGE_21"}}}, "endorseContract", "EFFECTIVE_DATE_OUTSIDE_TERM"),
        (ENDORSE, {"i": {"contractId": to_global_id("Contract", 9_000_000_000), "expectedVersion": 1,
                         "effectiveDate": "2026-10-01", "changes": {}}}, "endorseContract", "CONTRACT_NOT_FOUND"),
        (ENDORSE, {"i": {"contractId": c["id"], "expectedVersion": c["lockVersion"] + 5, "effectiveDate": "2026-10-01",
                         "changes": {"ageCondition": "AGE_21"}}}, "endorseContract", "VERSION_CONFLICT"),
    ]
    before = await snapshot(pool)
    for query, variables, name, code in cases:
        r = await gql(client, query, variables, h)
        assert "errors" not in r, r
        errs = r["data"][name]["userErrors"]
        assert errs and errs[0]["code"] == code, (code, errs)
    assert await snapshot(pool) == before


async def test_policyholder_cannot_touch_anothers_contract(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                           settings: Settings) -> None:
    c = await _in_force(client, await agent(pool, settings))
    stranger = bearer(settings, Role.POLICYHOLDER, party_id=1)
    before = await snapshot(pool)
    r = await gql(client, ENDORSE, {"i": {"contractId": c["id"], "expectedVersion": c["lockVersion"],
                                          "effectiveDate": "2026-10-10", "changes": {"ageCondition": "AGE_21"}}}, stranger)
    assert r["data"]["endorseContract"]["userErrors"][0]["code"] == "CONTRACT_NOT_FOUND"
    r = await gql(client, CANCEL, {"i": {"contractId": c["id"], "expectedVersion": c["lockVersion"],
                                         "effectiveDate": "2026-10-10", "reason": "x"}}, stranger)
    assert r["data"]["cancelContract"]["userErrors"][0]["code"] == "CONTRACT_NOT_FOUND"
    r = await gql(client, ENDORSE, {"i": {"contractId": c["id"], "expectedVersion": 1, "effectiveDate": "2026-10-10",
                                          "changes": {}}})  # anonymous
    assert r["data"]["endorseContract"]["userErrors"][0]["code"] == "UNAUTHENTICATED"
    assert await snapshot(pool) == before
