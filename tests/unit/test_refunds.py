from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import add_months
from domain.refunds import (
    RefundMethod,
    RuleError,
    cooling_off_available,
    cooling_off_last_day,
    pro_rata_delta,
    pro_rata_delta_monthly,
    refund,
    term_months,
)

START, END = date(2024, 4, 1), date(2025, 4, 1)  # 365 days, 12 months
MONTHLY = RefundMethod.MONTHLY_UNEXPIRED


# --- mid-term premium delta -------------------------------------------------------------


def test_delta_by_day():
    # SPEC §4.3: pro-rata by day from the effective date to term end; 182 of 365 days left
    assert (
        pro_rata_delta(100_000, 120_000, START, END, date(2024, 10, 1)) == 9_972
    )  # 9,972.6 truncated
    assert pro_rata_delta(120_000, 100_000, START, END, date(2024, 10, 1)) == -9_972


def test_delta_at_term_edges():
    assert pro_rata_delta(100_000, 130_000, START, END, START) == 30_000
    assert pro_rata_delta(100_000, 130_000, START, END, END) == 0


def test_delta_monthly_rounds_against_the_policyholder():
    # a started month is charged in full, only whole months are returned
    assert pro_rata_delta_monthly(100_000, 120_000, START, END, date(2024, 10, 2)) == 10_000  # 6/12
    assert pro_rata_delta_monthly(120_000, 100_000, START, END, date(2024, 10, 2)) == -8_333  # 5/12
    assert pro_rata_delta_monthly(100_000, 120_000, START, END, date(2024, 10, 1)) == 10_000
    assert pro_rata_delta_monthly(120_000, 100_000, START, END, date(2024, 10, 1)) == -10_000
    assert pro_rata_delta_monthly(100_000, 120_000, START, END, END) == 0


@pytest.mark.parametrize("fn", [pro_rata_delta, pro_rata_delta_monthly])
def test_delta_refuses_dates_outside_the_term(fn):
    with pytest.raises(RuleError) as e:
        fn(1, 2, START, END, date(2025, 4, 2))
    assert (e.value.code, e.value.field) == ("DATE_OUTSIDE_TERM", "effectiveDate")
    with pytest.raises(RuleError) as e:
        fn(1, 2, END, START, date(2024, 5, 1))
    assert e.value.code == "DATES_OUT_OF_ORDER"
    with pytest.raises(RuleError) as e:
        fn(-1, 2, START, END, date(2024, 5, 1))
    assert e.value.code == "NEGATIVE_AMOUNT"


# --- cancellation refunds ---------------------------------------------------------------


def test_refund_monthly_unexpired_whole_months():
    # 004 L1421: refund < paid − premium for the elapsed period computed 月割;
    # 004 L1425 *2: elapsed = 始期日からその日を含めて解約日まで → 04-01..05-01 is 1 month + 1 day
    r = refund(120_000, MONTHLY, START, END, date(2024, 5, 1), cooling_off=False)
    assert r.amount == 100_000 and r.owed == 0 and r.method is MONTHLY
    assert (
        refund(120_000, MONTHLY, START, END, date(2024, 4, 30), cooling_off=False).amount == 110_000
    )
    assert refund(120_000, MONTHLY, START, END, START, cooling_off=False).amount == 110_000
    assert (
        refund(120_000, MONTHLY, START, END, date(2025, 2, 28), cooling_off=False).amount == 10_000
    )
    assert refund(120_000, MONTHLY, START, END, date(2025, 3, 1), cooling_off=False).amount == 0
    assert refund(120_000, MONTHLY, START, END, END, cooling_off=False).amount == 0


def test_refund_is_never_more_than_monthly_pro_rata():
    # 002b L5218-5224 解約返れい金は原則として未経過期間分よりも少なくなります
    for days in range(0, 366, 7):
        cancel = START + timedelta(days=days)
        exact = 120_000 * (END - cancel).days / 365
        assert refund(120_000, MONTHLY, START, END, cancel, cooling_off=False).amount <= exact


def test_refund_rounds_earned_premium_up():
    # 100,001 × 2/12 = 16,666.83 earned → 16,667; refund 83,334
    assert (
        refund(100_001, MONTHLY, START, END, date(2024, 5, 1), cooling_off=False).amount == 83_334
    )


def test_refund_steps_readable_and_sum():
    r = refund(120_000, MONTHLY, START, END, date(2024, 5, 1), cooling_off=False)
    assert r.steps[0].value == "12"
    earned = next(int(s.value) for s in r.steps if s.name.startswith("earned"))
    assert 120_000 - earned == r.amount
    assert all(s.rule_ref for s in r.steps)


def test_refund_with_instalments_collects_what_is_owed():
    # 002b L5218-5224 / 004 L1420: at cancellation unpaid premium may be billed
    r = refund(
        30_000, MONTHLY, START, END, date(2024, 6, 15), cooling_off=False, term_premium=120_000
    )
    assert (r.amount, r.owed) == (0, 0)  # three months paid, three earned
    r = refund(
        30_000, MONTHLY, START, END, date(2024, 7, 1), cooling_off=False, term_premium=120_000
    )
    assert (r.amount, r.owed) == (0, 10_000)


def test_refund_daily():
    # 004 L1379 日割 for the elapsed period (start date and cancel date both counted)
    r = refund(36_500, RefundMethod.DAILY, START, END, START, cooling_off=False)
    assert r.amount == 36_400
    assert (
        refund(36_500, RefundMethod.DAILY, START, END, date(2025, 3, 31), cooling_off=False).amount
        == 0
    )


def test_cooling_off_refunds_everything_before_the_start():
    # 004 L1376 クーリングオフされた場合には、既に払込みいただいた保険料はご契約者にお返しします
    r = refund(
        240_000, MONTHLY, date(2026, 4, 1), date(2028, 4, 1), date(2026, 3, 25), cooling_off=True
    )
    assert r.amount == 240_000 and r.method is RefundMethod.FULL and r.owed == 0
    # on the start date itself no cover has run yet (16:00 to 16:00)
    assert refund(240_000, MONTHLY, date(2026, 4, 1), date(2028, 4, 1), date(2026, 4, 1), cooling_off=True).amount == 240_000


def test_cooling_off_after_the_start_charges_the_days_covered():
    # 004 L1379 始期日から解約日までの期間に相当する保険料を日割で払込みいただくことがあります
    r = refund(
        240_000, MONTHLY, date(2026, 4, 1), date(2028, 4, 1), date(2026, 4, 5), cooling_off=True
    )
    # 731 days in the term; 04-01..04-05 inclusive = 5 days; earned = ceil(240000 × 5 / 731) = 1,642
    assert r.method is RefundMethod.DAILY and r.amount == 240_000 - 1_642 and r.owed == 0


def test_refund_refuses_dates_outside_the_term():
    with pytest.raises(RuleError) as e:
        refund(120_000, MONTHLY, START, END, date(2024, 3, 31), cooling_off=False)
    assert (e.value.code, e.value.field) == ("DATE_OUTSIDE_TERM", "cancelDate")
    with pytest.raises(RuleError) as e:
        refund(120_000, MONTHLY, START, END, date(2025, 4, 2), cooling_off=False)
    assert e.value.code == "DATE_OUTSIDE_TERM"
    with pytest.raises(RuleError) as e:
        refund(-1, MONTHLY, START, END, date(2024, 5, 1), cooling_off=False)
    assert (e.value.code, e.value.field) == ("NEGATIVE_AMOUNT", "paid")


def test_term_months():
    assert term_months(START, END) == 12
    assert term_months(date(2026, 4, 1), date(2029, 4, 1)) == 36
    assert term_months(date(2026, 4, 1), date(2026, 4, 16)) == 1  # short term: a started month


# --- cooling-off eligibility (tokio) ----------------------------------------------------


def test_cooling_off_window_is_eight_days_including_the_later_date():
    # 004 L1383 申込日またはこの説明書の受領日のいずれか遅い日からその日を含めて8日以内
    assert cooling_off_last_day(date(2026, 3, 1), date(2026, 3, 3)) == date(2026, 3, 10)
    args = (date(2026, 4, 1), date(2028, 4, 1), date(2026, 3, 1), date(2026, 3, 3))
    assert cooling_off_available(*args, date(2026, 3, 10))
    assert not cooling_off_available(*args, date(2026, 3, 11))


def test_cooling_off_only_for_terms_over_a_year():
    # 004 L1376, L1387 保険期間が1年または1年に満たないご契約 cannot
    assert not cooling_off_available(
        date(2026, 4, 1), date(2027, 4, 1), date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 2)
    )
    assert cooling_off_available(
        date(2026, 4, 1), date(2027, 4, 2), date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 2)
    )


@pytest.mark.parametrize(
    "flag",
    ["business_use", "corporate_policyholder", "telecom_application", "insured_event_occurred"],
)
def test_cooling_off_exclusions(flag):
    # 004 L1378 (event already happened), L1388-1390 (business, corporate, telecom rider)
    args = (
        date(2026, 4, 1),
        date(2028, 4, 1),
        date(2026, 3, 1),
        date(2026, 3, 1),
        date(2026, 3, 2),
    )
    assert cooling_off_available(*args)
    assert not cooling_off_available(*args, **{flag: True})


# --- properties -------------------------------------------------------------------------

terms = st.tuples(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    st.sampled_from([1, 3, 6, 12, 24, 36]),
)


@settings(max_examples=150, deadline=None)
@given(
    terms,
    st.integers(0, 5_000_000),
    st.sampled_from([MONTHLY, RefundMethod.DAILY]),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_refund_bounded_and_monotone(term, paid, method, f1, f2):
    start, months = term
    end = add_months(start, months)
    span = (end - start).days
    c1 = start + timedelta(days=int(span * min(f1, f2)))
    c2 = start + timedelta(days=int(span * max(f1, f2)))
    r1 = refund(paid, method, start, end, c1, cooling_off=False)
    r2 = refund(paid, method, start, end, c2, cooling_off=False)
    assert 0 <= r2.amount <= r1.amount <= paid
    assert r1.owed == 0
    cooled = refund(paid, method, start, end, c1, cooling_off=True).amount
    assert cooled == (paid if c1 <= start else refund(paid, RefundMethod.DAILY, start, end, c1, cooling_off=False).amount)


@settings(max_examples=150, deadline=None)
@given(terms, st.integers(0, 5_000_000), st.integers(0, 5_000_000), st.floats(0, 1))
def test_delta_properties(term, a, b, f):
    start, months = term
    end = add_months(start, months)
    eff = start + timedelta(days=int((end - start).days * f))
    assert pro_rata_delta(a, a, start, end, eff) == 0
    assert pro_rata_delta_monthly(a, a, start, end, eff) == 0
    d = pro_rata_delta(a, b, start, end, eff)
    assert d == -pro_rata_delta(b, a, start, end, eff)
    assert abs(d) <= abs(b - a)
    assert abs(pro_rata_delta_monthly(a, b, start, end, eff)) <= abs(b - a)
    # both methods move money in the same direction
    m = pro_rata_delta_monthly(a, b, start, end, eff)
    assert (m >= 0 and d >= 0) if b >= a else (m <= 0 and d <= 0)
