"""The next term's offer: grade, discounts and premium recomputed for the renewal (SPEC §4.4, §5).

One function, `renewal_offer`, takes what is known about the current term and returns the
offer the worker stores: the next grade record (domain/grade.py, from the term's counted
claims), the next `QuoteInput`, the premium rated under the tariff version in force on the
next start date, what moved (age band, discount windows that ran out, tariff) and the
explanation diff against the current premium. Deterministic: the same facts give the same
offer, so the recalculation jobs can rerun it whenever a claim, vehicle, driver or tariff
changes ("latest inputs win").

Pure: no clock, no I/O; the product comes in loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from domain import frozen
from domain.calendar import RuleError, add_months, age_on
from domain.discount_rules import AgeBand, age_band
from domain.explanation import ExplanationDiff, compare
from domain.fleet import FleetFacts
from domain.grade import GradeRecord, RenewalOutcome, renew
from domain.grade_continuity import CarryOver, carry_over, last_continuous_start
from domain.products.model import DiscountKind, Factor, Product
from domain.rating import Premium, QuoteInput, rate
from domain.vocab import AccidentClass, LicenceColour
from domain.windows import WindowKind

__all__ = ["TIME_WINDOW_DISCOUNTS", "NextTerm", "RenewalFacts", "RenewalOffer", "RenewalPrice", "TermClaim", "counted_classes",
           "next_term", "renewal_offer", "renewal_price"]

# Discounts that run out with time rather than with a fact of the contract: the new-car table,
# AEB/ASV (start ≤ 31 Dec of release FY + 3), ECO and repairability (13 months), group
# scheme dates, first-telematics and one-day-policy history (first contract only).
TIME_WINDOW_DISCOUNTS: frozenset[DiscountKind] = frozenset({
    DiscountKind.NEW_CAR, DiscountKind.AEB, DiscountKind.ECO, DiscountKind.REPAIRABILITY,
    DiscountKind.GROUP, DiscountKind.TELEMATICS_FIRST, DiscountKind.ONE_DAY_HISTORY,
})


@dataclass(frozen=True, slots=True)
class TermClaim:
    """One claim of the expiring term as the grade sees it.

    `accident_class` None: not classified yet or nothing paid (does not count, 002b L4837);
    `withdrawn`: the policyholder paid it back, so it does not count (SPEC §4.2).
    """

    claim_id: str
    accident_class: AccidentClass | None
    withdrawn: bool = False

    @property
    def counts(self) -> bool:
        return self.accident_class is not None and not self.withdrawn


@dataclass(frozen=True, slots=True)
class RenewalFacts:
    """What changed or is known at renewal time; None fields keep the current term's fact."""

    current: QuoteInput                        # the input the current premium was rated from
    claims: tuple[TermClaim, ...] = ()
    next_start: date | None = None             # None: the current term's end (a seamless renewal)
    multi_car_count: int | None = None
    licence_colour: LicenceColour | None = None       # on the next start date
    gold_eligible_at_renewal: bool | None = None
    previous_renewal_used_grace: bool = False  # the current term itself came from a grace renewal
    rental_or_driving_school: bool = False
    fleet: FleetFacts | None = None            # a fleet car: the rate its next start gets (domain/fleet.py)


@dataclass(frozen=True, slots=True)
class RenewalOffer:
    product_id: str
    current_start: date
    current_end: date
    next_start: date
    next_end: date
    offer_on: date                      # when the offer is due (product setting, ≈ 60 days before)
    grade: RenewalOutcome | None        # None for ungraded products (kyosai)
    carry: CarryOver | None             # set when the next start leaves a gap after the current end
    record: GradeRecord | None
    quote: QuoteInput
    premium: Premium
    current_premium: Premium
    diff: ExplanationDiff
    age_band_before: AgeBand | None     # named-insured band at the current / next start (None: not rated by it)
    age_band_after: AgeBand | None
    expired_discounts: tuple[str, ...]  # time-window discounts of the current premium that ran out
    lost_discounts: tuple[str, ...]
    gained_discounts: tuple[str, ...]
    counted_claims: tuple[str, ...]
    ignored_claims: tuple[str, ...]     # withdrawn or not (yet) an accident for the grade
    auto_renew: bool                    # renews on the same terms unless declined (tokio 004 L1449)
    grace_if_forgotten: bool            # grace usable if this renewal is forgotten (not twice in a row, 002 L4158)
    notes: tuple[str, ...]

    @property
    def tariff_changed(self) -> bool:
        return self.diff.tariff_changed

    @property
    def age_band_changed(self) -> bool:
        return self.age_band_before is not self.age_band_after

    @property
    def change(self) -> int:
        return self.premium.total - self.current_premium.total


def _term_years(months: int) -> int:
    # Terms of a year or less renew by table 1; longer ones by the long-term formula (002a L2317).
    return max(1, months // 12)


def _band(product: Product, q: QuoteInput, on: date) -> AgeBand | None:
    if Factor.AGE_BAND not in product.factor_order or not q.named_insured.individual:
        return None
    return age_band(age_on(q.named_insured.birth_date, on))


def _kinds(product: Product) -> dict[str, DiscountKind]:
    return {d.code: d.kind for d in product.discounts}


@dataclass(frozen=True, slots=True)
class NextTerm:
    """The next term's facts, before pricing: what `renewal_offer` and `renewal_price` share."""

    current_end: date
    next_start: date
    outcome: RenewalOutcome | None
    carry: CarryOver | None
    record: GradeRecord | None
    quote: QuoteInput                   # the next term's rating input
    counted: tuple[TermClaim, ...]
    ignored: tuple[str, ...]
    notes: tuple[str, ...]              # claims not counted, grade steps, carry-over


@lru_cache(maxsize=4096)
def _renew(rec: GradeRecord, accidents: tuple[AccidentClass, ...], term_years: int, previously_surcharged: bool,
           rental_or_driving_school: bool) -> RenewalOutcome:
    """`renew`, worked out once per grade situation: it is pure and its outcome immutable, and a
    book has a few hundred situations for a million contracts (the nightly run renews each)."""
    return renew(rec, accidents, term_years=term_years, previously_surcharged=previously_surcharged,
                 rental_or_driving_school=rental_or_driving_school)


def next_term(product: Product, facts: RenewalFacts) -> NextTerm:
    """The next term's grade record and rating input from the current one and its claims.
    Raises RuleError (NEXT_START_BEFORE_TERM_END, PRODUCT_MISMATCH, INVALID_CAR_COUNT)."""
    cur = facts.current
    if cur.product_id != product.id:
        raise RuleError("PRODUCT_MISMATCH", "productId", f"current term is {cur.product_id!r}, product is {product.id!r}")
    current_end = add_months(cur.start_date, cur.term_months)
    if cur.fleet is not None and cur.fleet.ends_on is not None:
        current_end = cur.fleet.ends_on    # joined an all-vehicle certificate mid-term: its expiry
    next_start = facts.next_start or current_end
    if next_start < current_end:
        raise RuleError("NEXT_START_BEFORE_TERM_END", "nextStart", f"{next_start} is before the current term ends on {current_end}")
    if facts.multi_car_count is not None and facts.multi_car_count < 1:
        raise RuleError("INVALID_CAR_COUNT", "multiCarCount", "car count must be ≥ 1")

    claims = tuple(sorted(facts.claims, key=lambda c: c.claim_id))
    counted = tuple(c for c in claims if c.counts)
    ignored = tuple(c.claim_id for c in claims if not c.counts)
    notes: list[str] = []
    for c in claims:
        if c.withdrawn:
            notes.append(f"claim {c.claim_id} was withdrawn (paid back): not counted (SPEC §4.2)")
        elif c.accident_class is None:
            notes.append(f"claim {c.claim_id} is not classified or paid nothing: not counted (002b L4837)")

    outcome: RenewalOutcome | None = None
    carry: CarryOver | None = None
    record: GradeRecord | None = None
    repeat = False
    if cur.grade is not None:
        outcome = _renew(cur.grade, tuple(c.accident_class for c in counted if c.accident_class is not None),
                         _term_years(cur.term_months), cur.grade_one_repeat, facts.rental_or_driving_school)
        record, repeat = outcome.record, outcome.repeat_surcharge
        notes.extend(outcome.steps)
        if next_start > current_end:
            carry = carry_over(record, previous_end=current_end, new_start=next_start)
            record = carry.record
            repeat = repeat and carry.carried
            notes.append(carry.reason + f" ({carry.rule_ref})")
    continuous = next_start <= last_continuous_start(current_end)

    ni = cur.named_insured
    if facts.licence_colour is not None or facts.gold_eligible_at_renewal is not None:
        ni = frozen.replace(
            ni,
            licence_colour=facts.licence_colour if facts.licence_colour is not None else ni.licence_colour,
            gold_eligible_at_renewal=(facts.gold_eligible_at_renewal if facts.gold_eligible_at_renewal is not None
                                      else ni.gold_eligible_at_renewal),
        )
    d = cur.discounts
    discounts = frozen.replace(
        d,
        renewal=continuous,
        previous_contract_end=current_end,
        previous_term_at_least_one_year=cur.term_months >= 12,
        previous_term_had_counted_accident=bool(counted),
        interruption_certificate_used=False,
        telematics_first_time=False,
        multi_car_count=facts.multi_car_count if facts.multi_car_count is not None else d.multi_car_count,
    )
    fleet = facts.fleet if facts.fleet is not None else (
        None if cur.fleet is None else frozen.replace(cur.fleet, ends_on=None))
    quote = frozen.replace(cur, start_date=next_start, named_insured=ni, grade=record, grade_one_repeat=repeat, discounts=discounts,
                    fleet=fleet)
    return NextTerm(current_end, next_start, outcome, carry, record, quote, counted, ignored, tuple(notes))


@dataclass(frozen=True, slots=True)
class RenewalPrice:
    """The next term's price alone: what the nightly recalculation computes and stores for every
    contract. The rest of the offer (diff, notes, discounts that moved, explanation) follows from
    the same facts by `renewal_offer`, which gives this same premium (one `next_term`, one `rate`)."""

    next_start: date
    premium_yen: int
    tariff_version: str


def renewal_price(product: Product, facts: RenewalFacts) -> RenewalPrice:
    """`renewal_offer(product, facts).premium`'s total and tariff, without rating the current term
    or comparing explanations. Raises what `next_term` and rating the next quote raise (not what
    re-rating the current term would)."""
    n = next_term(product, facts)
    premium = rate(product, n.quote, explain=False)
    return RenewalPrice(n.next_start, premium.total, premium.tariff_version)


def renewal_offer(product: Product, facts: RenewalFacts, *, current_premium: Premium | None = None) -> RenewalOffer:
    """The offer for the term after `facts.current`.

    `current_premium` is the stored premium of the current term (the diff's left side); when
    None it is re-rated from `facts.current` under the tariff of the current start date.
    Raises RuleError (NEXT_START_BEFORE_TERM_END, PRODUCT_MISMATCH, INVALID_CAR_COUNT) and
    rating.RatingError when the next quote is not rateable.
    """
    n = next_term(product, facts)
    cur, current_end, next_start, quote = facts.current, n.current_end, n.next_start, n.quote
    outcome, carry, record, counted, ignored = n.outcome, n.carry, n.record, n.counted, n.ignored
    notes = list(n.notes)
    if current_premium is None:
        current_premium = rate(product, cur)
    premium = rate(product, quote)   # the tariff version in force on the next start date

    kinds = _kinds(product)
    before, after = set(current_premium.discounts), set(premium.discounts)
    lost = tuple(c for c in current_premium.discounts if c not in after)
    gained = tuple(c for c in premium.discounts if c not in before)
    expired = tuple(c for c in lost if kinds.get(c) in TIME_WINDOW_DISCOUNTS)
    for code in expired:
        notes.append(f"discount {code} ran out by {next_start}")
    if premium.tariff_version != current_premium.tariff_version:
        notes.append(f"tariff {current_premium.tariff_version} → {premium.tariff_version} in force on {next_start}")

    band_before, band_after = _band(product, cur, cur.start_date), _band(product, quote, next_start)
    if band_before is not band_after and band_before is not None and band_after is not None:
        notes.append(f"named-insured age band {band_before.en} → {band_after.en} at {next_start}")

    grace = product.window(WindowKind.RENEWAL_GRACE.product_kind)
    grace_next = grace is not None and not (grace.not_twice_in_a_row and facts.previous_renewal_used_grace)
    auto = product.renewal.auto_renew_rider is not None and product.renewal.auto_renew_rider in premium.riders

    return RenewalOffer(
        product_id=product.id, current_start=cur.start_date, current_end=current_end,
        next_start=next_start, next_end=add_months(next_start, quote.term_months),
        offer_on=current_end - timedelta(days=product.renewal.offer_days_before),
        grade=outcome, carry=carry, record=record, quote=quote, premium=premium,
        current_premium=current_premium, diff=compare(current_premium.explanation, premium.explanation),
        age_band_before=band_before, age_band_after=band_after,
        expired_discounts=expired, lost_discounts=lost, gained_discounts=gained,
        counted_claims=tuple(c.claim_id for c in counted), ignored_claims=ignored,
        auto_renew=auto, grace_if_forgotten=grace_next, notes=tuple(notes),
    )


def counted_classes(claims: Sequence[TermClaim]) -> tuple[AccidentClass, ...]:
    """The classes the grade renewal counts (withdrawn and unclassified claims drop out)."""
    return tuple(c.accident_class for c in claims if c.counts and c.accident_class is not None)
