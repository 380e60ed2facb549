"""Claim-or-pay-yourself advisor (SPEC §4.8, issue 6 item 5).

Pure. For the next N (3..6) terms it follows two grade paths from the term the accident fell
in — with the claim counted and without it — renews each term with `domain.grade.renew`,
prices it with `domain.rating.rate` (tariff of each start date, full explanation) and adds up
the difference. The break-even amount is that difference: claiming pays off only when the
payout exceeds the extra premiums. Later terms are assumed claim-free on both paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from domain.calendar import RuleError, add_months
from domain.explanation import Explanation
from domain.grade import GradeRecord, RenewalOutcome, renew
from domain.products.model import Product
from domain.rating import QuoteInput, rate
from domain.vocab import AccidentClass, Labelled

MIN_TERMS = 3
MAX_TERMS = 6


class Advice(Labelled):
    CLAIM = ("CLAIM", "保険を使う方が有利", "Claiming pays off")
    PAY_YOURSELF = ("PAY_YOURSELF", "自己負担の方が有利", "Paying yourself costs less")
    NO_DIFFERENCE = ("NO_DIFFERENCE", "保険料への影響なし", "The claim does not change premiums")
    UNKNOWN = ("UNKNOWN", "支払見込額を入力してください", "Give the expected payout to compare")


@dataclass(frozen=True, slots=True)
class PathTerm:
    start_date: date
    record: GradeRecord
    repeat_surcharge: bool
    premium: int
    explanation: Explanation
    grade_steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TermImpact:
    index: int                  # 1 = the renewal right after the accident's term
    start_date: date
    with_claim: PathTerm
    without_claim: PathTerm

    @property
    def difference(self) -> int:
        return self.with_claim.premium - self.without_claim.premium


@dataclass(frozen=True, slots=True)
class ClaimImpact:
    claim_class: AccidentClass | None
    terms: tuple[TermImpact, ...]
    extra_premium: int          # Σ(with − without): the break-even payout
    expected_payout: int | None
    advice: Advice

    @property
    def break_even(self) -> int:
        return self.extra_premium


def _path(
    product: Product,
    quote: QuoteInput,
    record: GradeRecord,
    first_accidents: Sequence[AccidentClass],
    n: int,
    previously_surcharged: bool,
) -> list[PathTerm]:
    out: list[PathTerm] = []
    rec, surcharged = record, previously_surcharged
    for k in range(n):
        accidents = tuple(first_accidents) if k == 0 else ()
        outcome: RenewalOutcome = renew(rec, accidents, term_years=1,
                                        previously_surcharged=surcharged)
        start = add_months(quote.start_date, 12 * k)
        counted = any(a in (AccidentClass.THREE_DOWN, AccidentClass.ONE_DOWN) for a in accidents)
        q = replace(
            quote,
            start_date=start,
            grade=outcome.record,
            grade_one_repeat=outcome.repeat_surcharge,
            discounts=replace(
                quote.discounts,
                renewal=True,
                previous_contract_end=start,      # continuous renewal: no gap (001 L722)
                interruption_certificate_used=False,
                previous_term_at_least_one_year=True,
                previous_term_had_counted_accident=counted,
            ),
        )
        premium = rate(product, q)
        out.append(PathTerm(start, outcome.record, outcome.repeat_surcharge, premium.total,
                            premium.explanation, outcome.steps))
        rec, surcharged = outcome.record, outcome.repeat_surcharge
    return out


def claim_impact(
    product: Product,
    next_quote: QuoteInput,
    *,
    current: GradeRecord,
    claim_class: AccidentClass | None,
    other_accidents: Sequence[AccidentClass] = (),
    terms: int = MIN_TERMS,
    expected_payout: int | None = None,
    previously_surcharged: bool = False,
) -> ClaimImpact:
    """Premiums of the next `terms` renewals with and without this claim.

    `next_quote` is the renewal quote of the next term (its start date is the first renewal; its
    grade is replaced on each path); `current` is the grade record of the term the accident fell
    in and `other_accidents` the classes of that term's other claims.
    """
    if not product.graded:
        raise RuleError("PRODUCT_NOT_GRADED", "productId", f"{product.id} has no grades: claims do not change premiums")
    if not MIN_TERMS <= terms <= MAX_TERMS:
        raise RuleError("INVALID_TERM_COUNT", "terms", f"terms must be {MIN_TERMS}..{MAX_TERMS}")
    if expected_payout is not None and expected_payout < 0:
        raise RuleError("NEGATIVE_AMOUNT", "expectedPayout", "a payout cannot be negative")
    with_accidents = tuple(other_accidents) + ((claim_class,) if claim_class is not None else ())
    with_path = _path(product, next_quote, current, with_accidents, terms, previously_surcharged)
    without_path = _path(product, next_quote, current, tuple(other_accidents), terms,
                         previously_surcharged)
    items = tuple(
        TermImpact(i + 1, w.start_date, w, wo)
        for i, (w, wo) in enumerate(zip(with_path, without_path, strict=True))
    )
    extra = sum(t.difference for t in items)
    if extra <= 0:
        advice = Advice.NO_DIFFERENCE
    elif expected_payout is None:
        advice = Advice.UNKNOWN
    elif expected_payout > extra:
        advice = Advice.CLAIM
    else:
        advice = Advice.PAY_YOURSELF
    return ClaimImpact(claim_class, items, extra, expected_payout, advice)
