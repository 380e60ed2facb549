"""aioi つながるプラン (connected-car plan): the monthly driving premium (運転分保険料).

Pure. The premium is a fixed base premium plus a driving premium billed month by month
(002 L1685-1696, L1886): the month's mileage in 1 km units × the unit rate (運転分保険料単価), less
the month's safety-score discount — 80% at 80 points or more, 40% at 60-79, none at 59 or less,
for every contract including the first year (002 L1831-1850, L1874-1881). Mileage above 20,000 km
in a policy year (per insurance year on longer terms) is not charged (002 L1624-1628). A change
that adds premium, made (or found) after the year's mileage had passed 20,000 km at the last
anniversary, is charged on 20,000 km a year (002 L1626-1628). The unit rate is not printed
(002a §9 item 8): the product file's rate is a labelled DEMONSTRATION value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from domain.calendar import RuleError
from domain.products.model import ConnectedPlan

RULE_KM = "002 L1831-1850"
RULE_CAP = "002 L1624-1628"


@dataclass(frozen=True, slots=True)
class DrivingPremium:
    km_driven: int
    km_charged: int              # after the annual cap
    gross_yen: int               # km charged × unit rate, rounded down to the yen
    discount: Decimal            # the month's 運転特性毎月割引
    amount_yen: int              # what the month is billed
    explanation: tuple[str, ...]


def band_discount(plan: ConnectedPlan, score: int) -> Decimal:
    """The month's discount for a safety score 0..100 (002 L1840-1850)."""
    if not 0 <= score <= 100:
        raise RuleError("INVALID_SCORE", "score", "a safety score is 0..100")
    return next(b.discount for b in plan.bands if score >= b.min_score)


def monthly_driving_premium(plan: ConnectedPlan, *, km: int, score: int, km_before_in_year: int) -> DrivingPremium:
    """The driving premium of one month: `km` driven this month (1 km units), `score` the month's safety
    score, `km_before_in_year` the km already driven earlier in the same policy year."""
    if km < 0 or km_before_in_year < 0:
        raise RuleError("NEGATIVE_AMOUNT", "km", "mileage cannot be negative")
    room = max(0, plan.annual_km_cap - km_before_in_year)
    charged = min(km, room)
    why = [f"{km:,} km driven this month"]
    if charged < km:
        why.append(f"{km - charged:,} km above {plan.annual_km_cap:,} km this policy year are not charged ({RULE_CAP})")
    gross = int((plan.unit_rate_yen_per_km * charged).to_integral_value(ROUND_DOWN))
    demo = " (DEMONSTRATION rate)" if plan.unit_rate_demonstration else ""
    why.append(f"{charged:,} km × ¥{plan.unit_rate_yen_per_km}/km{demo} = ¥{gross:,} ({RULE_KM})")
    discount = band_discount(plan, score)
    amount = int((gross * (1 - discount)).to_integral_value(ROUND_DOWN))
    why.append(f"safety score {score}: {discount:.0%} off = ¥{amount:,} (002 L1840-1850)")
    return DrivingPremium(km, charged, gross, discount, amount, tuple(why))


def km_basis_for_change(plan: ConnectedPlan, km_at_last_anniversary: int) -> int | None:
    """A change that adds premium: if the policy year's mileage had passed the cap as of the last
    anniversary before the change (also when that is found later), the additional premium is charged
    on the cap's mileage a year (002 L1626-1628); None: the ordinary basis."""
    if km_at_last_anniversary < 0:
        raise RuleError("NEGATIVE_AMOUNT", "km", "mileage cannot be negative")
    return plan.annual_km_cap if km_at_last_anniversary > plan.annual_km_cap else None
