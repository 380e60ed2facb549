"""無事故祝金 (aioi 長期保険料分割払の無事故返戻金特約, 002a L2264-2277): after a long-term contract
paid by instalments ran to its expiry, paid in full and without an accident, 10% of the first
policy year's annual premium at contracting is paid on the bank's day in the month after expiry.

Pure: the facts are parameters. "Accident" excludes those that only involve the listed riders
(pedestrian injury, road service, lawyer fees, ...): their payments are not claim lines here, so
every claim that was not withdrawn or denied counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from domain.calendar import add_months
from domain.payments import DEFAULT_DEBIT_DAY

RULE = "002a L2268-2275"


@dataclass(frozen=True, slots=True)
class NoClaimsRefund:
    payable: bool
    amount_yen: int
    pay_on: date | None
    first_year_premium_yen: int
    reasons: tuple[str, ...]


def decide(first_year_premium_yen: int, rate: Decimal, *, expiry: date, ran_to_expiry: bool, paid_in_full: bool,
           accidents: int) -> NoClaimsRefund:
    reasons: list[str] = []
    if not ran_to_expiry:
        reasons.append(f"the term did not run to its expiry ({RULE})")
    if not paid_in_full:
        reasons.append(f"the premium was not paid in full ({RULE})")
    if accidents:
        reasons.append(f"{accidents} accident(s) in the term ({RULE})")
    if reasons:
        return NoClaimsRefund(False, 0, None, first_year_premium_yen, tuple(reasons))
    amount = int((Decimal(first_year_premium_yen) * rate).to_integral_value(rounding=ROUND_DOWN))
    pay_on = add_months(expiry.replace(day=1), 1).replace(day=DEFAULT_DEBIT_DAY)
    why = (f"{rate * 100:.0f}% of the first policy year's annual premium {first_year_premium_yen} yen, paid on "
           f"{pay_on} (the month after expiry, {RULE})")
    return NoClaimsRefund(True, amount, pay_on, first_year_premium_yen, (why,))
