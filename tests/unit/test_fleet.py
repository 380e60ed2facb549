"""Fleet contracts, pure rules (domain/fleet.py) and their rating, each against its pamphlet line."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.calendar import RuleError
from domain.fleet import (
    FleetFacts,
    RateStep,
    RateTable,
    ReviewInputs,
    decide_review,
    experience_period,
    facts_on,
    first_review_date,
    loss_ratio,
    review_date,
    review_number_on,
)
from domain.grade import GradeRecord
from domain.rating import DiscountFacts, RatingError, rate
from domain.renewal import RenewalFacts, renewal_offer
from tests.unit.test_rating_support import AIOI, RAKUTEN, base_quote, product

TABLE = RateTable((RateStep(Decimal(30), -10), RateStep(Decimal(60), 0), RateStep(None, 15)), -70, 100, "test table")


def test_first_review_with_the_all_vehicle_rider_is_the_anniversary() -> None:
    # 002b L5010 (left): 10台到達日の1年後の応当日
    assert first_review_date(date(2027, 3, 15), all_vehicle_rider=True) == date(2028, 3, 15)


def test_first_review_without_the_rider_is_the_first_of_the_18th_month() -> None:
    # 002b L5010 (right): 10台到達日の18か月後の応当日の属する月の初日
    assert first_review_date(date(2027, 3, 15), all_vehicle_rider=False) == date(2028, 9, 1)


def test_later_reviews_are_yearly_anniversaries_of_the_first() -> None:
    # 002b L5011: 第1回料率審査日の毎年の応当日
    assert review_date(date(2027, 3, 15), 3, all_vehicle_rider=True) == date(2030, 3, 15)
    assert review_number_on(date(2027, 3, 15), date(2028, 3, 14), all_vehicle_rider=True) == 0
    assert review_number_on(date(2027, 3, 15), date(2028, 3, 15), all_vehicle_rider=True) == 1


def test_experience_period_without_the_rider_is_the_year_ending_six_months_before_the_review() -> None:
    # 002b L5040: 料率審査日の6か月前の過去1年間
    p = experience_period(date(2027, 3, 15), 1, all_vehicle_rider=False)   # review 2028-09-01
    assert (p.start, p.end) == (date(2027, 3, 1), date(2028, 3, 1))


def test_experience_period_with_the_rider_counts_from_the_first_of_the_review_month() -> None:
    # 002b L5042-5043: 料率審査日の属する月の初日の6か月前の過去1年間; the first review: 過去6か月間
    first = experience_period(date(2027, 3, 15), 1, all_vehicle_rider=True)     # review 2028-03-15
    assert (first.start, first.end) == (date(2027, 3, 1), date(2027, 9, 1))
    second = experience_period(date(2027, 3, 15), 2, all_vehicle_rider=True)    # review 2029-03-15
    assert (second.start, second.end) == (date(2027, 9, 1), date(2028, 9, 1))


def test_loss_ratio_formula() -> None:
    # 002b L5028-5056: (paid + outstanding at the end − outstanding at the previous end) ÷ premium × 100
    assert loss_ratio(300_000, 200_000, 100_000, 1_000_000) == Decimal("40.0")
    assert loss_ratio(1, 0, 0, 3) == Decimal("33.3")
    assert loss_ratio(0, 0, 0, 0) is None
    with pytest.raises(RuleError):
        loss_ratio(-1, 0, 0, 10)


def test_nine_cars_at_the_period_end_go_back_to_non_fleet_grades() -> None:
    # 002b L5020-5023: 総付保台数が9台以下 → ノンフリート, 事故有係数適用期間は0年
    d = decide_review(ReviewInputs(0, 0, 0, 1_000_000, 9, -20), TABLE)
    assert d.rate_percent is None and "period 0" in d.reasons[0]
    f = facts_on(1, date(2028, 3, 15), ten_car_date=date(2027, 3, 15), all_vehicle_rider=True, decided={1: None})
    assert f.rate_percent is None and f.period_zero


def test_the_rate_moves_from_the_prior_year_by_the_loss_ratio_within_bounds() -> None:
    # 002b L5015-5016: 損害率、前年の割引・割増および総付保台数により決定
    assert decide_review(ReviewInputs(100_000, 0, 0, 1_000_000, 10, None), TABLE).rate_percent == -10
    assert decide_review(ReviewInputs(300_000, 0, 0, 1_000_000, 10, -10), TABLE).rate_percent == -20   # 30.0 ≤ 30
    assert decide_review(ReviewInputs(301_000, 0, 0, 1_000_000, 10, -10), TABLE).rate_percent == -10   # 30.1: row ≤ 60, 0
    assert decide_review(ReviewInputs(900_000, 0, 0, 1_000_000, 10, 95), TABLE).rate_percent == 100     # ceiling
    assert decide_review(ReviewInputs(0, 0, 0, 1_000_000, 10, -65), TABLE).rate_percent == -70          # floor


def test_a_car_starting_before_the_first_review_keeps_its_grade() -> None:
    # 002b L5026: (1) 始期日が10台到達日から第1回料率審査日の前日まで → お車1台ごとに等級
    f = facts_on(1, date(2028, 3, 14), ten_car_date=date(2027, 3, 15), all_vehicle_rider=True, decided={})
    assert f.rate_percent is None and not f.period_zero
    with pytest.raises(RuleError, match="FLEET_REVIEW_PENDING"):
        facts_on(1, date(2028, 3, 15), ten_car_date=date(2027, 3, 15), all_vehicle_rider=True, decided={})


# --- rating -------------------------------------------------------------------------------------


def _aioi_fleet(rate_percent: int | None, **kw: object) -> object:
    q = base_quote(AIOI)
    return replace(q, fleet=FleetFacts(7, rate_percent, "fleet rate of review 1 (002b L5015-5026)", **kw))  # type: ignore[arg-type]


def test_the_fleet_rate_replaces_the_grade_factor() -> None:
    # 002b L5015-5016: one fleet discount/surcharge for every car in the review year
    p = rate(product(AIOI), _aioi_fleet(-30))  # type: ignore[arg-type]
    factors = {s.factor for s in p.explanation.steps}
    assert "FLEET" in factors and "GRADE" not in factors
    step = next(s for s in p.explanation.steps if s.factor == "FLEET")
    assert step.rate == Decimal("0.7") and step.value == "fleet rate -30%"


def test_a_fleet_car_has_no_non_fleet_multi_car_discount() -> None:
    # 002b L4913-4920 ※3: fleet policyholders get the fleet multi-car discount instead
    q = replace(base_quote(AIOI), discounts=DiscountFacts(multi_car_count=5))
    assert "MULTI_CAR" in rate(product(AIOI), q).discounts
    fleet_q = replace(q, fleet=FleetFacts(7, None, "grade"))
    assert "MULTI_CAR" not in rate(product(AIOI), fleet_q).discounts


def test_ten_cars_on_a_non_fleet_aioi_quote_are_refused() -> None:
    # 002b L5084-5087: 10 or more cars make a fleet contract
    q = replace(base_quote(AIOI), discounts=DiscountFacts(multi_car_count=15))
    with pytest.raises(RatingError) as e:
        rate(product(AIOI), q)
    assert e.value.code == "NOT_ELIGIBLE_FLEET" and "createFleet" in e.value.message
    ok = replace(q, discounts=DiscountFacts(multi_car_count=9))
    assert rate(product(AIOI), ok).total > 0


def test_rakuten_has_no_fleet_contracts() -> None:
    with pytest.raises(RatingError, match="NOT_ELIGIBLE_FLEET"):
        rate(product(RAKUTEN), replace(base_quote(RAKUTEN), fleet=FleetFacts(7)))


def test_joining_an_all_vehicle_certificate_mid_term_is_pro_rata_by_day() -> None:
    # 002b L5089-5092: one certificate, one expiry
    full = rate(product(AIOI), _aioi_fleet(0))  # type: ignore[arg-type]
    start = date(2026, 5, 1)
    part = rate(product(AIOI), _aioi_fleet(0, ends_on=date(2026, 11, 1)))  # type: ignore[arg-type]
    days = (date(2026, 11, 1) - start).days
    for a, b in zip(full.lines, part.lines, strict=True):
        assert b.amount == a.amount * days // 365 // 10 * 10 or abs(b.amount - a.amount * days / 365) < 10


def test_non_fleet_again_rates_the_grade_with_period_zero() -> None:
    q = replace(base_quote(AIOI), grade=GradeRecord(10, base_quote(AIOI).grade.marker, 2))  # type: ignore[union-attr]
    with_period = rate(product(AIOI), q)
    again = rate(product(AIOI), replace(q, fleet=FleetFacts(7, None, "again", period_zero=True)))
    assert again.total < with_period.total     # 10 with an accident-coefficient period costs more than 10, period 0
    step = next(s for s in again.explanation.steps if s.factor == "GRADE")
    assert "period 0" in step.value


def test_a_fleet_car_renews_at_the_rate_of_its_next_start() -> None:
    q = _aioi_fleet(None, ends_on=date(2026, 11, 1))
    offer = renewal_offer(product(AIOI), RenewalFacts(q, fleet=FleetFacts(7, -20, "review 1")))  # type: ignore[arg-type]
    assert offer.next_start == date(2026, 11, 1)
    assert offer.quote.fleet == FleetFacts(7, -20, "review 1")
    assert "FLEET" in {s.factor for s in offer.premium.explanation.steps}
