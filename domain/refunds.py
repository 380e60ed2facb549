"""Mid-term premium deltas, cancellation refunds and cooling-off (pure, integer yen).

Rounding is always against the party receiving money from a fraction, so the insurer never
refunds or charges a fraction of a yen twice:
- daily pro-rata deltas are truncated toward zero (an extra premium and a return of the same
  size are mirror images);
- monthly deltas count a started month in full for an extra premium and only whole months
  for a return (the usual 月割 convention: 追徴は切上げ、返還は切捨て);
- cancellation refunds: the earned premium is rounded up to the yen, the refund down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from domain.calendar import RuleError, add_months, whole_months_between
from domain.vocab import Labelled

__all__ = [
    "RefundMethod",
    "RefundResult",
    "RefundStep",
    "RuleError",  # defined in domain.calendar, re-exported because every function here raises it
    "cooling_off_available",
    "cooling_off_last_day",
    "months_ceil",
    "pro_rata_delta",
    "pro_rata_delta_monthly",
    "refund",
    "term_months",
]


class RefundMethod(Labelled):
    # rakuten/aioi/tokio: "less than paid − elapsed premium computed monthly" (002b L5218-5224,
    # 004 L1421-1425); modelled as the monthly pro-rata of the unexpired whole months.
    MONTHLY_UNEXPIRED = (
        "MONTHLY_UNEXPIRED",
        "月割(未経過月数)",
        "Monthly pro-rata of unexpired whole months",
    )
    DAILY = ("DAILY", "日割", "Daily pro-rata")
    FULL = ("FULL", "全額返還", "Full refund (cooling-off)")


@dataclass(frozen=True, slots=True)
class RefundStep:
    name: str
    value: str
    rule_ref: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    amount: int  # returned to the policyholder, ≥ 0
    method: RefundMethod
    steps: tuple[RefundStep, ...]
    owed: int = 0  # still to collect when less was paid than was earned (instalments), ≥ 0


def _check_term(term_start: date, term_end: date) -> None:
    if term_end <= term_start:
        raise RuleError(
            "DATES_OUT_OF_ORDER",
            "termEnd",
            f"term end {term_end} is not after its start {term_start}",
        )


def _check_money(value: int, field: str) -> None:
    if value < 0:
        raise RuleError("NEGATIVE_AMOUNT", field, f"{field} must be ≥ 0, got {value}")


def months_ceil(a: date, b: date) -> int:
    """Months from a to b with a started month counted in full."""
    n = whole_months_between(a, b)
    return n + (1 if add_months(a, n) < b else 0)


def term_months(term_start: date, term_end: date) -> int:
    _check_term(term_start, term_end)
    return months_ceil(term_start, term_end)


def _check_effective(term_start: date, term_end: date, effective: date) -> None:
    _check_term(term_start, term_end)
    if not term_start <= effective <= term_end:
        raise RuleError(
            "DATE_OUTSIDE_TERM",
            "effectiveDate",
            f"{effective} is outside the term {term_start}..{term_end}",
        )


def pro_rata_delta(
    old_annual: int, new_annual: int, term_start: date, term_end: date, effective: date
) -> int:
    """Extra (positive) or returned (negative) premium for a change from `effective` to term end, by day.

    Days remaining = term_end − effective over the term's days (cover runs 16:00 to 16:00, so a
    1-year term has 365 or 366 days); truncated toward zero to the yen. `*_annual` are the
    premiums for the whole term (for a multi-year term, the term premium).
    """
    _check_money(old_annual, "oldPremium")
    _check_money(new_annual, "newPremium")
    _check_effective(term_start, term_end, effective)
    total = (term_end - term_start).days
    remaining = (term_end - effective).days
    delta = Decimal(new_annual - old_annual) * remaining / total
    return int(delta.to_integral_value(rounding=ROUND_DOWN))


def pro_rata_delta_monthly(
    old_annual: int, new_annual: int, term_start: date, term_end: date, effective: date
) -> int:
    """Monthly variant: remaining months over term months.

    An extra premium counts the month the change falls in (months rounded up); a return
    counts only whole unexpired months. The yen amount is truncated toward zero.
    """
    _check_money(old_annual, "oldPremium")
    _check_money(new_annual, "newPremium")
    _check_effective(term_start, term_end, effective)
    total = months_ceil(term_start, term_end)
    diff = new_annual - old_annual
    if effective == term_end or diff == 0:
        return 0
    remaining = (
        months_ceil(effective, term_end) if diff > 0 else whole_months_between(effective, term_end)
    )
    delta = Decimal(diff) * min(remaining, total) / total
    return int(delta.to_integral_value(rounding=ROUND_DOWN))


def refund(
    paid: int,
    method: RefundMethod,
    term_start: date,
    term_end: date,
    cancel_date: date,
    *,
    cooling_off: bool,
    term_premium: int | None = None,
) -> RefundResult:
    """Cancellation refund for a term cancelled on `cancel_date`.

    `paid` is what the policyholder has paid so far; `term_premium` the premium of the whole
    term (defaults to `paid`, i.e. a single payment). Earned premium covers the elapsed period
    "from the start date, that day included, to the cancellation date" (004 L1425 *2): by
    started months for MONTHLY_UNEXPIRED (so the refund is the unexpired whole months), by
    days for DAILY. Refund = paid − earned when positive; otherwise `owed` = earned − paid
    (002b L5218-5224: extra premium may be billed at cancellation).
    Cooling-off returns everything paid (004 L1376) when it precedes or falls on the start date;
    after the start, the days from the start date to the cancellation date are charged by day (L1379).
    """
    _check_money(paid, "paid")
    _check_term(term_start, term_end)
    premium = paid if term_premium is None else term_premium
    _check_money(premium, "termPremium")
    if cancel_date > term_end or (cancel_date < term_start and not cooling_off):
        raise RuleError(
            "DATE_OUTSIDE_TERM",
            "cancelDate",
            f"{cancel_date} is outside the term {term_start}..{term_end}",
        )
    if cooling_off:
        if cancel_date <= term_start:   # withdrawn before cover started: nothing earned
            return RefundResult(
                paid,
                RefundMethod.FULL,
                (RefundStep("cooling-off: premium paid returned in full", f"{paid}", "004 L1376"),),
            )
        # After the start the days from the start date to the cancellation date may be charged
        # by day (004 L1379: 始期日から解約日までの期間に相当する保険料を日割で).
        daily = refund(paid, RefundMethod.DAILY, term_start, term_end, cancel_date, cooling_off=False,
                       term_premium=premium)
        return RefundResult(
            daily.amount,
            RefundMethod.DAILY,
            (RefundStep("cooling-off after the start: the days covered are charged by day", "", "004 L1376, L1379"),
             *daily.steps),
            daily.owed,
        )
    if method is RefundMethod.FULL:
        return RefundResult(paid, method, (RefundStep("full refund", f"{paid}", "product rule"),))

    after_elapsed = cancel_date + timedelta(days=1)  # elapsed period includes the cancel date
    if method is RefundMethod.MONTHLY_UNEXPIRED:
        total = months_ceil(term_start, term_end)
        elapsed = min(months_ceil(term_start, after_elapsed), total)
        unit, ref = "months", "004 L1421-1425; 002b L5218-5224"
    elif method is RefundMethod.DAILY:
        total = (term_end - term_start).days
        elapsed = min((after_elapsed - term_start).days, total)
        unit, ref = "days", "004 L1379"
    else:  # pragma: no cover - exhaustive over RefundMethod
        raise RuleError("UNKNOWN_REFUND_METHOD", "method", f"unknown refund method {method!r}")

    earned_exact = Decimal(premium) * elapsed / total
    earned = int(earned_exact.to_integral_value(rounding=ROUND_CEILING))
    amount = max(0, paid - earned)
    owed = max(0, earned - paid)
    steps = (
        RefundStep(f"term length ({unit})", str(total), ref),
        RefundStep(
            f"elapsed {unit}, start date to cancel date inclusive, started {unit[:-1]} counted",
            str(elapsed),
            ref,
        ),
        RefundStep("term premium", str(premium), ref),
        RefundStep(
            f"earned premium = term premium × {elapsed}/{total}, rounded up to the yen",
            str(earned),
            ref,
        ),
        RefundStep("premium paid", str(paid), ref),
        RefundStep("refund = paid − earned, never negative", str(amount), ref),
        RefundStep("still owed = earned − paid, never negative", str(owed), "002b L5218-5224"),
    )
    return RefundResult(amount, method, steps, owed)


COOLING_OFF_DAYS = 8  # counting the later of application / statement receipt as day 1 (004 L1383)


def cooling_off_last_day(application_date: date, statement_received: date) -> date:
    """Last day to send a cooling-off notice: 8 days including the later of the two dates."""
    return max(application_date, statement_received) + timedelta(days=COOLING_OFF_DAYS - 1)


def cooling_off_available(
    term_start: date,
    term_end: date,
    application_date: date,
    statement_received: date,
    notice_date: date,
    *,
    business_use: bool = False,
    corporate_policyholder: bool = False,
    telecom_application: bool = False,
    insured_event_occurred: bool = False,
) -> bool:
    """Tokio cooling-off (004 L1374-1390): only terms longer than one year, not business,
    corporate or telecom-rider applications, and not after an insured event already happened;
    the notice must be sent within 8 days including the later of application / statement receipt.
    """
    _check_term(term_start, term_end)
    longer_than_a_year = term_end > add_months(term_start, 12)
    if not longer_than_a_year or business_use or corporate_policyholder or telecom_application:
        return False
    if insured_event_occurred:
        return False
    return notice_date <= cooling_off_last_day(application_date, statement_received)
