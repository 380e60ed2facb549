"""What a claim takes from the windows around it, found by the scenario stories (tests/scenarios/):

- a claim on a newly acquired car, reported while its swap window is open, is insured at the car's
  value at acquisition once the swap is filed (002b L4145): the vehicle line's limit follows the
  version the filing wrote (the line opened at the report used to keep the vehicles row's value);
- a driver a household event reported as a cohabiting relative stays one when the accident report
  leaves the relationship out (it used to fall back to OTHER, covered at any age, SPEC §4.5)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx

from api.node import db_id_of
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.claim_support import CLAIM, REPORT, ok, staff
from tests.api.conftest import gql
from tests.api.test_window_mutations import (
    FILE_SWAP,
    HOUSEHOLD,
    REPORT_SWAP,
    _young_relative,
    customer,
    day,
    swap_input,
)
from tests.factories import pay_all_instalments


async def test_vehicle_line_takes_the_value_at_acquisition(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                           settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)   # the new car is registered at ¥3,000,000
    contract_id = db_id_of(c.cid, "Contract")
    assert contract_id is not None
    await pay_all_instalments(pool, contract_id, clock.now())
    day(clock, 2026, 5, 3)
    w = (await gql(client, REPORT_SWAP, {"i": swap_input(c)}, c.h))["data"]["reportVehicleAcquisition"]["window"]
    report = {"contractId": c.cid, "accidentAt": "2026-05-02T10:00:00+09:00", "place": "東京都港区",
              "vehicleId": c.new_car, "driverId": c.party, "description": "collision with the new car",
              "coveragesClaimed": ["VEHICLE"], "vehicleCause": "COLLISION"}
    h = staff(settings)
    pending = (await ok(client, REPORT, report, h))["claim"]
    assert pending["coverage"]["state"]["code"] == "COVERAGE_PENDING"
    assert pending["lines"][0]["limits"][0]["amountYen"] == 3_000_000    # the registered value, for now

    day(clock, 2026, 5, 20)
    filed = (await gql(client, FILE_SWAP, {"i": {"windowId": w["id"], "valueYen": 2_800_000}}, c.h))
    assert filed["data"]["fileVehicleSwap"]["userErrors"] == [], filed
    waiting = (await gql(client, CLAIM, {"id": pending["id"]}, h))["data"]["claim"]
    assert waiting["coverage"]["state"]["code"] == "COVERAGE_PENDING"  # the extra premium first (002b L4143)
    await pay_all_instalments(pool, contract_id, clock.now())
    after = (await gql(client, CLAIM, {"id": pending["id"]}, h))["data"]["claim"]
    assert after["coverage"]["state"]["code"] == "COVERED"
    (line,) = after["lines"]
    assert line["limits"] == [{"basis": {"code": "PER_VEHICLE"}, "amountYen": 2_800_000}]   # 002b L4145


async def test_an_ordinary_claim_keeps_the_rated_value(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)   # the insured car: ¥2,000,000 as quoted
    contract_id = db_id_of(c.cid, "Contract")
    assert contract_id is not None
    await pay_all_instalments(pool, contract_id, clock.now())
    clock.set(datetime(2026, 5, 3, 10, 0, tzinfo=JST))
    report = {"contractId": c.cid, "accidentAt": "2026-05-02T10:00:00+09:00", "place": "東京都港区",
              "vehicleId": c.old_car, "driverId": c.party, "description": "collision",
              "coveragesClaimed": ["VEHICLE"], "vehicleCause": "COLLISION"}
    claim = (await ok(client, REPORT, report, staff(settings)))["claim"]
    assert claim["coverage"]["state"]["code"] == "COVERED"
    assert claim["lines"][0]["limits"] == [{"basis": {"code": "PER_VEHICLE"}, "amountYen": 2_000_000}]


async def test_a_reported_household_member_is_no_stranger(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                          settings: Settings, clock: ManualClock) -> None:
    c = await customer(client, pool, settings, clock)   # aioi, drivers aged 26 and over
    contract_id = db_id_of(c.cid, "Contract")
    assert contract_id is not None
    await pay_all_instalments(pool, contract_id, clock.now())
    day(clock, 2026, 5, 2)
    young = await _young_relative(client, c)          # 19, licensed 1 May 2026
    r = (await gql(client, HOUSEHOLD, {"i": {"contractId": c.cid, "event": "NEWLY_LICENSED", "eventOn": "2026-05-01",
                                             "partyId": young}}, c.h))["data"]["reportHouseholdEvent"]
    assert r["userErrors"] == [], r
    day(clock, 2026, 5, 5)
    report = {"contractId": c.cid, "accidentAt": "2026-05-04T10:00:00+09:00", "place": "東京都港区",
              "vehicleId": c.old_car, "driverId": young, "description": "the son hit a wall",
              "coveragesClaimed": ["VEHICLE"], "vehicleCause": "COLLISION"}
    claim = (await ok(client, REPORT, report, staff(settings)))["claim"]
    # 002b L4130-4131: a cohabiting relative under the age condition waits for the window ...
    assert claim["coverage"]["state"]["code"] == "COVERAGE_PENDING"
    assert claim["coverage"]["waitingFor"] == ["DRIVER_CHANGE_WINDOW_PENDING"]
    # ... and the reporter's own word still wins: a friend of the family is covered at any age.
    friend = (await ok(client, REPORT, {**report, "driverRelationship": "OTHER"}, staff(settings)))["claim"]
    assert friend["coverage"]["state"]["code"] == "COVERED"
