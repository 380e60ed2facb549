"""Claim use cases (SPEC §4.8, issue 6): first notice of loss, workflow, reserves and payments,
kyosai benefits, grade class, documents, and the reactions claims own (windows resolved, premium standing changed) and a term's claims.

Each use case runs in the caller's unit of work and locks the contract row, then the claim row (one
order everywhere, so a claim action and a window resolving on the same contract cannot deadlock).
Refusals raise `Refused`/`RuleError` before anything is written, or roll the whole unit back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from domain.calendar import JST, RuleError
from domain.claims.coverage import fnol_refusal
from domain.claims.documents import ClaimType, documents_for
from domain.claims.impact import ClaimGradeImpact, GradeOverride, claim_grade_impact
from domain.claims.kyosai import (
    Benefit,
    BenefitAmount,
    Treatment,
    after_effects_benefit,
    death_benefit,
    hospital_benefits,
    outpatient_benefit,
    temporary_expenses,
)
from domain.claims.lines import (
    Limit,
    LimitBasis,
    LineTerms,
    Payment,
    record_payment,
    set_reserve,
    settle,
)
from domain.claims.rider_payout import (
    Assessment,
    LossFacts,
    PayoutContext,
    assess,
    product_rules,
    rule_of,
)
from domain.claims.workflow import (
    ActorRole,
    ClaimAction,
    ClaimState,
    ClaimStatus,
    CoverageState,
    transition,
)
from domain.grade_accidents import NoFault, VehicleCause
from domain.lifecycle import Role
from domain.products import Product, default_catalog
from domain.products.payout import LossCause
from domain.renewal import TermClaim
from domain.services.access import (
    SYSTEM,
    Actor,
    can_read_contract,
    can_read_party,
    can_read_vehicle,
)
from domain.services.claims import coverage as cov
from domain.services.claims import payouts
from domain.services.claims import types as t
from domain.services.claims.payouts import is_kyosai
from domain.services.contracts.support import visible_contract
from domain.services.errors import Refused, not_found, refuse
from domain.services.reactions import (
    PremiumStandingChanged,
    RenewalInputsChanged,
    WindowResolved,
    publish,
)
from domain.store import claim_repo as repo
from domain.store.contract_repo import Contract, get_contract, get_contract_for_update
from domain.store.outbox import append_events
from domain.store.party_repo import Party, PartyKind, parties_by_id, vehicles_by_id
from domain.store.uow import UnitOfWork
from domain.vocab import Relationship

KYOSAI_PERSONAL = "ACCIDENT_EXPENSE"
KYOSAI_VEHICLE = "VEHICLE_ACCIDENT"
KYOSAI_PROPERTY = "PROPERTY_DAMAGE"
EXCESS_REPAIR = "EXCESS_REPAIR"

# Which claim types (documents) a coverage brings, when the reporter names none.
_TYPES_BY_COVERAGE: Mapping[str, ClaimType] = {
    "BI": ClaimType.BODILY_INJURY_LIABILITY, "TEMPORARY_BI_EXPENSE": ClaimType.BODILY_INJURY_LIABILITY,
    "PD": ClaimType.PROPERTY_DAMAGE_LIABILITY, EXCESS_REPAIR: ClaimType.PROPERTY_DAMAGE_LIABILITY,
    "PI": ClaimType.OWN_INJURY, "PIP": ClaimType.OWN_INJURY, "PASSENGER": ClaimType.OWN_INJURY,
    "VEHICLE": ClaimType.VEHICLE_DAMAGE, "ROAD_ASSISTANCE": ClaimType.ROAD_ASSISTANCE,
    "ROAD_SERVICE": ClaimType.ROAD_ASSISTANCE, KYOSAI_PERSONAL: ClaimType.KYOSAI_INJURY,
    KYOSAI_VEHICLE: ClaimType.KYOSAI_VEHICLE, KYOSAI_PROPERTY: ClaimType.KYOSAI_PROPERTY,
}

# Input paths for the fields the pure rules name.
_FIELDS = {"claim": "input.claimId", "amount": "input.amountYen", "loss": "input.lossYen",
           "reserve": "input.reserveYen", "coverage": "input.coverage", "action": "input.action",
           "reason": "input.reason", "override": "input.overrideClass", "person": "input.person",
           "vehicle": "input.vehicle", "accidentAt": "input.accidentAt", "vehicleId": "input.vehicleId",
           "vehicle_cause": "input.vehicleCause", "vehicleSumInsured": "input.coverage"}


def _rule(e: RuleError) -> Refused:
    f = e.field or ""
    return refuse(e.code, f if f.startswith("input") else _FIELDS.get(f, f"input.{f}" if f else ""), e.message)


def role_of(actor: Actor) -> ActorRole:
    return {Role.POLICYHOLDER: ActorRole.POLICYHOLDER, Role.AGENT: ActorRole.AGENT,
            Role.STAFF: ActorRole.STAFF}.get(actor.role, ActorRole.ADMIN)


def product_for(contract: Contract) -> Product:
    p = default_catalog().get(contract.product_id)
    if p is None:
        raise refuse("UNKNOWN_PRODUCT", "input.contractId", f"no product {contract.product_id!r}")
    return p


def _staff_only(actor: Actor, what: str) -> None:
    if not actor.sees_everything:
        raise refuse("ACTION_NOT_ALLOWED", "input.claimId", f"only insurer staff may {what}")


def _result(c: repo.StoredClaim, paid: int = 0) -> t.ClaimResult:
    return t.ClaimResult(c.id, c.claim_number, c.status.value, c.coverage.value, paid)


async def _events(
    uow: UnitOfWork, claim: repo.StoredClaim, contract: Contract, items: list[repo.NewEvent], now: datetime,
    outbox: tuple[str, Mapping[str, Any]] | None = None,
) -> None:
    await repo.append_claim_events(uow.conn, claim.id, items, at=now)
    if outbox is not None:
        kind, payload = outbox
        body = {"policyNumber": contract.policy_number, "claimNumber": claim.claim_number, **payload}
        await append_events(uow, contract.id, [(kind, body)], at=now)


def _ev(actor: Actor, kind: str, **kw: Any) -> repo.NewEvent:
    return repo.NewEvent(kind=kind, actor_subject=actor.subject, actor_role=actor.role.value, **kw)


async def visible_claim(uow: UnitOfWork, actor: Actor, claim_id: int, *,
                        lock: bool = True) -> tuple[repo.StoredClaim, Contract]:
    """The claim and its contract, both locked (contract first) unless `lock` is off (a read);
    another's claim looks missing."""
    first = await repo.get_claim(uow.conn, claim_id)
    if first is None:
        raise not_found("claim", "input.claimId", claim_id)
    if not lock:
        contract = await get_contract(uow.conn, first.contract_id)
        if contract is None or not can_read_contract(actor, contract):
            raise not_found("claim", "input.claimId", claim_id)
        return first, contract
    contract = await get_contract_for_update(uow.conn, first.contract_id)
    if contract is None or not can_read_contract(actor, contract):
        raise not_found("claim", "input.claimId", claim_id)
    claim = await repo.get_claim(uow.conn, claim_id, for_update=True)
    assert claim is not None
    return claim, contract


async def _lines(uow: UnitOfWork, claim_id: int) -> list[repo.StoredLine]:
    return (await repo.lines_of(uow.conn, [claim_id]))[claim_id]


# --- line terms ---------------------------------------------------------------------------------


async def line_terms(uow: UnitOfWork, product: Product, claim: repo.StoredClaim, code: str) -> LineTerms:
    """The limits and deductible a new line opens with (domain.services.claims.payouts), as a refusal."""
    try:
        return await payouts.line_terms(uow, product, claim, code)
    except RuleError as e:
        raise _rule(e) from None


async def _refresh_unpaid_lines(uow: UnitOfWork, product: Product, claim: repo.StoredClaim) -> None:
    """A re-decided claim takes the limits of the version now in force at its accident (a filed swap
    insures the new car at its value at acquisition, 002b L4145): lines opened while it was pending
    paid nothing (nothing is approved while pending), so their terms are derived again."""
    for line in await _lines(uow, claim.id):
        if line.paid_yen == 0:
            await repo.save_line(uow.conn, line.id, reserve_yen=line.reserve_yen,
                                 terms=await line_terms(uow, product, claim, line.coverage))


async def _open_lines(uow: UnitOfWork, product: Product, claim: repo.StoredClaim, codes: Iterable[str],
                      now: datetime) -> None:
    for code in sorted(set(codes)):
        await repo.open_line(uow.conn, claim.id, await line_terms(uow, product, claim, code), 0, now=now)


# --- first notice of loss -----------------------------------------------------------------------


def _claim_types(req: t.ReportAccident, product: Product) -> tuple[str, ...]:
    if req.claim_types:
        return tuple(sorted({x.value for x in req.claim_types}))
    types = {_TYPES_BY_COVERAGE[c].value for c in req.coverages_claimed if c in _TYPES_BY_COVERAGE}
    if any(i.deceased for i in req.injuries):
        types.add((ClaimType.KYOSAI_DEATH if is_kyosai(product) else ClaimType.DEATH).value)
    return tuple(sorted(types))


def _product_codes(p: Product) -> frozenset[str]:
    return frozenset({c.code for c in p.coverages} | {r.code for r in p.riders})


async def _driver(uow: UnitOfWork, actor: Actor, party_id: int | None) -> Party | None:
    if party_id is None:
        return None
    p = (await parties_by_id(uow.conn, [party_id])).get(party_id)
    if p is None or not can_read_party(actor, p):
        raise not_found("driver", "input.driverId", party_id)
    if p.kind is not PartyKind.PERSON or p.birth_date is None:
        raise refuse("DRIVER_NOT_A_PERSON", "input.driverId", "the driver is a person with a birth date")
    return p


async def report_accident(uow: UnitOfWork, actor: Actor, req: t.ReportAccident, now: datetime) -> t.ClaimResult:
    """FNOL: check the report, decide coverage at the accident moment, store the claim with its
    decision, open a line per coverage claimed that may pay, and record who reported it."""
    contract = await visible_contract(uow, actor, req.contract_id)
    product = product_for(contract)
    if req.accident_at.tzinfo is None:
        raise refuse("NAIVE_DATETIME", "input.accidentAt", "the accident time needs a time zone offset")
    if req.accident_at > now:
        raise refuse("ACCIDENT_IN_FUTURE", "input.accidentAt", f"{req.accident_at.isoformat()} is after now")
    if not req.place.strip():
        raise refuse("PLACE_REQUIRED", "input.place", "say where the accident happened")
    if not req.description.strip():
        raise refuse("DESCRIPTION_REQUIRED", "input.description", "describe what happened")
    if req.amount_claimed_yen < 0:
        raise refuse("NEGATIVE_AMOUNT", "input.amountClaimedYen", "cannot be negative")
    known = _product_codes(product)
    for i, code in enumerate(req.coverages_claimed):
        if code not in known:
            raise refuse("UNKNOWN_COVERAGE", f"input.coveragesClaimed[{i}]", f"{product.id} has no {code!r}")
    vehicle = (await vehicles_by_id(uow.conn, [req.vehicle_id])).get(req.vehicle_id)
    if vehicle is None or not can_read_vehicle(actor, vehicle):
        raise not_found("vehicle", "input.vehicleId", req.vehicle_id)
    driver = await _driver(uow, actor, req.driver_party_id)
    accident = cov.AccidentInput(req.accident_at, req.vehicle_id, req.driver_party_id, req.driver_relationship,
                                 frozenset(req.coverages_claimed))
    try:
        decided = await cov.decide(uow, contract, accident, now=now, driver=driver)
    except RuleError as e:
        raise _rule(e) from None
    bad = fnol_refusal(decided.decision)
    if bad is not None:
        raise _rule(bad)
    claim = await repo.insert_claim(uow.conn, repo.NewClaim(
        contract_id=contract.id, term_id=decided.term_id, version_id=decided.stored.version_id,
        accident_at=req.accident_at, place=req.place.strip(), vehicle_id=req.vehicle_id,
        driver_party_id=req.driver_party_id,
        driver_relationship=None if decided.relationship is None else decided.relationship.value,
        description=req.description.strip(),
        other_parties=[{"name": o.name, "vehicleRegistrationNo": o.vehicle_registration_no, "insurer": o.insurer,
                        "contact": o.contact, "faultPercent": o.fault_percent} for o in req.other_parties],
        police_report_no=req.police_report_no,
        injuries=[{"person": i.person, "description": i.description, "hospitalised": i.hospitalised,
                   "deceased": i.deceased} for i in req.injuries],
        claimed_coverages=tuple(dict.fromkeys(req.coverages_claimed)), claim_types=_claim_types(req, product),
        vehicle_cause=None if req.vehicle_cause is None else req.vehicle_cause.value,
        amount_claimed_yen=req.amount_claimed_yen, reported_by=actor.subject, reported_role=actor.role.value,
    ), decided.stored, now=now)
    await _open_lines(uow, product, claim, set(req.coverages_claimed) & set(decided.stored.applicable), now)
    d = decided.stored
    await _events(uow, claim, contract, [
        _ev(actor, "REPORTED", to_status=ClaimStatus.REPORTED.value,
            payload={"accidentAt": req.accident_at.isoformat(), "place": claim.place}),
        _ev(actor, "COVERAGE_DECIDED", payload={"state": d.state.value, "applicable": list(d.applicable),
                                                "waitingFor": list(d.waiting_for)}),
    ], now, ("CLAIM_REPORTED", {"accidentAt": req.accident_at.isoformat(), "coverageState": d.state.value}))
    return _result(claim)


# --- re-deciding coverage (windows) ---------------------------------------------------------------


async def on_window_resolved(uow: UnitOfWork, event: WindowResolved, now: datetime) -> None:
    await redecide_window_claims(uow, event.window.id, now)


async def on_premium_standing_changed(uow: UnitOfWork, event: PremiumStandingChanged, now: datetime) -> None:
    await redecide_premium_claims(uow, event.contract_id, now)


async def redecide_window_claims(uow: UnitOfWork, window_id: int, now: datetime) -> int:
    """Re-decide every claim the window holds COVERAGE_PENDING (on a `WindowResolved` reaction).
    Idempotent: a claim no longer pending is not touched again. Answers how many were re-decided."""
    pending = await repo.pending_claims_of_window(uow.conn, window_id)
    for claim in pending:
        await _redecide(uow, claim, now, f"window {window_id} resolved", {"windowId": window_id})
    return len(pending)


# What a claim waits for when the premium holds it (domain.claims.coverage, SPEC §4.7).
PREMIUM_WAITS = ("FIRST_PREMIUM_UNPAID", "PREMIUM_OVERDUE",
                 "VEHICLE_SWAP_WINDOW_PREMIUM_UNPAID", "DRIVER_CHANGE_WINDOW_PREMIUM_UNPAID")


async def redecide_premium_claims(uow: UnitOfWork, contract_id: int, now: datetime) -> int:
    """Re-decide the contract's claims held COVERAGE_PENDING for the premium
    (on a `PremiumStandingChanged` reaction): paid → covered (SPEC §4.7 "waits for that payment"),
    rescinded for non-payment → not covered (001 L833). A decision that comes out the same is not
    stored again (no event), so calling this after every payment change is idempotent. Answers how
    many decisions changed."""
    changed = 0
    for claim in await repo.pending_claims_waiting_for(uow.conn, contract_id, PREMIUM_WAITS):
        changed += await _redecide(uow, claim, now, "premium standing changed", {}, only_if_changed=True)
    return changed


async def _redecide(uow: UnitOfWork, claim: repo.StoredClaim, now: datetime, reason: str,
                    payload: dict[str, Any], *, only_if_changed: bool = False) -> bool:
    contract = await get_contract(uow.conn, claim.contract_id)
    assert contract is not None
    driver = None
    if claim.driver_party_id is not None:
        driver = (await parties_by_id(uow.conn, [claim.driver_party_id]))[claim.driver_party_id]
    rel = None if claim.driver_relationship is None else Relationship(claim.driver_relationship)
    accident = cov.AccidentInput(claim.accident_at, claim.vehicle_id, claim.driver_party_id, rel,
                                 frozenset(claim.claimed_coverages))
    try:
        decided = await cov.decide(uow, contract, accident, now=now, driver=driver, check_future=False)
    except RuleError as e:
        await _events(uow, claim, contract, [_ev(SYSTEM, "COVERAGE_REDECISION_FAILED", reason=e.message,
                                                 payload={**payload, "code": e.code})], now)
        return False
    d = decided.stored
    old = claim.decision
    if only_if_changed and (d.state, tuple(d.applicable), d.liability_only, tuple(d.waiting_for)) == (
            old.state, tuple(old.applicable), old.liability_only, tuple(old.waiting_for)):
        return False
    await repo.save_decision(uow.conn, claim.id, d, decided.term_id)
    fresh = await repo.get_claim(uow.conn, claim.id)
    assert fresh is not None
    await _refresh_unpaid_lines(uow, product_for(contract), fresh)
    await _open_lines(uow, product_for(contract), fresh,
                      set(claim.claimed_coverages) & set(d.applicable), now)
    await _events(uow, claim, contract, [
        _ev(SYSTEM, "COVERAGE_REDECIDED", reason=reason,
            payload={"from": claim.coverage.value, "state": d.state.value, "applicable": list(d.applicable),
                     "liabilityOnly": d.liability_only, **payload}),
    ], now, ("CLAIM_COVERAGE_DECIDED", {"coverageState": d.state.value, **payload}))
    return True


# --- workflow ------------------------------------------------------------------------------------


async def transition_claim(uow: UnitOfWork, actor: Actor, req: t.TransitionClaim, now: datetime) -> t.ClaimResult:
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    if req.action is ClaimAction.PAY:
        raise refuse("USE_RECORD_PAYMENT", "input.action", "a claim is paid by recording a payment (recordClaimPayment)")
    lines = await _lines(uow, claim.id)
    paid = sum(ln.paid_yen for ln in lines)
    try:
        tr = transition(ClaimState(claim.status, claim.coverage), req.action, role_of(actor),
                        reason=req.reason, paid_total=paid)
    except RuleError as e:
        raise _rule(e) from None
    withdrawn = tr.after.status is ClaimStatus.WITHDRAWN
    await repo.save_status(uow.conn, claim.id, tr.after.status, now=now, withdrawn_at=now if withdrawn else None,
                           repayment_due_yen=paid if withdrawn else None)
    await _events(uow, claim, contract, [
        _ev(actor, req.action.value, from_status=claim.status.value, to_status=tr.after.status.value,
            reason=tr.reason or None, payload={"repaymentDueYen": paid} if tr.repayment_due else {}),
    ], now, (f"CLAIM_{tr.after.status.value}", {"action": req.action.value, "reason": tr.reason}))
    after = await repo.get_claim(uow.conn, claim.id)
    assert after is not None
    if withdrawn:
        await _reclassify(uow, actor, contract, after, lines, now, why=f"claim {claim.claim_number} withdrawn")
    return _result(after)


# --- reserves and payments ----------------------------------------------------------------------


async def _line_for(uow: UnitOfWork, product: Product, claim: repo.StoredClaim, code: str,
                    now: datetime) -> repo.StoredLine:
    lines = {ln.coverage: ln for ln in await _lines(uow, claim.id)}
    if code not in lines:
        if code not in claim.decision.applicable:
            raise refuse("COVERAGE_NOT_APPLICABLE", "input.coverage", f"{code} does not apply to this claim")
        await repo.open_line(uow.conn, claim.id, await line_terms(uow, product, claim, code), 0, now=now)
        lines = {ln.coverage: ln for ln in await _lines(uow, claim.id)}
    return lines[code]


_CLOSED = frozenset({ClaimStatus.CLOSED, ClaimStatus.DENIED, ClaimStatus.WITHDRAWN})


async def set_claim_reserve(uow: UnitOfWork, actor: Actor, req: t.SetReserve, now: datetime) -> t.ClaimResult:
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    _staff_only(actor, "set a reserve")
    if req.reserve_yen < 0:
        raise refuse("NEGATIVE_AMOUNT", "input.reserveYen", "a reserve cannot be negative")
    if claim.status in _CLOSED and req.reserve_yen > 0:
        raise refuse("CLAIM_NOT_OPEN", "input.claimId", f"the claim is {claim.status.en.lower()}")
    line = await _line_for(uow, product_for(contract), claim, req.coverage, now)
    try:
        set_reserve(line.as_line(), req.reserve_yen)
    except RuleError as e:
        raise _rule(e) from None
    await repo.save_line(uow.conn, line.id, reserve_yen=req.reserve_yen)
    await _events(uow, claim, contract, [
        _ev(actor, "RESERVE_SET", internal=True,
            payload={"coverage": req.coverage, "from": line.reserve_yen, "to": req.reserve_yen}),
    ], now)
    return _result(claim)


async def _amount(uow: UnitOfWork, product: Product, req: t.RecordPayment, line: repo.StoredLine,
                  claim: repo.StoredClaim) -> tuple[int, str, Assessment | None]:
    given = [x for x in (req.amount_yen, req.loss_yen, req.excess_repair, req.rider_loss) if x is not None]
    if len(given) != 1:
        raise refuse("INVALID_PAYMENT_INPUT", "input",
                     "give exactly one of amountYen, lossYen, excessRepair and riderLoss")
    if req.amount_yen is not None:
        return req.amount_yen, "", None
    if req.loss_yen is not None:
        pl = line.as_line()
        before = pl.paid_to(person=req.person) if req.person else (
            pl.paid_to(vehicle=req.vehicle) if req.vehicle else pl.paid)
        try:
            s = settle(line.terms, req.loss_yen, total_loss=req.total_loss, paid_before=before)
        except RuleError as e:
            raise _rule(e) from None
        if s.payable <= 0:
            raise refuse("NOTHING_PAYABLE", "input.lossYen", "; ".join(s.explanation))
        return s.payable, "; ".join(s.explanation), None
    facts, field = req.rider_loss, "input.riderLoss"
    if req.excess_repair is not None:      # the excess-repair facts are a stated loss of its rule (001 L272)
        if line.coverage != EXCESS_REPAIR:
            raise refuse("NOT_EXCESS_REPAIR", "input.coverage", "the excess-repair formula pays the EXCESS_REPAIR line")
        er = req.excess_repair
        try:
            facts = LossFacts(loss_yen=er.repair_cost_yen, market_value_yen=er.market_value_yen,
                              fault_percent=er.fault_percent, repaired_on=er.repaired_on)
        except RuleError as e:
            raise _rule(e) from None
        field = "input.excessRepair"
    assert facts is not None
    a = await assess_rider(uow, product, claim, line.coverage, facts, person=req.person, vehicle=req.vehicle)
    if a.payable <= 0:
        raise refuse("NOTHING_PAYABLE", field, a.text())
    return a.payable, a.text(), a


async def assess_rider(uow: UnitOfWork, product: Product, claim: repo.StoredClaim, code: str, facts: LossFacts, *,
                       person: str | None, vehicle: str | None) -> Assessment:
    try:
        return await payouts.assess_line(uow, product, claim, await _lines(uow, claim.id), code, facts,
                                         person=person, vehicle=vehicle)
    except RuleError as e:
        raise _rule(e) from None


async def rider_assessment(uow: UnitOfWork, actor: Actor, req: t.AssessRider, now: datetime) -> Assessment:
    """What a rider (or a coverage with a pay-out rule) pays on this claim for the stated loss, with its
    explanation; stores nothing (the query runs in a unit of work that rolls back) and locks nothing,
    so a holder or agent asking does not queue behind the staff's writes to the contract."""
    claim, contract = await visible_claim(uow, actor, req.claim_id, lock=False)
    return await assess_rider(uow, product_for(contract), claim, req.rider, req.loss, person=req.person,
                              vehicle=req.vehicle)


async def record_claim_payment(uow: UnitOfWork, actor: Actor, req: t.RecordPayment, now: datetime) -> t.ClaimResult:
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    _staff_only(actor, "record a payment")
    product = product_for(contract)
    # the state refusals first: a denied claim is refused as such whatever the line
    if claim.status is ClaimStatus.DENIED:
        raise refuse("CLAIM_DENIED", "input.claimId", "a denied claim cannot be paid")
    if claim.status not in (ClaimStatus.APPROVED, ClaimStatus.PAID):
        raise refuse("CLAIM_NOT_APPROVED", "input.claimId", f"a claim that is {claim.status.en.lower()} cannot be paid")
    if req.amount_yen is not None and req.amount_yen <= 0:
        raise refuse("PAYMENT_NOT_POSITIVE", "input.amountYen", "a payment must be more than ¥0")
    line = await _line_for(uow, product, claim, req.coverage, now)
    if is_kyosai(product) and not claim.kyosai_benefits:
        raise refuse("KYOSAI_NOT_ASSESSED", "input.claimId", "assess the fixed benefits first (assessKyosaiBenefits)")
    amount, why, assessment = await _amount(uow, product, req, line, claim)
    elsewhere = await repo.paid_in_term_elsewhere(uow.conn, claim.term_id, claim.id, req.coverage)
    payment = Payment(amount, req.paid_on or now.astimezone(JST).date(), req.person, req.vehicle,
                      req.note or why)
    try:
        paid_line = record_payment(line.as_line(), payment, status=claim.status,
                                   applicable=claim.decision.applicable, paid_in_year_elsewhere=elsewhere)
    except RuleError as e:
        raise _rule(e) from None
    await repo.insert_payment(uow.conn, claim.id, line.id, payment, actor_subject=actor.subject, now=now,
                              assessment=assessment)
    await repo.save_line(uow.conn, line.id, reserve_yen=paid_line.reserve)
    items = [_ev(actor, "PAYMENT_RECORDED", payload={"coverage": req.coverage, "amountYen": amount,
                                                     "person": req.person, "vehicle": req.vehicle, "why": why})]
    if claim.status is ClaimStatus.APPROVED:
        tr = transition(ClaimState(claim.status, claim.coverage), ClaimAction.PAY, role_of(actor))
        await repo.save_status(uow.conn, claim.id, tr.after.status, now=now)
        items.append(_ev(actor, ClaimAction.PAY.value, from_status=claim.status.value, to_status=tr.after.status.value))
    await _events(uow, claim, contract, items, now,
                  ("CLAIM_PAYMENT", {"coverage": req.coverage, "amountYen": amount}))
    after = await repo.get_claim(uow.conn, claim.id)
    assert after is not None
    await _reclassify(uow, actor, contract, after, await _lines(uow, claim.id), now,
                      why=f"claim {claim.claim_number} paid under {req.coverage}")
    return _result(after, amount)


# --- grade class --------------------------------------------------------------------------------


def impact_of(product: Product, claim: repo.StoredClaim, lines: Iterable[repo.StoredLine], *,
              as_if_paid: bool = False) -> ClaimGradeImpact:
    """The claim's grade class from the coverages it paid under. `as_if_paid` (the advisor): the
    class it takes if every line it opened pays and it is not withdrawn."""
    coverages = [ln.coverage for ln in lines if as_if_paid or ln.paid_yen > 0]
    if as_if_paid and not coverages:
        coverages = list(claim.claimed_coverages)
    override = None
    if claim.grade_overridden:
        override = GradeOverride(claim.override_class, claim.override_reason or "", ActorRole.STAFF)
    return claim_grade_impact(
        product, coverages,
        vehicle_cause=None if claim.vehicle_cause is None else VehicleCause(claim.vehicle_cause),
        no_fault=NoFault(claim.no_fault), withdrawn=not as_if_paid and claim.status is ClaimStatus.WITHDRAWN,
        override=override)


async def _reclassify(uow: UnitOfWork, actor: Actor, contract: Contract, claim: repo.StoredClaim,
                      lines: Iterable[repo.StoredLine], now: datetime, *, why: str,
                      before: repo.StoredClaim | None = None) -> ClaimGradeImpact:
    """Store the claim's class (from `claim`, the claim as it now stands); when it changed from
    `before` (default: `claim`), say so in its history and ask for the renewal offer to be
    recomputed (a `RenewalInputsChanged` reaction)."""
    was = before or claim
    product = product_for(contract)
    try:
        impact = impact_of(product, claim, lines)
    except RuleError as e:
        raise _rule(e) from None
    await repo.save_grade(uow.conn, claim.id, repo.GradeFields(
        impact.accident_class, impact.reason, impact.overridden, claim.override_class, claim.override_reason,
        claim.vehicle_cause, claim.no_fault), now=now)
    if impact.accident_class is not was.grade_class or impact.overridden != was.grade_overridden:
        frm = None if was.grade_class is None else was.grade_class.value
        to = None if impact.accident_class is None else impact.accident_class.value
        await _events(uow, claim, contract, [
            _ev(actor, "GRADE_CLASS_CHANGED", reason=impact.reason,
                payload={"from": frm, "to": to, "overridden": impact.overridden}),
        ], now, ("CLAIM_CLASSIFIED", {"from": frm, "to": to}))
        await publish(uow, RenewalInputsChanged(contract.id, why), now)
    return impact


async def classify_claim(uow: UnitOfWork, actor: Actor, req: t.ClassifyClaim, now: datetime) -> t.ClaimResult:
    """Staff: the vehicle cause and no-fault case the class depends on, and an override with a reason."""
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    _staff_only(actor, "classify a claim")
    if req.override and req.not_counted and req.override_class is not None:
        raise refuse("INVALID_OVERRIDE", "input.overrideClass", "give a class or notCounted, not both")
    overridden, o_class, o_reason = claim.grade_overridden, claim.override_class, claim.override_reason
    if req.override:
        if req.override_class is None and not req.not_counted:
            overridden, o_class, o_reason = False, None, None
        else:
            try:
                claim_grade_impact(product_for(contract), (), override=GradeOverride(
                    req.override_class, req.reason, role_of(actor)))
            except RuleError as e:
                raise _rule(e) from None
            overridden, o_class, o_reason = True, req.override_class, req.reason.strip()
    changed = replace(
        claim, vehicle_cause=req.vehicle_cause.value if req.vehicle_cause else claim.vehicle_cause,
        no_fault=req.no_fault.value if req.no_fault else claim.no_fault,
        grade_overridden=overridden, override_class=o_class, override_reason=o_reason)
    await _events(uow, claim, contract, [_ev(actor, "CLASSIFIED", reason=req.reason.strip() or None, payload={
        "vehicleCause": changed.vehicle_cause, "noFault": changed.no_fault, "overridden": overridden,
        "overrideClass": None if o_class is None else o_class.value})], now)
    await _reclassify(uow, actor, contract, changed, await _lines(uow, claim.id), now,
                      why=f"claim {claim.claim_number} classified", before=claim)
    after = await repo.get_claim(uow.conn, claim.id)
    assert after is not None
    return _result(after)


# --- documents and notes ------------------------------------------------------------------------


def required(claim: repo.StoredClaim) -> tuple[Any, ...]:
    return documents_for([ClaimType(x) for x in claim.claim_types], amount_claimed=claim.amount_claimed_yen)


async def receive_documents(uow: UnitOfWork, actor: Actor, req: t.ReceiveDocuments, now: datetime) -> t.ClaimResult:
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    if actor.role not in (Role.AGENT, Role.STAFF, Role.ADMIN, Role.SYSTEM):
        raise refuse("ACTION_NOT_ALLOWED", "input.claimId", "documents are received by the agent or the insurer")
    if not req.documents:
        raise refuse("DOCUMENTS_REQUIRED", "input.documents", "name at least one document")
    got = set(claim.documents_received) | {d.value for d in req.documents}
    await repo.save_documents(uow.conn, claim.id, got, now=now)
    await _events(uow, claim, contract, [_ev(actor, "DOCUMENTS_RECEIVED",
                                             payload={"documents": sorted(d.value for d in req.documents)})], now)
    return _result(claim)


async def add_note(uow: UnitOfWork, actor: Actor, req: t.AddNote, now: datetime) -> t.ClaimResult:
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    _staff_only(actor, "write staff notes")
    if not req.note.strip():
        raise refuse("NOTE_REQUIRED", "input.note", "the note is empty")
    line = f"[{now.astimezone(JST):%Y-%m-%d %H:%M} {actor.subject}] {req.note.strip()}"
    await repo.save_notes(uow.conn, claim.id, f"{claim.staff_notes}\n{line}" if claim.staff_notes else line, now=now)
    await _events(uow, claim, contract, [_ev(actor, "NOTE_ADDED", internal=True)], now)
    return _result(claim)


# --- kyosai --------------------------------------------------------------------------------------

_KYOSAI_LINE = {Benefit.VEHICLE: KYOSAI_VEHICLE, Benefit.PROPERTY: KYOSAI_PROPERTY}
_KYOSAI_RIDERS = (KYOSAI_VEHICLE, KYOSAI_PROPERTY)


def _kyosai_rider(product: Product, code: str, benefit: Benefit, facts: LossFacts, claim: repo.StoredClaim,
                  held: frozenset[str], times_paid: int) -> BenefitAmount:
    """A kyosai rider's fixed benefit by its pay-out rule in the product file (003 L44-50): refused when
    the rider is not held, or when it would pay again in the same year (once a year, 003 L46, L50)."""
    if code not in held:
        raise RuleError("RIDER_NOT_HELD", "rider", f"the {benefit.en.lower()} rider is not on the contract")
    rule = rule_of(product, code)
    a = assess(code, rule, facts, PayoutContext(claim.accident_at.astimezone(JST).date(), held, held,
                                                rules=product_rules(product)))
    if a.payable and rule.times_per_year is not None and times_paid >= rule.times_per_year:
        raise RuleError("BENEFIT_ALREADY_PAID_THIS_YEAR", "benefit",
                        f"the {benefit.en.lower()} is paid {rule.times_per_year} time(s) a year ({rule.source})")
    return BenefitAmount(benefit, a.payable, None, a.text(), rule.source)


def _yearly_limit(product: Product, code: str) -> Limit | None:
    """A once-a-year rider's line limit per policy year: its fixed amount × the times a year."""
    rule = rule_of(product, code)
    if rule.times_per_year is None:
        return None
    amount = sum(p.amount or 0 for p in rule.parts) * rule.times_per_year
    return Limit(LimitBasis.PER_YEAR, amount, f"003 once a year ({rule.source})")


def _benefits(req: t.AssessKyosai, product: Product, claim: repo.StoredClaim, held: frozenset[str],
              paid_this_year: Mapping[str, int]) -> list[BenefitAmount]:
    accident_day = claim.accident_at.astimezone(JST).date()
    out: list[BenefitAmount] = []
    ts = [Treatment(x.person, frozenset(x.hospital_days), frozenset(x.outpatient_days)) for x in req.treatments]
    if any(d < accident_day for x in ts for d in x.hospital_days | x.outpatient_days):
        raise refuse("DATES_OUT_OF_ORDER", "input.treatments", "a treatment day before the accident")
    out += [b for b in hospital_benefits(ts) if b.amount]
    out += [b for b in (outpatient_benefit(x) for x in ts) if b.amount]
    after_effects: dict[str, int] = {}
    for a in req.after_effects:
        b = after_effects_benefit(person=a.person, grade=a.grade)
        after_effects[a.person] = after_effects.get(a.person, 0) + b.amount
        out.append(b)
    for d in req.deaths:
        out.append(death_benefit(person=d.person, accident_date=accident_day, death_date=d.death_date,
                                 after_effects_paid=after_effects.get(d.person, 0)))
    if req.other_side is not None:
        o = req.other_side
        out += temporary_expenses(member_at_fault=o.member_at_fault, pays_other_side=o.pays_other_side,
                                  other_side_deaths=o.deaths, other_side_treatment_days=o.treatment_days)
    if req.vehicle is not None:
        facts = LossFacts(own_cost_yen=req.vehicle.own_cost_yen, cause=LossCause(req.vehicle.peril.value))
        out.append(_kyosai_rider(product, KYOSAI_VEHICLE, Benefit.VEHICLE, facts, claim, held,
                                 paid_this_year.get(KYOSAI_VEHICLE, 0)))
    if req.property is not None:
        p = req.property
        facts = LossFacts(at_fault=p.at_fault, damage_to_others_yen=p.damage_to_others_yen, own_cost_yen=p.own_cost_yen)
        out.append(_kyosai_rider(product, KYOSAI_PROPERTY, Benefit.PROPERTY, facts, claim, held,
                                 paid_this_year.get(KYOSAI_PROPERTY, 0)))
    return out


async def assess_kyosai(uow: UnitOfWork, actor: Actor, req: t.AssessKyosai, now: datetime) -> t.ClaimResult:
    """Kyosai pays fixed benefits (003): compute them from the schedule, store them on the claim, and
    make each benefit line's limit the assessed amount (its reserve what is still to pay)."""
    claim, contract = await visible_claim(uow, actor, req.claim_id)
    _staff_only(actor, "assess benefits")
    product = product_for(contract)
    if not is_kyosai(product):
        raise refuse("NOT_KYOSAI", "input.claimId", f"{product.id} pays indemnity, not fixed benefits")
    if claim.coverage is not CoverageState.COVERED:
        raise refuse(claim.coverage.value, "input.claimId", f"coverage is {claim.coverage.en.lower()}")
    if claim.status in _CLOSED:
        raise refuse("CLAIM_NOT_OPEN", "input.claimId", f"the claim is {claim.status.en.lower()}")
    held = frozenset(claim.decision.applicable)
    yearly = {code: await repo.claims_paying_in_term(uow.conn, claim.term_id, claim.id, code)
              for code in _KYOSAI_RIDERS}
    try:
        benefits = _benefits(req, product, claim, held, yearly)
    except RuleError as e:
        raise _rule(e) from None
    totals: dict[str, int] = {}
    for b in benefits:
        code = _KYOSAI_LINE.get(b.benefit, KYOSAI_PERSONAL)
        totals[code] = totals.get(code, 0) + b.amount
    lines = {ln.coverage: ln for ln in await _lines(uow, claim.id)}
    for code, total in sorted(totals.items()):
        if total <= 0 and code not in lines:
            continue
        if code not in held:
            raise refuse("COVERAGE_NOT_APPLICABLE", "input", f"{code} does not apply to this claim")
        limits = [Limit(LimitBasis.PER_ACCIDENT, total, "003: assessed fixed benefits")]
        yearly_limit = _yearly_limit(product, code) if code in _KYOSAI_RIDERS else None
        if yearly_limit is not None:
            limits.append(yearly_limit)
        terms = LineTerms(code, tuple(limits))
        line = lines.get(code)
        paid = 0 if line is None else line.paid_yen
        if paid > total:
            raise refuse("ASSESSMENT_BELOW_PAID", "input", f"{code}: ¥{paid:,} already paid, more than ¥{total:,}")
        if line is None:
            await repo.open_line(uow.conn, claim.id, terms, total, now=now)
        else:
            await repo.save_line(uow.conn, line.id, reserve_yen=total - paid, terms=terms)
    stored = [{"benefit": b.benefit.value, "amountYen": b.amount, "person": b.person, "reason": b.reason,
               "source": b.source} for b in benefits]
    await repo.save_kyosai(uow.conn, claim.id, stored, now=now)
    await _events(uow, claim, contract, [_ev(actor, "KYOSAI_ASSESSED",
                                             payload={"totals": totals, "benefits": len(stored)})], now)
    return _result(claim)


# --- a term's claims, for its renewal ----------------------------------------------------------


async def term_claims(uow: UnitOfWork, contract_id: int, term_id: int) -> list[TermClaim]:
    """The classified (or withdrawn) claims of a term, oldest accident first."""
    return _term_claims(contract_id, await repo.claims_of_term(uow.conn, term_id))


async def terms_claims(uow: UnitOfWork, terms: Iterable[tuple[int, int]]) -> dict[int, list[TermClaim]]:
    """`term_claims` of many (contract id, term id) in one statement, by term id."""
    pairs = list(terms)
    stored = await repo.claims_of_terms(uow.conn, [t for _, t in pairs])
    return {t: _term_claims(c, stored.get(t, [])) for c, t in pairs}


def _term_claims(contract_id: int, stored: Iterable[repo.StoredClaim]) -> list[TermClaim]:
    out = []
    for c in stored:
        if c.contract_id != contract_id:
            continue
        withdrawn = c.status is ClaimStatus.WITHDRAWN
        if c.grade_class is not None or withdrawn:
            out.append(TermClaim(c.claim_number, c.grade_class, withdrawn))
    return out
