"""Claim lines' terms and rider pay-outs read from the store: the facts the pure rules need.

`line_terms`: the limits and deductible a new claim line opens with (a coverage: its option; a rider
with a pay-out rule: the rule's fixed caps). `assess_line`: what a line pays for a stated loss, by
the one engine (domain/claims/rider_payout.py) with the contract's sums insured, what the claim and
the policy year already paid, and the claim's coverage decision. Raise RuleError; the use cases in
`handling` turn it into a refusal.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.calendar import JST, RuleError
from domain.claims.lines import Limit, LimitBasis, LineTerms, terms_for
from domain.claims.rider_payout import (
    Assessment,
    LossFacts,
    PayoutContext,
    assess,
    product_rules,
    rule_of,
)
from domain.products import Product
from domain.products.model import ProductKind
from domain.products.payout import CapBasis, PayoutRule
from domain.rating_codec import quote_from_json
from domain.store import claim_repo as repo
from domain.store.party_repo import vehicles_by_id
from domain.store.uow import UnitOfWork

VEHICLE = "VEHICLE"


def is_kyosai(p: Product) -> bool:
    return p.kind is ProductKind.MUTUAL_AID


def _kyosai_pending(code: str) -> LineTerms:
    return LineTerms(code, (Limit(LimitBasis.PER_ACCIDENT, 0, "003: benefits not assessed yet"),))


def rule_limits(code: str, rule: PayoutRule) -> LineTerms:
    """The rule's caps that hold whatever the loss (a fixed amount, no condition) as line limits, so a
    payment of a bare amount is checked against them too (the engine applies every cap itself)."""
    return LineTerms(code, tuple(Limit(LimitBasis(c.basis.value), c.amount, c.source) for c in rule.caps
                                 if c.amount is not None and not c.when))


async def _version_row(uow: UnitOfWork, claim: repo.StoredClaim) -> tuple[list[dict[str, object]], list[str]]:
    """(coverages with their options, effective riders) of the version in force at the accident."""
    if claim.decision.version_id is None:
        return [], []
    row = await uow.conn.fetchrow("SELECT coverages, premium FROM contract_versions WHERE id = $1",
                                  claim.decision.version_id)
    if row is None:
        return [], []
    return list(row["coverages"] or []), [str(r) for r in (row["premium"] or {}).get("riders", [])]


async def _option(uow: UnitOfWork, claim: repo.StoredClaim, code: str) -> str | None:
    coverages, _ = await _version_row(uow, claim)
    return next((str(c.get("option")) for c in coverages if c.get("code") == code and c.get("option")), None)


async def vehicle_sum_insured(uow: UnitOfWork, claim: repo.StoredClaim) -> int | None:
    """The damaged car's sum insured: the value the version in force at the accident rated that car
    with (a swapped-in car: its value at acquisition, 002b L4145), else its registered value."""
    if claim.decision.version_id is not None:
        row = await uow.conn.fetchrow("SELECT vehicle_id, rating_input FROM contract_versions WHERE id = $1",
                                      claim.decision.version_id)
        if row is not None and row["vehicle_id"] == claim.vehicle_id:
            try:
                rated_value = quote_from_json(row["rating_input"]).vehicle.value
            except (KeyError, TypeError, ValueError):
                rated_value = 0
            if rated_value > 0:
                return rated_value
    return (await vehicles_by_id(uow.conn, [claim.vehicle_id]))[claim.vehicle_id].value_yen


async def line_terms(uow: UnitOfWork, product: Product, claim: repo.StoredClaim, code: str) -> LineTerms:
    """The limits and deductible a new line opens with, from the version in force at the accident."""
    if is_kyosai(product):
        return _kyosai_pending(code)
    if product.coverage(code) is None:
        rule = product_rules(product).get(code)
        return LineTerms(code) if rule is None else rule_limits(code, rule)
    value: int | None = None
    earlier = 0
    if code == VEHICLE:
        value = await vehicle_sum_insured(uow, claim)
        earlier = await repo.earlier_claims_paying(uow.conn, claim.term_id, claim.id, code, claim.accident_at)
    return terms_for(product, code, await _option(uow, claim, code), vehicle_sum_insured=value,
                     earlier_vehicle_claims_in_term=earlier)


async def _sum_insured(uow: UnitOfWork, product: Product, claim: repo.StoredClaim,
                       code: str) -> tuple[int | None, bool, int]:
    """(sum insured, unlimited, deductible) of the line `code` on this contract; a rider has none."""
    if product.coverage(code) is None or is_kyosai(product):
        return None, False, 0
    terms = await line_terms(uow, product, claim, code)
    limit = next((x for x in terms.limits if x.basis is not LimitBasis.PER_YEAR), None)
    if limit is None:
        return None, False, terms.deductible
    return limit.amount, limit.amount is None, terms.deductible


def _scope_paid(line: repo.StoredLine | None, person: str | None, vehicle: str | None) -> int:
    if line is None:
        return 0
    pl = line.as_line()
    if person is not None:
        return pl.paid_to(person=person)
    if vehicle is not None:
        return pl.paid_to(vehicle=vehicle)
    return pl.paid


def _caps_of(rule: PayoutRule) -> set[CapBasis]:
    return {c.basis for c in rule.caps} | {c.basis for p in rule.parts for c in p.caps}


async def assess_line(uow: UnitOfWork, product: Product, claim: repo.StoredClaim,
                      lines: Sequence[repo.StoredLine], code: str, facts: LossFacts, *,
                      person: str | None = None, vehicle: str | None = None) -> Assessment:
    """What `code` pays for the stated loss on this claim now. RuleError: UNKNOWN_COVERAGE,
    NO_PAYOUT_RULE, COVERAGE_NOT_APPLICABLE (not on the contract, or outside a late-filed window's
    liability set), PERSON_REQUIRED / VEHICLE_REQUIRED (per-person / per-vehicle caps), and the
    engine's own (SUM_INSURED_REQUIRED, FACT_REQUIRED)."""
    rule = rule_of(product, code)
    if code not in claim.decision.applicable:
        why = " (only the liability set pays in this part of the window)" if claim.decision.liability_only else ""
        raise RuleError("COVERAGE_NOT_APPLICABLE", "rider", f"{code} does not apply to this claim{why}")
    bases = _caps_of(rule)
    if CapBasis.PER_PERSON in bases and person is None:
        raise RuleError("PERSON_REQUIRED", "person", f"{code} pays per person: say whose loss it is")
    if CapBasis.PER_VEHICLE in bases and vehicle is None and CapBasis.PER_PERSON not in bases:
        raise RuleError("VEHICLE_REQUIRED", "vehicle", f"{code} pays per vehicle: say which vehicle")
    # what was paid before counts over the caps' own scope: a label the rule's caps do not name
    # (a person on a per-vehicle rule) must not open a fresh allowance
    person = person if CapBasis.PER_PERSON in bases else None
    vehicle = vehicle if CapBasis.PER_VEHICLE in bases else None
    coverages, riders = await _version_row(uow, claim)
    held = frozenset({str(c.get("code")) for c in coverages} | set(riders))
    si, unlimited, deductible = await _sum_insured(uow, product, claim, rule.sum_insured_of or code)
    if rule.sum_insured_of is not None:      # another line's sum insured; the deductible is this line's own
        deductible = (await _sum_insured(uow, product, claim, code))[2]
    line = next((x for x in lines if x.coverage == code), None)
    ctx = PayoutContext(
        accident_date=claim.accident_at.astimezone(JST).date(), held=held,
        paying=frozenset(claim.decision.applicable), sum_insured=si, unlimited=unlimited,
        line_deductible=deductible, paid_on_claim=_scope_paid(line, person, vehicle),
        paid_in_year_elsewhere=await repo.paid_in_term_elsewhere(uow.conn, claim.term_id, claim.id, code),
        times_paid_in_year_elsewhere=await repo.claims_paying_in_term(uow.conn, claim.term_id, claim.id, code),
        rules=product_rules(product),
    )
    return assess(code, rule, facts, ctx)
