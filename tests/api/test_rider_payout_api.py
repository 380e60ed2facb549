"""Rider pay-outs over GraphQL: riderAssessment explains what a rider pays for a stated loss (and changes
nothing); recordClaimPayment with the same riderLoss pays exactly that and keeps the explanation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest

from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.claim_support import (
    PAY,
    REPORT,
    TRANSITION,
    book,
    holder_of,
    ok,
    report_input,
    snapshot,
    staff,
)
from tests.api.conftest import gql

ASSESS = """query($c: ID!, $r: String!, $l: RiderLossInput!, $p: String, $v: String) {
  riderAssessment(claimId: $c, rider: $r, loss: $l, person: $p, vehicle: $v) {
    userErrors { field code message }
    assessment { rider entitlementYen alreadyPaidYen payableYen source demonstration
                 parts { code amountYen } steps { part kind { code } en rule beforeYen afterYen } } } }"""

PAYMENTS = """query($id: ID!) { claim(id: $id) { lines { coverage paidYen limits { basis { code } amountYen }
  payments { amountYen vehicle note assessment { payableYen steps { kind { code } rule beforeYen afterYen } } } } } }"""

CLAIMED = ["BI", "TEMPORARY_BI_EXPENSE", "PD", "EXCESS_REPAIR", "VEHICLE"]
# 001 L272: (repair − market value) × fault ratio, at most ¥500,000; one yen over the cap
OVER_CAP = {"lossYen": 1_500_001, "marketValueYen": 1_000_000, "faultPercent": 100, "repairedOn": "2026-07-01"}


@pytest.fixture(autouse=True)
def june(clock: ManualClock) -> None:
    clock.set(datetime(2026, 6, 10, 12, 0, tzinfo=JST))


async def assess(client: httpx.AsyncClient, h: dict[str, str], claim: str, rider: str, loss: dict[str, Any],
                 person: str | None = None, vehicle: str | None = None) -> dict[str, Any]:
    r = await gql(client, ASSESS, {"c": claim, "r": rider, "l": loss, "p": person, "v": vehicle}, h)
    assert "errors" not in r, r
    return r["data"]["riderAssessment"]  # type: ignore[no-any-return]


async def test_assessment_then_payment_of_the_excess_repair_rider(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                  settings: Settings) -> None:
    b = await book(pool)
    h = staff(settings)
    cid = (await ok(client, REPORT, report_input(b, coveragesClaimed=CLAIMED), h))["claim"]["id"]
    for action in ("REVIEW", "APPROVE"):
        await ok(client, TRANSITION, {"claimId": cid, "action": action}, h)

    before = await snapshot(pool)
    missing = await assess(client, h, cid, "EXCESS_REPAIR", OVER_CAP)
    assert missing["assessment"] is None and missing["userErrors"][0]["code"] == "VEHICLE_REQUIRED"
    a = (await assess(client, h, cid, "EXCESS_REPAIR", OVER_CAP, vehicle="other-car"))["assessment"]
    assert await snapshot(pool) == before              # a query: nothing stored
    assert (a["entitlementYen"], a["alreadyPaidYen"], a["payableYen"]) == (500_000, 0, 500_000)
    cap = next(s for s in a["steps"] if s["kind"]["code"] == "CAP")
    assert (cap["beforeYen"], cap["afterYen"], cap["rule"]) == (500_001, 500_000, "001 L272, L1089")
    assert any("PD pays this accident" in s["en"] for s in a["steps"])

    # the payment with the same stated loss pays exactly the assessment, and keeps its explanation
    pay = {"claimId": cid, "coverage": "EXCESS_REPAIR", "riderLoss": OVER_CAP, "vehicle": "other-car"}
    assert (await ok(client, PAY, pay, h))["paidYen"] == 500_000
    lines = (await gql(client, PAYMENTS, {"id": cid}, h))["data"]["claim"]["lines"]
    er = next(x for x in lines if x["coverage"] == "EXCESS_REPAIR")
    assert er["limits"] == [{"basis": {"code": "PER_VEHICLE"}, "amountYen": 500_000}]
    p = er["payments"][0]
    assert p["amountYen"] == 500_000 and "capped at ¥500,000 per vehicle" in p["note"]
    assert p["assessment"]["payableYen"] == 500_000
    assert [s["kind"]["code"] for s in p["assessment"]["steps"]][-2:] == ["CAP", "TOTAL"]

    # stated again: already paid, nothing more; paying again answers NOTHING_PAYABLE
    again = (await assess(client, h, cid, "EXCESS_REPAIR", OVER_CAP, vehicle="other-car"))["assessment"]
    assert (again["alreadyPaidYen"], again["payableYen"]) == (500_000, 0)
    # a person's name on a per-vehicle rule opens no fresh allowance: the vehicle is asked for
    named = await assess(client, h, cid, "EXCESS_REPAIR", OVER_CAP, person="someone")
    assert named["assessment"] is None and named["userErrors"][0]["code"] == "VEHICLE_REQUIRED"
    both = (await assess(client, h, cid, "EXCESS_REPAIR", OVER_CAP, person="someone", vehicle="other-car"))
    assert (both["assessment"]["alreadyPaidYen"], both["assessment"]["payableYen"]) == (500_000, 0)
    r = await gql(client, PAY, {"i": pay}, h)
    assert r["data"]["recordClaimPayment"]["userErrors"][0]["code"] == "NOTHING_PAYABLE"

    # 対人臨時費用: ¥150,000 per deceased victim (001 L1086)
    bi = await ok(client, PAY, {"claimId": cid, "coverage": "TEMPORARY_BI_EXPENSE", "riderLoss": {"outcome": "DEATH"},
                                "person": "victim-1"}, h)
    assert bi["paidYen"] == 150_000


async def test_assessment_refusals(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    b = await book(pool)
    h = staff(settings)
    cid = (await ok(client, REPORT, report_input(b, coveragesClaimed=CLAIMED), h))["claim"]["id"]

    async def code(rider: str, loss: dict[str, Any], hh: dict[str, str] = h, **kw: Any) -> tuple[str, str]:
        out = await assess(client, hh, cid, rider, loss, **kw)
        assert out["assessment"] is None
        return out["userErrors"][0]["code"], out["userErrors"][0]["field"]

    assert await code("IN_CAR_BELONGINGS", {"lossYen": 10_000}) == ("COVERAGE_NOT_APPLICABLE", "input.rider")
    assert (await code("NAMED_INSURED_ONLY", {}))[0] == "NO_PAYOUT_RULE"
    assert (await code("NOPE", {}))[0] == "UNKNOWN_COVERAGE"
    assert await code("PD", {"lossYen": -1}) == ("NEGATIVE_AMOUNT", "loss.lossYen")
    assert (await code("EXCESS_REPAIR", {"lossYen": 2, "marketValueYen": 1, "repairedOn": "2026-07-01"},
                       vehicle="x"))[0] == "FACT_REQUIRED"
    # another policyholder's claim looks missing
    other = await book(pool)
    assert (await code("PD", {"lossYen": 1}, holder_of(settings, other)))[0] == "CLAIM_NOT_FOUND"
    # the holder of the contract may see what a rider pays on their own claim
    mine = await assess(client, holder_of(settings, b), cid, "PD",
                        {"lossYen": 150_000_000, "cause": "HAZARDOUS_CARGO"})
    assert mine["assessment"]["payableYen"] == 100_000_000   # 001 L1088 (注1), PD unlimited
