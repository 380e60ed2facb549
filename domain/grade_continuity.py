"""Carrying a grade record across a gap: the 7-day rule, rescission, the interruption certificate.

Pure; every date is a parameter. Sources: 004 L1264 (7-day rule and rescission), 002b L5222
(rescission), 004 L1427-1437 (中断制度), 001 L847-849 (中断制度 exists, no details).

The record handed in is always the one the *next* contract would get (the renewal outcome of
the expiring contract); these rules only decide whether it survives the gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.calendar import RuleError, add_months, last_day_within
from domain.grade import Eligibility, GradeMarker, GradeRecord, new_contract_record
from domain.vocab import Labelled

CONTINUITY_DAYS = 7  # 004 L1264
CERTIFICATE_REQUEST_YEARS = 5  # 004 L1431
OVERSEAS_MONTHS_BEFORE_DEPARTURE = 6  # 004 L1437
# Grades at or above this are lost across a broken gap or a rescission; lower ones always carry.
LOSABLE_FROM_GRADE = 7  # 004 L1264


@dataclass(frozen=True, slots=True)
class CarryOver:
    """The record the new contract gets, and whether the previous record survived."""

    record: GradeRecord
    carried: bool
    reason: str
    rule_ref: str


def last_continuous_start(previous_end: date) -> date:
    """Last start date that keeps a grade ≥ 7: within 7 days counting from the day after the
    expiry or cancellation date [004 L1264]; expiry 2026-04-01 → 2026-04-08."""
    return last_day_within(previous_end, CONTINUITY_DAYS)


def carry_over(
    next_record: GradeRecord,
    *,
    previous_end: date,
    new_start: date,
    rescinded: bool = False,
    second_car: bool = False,
) -> CarryOver:
    """Record for a contract that follows one ending (expiry or cancellation) on `previous_end`.

    A grade of 7 or more carries only if the new start date is within 7 days counting from the
    day after `previous_end` and the previous contract was not rescinded (解除) [004 L1264,
    002b L5222]; otherwise the new contract is a new one: 6(S), or 7(S) when `second_car`.
    Grades 1–6 carry with their accident-coefficient period whatever the gap or the ending, so a
    bad record cannot be shed by waiting or by being rescinded.
    """
    ref = "004 L1264; 002b L5222"
    if next_record.grade < LOSABLE_FROM_GRADE:
        return CarryOver(
            next_record,
            True,
            f"grade {next_record.label} (below 7) carries with its period regardless of gap or rescission",
            ref,
        )
    if rescinded:
        return CarryOver(
            new_contract_record(second_car=second_car),
            False,
            f"the previous contract was rescinded: grade {next_record.label} (7 or more) cannot be carried",
            ref,
        )
    last = last_continuous_start(previous_end)
    if new_start > last:
        return CarryOver(
            new_contract_record(second_car=second_car),
            False,
            f"new start {new_start.isoformat()} is after {last.isoformat()}, day 7 after the previous contract "
            f"ended on {previous_end.isoformat()}: grade {next_record.label} (7 or more) cannot be carried",
            ref,
        )
    return CarryOver(
        next_record,
        True,
        f"new start {new_start.isoformat()} is within 7 days after {previous_end.isoformat()}",
        ref,
    )


class InterruptionReason(Labelled):
    """Reasons an interruption certificate (中断証明書) can be issued [004 L1433-1437]."""

    SCRAPPED = ("SCRAPPED", "廃車", "Car scrapped")
    TRANSFERRED = ("TRANSFERRED", "譲渡", "Car transferred to someone else")
    RETURNED = ("RETURNED", "返還", "Car returned (lease, hire purchase)")
    TEMPORARY_DEREGISTRATION = (
        "TEMPORARY_DEREGISTRATION",
        "一時抹消",
        "Car temporarily deregistered",
    )
    STOLEN = ("STOLEN", "盗難", "Car stolen")
    SWAPPED_TO_OWNED_CAR = (
        "SWAPPED_TO_OWNED_CAR",
        "上記に伴う既所有車への入替",
        "Cover moved to another car already owned because of one of the above",
    )
    INSPECTION_EXPIRED = (
        "INSPECTION_EXPIRED",
        "車検切れ",
        "Car unusable because its inspection expired",
    )
    DISASTER_LOSS = ("DISASTER_LOSS", "災害による滅失", "Car destroyed in a disaster")
    OVERSEAS = ("OVERSEAS", "記名被保険者の海外渡航", "Named insured goes abroad")


def certificate_request_deadline(interruption_date: date) -> date:
    """Last day to ask for the certificate: 5 years from the interruption date, counted like
    every "within N from" period (the same day 5 years on; 29 Feb → 28 Feb) [004 L1431]."""
    return add_months(interruption_date, 12 * CERTIFICATE_REQUEST_YEARS)


def overseas_earliest_interruption(departure: date) -> date:
    """The date 6 months before departure; the contract must end on or after it [004 L1437]."""
    return add_months(departure, -OVERSEAS_MONTHS_BEFORE_DEPARTURE)


def interruption_certificate_eligibility(
    *,
    record: GradeRecord,
    reason: InterruptionReason,
    interruption_date: date,
    request_date: date,
    departure_date: date | None = None,
    rescinded: bool = False,
) -> Eligibility:
    """May a certificate be issued for a contract cancelled or expiring on `interruption_date`?

    `record` is the record the next contract would have received. Conditions: a listed reason;
    the request on or after the interruption date and at most 5 years after it; for travel
    abroad, the interruption on or after the day 6 months before departure [004 L1427-1437].
    Two conditions the pamphlet leaves to "所定の条件" and we take from its own 7-day rule
    (004 L1264): the grade is 7 or more (1–6 carries anyway), and the contract was not rescinded.
    """
    ref = "004 L1427-1437; 004 L1264"
    failures: list[str] = []
    if rescinded:
        failures.append(
            "the contract was rescinded: a grade of 7 or more cannot be carried (004 L1264)"
        )
    if record.grade < LOSABLE_FROM_GRADE:
        failures.append(
            f"grade {record.label} is below 7 and carries without a certificate (004 L1264)"
        )
    if request_date < interruption_date:
        failures.append(
            f"the contract has not yet ended: interruption date {interruption_date.isoformat()}"
        )
    deadline = certificate_request_deadline(interruption_date)
    if request_date > deadline:
        failures.append(
            f"requested {request_date.isoformat()}, after {deadline.isoformat()}, 5 years from the interruption date (004 L1431)"
        )
    if reason is InterruptionReason.OVERSEAS:
        if departure_date is None:
            failures.append("travel abroad needs the departure date (004 L1437)")
        else:
            earliest = overseas_earliest_interruption(departure_date)
            if interruption_date < earliest:
                failures.append(
                    f"the contract ended {interruption_date.isoformat()}, before {earliest.isoformat()}, "
                    "6 months before departure (004 L1437)"
                )
    if failures:
        return Eligibility(False, tuple(failures), ref)
    return Eligibility(True, (f"{reason.en.lower()}; requested by {deadline.isoformat()}",), ref)


@dataclass(frozen=True, slots=True)
class InterruptionCertificate:
    """A frozen grade record waiting for a new contract [004 L1429]."""

    record: GradeRecord
    reason: InterruptionReason
    interruption_date: date
    issued_on: date


def issue_interruption_certificate(
    *,
    record: GradeRecord,
    reason: InterruptionReason,
    interruption_date: date,
    request_date: date,
    departure_date: date | None = None,
    rescinded: bool = False,
) -> InterruptionCertificate:
    """Issue the certificate, or refuse with CERTIFICATE_NOT_ELIGIBLE and the reasons."""
    decision = interruption_certificate_eligibility(
        record=record,
        reason=reason,
        interruption_date=interruption_date,
        request_date=request_date,
        departure_date=departure_date,
        rescinded=rescinded,
    )
    if not decision.ok:
        raise RuleError("CERTIFICATE_NOT_ELIGIBLE", "reason", "; ".join(decision.reasons))
    return InterruptionCertificate(record, reason, interruption_date, request_date)


def record_from_certificate(cert: InterruptionCertificate) -> GradeRecord:
    """The new contract takes the frozen grade and period unchanged: no grade is earned and no
    period runs off while the contract is interrupted [004 L1429]. A 6 or 7 is an F grade."""
    rec = cert.record
    if rec.marker is GradeMarker.S:
        return GradeRecord.carried(rec.grade, rec.period)
    return rec
