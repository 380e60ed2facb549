"""A fleet year through GraphQL (002b L4998-5056, L5084-5092): an all-vehicle certificate for 10
trucks, a car added mid-term (pro rata), a claim, the first review by the worker at the end of its
experience period, a car removed (refund), and a renewal rated by the review's fleet rate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import to_global_id
from domain.calendar import JST, cover_moment
from domain.fleet import experience_period, first_review_date
from domain.runtime.clock import ManualClock
from domain.runtime.settings import Settings
from tests.api.claim_support import PAY, RESERVE, TRANSITION, bearer, ok, staff
from tests.api.conftest import gql
from tests.factories import pay_all_instalments, unique
from tests.support import statement_logging_pool

TEN_CAR = date(2027, 1, 5)
START = date(2027, 1, 6)
END = date(2028, 1, 6)

FLEET_FIELDS = """id fleetNumber allVehicleRider tenCarDate startsAt endsAt reviewDates currentRatePercent
  currentRateSource nextExperienceFrom nextExperienceTo
  reviews { reviewNo reviewDate experienceFrom experienceTo paidYen outstandingEndYen premiumYen carCount
            lossRatioPercent priorRatePercent ratePercent reasons }
  changes { kind contractId premiumDeltaYen }
  contracts { id lockVersion statuses { code } premium { totalYen explanation { steps { line factor value rule } } } }"""
CREATE = f"""mutation($i: CreateFleetInput!) {{ createFleet(input: $i) {{
  userErrors {{ field code message }} fleet {{ {FLEET_FIELDS} }} }} }}"""
ADD = """mutation($i: AddFleetVehicleInput!) { addFleetVehicle(input: $i) {
  userErrors { field code message } change { kind premiumDeltaYen }
  contractChange { premiumDeltaYen premium { totalYen explanation { steps { line factor value } } } }
  contract { id lockVersion policyNumber terms { startsAt endsAt } } } }"""
REMOVE = """mutation($i: RemoveFleetVehicleInput!) { removeFleetVehicle(input: $i) {
  userErrors { field code message } change { kind premiumDeltaYen } contract { statuses { code } } } }"""
FLEET = f"query($id: ID!) {{ fleet(id: $id) {{ {FLEET_FIELDS} }} }}"
RENEW = """mutation($i: RenewContractInput!) { renewContract(input: $i) {
  userErrors { field code message }
  change { premiumAfterYen premium { totalYen explanation { steps { line factor value rule } } } } } }"""
REPORT = """mutation($i: ReportAccidentInput!) { reportAccident(input: $i) {
  userErrors { field code message } claim { id coverage { state { code } applicable reasons { code ok } } } } }"""


@pytest.fixture
def moved(clock: ManualClock) -> Iterator[ManualClock]:
    before = clock.now()
    yield clock
    clock.set(before)


async def _party(client: httpx.AsyncClient, h: dict[str, str], **kw: Any) -> str:
    r = await gql(client, """mutation($i: RegisterDriverInput!) { registerDriver(input: $i) {
      party { id } userErrors { code message } } }""", {"i": kw}, h)
    assert r["data"]["registerDriver"]["userErrors"] == [], r
    return str(r["data"]["registerDriver"]["party"]["id"])


async def _truck(client: httpx.AsyncClient, h: dict[str, str], owner: str) -> str:
    r = await gql(client, """mutation($i: RegisterVehicleInput!) { registerVehicle(input: $i) {
      vehicle { id } userErrors { code message } } }""", {"i": {
        "useType": "COMMERCIAL_SMALL_TRUCK", "registrationNo": unique("品川400せ"), "firstRegistration": "2022-04",
        "valueYen": 1_500_000, "ownerPartyId": owner, "accountPartyId": owner}}, h)
    assert r["data"]["registerVehicle"]["userErrors"] == [], r
    return str(r["data"]["registerVehicle"]["vehicle"]["id"])


def _car(fleet: str, owner: str, vehicle: str, start: date) -> dict[str, Any]:
    return {"fleetId": fleet, "startDate": start.isoformat(), "namedInsuredId": owner, "vehicleId": vehicle,
            "coverages": [{"code": "BI"}, {"code": "PD", "option": "UNLIMITED_DED_50000"}, {"code": "VEHICLE"}]}


def _factors(premium: dict[str, Any]) -> set[str]:
    return {s["factor"] for s in premium["explanation"]["steps"]}


async def _run_review_timer(pool: asyncpg.Pool, settings: Settings, clock: ManualClock, fleet_db_id: int) -> None:
    import workers.kinds  # noqa: F401  (registers the timer kinds, as a worker does)
    from workers.config import TimerTuning
    from workers.timer_job import CTX_KEY, TimerRuntime, run_timer

    tid = await pool.fetchval(
        "UPDATE timers SET state = 'ENQUEUED', attempts = attempts + 1 WHERE kind = 'fleet.review' AND subject = $1 "
        "AND state = 'PENDING' AND due_at <= $2 RETURNING id", f"fleet:{fleet_db_id}", clock.now())
    assert tid is not None
    assert await run_timer({CTX_KEY: TimerRuntime(pool, clock, settings, TimerTuning())}, tid) == "done"


async def test_a_fleet_year(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                            moved: ManualClock) -> None:
    clock = moved
    clock.set(datetime(2027, 1, 5, 10, 0, tzinfo=JST))
    agency_id = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, 'フリート代理店') RETURNING id",
                                    unique("AG"))
    agent = bearer(settings, Role.AGENT, agency_id=agency_id)
    handler = staff(settings)
    owner = await _party(client, agent, kind="CORPORATION", nameKanji="株式会社 東京運送", addressJa="東京都江東区1-1")
    driver = await _party(client, agent, nameKanji="運転 太郎", birthDate="1985-03-03", licenceColour="BLUE",
                          accountPartyId=owner)

    # A policyholder cannot create a fleet; the 10-car date cannot be in the future (L5084-5087).
    r = (await gql(client, CREATE, {"i": {"productId": "aioi-tough-biz", "policyholderId": owner,
                                          "tenCarDate": "2027-02-01", "allVehicleRider": True,
                                          "startDate": START.isoformat()}}, agent))["data"]["createFleet"]
    assert [e["code"] for e in r["userErrors"]] == ["TEN_CAR_DATE_IN_FUTURE"]
    r = (await gql(client, CREATE, {"i": {"productId": "rakuten-drive-assist", "policyholderId": owner,
                                          "tenCarDate": TEN_CAR.isoformat(), "allVehicleRider": False}},
                   agent))["data"]["createFleet"]
    assert [e["code"] for e in r["userErrors"]] == ["NOT_ELIGIBLE_FLEET"]

    created = (await gql(client, CREATE, {"i": {"productId": "aioi-tough-biz", "policyholderId": owner,
                                                "tenCarDate": TEN_CAR.isoformat(), "allVehicleRider": True,
                                                "startDate": START.isoformat()}}, agent))["data"]["createFleet"]
    assert created["userErrors"] == [], created
    fleet = created["fleet"]
    fid = fleet["id"]
    fleet_db = int(await pool.fetchval("SELECT id FROM fleets WHERE fleet_number = $1", fleet["fleetNumber"]))
    # 002b L5010: with the all-vehicle rider the first review is the 10-car date's 1-year anniversary
    assert fleet["reviewDates"][0] == "2028-01-05" == first_review_date(TEN_CAR, all_vehicle_rider=True).isoformat()
    assert fleet["reviewDates"][1] == "2029-01-05"                                      # L5011
    # 002b L5042-5043: the first experience period is the 6 months ending 6 months before the review month
    assert (fleet["nextExperienceFrom"], fleet["nextExperienceTo"]) == ("2027-01-01", "2027-07-01")

    # Ten trucks from the certificate's start: before the first review each keeps its grade (L5026).
    cars: list[dict[str, Any]] = []
    for _ in range(10):
        truck = await _truck(client, agent, owner)
        added = (await gql(client, ADD, {"i": _car(fid, owner, truck, START)}, agent))["data"]["addFleetVehicle"]
        assert added["userErrors"] == [], added
        assert "GRADE" in _factors(added["contractChange"]["premium"]) and "FLEET" not in _factors(
            added["contractChange"]["premium"])
        assert "MULTI_CAR" not in {s["factor"] for s in added["contractChange"]["premium"]["explanation"]["steps"]}
        cars.append(added)
    annual = cars[0]["contractChange"]["premium"]["totalYen"]
    assert all(c["contractChange"]["premiumDeltaYen"] == annual for c in cars)

    # The named insured of an all-vehicle certificate is the fleet owner (L5089-5092).
    truck = await _truck(client, agent, owner)
    r = (await gql(client, ADD, {"i": {**_car(fid, driver, truck, START)}}, agent))["data"]["addFleetVehicle"]
    assert [e["code"] for e in r["userErrors"]] == ["NAMED_INSURED_NOT_FLEET_OWNER"]

    # A truck joins on 2027-04-06: its cover ends with the certificate, its premium is pro rata by day.
    clock.set(datetime(2027, 4, 6, 9, 0, tzinfo=JST))
    joined = (await gql(client, ADD, {"i": _car(fid, owner, truck, date(2027, 4, 6))}, agent))["data"]["addFleetVehicle"]
    assert joined["userErrors"] == [], joined
    steps = joined["contractChange"]["premium"]["explanation"]["steps"]
    pro = [s for s in steps if s["factor"] == "FLEET_PRO_RATA"]
    assert pro and pro[0]["value"] == "275 of 366 days to 2028-01-06"
    assert 0 < joined["contractChange"]["premiumDeltaYen"] < annual
    assert joined["contract"]["terms"][-1]["endsAt"].startswith("2028-01-06T16:00")
    # outside the certificate: refused, nothing stored
    r = (await gql(client, ADD, {"i": _car(fid, owner, await _truck(client, agent, owner), date(2028, 2, 1))},
                   agent))["data"]["addFleetVehicle"]
    assert [e["code"] for e in r["userErrors"]] == ["OUTSIDE_FLEET_TERM"]

    # Every truck's premium is paid; a claim on the first, partly paid, the rest still reserved.
    clock.set(datetime(2027, 5, 10, 9, 0, tzinfo=JST))
    for cid_ in await pool.fetch("SELECT id FROM contracts WHERE fleet_id = $1", fleet_db):
        await pay_all_instalments(pool, cid_["id"], clock.now())
    first = cars[0]["contract"]
    rep = (await gql(client, REPORT, {"i": {
        "contractId": first["id"], "accidentAt": "2027-05-01T10:30:00+09:00", "place": "東京都江東区",
        "vehicleId": to_global_id("Vehicle", int(await pool.fetchval(
            "SELECT vehicle_id FROM contract_versions v JOIN contracts c ON c.id = v.contract_id "
            "WHERE c.policy_number = $1 LIMIT 1", first["policyNumber"]))),
        "driverId": driver, "description": "荷下ろし中の接触", "coveragesClaimed": ["VEHICLE"],
        "vehicleCause": "COLLISION"}}, handler))["data"]["reportAccident"]
    assert rep["userErrors"] == [], rep
    assert "VEHICLE" in rep["claim"]["coverage"]["applicable"], rep
    cid = rep["claim"]["id"]
    await ok(client, TRANSITION, {"claimId": cid, "action": "REVIEW"}, handler)
    await ok(client, RESERVE, {"claimId": cid, "coverage": "VEHICLE", "reserveYen": 500_000}, handler)
    await ok(client, TRANSITION, {"claimId": cid, "action": "APPROVE"}, handler)
    paid = await ok(client, PAY, {"claimId": cid, "coverage": "VEHICLE", "lossYen": 320_000, "vehicle": "insured-car"},
                    handler)
    paid_yen, reserve_yen = paid["claim"]["paidYen"], paid["claim"]["reserveYen"]
    assert (paid_yen, reserve_yen) == (270_000, 230_000)      # less the ¥50,000 deductible

    # Too early to review: the experience period has not ended (L5036-5043).
    r = (await gql(client, """mutation($i: ReviewFleetInput!) { reviewFleet(input: $i) {
      userErrors { code } } }""", {"i": {"fleetId": fid, "reviewNo": 1}}, handler))["data"]["reviewFleet"]
    assert [e["code"] for e in r["userErrors"]] == ["FLEET_REVIEW_TOO_EARLY"]

    # The worker reviews at the end of the experience period (2027-07-01 00:00 JST).
    clock.set(datetime(2027, 7, 1, 0, 5, tzinfo=JST))
    await _run_review_timer(pool, settings, clock, fleet_db)
    view = (await gql(client, FLEET, {"id": fid}, agent))["data"]["fleet"]
    review = view["reviews"][0]
    period = experience_period(TEN_CAR, 1, all_vehicle_rider=True)
    assert (review["experienceFrom"], review["experienceTo"]) == (period.start.isoformat(), period.end.isoformat())
    assert review["paidYen"] == paid_yen and review["outstandingEndYen"] == reserve_yen
    assert review["carCount"] == 11
    # premium of the period: each car's term premium over the part of its term inside the period
    p_end = datetime.combine(period.end, datetime.min.time(), tzinfo=JST)
    term = cover_moment(END) - cover_moment(START)
    expected = Decimal(annual) * 10 * Decimal((p_end - cover_moment(START)).total_seconds()) / Decimal(term.total_seconds())
    late = joined["contractChange"]["premium"]["totalYen"]
    late_term = cover_moment(END) - cover_moment(date(2027, 4, 6))
    expected += Decimal(late) * Decimal((p_end - cover_moment(date(2027, 4, 6))).total_seconds()) / Decimal(
        late_term.total_seconds())
    assert review["premiumYen"] == int(expected)
    # 002b L5028-5056: (paid + outstanding at the end − outstanding at the previous end) ÷ premium × 100
    ratio = (Decimal(paid_yen + reserve_yen - 0) / Decimal(review["premiumYen"]) * 100).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert review["lossRatioPercent"] == str(ratio)
    assert review["priorRatePercent"] is None and review["ratePercent"] is not None
    assert review["reviewDate"] == "2028-01-05"

    # A truck leaves on 2027-08-01: its contract is cancelled with a refund.
    clock.set(datetime(2027, 8, 1, 9, 0, tzinfo=JST))
    second = cars[1]["contract"]
    gone = (await gql(client, REMOVE, {"i": {"fleetId": fid, "contractId": second["id"],
                                             "expectedVersion": second["lockVersion"] + 0,
                                             "effectiveDate": "2027-08-01", "reason": "sold"}}, agent))
    removed = gone["data"]["removeFleetVehicle"]
    if removed["userErrors"] and removed["userErrors"][0]["code"] == "VERSION_CONFLICT":
        lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE policy_number = $1", second["policyNumber"])
        removed = (await gql(client, REMOVE, {"i": {"fleetId": fid, "contractId": second["id"], "expectedVersion": lock,
                                                    "effectiveDate": "2027-08-01", "reason": "sold"}},
                             agent))["data"]["removeFleetVehicle"]
    assert removed["userErrors"] == [], removed
    assert removed["change"]["kind"] == "REMOVE_VEHICLE" and removed["change"]["premiumDeltaYen"] < 0
    assert [s["code"] for s in removed["contract"]["statuses"]] == ["CANCELLED"]
    view = (await gql(client, FLEET, {"id": fid}, agent))["data"]["fleet"]
    assert [c["kind"] for c in view["changes"]] == ["ADD_VEHICLE"] * 11 + ["REMOVE_VEHICLE"]
    assert len(view["contracts"]) == 11

    # Renewal from 2028-01-06, on or after the first review date: the fleet rate replaces the grade (L5015-5016).
    clock.set(datetime(2027, 12, 1, 9, 0, tzinfo=JST))
    third = cars[2]["contract"]
    lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE policy_number = $1", third["policyNumber"])
    renewed = (await gql(client, RENEW, {"i": {"contractId": third["id"], "expectedVersion": lock}},
                         agent))["data"]["renewContract"]
    assert renewed["userErrors"] == [], renewed
    steps = renewed["change"]["premium"]["explanation"]["steps"]
    fleet_steps = [s for s in steps if s["factor"] == "FLEET"]
    assert fleet_steps and all(s["value"] == f"fleet rate {review['ratePercent']:+d}%" for s in fleet_steps)
    assert "GRADE" not in {s["factor"] for s in steps}
    assert "FLEET_PRO_RATA" not in {s["factor"] for s in steps}
    assert timedelta(days=365) <= (cover_moment(date(2029, 1, 6)) - cover_moment(END))


async def test_a_fleet_reads_in_the_same_statements_whatever_its_size(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, database_url: str, moved: ManualClock) -> None:
    """The fleet page reads its cars' contracts with one statement for all of them (ENGINEERING P2)."""
    from api.auth import Principal
    from api.context import Context
    from api.schema import schema

    moved.set(datetime(2027, 1, 5, 10, 0, tzinfo=JST))
    agency_id = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, 'フリート代理店') RETURNING id",
                                    unique("AG"))
    agent = bearer(settings, Role.AGENT, agency_id=agency_id)
    owner = await _party(client, agent, kind="CORPORATION", nameKanji="株式会社 大阪運送", addressJa="大阪府大阪市1-1")
    fleet = (await gql(client, CREATE, {"i": {"productId": "aioi-tough-biz", "policyholderId": owner,
                                              "tenCarDate": TEN_CAR.isoformat(), "allVehicleRider": True,
                                              "startDate": START.isoformat()}}, agent))["data"]["createFleet"]["fleet"]
    counting, log = await statement_logging_pool(database_url, max_size=2)
    ctx = Context(request=None, response=None, pool=counting, clock=moved, settings=settings, request_id="t",
                  principal=Principal("staff", Role.STAFF), compiled=True)
    counts = []
    try:
        for size in (3, 12):
            while len((await schema.execute(FLEET, variable_values={"id": fleet["id"]}, context_value=ctx)
                       ).data["fleet"]["contracts"]) < size:  # type: ignore[index]
                truck = await _truck(client, agent, owner)
                added = (await gql(client, ADD, {"i": _car(fleet["id"], owner, truck, START)}, agent))
                assert added["data"]["addFleetVehicle"]["userErrors"] == [], added
            log.clear()
            r = await schema.execute(FLEET, variable_values={"id": fleet["id"]}, context_value=ctx)
            assert r.errors is None and len(r.data["fleet"]["contracts"]) == size  # type: ignore[index]
            counts.append(len(log))
    finally:
        await counting.close()
    assert counts[0] == counts[1], (counts, log)
