"""aioi つながるプラン: the monthly driving premium by km, safety score and the 20,000 km cap
(002 L1624-1628, L1831-1850)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.calendar import RuleError
from domain.connected_plan import band_discount, km_basis_for_change, monthly_driving_premium
from domain.products.model import ConnectedPlan
from tests.unit.test_rating_support import AIOI, RAKUTEN, product


def plan() -> ConnectedPlan:
    p = product(AIOI).connected_plan
    assert p is not None
    return p


def test_plan_in_the_product_file() -> None:
    p = plan()
    assert p.annual_km_cap == 20_000                                  # 002 L1624
    assert p.unit_rate_demonstration                                  # rate not printed (002a §9 item 8)
    assert product(RAKUTEN).connected_plan is None


# 002 L1840-1850: 80 points or more 80% off, 60-79 40% off, 59 or less none
@pytest.mark.parametrize(("score", "discount"), [(100, "0.80"), (80, "0.80"), (79, "0.40"), (60, "0.40"),
                                                 (59, "0"), (0, "0")])
def test_monthly_discount_bands(score: int, discount: str) -> None:
    assert band_discount(plan(), score) == Decimal(discount)


def test_monthly_premium_by_km_and_score() -> None:
    d = monthly_driving_premium(plan(), km=1_000, score=85, km_before_in_year=0)
    assert (d.km_charged, d.gross_yen, d.amount_yen) == (1_000, 3_000, 600)
    assert monthly_driving_premium(plan(), km=1_000, score=70, km_before_in_year=0).amount_yen == 1_800
    assert monthly_driving_premium(plan(), km=1_000, score=59, km_before_in_year=0).amount_yen == 3_000


# 002 L1624-1628: km above 20,000 in the policy year are not charged
@pytest.mark.parametrize(("before", "km", "charged"), [(19_000, 1_000, 1_000), (19_000, 1_001, 1_000),
                                                        (20_000, 500, 0), (25_000, 500, 0), (0, 20_000, 20_000)])
def test_annual_cap(before: int, km: int, charged: int) -> None:
    d = monthly_driving_premium(plan(), km=km, score=50, km_before_in_year=before)
    assert d.km_charged == charged and d.amount_yen == charged * 3
    if charged < km:
        assert any("not charged" in w and "002 L1624-1628" in w for w in d.explanation)


# 002 L1626-1628: a change adding premium after the cap was passed at the last anniversary: 20,000 km a year
def test_change_after_the_cap() -> None:
    assert km_basis_for_change(plan(), 20_001) == 20_000
    assert km_basis_for_change(plan(), 20_000) is None
    assert km_basis_for_change(plan(), 5_000) is None


def test_bad_input() -> None:
    with pytest.raises(RuleError):
        monthly_driving_premium(plan(), km=-1, score=50, km_before_in_year=0)
    with pytest.raises(RuleError):
        band_discount(plan(), 101)
