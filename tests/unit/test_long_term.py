"""Long-term contracts (issue 13): aioi and tokio offer terms of 2 and 3 years; the grade is fixed
for the term, each policy year is rated at its anniversary, and the renewal after the term takes
the long-term formula (002a rule 14)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from domain.calendar import YearMonth, add_months
from domain.grade import GradeMarker, GradeRecord
from domain.rating import NamedInsured, RatingError, _rate, rate
from domain.renewal import RenewalFacts, TermClaim, renewal_offer
from domain.vocab import AccidentClass, PaymentMethod
from tests.unit.test_rating_support import AIOI, RAKUTEN, TOKIO, base_quote, product


def _year(pid: str, q: object, y: int) -> int:
    one = replace(q, start_date=add_months(q.start_date, 12 * y), term_months=12)  # type: ignore[type-var]
    return rate(product(pid), one, on=q.start_date).total  # type: ignore[attr-defined]


# 002b L5237-5238 (1年を超える長期契約も可能); 004 L1233: 2- and 3-year terms; rakuten is 1 year (001 L795)
@pytest.mark.parametrize("pid", [AIOI, TOKIO])
@pytest.mark.parametrize("months", [24, 36])
def test_a_long_term_premium_is_its_policy_years(pid: str, months: int) -> None:
    q = replace(base_quote(pid), term_months=months)
    p = rate(product(pid), q)
    assert p.term_months == months
    assert p.total == sum(_year(pid, q, y) for y in range(months // 12))
    assert p.instalments == (p.total,)
    # the explanation chains each line to its amount: year 1's steps, then a step per later year
    for line in p.lines:
        steps = [s for s in p.explanation.steps if s.line == line.code]
        assert steps[-1].after == line.amount
        assert sum(s.factor.startswith("POLICY_YEAR_") for s in steps) == months // 12 - 1
    # the grade is fixed for the term (002a L2303-2305): every year is rated at the same grade
    grades = {s.value for s in p.explanation.steps if s.factor == "GRADE"}
    assert grades == {"10, period 0"}


def test_monthly_instalments_run_over_the_whole_term() -> None:
    q = replace(base_quote(AIOI), term_months=36, payment_method=PaymentMethod.MONTHLY)
    p = rate(product(AIOI), q)
    assert len(p.instalments) == 36 and sum(p.instalments) == p.total


def test_rakuten_offers_one_year_only() -> None:
    with pytest.raises(RatingError) as e:
        rate(product(RAKUTEN), replace(base_quote(RAKUTEN), term_months=36))
    assert e.value.code == "TERM_NOT_OFFERED"


# 004 L1271-1279: the named insured's age band is taken again each policy year of a long-term contract
def test_tokio_re_bands_the_age_each_policy_year() -> None:
    q = replace(base_quote(TOKIO), term_months=24, named_insured=NamedInsured(date(1996, 12, 1)))  # 29, then 30
    p = rate(product(TOKIO), q)
    bands = [s.value for s in p.explanation.steps if s.factor == "AGE_BAND"]
    assert bands and all(b.startswith("age 29") for b in bands)  # year 1 chain: age at the start
    year2 = rate(product(TOKIO), replace(q, start_date=add_months(q.start_date, 12), term_months=12), on=q.start_date)
    assert any(s.value.startswith("age 30") for s in year2.explanation.steps if s.factor == "AGE_BAND")
    assert p.total == _year(TOKIO, q, 0) + year2.total


# 004 L1537: the new-car discount is judged each policy year and applies only in qualifying years
def test_tokio_new_car_discount_only_in_the_years_it_qualifies() -> None:
    q = replace(base_quote(TOKIO), term_months=36)
    q = replace(q, vehicle=replace(q.vehicle, first_registration=YearMonth.of(q.start_date).plus_months(-30),
                                   model_release=YearMonth.of(q.start_date).plus_months(-24)))
    years = [rate(product(TOKIO), replace(q, start_date=add_months(q.start_date, 12 * y), term_months=12),
                  on=q.start_date) for y in range(3)]
    with_discount = ["NEW_CAR" in y.discounts for y in years]
    assert with_discount == [True, True, False]  # months 30 and 42 (26-49 band), then 54: past it
    p = rate(product(TOKIO), q)
    assert p.total == sum(y.total for y in years)
    lost = [s.value for s in p.explanation.steps if s.factor.startswith("POLICY_YEAR_") and "without NEW_CAR" in s.value]
    assert lost


# 002a L2216-2262 worked example: 3 years at grade 13 (0y); one 3-down accident → renewal at 12 (2y),
# one 1-down accident → 14 (0y) (rule 14, 002a L2317-2330)
@pytest.mark.parametrize(("accident", "grade", "period"),
                         [(AccidentClass.THREE_DOWN, 12, 2), (AccidentClass.ONE_DOWN, 14, 0)])
def test_the_renewal_after_three_years_takes_the_long_term_formula(accident: AccidentClass, grade: int,
                                                                   period: int) -> None:
    q = replace(base_quote(AIOI), term_months=36, start_date=date(2025, 1, 1),
                grade=GradeRecord(13, GradeMarker.NONE, 0))
    offer = renewal_offer(product(AIOI), RenewalFacts(q, claims=(TermClaim("c1", accident),)))
    assert offer.record is not None and (offer.record.grade, offer.record.period) == (grade, period)
    assert offer.quote.term_months == 36 and offer.quote.start_date == date(2028, 1, 1)


# 004 L1580 (*12): a long-term contract at 6(S) takes the 6(S) new-car column in policy year 1
# only, the "6等級(S)以外" column from policy year 2 (grade 6(S) itself stays for the term)
def test_tokio_long_term_6s_new_car_column_in_policy_year_1_only() -> None:
    q = replace(base_quote(TOKIO), term_months=24, grade=GradeRecord(6, GradeMarker.S, 0))
    q = replace(q, vehicle=replace(q.vehicle, first_registration=YearMonth.of(q.start_date).plus_months(-2)))
    y2 = replace(q, start_date=add_months(q.start_date, 12), term_months=12)       # month 14: ≤25 band
    later = _rate(product(TOKIO), y2, q.start_date, first_policy_year=False)
    rate_of = next(s.rate for s in later.explanation.steps if s.line == "BI" and s.factor == "NEW_CAR")
    assert rate_of is not None and 1 - rate_of == Decimal("0.14")                   # 004 L1564 6(S)以外
    year1 = rate(product(TOKIO), replace(q, term_months=12))
    assert rate(product(TOKIO), q).total == year1.total + later.total
