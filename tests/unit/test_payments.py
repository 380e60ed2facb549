"""Payment schedule and non-payment (SPEC §4.7, 001 L821-839, L833, 002b L5131-5135)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import JST, RuleError
from domain.payments import (
    ClaimsPayment,
    PaymentAction,
    PaymentState,
    Schedule,
    build_schedule,
    delinquency,
    missed_debit_runs,
    payment_timers,
    rescission_deadline,
    schedule_for,
)
from domain.rating import rate
from domain.vocab import PaymentMethod
from tests.unit.test_rating_support import AIOI, base_quote, product

START = date(2026, 4, 10)


def monthly(amounts: list[int] | None = None, **kw: object) -> Schedule:
    return build_schedule(amounts or [1010] + [1000] * 11, START, method=PaymentMethod.MONTHLY, **kw)  # type: ignore[arg-type]


def test_monthly_schedule_dates() -> None:
    s = monthly()
    # first premium at contracting (001 L823), then the debit day of each following month (001 L827)
    assert s.instalments[0].due_on == START
    assert [i.due_on for i in s.instalments[1:3]] == [date(2026, 5, 27), date(2026, 6, 27)]
    assert s.instalments[-1].due_on == date(2027, 3, 27)
    assert s.total == 12010 and len(s.instalments) == 12


def test_first_premium_by_debit_moves_to_next_month() -> None:
    # 001 L837-839: debited on the transfer date of the month after the start month
    s = monthly(first_by_debit=True)
    assert s.instalments[0].due_on == date(2026, 5, 27)
    assert s.instalments[1].due_on == date(2026, 6, 27)
    annual = build_schedule([120000], START, method=PaymentMethod.ANNUAL, first_by_debit=True)
    assert [i.due_on for i in annual.instalments] == [date(2026, 5, 27)]


def test_debit_day_clamped_to_month_end() -> None:
    s = build_schedule([10, 10, 10], date(2026, 1, 5), method=PaymentMethod.MONTHLY, debit_day=31)
    assert [i.due_on for i in s.instalments] == [date(2026, 1, 5), date(2026, 2, 28), date(2026, 3, 31)]


def test_schedule_from_a_rated_premium_first_carries_the_remainder() -> None:
    q = base_quote(AIOI, payment_method=PaymentMethod.MONTHLY)
    premium = rate(product(AIOI), q)
    s = schedule_for(premium)
    assert s.total == premium.total
    assert [i.amount for i in s.instalments] == list(premium.instalments)
    assert s.instalments[0].amount >= s.instalments[1].amount


def test_schedule_refusals() -> None:
    with pytest.raises(RuleError) as e:
        build_schedule([], START, method=PaymentMethod.MONTHLY)
    assert e.value.code == "NO_INSTALMENTS"
    with pytest.raises(RuleError) as e:
        build_schedule([1, 2], START, method=PaymentMethod.ANNUAL)
    assert e.value.code == "ANNUAL_IS_ONE_PAYMENT"
    with pytest.raises(RuleError) as e:
        build_schedule([-1], START, method=PaymentMethod.ANNUAL)
    assert e.value.code == "NEGATIVE_AMOUNT"
    with pytest.raises(RuleError) as e:
        build_schedule([1], START, method=PaymentMethod.ANNUAL, debit_day=0)
    assert e.value.code == "INVALID_DEBIT_DAY"


def test_rescission_deadline_end_of_m1_or_m2() -> None:
    # 001 L833: 払込期日の属する月の翌月末 (翌々月末 when no intent or gross negligence)
    assert rescission_deadline(date(2026, 5, 27), not_at_fault=False) == date(2026, 6, 30)
    assert rescission_deadline(date(2026, 5, 27), not_at_fault=True) == date(2026, 7, 31)
    # 002b L5131: 払込期日の翌々月末日; December due → end of February
    assert rescission_deadline(date(2026, 12, 27), not_at_fault=True) == date(2027, 2, 28)


def test_current_when_everything_due_is_paid() -> None:
    s = monthly()
    d = delinquency(s, {1: START, 2: date(2026, 5, 27)}, date(2026, 6, 1), not_at_fault=False)
    assert d.state is PaymentState.CURRENT and d.claims is ClaimsPayment.PAYABLE
    assert d.overdue == () and d.amount_due_now == 0 and d.rescission_deadline is None


def test_missed_premium_delinquent_then_rescindable() -> None:
    s = monthly()
    paid = {1: START}
    # instalment 2 due 2026-05-27 (month M = May) unpaid
    d = delinquency(s, paid, date(2026, 5, 28), not_at_fault=False)
    assert d.state is PaymentState.DELINQUENT and d.claims is ClaimsPayment.HELD
    assert d.rescission_deadline == date(2026, 6, 30)          # end of M+1 (001 L833)
    assert d.amount_due_now == 1000
    assert delinquency(s, paid, date(2026, 6, 30), not_at_fault=False).state is PaymentState.DELINQUENT
    late = delinquency(s, paid, date(2026, 7, 1), not_at_fault=False)
    assert late.state is PaymentState.RESCINDABLE and late.claims is ClaimsPayment.NOT_PAYABLE
    assert not late.no_cover_from_start
    # not at fault: end of M+2 (001 L833; 002b L5131)
    assert delinquency(s, paid, date(2026, 7, 1), not_at_fault=True).state is PaymentState.DELINQUENT
    assert delinquency(s, paid, date(2026, 8, 1), not_at_fault=True).state is PaymentState.RESCINDABLE
    # paid late but before the deadline: current again
    cured = delinquency(s, {1: START, 2: date(2026, 6, 20)}, date(2026, 6, 21), not_at_fault=False)
    assert cured.state is PaymentState.CURRENT


def test_first_premium_unpaid() -> None:
    annual = build_schedule([120000], START, method=PaymentMethod.ANNUAL, first_by_debit=True)
    # before the first debit: a claim waits for the first premium (SPEC §4.7)
    waiting = delinquency(annual, {}, date(2026, 5, 1), not_at_fault=False)
    assert waiting.state is PaymentState.CURRENT and waiting.claims is ClaimsPayment.HELD
    assert waiting.first_premium_unpaid
    # never paid: no cover from day one once the deadline passes
    never = delinquency(annual, {}, date(2026, 7, 1), not_at_fault=False)
    assert never.state is PaymentState.RESCINDABLE and never.no_cover_from_start
    assert never.amount_due_now == 120000


def test_two_runs_of_two_missed_debits_accelerate() -> None:
    # 002b L5134-5135: 2か月連続で口座振替不能となった回数が2回目以降 → 残りの保険料全額を一括
    s = monthly()
    due = {i.number: i.due_on for i in s.instalments}
    late = {2: date(2026, 7, 10), 3: date(2026, 7, 10), 6: date(2026, 11, 5), 7: date(2026, 11, 5)}
    paid = {n: d for n, d in due.items() if n <= 8} | late
    paid = {n: d for n, d in paid.items() if d <= date(2026, 11, 30)}
    d = delinquency(s, paid, date(2026, 11, 30), not_at_fault=False)
    assert missed_debit_runs(s, paid, date(2026, 11, 30)) == ((2, 3), (6, 7))
    assert d.accelerated and d.accelerated_on == due[7]
    assert d.amount_due_now == sum(i.amount for i in s.instalments if i.number > 8)
    # one run of three in a row is one occasion, not two
    paid3 = {1: START} | {n: date(2026, 8, 30) for n in (2, 3, 4)}
    d3 = delinquency(s, paid3, date(2026, 8, 30), not_at_fault=False)
    assert d3.missed_debit_runs == 1 and not d3.accelerated


def test_acceleration_only_for_monthly() -> None:
    annual = build_schedule([5000], START, method=PaymentMethod.ANNUAL)
    assert delinquency(annual, {}, date(2026, 6, 1), not_at_fault=False).missed_debit_runs == 0


def test_bad_payment_records() -> None:
    s = monthly()
    with pytest.raises(RuleError) as e:
        delinquency(s, {13: START}, date(2026, 6, 1), not_at_fault=False)
    assert e.value.code == "UNKNOWN_INSTALMENT"
    with pytest.raises(RuleError) as e:
        delinquency(s, {1: date(2026, 7, 1)}, date(2026, 6, 1), not_at_fault=False)
    assert e.value.code == "PAYMENT_IN_FUTURE"


def test_payment_timers() -> None:
    s = build_schedule([1000, 1000], START, method=PaymentMethod.MONTHLY)
    timers = payment_timers(s, not_at_fault=False)
    assert [(t.action, t.instalment, t.due_at.astimezone(JST).date()) for t in timers] == [
        (PaymentAction.CHECK_DELINQUENT, 1, date(2026, 4, 11)),
        (PaymentAction.CHECK_DELINQUENT, 2, date(2026, 5, 28)),
        (PaymentAction.CHECK_RESCISSION, 1, date(2026, 6, 1)),
        (PaymentAction.CHECK_RESCISSION, 2, date(2026, 7, 1)),
    ]
    assert len({t.key for t in timers}) == 4


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(0, 50000), min_size=1, max_size=12),
    st.dictionaries(st.integers(1, 12), st.integers(0, 400), max_size=12),
    st.integers(0, 500),
    st.booleans(),
)
def test_delinquency_invariants(amounts: list[int], paid_offsets: dict[int, int], today_offset: int, nf: bool) -> None:
    s = build_schedule(amounts, START, method=PaymentMethod.MONTHLY)
    today = date.fromordinal(START.toordinal() + today_offset)
    paid = {n: date.fromordinal(START.toordinal() + o) for n, o in paid_offsets.items()
            if n <= len(amounts) and o <= today_offset}
    d = delinquency(s, paid, today, not_at_fault=nf)
    assert 0 <= d.amount_due_now <= s.total              # never negative, never more than the premium
    assert (d.state is PaymentState.CURRENT) == (d.overdue == ())
    if d.state is PaymentState.RESCINDABLE:
        assert d.claims is ClaimsPayment.NOT_PAYABLE
    if d.accelerated:
        assert d.amount_due_now == sum(i.amount for i in s.instalments if i.number not in paid)
