"""aioi and tokio riders over GraphQL: a claim opens their lines, riderAssessment explains them with the
pamphlet line and recordClaimPayment pays exactly that (004 L554-557, L624; 002 L2764-2765, L2851-2853)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from api.node import to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from domain.vocab import Channel
from tests.api.claim_support import PAY, REPORT, TRANSITION, ok, staff
from tests.api.conftest import gql
from tests.api.test_rider_payout_api import ASSESS
from tests.integration.test_assistance_service import store_contract
from tests.unit.test_rating_support import AIOI, TOKIO, base_quote, with_facts


@pytest.fixture(autouse=True)
def june(clock: ManualClock) -> None:
    clock.set(datetime(2026, 6, 10, 12, 0, tzinfo=JST))


async def claim_on(client: httpx.AsyncClient, pool: asyncpg.Pool, h: dict[str, str], q: Any, channel: Channel,
                   claimed: list[str]) -> str:
    cid, holder, _ = await store_contract(pool, q, channel)
    async with pool.acquire() as conn:
        vehicle = await conn.fetchval("SELECT vehicle_id FROM contract_versions WHERE contract_id = $1", cid)
    report = {"contractId": to_global_id("Contract", cid), "accidentAt": "2026-06-01T10:30:00+09:00",
              "place": "東京都港区芝公園4-2", "vehicleId": to_global_id("Vehicle", vehicle),
              "driverId": to_global_id("Party", holder), "description": "追突事故 rear-end collision",
              "otherParties": [{"name": "佐藤 次郎", "vehicleRegistrationNo": "品川500あ1234", "faultPercent": 100}],
              "policeReportNo": "P-2026-0002", "coveragesClaimed": claimed, "vehicleCause": "COLLISION"}
    claim = (await ok(client, REPORT, report, h))["claim"]["id"]
    for action in ("REVIEW", "APPROVE"):
        await ok(client, TRANSITION, {"claimId": claim, "action": action}, h)
    return claim  # type: ignore[no-any-return]


async def assess(client: httpx.AsyncClient, h: dict[str, str], claim: str, rider: str, loss: dict[str, Any],
                 person: str | None = None) -> dict[str, Any]:
    r = await gql(client, ASSESS, {"c": claim, "r": rider, "l": loss, "p": person, "v": None}, h)
    assert "errors" not in r, r
    return r["data"]["riderAssessment"]  # type: ignore[no-any-return]


async def test_tokio_hospital_assist_assessed_and_paid(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings) -> None:
    h = staff(settings)
    q = base_quote(TOKIO, start_date=date(2026, 4, 1))
    claim = await claim_on(client, pool, h, q, Channel.GROUP, ["BI", "PD", "PI", "HOSPITAL_SELECT_ASSIST"])
    # 004 L554: ¥100,000 on day 3 + ¥10,000 a further day: 10 days → ¥170,000
    a = (await assess(client, h, claim, "HOSPITAL_SELECT_ASSIST", {"lossYen": 170_001, "days": 10},
                      person="driver"))["assessment"]
    assert (a["entitlementYen"], a["payableYen"], a["source"]) == (170_000, 170_000, "004 L540-560, L1150")
    cap = next(s for s in a["steps"] if s["kind"]["code"] == "CAP" and s["beforeYen"] != s["afterYen"])
    assert (cap["beforeYen"], cap["afterYen"], cap["rule"]) == (170_001, 170_000, "004 L554")
    paid = await ok(client, PAY, {"claimId": claim, "coverage": "HOSPITAL_SELECT_ASSIST", "person": "driver",
                                  "riderLoss": {"lossYen": 170_001, "days": 10}}, h)
    assert paid["paidYen"] == 170_000
    # two days in hospital: nothing (3 days or more, L554)
    short = (await assess(client, h, claim, "HOSPITAL_SELECT_ASSIST", {"lossYen": 50_000, "days": 2},
                          person="passenger"))["assessment"]
    assert short["payableYen"] == 0


async def test_aioi_temporary_bi_and_remote_victim(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                   settings: Settings) -> None:
    h = staff(settings)
    q = with_facts(replace(base_quote(AIOI, start_date=date(2026, 4, 1)), riders=("TEMPORARY_BI_EXPENSE",)),
                   telematics_plan=True)
    claim = await claim_on(client, pool, h, q, Channel.AGENT, ["BI", "TEMPORARY_BI_EXPENSE", "REMOTE_VICTIM_EXPENSE"])
    # 002 L2764-2765: ¥200,000 per deceased victim
    bi = await ok(client, PAY, {"claimId": claim, "coverage": "TEMPORARY_BI_EXPENSE", "person": "victim-1",
                                "riderLoss": {"outcome": "DEATH"}}, h)
    assert bi["paidYen"] == 200_000
    # 002 L2851-2853: ≤ ¥20,000 per victim, ≥ 100 km (the rider is automatic with telematics, 注3)
    far = (await assess(client, h, claim, "REMOTE_VICTIM_EXPENSE",
                        {"lossYen": 25_000, "outcome": "DEATH", "distanceKm": 100}, person="victim-1"))["assessment"]
    assert far["payableYen"] == 20_000
    near = (await assess(client, h, claim, "REMOTE_VICTIM_EXPENSE",
                         {"lossYen": 25_000, "outcome": "DEATH", "distanceKm": 99}, person="victim-1"))["assessment"]
    assert near["payableYen"] == 0


async def test_connected_plan_driving_premium(client: httpx.AsyncClient) -> None:
    """002 L1624-1628, L1840-1850: km × the (DEMONSTRATION) unit rate, the month's score discount, the 20,000 km cap."""
    q = """{ product(id: "aioi-tough-biz") { connectedPlan { demonstration annualKmCap unitRateYenPerKm
              high: drivingPremium(km: 1000, score: 80) { kmCharged grossYen discount amountYen }
              capped: drivingPremium(km: 1001, score: 59, kmBeforeInYear: 19000) { kmCharged amountYen explanation }
              bad: drivingPremium(km: 10, score: 101) { amountYen } } }
            rakuten: product(id: "rakuten-drive-assist") { connectedPlan { annualKmCap } } }"""
    body = await gql(client, q)
    assert "errors" not in body, body
    plan = body["data"]["product"]["connectedPlan"]
    assert (plan["demonstration"], plan["annualKmCap"], plan["unitRateYenPerKm"]) == (True, 20_000, "3")
    assert plan["high"] == {"kmCharged": 1000, "grossYen": 3000, "discount": "0.80", "amountYen": 600}
    assert (plan["capped"]["kmCharged"], plan["capped"]["amountYen"]) == (1000, 3000)
    assert any("not charged" in line for line in plan["capped"]["explanation"])
    assert plan["bad"] is None
    assert body["data"]["rakuten"]["connectedPlan"] is None
