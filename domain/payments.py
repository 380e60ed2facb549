"""Premium payment: the instalment schedule and what non-payment does (SPEC §4.7).

- A premium due in month M still unpaid at the end of M+1 (M+2 when the policyholder was
  neither intentional nor grossly negligent): claims are not paid, even for accidents that
  already happened, and the contract may be rescinded [001 L833][002b L5131].
- First premium unpaid: the contract gives no cover from day one; a claim before the first
  premium is paid waits for that payment (SPEC §4.7).
- Monthly debits: when a run of two consecutive failed debits happens for the second time in
  the term, every remaining instalment is due at once [002b L5134-5135].

Pure: the amounts come from `rating.Premium.instalments` (first instalment carries the
remainder); "today" is a parameter.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.calendar import JST, RuleError, YearMonth
from domain.rating import Premium
from domain.vocab import Labelled, PaymentMethod

__all__ = [
    "DEFAULT_DEBIT_DAY",
    "ClaimsPayment",
    "Delinquency",
    "Instalment",
    "PaymentAction",
    "PaymentState",
    "PaymentTimer",
    "Schedule",
    "build_schedule",
    "delinquency",
    "missed_debit_runs",
    "payment_timers",
    "rescission_deadline",
    "schedule_for",
]

# The bank's transfer date (金融機関所定の振替日, 001 L827) is not printed; 27th is a common
# Japanese debit day. A product or contract may pass another.
DEFAULT_DEBIT_DAY = 27
GRACE_MONTHS = 1             # end of M+1 [001 L833]
GRACE_MONTHS_NOT_AT_FAULT = 2  # end of M+2 [001 L833][002b L5131]
ACCELERATION_RUNS = 2        # the 2nd run of two consecutive failed debits [002b L5134-5135]


class PaymentState(Labelled):
    CURRENT = ("CURRENT", "正常", "Current")
    DELINQUENT = ("DELINQUENT", "保険料未払", "Delinquent: a premium is overdue")
    RESCINDABLE = ("RESCINDABLE", "解除可能", "Rescindable: unpaid past the deadline")


class ClaimsPayment(Labelled):
    PAYABLE = ("PAYABLE", "支払可", "Claims are payable")
    HELD = ("HELD", "保険料入金待ち", "Claims wait for the premium")
    NOT_PAYABLE = ("NOT_PAYABLE", "支払不可", "Claims are not paid (001 L833)")


class PaymentAction(Labelled):
    CHECK_DELINQUENT = ("CHECK_DELINQUENT", "未払確認", "Mark delinquent if still unpaid")
    CHECK_RESCISSION = ("CHECK_RESCISSION", "解除確認", "Rescind if still unpaid")


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int        # 1-based
    due_on: date
    amount: int


@dataclass(frozen=True, slots=True)
class Schedule:
    method: PaymentMethod
    total: int
    instalments: tuple[Instalment, ...]

    def instalment(self, number: int) -> Instalment:
        if not 1 <= number <= len(self.instalments):
            raise RuleError("UNKNOWN_INSTALMENT", "instalment", f"instalment {number} is not in 1..{len(self.instalments)}")
        return self.instalments[number - 1]


@dataclass(frozen=True, slots=True)
class Delinquency:
    state: PaymentState
    claims: ClaimsPayment
    overdue: tuple[Instalment, ...]           # due before today and unpaid on today
    rescission_deadline: date | None          # last day to pay the oldest overdue instalment
    first_premium_unpaid: bool
    no_cover_from_start: bool                 # first premium unpaid past its deadline (SPEC §4.7)
    missed_debit_runs: int
    accelerated: bool                         # remaining instalments due at once [002b L5134-5135]
    accelerated_on: date | None
    amount_due_now: int
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PaymentTimer:
    due_at: datetime
    action: PaymentAction
    instalment: int
    key: str


def _check_money(amount: int, field: str) -> None:
    if amount < 0:
        raise RuleError("NEGATIVE_AMOUNT", field, f"amount must be ≥ 0, got {amount}")


def _on_day(ym: YearMonth, day: int) -> date:
    return date(ym.year, ym.month, min(day, _stdcal.monthrange(ym.year, ym.month)[1]))


def build_schedule(
    amounts: Sequence[int],
    start_date: date,
    *,
    method: PaymentMethod,
    debit_day: int = DEFAULT_DEBIT_DAY,
    first_by_debit: bool = False,
) -> Schedule:
    """Due dates for the instalment amounts.

    The first premium is paid at contracting (the start date) [001 L823], or with first-premium
    direct debit on the debit day of the month after the start month [001 L837-839]. Each later
    instalment is debited on the debit day of the following months [001 L823, L827].
    """
    if not amounts:
        raise RuleError("NO_INSTALMENTS", "amounts", "a schedule needs at least one instalment")
    if method is PaymentMethod.ANNUAL and len(amounts) != 1:
        raise RuleError("ANNUAL_IS_ONE_PAYMENT", "amounts", f"an annual premium is paid once, got {len(amounts)} amounts")
    if not 1 <= debit_day <= 31:
        raise RuleError("INVALID_DEBIT_DAY", "debitDay", f"debit day must be 1..31, got {debit_day}")
    for i, a in enumerate(amounts):
        _check_money(a, f"amounts[{i}]")
    start_ym = YearMonth.of(start_date)
    first_due = _on_day(start_ym.plus_months(1), debit_day) if first_by_debit else start_date
    first_ym = YearMonth.of(first_due)
    items = [Instalment(1, first_due, amounts[0])]
    items.extend(Instalment(k + 1, _on_day(first_ym.plus_months(k), debit_day), a) for k, a in enumerate(amounts[1:], start=1))
    return Schedule(method, sum(amounts), tuple(items))


def schedule_for(premium: Premium, *, debit_day: int = DEFAULT_DEBIT_DAY, first_by_debit: bool = False) -> Schedule:
    """The schedule of a rated premium (its instalments, first one carrying the remainder)."""
    return build_schedule(premium.instalments, premium.start_date, method=premium.payment_method,
                          debit_day=debit_day, first_by_debit=first_by_debit)


def rescission_deadline(due_on: date, *, not_at_fault: bool) -> date:
    """Last day to pay a premium due on `due_on`: end of the month after the due month, or the
    month after that when the policyholder was not at fault [001 L833][002b L5131]."""
    months = GRACE_MONTHS_NOT_AT_FAULT if not_at_fault else GRACE_MONTHS
    return YearMonth.of(due_on).plus_months(months).last_day()


def _end_of(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=JST)


def _check_paid(schedule: Schedule, paid: Mapping[int, date], today: date) -> None:
    for n, on in paid.items():
        schedule.instalment(n)
        if on > today:
            raise RuleError("PAYMENT_IN_FUTURE", f"paid[{n}]", f"payment dated {on} is after today {today}")


def _missed(schedule: Schedule, paid: Mapping[int, date], today: date) -> list[bool]:
    """Per instalment: did its debit fail? (due date passed and not paid on or before it)."""
    out = []
    for inst in schedule.instalments:
        on = paid.get(inst.number)
        out.append(inst.due_on < today and (on is None or on > inst.due_on))
    return out


def missed_debit_runs(schedule: Schedule, paid: Mapping[int, date], today: date) -> tuple[tuple[int, int], ...]:
    """Maximal runs of two or more consecutive failed debits, as (first, last) instalment numbers.

    A run of three failed months in a row is one run (2か月連続で口座振替不能となった回数 counts
    occasions, 002b L5134); see docs/decisions.
    """
    _check_paid(schedule, paid, today)
    runs: list[tuple[int, int]] = []
    start: int | None = None
    flags = _missed(schedule, paid, today)
    for i, m in enumerate([*flags, False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - start >= 2:
                runs.append((start + 1, i))
            start = None
    return tuple(runs)


def delinquency(schedule: Schedule, paid: Mapping[int, date], today: date, *, not_at_fault: bool) -> Delinquency:
    """Payment state of a term on `today`, from the schedule and the date each instalment was paid."""
    _check_paid(schedule, paid, today)
    overdue = tuple(i for i in schedule.instalments if i.due_on < today and i.number not in paid)
    reasons: list[str] = []
    first_unpaid = 1 not in paid
    deadline: date | None = None
    state = PaymentState.CURRENT
    if overdue:
        oldest = overdue[0]
        deadline = rescission_deadline(oldest.due_on, not_at_fault=not_at_fault)
        months = "M+2 (not at fault)" if not_at_fault else "M+1"
        if today <= deadline:
            state = PaymentState.DELINQUENT
            reasons.append(f"instalment {oldest.number} due {oldest.due_on} is unpaid; pay by {deadline}, the end of {months} (001 L833)")
        else:
            state = PaymentState.RESCINDABLE
            reasons.append(
                f"instalment {oldest.number} due {oldest.due_on} is unpaid after {deadline}, the end of {months}: "
                "claims are not paid and the contract may be rescinded (001 L833; 002b L5131)"
            )
    no_cover = first_unpaid and state is PaymentState.RESCINDABLE and overdue[0].number == 1
    if no_cover:
        reasons.append("the first premium was never paid: no cover from day one (SPEC §4.7)")
    if state is PaymentState.RESCINDABLE:
        claims = ClaimsPayment.NOT_PAYABLE
    elif state is PaymentState.DELINQUENT or first_unpaid:
        claims = ClaimsPayment.HELD
        if first_unpaid and state is PaymentState.CURRENT:
            reasons.append("the first premium is not paid yet: claims wait for it (SPEC §4.7)")
    else:
        claims = ClaimsPayment.PAYABLE

    runs = missed_debit_runs(schedule, paid, today) if schedule.method is PaymentMethod.MONTHLY else ()
    accelerated = len(runs) >= ACCELERATION_RUNS
    accelerated_on: date | None = None
    due_now = sum(i.amount for i in overdue)
    if accelerated:
        second_run = runs[ACCELERATION_RUNS - 1]
        accelerated_on = schedule.instalment(second_run[0] + 1).due_on
        due_now = sum(i.amount for i in schedule.instalments if i.number not in paid)
        reasons.append(
            f"two consecutive failed debits for the second time (instalments {second_run[0]}-{second_run[1]}): "
            f"the remaining premium is due at once (002b L5134-5135)"
        )
    return Delinquency(
        state=state, claims=claims, overdue=overdue, rescission_deadline=deadline,
        first_premium_unpaid=first_unpaid, no_cover_from_start=no_cover,
        missed_debit_runs=len(runs), accelerated=accelerated, accelerated_on=accelerated_on,
        amount_due_now=due_now, reasons=tuple(reasons),
    )


def payment_timers(schedule: Schedule, *, not_at_fault: bool) -> tuple[PaymentTimer, ...]:
    """Timers the worker stores per instalment: check at the end of the due day, and at the end
    of the rescission deadline. Each job re-runs `delinquency` and acts only if still unpaid.
    `not_at_fault` is what is known when scheduling; a later finding re-schedules."""
    out: list[PaymentTimer] = []
    for i in schedule.instalments:
        out.append(PaymentTimer(_end_of(i.due_on), PaymentAction.CHECK_DELINQUENT, i.number, f"DELINQUENT:{i.number}"))
        out.append(PaymentTimer(_end_of(rescission_deadline(i.due_on, not_at_fault=not_at_fault)),
                                PaymentAction.CHECK_RESCISSION, i.number, f"RESCIND:{i.number}"))
    return tuple(sorted(out, key=lambda t: (t.due_at, t.key)))
