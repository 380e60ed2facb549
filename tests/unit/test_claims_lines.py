"""Claim lines: terms from the product option, limits, deductibles, payments, excess repair."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import RuleError
from domain.claims.lines import (
    ClaimLine,
    Limit,
    LimitBasis,
    LineTerms,
    Payment,
    open_line,
    record_payment,
    set_reserve,
    settle,
    terms_for,
    totals,
)
from domain.claims.rider_payout import (
    LossFacts,
    PayoutContext,
    assess,
    months_after_accident_deadline,
    product_rules,
    rule_of,
)
from domain.claims.workflow import ClaimStatus
from tests.unit.test_rating_support import AIOI, RAKUTEN, TOKIO, product

D = date(2026, 6, 1)
APPROVED = ClaimStatus.APPROVED


def pay(line: ClaimLine, amount: int, **kw: object) -> ClaimLine:
    applicable = kw.pop("applicable", {line.coverage})
    status = kw.pop("status", APPROVED)
    return record_payment(line, Payment(amount, D, **kw), status=status,  # type: ignore[arg-type]
                          applicable=applicable)  # type: ignore[arg-type]


def err(fn, *a, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleError) as e:
        fn(*a, **kw)
    return e.value.code


# ------------------------------------------------------------------ terms from product options


def test_terms_from_options() -> None:
    pi = terms_for(product(TOKIO), "PI", "SI_30M")
    assert pi.limits == (Limit(LimitBasis.PER_PERSON, 30_000_000, pi.limits[0].source),)
    bi = terms_for(product(RAKUTEN), "BI")
    assert bi.limits[0].basis is LimitBasis.PER_PERSON and bi.limits[0].amount is None   # 001 L240
    pd = terms_for(product(AIOI), "PD", "SI_30M")
    assert pd.limits[0].basis is LimitBasis.PER_ACCIDENT and pd.limits[0].amount == 30_000_000
    veh = terms_for(product(TOKIO), "VEHICLE", "GENERAL_DED_50000", vehicle_sum_insured=1_500_000)
    assert veh.deductible == 50_000 and veh.limits[0].amount == 1_500_000
    assert veh.total_loss_waives_deductible


def test_aioi_escalating_deductible() -> None:
    # 002 L3277: ¥0 on the first vehicle claim of the term, ¥100,000 from the second
    first = terms_for(product(AIOI), "VEHICLE", "DED_0_100000", vehicle_sum_insured=1_000_000)
    second = terms_for(product(AIOI), "VEHICLE", "DED_0_100000", vehicle_sum_insured=1_000_000,
                       earlier_vehicle_claims_in_term=1)
    assert (first.deductible, second.deductible) == (0, 100_000)


def test_terms_errors() -> None:
    assert err(terms_for, product(TOKIO), "NOPE") == "UNKNOWN_COVERAGE"
    assert err(terms_for, product(TOKIO), "PI", "SI_7M") == "UNKNOWN_OPTION"
    assert err(terms_for, product(TOKIO), "VEHICLE") == "VEHICLE_SUM_INSURED_REQUIRED"


# ------------------------------------------------------------------ settlement


VEH = LineTerms("VEHICLE", (Limit(LimitBasis.PER_VEHICLE, 1_000_000, "t"),), 50_000, True)


def test_vehicle_partial_loss_takes_the_deductible() -> None:
    s = settle(VEH, 300_000)
    assert (s.deductible, s.payable) == (50_000, 250_000)


# 004 L612, L1117: total loss is paid without deductible
def test_vehicle_total_loss_without_deductible() -> None:
    s = settle(VEH, 1_200_000, total_loss=True)
    assert s.payable == 1_000_000 and s.capped_by is not None
    assert settle(VEH, 900_000, total_loss=True).payable == 900_000


def test_loss_below_deductible_pays_nothing() -> None:
    assert settle(VEH, 30_000).payable == 0
    assert err(settle, VEH, -1) == "NEGATIVE_AMOUNT"


# ------------------------------------------------------------------ reserve and payments

BI = LineTerms("BI", (Limit(LimitBasis.PER_PERSON, 10_000_000, "t"),))
PD = LineTerms("PD", (Limit(LimitBasis.PER_ACCIDENT, 30_000_000, "t"),))
YEARLY = LineTerms("IN_CAR_BELONGINGS", (Limit(LimitBasis.PER_YEAR, 300_000, "004 L1057"),), 5_000)


def test_payments_reduce_the_reserve_and_add_up() -> None:
    line = open_line(PD, reserve=500_000)
    line = pay(line, 200_000)
    assert (line.reserve, line.paid) == (300_000, 200_000)
    line = pay(line, 400_000)
    assert (line.reserve, line.paid) == (0, 600_000)
    assert totals([line, open_line(BI, 50_000)]) == (50_000, 600_000)
    assert set_reserve(line, 10).reserve == 10
    assert err(set_reserve, line, -1) == "NEGATIVE_AMOUNT"
    assert err(open_line, PD, -5) == "NEGATIVE_AMOUNT"


def test_refused_payments() -> None:
    line = open_line(BI)
    assert err(pay, line, 0, person="a") == "PAYMENT_NOT_POSITIVE"
    assert err(pay, line, -100, person="a") == "PAYMENT_NOT_POSITIVE"
    assert err(pay, line, 100, person="a", status=ClaimStatus.DENIED) == "CLAIM_DENIED"
    assert err(pay, line, 100, person="a", status=ClaimStatus.UNDER_REVIEW) == "CLAIM_NOT_APPROVED"
    assert err(pay, line, 100, person="a", applicable={"PD"}) == "COVERAGE_NOT_APPLICABLE"
    assert err(pay, line, 100) == "PERSON_REQUIRED"
    assert err(pay, open_line(VEH), 100) == "VEHICLE_REQUIRED"


def test_per_person_limit_is_per_victim() -> None:
    line = pay(open_line(BI), 10_000_000, person="victim-1")
    line = pay(line, 10_000_000, person="victim-2")
    assert err(pay, line, 1, person="victim-1") == "PAYMENT_OVER_LIMIT"


def test_per_accident_and_per_year_limits() -> None:
    line = pay(open_line(PD), 30_000_000)
    assert err(pay, line, 1) == "PAYMENT_OVER_LIMIT"
    yearly = open_line(YEARLY)
    assert err(record_payment, yearly, Payment(150_001, D), status=APPROVED,
               applicable={"IN_CAR_BELONGINGS"}, paid_in_year_elsewhere=150_000) == "PAYMENT_OVER_LIMIT"
    ok = record_payment(yearly, Payment(150_000, D), status=APPROVED,
                        applicable={"IN_CAR_BELONGINGS"}, paid_in_year_elsewhere=150_000)
    assert ok.paid == 150_000


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=-10_000, max_value=20_000_000), max_size=12))
def test_paid_never_negative_nor_over_limit(amounts: list[int]) -> None:
    line = open_line(PD, reserve=5_000_000)
    for a in amounts:
        try:
            line = pay(line, a)
        except RuleError as e:
            assert e.code in ("PAYMENT_NOT_POSITIVE", "PAYMENT_OVER_LIMIT")
    assert 0 <= line.paid <= 30_000_000
    assert line.reserve >= 0
    assert all(p.amount > 0 for p in line.payments)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=5_000_000), st.booleans(),
       st.integers(min_value=0, max_value=2_000_000))
def test_settlement_bounds(loss: int, total: bool, paid_before: int) -> None:
    s = settle(VEH, loss, total_loss=total, paid_before=paid_before)
    assert 0 <= s.payable <= loss
    assert s.payable <= max(0, 1_000_000 - paid_before)


# ------------------------------------------------------------------ excess repair rider


def excess_repair(*, repair_cost: int, market_value: int, fault_percent: int, repaired_on: date | None,
                  pd_payable: bool = True) -> int:
    """The excess-repair rider's rule, by the one pay-out engine (domain/claims/rider_payout.py)."""
    p = product(RAKUTEN)
    paying = frozenset({"PD"} if pd_payable else set())
    ctx = PayoutContext(D, frozenset({"PD", "EXCESS_REPAIR"}), paying, rules=product_rules(p))
    facts = LossFacts(loss_yen=repair_cost, market_value_yen=market_value, fault_percent=fault_percent,
                      repaired_on=repaired_on)
    return assess("EXCESS_REPAIR", rule_of(p, "EXCESS_REPAIR"), facts, ctx).payable


# 001 L272; 004 L456-458: min((repair − market value) × fault ratio, ¥500,000)
def test_excess_repair_formula() -> None:
    assert excess_repair(repair_cost=900_000, market_value=500_000, fault_percent=70,
                         repaired_on=date(2026, 8, 1)) == 280_000
    assert excess_repair(repair_cost=2_000_000, market_value=500_000, fault_percent=80,
                         repaired_on=date(2026, 8, 1)) == 500_000   # 1,200,000 capped at ¥500,000 per vehicle
    assert excess_repair(repair_cost=500_001, market_value=500_000, fault_percent=33,
                         repaired_on=D) == 0                        # 0.33 yen rounds down


def test_excess_repair_conditions() -> None:
    # 6 months counting from the day after the accident (001 L272): 2026-06-01 → 2026-12-01
    assert months_after_accident_deadline(D, 6) == date(2026, 12, 1)
    kw = {"repair_cost": 900_000, "market_value": 500_000, "fault_percent": 100}
    assert excess_repair(**kw, repaired_on=date(2026, 12, 1)) == 400_000   # type: ignore[arg-type]
    assert excess_repair(**kw, repaired_on=date(2026, 12, 2)) == 0         # type: ignore[arg-type]
    assert excess_repair(**kw, repaired_on=None) == 0                      # type: ignore[arg-type]
    assert excess_repair(**kw, repaired_on=D, pd_payable=False) == 0       # type: ignore[arg-type]
    assert excess_repair(repair_cost=400_000, market_value=500_000, fault_percent=100, repaired_on=D) == 0
    with pytest.raises(RuleError) as e:
        excess_repair(repair_cost=1, market_value=0, fault_percent=101, repaired_on=D)
    assert e.value.code == "INVALID_FAULT_RATIO"
