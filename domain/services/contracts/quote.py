"""Quote and issue: a new contract is rated from its parties and vehicle, stored QUOTED, then bound.

The stored version keeps the exact `QuoteInput` (`rating_input`), so every later change re-rates
from what was sold rather than from a reconstruction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from domain.calendar import JST, RuleError, YearMonth, add_months, cover_moment
from domain.covered import CoverConditions, CoverReason, DriverFacts, decide_cover
from domain.grade import GradeRecord, new_contract_record, renew, second_car_eligibility
from domain.grade_continuity import carry_over
from domain.lifecycle import Action, Role
from domain.products import Product
from domain.rating import (
    CoverageChoice,
    DiscountFacts,
    NamedInsured,
    QuoteInput,
    VehicleFacts,
)
from domain.rating_codec import quote_from_json
from domain.services.access import Actor
from domain.services.contracts.certificates import Redeemed, redeem, used_by
from domain.services.contracts.registrations import ensure_registration_free
from domain.services.contracts.support import (
    POLICY_PREFIX,
    EventKind,
    allowed,
    change,
    emit,
    expect_version,
    product_of,
    rated,
    record,
    steps,
    today,
    version_data,
    visible_contract,
    visible_parties,
    visible_vehicle,
)
from domain.services.contracts.types import (
    ContractChange,
    DriverInput,
    GradeOrigin,
    IssueRequest,
    QuoteRequest,
)
from domain.services.errors import not_found, refuse
from domain.services.reactions import TermBound, publish
from domain.store.party_repo import Party, PartyKind, Vehicle, agencies_by_id, vehicles_by_id
from domain.store.policy_repo import (
    ContractStatus,
    DriverEntry,
    GradeSource,
    NewContract,
    NewTransaction,
    TermStatus,
    TransactionKind,
    create_contract,
    lock_contract,
    record_grade,
    set_statuses,
    set_term_status,
    terms,
    version_as_of,
)
from domain.store.uow import UnitOfWork
from domain.vocab import AccidentClass, Channel, Fuel, LicenceColour, Relationship

S = ContractStatus
# The rating engine wants a birth date for every named insured; for a corporation it reads none
# (no age band, 002b L4660), so any date before every start date will do.
CORPORATE_BIRTH = date(1900, 1, 1)


def named_insured_facts(ni: Party) -> NamedInsured:
    if ni.kind is PartyKind.CORPORATION or ni.birth_date is None:
        return NamedInsured(CORPORATE_BIRTH, LicenceColour.BLUE, individual=False)
    return NamedInsured(ni.birth_date, ni.licence_colour or LicenceColour.BLUE)


def vehicle_facts(v: Vehicle, repairability_percent: int = 0) -> VehicleFacts:
    return VehicleFacts(
        v.use_type,
        YearMonth.of(v.first_registration) if v.first_registration else None,
        YearMonth.of(v.model_release) if v.model_release else None,
        dict(v.rating_classes),
        v.aeb,
        v.fuel or Fuel.PETROL,  # unknown fuel: no ECO discount, as the engine's default
        v.welfare,
        v.value_yen or 0,
        repairability_percent,
    )


def driver_entries(
    drivers: tuple[DriverInput, ...], parties: dict[int, Party], named_insured_id: int, field: str
) -> tuple[DriverEntry, ...]:
    """Version drivers: relationship from the input, licence colour and date from the party."""
    seen: set[int] = set()
    out: list[DriverEntry] = []
    for i, d in enumerate(drivers):
        f = f"{field}[{i}]"
        p = parties[d.party_id]
        if d.party_id in seen:
            raise refuse("DUPLICATE_DRIVER", f"{f}.partyId", f"party {d.party_id} is listed twice")
        seen.add(d.party_id)
        if p.kind is not PartyKind.PERSON or p.birth_date is None:
            raise refuse("DRIVER_NOT_A_PERSON", f"{f}.partyId", "a driver is a person with a birth date")
        if p.licence_colour is None:
            raise refuse("LICENCE_REQUIRED", f"{f}.partyId", f"party {p.id} has no licence registered")
        if (d.relationship is Relationship.SELF) != (d.party_id == named_insured_id):
            raise refuse("INVALID_RELATIONSHIP", f"{f}.relationship",
                         "SELF is the named insured, and the named insured is SELF")
        out.append(DriverEntry(p.id, d.relationship, p.licence_colour, p.licence_date))
    return tuple(out)


def check_drivers(
    q: QuoteInput, drivers: tuple[DriverEntry, ...], parties: dict[int, Party], ni: Party, field: str
) -> None:
    """Every listed driver (and a personal named insured) must be covered on the start date.

    The age condition binds only the named insured, spouse and cohabiting relatives (and
    employees on their business); others are covered at any age (SPEC §4.5, domain/covered.py).
    """
    corporate = ni.kind is PartyKind.CORPORATION
    cond = CoverConditions(q.age_condition, q.driver_restriction, named_insured_is_corporate=corporate)
    people: list[tuple[str, Relationship, date]] = []
    for i, d in enumerate(drivers):
        birth = parties[d.party_id].birth_date
        assert birth is not None  # driver_entries refused a driver without one
        people.append((f"{field}[{i}].partyId", d.relationship, birth))
    if not corporate and ni.birth_date is not None and ni.id not in {d.party_id for d in drivers}:
        people.append(("input.namedInsuredId", Relationship.SELF, ni.birth_date))
    for f, rel, birth in people:
        try:
            decision = decide_cover(cond, DriverFacts(rel, birth), q.start_date)
        except RuleError as e:  # born after the start date
            raise refuse("INVALID_BIRTH_DATE", f, e.message) from None
        if decision.reason_code == CoverReason.UNDER_AGE_CONDITION.value:
            raise refuse(
                "DRIVER_TOO_YOUNG", f,
                f"aged {decision.age_at_accident} on {q.start_date}, below {q.age_condition.en} ({decision.rule_ref})",
            )
        if decision.reason_code == CoverReason.OUTSIDE_DRIVER_RESTRICTION.value:
            raise refuse(
                "DRIVER_OUTSIDE_RESTRICTION", f,
                f"a {rel.en.lower()} is outside {q.driver_restriction.en} ({decision.rule_ref})",
            )


def _start_grade(
    req: QuoteRequest, product: Product, ni: Party, vehicle: Vehicle, owner: Party | None,
    certificate: Redeemed | None = None,
) -> tuple[GradeRecord | None, GradeSource | None, bool, DiscountFacts]:
    """(grade, source, grade-1 repeat surcharge, discount facts) of a new contract."""
    d = req.discounts
    facts = DiscountFacts(
        multi_car_count=d.multi_car_count, member_rank=d.member_rank, telematics_plan=d.telematics_plan,
        telematics_first_time=d.telematics_first_time, telematics_score=d.telematics_score,
        one_day_policy_count=d.one_day_policy_count, partner_plan=d.partner_plan,
        large_instalment=d.large_instalment,
    )
    if not product.graded:
        return None, None, False, facts
    if req.grade_origin is GradeOrigin.NEW:
        return new_contract_record(second_car=False), GradeSource.NEW, False, facts
    if req.grade_origin is GradeOrigin.INTERRUPTION_CERTIFICATE and certificate is not None:
        # The frozen grade and period; using a certificate loses rakuten's no-accident discount (001 L722).
        return (certificate.record, GradeSource.INTERRUPTION_CERTIFICATE, False,
                replace(facts, interruption_certificate_used=True))
    if req.grade_origin is GradeOrigin.SECOND_CAR:
        sc = req.second_car
        if sc is None:
            raise refuse("SECOND_CAR_DECLARATION_REQUIRED", "input.secondCar", "declare the household's first car")
        owner_individual = (owner or ni).kind is PartyKind.PERSON
        ok = second_car_eligibility(
            first_car_grade=sc.first_car_grade, first_car_term_years=sc.first_car_term_years,
            first_car_in_force_on_start=sc.first_car_in_force_on_start,
            first_car_private_eight=sc.first_car_private_eight,
            new_car_private_eight=vehicle.use_type.is_private_eight, new_car_has_previous_contract=False,
            named_insured_is_individual=ni.kind is PartyKind.PERSON,
            named_insured_relationship=sc.named_insured_relationship, owner_is_individual=owner_individual,
            owner_is_first_car_owner=sc.owner_is_first_car_owner, owner_relationship=sc.owner_relationship,
        )
        if not ok:
            raise refuse("SECOND_CAR_NOT_ELIGIBLE", "input.secondCar", "; ".join(ok.reasons))
        return new_contract_record(second_car=True), GradeSource.SECOND_CAR, False, facts
    prev = req.previous_contract
    if prev is None:
        raise refuse("PREVIOUS_CONTRACT_REQUIRED", "input.previousContract", "declare the previous contract")
    if prev.end_date > req.start_date + timedelta(days=366):
        raise refuse("DATES_OUT_OF_ORDER", "input.previousContract.endDate", "the previous contract ends after the new one would")
    try:
        record_ = GradeRecord.carried(prev.grade, prev.period)
        counted = [a for a in prev.accidents if a is not AccidentClass.NO_COUNT]
        outcome = renew(record_, prev.accidents, term_years=1)
        following = outcome.record if (prev.term_at_least_one_year or counted) else record_
    except RuleError as e:
        raise refuse(e.code, f"input.previousContract.{e.field}", e.message) from None
    carried = carry_over(following, previous_end=prev.end_date, new_start=req.start_date, rescinded=prev.rescinded)
    facts = replace(
        facts, previous_contract_end=prev.end_date,
        previous_term_at_least_one_year=prev.term_at_least_one_year,
        previous_term_had_counted_accident=bool(counted),
    )
    source = GradeSource.OTHER_INSURER if carried.carried else GradeSource.NEW
    return carried.record, source, carried.carried and outcome.repeat_surcharge, facts


async def _agency_for(uow: UnitOfWork, actor: Actor, req: QuoteRequest) -> int | None:
    if actor.role is Role.POLICYHOLDER:
        if req.channel is not Channel.INTERNET:
            raise refuse("CHANNEL_NOT_ALLOWED", "input.channel", "a policyholder applies on the internet")
        if req.policyholder_id != actor.party_id:
            raise not_found("party", "input.policyholderId", req.policyholder_id)
    agency = req.agency_id
    if actor.role is Role.AGENT:
        if req.channel is Channel.INTERNET:
            raise refuse("CHANNEL_NOT_ALLOWED", "input.channel", "an agent quotes through the agency")
        if agency not in (None, actor.agency_id):
            raise not_found("agency", "input.agencyId", agency)
        agency = actor.agency_id
    if req.channel is Channel.INTERNET and agency is not None:
        raise refuse("AGENCY_NOT_ALLOWED", "input.agencyId", "an internet contract has no agency")
    if req.channel is Channel.AGENT and agency is None:
        raise refuse("AGENCY_REQUIRED", "input.agencyId", "an agency contract names its agency")
    if agency is not None and actor.sees_everything and agency not in await agencies_by_id(uow.conn, [agency]):
        raise not_found("agency", "input.agencyId", agency)
    return agency


async def create_quote(uow: UnitOfWork, actor: Actor, req: QuoteRequest, now: datetime) -> ContractChange:
    product = product_of(req.product_id)
    agency = await _agency_for(uow, actor, req)
    refs = [(req.policyholder_id, "input.policyholderId"), (req.named_insured_id, "input.namedInsuredId")]
    refs += [(d.party_id, f"input.drivers[{i}].partyId") for i, d in enumerate(req.drivers)]
    parties = await visible_parties(uow, actor, refs)
    vehicle = await visible_vehicle(uow, actor, req.vehicle_id, "input.vehicleId")
    if req.start_date < today(now) and not (req.pricing_only and actor.sees_everything):
        hint = "; staff can price a past start with dryRun: true" if actor.sees_everything else ""
        raise refuse("START_DATE_IN_PAST", "input.startDate",
                     f"start date {req.start_date} is before today {today(now)}{hint}")
    ni = parties[req.named_insured_id]
    owner = None
    if vehicle.owner_party_id is not None:
        owner = (await visible_parties(uow, actor, [(vehicle.owner_party_id, "input.vehicleId")]))[vehicle.owner_party_id]
    drivers = driver_entries(req.drivers, parties, ni.id, "input.drivers")
    certificate = None
    if req.grade_origin is GradeOrigin.INTERRUPTION_CERTIFICATE and product.graded:
        certificate = await redeem(uow, actor, req.certificate_contract_id, named_insured_id=ni.id,
                                   start=req.start_date)
    grade, source, repeat, facts = _start_grade(req, product, ni, vehicle, owner, certificate)
    q = QuoteInput(
        product_id=product.id, start_date=req.start_date,
        vehicle=vehicle_facts(vehicle, req.repairability_percent), named_insured=named_insured_facts(ni),
        coverages=tuple(CoverageChoice(c.code, c.option) for c in req.coverages),
        term_months=req.term_months, channel=req.channel, payment_method=req.payment_method,
        age_condition=req.age_condition, driver_restriction=req.driver_restriction,
        use_purpose=req.use_purpose, mileage_class=req.mileage_class, grade=grade,
        grade_one_repeat=repeat, riders=req.riders, discounts=facts, fleet=req.fleet,
    )
    check_drivers(q, drivers, parties, ni, "input.drivers")
    premium = rated(product, q)

    starts_at = cover_moment(req.start_date)
    ends_at = cover_moment(add_months(req.start_date, req.term_months))
    if req.fleet is not None and req.fleet.ends_on is not None:
        ends_at = cover_moment(req.fleet.ends_on)   # the all-vehicle certificate's common expiry
    if not (req.pricing_only and req.start_date < today(now)):
        # staff pricing a past start binds nothing, and its car is usually on that very contract
        await ensure_registration_free(uow, actor, vehicle.registration_no, starts_at=starts_at, ends_at=ends_at,
                                       field="input.vehicleId")
    # Ungraded products (kyosai) still fill the NOT NULL grade columns: 6(S), never shown as a grade.
    data = version_data(
        None, q, premium, vehicle_id=vehicle.id, named_insured_id=ni.id, drivers=drivers,
        grade=grade or new_contract_record(second_car=False),
    )
    seq = int(await uow.conn.fetchval("SELECT nextval('policy_number_seq')"))
    number = f"AP-{POLICY_PREFIX.get(product.id, 'XX')}-{seq}"
    created = await create_contract(
        uow,
        NewContract(number, product.id, req.policyholder_id, req.channel, frozenset({S.QUOTED}), agency,
                    req.fleet.fleet_id if req.fleet else None),
        starts_at=starts_at, ends_at=ends_at, term_status=TermStatus.QUOTED, first_version=data, at=now,
        transaction=NewTransaction(
            TransactionKind.QUOTE, actor.subject, actor.role, now, starts_at, None, req.idempotency_key, 0,
            {"premiumYen": premium.total, "tariffVersion": premium.tariff_version,
             "gradeSource": source.value if source else None,
             **({"certificateContractId": certificate.contract_id} if certificate else {})},
        ),
    )
    c, term = created.contract, created.term
    assert created.transaction_id is not None
    if grade is not None and source is not None:
        await record_grade(uow, c.id, term.id, grade, source, recorded_at=now)
    await emit(uow, c, EventKind.QUOTE_CREATED,
               {"productId": product.id, "startsAt": starts_at.isoformat(), "premiumYen": premium.total},
               now, created.transaction_id)
    return change(
        c, created.transaction_id, TransactionKind.QUOTE, [S.QUOTED], c.lock_version, term.term_no,
        starts_at, 0, premium.total, 0, version_id=created.version.id, grade=grade,
        tariff_version=premium.tariff_version, premium=premium,
    )


async def _certificate_still_free(uow: UnitOfWork, contract_id: int) -> None:
    """A quote that redeems a certificate is issued only while no other contract used it up."""
    cert_id = await uow.conn.fetchval(
        """SELECT (explanation ->> 'certificateContractId')::bigint FROM transactions
           WHERE contract_id = $1 AND kind = 'QUOTE'""", contract_id)
    if cert_id is None:
        return
    await uow.conn.execute("SELECT 1 FROM contracts WHERE id = $1 FOR UPDATE", cert_id)  # one issue at a time
    other = await used_by(uow, cert_id, other_than=contract_id)
    if other is not None:
        raise refuse("CERTIFICATE_ALREADY_USED", "input.contractId", f"the interruption certificate was used by {other}")


async def issue_contract(uow: UnitOfWork, actor: Actor, req: IssueRequest, now: datetime) -> ContractChange:
    """QUOTED → IN_FORCE; the term is SCHEDULED until its start, IN_FORCE from it.

    The quote is re-rated on the product files in force now: if its premium or tariff version
    changed since quoting, the quote is refused as QUOTE_OUTDATED (re-quote), never bound at a
    price the customer did not see.
    """
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.ISSUE, c, actor)
    if actor.role is Role.POLICYHOLDER and c.channel is not Channel.INTERNET:
        raise refuse("CHANNEL_NOT_ALLOWED", "input.contractId", "an agency quote is bound by the agency")
    term = (await terms(uow.conn, c.id))[-1]
    start = term.starts_at.astimezone(JST).date()
    if start < today(now):
        raise refuse("START_DATE_IN_PAST", "input.contractId", f"the quote starts {start}, before today; re-quote")
    await _certificate_still_free(uow, c.id)
    v = await version_as_of(uow.conn, c.id, term.starts_at)
    if v is None:
        raise not_found("contract", "input.contractId", c.id)
    product = product_of(c.product_id, "input.contractId")
    q = quote_from_json(v.data.rating_input)
    premium = rated(product, q)
    if premium.total != v.data.premium_yen or premium.tariff_version != v.data.premium.get("tariffVersion"):
        raise refuse(
            "QUOTE_OUTDATED", "input.contractId",
            f"quoted {v.data.premium_yen} yen, now {premium.total} yen ({premium.tariff_version}); re-quote",
        )
    car = (await vehicles_by_id(uow.conn, [v.data.vehicle_id]))[v.data.vehicle_id]
    await ensure_registration_free(uow, actor, car.registration_no, starts_at=term.starts_at, ends_at=term.ends_at,
                                   field="input.contractId", contract_id=c.id)
    lock = await lock_contract(uow, c.id, req.expected_version)
    await set_term_status(uow, term.id, TermStatus.SCHEDULED if now < term.starts_at else TermStatus.IN_FORCE)
    await set_statuses(uow, c.id, [S.IN_FORCE])
    delta = steps(("term premium charged", premium.total, premium.tariff_version))
    tx = await record(
        uow, actor, c.id, TransactionKind.ISSUE, now, effective_at=term.starts_at, reason=None,
        idempotency_key=req.idempotency_key, delta=premium.total,
        explanation={"steps": [{"name": s.name, "value": s.value, "rule": s.rule} for s in delta]},
    )
    await publish(uow, TermBound(c, term, premium.total), now)
    await emit(uow, c, EventKind.CONTRACT_ISSUED, {"premiumYen": premium.total, "startsAt": term.starts_at.isoformat()}, now, tx)
    return change(
        c, tx, TransactionKind.ISSUE, [S.IN_FORCE], lock, term.term_no, term.starts_at, 0, premium.total,
        premium.total, delta_steps=delta, version_id=v.id, grade=v.data.grade if product.graded else None,
        tariff_version=premium.tariff_version, premium=premium,
    )
