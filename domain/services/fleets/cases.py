"""Fleet use cases: a fleet policyholder's cars are contracts of one fleet (002b L4998-5056).

- `create_fleet`: the fleet with its 10-car date; with the all-vehicle rider (全車両一括特約,
  L5089-5092) one certificate term that every car's cover ends with.
- `add_vehicle`: quote and bind the car's contract in one transaction, rated by the rate its start
  date gets (L5015-5026); joining an all-vehicle certificate mid-term is pro rata to its expiry.
- `remove_vehicle`: the car's contract is cancelled with its refund (the contracts part's rules).
- `review_fleet`: the loss ratio of the experience period and the next rate, stored once per
  review; the worker decides it when the experience period ends (`fleet.review` timer), months
  before the review date it applies from, and the next review's timer is stored with it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from domain.calendar import JST, RuleError, add_months, cover_moment, jst_date
from domain.fleet import (
    RULE_EXPERIENCE,
    ReviewInputs,
    decide_review,
    experience_period,
    facts_on,
    review_date,
    review_number_on,
)
from domain.lifecycle import Role
from domain.services.access import Actor, can_read_contract_of
from domain.services.contracts.endings import cancel_contract
from domain.services.contracts.quote import create_quote, issue_contract
from domain.services.contracts.support import product_of, today, visible_parties
from domain.services.contracts.types import CancelRequest, IssueRequest
from domain.services.errors import not_found, refuse
from domain.services.fleets.types import (
    AddFleetVehicle,
    CreateFleet,
    FleetVehicleChange,
    FleetView,
    RemoveFleetVehicle,
)
from domain.store import fleet_repo, timers
from domain.store.contract_repo import get_contract
from domain.store.fleet_repo import EarningVersion, Fleet, NewFleet, StoredReview
from domain.store.party_repo import agencies_by_id
from domain.store.uow import Executor, UnitOfWork
from domain.vocab import Channel

FLEET_PREFIX = "AP-FL"
REVIEW_KIND = "fleet.review"


async def visible_fleet(conn: Executor, actor: Actor | None, fleet_id: int, *, lock: bool = False,
                        field: str = "input.fleetId") -> Fleet:
    f = await fleet_repo.get_fleet(conn, fleet_id, for_update=lock)
    if f is None or not can_read_contract_of(actor, f.policyholder_id, f.agency_id):  # as its cars' contracts
        raise not_found("fleet", field, fleet_id)
    return f


def _manager(actor: Actor, what: str) -> None:
    if not (actor.sees_everything or actor.role is Role.AGENT):
        raise refuse("FORBIDDEN", "input", f"only the insurer's staff or the agency {what}")


async def _schedule_review(conn: Executor, f: Fleet, n: int) -> None:
    period = experience_period(f.ten_car_date, n, all_vehicle_rider=f.all_vehicle_rider)
    await timers.schedule(
        conn, kind=REVIEW_KIND, subject=f"fleet:{f.id}", due_at=datetime.combine(period.end, time(0), tzinfo=JST),
        idempotency_key=f"fleet:{f.id}:REVIEW:{n}", payload={"fleetId": f.id, "reviewNo": n})


async def create_fleet(uow: UnitOfWork, actor: Actor, req: CreateFleet, now: datetime) -> Fleet:
    _manager(actor, "create a fleet")
    product = product_of(req.product_id)
    if not product.eligibility.fleet_contracts or product.fleet is None:
        raise refuse("NOT_ELIGIBLE_FLEET", "input.productId", f"{product.id} has no fleet contracts")
    await visible_parties(uow, actor, [(req.policyholder_id, "input.policyholderId")])
    agency = actor.agency_id if actor.role is Role.AGENT else req.agency_id
    if agency is None:
        raise refuse("AGENCY_REQUIRED", "input.agencyId", "a fleet contract names its agency")
    if actor.role is Role.AGENT and req.agency_id not in (None, actor.agency_id):
        raise not_found("agency", "input.agencyId", req.agency_id)
    if actor.sees_everything and agency not in await agencies_by_id(uow.conn, [agency]):
        raise not_found("agency", "input.agencyId", agency)
    day = today(now)
    if req.ten_car_date > day:
        raise refuse("TEN_CAR_DATE_IN_FUTURE", "input.tenCarDate",
                     "the 10-car date is the day the 10th car was insured: it has happened (002b L5084-5087)")
    starts_at = ends_at = None
    if req.all_vehicle_rider:
        if req.start_date is None:
            raise refuse("START_DATE_REQUIRED", "input.startDate", "an all-vehicle certificate has one start date")
        if req.start_date < day:
            raise refuse("START_DATE_IN_PAST", "input.startDate", f"start date {req.start_date} is before today {day}")
        if req.start_date < req.ten_car_date:
            raise refuse("START_BEFORE_TEN_CAR_DATE", "input.startDate", "the certificate starts on or after the 10-car date")
        starts_at, ends_at = cover_moment(req.start_date), cover_moment(add_months(req.start_date, 12))
    elif req.start_date is not None:
        raise refuse("START_DATE_NOT_ALLOWED", "input.startDate",
                     "without the all-vehicle rider each car has its own start date")
    f = await fleet_repo.insert_fleet(
        uow.conn, NewFleet(product.id, req.policyholder_id, agency, req.all_vehicle_rider, req.ten_car_date,
                           starts_at, ends_at), prefix=FLEET_PREFIX, at=now)
    await _schedule_review(uow.conn, f, 1)
    return f


async def add_vehicle(uow: UnitOfWork, actor: Actor, req: AddFleetVehicle, now: datetime) -> FleetVehicleChange:
    _manager(actor, "add a car to a fleet")
    f = await visible_fleet(uow.conn, actor, req.fleet_id, lock=True)   # one change of a fleet at a time
    q = req.quote
    start = q.start_date
    if start < f.ten_car_date:
        raise refuse("START_BEFORE_TEN_CAR_DATE", "input.startDate",
                     f"a fleet car starts on or after the 10-car date {f.ten_car_date} (002b L5026)")
    ends_on = None
    if f.all_vehicle_rider:
        assert f.starts_at is not None and f.ends_at is not None
        first, end = jst_date(f.starts_at), jst_date(f.ends_at)
        if not first <= start < end:
            raise refuse("OUTSIDE_FLEET_TERM", "input.startDate",
                         f"the all-vehicle certificate runs {first} to {end}: a car joins inside it")
        if q.named_insured_id != f.policyholder_id:
            raise refuse("NAMED_INSURED_NOT_FLEET_OWNER", "input.namedInsuredId",
                         "on an all-vehicle certificate the fleet owner is the named insured of every car (002b L5089-5092)")
        ends_on = end
    n = review_number_on(f.ten_car_date, start, all_vehicle_rider=f.all_vehicle_rider)
    decided = fleet_repo.decided_rates(await fleet_repo.reviews_of(uow.conn, f.id))
    if n and n not in decided and today(now) >= experience_period(
            f.ten_car_date, n, all_vehicle_rider=f.all_vehicle_rider).end:
        await review_fleet(uow, f.id, n, now)
        decided = fleet_repo.decided_rates(await fleet_repo.reviews_of(uow.conn, f.id))
    try:
        facts = facts_on(f.id, start, ten_car_date=f.ten_car_date, all_vehicle_rider=f.all_vehicle_rider,
                         decided=decided, ends_on=ends_on)
    except RuleError as e:
        raise refuse(e.code, "input.startDate", e.message) from None
    quote = replace(q, product_id=f.product_id, policyholder_id=f.policyholder_id, channel=Channel.AGENT,
                    agency_id=f.agency_id, term_months=12, fleet=facts, pricing_only=False)
    quoted = await create_quote(uow, actor, quote, now)
    issued = await issue_contract(uow, actor, IssueRequest(quoted.contract_id, quoted.lock_version), now)
    ch = await fleet_repo.insert_change(
        uow.conn, fleet_id=f.id, kind="ADD_VEHICLE", contract_id=issued.contract_id,
        effective_at=issued.effective_at, delta_yen=issued.premium_delta_yen, actor_subject=actor.subject, at=now)
    return FleetVehicleChange(f, ch, issued)


async def remove_vehicle(uow: UnitOfWork, actor: Actor, req: RemoveFleetVehicle, now: datetime) -> FleetVehicleChange:
    _manager(actor, "remove a car from a fleet")
    f = await visible_fleet(uow.conn, actor, req.fleet_id, lock=True)
    c = await get_contract(uow.conn, req.contract_id)
    if c is None or c.fleet_id != f.id:
        raise not_found("contract", "input.contractId", req.contract_id)
    ended = await cancel_contract(uow, actor, CancelRequest(req.contract_id, req.expected_version, req.effective_date,
                                                            req.reason), now)
    ch = await fleet_repo.insert_change(
        uow.conn, fleet_id=f.id, kind="REMOVE_VEHICLE", contract_id=c.id, effective_at=ended.effective_at,
        delta_yen=ended.premium_delta_yen, actor_subject=actor.subject, at=now)
    return FleetVehicleChange(f, ch, ended)


def _earned_before_fleet_rate(rows: list[EarningVersion], start: datetime, end: datetime) -> int:
    """The period's premium restated before the fleet rate (L5034): each version's term premium
    over the days it was in force inside the period, divided back by the rate it was rated with."""
    total = Decimal(0)
    for r in rows:
        lo = max(r.valid_from, r.term_starts_at, start)
        hi = min(r.valid_to or r.term_ends_at, r.term_ends_at, end)
        if hi <= lo:
            continue
        share = Decimal((hi - lo).total_seconds()) / Decimal((r.term_ends_at - r.term_starts_at).total_seconds())
        rate = Decimal(1) + Decimal(r.rate_percent or 0) / 100
        total += Decimal(r.premium_yen) * share / rate
    return int(total.to_integral_value(rounding=ROUND_DOWN))


async def review_fleet_now(uow: UnitOfWork, actor: Actor, req: tuple[int, int], now: datetime) -> StoredReview:
    """`reviewFleet`: staff decide review n of a fleet by hand (the worker does it on time)."""
    fleet_id, n = req
    if not actor.sees_everything:
        await visible_fleet(uow.conn, actor, fleet_id)   # not found for a fleet the caller cannot see
        raise refuse("FORBIDDEN", "input.fleetId", "insurer staff review a fleet (the worker does it on time)")
    return await review_fleet(uow, fleet_id, n, now)


async def review_fleet(uow: UnitOfWork, fleet_id: int, n: int, now: datetime) -> StoredReview:
    """Decide review `n` (and any earlier one still missing); a decided review is answered as stored."""
    f = await fleet_repo.get_fleet(uow.conn, fleet_id, for_update=True)
    if f is None:
        raise not_found("fleet", "input.fleetId", fleet_id)
    product = product_of(f.product_id, "input.fleetId")
    assert product.fleet is not None
    stored = {r.review_no: r for r in await fleet_repo.reviews_of(uow.conn, f.id)}
    if n in stored:
        return stored[n]
    for k in range(1, n + 1):
        if k in stored:
            continue
        period = experience_period(f.ten_car_date, k, all_vehicle_rider=f.all_vehicle_rider)
        if today(now) < period.end:
            raise refuse("FLEET_REVIEW_TOO_EARLY", "input.reviewNo",
                         f"review {k}'s experience period ends {period.end} ({RULE_EXPERIENCE})")
        start, end = (datetime.combine(d, time(0), tzinfo=JST) for d in (period.start, period.end))
        prev = stored.get(k - 1)
        inputs = ReviewInputs(
            paid_yen=await fleet_repo.paid_in(uow.conn, f.id, f.ten_car_date, period),
            outstanding_end_yen=await fleet_repo.outstanding_at(uow.conn, f.id, f.ten_car_date, period.end),
            outstanding_prev_end_yen=prev.outstanding_end_yen if prev else 0,
            premium_yen=_earned_before_fleet_rate(
                await fleet_repo.earning_versions(uow.conn, f.id, f.ten_car_date, period), start, end),
            car_count=await fleet_repo.cars_at(uow.conn, f.id, end - timedelta(microseconds=1)),
            prior_rate_percent=prev.rate_percent if prev else None,
        )
        d = decide_review(inputs, product.fleet)
        row = StoredReview(f.id, k, review_date(f.ten_car_date, k, all_vehicle_rider=f.all_vehicle_rider), period,
                           inputs.paid_yen, inputs.outstanding_end_yen, inputs.outstanding_prev_end_yen,
                           inputs.premium_yen, inputs.car_count, d.loss_ratio, inputs.prior_rate_percent,
                           d.rate_percent, d.reasons, now)
        await fleet_repo.insert_review(uow.conn, row)
        await _schedule_review(uow.conn, f, k + 1)
        stored[k] = row
    return stored[n]


async def view_fleet(conn: Executor, actor: Actor | None, fleet_id: int, now: datetime) -> FleetView:
    f = await visible_fleet(conn, actor, fleet_id, field="id")
    reviews = await fleet_repo.reviews_of(conn, f.id)
    day = today(now)
    n = review_number_on(f.ten_car_date, day, all_vehicle_rider=f.all_vehicle_rider)
    try:
        facts = facts_on(f.id, day, ten_car_date=f.ten_car_date, all_vehicle_rider=f.all_vehicle_rider,
                         decided=fleet_repo.decided_rates(reviews))
        rate, source = facts.rate_percent, facts.rate_source
    except RuleError as e:
        rate, source = None, e.message
    dates = tuple(review_date(f.ten_car_date, k, all_vehicle_rider=f.all_vehicle_rider) for k in (1, 2, 3))
    return FleetView(f, dates, experience_period(f.ten_car_date, n + 1, all_vehicle_rider=f.all_vehicle_rider),
                     tuple(reviews), rate, source)
