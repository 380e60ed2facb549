"""Kyosai fixed benefits: every number with its seed line (seeds/003_*.txt)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import RuleError
from domain.claims.kyosai import (
    AFTER_EFFECTS_PERCENT,
    Benefit,
    Treatment,
    after_effects_benefit,
    death_benefit,
    hospital_benefits,
    medical_certificate_needed,
    outpatient_benefit,
    temporary_expenses,
)

ACC = date(2026, 6, 1)


def days(n: int, start: date = ACC) -> frozenset[date]:
    return frozenset(start + timedelta(days=i) for i in range(n))


# 003 L17: 死亡 300万円 事故の日から180日以内に死亡した場合
def test_death_within_180_days() -> None:
    assert death_benefit(person="p", accident_date=ACC, death_date=ACC).amount == 3_000_000
    day_180 = ACC + timedelta(days=179)                 # the accident day is day 1
    assert death_benefit(person="p", accident_date=ACC, death_date=day_180).amount == 3_000_000
    assert death_benefit(person="p", accident_date=ACC, death_date=day_180 + timedelta(days=1)).amount == 0
    with pytest.raises(RuleError):
        death_benefit(person="p", accident_date=ACC, death_date=ACC - timedelta(days=1))


# 003 L15: the sum is ¥3M per person, so after-effects already paid are deducted
def test_death_after_after_effects_stays_within_the_sum() -> None:
    d = death_benefit(person="p", accident_date=ACC, death_date=ACC + timedelta(days=30),
                      after_effects_paid=1_020_000)
    assert d.amount == 1_980_000


# 003 L18: 後遺障害 12万円〜300万円 程度(等級)により
def test_after_effects_range() -> None:
    assert after_effects_benefit(person="p", grade=14).amount == 120_000
    assert after_effects_benefit(person="p", grade=1).amount == 3_000_000
    amounts = [after_effects_benefit(person="p", grade=g).amount for g in range(1, 15)]
    assert amounts == sorted(amounts, reverse=True)
    assert all(120_000 <= a <= 3_000_000 for a in amounts)
    assert set(AFTER_EFFECTS_PERCENT) == set(range(1, 15))
    with pytest.raises(RuleError) as e:
        after_effects_benefit(person="p", grade=15)
    assert e.value.code == "INVALID_AFTER_EFFECTS_GRADE"


# 003 L19-20: 入院 4,500円 (1名1日につき)
def test_hospital_per_person_per_day() -> None:
    (b,) = hospital_benefits([Treatment("a", hospital_days=days(10))])
    assert b.amount == 45_000 and b.benefit is Benefit.HOSPITAL


# 003 L21: 1事故で1日18,000円が限度です
def test_hospital_daily_cap_per_accident() -> None:
    five = [Treatment(f"p{i}", hospital_days=days(2)) for i in range(5)]
    out = hospital_benefits(five)
    assert sum(b.amount for b in out) == 2 * 18_000       # 5 × 4,500 = 22,500 capped at 18,000
    assert [b.amount for b in out] == [9_000, 9_000, 9_000, 9_000, 0]


# 003 L22: お支払いは365日か300万円が限度
def test_hospital_365_days() -> None:
    (b,) = hospital_benefits([Treatment("a", hospital_days=days(400))])
    assert b.amount == 365 * 4_500


def test_the_365_days_are_each_persons() -> None:
    """A in hospital on days 1-300, B on days 200-500: B's 301 days are all within B's own 365."""
    start = date(2026, 5, 1)
    a = frozenset(start + timedelta(days=i) for i in range(300))
    b = frozenset(start + timedelta(days=i) for i in range(199, 500))
    out = {x.person: x.amount for x in hospital_benefits([Treatment("A", hospital_days=a), Treatment("B", hospital_days=b)])}
    assert out == {"A": 300 * 4_500, "B": 301 * 4_500}   # 2 × 4,500 a day stays under the ¥18,000 cap


def test_four_people_a_year_each_stay_within_the_daily_cap() -> None:
    """4 × ¥4,500 = ¥18,000 a day exactly; 365 days each (¥1,642,500, under the ¥3,000,000 per person)."""
    four = [Treatment(f"p{i}", hospital_days=days(365)) for i in range(4)]
    assert [b.amount for b in hospital_benefits(four)] == [365 * 4_500] * 4


# 003 L23-24: 通院 2,250円 (1名1日につき)
def test_outpatient() -> None:
    assert outpatient_benefit(Treatment("a", outpatient_days=days(4))).amount == 9_000


def test_a_day_is_hospital_or_outpatient_not_both() -> None:
    with pytest.raises(RuleError) as e:
        Treatment("a", hospital_days=days(2), outpatient_days=days(1))
    assert e.value.code == "DAY_COUNTED_TWICE"
    with pytest.raises(RuleError):
        hospital_benefits([Treatment("a"), Treatment("a")])


# 003 L26-27: 死亡臨時費用共済金(30万円)、入通院臨時費用共済金(3日以上…3万円)
def test_temporary_expenses() -> None:
    out = temporary_expenses(member_at_fault=True, pays_other_side=True, other_side_deaths=1,
                             other_side_treatment_days=[3, 2, 10])
    assert sorted(b.amount for b in out) == [30_000, 30_000, 300_000]
    assert temporary_expenses(member_at_fault=False, pays_other_side=True, other_side_deaths=1) == ()
    assert temporary_expenses(member_at_fault=True, pays_other_side=False, other_side_deaths=1) == ()


# 003 L56: 5万円以下のお支払いの場合、診断書は不要
def test_medical_certificate_threshold() -> None:
    assert not medical_certificate_needed(50_000)
    assert medical_certificate_needed(50_001)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=6))
def test_hospital_caps_hold(day_counts: list[int]) -> None:
    ts = [Treatment(f"p{i}", hospital_days=days(n)) for i, n in enumerate(day_counts)]
    out = hospital_benefits(ts)
    total = sum(b.amount for b in out)
    longest = min(max(day_counts), 365)
    assert 0 <= total <= longest * 18_000
    assert all(b.amount <= min(n, 365) * 4_500 for b, n in zip(out, day_counts, strict=True))
