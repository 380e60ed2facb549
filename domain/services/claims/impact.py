"""Claim-or-pay-yourself advisor over a stored contract (SPEC §4.8; issue 6 item 5).

    est = await claim_impact_estimate(uow, actor, contract_id, AccidentClass.THREE_DOWN, 150_000, 3, now)

Reads the contract (scoped: another's contract answers CONTRACT_NOT_FOUND, exactly like a
missing one), takes the term the accident fell in (`accident_at`, default `now`) and that term's
last version, and prices the next `terms` renewals with and without the claim through the pure
`domain.claims.advisor.claim_impact`, starting from the renewal quote `renew_contract` would
build: the stored rating input (domain/rating_codec.py) with the next start date and the named
insured's current facts, the tariff in force at each start date. The term's other classified
claims (`handling.term_claims`) count on both paths; `exclude_claim_id` leaves out the claim being
advised on, so `claimImpact(claimId)` can call this with the claim's own class and amount.

Read only: nothing is written (the API runs it in a unit of work that always rolls back).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.calendar import JST, RuleError
from domain.claims.advisor import MAX_TERMS, MIN_TERMS, ClaimImpact, claim_impact
from domain.grade import GradeRecord
from domain.rating_codec import quote_from_json
from domain.services.access import Actor, can_read_contract
from domain.services.claims.handling import impact_of, term_claims
from domain.services.claims.reads import claims_by_id
from domain.services.contracts.quote import named_insured_facts
from domain.services.contracts.support import product_of
from domain.services.errors import not_found, refuse
from domain.store.contract_repo import ContractStatus, Term, TermStatus, get_contract, terms
from domain.store.party_repo import parties_by_id
from domain.store.uow import UnitOfWork
from domain.store.version_repo import ContractVersion, versions
from domain.vocab import AccidentClass

# A term whose cover ran or runs (its renewal can still be advised on).
_ADVISABLE_TERMS = frozenset({TermStatus.IN_FORCE, TermStatus.SCHEDULED, TermStatus.EXPIRED})
_FIELDS = {"expectedPayout": "amountYen", "terms": "terms", "productId": "contractId"}


@dataclass(frozen=True, slots=True)
class ClaimImpactEstimate:
    contract_id: int
    policy_number: str
    product_id: str
    term_no: int                  # the term the accident fell in
    current: GradeRecord          # its grade record (where both paths start)
    accident_class: AccidentClass
    amount_yen: int               # the expected payout the advice compares with
    other_accidents: tuple[AccidentClass, ...]
    impact: ClaimImpact


def _term_at(ts: list[Term], at: datetime) -> Term | None:
    return next((t for t in ts if t.starts_at <= at < t.ends_at), None)


def _last_version(vs: list[ContractVersion], term: Term) -> ContractVersion | None:
    inside = [v for v in vs if v.valid_from < term.ends_at and (v.valid_to is None or v.valid_to > term.starts_at)]
    return inside[-1] if inside else None


async def claim_impact_estimate(
    uow: UnitOfWork,
    actor: Actor | None,
    contract_id: int,
    accident_class: AccidentClass,
    amount_yen: int,
    terms_ahead: int,
    now: datetime,
    *,
    accident_at: datetime | None = None,
    exclude_claim_id: str | None = None,
) -> ClaimImpactEstimate:
    """Premiums of the next 3..6 terms with and without this claim, and the break-even payout.

    Raises Refused / RuleError / RatingError (userErrors): INVALID_TERM_COUNT, NEGATIVE_AMOUNT,
    CONTRACT_NOT_FOUND, CONTRACT_NOT_IN_FORCE, PRODUCT_NOT_GRADED, rating refusals."""
    if not MIN_TERMS <= terms_ahead <= MAX_TERMS:
        raise refuse("INVALID_TERM_COUNT", "terms", f"terms must be {MIN_TERMS}..{MAX_TERMS}")
    if amount_yen < 0:
        raise refuse("NEGATIVE_AMOUNT", "amountYen", "an amount cannot be negative")
    at = accident_at or now
    if at.tzinfo is None:
        raise refuse("NAIVE_DATETIME", "accidentAt", "a moment needs a time zone offset")
    at = at.astimezone(JST)
    c = await get_contract(uow.conn, contract_id)
    if c is None or actor is None or not can_read_contract(actor, c):
        raise not_found("contract", "contractId", contract_id)
    term = _term_at(await terms(uow.conn, c.id), at)
    v = None if term is None else _last_version(await versions(uow.conn, c.id), term)
    if (term is None or v is None or term.status not in _ADVISABLE_TERMS or ContractStatus.QUOTED in c.statuses
            or not v.data.rating_input):
        raise refuse("CONTRACT_NOT_IN_FORCE", "contractId",
                     f"the contract has no term in force at {at.isoformat()} to renew from")
    product = product_of(c.product_id, "contractId")
    q = quote_from_json(v.data.rating_input)
    people = await parties_by_id(uow.conn, [v.data.named_insured_id])
    ni = people.get(v.data.named_insured_id)
    next_q = replace(q, start_date=term.ends_at.astimezone(JST).date(),
                     named_insured=named_insured_facts(ni) if ni is not None else q.named_insured)
    others = tuple(tc.accident_class for tc in await term_claims(uow, c.id, term.id)
                   if tc.counts and tc.accident_class is not None and tc.claim_id != exclude_claim_id)
    current = q.grade or v.data.grade
    try:
        impact = claim_impact(product, next_q, current=current, claim_class=accident_class,
                              other_accidents=others, terms=terms_ahead, expected_payout=amount_yen,
                              previously_surcharged=q.grade_one_repeat)
    except RuleError as e:
        raise refuse(e.code, _FIELDS.get(e.field, e.field), e.message) from None
    return ClaimImpactEstimate(c.id, c.policy_number, c.product_id, term.term_no, current, accident_class,
                               amount_yen, others, impact)


async def claim_impact_of_claim(uow: UnitOfWork, actor: Actor | None, claim_id: int, terms_ahead: int,
                                now: datetime) -> ClaimImpactEstimate:
    """The advisor for a reported claim: the class it takes if it is paid under its lines'
    coverages (a staff override wins), the amount it is expected to pay (paid plus outstanding
    reserve per line, at least the amount claimed), the accident moment, and the term's other claims without it."""
    d = (await claims_by_id(uow.conn, actor, [claim_id])).get(claim_id)  # type: ignore[arg-type]
    if d is None:
        raise not_found("claim", "claimId", claim_id)
    c = d.claim
    impact = impact_of(product_of(d.contract.product_id, "claimId"), c, d.lines, as_if_paid=True)
    amount = max(sum(ln.paid_yen + ln.reserve_yen for ln in d.lines), c.amount_claimed_yen)  # reserve = still to pay
    return await claim_impact_estimate(
        uow, actor, d.contract.id, impact.accident_class or AccidentClass.NO_COUNT, amount, terms_ahead, now,
        accident_at=c.accident_at, exclude_claim_id=c.claim_number)
