"""Claims over GraphQL: FNOL coverage at the 16:00 boundaries, bad input that changes nothing,
workflow, limits, grade class / override / withdrawal, documents, kyosai benefits, isolation."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from domain.services.claims.handling import term_claims
from domain.store.party_repo import NewParty, PartyKind, create_party
from domain.store.uow import UnitOfWork
from domain.vocab import LicenceColour
from tests.api.claim_support import (
    CLAIM,
    CLASSIFY,
    DOCS,
    KYOSAI,
    NOTE,
    PAY,
    REPORT,
    RESERVE,
    TRANSITION,
    agent_of,
    bearer,
    book,
    call,
    holder_of,
    ok,
    report_input,
    snapshot,
    staff,
)
from tests.api.conftest import gql
from tests.factories import Book


@pytest.fixture(autouse=True)
def june(clock: ManualClock) -> None:
    clock.set(datetime(2026, 6, 10, 12, 0, tzinfo=JST))


async def refused(client: httpx.AsyncClient, pool: asyncpg.Pool, doc: str, i: dict, h: dict[str, str]) -> str:
    """The code of a refusal, after checking that it changed nothing (md5 snapshot of the tables)."""
    before = await snapshot(pool)
    out = await call(client, doc, i, h)
    assert out["userErrors"], out
    assert out["claim"] is None
    assert await snapshot(pool) == before
    return out["userErrors"][0]["code"]  # type: ignore[no-any-return]


async def approved(client: httpx.AsyncClient, b: Book, settings: Settings, **extra: object) -> str:
    h = staff(settings)
    cid = (await ok(client, REPORT, report_input(b, **extra), h))["claim"]["id"]
    await ok(client, TRANSITION, {"claimId": cid, "action": "REVIEW"}, h)
    await ok(client, TRANSITION, {"claimId": cid, "action": "APPROVE"}, h)
    return cid  # type: ignore[no-any-return]


# --- FNOL: coverage at the accident moment -------------------------------------------------------

# SPEC §4.1; 002b L5239; 004 L1234: cover runs from 16:00 on the start date to 16:00 on the expiry
# date (the book's term: 2026-04-01 16:00 → 2027-04-01 16:00 JST)
@pytest.mark.parametrize(("at", "outcome"), [
    ("2026-04-01T15:59:00+09:00", "ACCIDENT_BEFORE_CONTRACT"),
    ("2026-04-01T16:00:00+09:00", "COVERED"),
    ("2026-04-01T07:00:00Z", "COVERED"),               # the same instant in UTC
    ("2027-04-01T15:59:00+09:00", "COVERED"),
    ("2027-04-01T16:00:00+09:00", "ACCIDENT_AFTER_CONTRACT"),
])
async def test_fnol_sixteen_hundred_boundaries(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                               clock: ManualClock, at: str, outcome: str) -> None:
    clock.set(datetime(2027, 5, 1, 9, 0, tzinfo=JST))
    b = await book(pool)
    i = report_input(b, at=at)
    if outcome == "COVERED":
        c = (await ok(client, REPORT, i, holder_of(settings, b)))["claim"]
        assert c["coverage"]["state"]["code"] == "COVERED"
        assert c["coverage"]["reasons"][0] == {"code": "CONTRACT_IN_FORCE", "ok": True,
                                               "ruleRef": "SPEC §4.1; 002b L5239; 004 L1234"}
    else:
        assert await refused(client, pool, REPORT, i, holder_of(settings, b)) == outcome


async def test_fnol_bad_input_changes_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                              settings: Settings) -> None:
    b, other = await book(pool), await book(pool)
    h = holder_of(settings, b)
    assert await refused(client, pool, REPORT, report_input(b, at="2026-06-11T09:00:00+09:00"), h) == "ACCIDENT_IN_FUTURE"
    # another customer's car looks missing; a car of one's own that the contract does not insure is refused
    assert await refused(client, pool, REPORT, {**report_input(b), "vehicleId": to_global_id("Vehicle", other.vehicle.id)},
                         h) == "VEHICLE_NOT_FOUND"
    assert await refused(client, pool, REPORT, {**report_input(b), "vehicleId": to_global_id("Vehicle", other.vehicle.id)},
                         staff(settings)) == "VEHICLE_NOT_INSURED"
    assert await refused(client, pool, REPORT, {**report_input(b), "driverId": to_global_id("Party", 99_999_999)},
                         h) == "DRIVER_NOT_FOUND"
    assert await refused(client, pool, REPORT, {**report_input(b), "driverId": "bm90LWFuLWlk"}, h) == "DRIVER_NOT_FOUND"
    assert await refused(client, pool, REPORT, {**report_input(b), "coveragesClaimed": ["NOPE"]}, h) == "UNKNOWN_COVERAGE"
    assert await refused(client, pool, REPORT, {**report_input(b), "place": " "}, h) == "PLACE_REQUIRED"
    # a policyholder cannot report on another's contract: it looks missing
    assert await refused(client, pool, REPORT, report_input(other), h) == "CONTRACT_NOT_FOUND"


async def test_driver_outside_the_age_condition_is_not_covered(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                               settings: Settings) -> None:
    # SPEC §4.5; 001 L624: the age condition (26+) binds a cohabiting relative; a 20-year-old is out
    b = await book(pool)
    async with UnitOfWork(pool) as uow:
        son = await create_party(uow, NewParty(PartyKind.PERSON, "山田 三郎", birth_date=date(2006, 1, 10),
                                               account_party_id=b.policyholder.id, agency_id=b.agency_id,
                                               licence_colour=LicenceColour.GREEN))
    h = staff(settings)
    c = (await ok(client, REPORT, {**report_input(b), "driverId": to_global_id("Party", son.id),
                                   "driverRelationship": "COHABITING_RELATIVE"}, h))["claim"]
    assert c["coverage"]["state"]["code"] == "NOT_COVERED"
    assert "UNDER_AGE_CONDITION" in [r["code"] for r in c["coverage"]["reasons"] if not r["ok"]]
    assert c["lines"] == []
    await ok(client, TRANSITION, {"claimId": c["id"], "action": "REVIEW"}, h)
    assert await refused(client, pool, TRANSITION, {"claimId": c["id"], "action": "APPROVE"}, h) == "NOT_COVERED"
    denied = await ok(client, TRANSITION, {"claimId": c["id"], "action": "DENY", "reason": "driver under 26"}, h)
    assert denied["claim"]["status"]["code"] == "DENIED"
    # a friend (not household) is covered at any age (001 L617-622)
    friend = (await ok(client, REPORT, {**report_input(b), "driverId": to_global_id("Party", son.id),
                                        "driverRelationship": "OTHER"}, h))["claim"]
    assert friend["coverage"]["state"]["code"] == "COVERED"


# --- workflow ----------------------------------------------------------------------------------------

async def test_workflow_only_allowed_transitions(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                 settings: Settings) -> None:
    b = await book(pool)
    h, customer = staff(settings), holder_of(settings, b)
    cid = (await ok(client, REPORT, report_input(b), customer))["claim"]["id"]
    assert await refused(client, pool, TRANSITION, {"claimId": cid, "action": "APPROVE"}, h) == "INVALID_TRANSITION"
    assert await refused(client, pool, TRANSITION, {"claimId": cid, "action": "REVIEW"}, customer) == "ACTION_NOT_ALLOWED"
    assert await refused(client, pool, TRANSITION, {"claimId": cid, "action": "DENY"}, h) == "REASON_REQUIRED"
    assert await refused(client, pool, TRANSITION, {"claimId": cid, "action": "PAY"}, h) == "USE_RECORD_PAYMENT"
    r = await ok(client, TRANSITION, {"claimId": cid, "action": "REVIEW"}, h)
    assert [a["code"] for a in r["claim"]["availableActions"]] == ["APPROVE", "DENY", "WITHDRAW"]
    r = await ok(client, TRANSITION, {"claimId": cid, "action": "DENY", "reason": "not our accident"}, h)
    # paying a denied claim
    assert await refused(client, pool, PAY, {"claimId": cid, "coverage": "PD", "amountYen": 1000}, h) == "CLAIM_DENIED"
    r = await ok(client, TRANSITION, {"claimId": cid, "action": "REOPEN", "reason": "new evidence"}, h)
    assert r["claim"]["status"]["code"] == "UNDER_REVIEW"
    ev = [(e["kind"], e["fromStatus"], e["toStatus"], e["reason"]) for e in r["claim"]["events"]
          if e["toStatus"] and e["kind"] != "REPORTED"]
    assert ev == [("REVIEW", "REPORTED", "UNDER_REVIEW", None), ("DENY", "UNDER_REVIEW", "DENIED", "not our accident"),
                  ("REOPEN", "DENIED", "UNDER_REVIEW", "new evidence")]
    assert all(e["actorSubject"] for e in r["claim"]["events"])           # staff see who did it
    # idempotent replay: the same key answers the first result, no second event
    i = {"claimId": cid, "action": "APPROVE", "idempotencyKey": "approve-1"}
    first = await ok(client, TRANSITION, i, h)
    again = await ok(client, TRANSITION, i, h)
    assert again["replayed"] is True and len(again["claim"]["events"]) == len(first["claim"]["events"])
    # a dry run stores nothing
    before = await snapshot(pool)
    dry = await ok(client, TRANSITION, {"claimId": cid, "action": "CLOSE", "dryRun": True}, h)
    assert dry["dryRun"] is True and await snapshot(pool) == before


# --- limits and payments -----------------------------------------------------------------------------

async def test_limits_per_person_and_vehicle(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                             settings: Settings) -> None:
    b = await book(pool)
    h = staff(settings)
    cid = await approved(client, b, settings, coveragesClaimed=["PIP", "VEHICLE"])
    pay = {"claimId": cid, "coverage": "PIP"}
    assert await refused(client, pool, PAY, {**pay, "amountYen": -5}, h) == "PAYMENT_NOT_POSITIVE"
    assert await refused(client, pool, PAY, {**pay, "amountYen": 1000}, h) == "PERSON_REQUIRED"
    assert await refused(client, pool, PAY, {**pay}, h) == "INVALID_PAYMENT_INPUT"
    # rakuten PIP: ¥50M per person by default (001 L319, L1091)
    await ok(client, PAY, {**pay, "amountYen": 49_000_000, "person": "taro"}, h)
    assert await refused(client, pool, PAY, {**pay, "amountYen": 1_000_001, "person": "taro"}, h) == "PAYMENT_OVER_LIMIT"
    await ok(client, PAY, {**pay, "amountYen": 1_000_000, "person": "taro"}, h)
    await ok(client, PAY, {**pay, "amountYen": 2_000_000, "person": "hanako"}, h)
    # vehicle: capped at the car's value; a total loss takes no deductible (004 L612, L1117)
    r = await ok(client, PAY, {"claimId": cid, "coverage": "VEHICLE", "lossYen": 2_500_000, "totalLoss": True,
                               "vehicle": "car"}, h)
    assert r["paidYen"] == 1_800_000
    assert await refused(client, pool, PAY, {"claimId": cid, "coverage": "VEHICLE", "amountYen": 1,
                                             "vehicle": "car"}, h) == "PAYMENT_OVER_LIMIT"
    assert await refused(client, pool, PAY, {"claimId": cid, "coverage": "VEHICLE", "lossYen": 1000,
                                             "vehicle": "car"}, h) == "NOTHING_PAYABLE"
    # a coverage the claim does not involve and the contract does not hold
    assert await refused(client, pool, PAY, {"claimId": cid, "coverage": "PASSENGER", "amountYen": 1}, h) \
        == "COVERAGE_NOT_APPLICABLE"
    # negative reserve; policyholders and agents may not pay or reserve
    assert await refused(client, pool, RESERVE, {"claimId": cid, "coverage": "PIP", "reserveYen": -1}, h) == "NEGATIVE_AMOUNT"
    assert await refused(client, pool, RESERVE, {"claimId": cid, "coverage": "PIP", "reserveYen": 1},
                         agent_of(settings, b)) == "ACTION_NOT_ALLOWED"
    assert await refused(client, pool, PAY, {**pay, "amountYen": 1, "person": "x"},
                         holder_of(settings, b)) == "ACTION_NOT_ALLOWED"


# --- grade class, override, withdrawal --------------------------------------------------------------

async def _class(client: httpx.AsyncClient, cid: str, h: dict[str, str]) -> tuple[str | None, bool, bool]:
    g = (await gql(client, CLAIM, {"id": cid}, h))["data"]["claim"]["gradeImpact"]
    return (g["accidentClass"] or {}).get("code"), g["counts"], g["overridden"]


async def test_grade_class_precedence_override_and_withdrawal(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                              settings: Settings) -> None:
    b = await book(pool)
    h = staff(settings)
    cid = await approved(client, b, settings, coveragesClaimed=["PIP", "VEHICLE"], vehicleCause="STORM_FLOOD")
    assert await _class(client, cid, h) == (None, False, False)           # nothing paid (002b L4837)
    # PIP alone is no-count (004 L1594)
    await ok(client, PAY, {"claimId": cid, "coverage": "PIP", "amountYen": 100_000, "person": "taro"}, h)
    assert await _class(client, cid, h) == ("NO_COUNT", False, False)
    # vehicle by storm or flood is 1-down (004 L1593); the heaviest class of one accident wins (002b L4833-4835)
    await ok(client, PAY, {"claimId": cid, "coverage": "VEHICLE", "amountYen": 200_000, "vehicle": "car"}, h)
    assert await _class(client, cid, h) == ("ONE_DOWN", True, False)
    # staff reclassify the cause: collision makes it 3-down
    await ok(client, CLASSIFY, {"claimId": cid, "vehicleCause": "COLLISION"}, h)
    assert await _class(client, cid, h) == ("THREE_DOWN", True, False)
    # override needs a reason; with one it wins over the computed class
    assert await refused(client, pool, CLASSIFY, {"claimId": cid, "override": True, "overrideClass": "ONE_DOWN"},
                         h) == "REASON_REQUIRED"
    await ok(client, CLASSIFY, {"claimId": cid, "override": True, "overrideClass": "ONE_DOWN",
                                "reason": "hail damage confirmed by the adjuster"}, h)
    assert await _class(client, cid, h) == ("ONE_DOWN", True, True)
    await ok(client, CLASSIFY, {"claimId": cid, "override": True, "notCounted": True, "reason": "court ruling"}, h)
    assert await _class(client, cid, h) == (None, False, True)
    await ok(client, CLASSIFY, {"claimId": cid, "override": True}, h)        # clear it
    assert await _class(client, cid, h) == ("THREE_DOWN", True, False)
    # the policyholder withdraws (pays back ¥300,000): the claim no longer counts (SPEC §4.2)
    r = await ok(client, TRANSITION, {"claimId": cid, "action": "WITHDRAW", "reason": "I will pay myself"},
                 holder_of(settings, b))
    assert r["claim"]["status"]["code"] == "WITHDRAWN" and r["claim"]["repaymentDueYen"] == 300_000
    assert r["claim"]["withdrawnAt"] is not None
    assert await _class(client, cid, h) == (None, False, False)
    # renewal sees the term's claims through claims.handling.term_claims
    async with UnitOfWork(pool) as uow:
        tc = await term_claims(uow, b.created.contract.id, b.created.term.id)
    assert [(x.accident_class, x.withdrawn, x.counts) for x in tc] == [(None, True, False)]


# --- documents, notes and isolation -------------------------------------------------------------------

async def test_documents_notes_and_isolation(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                             settings: Settings) -> None:
    b, other = await book(pool), await book(pool)
    customer, h = holder_of(settings, b), staff(settings)
    c = (await ok(client, REPORT, report_input(b, coveragesClaimed=["VEHICLE"]), customer))["claim"]
    cid = c["id"]
    required = [d["document"]["code"] for d in c["requiredDocuments"]]
    assert required == ["CLAIM_FORM", "ACCIDENT_REPORT", "REPAIR_ESTIMATE", "PHOTOS", "VEHICLE_INSPECTION_CERTIFICATE"]
    assert next(d["source"] for d in c["requiredDocuments"]
                if d["document"]["code"] == "VEHICLE_INSPECTION_CERTIFICATE") == "004 L1505"
    assert await refused(client, pool, DOCS, {"claimId": cid, "documents": ["PHOTOS"]}, customer) == "ACTION_NOT_ALLOWED"
    r = await ok(client, DOCS, {"claimId": cid, "documents": ["CLAIM_FORM", "PHOTOS"]}, agent_of(settings, b))
    assert [d["document"]["code"] for d in r["claim"]["missingDocuments"]] == [
        "ACCIDENT_REPORT", "REPAIR_ESTIMATE", "VEHICLE_INSPECTION_CERTIFICATE"]
    await ok(client, NOTE, {"claimId": cid, "note": "suspect staged accident"}, h)
    assert "staged" in (await gql(client, CLAIM, {"id": cid}, h))["data"]["claim"]["staffNotes"]
    mine = (await gql(client, CLAIM, {"id": cid}, customer))["data"]["claim"]
    assert mine["staffNotes"] is None and "NOTE_ADDED" not in [e["kind"] for e in mine["events"]]
    # another policyholder and another agency: the claim looks missing, in every read path
    for outsider in (holder_of(settings, other), agent_of(settings, other), bearer(settings, Role.POLICYHOLDER)):
        assert (await gql(client, CLAIM, {"id": cid}, outsider))["data"]["claim"] is None
        node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": cid}, outsider)
        assert node["data"]["node"] is None
        assert await refused(client, pool, TRANSITION, {"claimId": cid, "action": "WITHDRAW", "reason": "x"},
                             outsider) == "CLAIM_NOT_FOUND"
    # anonymous: nothing
    assert (await gql(client, CLAIM, {"id": cid}))["data"]["claim"] is None
    # the contract lists its claims (general path; the compiled path leaves `claims` to it)
    q = "query($id: ID!) { contract(id: $id) { policyNumber claims { claimNumber lines { reserveYen } } } }"
    got = (await gql(client, q, {"id": to_global_id("Contract", b.created.contract.id)},
                     customer))["data"]["contract"]
    assert [x["claimNumber"] for x in got["claims"]] == [c["claimNumber"]]
    node = (await gql(client, "query($id: ID!) { node(id: $id) { ... on Claim { claimNumber } } }",
                      {"id": cid}, customer))["data"]["node"]
    assert node == {"claimNumber": c["claimNumber"]}


# --- kyosai ------------------------------------------------------------------------------------------

async def _kyosai_book(pool: asyncpg.Pool) -> Book:
    """A kyosai contract: the accident-expense cover with the vehicle and property riders (003)."""
    b = await book(pool)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE contracts SET product_id = 'kyosai-accident-expense' WHERE id = $1",
                           b.created.contract.id)
        await conn.execute(
            """UPDATE contract_versions SET coverages = $2,
                      premium = jsonb_set(premium, '{riders}', '["VEHICLE_ACCIDENT", "PROPERTY_DAMAGE"]')
               WHERE contract_id = $1""",
            b.created.contract.id, [{"code": "ACCIDENT_EXPENSE", "option": "SUM_3M", "amountYen": 0}])
    return b


async def test_kyosai_benefits_through_the_api(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                               settings: Settings) -> None:
    b = await _kyosai_book(pool)
    h = staff(settings)
    cid = await approved(client, b, settings, coveragesClaimed=["ACCIDENT_EXPENSE", "VEHICLE_ACCIDENT"],
                         vehicleCause=None)
    assert await refused(client, pool, PAY, {"claimId": cid, "coverage": "ACCIDENT_EXPENSE", "amountYen": 1},
                         h) == "KYOSAI_NOT_ASSESSED"
    days = [f"2026-06-{d:02d}" for d in range(1, 6)]            # 5 hospital days from the accident day
    r = await ok(client, KYOSAI, {
        "claimId": cid,
        "treatments": [{"person": "taro", "hospitalDays": days, "outpatientDays": ["2026-06-08", "2026-06-09"]}],
        "vehicle": {"peril": "SELF_ACCIDENT", "ownCostYen": 45_000},
    }, h)
    benefits = {(x["benefit"]["code"], x["person"]): (x["amountYen"], x["source"]) for x in r["claim"]["kyosaiBenefits"]}
    assert benefits[("HOSPITAL", "taro")] == (5 * 4_500, "003 L19-22")       # ¥4,500/day, 003 L19-20
    assert benefits[("OUTPATIENT", "taro")] == (2 * 2_250, "003 L23-24")     # ¥2,250/day, 003 L23-24
    assert benefits[("VEHICLE", None)] == (30_000, "003 L44-46")             # ¥30,000 once a year, 003 L44-46
    lines = {ln["coverage"]: ln for ln in r["claim"]["lines"]}
    assert lines["ACCIDENT_EXPENSE"]["reserveYen"] == 22_500 + 4_500
    assert lines["VEHICLE_ACCIDENT"]["limits"][0]["amountYen"] == 30_000
    # pay within the schedule; more than assessed is over the limit
    await ok(client, PAY, {"claimId": cid, "coverage": "ACCIDENT_EXPENSE", "amountYen": 27_000}, h)
    assert await refused(client, pool, PAY, {"claimId": cid, "coverage": "ACCIDENT_EXPENSE", "amountYen": 1},
                         h) == "PAYMENT_OVER_LIMIT"
    paid = await ok(client, PAY, {"claimId": cid, "coverage": "VEHICLE_ACCIDENT", "amountYen": 30_000}, h)
    assert paid["claim"]["paidYen"] == 57_000
    assert paid["claim"]["gradeImpact"]["accidentClass"] is None            # kyosai has no grades (003)
    # a second vehicle claim in the same year gets nothing more (once a year, 003 L46)
    cid2 = await approved(client, b, settings, coveragesClaimed=["VEHICLE_ACCIDENT"], vehicleCause=None,
                          at="2026-06-05T09:00:00+09:00")
    assert await refused(client, pool, KYOSAI, {"claimId": cid2, "vehicle": {"peril": "SELF_ACCIDENT",
                                                                             "ownCostYen": 50_000}},
                         h) == "BENEFIT_ALREADY_PAID_THIS_YEAR"
    # kyosai documents: up to ¥50,000 no medical certificate (003 L56)
    c = (await gql(client, CLAIM, {"id": cid}, h))["data"]["claim"]
    assert "TREATMENT_DECLARATION" in [d["document"]["code"] for d in c["requiredDocuments"]]
