"""One registration number on one live contract at a time (issue 12; migration 0018).

Refused with DUPLICATE_REGISTRATION, changing nothing, at quote, issue, vehicle-swap report and
filing; allowed for the contract's own renewal and swap, after the other contract ended, and from
the moment the other's cover ends. The database holds the rule too, whoever writes.
"""

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
from tests.api.test_contract_mutations import (
    CANCEL,
    ISSUE,
    QUOTE,
    REGISTER_VEHICLE,
    agent,
    bearer,
    quote_input,
    setup_customer,
    snapshot,
)
from tests.api.test_window_mutations import FILE_SWAP, REPORT_SWAP, customer, day, swap_input
from tests.factories import unique

REINSTATE = """mutation($i: ReinstateContractInput!) { reinstateContract(input: $i) {
  contract { statuses { code } } userErrors { field code message } } }"""
CANCEL_WITH_LOCK = CANCEL.replace("contract { statuses { code }", "contract { lockVersion statuses { code }")


@pytest.fixture(autouse=True)
def business_day(clock: ManualClock) -> None:
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))


async def _car(client: httpx.AsyncClient, h: dict[str, str], party: str, number: str) -> str:
    r = await gql(client, REGISTER_VEHICLE, {"i": {
        "useType": "PRIVATE_STANDARD_PASSENGER", "registrationNo": number, "firstRegistration": "2019-04",
        "modelRelease": "2018-10", "ratingClasses": [{"group": "BI", "class": 5}, {"group": "PD", "class": 6},
                                                     {"group": "INJURY", "class": 4}, {"group": "VEHICLE", "class": 7}],
        "valueYen": 2000000, "ownerPartyId": party, "accountPartyId": party}}, h)
    assert r["data"]["registerVehicle"]["userErrors"] == [], r
    return str(r["data"]["registerVehicle"]["vehicle"]["id"])


async def _quote(client: httpx.AsyncClient, h: dict[str, str], party: str, car: str, **extra: Any) -> dict[str, Any]:
    return (await gql(client, QUOTE, {"i": quote_input(party, car, **extra)}, h))["data"]["createQuote"]


async def _issue(client: httpx.AsyncClient, h: dict[str, str], contract: dict[str, Any]) -> dict[str, Any]:
    return (await gql(client, ISSUE, {"i": {"contractId": contract["id"], "expectedVersion": contract["lockVersion"]}},
                      h))["data"]["issueContract"]


def _codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def test_a_number_on_a_live_contract_is_refused_at_quote_and_issue(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = await agent(pool, settings)
    party, _ = await setup_customer(client, h)
    digits = unique("")[-4:].rjust(4, "0")
    first = await _car(client, h, party, f"品川300さ{digits}")
    # the same plate typed another way (spaces, full-width digits, a hyphen) is the same number
    fullwidth = "".join(chr(ord(d) + 0xFEE0) for d in digits)
    twin = await _car(client, h, party, f"品川 300 さ {fullwidth[:2]}－{fullwidth[2:]}")
    a, b = await _quote(client, h, party, first), await _quote(client, h, party, twin)
    assert a["userErrors"] == b["userErrors"] == []  # two quotes on one car: shopping is free
    assert _issue_ok(await _issue(client, h, a["contract"]))

    before = await snapshot(pool)
    again = await _quote(client, h, party, twin)
    assert _codes(again) == ["DUPLICATE_REGISTRATION"] and again["contract"] is None
    assert again["userErrors"][0]["field"] == "input.vehicleId"
    assert a["change"]["policyNumber"] in again["userErrors"][0]["message"]  # the agency sees its own contract
    late = await _issue(client, h, b["contract"])
    assert _codes(late) == ["DUPLICATE_REGISTRATION"] and late["contract"] is None
    assert await snapshot(pool) == before

    # another agency's agent is told the car is insured, not by which contract
    other = await agent(pool, settings)
    stranger, _ = await setup_customer(client, other)
    theirs = await _car(client, other, stranger, f"品川300さ{digits}")
    refused = await _quote(client, other, stranger, theirs)
    assert _codes(refused) == ["DUPLICATE_REGISTRATION"]
    assert a["change"]["policyNumber"] not in refused["userErrors"][0]["message"]
    assert "another live contract" in refused["userErrors"][0]["message"]


def _issue_ok(payload: dict[str, Any]) -> bool:
    assert payload["userErrors"] == [], payload
    return True


async def test_free_again_after_the_contract_ends_or_from_its_expiry(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = await agent(pool, settings)
    party, car = await setup_customer(client, h)
    a = await _quote(client, h, party, car)
    issued = await _issue(client, h, a["contract"])
    assert _issue_ok(issued)
    # a contract starting the moment the other's cover ends (switching products at expiry) is fine
    after = await _quote(client, h, party, car, startDate="2027-04-10")
    assert after["userErrors"] == [], after
    overlapping = await _quote(client, h, party, car, startDate="2027-04-09")
    assert _codes(overlapping) == ["DUPLICATE_REGISTRATION"]

    cancel = (await gql(client, CANCEL_WITH_LOCK, {"i": {"contractId": a["contract"]["id"],
                                               "expectedVersion": issued["contract"]["lockVersion"],
                                               "effectiveDate": "2026-04-20", "reason": "sold the car"}}, h))
    assert cancel["data"]["cancelContract"]["userErrors"] == [], cancel
    b = await _quote(client, h, party, car)
    assert b["userErrors"] == [], b
    assert _issue_ok(await _issue(client, h, b["contract"]))

    # reinstating the cancelled contract would put the car on two live contracts: the database
    # refuses it (no service pre-check on this path) and the mutation answers the same code
    lock = cancel["data"]["cancelContract"]["contract"]["lockVersion"]
    before = await snapshot(pool)
    r = (await gql(client, REINSTATE, {"i": {"contractId": a["contract"]["id"], "expectedVersion": lock,
                                             "reason": "customer changed their mind"}}, bearer(settings, Role.STAFF)))
    assert _codes(r["data"]["reinstateContract"]) == ["DUPLICATE_REGISTRATION"], r
    assert await snapshot(pool) == before


async def test_a_swap_frees_the_old_car_and_cannot_take_an_insured_one(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)
    other = await customer(client, pool, settings, clock)  # its own contract on its own car
    day(clock, 2026, 5, 3)
    taken = (await gql(client, REPORT_SWAP, {"i": swap_input(c, vehicleId=other.old_car)}, bearer(settings, Role.STAFF)))
    assert _codes(taken["data"]["reportVehicleAcquisition"]) == ["DUPLICATE_REGISTRATION"]

    w = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, c.h))["data"]["reportVehicleAcquisition"]
    assert w["userErrors"] == [], w
    # the certificate shows a plate that another live contract holds: refused, nothing filed
    plate = await pool.fetchval("SELECT registration_no FROM vehicles WHERE id = $1", _db_id(other.old_car))
    before = await snapshot(pool)
    bad = (await gql(client, FILE_SWAP, {"i": {"windowId": w["window"]["id"], "valueYen": 2800000,
                                               "registrationNo": plate}}, c.h))["data"]["fileVehicleSwap"]
    assert _codes(bad) == ["DUPLICATE_REGISTRATION"] and bad["userErrors"][0]["field"] == "input.registrationNo"
    assert await snapshot(pool) == before
    filed = (await gql(client, FILE_SWAP, {"i": {"windowId": w["window"]["id"], "valueYen": 2800000}}, c.h))
    assert filed["data"]["fileVehicleSwap"]["userErrors"] == [], filed

    # the old car is free from the swap's effective moment (1 May): a new contract may take it
    day(clock, 2026, 6, 1)
    old = await _quote(client, c.h, c.party, c.old_car, startDate="2026-06-10")
    assert old["userErrors"] == [], old
    assert _issue_ok(await _issue(client, c.h, old["contract"]))
    # and the new car is now held by the swapped contract
    again = await _quote(client, c.h, c.party, c.new_car, startDate="2026-06-10")
    assert _codes(again) == ["DUPLICATE_REGISTRATION"]


def _db_id(gid: str) -> int:
    from api.node import from_global_id

    decoded = from_global_id(gid)
    assert decoded is not None
    return decoded[1]


async def test_the_database_refuses_a_second_live_holder_whoever_writes(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = await agent(pool, settings)
    party, car = await setup_customer(client, h)
    a, b = await _quote(client, h, party, car), await _quote(client, h, party, car)
    assert _issue_ok(await _issue(client, h, a["contract"]))
    second = _db_id(b["contract"]["id"])
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.ExclusionViolationError) as info:
            async with conn.transaction():
                await conn.execute("UPDATE terms SET status = 'SCHEDULED' WHERE contract_id = $1", second)
                await conn.execute("UPDATE contracts SET statuses = '{IN_FORCE}' WHERE id = $1", second)
        assert info.value.constraint_name == "registration_once"
        holds = await conn.fetch("SELECT contract_id FROM registration_holds WHERE reg_key = "
                                 "(SELECT registration_key(registration_no) FROM vehicles WHERE id = $1)", _db_id(car))
    assert [r["contract_id"] for r in holds] == [_db_id(a["contract"]["id"])]


async def test_a_renewal_keeps_its_own_car(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    """The same contract's next term holds the same number: refreshed, never refused."""
    h = await agent(pool, settings)
    party, car = await setup_customer(client, h)
    a = await _quote(client, h, party, car)
    assert _issue_ok(await _issue(client, h, a["contract"]))
    cid = _db_id(a["contract"]["id"])
    async with pool.acquire() as conn, conn.transaction():
        ends = await conn.fetchval("SELECT ends_at FROM terms WHERE contract_id = $1", cid)
        await conn.execute(
            """INSERT INTO terms (contract_id, term_no, starts_at, ends_at, status, created_at)
               VALUES ($1, 2, $2::timestamptz, $2::timestamptz + interval '1 year', 'SCHEDULED', now())""", cid, ends)
        cover = await conn.fetchval("SELECT cover::text FROM registration_holds WHERE contract_id = $1", cid)
    assert cover.count("[") == 1 and "2028-04-10" in cover  # one merged range over both terms
