"""Claim lines: one per coverage involved, with a reserve and payments, limits and deductibles.

Pure. A line's terms (limits and deductible) come from the contract version's chosen option
(`terms_for`), or are built by the caller. Payments are checked against every limit of the line
(per accident, per person, per vehicle, per policy year) and are never negative; a denied or
not-yet-approved claim cannot be paid. The vehicle line takes no deductible on a total loss
(004 L612, L1117). What a rider pays for a stated loss is its pay-out rule's (domain/claims/rider_payout.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from domain.calendar import RuleError
from domain.claims.workflow import ClaimStatus
from domain.products.model import Product
from domain.vocab import Labelled


class LimitBasis(Labelled):
    PER_ACCIDENT = ("PER_ACCIDENT", "1事故あたり", "Per accident")
    PER_PERSON = ("PER_PERSON", "1名あたり", "Per person")
    PER_VEHICLE = ("PER_VEHICLE", "1台あたり", "Per vehicle")
    PER_YEAR = ("PER_YEAR", "保険期間あたり", "Per policy year")


@dataclass(frozen=True, slots=True)
class Limit:
    basis: LimitBasis
    amount: int | None          # None: unlimited (無制限)
    source: str


@dataclass(frozen=True, slots=True)
class LineTerms:
    coverage: str
    limits: tuple[Limit, ...] = ()
    deductible: int = 0
    total_loss_waives_deductible: bool = False


@dataclass(frozen=True, slots=True)
class Payment:
    amount: int
    paid_on: date
    person: str | None = None     # victim / injured person key, for per-person limits
    vehicle: str | None = None    # damaged vehicle key, for per-vehicle limits
    note: str = ""


@dataclass(frozen=True, slots=True)
class ClaimLine:
    terms: LineTerms
    reserve: int = 0              # outstanding estimate (支払備金), never negative
    payments: tuple[Payment, ...] = ()

    @property
    def coverage(self) -> str:
        return self.terms.coverage

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payments)

    def paid_to(self, *, person: str | None = None, vehicle: str | None = None) -> int:
        return sum(
            p.amount
            for p in self.payments
            if (person is None or p.person == person) and (vehicle is None or p.vehicle == vehicle)
        )


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a loss on one line pays: loss − deductible, capped by the tightest limit."""

    loss: int
    deductible: int
    payable: int
    capped_by: Limit | None
    explanation: tuple[str, ...]


# ------------------------------------------------------------------------------ terms

_BASIS: dict[str, LimitBasis] = {
    # BI pays per victim (001 L240, L1085); PD per accident (001 L248); PI per person (001 L319,
    # L1091; 004 L1178); vehicle up to the vehicle sum insured (004 L612).
    "BI": LimitBasis.PER_PERSON,
    "PD": LimitBasis.PER_ACCIDENT,
    "PI": LimitBasis.PER_PERSON,
    "PIP": LimitBasis.PER_PERSON,
    "VEHICLE": LimitBasis.PER_VEHICLE,
}
_VEHICLE = "VEHICLE"
_SI = re.compile(r"(?:^|_)SI_(\d+)M(?:_|$)")
_DED = re.compile(r"(?:^|_)DED_(\d+)(?:_(\d+))?(?:_|$)")


def terms_for(
    product: Product,
    coverage: str,
    option: str | None = None,
    *,
    vehicle_sum_insured: int | None = None,
    earlier_vehicle_claims_in_term: int = 0,
) -> LineTerms:
    """Line terms from the contract's option code (`SI_30M`, `UNLIMITED`, `GENERAL_DED_50000`,
    `DED_0_100000` = ¥0 on the first vehicle claim of the term, ¥100,000 from the second,
    002 L3277). The option codes of the product files carry the amounts; see decisions."""
    cov = product.coverage(coverage)
    if cov is None:
        raise RuleError("UNKNOWN_COVERAGE", "coverage", f"{product.id} has no coverage {coverage!r}")
    opt = option or cov.default_option
    if cov.option(opt) is None:
        raise RuleError("UNKNOWN_OPTION", "option", f"{coverage} has no option {opt!r}")
    limits: list[Limit] = []
    basis = _BASIS.get(coverage, LimitBasis.PER_ACCIDENT)
    src = f"{product.id}: {cov.source}"
    if coverage == _VEHICLE:
        if vehicle_sum_insured is None or vehicle_sum_insured < 0:
            raise RuleError("VEHICLE_SUM_INSURED_REQUIRED", "vehicleSumInsured",
                            "the vehicle line needs the vehicle sum insured")
        limits.append(Limit(LimitBasis.PER_VEHICLE, vehicle_sum_insured, src))
    else:
        m = _SI.search(opt)
        if m:
            limits.append(Limit(basis, int(m.group(1)) * 1_000_000, src))
        elif "UNLIMITED" in opt:
            limits.append(Limit(basis, None, src))
    deductible = 0
    d = _DED.search(opt)
    if d:
        first = int(d.group(1))
        later = int(d.group(2)) if d.group(2) else first
        deductible = first if earlier_vehicle_claims_in_term == 0 else later
    return LineTerms(coverage, tuple(limits), deductible, total_loss_waives_deductible=coverage == _VEHICLE)


# ------------------------------------------------------------------------------ settlement


def settle(terms: LineTerms, loss: int, *, total_loss: bool = False,
           paid_before: int = 0) -> Settlement:
    """Payable amount for a loss on one line (one person / one vehicle / the accident).

    `paid_before` is what the same limit already paid (the same person, vehicle or accident).
    """
    if loss < 0:
        raise RuleError("NEGATIVE_AMOUNT", "loss", "a loss cannot be negative")
    why: list[str] = [f"loss ¥{loss:,}"]
    ded = terms.deductible
    if total_loss and terms.total_loss_waives_deductible:
        if ded:
            why.append("total loss: no deductible (004 L612, L1117)")
        ded = 0
    elif ded:
        why.append(f"deductible ¥{ded:,}")
    amount = max(0, loss - ded)
    capped: Limit | None = None
    for lim in terms.limits:
        if lim.amount is None:
            continue
        room = max(0, lim.amount - paid_before)
        if amount > room:
            amount, capped = room, lim
            why.append(f"capped at ¥{lim.amount:,} {lim.basis.en.lower()} ({lim.source})")
    why.append(f"payable ¥{amount:,}")
    return Settlement(loss, min(ded, loss), amount, capped, tuple(why))


# ------------------------------------------------------------------------------ reserve / pay


def open_line(terms: LineTerms, reserve: int = 0) -> ClaimLine:
    if reserve < 0:
        raise RuleError("NEGATIVE_AMOUNT", "reserve", "a reserve cannot be negative")
    return ClaimLine(terms, reserve)


def set_reserve(line: ClaimLine, reserve: int) -> ClaimLine:
    if reserve < 0:
        raise RuleError("NEGATIVE_AMOUNT", "reserve", "a reserve cannot be negative")
    return replace(line, reserve=reserve)


def record_payment(
    line: ClaimLine,
    payment: Payment,
    *,
    status: ClaimStatus,
    applicable: Iterable[str],
    paid_in_year_elsewhere: int = 0,
) -> ClaimLine:
    """Add a payment, or raise RuleError: CLAIM_DENIED, CLAIM_NOT_APPROVED,
    COVERAGE_NOT_APPLICABLE, PAYMENT_NOT_POSITIVE, PERSON_REQUIRED, VEHICLE_REQUIRED,
    PAYMENT_OVER_LIMIT. `paid_in_year_elsewhere` is what other claims of the same policy year
    paid on this coverage (for per-year limits). The reserve drops by what was paid."""
    if status is ClaimStatus.DENIED:
        raise RuleError("CLAIM_DENIED", "claim", "a denied claim cannot be paid")
    if status not in (ClaimStatus.APPROVED, ClaimStatus.PAID):
        raise RuleError("CLAIM_NOT_APPROVED", "claim",
                        f"a claim that is {status.en.lower()} cannot be paid")
    if line.coverage not in frozenset(applicable):
        raise RuleError("COVERAGE_NOT_APPLICABLE", "coverage",
                        f"{line.coverage} does not apply to this claim")
    if payment.amount <= 0:
        raise RuleError("PAYMENT_NOT_POSITIVE", "amount", "a payment must be more than ¥0")
    for lim in line.terms.limits:
        if lim.amount is None:
            continue
        if lim.basis is LimitBasis.PER_PERSON:
            if payment.person is None:
                raise RuleError("PERSON_REQUIRED", "person", f"{line.coverage} pays per person")
            used = line.paid_to(person=payment.person)
        elif lim.basis is LimitBasis.PER_VEHICLE:
            if payment.vehicle is None:
                raise RuleError("VEHICLE_REQUIRED", "vehicle", f"{line.coverage} pays per vehicle")
            used = line.paid_to(vehicle=payment.vehicle)
        elif lim.basis is LimitBasis.PER_YEAR:
            used = line.paid + paid_in_year_elsewhere
        else:
            used = line.paid
        if used + payment.amount > lim.amount:
            raise RuleError(
                "PAYMENT_OVER_LIMIT", "amount",
                f"¥{payment.amount:,} would exceed the {lim.basis.en.lower()} limit of "
                f"¥{lim.amount:,} (¥{used:,} already paid; {lim.source})",
            )
    return ClaimLine(line.terms, max(0, line.reserve - payment.amount), line.payments + (payment,))


def totals(lines: Iterable[ClaimLine]) -> tuple[int, int]:
    """(outstanding reserve, paid) over a claim's lines."""
    ls = tuple(lines)
    return sum(x.reserve for x in ls), sum(x.paid for x in ls)
