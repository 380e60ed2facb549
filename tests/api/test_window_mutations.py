"""Vehicle-swap and driver-change windows over GraphQL: happy paths, every refusal changes nothing
(md5 snapshot), dry runs, idempotent replays, who may do what, and `Contract.windows`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import db_id_of, to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.api.test_contract_mutations import (
    ISSUE,
    QUOTE,
    REGISTER_DRIVER,
    REGISTER_VEHICLE,
    agent,
    bearer,
    quote_input,
    setup_customer,
)
from tests.factories import rated_contract, unique

TABLES = ("contracts", "terms", "contract_versions", "version_drivers", "transactions", "events",
          "grade_records", "parties", "vehicles", "idempotency_records", "windows", "timers")


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    out = {}
    async with pool.acquire() as conn:
        for t in TABLES:
            out[t] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


def day(clock: ManualClock, y: int, m: int, d: int, h: int = 10) -> None:
    clock.set(datetime(y, m, d, h, 0, tzinfo=JST))


PAYLOAD = """change { windowId kind { code } state { code } outcome { code } filingDay premiumDeltaYen effectiveAt
                     statuses { code } reason }
  window { id kind { code } state { code } eventOn fullUntil downgradeUntil daysLeft source filedOn
           outcome { code } newVehicleId replacedVehicleId partyId householdEvent { code } approvedAt }
  contract { statuses { code } lockVersion availableActions { code } }
  userErrors { field code message } dryRun replayed"""
REPORT_SWAP = f"mutation($i: ReportVehicleAcquisitionInput!) {{ reportVehicleAcquisition(input: $i) {{ {PAYLOAD} }} }}"
FILE_SWAP = f"mutation($i: FileVehicleSwapInput!) {{ fileVehicleSwap(input: $i) {{ {PAYLOAD} }} }}"
APPROVE = f"mutation($i: ApproveVehicleSwapInput!) {{ approveVehicleSwap(input: $i) {{ {PAYLOAD} }} }}"
HOUSEHOLD = f"mutation($i: ReportHouseholdEventInput!) {{ reportHouseholdEvent(input: $i) {{ {PAYLOAD} }} }}"
ENDORSE = """mutation($i: EndorseContractInput!) { endorseContract(input: $i) {
  contract { lockVersion windows { state { code } outcome { code } filedOn } } userErrors { code field } } }"""
WINDOWS = """query($id: ID!) { contract(id: $id) { policyNumber windows { id kind { code en } state { code }
  fullUntil daysLeft source } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Window { kind { code } state { code } contractId } } }"""


class Customer:
    def __init__(self, h: dict[str, str], party: str, old_car: str, new_car: str, contract: dict[str, Any]) -> None:
        self.h, self.party, self.old_car, self.new_car, self.contract = h, party, old_car, new_car, contract

    @property
    def cid(self) -> str:
        return str(self.contract["id"])


async def _vehicle(client: httpx.AsyncClient, h: dict[str, str], owner: str, account: str) -> str:
    r = await gql(client, REGISTER_VEHICLE, {"i": {
        "useType": "PRIVATE_STANDARD_PASSENGER", "registrationNo": unique("品川300ま"), "chassisNo": unique("CHN"),
        # out of aioi's 49-month new-car window (002 L4879), so the swap costs extra premium
        "firstRegistration": "2021-11", "modelRelease": "2021-06",
        "ratingClasses": [{"group": "BI", "class": 5}, {"group": "PD", "class": 6}, {"group": "INJURY", "class": 4},
                          {"group": "VEHICLE", "class": 9}],
        "valueYen": 3000000, "ownerPartyId": owner, "accountPartyId": account}}, h)
    assert r["data"]["registerVehicle"]["userErrors"] == [], r
    return str(r["data"]["registerVehicle"]["vehicle"]["id"])


async def customer(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock) -> Customer:
    """An aioi contract from 10 April 2026 (issued on 1 April by its agent) and a second car."""
    day(clock, 2026, 4, 1, 9)
    h = await agent(pool, settings)
    party, car = await setup_customer(client, h)
    q = (await gql(client, QUOTE, {"i": quote_input(party, car)}, h))["data"]["createQuote"]
    assert q["userErrors"] == [], q
    issued = (await gql(client, ISSUE, {"i": {"contractId": q["contract"]["id"],
                                              "expectedVersion": q["contract"]["lockVersion"]}}, h))["data"]["issueContract"]
    assert issued["userErrors"] == [], issued
    return Customer(h, party, car, await _vehicle(client, h, party, party), issued["contract"])


def swap_input(c: Customer, **over: Any) -> dict[str, Any]:
    return {"contractId": c.cid, "vehicleId": c.new_car, "acquiredOn": "2026-05-01", "replacedVehicleId": c.old_car,
            "oldCar": "SCRAPPED", "ownerRelationship": "SELF", **over}


async def test_swap_report_file_approve(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                        clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    day(clock, 2026, 5, 3)
    before = await snapshot(pool)
    dry = (await gql(client, REPORT_SWAP, {"i": {**swap_input(c), "dryRun": True}}, c.h))["data"]["reportVehicleAcquisition"]
    assert dry["userErrors"] == [] and dry["dryRun"] and dry["window"] is None, dry
    assert await snapshot(pool) == before
    inp = {**swap_input(c), "idempotencyKey": unique("k")}
    r = (await gql(client, REPORT_SWAP, {"i": inp}, c.h))["data"]["reportVehicleAcquisition"]
    assert r["userErrors"] == [], r
    w = r["window"]
    # 002b L4142: day 1 is 2 May, day 30 is 31 May; on 3 May, 29 days are left including today.
    assert (w["state"]["code"], w["fullUntil"], w["downgradeUntil"], w["daysLeft"]) == (
        "OPEN", "2026-05-31", "2027-05-10", 29)
    assert w["source"] == "002 L4140-4152" and w["newVehicleId"] == c.new_car
    assert "SWAP_PENDING" in [s["code"] for s in r["contract"]["statuses"]]
    assert "FILE_VEHICLE_SWAP" in [a["code"] for a in r["contract"]["availableActions"]]
    again = (await gql(client, REPORT_SWAP, {"i": inp}, c.h))["data"]["reportVehicleAcquisition"]
    assert again["replayed"] and again["change"]["windowId"] == w["id"]
    dup = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, c.h))["data"]["reportVehicleAcquisition"]
    assert dup["userErrors"][0]["code"] == "SWAP_ALREADY_REPORTED"

    read = (await gql(client, WINDOWS, {"id": c.cid}, c.h))["data"]["contract"]
    assert [x["id"] for x in read["windows"]] == [w["id"]]
    assert read["windows"][0]["kind"]["en"] == "Vehicle swap automatic cover"

    day(clock, 2026, 5, 31, 20)  # day 30: full cover (002b L4142)
    filed = (await gql(client, FILE_SWAP, {"i": {"windowId": w["id"], "valueYen": 2800000,
                                                 "registrationNo": "品川300ま1234"}}, c.h))["data"]["fileVehicleSwap"]
    assert filed["userErrors"] == [], filed
    ch = filed["change"]
    assert (ch["outcome"]["code"], ch["state"]["code"], ch["filingDay"]) == ("FULL", "CONFIRMED", 30)
    assert ch["effectiveAt"] == "2026-05-01T00:00:00+09:00" and ch["premiumDeltaYen"] > 0
    assert filed["window"]["daysLeft"] == 0

    staff = bearer(settings, Role.STAFF)
    refused = (await gql(client, APPROVE, {"i": {"windowId": w["id"]}}, c.h))["data"]["approveVehicleSwap"]
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"  # an agent does not approve
    ok = (await gql(client, APPROVE, {"i": {"windowId": w["id"]}}, staff))["data"]["approveVehicleSwap"]
    assert ok["userErrors"] == [] and ok["window"]["approvedAt"], ok
    assert "SWAP_PENDING" not in [s["code"] for s in ok["contract"]["statuses"]]
    before = await snapshot(pool)
    twice = (await gql(client, APPROVE, {"i": {"windowId": w["id"]}}, staff))["data"]["approveVehicleSwap"]
    assert twice["userErrors"][0]["code"] == "SWAP_ALREADY_APPROVED" and twice["change"] is None
    assert await snapshot(pool) == before


async def test_swap_on_day_31_and_after_expiry_plus_30(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    day(clock, 2026, 5, 3)
    w = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, c.h))["data"]["reportVehicleAcquisition"]["window"]
    day(clock, 2026, 6, 1)  # day 31: the liability set only (002b L4149-4151)
    dry = (await gql(client, FILE_SWAP, {"i": {"windowId": w["id"], "valueYen": 2800000, "dryRun": True}},
                     c.h))["data"]["fileVehicleSwap"]
    assert (dry["change"]["outcome"]["code"], dry["change"]["filingDay"]) == ("LIABILITY_ONLY", 31)
    assert dry["change"]["effectiveAt"] == "2026-06-01T00:00:00+09:00"
    day(clock, 2027, 5, 11)  # the day after expiry (10 Apr 2027) + 30: nothing (002b L4151-4152)
    before = await snapshot(pool)
    late = (await gql(client, FILE_SWAP, {"i": {"windowId": w["id"], "valueYen": 2800000}}, c.h))["data"]["fileVehicleSwap"]
    assert late["change"] is None and late["userErrors"][0]["code"] == "WINDOW_EXPIRED"
    assert await snapshot(pool) == before


async def test_report_swap_refusals_change_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                   settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    other_car = await _vehicle(client, c.h, c.party, c.party)
    r = await gql(client, REGISTER_DRIVER, {"i": {"kind": "CORPORATION", "nameKanji": "株式会社テスト",
                                                 "accountPartyId": c.party}}, c.h)
    company = r["data"]["registerDriver"]["party"]["id"]
    company_car = await _vehicle(client, c.h, company, c.party)
    rakuten = await rated_contract(pool)
    staff = bearer(settings, Role.STAFF)
    day(clock, 2026, 5, 3)
    cases: list[tuple[dict[str, str], dict[str, Any], str, str]] = [
        (c.h, swap_input(c, acquiredOn="2026-05-04"), "ACQUISITION_IN_FUTURE", "input.acquiredOn"),
        (c.h, swap_input(c, acquiredOn="2026-04-09"), "ACQUISITION_BEFORE_CONTRACT", "input.acquiredOn"),  # L4141
        (c.h, swap_input(c, replacedVehicleId=other_car), "CAR_NOT_INSURED", "input.replacedVehicleId"),
        (c.h, swap_input(c, ownerRelationship="OTHER"), "OWNER_NOT_ELIGIBLE", "input.ownerRelationship"),
        (c.h, swap_input(c, oldCar="KEPT"), "OLD_CAR_NOT_DISPOSED", "input.oldCar"),  # L4141
        (c.h, swap_input(c, vehicleId=company_car, fleet=True), "CORPORATE_FLEET_EXCLUDED", "input.ownerRelationship"),
        (c.h, swap_input(c, vehicleId=c.old_car), "SAME_VEHICLE", "input.vehicleId"),
        (c.h, swap_input(c, vehicleId="bm90LWFuLWlk"), "VEHICLE_NOT_FOUND", "input.vehicleId"),
        (staff, {**swap_input(c), "contractId": to_global_id("Contract", rakuten.created.contract.id),
                 "replacedVehicleId": to_global_id("Vehicle", rakuten.vehicle.id)},
         "VEHICLE_SWAP_NOT_OFFERED", "input.contractId"),
    ]
    before = await snapshot(pool)
    for h, inp, code, field in cases:
        out = (await gql(client, REPORT_SWAP, {"i": inp}, h))["data"]["reportVehicleAcquisition"]
        assert out["change"] is None, (code, out)
        assert (out["userErrors"][0]["code"], out["userErrors"][0]["field"]) == (code, field), out
    assert await snapshot(pool) == before
    # A corporate owner outside a fleet is fine (002b L4147 excludes corporate-owned fleets only).
    ok = (await gql(client, REPORT_SWAP, {"i": {**swap_input(c, vehicleId=company_car), "dryRun": True}},
                    c.h))["data"]["reportVehicleAcquisition"]
    assert ok["userErrors"] == [], ok


async def test_file_and_approve_refusals_change_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                        settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    day(clock, 2026, 5, 3)
    w = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, c.h))["data"]["reportVehicleAcquisition"]["window"]
    staff = bearer(settings, Role.STAFF)
    before = await snapshot(pool)
    for query, h, inp, code in [
        (FILE_SWAP, c.h, {"windowId": w["id"], "valueYen": 0}, "INVALID_VALUE"),
        (FILE_SWAP, c.h, {"windowId": c.cid, "valueYen": 1}, "WINDOW_NOT_FOUND"),  # a contract id is no window
        (FILE_SWAP, c.h, {"windowId": w["id"], "valueYen": 1, "chassisNo": "WRONG-1"}, "CHASSIS_NO_MISMATCH"),
        (APPROVE, staff, {"windowId": w["id"]}, "SWAP_NOT_FILED"),
        (APPROVE, c.h, {"windowId": w["id"]}, "FORBIDDEN"),
    ]:
        r = await gql(client, query, {"i": inp}, h)
        out = next(iter(r["data"].values()))
        assert out["change"] is None and out["userErrors"][0]["code"] == code, (code, out)
    assert await snapshot(pool) == before


async def test_a_policyholder_reaches_only_their_own_windows(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                             settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    day(clock, 2026, 5, 3)
    w = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, c.h))["data"]["reportVehicleAcquisition"]["window"]
    owner_id = db_id_of(c.party, "Party")
    assert owner_id is not None
    mine = bearer(settings, Role.POLICYHOLDER, party_id=owner_id)
    stranger = bearer(settings, Role.POLICYHOLDER, party_id=(await rated_contract(pool)).policyholder.id)
    seen = (await gql(client, NODE, {"id": w["id"]}, mine))["data"]["node"]
    assert seen["state"]["code"] == "OPEN" and seen["contractId"] == c.cid
    assert (await gql(client, NODE, {"id": w["id"]}, stranger))["data"]["node"] is None
    assert (await gql(client, WINDOWS, {"id": c.cid}, stranger))["data"]["contract"] is None
    before = await snapshot(pool)
    r = (await gql(client, FILE_SWAP, {"i": {"windowId": w["id"], "valueYen": 1}}, stranger))["data"]["fileVehicleSwap"]
    assert r["userErrors"][0]["code"] == "WINDOW_NOT_FOUND"  # exactly like a missing window
    missing = to_global_id("Window", 10**12)
    r = (await gql(client, FILE_SWAP, {"i": {"windowId": missing, "valueYen": 1}}, stranger))["data"]["fileVehicleSwap"]
    assert r["userErrors"][0]["code"] == "WINDOW_NOT_FOUND"
    r = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, stranger))["data"]["reportVehicleAcquisition"]
    assert r["userErrors"][0]["code"] == "CONTRACT_NOT_FOUND"
    r = (await gql(client, HOUSEHOLD, {"i": {"contractId": c.cid, "event": "MARRIAGE", "eventOn": "2026-05-01",
                                             "partyId": c.party}}, stranger))["data"]["reportHouseholdEvent"]
    assert r["userErrors"][0]["code"] == "CONTRACT_NOT_FOUND"
    assert await snapshot(pool) == before
    # The policyholder files their own swap.
    ok = (await gql(client, FILE_SWAP, {"i": {"windowId": w["id"], "valueYen": 2500000}}, mine))["data"]["fileVehicleSwap"]
    assert ok["userErrors"] == [] and ok["change"]["outcome"]["code"] == "FULL", ok


async def _young_relative(client: httpx.AsyncClient, c: Customer) -> str:
    r = await gql(client, REGISTER_DRIVER, {"i": {"nameKanji": "鈴木 三郎", "birthDate": "2007-02-02",
                                                 "licenceColour": "GREEN", "licenceDate": "2026-05-01",
                                                 "accountPartyId": c.party}}, c.h)
    assert r["data"]["registerDriver"]["userErrors"] == [], r
    return str(r["data"]["registerDriver"]["party"]["id"])


@pytest.mark.parametrize(("filed", "state", "outcome"), [
    ((2026, 5, 31), "CONFIRMED", "FULL"),             # day 30 (002b L4110-4111; 001 L867-869)
    ((2026, 6, 1), "DOWNGRADED", "LIABILITY_ONLY"),   # day 31 (002b L4120-4122)
])
async def test_driver_change_window_confirmed_by_the_endorsement(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock,
        filed: tuple[int, int, int], state: str, outcome: str) -> None:
    c = await customer(client, pool, settings, clock)
    day(clock, 2026, 5, 2)
    young = await _young_relative(client, c)
    r = (await gql(client, HOUSEHOLD, {"i": {"contractId": c.cid, "event": "NEWLY_LICENSED", "eventOn": "2026-05-01",
                                             "partyId": young}}, c.h))["data"]["reportHouseholdEvent"]
    assert r["userErrors"] == [], r
    assert (r["window"]["kind"]["code"], r["window"]["householdEvent"]["code"], r["window"]["partyId"]) == (
        "DRIVER_CHANGE", "NEWLY_LICENSED", young)
    day(clock, *filed)
    e = (await gql(client, ENDORSE, {"i": {
        "contractId": c.cid, "expectedVersion": r["contract"]["lockVersion"],
        "effectiveDate": f"{filed[0]}-{filed[1]:02d}-{filed[2]:02d}",
        "changes": {"ageCondition": "ANY", "drivers": [{"action": "ADD", "partyId": young,
                                                        "relationship": "COHABITING_RELATIVE"}]}}}, c.h))["data"]["endorseContract"]
    assert e["userErrors"] == [], e
    (w,) = e["contract"]["windows"]
    assert (w["state"]["code"], w["outcome"]["code"]) == (state, outcome)


async def test_household_event_refusals_change_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    day(clock, 2026, 5, 2)
    young = await _young_relative(client, c)
    base = {"contractId": c.cid, "event": "NEW_HOUSEHOLD_MEMBER", "eventOn": "2026-05-01", "partyId": young}
    before = await snapshot(pool)
    for inp, code in [
        ({**base, "eventOn": "2026-05-03"}, "EVENT_IN_FUTURE"),
        ({**base, "eventOn": "2026-04-01"}, "EVENT_BEFORE_CONTRACT"),  # 002b L4114
        ({**base, "event": "MARRIAGE", "deFactoPartner": True}, "DE_FACTO_PARTNER_NOT_ELIGIBLE"),  # 002b L4115-4116
        ({**base, "event": "MARRIAGE", "relationship": "COHABITING_RELATIVE"}, "INVALID_RELATIONSHIP"),
        ({**base, "partyId": to_global_id("Party", 10**12)}, "PARTY_NOT_FOUND"),
    ]:
        out = (await gql(client, HOUSEHOLD, {"i": inp}, c.h))["data"]["reportHouseholdEvent"]
        assert out["change"] is None and out["userErrors"][0]["code"] == code, (code, out)
    assert await snapshot(pool) == before
