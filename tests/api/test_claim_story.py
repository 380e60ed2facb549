"""The claim story over GraphQL: report → coverage decision → reserve → payment → classification.

A policyholder reports a rear-end collision on their rakuten contract; a claims handler reviews it,
reserves, approves and pays the vehicle damage; the claim becomes a 3-down accident for the next
renewal (004 L1595; 002b L4838) and the policyholder sees the payment but never the reserve.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx
import pytest

from domain.grade import GradeMarker, GradeRecord
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.claim_support import (
    CLAIM,
    PAY,
    REPORT,
    RESERVE,
    TRANSITION,
    book,
    holder_of,
    ok,
    report_input,
    staff,
)
from tests.api.conftest import gql

IMPACT = """query($id: ID!, $terms: Int!) { claimImpact(claimId: $id, terms: $terms) {
  estimate { accidentClass { code } amountYen breakEvenYen extraPremiumYen terms { index } }
  userErrors { field code message } } }"""


@pytest.fixture(autouse=True)
def june(clock: ManualClock) -> None:
    clock.set(datetime(2026, 6, 10, 12, 0, tzinfo=JST))


async def test_report_decide_reserve_pay_classify(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                  settings: Settings) -> None:
    b = await book(pool)
    customer, handler = holder_of(settings, b), staff(settings)

    # 1. FNOL by the policyholder: covered at 2026-06-01 10:30 JST, inside the term (SPEC §4.1, §4.8)
    reported = await ok(client, REPORT, report_input(b), customer)
    claim = reported["claim"]
    assert claim["status"]["code"] == "REPORTED"
    assert claim["coverage"]["state"]["code"] == "COVERED"
    assert [r["code"] for r in claim["coverage"]["reasons"] if r["ok"]][:2] == ["CONTRACT_IN_FORCE", "VEHICLE_INSURED"]
    assert sorted(claim["coverage"]["applicable"]) == ["BI", "PD", "VEHICLE"]
    assert [ln["coverage"] for ln in claim["lines"]] == ["BI", "PD", "VEHICLE"]
    assert [a["code"] for a in claim["availableActions"]] == ["WITHDRAW"]   # a customer may only withdraw
    assert claim["reserveYen"] is None                                      # never for a policyholder
    cid = claim["id"]

    # 2. the handler reviews and reserves ¥500,000 on the vehicle line (limit: the car's value ¥1.8M)
    await ok(client, TRANSITION, {"claimId": cid, "action": "REVIEW"}, handler)
    r = await ok(client, RESERVE, {"claimId": cid, "coverage": "VEHICLE", "reserveYen": 500_000}, handler)
    vehicle = next(ln for ln in r["claim"]["lines"] if ln["coverage"] == "VEHICLE")
    assert vehicle["reserveYen"] == 500_000
    assert vehicle["limits"] == [{"basis": {"code": "PER_VEHICLE"}, "amountYen": 1_800_000}]

    # 3. approve and pay the settled loss: the reserve drops by what was paid, the claim is PAID
    await ok(client, TRANSITION, {"claimId": cid, "action": "APPROVE"}, handler)
    paid = await ok(client, PAY, {"claimId": cid, "coverage": "VEHICLE", "lossYen": 320_000,
                                  "vehicle": "insured-car"}, handler)
    assert paid["paidYen"] == 320_000
    c = paid["claim"]
    assert c["status"]["code"] == "PAID"
    assert c["paidYen"] == 320_000 and c["reserveYen"] == 180_000

    # 4. classification: vehicle damage by collision is a 3-down accident (004 L1593, L1595)
    assert c["gradeImpact"]["accidentClass"]["code"] == "THREE_DOWN"
    assert c["gradeImpact"]["counts"] is True
    kinds = [e["kind"] for e in c["events"]]
    assert kinds[:2] == ["REPORTED", "COVERAGE_DECIDED"]
    assert {"REVIEW", "APPROVE", "PAYMENT_RECORDED", "PAY", "GRADE_CLASS_CHANGED", "RESERVE_SET"} <= set(kinds)

    # the policyholder sees status, payment and class — not the reserve, notes or internal history
    seen = (await gql(client, CLAIM, {"id": cid}, customer))["data"]["claim"]
    assert seen["paidYen"] == 320_000 and seen["reserveYen"] is None
    assert all(ln["reserveYen"] is None for ln in seen["lines"])
    assert "RESERVE_SET" not in [e["kind"] for e in seen["events"]]
    assert all(e["actorSubject"] is None for e in seen["events"])
    assert seen["gradeImpact"]["accidentClass"]["code"] == "THREE_DOWN"

    # 5. claim or pay yourself? The advisor prices the next terms with and without this 3-down
    #    claim (SPEC §4.8): the extra premiums over the terms are the break-even payout.
    impact = (await gql(client, IMPACT, {"id": cid, "terms": 3}, customer))["data"]["claimImpact"]
    assert impact["userErrors"] == [], impact
    est = impact["estimate"]
    assert est["accidentClass"]["code"] == "THREE_DOWN" and est["amountYen"] == 500_000  # paid 320,000 + 180,000 still reserved
    assert len(est["terms"]) == 3 and est["breakEvenYen"] == est["extraPremiumYen"] > 0
    other = (await gql(client, IMPACT, {"id": cid, "terms": 3}, staff(settings)))["data"]["claimImpact"]
    assert other["estimate"] == est
    stranger = await book(pool)
    hidden = (await gql(client, IMPACT, {"id": cid, "terms": 3}, holder_of(settings, stranger)))["data"]["claimImpact"]
    assert hidden["estimate"] is None and [e["code"] for e in hidden["userErrors"]] == ["CLAIM_NOT_FOUND"]

    # 6. close
    closed = await ok(client, TRANSITION, {"claimId": cid, "action": "CLOSE"}, handler)
    assert closed["claim"]["status"]["code"] == "CLOSED"
    assert [a["code"] for a in closed["claim"]["availableActions"]] == ["REOPEN", "WITHDRAW"]


GRADE_PATHS = """query($id: ID!) { claimImpact(claimId: $id, terms: 3) {
  estimate { currentGrade { grade } otherAccidents { code }
    terms { withClaim { grade { grade } withAccidentPeriod } withoutClaim { grade { grade } withAccidentPeriod } } }
  userErrors { code } } }"""


async def test_claim_impact_counts_the_claim_once(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                  settings: Settings) -> None:
    """The advised-on claim is on the with-claim path only: at grade 6, one 3-down accident renews at 3
    then climbs 4, 5 (001 L775: down 3 per accident, up 1 per claim-free year; L789: the period is the
    grades dropped, one less each year); without it 7, 8, 9 with no accident period."""
    b = await book(pool, grade=GradeRecord(6, GradeMarker.F, 0))
    handler = staff(settings)
    cid = (await ok(client, REPORT, report_input(b), holder_of(settings, b)))["claim"]["id"]
    for action in ("REVIEW", "APPROVE"):
        await ok(client, TRANSITION, {"claimId": cid, "action": action}, handler)
    await ok(client, PAY, {"claimId": cid, "coverage": "VEHICLE", "lossYen": 320_000, "vehicle": "insured-car"}, handler)
    r = (await gql(client, GRADE_PATHS, {"id": cid}, handler))["data"]["claimImpact"]
    assert r["userErrors"] == [], r
    est = r["estimate"]
    assert est["currentGrade"]["grade"] == 6 and est["otherAccidents"] == []
    paths = [((t["withClaim"]["grade"]["grade"], t["withClaim"]["withAccidentPeriod"]),
              (t["withoutClaim"]["grade"]["grade"], t["withoutClaim"]["withAccidentPeriod"])) for t in est["terms"]]
    assert paths == [((3, 3), (7, 0)), ((4, 2), (8, 0)), ((5, 1), (9, 0))]
