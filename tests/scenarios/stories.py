"""Shared pieces of the scenario stories: GraphQL documents, a clean book, a customer with an issued
contract, and the invariants every story ends with (no failed timer; a second worker pass changes
nothing).

Everything a story does goes through the GraphQL API (agent, staff and policyholder tokens) and the
worker (`Scenario.run_until` / `tick`). Two things are written directly, both setup rather than
behaviour: the agency row (the API has no mutation that creates agencies) and the clean slate at the
start of a story (the sweep takes every due timer of the database, so stories must not meet each
other's contracts; see `clean_book`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from api.auth import Role
from api.node import db_id_of
from domain.runtime.clock import JST
from tests.factories import unique
from tests.scenarios.conftest import Scenario

AIOI, RAKUTEN = "aioi-tough-biz", "rakuten-drive-assist"

# The tables a story's state lives in (the digest of "nothing changed").
STATE_TABLES = ("contracts", "terms", "contract_versions", "version_drivers", "transactions", "events",
                "grade_records", "windows", "instalments", "payment_records", "claims", "claim_lines",
                "claim_payments", "claim_events", "timers", "idempotency_records")
BOOK_TABLES = STATE_TABLES + ("parties", "vehicles", "agencies", "assistance_requests", "timer_ping_effects")

# --------------------------------------------------------------------------------------- documents

REGISTER_DRIVER = """mutation($i: RegisterDriverInput!) { registerDriver(input: $i) {
  party { id } userErrors { field code message } } }"""
REGISTER_VEHICLE = """mutation($i: RegisterVehicleInput!) { registerVehicle(input: $i) {
  vehicle { id } userErrors { field code message } } }"""
QUOTE = """mutation($i: CreateQuoteInput!) { createQuote(input: $i) {
  change { policyNumber } contract { id lockVersion } userErrors { field code message } } }"""
ISSUE = """mutation($i: ContractRefInput!) { issueContract(input: $i) {
  contract { id lockVersion statuses { code } } userErrors { field code message } } }"""
RENEW = """mutation($i: RenewContractInput!) { renewContract(input: $i) {
  change { termNo effectiveAt lockVersion }
  contract { lockVersion statuses { code } }
  userErrors { field code message } } }"""
ENDORSE = """mutation($i: EndorseContractInput!) { endorseContract(input: $i) {
  change { premiumDeltaYen } contract { lockVersion } userErrors { field code message } } }"""
PAY_PREMIUM = """mutation($i: RecordPaymentInput!) { recordPayment(input: $i) {
  change { instalmentState { code } statuses { code } delinquent }
  userErrors { field code message } } }"""

WINDOW_FIELDS = """id kind { code } state { code } eventOn fullUntil downgradeUntil daysLeft filedOn
  outcome { code } liabilityCodes"""
WINDOW_PAYLOAD = f"""change {{ windowId state {{ code }} outcome {{ code }} filingDay premiumDeltaYen effectiveAt }}
  window {{ {WINDOW_FIELDS} }} contract {{ lockVersion statuses {{ code }} }}
  userErrors {{ field code message }}"""
REPORT_SWAP = f"mutation($i: ReportVehicleAcquisitionInput!) {{ reportVehicleAcquisition(input: $i) {{ {WINDOW_PAYLOAD} }} }}"
FILE_SWAP = f"mutation($i: FileVehicleSwapInput!) {{ fileVehicleSwap(input: $i) {{ {WINDOW_PAYLOAD} }} }}"
HOUSEHOLD = f"mutation($i: ReportHouseholdEventInput!) {{ reportHouseholdEvent(input: $i) {{ {WINDOW_PAYLOAD} }} }}"

CLAIM_FIELDS = """id claimNumber accidentAt status { code } driverRelationship { code }
  coverage { state { code } reasons { code ok } applicable liabilityOnly waitingFor }
  lines { coverage paidYen deductibleYen limits { basis { code } amountYen } } paidYen"""
CLAIM_PAYLOAD = f"userErrors {{ field code message }} paidYen claim {{ {CLAIM_FIELDS} }}"
REPORT_ACCIDENT = f"mutation($i: ReportAccidentInput!) {{ reportAccident(input: $i) {{ {CLAIM_PAYLOAD} }} }}"
TRANSITION = f"mutation($i: TransitionClaimInput!) {{ transitionClaim(input: $i) {{ {CLAIM_PAYLOAD} }} }}"
PAY_CLAIM = f"mutation($i: RecordClaimPaymentInput!) {{ recordClaimPayment(input: $i) {{ {CLAIM_PAYLOAD} }} }}"
CLAIM = f"query($id: ID!) {{ claim(id: $id) {{ {CLAIM_FIELDS} }} }}"

CONTRACT = f"""query($id: ID!) {{ contract(id: $id) {{ lockVersion statuses {{ code }}
  terms {{ termNo startsAt endsAt status {{ code }} }}
  windows {{ {WINDOW_FIELDS} }}
  payments {{ termNo state {{ code }} claims {{ code }} delinquentSince rescissionDeadline
    instalments {{ number dueOn amountYen state {{ code }} paidOn }} }}
  events(last: 100) {{ seq kind at payload }} }} }}"""
TERM_PAYMENTS = """query($id: ID!, $at: DateTime!) { contract(id: $id, asOf: $at) {
  payments { termNo instalments { number amountYen } } } }"""


# --------------------------------------------------------------------------------------- helpers

def jst(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def end_of(d: date) -> datetime:
    """00:00 JST of the next day: the end of `d`, where day-end timers fall."""
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=JST)


def codes(items: list[dict[str, Any]]) -> list[str]:
    return [i["code"] for i in items]


def db_id(gid: str, kind: str) -> int:
    found = db_id_of(gid, kind)
    assert found is not None, gid
    return found


async def ok(s: Scenario, doc: str, i: dict[str, Any], h: dict[str, str]) -> dict[str, Any]:
    """Run a mutation that must succeed and answer its payload."""
    out = await refused_or_ok(s, doc, i, h)
    assert out["userErrors"] == [], out
    return out


async def refused_or_ok(s: Scenario, doc: str, i: dict[str, Any], h: dict[str, str]) -> dict[str, Any]:
    data = await s.gql(doc, {"i": i}, h)
    return next(iter(data.values()))  # type: ignore[no-any-return]


async def refused(s: Scenario, doc: str, i: dict[str, Any], h: dict[str, str]) -> list[str]:
    """Run a mutation that must be refused and change nothing; answer its error codes."""
    before = await digest(s.pool)
    out = await refused_or_ok(s, doc, i, h)
    assert out["userErrors"], out
    assert await digest(s.pool) == before
    return codes(out["userErrors"])


async def contract(s: Scenario, cid: str, h: dict[str, str]) -> dict[str, Any]:
    found = (await s.gql(CONTRACT, {"id": cid}, h))["contract"]
    assert found is not None
    return found  # type: ignore[no-any-return]


async def claim(s: Scenario, claim_id: str, h: dict[str, str]) -> dict[str, Any]:
    found = (await s.gql(CLAIM, {"id": claim_id}, h))["claim"]
    assert found is not None
    return found  # type: ignore[no-any-return]


def coverage(c: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """(state, applicable, waitingFor) of a claim's coverage decision."""
    cov = c["coverage"]
    return cov["state"]["code"], sorted(cov["applicable"]), cov["waitingFor"]


def event_kinds(c: dict[str, Any]) -> list[str]:
    return [e["kind"] for e in c["events"]]


# --------------------------------------------------------------------------------------- the book

async def digest(pool: asyncpg.Pool) -> dict[str, str]:
    """An md5 per state table: equal digests mean nothing was written."""
    out = {}
    async with pool.acquire() as conn:
        for t in STATE_TABLES:
            out[t] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


async def clean_book(scenario: Scenario) -> Scenario:
    """The scenario over an empty book (each story starts with it): a story's timers (one `term.expiry` per instant, shared by
    every term ending then) must neither have run in an earlier story nor run another story's.
    Identities are not restarted: arq keeps a finished job's result for a few seconds under its job
    id (`timer:<id>:<attempt>`), and a reused timer id would be taken for that finished job."""
    async with scenario.pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(BOOK_TABLES)} CASCADE")
    return scenario


async def settle(s: Scenario) -> None:
    """The end of every story: no timer failed, and a second pass of the worker (every due timer
    handed over again) changes nothing."""
    failed = await s.pool.fetch("SELECT kind, subject, last_error FROM timers WHERE state = 'FAILED'")
    assert failed == [], failed
    before = await digest(s.pool)
    await s.tick()
    assert await digest(s.pool) == before
    # Every timer that was due has run exactly once: none is left waiting or retrying.
    stuck = await s.pool.fetch("SELECT kind, subject, state, attempts FROM timers "
                               "WHERE due_at <= $1 AND state NOT IN ('DONE', 'CANCELLED')", s.clock.now())
    assert stuck == [], stuck
    retried = await s.pool.fetch("SELECT kind, subject, attempts FROM timers WHERE state = 'DONE' AND attempts > 1")
    assert retried == [], retried


async def new_agency(s: Scenario) -> dict[str, str]:
    """An agent of a fresh agency (no mutation creates agencies: the row is reference data)."""
    agency_id = await s.pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, 'シナリオ代理店') RETURNING id",
                                      unique("AG"))
    return s.bearer(Role.AGENT, agency_id=agency_id)


async def register_car(s: Scenario, h: dict[str, str], owner: str, value_yen: int = 2_000_000,
                       vehicle_class: int = 7) -> str:
    v = await ok(s, REGISTER_VEHICLE, {
        "useType": "PRIVATE_STANDARD_PASSENGER", "registrationNo": unique("品川300さ"), "chassisNo": unique("CHN"),
        "firstRegistration": "2019-04", "modelRelease": "2018-10",
        "ratingClasses": [{"group": "BI", "class": 5}, {"group": "PD", "class": 6}, {"group": "INJURY", "class": 4},
                          {"group": "VEHICLE", "class": vehicle_class}],
        "valueYen": value_yen, "ownerPartyId": owner, "accountPartyId": owner}, h)
    return str(v["vehicle"]["id"])


async def register_person(s: Scenario, h: dict[str, str], name: str, born: str, *, account: str | None = None,
                          colour: str = "GOLD", licensed: str | None = None) -> str:
    p = await ok(s, REGISTER_DRIVER, {"nameKanji": name, "birthDate": born, "licenceColour": colour,
                                      "licenceDate": licensed, "addressJa": "東京都港区1-1", "postalCode": "105-0001",
                                      "accountPartyId": account}, h)
    return str(p["party"]["id"])


@dataclass
class Customer:
    """A policyholder with an issued contract, seen by their agent, the insurer and themselves."""

    agent: dict[str, str]
    staff: dict[str, str]
    holder: dict[str, str]
    party: str
    car: str
    cid: str
    policy_number: str

    async def read(self, s: Scenario) -> dict[str, Any]:
        return await contract(s, self.cid, self.staff)


async def issued(s: Scenario, *, product: str = AIOI, start: str = "2026-04-10", payment: str = "ANNUAL",
                 pay_first: bool = True, **extra: Any) -> Customer:
    """Register a policyholder and their car, quote and issue (by the agent); the insurer records the
    first premium when `pay_first` (a story about windows must not be ended by non-payment)."""
    agent = await new_agency(s)
    staff = s.bearer(Role.STAFF)
    party = await register_person(s, agent, "鈴木 一郎", "1980-05-05")
    car = await register_car(s, agent, party)
    i: dict[str, Any] = {
        "productId": product, "startDate": start, "policyholderId": party, "namedInsuredId": party,
        "vehicleId": car, "drivers": [{"partyId": party, "relationship": "SELF"}], "ageCondition": "AGE_26",
        "channel": "AGENT", "paymentMethod": payment,
        "coverages": [{"code": c} for c in ("BI", "PD", "PI", "VEHICLE")], **extra}
    if product == RAKUTEN:
        i.update(coverages=[{"code": c} for c in ("BI", "PD", "PIP", "VEHICLE")], usePurpose="DAILY_LEISURE",
                 mileageClass=5)
    q = await ok(s, QUOTE, i, agent)
    c = await ok(s, ISSUE, {"contractId": q["contract"]["id"], "expectedVersion": q["contract"]["lockVersion"]}, agent)
    assert "IN_FORCE" in codes(c["contract"]["statuses"])
    holder = s.bearer(Role.POLICYHOLDER, party_id=db_id(party, "Party"))
    cust = Customer(agent, staff, holder, party, car, c["contract"]["id"], q["change"]["policyNumber"])
    if pay_first:
        await pay_premium(s, cust, term_no=1, number=1, on=s.clock.now().date())
    return cust


async def pay_premium(s: Scenario, c: Customer, *, term_no: int, number: int, on: date) -> dict[str, Any]:
    """The insurer records an instalment as paid (by card), for the amount the schedule asks."""
    starts = next(t["startsAt"] for t in (await c.read(s))["terms"] if t["termNo"] == term_no)
    payments = (await s.gql(TERM_PAYMENTS, {"id": c.cid, "at": starts}, c.staff))["contract"]["payments"]
    assert payments["termNo"] == term_no
    p = next(x for x in payments["instalments"] if x["number"] == number)
    return await ok(s, PAY_PREMIUM, {"contractId": c.cid, "termNo": term_no, "number": number,
                                     "amountYen": p["amountYen"], "paidOn": on.isoformat(), "paidBy": "CARD"}, c.staff)


def accident(c: Customer, at: str, *, vehicle: str | None = None, driver: str | None = None,
             claimed: tuple[str, ...] = ("BI", "PD", "VEHICLE"), **extra: Any) -> dict[str, Any]:
    """A first notice of loss: a collision with another car at `at`."""
    return {"contractId": c.cid, "accidentAt": at, "place": "東京都港区芝公園4-2", "vehicleId": vehicle or c.car,
            "driverId": driver or c.party, "description": "交差点での出会い頭衝突 collision at a crossing",
            "otherParties": [{"name": "佐藤 次郎", "vehicleRegistrationNo": "品川500あ1234", "faultPercent": 50}],
            "coveragesClaimed": list(claimed), "vehicleCause": "COLLISION", **extra}
