"""Aioi new-car discount (新車割引, 2%-36%, 002 L4875-4879, L4887-4888, table L4941-4963).

The table's rows are car size × grade 6(S) or not, its columns the liability/injury lines
(対人・対物・人身傷害・傷害一時金・自損傷害・搭乗者傷害, L4951/L4963) and 車両保険 (L4941). Each
proven cell has a test citing its value's line; the cells that could not be proven are listed in
docs/decisions.md (h-newcar) and give no discount here.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from domain.calendar import YearMonth, add_months
from domain.grade import GradeMarker, GradeRecord
from domain.rating import CoverageChoice, QuoteInput, _rate, rate
from domain.vocab import AgeCondition, UseType
from tests.unit.test_rating_support import (
    AIOI,
    base_quote,
    discount_rate,
    product,
    quote,
    step,
    with_vehicle,
)

S6 = GradeRecord(6, GradeMarker.S, 0)
OTHER = GradeRecord(10, GradeMarker.NONE, 0)
STD, SMALL, KEI = (UseType.PRIVATE_STANDARD_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER,
                   UseType.PRIVATE_KEI_PASSENGER)
KEI_CLASSES = {"BI": 3, "PD": 3, "INJURY": 3, "VEHICLE": 3}       # kei classes 1-7 (002 L4821-4822)
LINES = ("BI", "PD", "PI", "VEHICLE")


def new_car(use_type: UseType, grade: GradeRecord, months: int = 12) -> QuoteInput:
    """An aioi quote (start 2026-05) for a car `months` after its first registration month."""
    q = replace(base_quote(AIOI), grade=grade)
    first = YearMonth.of(q.start_date).plus_months(-months)
    classes = KEI_CLASSES if use_type is KEI else dict(q.vehicle.rating_classes)
    return with_vehicle(q, use_type=use_type, first_registration=first, rating_classes=classes)


# ------------------------------------------------------------------ proven cells


@pytest.mark.parametrize("use_type", [STD, SMALL])        # one row for both (002 L4946-4947)
@pytest.mark.parametrize("line", ["BI", "PD", "PI"])
def test_standard_and_small_at_6s_liability_and_injury_36(use_type: UseType, line: str) -> None:
    assert discount_rate(quote(new_car(use_type, S6)), line, "NEW_CAR") == D("0.36")    # 002 L4952


@pytest.mark.parametrize("use_type", [STD, SMALL])
def test_standard_and_small_at_6s_vehicle_35(use_type: UseType) -> None:
    assert discount_rate(quote(new_car(use_type, S6)), "VEHICLE", "NEW_CAR") == D("0.35")  # 002 L4958


@pytest.mark.parametrize("use_type", [STD, SMALL])
@pytest.mark.parametrize("line", ["BI", "PD", "PI"])
def test_standard_and_small_other_grades_liability_and_injury_11(use_type: UseType, line: str) -> None:
    assert discount_rate(quote(new_car(use_type, OTHER)), line, "NEW_CAR") == D("0.11")  # 002 L4953


@pytest.mark.parametrize("use_type", [STD, SMALL])
def test_standard_and_small_other_grades_vehicle_9(use_type: UseType) -> None:
    assert discount_rate(quote(new_car(use_type, OTHER)), "VEHICLE", "NEW_CAR") == D("0.09")  # 002 L4959


@pytest.mark.parametrize("line", ["BI", "PD", "PI"])
def test_kei_at_6s_liability_and_injury_29(line: str) -> None:
    assert discount_rate(quote(new_car(KEI, S6)), line, "NEW_CAR") == D("0.29")          # 002 L4954


def test_kei_at_6s_vehicle_34() -> None:
    assert discount_rate(quote(new_car(KEI, S6)), "VEHICLE", "NEW_CAR") == D("0.34")     # 002 L4960


# ------------------------------------------------------------------ not proven: no discount


# 002 L4956 (上記以外) and L4961 ("8%割引 2%割引" on one line): which value is the vehicle column
# cannot be read from the dump, so kei cars at a grade other than 6(S) get no new-car discount.
def test_kei_other_grades_unproven_cells_give_no_discount() -> None:
    p = quote(new_car(KEI, OTHER))
    assert all(discount_rate(p, line, "NEW_CAR") is None for line in LINES)
    assert "NEW_CAR" not in p.discounts


# ------------------------------------------------------------------ the window and who qualifies


# 002 L4875-4879: the start month within 49 months counted from the month after the first
# registration month (registration 2022-04: month 1 is 2022-05, month 49 is 2026-05)
def test_window_is_49_months_from_the_month_after_first_registration() -> None:
    assert discount_rate(quote(new_car(STD, OTHER, months=0)), "BI", "NEW_CAR") == D("0.11")
    assert discount_rate(quote(new_car(STD, OTHER, months=49)), "BI", "NEW_CAR") == D("0.11")
    assert discount_rate(quote(new_car(STD, OTHER, months=50)), "BI", "NEW_CAR") is None
    q = new_car(STD, OTHER)
    assert discount_rate(quote(with_vehicle(q, first_registration=None)), "BI", "NEW_CAR") is None


# 002 L4875: private passenger cars only
@pytest.mark.parametrize("use_type", [UseType.PRIVATE_SMALL_TRUCK, UseType.COMMERCIAL_STANDARD_TRUCK, UseType.CAMPING_CAR])
def test_only_private_passenger_cars(use_type: UseType) -> None:
    q = with_vehicle(new_car(STD, S6), use_type=use_type)
    p = rate(product(AIOI), replace(q, age_condition=AgeCondition.ANY))   # no age condition for trucks
    assert "NEW_CAR" not in p.discounts


def test_the_discount_is_a_step_of_the_premium_explanation() -> None:
    p = quote(new_car(STD, S6, months=3))
    s = step(p, "BI", "NEW_CAR")
    assert s is not None and s.rate == D("0.64") and s.ja == "新車割引"
    assert "month 3" in s.value and "6(S)" in s.value
    assert "L4941-4963" in s.rule and s.rule.startswith("002 L4875")
    assert "NEW_CAR" in p.discounts and p.explanation.total() == p.total


def test_only_chosen_lines_are_discounted() -> None:
    q = replace(new_car(STD, OTHER), coverages=(CoverageChoice("BI"),))
    p = quote(q)
    assert discount_rate(p, "BI", "NEW_CAR") == D("0.11") and step(p, "VEHICLE", "NEW_CAR") is None


# ------------------------------------------------------------------ long-term contracts


# 002 L4876-4877: each policy year is judged at its anniversary; 注2 (L4812-4813): the 6(S) rate
# in policy year 1 only, later years the other column while the car is still in the window.
def test_long_term_6s_first_year_then_other_column_then_out_of_the_window() -> None:
    q = replace(new_car(STD, S6, months=30), term_months=36)     # months 30, 42, 54 at the anniversaries
    at = [replace(q, start_date=add_months(q.start_date, 12 * y), term_months=12) for y in range(3)]
    y1 = rate(product(AIOI), at[0], on=q.start_date)
    y2 = _rate(product(AIOI), at[1], q.start_date, first_policy_year=False)
    y3 = _rate(product(AIOI), at[2], q.start_date, first_policy_year=False)
    assert discount_rate(y1, "BI", "NEW_CAR") == D("0.36") and discount_rate(y1, "VEHICLE", "NEW_CAR") == D("0.35")
    assert discount_rate(y2, "BI", "NEW_CAR") == D("0.11") and discount_rate(y2, "VEHICLE", "NEW_CAR") == D("0.09")
    s2 = step(y2, "BI", "NEW_CAR")
    assert s2 is not None and "after policy year 1" in s2.value
    assert "NEW_CAR" not in y3.discounts                          # month 54: past the window
    # the grade stays 6(S) for the whole term (002a L2303-2305): year 2 keeps the 6(S) grade factor
    assert step(y2, "BI", "GRADE") == step(y1, "BI", "GRADE")
    p = rate(product(AIOI), q)
    assert p.total == y1.total + y2.total + y3.total
    year3 = [s for s in p.explanation.steps if s.factor == "POLICY_YEAR_3"]
    assert year3 and all("without NEW_CAR" in s.value for s in year3)
    # a 12-month 6(S) contract at month 42 is a first policy year: the 6(S) column
    assert discount_rate(rate(product(AIOI), at[1]), "BI", "NEW_CAR") == D("0.36")
