"""requestRoadAssistance / requestAccidentSiteAttendance over GraphQL: each product's limits with
their pamphlet lines (001 §7.4, 002b, 003, 004 §7.3, 000), refusals that change nothing (md5
snapshot), dry runs, idempotency, scope, and Contract.assistanceRequests on the general path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import parse

from api.auth import Principal, Role
from api.compiled import answer
from api.context import Context
from api.node import to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from domain.vocab import Channel
from tests.api.conftest import gql
from tests.api.test_contract_mutations import bearer
from tests.factories import rated_contract, unique
from tests.integration.test_assistance_service import TABLES, store_contract
from tests.unit.test_rating_support import AIOI, KYOSAI, TOKIO, base_quote

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def mid_term(clock: ManualClock) -> None:
    clock.set(NOW)


ROAD = """mutation($i: RequestRoadAssistanceInput!) { requestRoadAssistance(input: $i) {
  request { databaseId kind { code en } termNo incident payableYen customerPaysYen requestedYen freeLitres
            chargeableKm limits notes persons { person requestedYen paidYen } gradeClass { code } guardTasks { code } }
  userErrors { field code message } dryRun replayed } }"""
SITE = """mutation($i: RequestAccidentSiteAttendanceInput!) { requestAccidentSiteAttendance(input: $i) {
  request { databaseId kind { code } payableYen guardTasks { code ja en } gradeClass { code } place }
  userErrors { field code message } dryRun } }"""
LIST = """query($id: ID!) { contract(id: $id) { policyNumber assistanceRequests {
  kind { code } incident payableYen gradeClass { code } } } }"""


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        return {t: await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x") for t in TABLES}


def staff(settings: Settings) -> dict[str, str]:
    return bearer(settings, Role.STAFF)


async def road(client: httpx.AsyncClient, h: dict[str, str], cid: int | str, kind: str, **kw: Any) -> dict[str, Any]:
    gid = cid if isinstance(cid, str) else to_global_id("Contract", cid)
    r = await gql(client, ROAD, {"i": {"contractId": gid, "kind": kind, "incident": kw.pop("incident", "i1"), **kw}}, h)
    assert "errors" not in r, r
    return r["data"]["requestRoadAssistance"]  # type: ignore[no-any-return]


def code(payload: dict[str, Any]) -> str:
    assert payload["request"] is None and payload["userErrors"], payload
    return payload["userErrors"][0]["code"]  # type: ignore[no-any-return]


async def test_rakuten_story_fuel_twice_via_agent_then_refused(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                settings: Settings) -> None:
    book = await rated_contract(pool)
    cid = book.created.contract.id
    h = bearer(settings, Role.AGENT, agency_id=book.agency_id)
    first = await road(client, h, cid, "FUEL", litres=12)
    assert first["userErrors"] == [] and first["request"]["freeLitres"] == 10        # 001 L941
    assert first["request"]["gradeClass"]["code"] == "NO_COUNT"                      # 001 L1070
    assert first["request"]["limits"] == ["FUEL_LITRES", "FUEL_DELIVERIES_AGENT"]
    assert (await road(client, h, cid, "FUEL", incident="i2"))["userErrors"] == []   # 001 L961: twice (agent)
    before = await snapshot(pool)
    third = await road(client, h, cid, "FUEL", incident="i3")
    assert code(third) == "ASSISTANCE_LIMIT_USED_UP" and third["userErrors"][0]["field"] == "input.kind"
    assert await snapshot(pool) == before
    listed = (await gql(client, LIST, {"id": to_global_id("Contract", cid)}, h))["data"]["contract"]
    assert [a["incident"] for a in listed["assistanceRequests"]] == ["i1", "i2"]


async def test_bad_input_gets_codes_and_changes_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                        settings: Settings) -> None:
    book = await rated_contract(pool)
    cid = book.created.contract.id
    h = staff(settings)
    assert (await road(client, h, cid, "TOWING", immobile=True, amountYen=200_000))["userErrors"] == []
    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "WHEEL_DROP", "amountYen": 1}, "ASSISTANCE_LIMIT_USED_UP"),            # 001 L893 cap used up
        ({"kind": "FUEL", "litres": -3, "incident": "n"}, "NEGATIVE_AMOUNT"),
        ({"kind": "LODGING", "immobile": True, "incident": "n",
          "persons": [{"person": "a", "amountYen": -1}]}, "NEGATIVE_AMOUNT"),
        ({"kind": "TRANSPORT_HOME", "immobile": True, "incident": "n", "distanceFromHomeKm": -5}, "NEGATIVE_AMOUNT"),
        ({"kind": "FUEL", "incident": "n", "occurredAt": "2026-03-01T10:00:00+09:00"}, "CONTRACT_NOT_IN_FORCE"),
        ({"kind": "FUEL", "incident": "n", "occurredAt": "2026-07-02T10:00:00+09:00"}, "OCCURRED_IN_FUTURE"),
        ({"kind": "FUEL", "incident": " "}, "INVALID_INCIDENT"),
        ({"kind": "TOWING", "incident": "n"}, "VEHICLE_NOT_IMMOBILE"),                    # 001 L891
        ({"kind": "FUEL", "incident": "n", "atHome": True}, "NOT_AT_HOME_PARKING"),       # 001 L942
        ({"kind": "PET_LODGING", "incident": "n", "immobile": True, "pet": "DOG"}, "PET_NEEDS_LODGING"),  # 001 L1015
    ]
    before = await snapshot(pool)
    for extra, expected in cases:
        assert code(await road(client, h, cid, **extra)) == expected, extra
    assert code(await road(client, h, to_global_id("Contract", 9_000_000_000), "FUEL")) == "CONTRACT_NOT_FOUND"
    assert code(await road(client, h, "garbage", "FUEL")) == "CONTRACT_NOT_FOUND"
    assert await snapshot(pool) == before


async def test_dry_run_and_idempotency(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    book = await rated_contract(pool)
    cid, h = book.created.contract.id, staff(settings)
    before = await snapshot(pool)
    dry = await road(client, h, cid, "BATTERY", dryRun=True)
    assert dry["dryRun"] is True and dry["request"]["kind"]["code"] == "BATTERY"
    assert await snapshot(pool) == before
    key = unique("key")
    first = await road(client, h, cid, "BATTERY", idempotencyKey=key)
    assert first["userErrors"] == [] and first["replayed"] is False
    after = await snapshot(pool)
    again = await road(client, h, cid, "BATTERY", idempotencyKey=key)
    assert again["replayed"] is True and again["request"] == first["request"]
    assert await snapshot(pool) == after
    other = await road(client, h, cid, "BATTERY", incident="other", idempotencyKey=key)
    assert code(other) == "IDEMPOTENCY_KEY_REUSED"


async def test_policyholder_isolation(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    mine = await rated_contract(pool)
    theirs = await rated_contract(pool)
    cid = mine.created.contract.id
    me = bearer(settings, Role.POLICYHOLDER, party_id=mine.policyholder.id)
    stranger = bearer(settings, Role.POLICYHOLDER, party_id=theirs.policyholder.id)
    other_agent = bearer(settings, Role.AGENT, agency_id=theirs.agency_id)
    assert (await road(client, me, cid, "LOCKOUT"))["userErrors"] == []
    before = await snapshot(pool)
    for h in (stranger, other_agent, {}):
        p = await road(client, h, cid, "BATTERY", incident="x")
        assert code(p) in ("CONTRACT_NOT_FOUND", "UNAUTHENTICATED")
        site = (await gql(client, SITE, {"i": {"contractId": to_global_id("Contract", cid), "incident": "x",
                                               "place": "?"}}, h))["data"]["requestAccidentSiteAttendance"]
        assert site["userErrors"][0]["code"] in ("CONTRACT_NOT_FOUND", "UNAUTHENTICATED")
        # another's contract (and its requests) reads as missing
        assert (await gql(client, LIST, {"id": to_global_id("Contract", cid)}, h))["data"]["contract"] is None
    assert code(await road(client, stranger, cid, "BATTERY", incident="x")) == "CONTRACT_NOT_FOUND"
    assert await snapshot(pool) == before
    mine_listed = (await gql(client, LIST, {"id": to_global_id("Contract", cid)}, me))["data"]["contract"]
    assert [a["kind"]["code"] for a in mine_listed["assistanceRequests"]] == ["LOCKOUT"]


async def test_site_attendance_rakuten_only(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = staff(settings)
    book = await rated_contract(pool)
    gid = to_global_id("Contract", book.created.contract.id)
    r = (await gql(client, SITE, {"i": {"contractId": gid, "incident": "acc-1", "place": "首都高速 湾岸線",
                                        "immobile": True}}, h))["data"]["requestAccidentSiteAttendance"]
    assert r["userErrors"] == [], r
    # 000 L47-66: the guard secures the scene, hears and reports, photographs; road assistance if immobile
    assert [t["code"] for t in r["request"]["guardTasks"]] == [
        "SECURE_SCENE", "HEAR_AND_REPORT", "RECORD_PHOTOS", "REQUEST_ROAD_ASSISTANCE"]
    assert r["request"]["payableYen"] == 0 and r["request"]["gradeClass"]["code"] == "NO_COUNT"  # 000 L46
    tokio, _, _ = await store_contract(pool, base_quote(TOKIO, start_date=date(2026, 4, 1)), Channel.GROUP)
    before = await snapshot(pool)
    breakdown = (await gql(client, SITE, {"i": {"contractId": gid, "incident": "b", "place": "x", "accident": False}},
                           h))["data"]["requestAccidentSiteAttendance"]
    assert breakdown["userErrors"][0]["code"] == "NOT_AN_ACCIDENT"                                # 000 L34-37
    other = (await gql(client, SITE, {"i": {"contractId": to_global_id("Contract", tokio), "incident": "t",
                                            "place": "x"}}, h))["data"]["requestAccidentSiteAttendance"]
    assert other["userErrors"][0]["code"] == "ASSISTANCE_NOT_OFFERED"
    assert await snapshot(pool) == before
    events = await pool.fetch("SELECT kind FROM events WHERE contract_id = $1 ORDER BY seq", book.created.contract.id)
    assert events[-1]["kind"] == "SITE_ATTENDANCE_DISPATCHED"


async def test_tokio_limits(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = staff(settings)
    cid, _, _ = await store_contract(pool, base_quote(TOKIO, start_date=date(2026, 4, 1)), Channel.GROUP)
    batt = await road(client, h, cid, "BATTERY", amountYen=20_000)
    tow = await road(client, h, cid, "TOWING", immobile=True, amountYen=140_000)
    # 004 L766-790: towing and emergency response ¥150,000 per event combined
    assert (batt["request"]["payableYen"], tow["request"]["payableYen"], tow["request"]["customerPaysYen"]) == \
        (20_000, 130_000, 10_000)
    assert (await road(client, h, cid, "FUEL", incident="f1"))["request"]["freeLitres"] == 10   # 004 L804
    assert code(await road(client, h, cid, "FUEL", incident="f2")) == "ASSISTANCE_LIMIT_USED_UP"  # 004 L806: once
    # 004 L776 (*2): towing to a destination approved in advance has no limit
    tow = (await road(client, h, cid, "TOWING", incident="t9", immobile=True, preApproved=True,
                      amountYen=300_000))["request"]
    assert (tow["payableYen"], tow["customerPaysYen"]) == (300_000, 0)


async def test_aioi_needs_the_rider_and_counts_fuel_once(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                          settings: Settings) -> None:
    h = staff(settings)
    without, _, _ = await store_contract(pool, base_quote(AIOI, start_date=date(2026, 4, 1)), Channel.AGENT)
    assert code(await road(client, h, without, "FUEL")) == "RIDER_NOT_HELD"                    # 002b L3716-3718
    cid, _, _ = await store_contract(pool, base_quote(AIOI, start_date=date(2026, 4, 1), riders=("ROAD_SERVICE",)),
                                     Channel.AGENT)
    assert (await road(client, h, cid, "FUEL"))["request"]["freeLitres"] == 10                 # 002b L3759-3762
    assert code(await road(client, h, cid, "FUEL", incident="i2")) == "ASSISTANCE_LIMIT_USED_UP"
    # 002 L3762: at the home car park the fuel is charged, not refused
    home = (await road(client, h, cid, "FUEL", incident="i3", atHome=True, litres=10))["request"]
    assert (home["freeLitres"], home["payableYen"], home["limits"]) == (0, 0, [])


async def test_aioi_multi_car_fuel_and_jaf(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    """002 L3759-3760: no count on free fuel for a multi-car (まとめて割引) contract; 002 L3792-3802:
    ¥4,000 of the extra cost once a period for a JAF member served by JAF."""
    h = staff(settings)
    q = base_quote(AIOI, start_date=date(2026, 4, 1), riders=("ROAD_SERVICE",))
    q = replace(q, discounts=replace(q.discounts, multi_car_count=3))
    cid, _, _ = await store_contract(pool, q, Channel.AGENT)
    for i in range(3):
        assert (await road(client, h, cid, "FUEL", incident=f"f{i}"))["request"]["freeLitres"] == 10
    jaf = (await road(client, h, cid, "BATTERY", incident="b1", viaJaf=True, extraYen=4_500))["request"]
    assert (jaf["payableYen"], jaf["customerPaysYen"]) == (4_000, 500) and "JAF_EXCESS" in jaf["limits"]
    again = (await road(client, h, cid, "BATTERY", incident="b2", viaJaf=True, extraYen=1_000))["request"]
    assert (again["payableYen"], again["customerPaysYen"]) == (0, 1_000)


async def test_kyosai_towing_and_distance_conditions(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                     settings: Settings) -> None:
    h = staff(settings)
    q = base_quote(KYOSAI, start_date=date(2026, 4, 1), riders=("VEHICLE_ACCIDENT", "ROAD_SERVICE"))
    cid, _, _ = await store_contract(pool, q, Channel.AGENT)
    tow = await road(client, h, cid, "TOWING", immobile=True, towKm=22)
    assert tow["request"]["chargeableKm"] == 7                                                 # 003 L139-141: 15 km
    assert code(await road(client, h, cid, "TOWING", immobile=True)) == "ASSISTANCE_LIMIT_USED_UP"   # once
    # 003 L176-177: lodging only 100 km or more from home; ¥15,000 per person
    assert code(await road(client, h, cid, "LODGING", incident="far", immobile=True, distanceFromHomeKm=80,
                            persons=[{"person": "a", "amountYen": 12_000}])) == "TOO_CLOSE_TO_HOME"
    far = await road(client, h, cid, "LODGING", incident="far", immobile=True, distanceFromHomeKm=120, nights=1,
                     persons=[{"person": "a", "amountYen": 18_000}, {"person": "b", "amountYen": 9_000}])
    assert far["request"]["persons"] == [{"person": "a", "requestedYen": 18_000, "paidYen": 15_000},
                                         {"person": "b", "requestedYen": 9_000, "paidYen": 9_000}]


async def test_cancelled_contract_is_not_in_force_after_cancellation(
    client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock
) -> None:
    from tests.api.test_contract_mutations import CANCEL, _in_force, agent

    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))
    h = await agent(pool, settings)
    c = await _in_force(client, h)    # aioi from 2026-04-10, without the road-service rider
    r = await gql(client, CANCEL, {"i": {"contractId": c["id"], "expectedVersion": c["lockVersion"],
                                         "effectiveDate": "2026-06-01", "reason": "sold"}}, h)
    assert r["data"]["cancelContract"]["userErrors"] == [], r
    clock.set(NOW)
    before = await snapshot(pool)
    assert code(await road(client, h, c["id"], "FUEL")) == "CONTRACT_NOT_IN_FORCE"
    # before the cancellation it was in force: the rider decides (002b L3716-3718)
    assert code(await road(client, h, c["id"], "FUEL", occurredAt="2026-05-01T10:00:00+09:00")) == "RIDER_NOT_HELD"
    assert await snapshot(pool) == before


async def test_assistance_requests_take_the_general_path(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                         settings: Settings) -> None:
    """A selection with assistanceRequests does not compile (api/compiled.py) and still answers."""
    book = await rated_contract(pool)
    h = staff(settings)
    await road(client, h, book.created.contract.id, "TYRE")
    q = """query($id: ID!) { contract(id: $id) { policyNumber assistanceRequests { kind { code ja en } } } }"""
    ctx = Context(request=None, response=None, pool=pool, clock=ManualClock(NOW), settings=settings,
                  request_id="t", principal=Principal("s", Role.STAFF))
    assert await answer(parse(q), None, {"id": to_global_id("Contract", book.created.contract.id)}, ctx) is None
    data = (await gql(client, q, {"id": to_global_id("Contract", book.created.contract.id)}, h))["data"]["contract"]
    assert data["assistanceRequests"] == [{"kind": {"code": "TYRE", "ja": "スペアタイヤ交換", "en": "Spare-tyre change"}}]


def test_road_kinds_are_every_kind_but_the_guard() -> None:
    from api.claims.assistance_types import RoadKind
    from domain.products.model import AssistanceKind

    assert {k.value for k in RoadKind} == {k.value for k in AssistanceKind} - {"SITE_ATTENDANCE"}
