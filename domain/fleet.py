"""Fleet contracts (フリート契約, 10 or more cars): review dates, experience period, loss ratio, rate.

Pure: dates and amounts are parameters. The pamphlet gives the rules exactly (002b L4998-5056,
L5075-5092); it prints no table from loss ratio to discount, so the step table comes from the
product file and is labelled DEMONSTRATION there.

- 10-car date (10台到達日): the day the owner's cars on ≥1-year policies reach 10 (L5084-5087).
- First review date: with the all-vehicle rider (全車両一括特約) the 1-year anniversary of the
  10-car date; without it the 1st of the month containing the 18-month anniversary (L5007-5013).
  Later review dates are its yearly anniversaries (L5011).
- Which rate a car gets by its start date (L5015-5026): (1) from the 10-car date to the day before
  the first review, each car its non-fleet grade; (2) from a review date to the day before the
  next, one fleet rate for every car; (3) when the count at the end of the experience period is 9
  or fewer, non-fleet grades again from the next review date, with a coefficient period of 0.
- Loss ratio (%) = (paid in the period + outstanding at its end − outstanding at the previous
  period's end) ÷ the period's premium before the fleet rate × 100 (L5028-5056).
- Experience period (L5036-5043, attribution in notes/002b §5.1): without the rider, the year
  ending 6 months before the review date; with it, the year ending 6 months before the 1st of the
  review month (the first review: the 6 months ending then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.calendar import RuleError, add_months

RULE_REVIEW_DATES = "002b L5007-5013"
RULE_WHICH_RATE = "002b L5015-5026"
RULE_NON_FLEET_AGAIN = "002b L5020-5023"
RULE_LOSS_RATIO = "002b L5028-5056"
RULE_EXPERIENCE = "002b L5036-5043"
RULE_TEN_CARS = "002b L5084-5087"
FLEET_MIN_CARS = 10   # 10台以上 (L5084-5087); 9 or fewer is non-fleet (L5023)


@dataclass(frozen=True, slots=True)
class FleetFacts:
    """What rating needs of a car on a fleet contract.

    `rate_percent`: the fleet discount (negative) or surcharge (positive) in force on the car's
    start date; None while the car keeps its non-fleet grade (phase 1 or 3). `ends_on`: the common
    expiry of an all-vehicle certificate when the car joins mid-term (the premium is pro rata to it).
    """

    fleet_id: int
    rate_percent: int | None = None
    rate_source: str = ""
    ends_on: date | None = None
    period_zero: bool = False     # non-fleet grades again after a review: coefficient period 0 (L5021)


@dataclass(frozen=True, slots=True)
class RateStep:
    """One row of the product's loss-ratio table: up to `max_loss_ratio` % (None: above every
    other row) the rate moves by `change_points` from the prior year's rate."""

    max_loss_ratio: Decimal | None
    change_points: int


@dataclass(frozen=True, slots=True)
class RateTable:
    steps: tuple[RateStep, ...]
    floor_percent: int            # the largest discount, e.g. -70
    ceiling_percent: int          # the largest surcharge, e.g. +100
    source: str                   # "DEMONSTRATION ..." when the pamphlet prints no table


@dataclass(frozen=True, slots=True)
class Period:
    start: date    # inclusive
    end: date      # exclusive

    def contains(self, d: date) -> bool:
        return self.start <= d < self.end


@dataclass(frozen=True, slots=True)
class ReviewInputs:
    paid_yen: int                   # claims paid in the experience period
    outstanding_end_yen: int        # estimate still unpaid at the period's end
    outstanding_prev_end_yen: int   # the same at the previous period's end (0 at the first review)
    premium_yen: int                # the period's premium before the fleet rate
    car_count: int                  # cars insured at the end of the period
    prior_rate_percent: int | None  # the rate in force before this review (None: non-fleet grades)


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    loss_ratio: Decimal | None      # None: no premium in the period
    rate_percent: int | None        # None: non-fleet grades from the review date (phase 3)
    reasons: tuple[str, ...]


def first_review_date(ten_car_date: date, *, all_vehicle_rider: bool) -> date:
    if all_vehicle_rider:
        return add_months(ten_car_date, 12)
    return add_months(ten_car_date, 18).replace(day=1)


def review_date(ten_car_date: date, n: int, *, all_vehicle_rider: bool) -> date:
    """The n-th review date (n ≥ 1)."""
    if n < 1:
        raise RuleError("INVALID_REVIEW", "n", "review dates are counted from 1")
    return add_months(first_review_date(ten_car_date, all_vehicle_rider=all_vehicle_rider), 12 * (n - 1))


def review_number_on(ten_car_date: date, on: date, *, all_vehicle_rider: bool) -> int:
    """The number of the latest review date on or before `on` (0: before the first)."""
    n = 0
    while review_date(ten_car_date, n + 1, all_vehicle_rider=all_vehicle_rider) <= on:
        n += 1
    return n


def experience_period(ten_car_date: date, n: int, *, all_vehicle_rider: bool) -> Period:
    review = review_date(ten_car_date, n, all_vehicle_rider=all_vehicle_rider)
    if all_vehicle_rider:
        end = add_months(review.replace(day=1), -6)
        return Period(add_months(end, -6 if n == 1 else -12), end)
    end = add_months(review, -6)
    return Period(add_months(end, -12), end)


def loss_ratio(paid_yen: int, outstanding_end_yen: int, outstanding_prev_end_yen: int,
               premium_yen: int) -> Decimal | None:
    """Percent to one decimal, half up; None when the period earned no premium."""
    if min(paid_yen, outstanding_end_yen, outstanding_prev_end_yen, premium_yen) < 0:
        raise RuleError("NEGATIVE_AMOUNT", "lossRatio", "amounts of a loss ratio are ≥ 0")
    if premium_yen == 0:
        return None
    claims = Decimal(paid_yen + outstanding_end_yen - outstanding_prev_end_yen)
    return (claims / Decimal(premium_yen) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def decide_review(inputs: ReviewInputs, table: RateTable) -> ReviewDecision:
    """The fleet rate from a review date on, or None for non-fleet grades (phase 3)."""
    lr = loss_ratio(inputs.paid_yen, inputs.outstanding_end_yen, inputs.outstanding_prev_end_yen,
                    inputs.premium_yen)
    if inputs.car_count < FLEET_MIN_CARS:
        why = (f"{inputs.car_count} cars at the end of the experience period (≤ 9): non-fleet grades from the "
               f"review date, coefficient period 0 ({RULE_NON_FLEET_AGAIN})")
        return ReviewDecision(lr, None, (why,))
    prior = inputs.prior_rate_percent or 0
    reasons = [f"prior rate {prior:+d}%" + ("" if inputs.prior_rate_percent is not None else
                                             " (cars on non-fleet grades before this review)")]
    if lr is None:
        reasons.append("no premium in the experience period: the prior rate stays")
        return ReviewDecision(None, prior, tuple(reasons))
    step = next(s for s in table.steps if s.max_loss_ratio is None or lr <= s.max_loss_ratio)
    rate = max(table.floor_percent, min(table.ceiling_percent, prior + step.change_points))
    bound = f"≤ {step.max_loss_ratio}%" if step.max_loss_ratio is not None else "above every row"
    reasons.append(f"loss ratio {lr}% ({RULE_LOSS_RATIO}) in the row {bound}: {step.change_points:+d} points "
                   f"({table.source})")
    if rate != prior + step.change_points:
        reasons.append(f"kept within {table.floor_percent:+d}%..{table.ceiling_percent:+d}%")
    return ReviewDecision(lr, rate, tuple(reasons))


def days_pro_rata(start: date, ends_on: date) -> tuple[int, int]:
    """(days from a mid-term start to the certificate's expiry, days in a year from the start)."""
    year = (add_months(start, 12) - start).days
    days = (ends_on - start).days
    if not 0 < days <= year:
        raise RuleError("INVALID_FLEET_TERM", "endsOn",
                        f"a car joins the certificate before its expiry {ends_on}, at most a year ahead")
    return days, year


def last_day(p: Period) -> date:
    return p.end - timedelta(days=1)


def facts_on(fleet_id: int, start: date, *, ten_car_date: date, all_vehicle_rider: bool,
             decided: dict[int, int | None], ends_on: date | None = None) -> FleetFacts:
    """The rate a fleet car starting on `start` gets (L5015-5026), from the reviews decided so far.

    Raises FLEET_REVIEW_PENDING when the start falls in a review year whose decision is not stored
    yet (the review is decided at the end of its experience period, months before it applies)."""
    n = review_number_on(ten_car_date, start, all_vehicle_rider=all_vehicle_rider)
    if n == 0:
        return FleetFacts(fleet_id, None, f"before the first review date: the car's non-fleet grade ({RULE_WHICH_RATE})",
                          ends_on)
    if n not in decided:
        raise RuleError("FLEET_REVIEW_PENDING", "startDate",
                        f"review {n} ({review_date(ten_car_date, n, all_vehicle_rider=all_vehicle_rider)}) is not decided yet")
    rate = decided[n]
    if rate is None:
        return FleetFacts(fleet_id, None, f"non-fleet grades again from review {n}, period 0 ({RULE_NON_FLEET_AGAIN})",
                          ends_on, period_zero=True)
    return FleetFacts(fleet_id, rate, f"fleet rate of review {n} ({RULE_WHICH_RATE})", ends_on)
