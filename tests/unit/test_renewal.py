"""Renewal offers and discount recalculation (SPEC §4.2, §4.3, §5; issue 5 items 5-6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import RuleError, YearMonth
from domain.discount_rules import AgeBand
from domain.grade import GradeMarker, GradeRecord
from domain.rating import NamedInsured, rate
from domain.renewal import RenewalFacts, TermClaim, counted_classes, renewal_offer
from domain.vocab import AccidentClass, LicenceColour
from tests.unit.test_rating_support import (
    AIOI,
    KYOSAI,
    RAKUTEN,
    TOKIO,
    base_quote,
    product,
    with_vehicle,
)

THREE, ONE, NC = AccidentClass.THREE_DOWN, AccidentClass.ONE_DOWN, AccidentClass.NO_COUNT


def g(grade: int, period: int = 0) -> GradeRecord:
    return GradeRecord.carried(grade, period)


def grade_step_rate(offer_premium_steps: tuple, line: str = "BI") -> Decimal:  # type: ignore[type-arg]
    return next(s.rate for s in offer_premium_steps if s.line == line and s.factor == "GRADE")


def test_sixteen_with_one_three_down_renews_at_thirteen_period_three() -> None:
    q = base_quote(AIOI, grade=g(16))
    offer = renewal_offer(product(AIOI), RenewalFacts(q, claims=(TermClaim("c1", THREE),)))
    assert offer.record == g(13, 3)            # 002b L4289-4295 (grade), L4326-4332 (period 0 → 3)
    assert offer.counted_claims == ("c1",)
    # 13 with-accident: −24% (002b L4419-4513)
    assert grade_step_rate(offer.premium.explanation.steps) == Decimal("0.76")
    assert grade_step_rate(offer.current_premium.explanation.steps) == Decimal("0.46")   # 16 no-accident −54%
    causes = {(i.line, i.factor) for i in offer.diff.causes}
    assert ("BI", "GRADE") in causes
    assert offer.change > 0 and offer.diff.change == Decimal(offer.change)
    assert offer.next_start == date(2027, 5, 1) and offer.next_end == date(2028, 5, 1)


def test_withdrawn_and_unclassified_claims_do_not_count() -> None:
    q = base_quote(AIOI, grade=g(16))
    claims = (TermClaim("c1", THREE, withdrawn=True), TermClaim("c2", None), TermClaim("c3", NC))
    offer = renewal_offer(product(AIOI), RenewalFacts(q, claims=claims))
    assert offer.record == g(17, 0)            # 002b L4303-4309: none or only no-count → +1
    assert offer.counted_claims == ("c3",) and offer.ignored_claims == ("c1", "c2")
    assert counted_classes(claims) == (NC,)
    assert any("withdrawn" in n for n in offer.notes)


def test_age_band_changes_at_the_next_start() -> None:
    # age on the start date picks the band (001 L626): 29 at 2026-05-01, 30 at 2027-05-01
    q = base_quote(RAKUTEN, named_insured=NamedInsured(date(1996, 6, 1), LicenceColour.BLUE))
    offer = renewal_offer(product(RAKUTEN), RenewalFacts(q))
    assert offer.age_band_before is AgeBand.UP_TO_29 and offer.age_band_after is AgeBand.THIRTIES
    assert offer.age_band_changed
    age = next(i for i in offer.diff.causes if i.factor == "AGE_BAND" and i.line == "BI")
    assert age.value_before == "age 29 (0-29)" and age.value_after == "age 30 (30-39)"


def test_aeb_discount_runs_out() -> None:
    # 001 L698-716: release 2022-04 (FY2022) → AEB only for starts ≤ 2025-12-31
    q = with_vehicle(
        base_quote(RAKUTEN, start_date=date(2025, 5, 1)),
        aeb=True, model_release=YearMonth(2022, 4), first_registration=YearMonth(2022, 5),
    )
    offer = renewal_offer(product(RAKUTEN), RenewalFacts(q))
    assert "AEB" in offer.current_premium.discounts
    assert "AEB" not in offer.premium.discounts
    assert offer.expired_discounts == ("AEB",)
    # a year without a counted accident, renewed at once: the no-accident 5% appears (001 L722)
    assert "NO_ACCIDENT" in offer.gained_discounts
    # the new-car discount is still in its 26-49 month column (001 L752-763), so it is not lost
    assert "NEW_CAR" in offer.premium.discounts


def test_tariff_version_in_force_at_the_next_start() -> None:
    q = base_quote(RAKUTEN, start_date=date(2025, 10, 1))
    offer = renewal_offer(product(RAKUTEN), RenewalFacts(q))
    assert offer.current_premium.tariff_version == "rakuten-drive-assist/DEMO-2023-12"
    assert offer.premium.tariff_version == "rakuten-drive-assist/DEMO-2026-01"
    assert offer.tariff_changed
    assert any("tariff" in n for n in offer.notes)


def test_grade_one_repeat_surcharge() -> None:
    # 002b L4421-4427: renewing at 1 from 1 after a counted accident → +20%
    q = base_quote(AIOI, grade=g(1, 3))
    offer = renewal_offer(product(AIOI), RenewalFacts(q, claims=(TermClaim("c1", ONE),)))
    assert offer.record == g(1, 3)
    assert offer.quote.grade_one_repeat
    steps = [s for s in offer.premium.explanation.steps if s.factor == "GRADE_ONE_REPEAT"]
    assert steps and all(s.rate == Decimal("1.20") for s in steps)
    # already surcharged, no accident → grade 2: the surcharge goes
    again = renewal_offer(product(AIOI), RenewalFacts(offer.quote, claims=()))
    assert again.record == g(2, 2) and not again.quote.grade_one_repeat


def test_same_facts_same_offer_whatever_the_claim_order() -> None:
    q = base_quote(AIOI, grade=g(12, 1))
    a = (TermClaim("a", ONE), TermClaim("b", THREE), TermClaim("c", NC, withdrawn=True))
    o1 = renewal_offer(product(AIOI), RenewalFacts(q, claims=a))
    o2 = renewal_offer(product(AIOI), RenewalFacts(q, claims=tuple(reversed(a))))
    assert o1 == o2
    assert o1.record == g(8, 4)      # 12 − 3 − 1; period 1 − 1 + 3 + 1


def test_a_gap_after_the_expiry_loses_a_grade_of_seven_or_more() -> None:
    # 004 L1264: grade ≥ 7 carries only to a start within 7 days after the previous end
    q = base_quote(AIOI, grade=g(16))
    kept = renewal_offer(product(AIOI), RenewalFacts(q, next_start=date(2027, 5, 8)))
    assert kept.record == g(17) and kept.quote.discounts.renewal
    lost = renewal_offer(product(AIOI), RenewalFacts(q, next_start=date(2027, 5, 9)))
    assert lost.record == GradeRecord(6, GradeMarker.S, 0)
    assert lost.carry is not None and not lost.carry.carried and not lost.quote.discounts.renewal


def test_next_start_before_the_end_is_refused() -> None:
    q = base_quote(AIOI, grade=g(16))
    with pytest.raises(RuleError) as e:
        renewal_offer(product(AIOI), RenewalFacts(q, next_start=date(2027, 4, 30)))
    assert e.value.code == "NEXT_START_BEFORE_TERM_END"
    with pytest.raises(RuleError) as e:
        renewal_offer(product(RAKUTEN), RenewalFacts(q))
    assert e.value.code == "PRODUCT_MISMATCH"
    with pytest.raises(RuleError) as e:
        renewal_offer(product(AIOI), RenewalFacts(q, multi_car_count=0))
    assert e.value.code == "INVALID_CAR_COUNT"


def test_group_scheme_dates_and_auto_renew() -> None:
    # tokio group discount for starts 2026-04-01..2027-03-31 (004 L160); renewal rider auto-renews (004 L1449)
    q = base_quote(TOKIO)                                  # start 2026-02-01, before the scheme
    first = renewal_offer(product(TOKIO), RenewalFacts(q))
    assert first.next_start == date(2027, 2, 1) and "GROUP" in first.gained_discounts
    second = renewal_offer(product(TOKIO), RenewalFacts(first.quote), current_premium=first.premium)
    assert "GROUP" in second.expired_discounts
    assert first.auto_renew and first.offer_on == date(2026, 12, 3)     # ≈ 2 months (60 days) before (004 L1445)
    assert not first.grace_if_forgotten


def test_grace_availability_on_the_offer() -> None:
    q = base_quote(AIOI, grade=g(10))
    assert renewal_offer(product(AIOI), RenewalFacts(q)).grace_if_forgotten
    # 002b L4158: not twice in a row
    assert not renewal_offer(product(AIOI), RenewalFacts(q, previous_renewal_used_grace=True)).grace_if_forgotten
    assert not renewal_offer(product(RAKUTEN), RenewalFacts(base_quote(RAKUTEN))).auto_renew


def test_gold_licence_and_multi_car_at_renewal() -> None:
    q = base_quote(RAKUTEN)
    offer = renewal_offer(product(RAKUTEN), RenewalFacts(q, licence_colour=LicenceColour.GOLD, multi_car_count=3))
    assert {"GOLD_LICENCE", "MULTI_CAR"} <= set(offer.gained_discounts)   # 001 L730-732, L738-746
    assert offer.quote.named_insured.licence_colour is LicenceColour.GOLD
    assert offer.quote.discounts.multi_car_count == 3


def test_ungraded_product() -> None:
    offer = renewal_offer(product(KYOSAI), RenewalFacts(base_quote(KYOSAI), claims=(TermClaim("c", THREE),)))
    assert offer.grade is None and offer.record is None
    assert offer.premium.total == offer.current_premium.total


def test_stored_current_premium_is_the_left_side() -> None:
    q = base_quote(AIOI, grade=g(16))
    stored = rate(product(AIOI), q)
    offer = renewal_offer(product(AIOI), RenewalFacts(q), current_premium=stored)
    assert offer.current_premium is stored


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 20), st.integers(0, 6),
    st.lists(st.tuples(st.sampled_from([THREE, ONE, NC, None]), st.booleans()), max_size=4),
)
def test_offer_invariants(grade: int, period: int, raw: list[tuple[AccidentClass | None, bool]]) -> None:
    rec = GradeRecord.carried(grade, period)
    q = replace(base_quote(AIOI), grade=rec)
    claims = tuple(TermClaim(f"c{i}", cls, withdrawn) for i, (cls, withdrawn) in enumerate(raw))
    offer = renewal_offer(product(AIOI), RenewalFacts(q, claims=claims))
    assert offer.record is not None and 1 <= offer.record.grade <= 20 and 0 <= offer.record.period <= 6
    assert offer.premium.total >= 0
    assert offer.diff.change == Decimal(offer.premium.total - offer.current_premium.total)
    if not counted_classes(claims) and grade < 20:
        assert offer.record.grade == grade + 1
