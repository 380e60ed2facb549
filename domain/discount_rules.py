"""Discount eligibility and band pickers (pure).

This module decides *whether* a discount applies and *which band* a fact falls in; the
rates themselves are product data (domain/products). Every rule cites the pamphlet line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.calendar import RuleError, YearMonth, day_number, fiscal_year
from domain.vocab import Labelled, LicenceColour

# A band is (lowest, highest) inclusive; highest None means "and above".
Band = tuple[int, int | None]


class AgeBand(Labelled):
    """Named-insured age band (記名被保険者年齢別料率区分), age on the start date (001 L626, 002b L4599-4616)."""

    UP_TO_29 = ("UP_TO_29", "29才以下", "29 or under")
    THIRTIES = ("THIRTIES", "30才以上39才以下", "30–39")
    FORTIES = ("FORTIES", "40才以上49才以下", "40–49")
    FIFTIES = ("FIFTIES", "50才以上59才以下", "50–59")
    AGE_60_64 = ("AGE_60_64", "60才以上64才以下", "60–64")
    AGE_65_69 = ("AGE_65_69", "65才以上69才以下", "65–69")
    AGE_70_74 = ("AGE_70_74", "70才以上74才以下", "70–74")
    AGE_75_79 = ("AGE_75_79", "75才以上79才以下", "75–79")
    AGE_80_PLUS = ("AGE_80_PLUS", "80才以上", "80 or over")


_AGE_BAND_FLOORS: tuple[tuple[int, AgeBand], ...] = (
    (80, AgeBand.AGE_80_PLUS),
    (75, AgeBand.AGE_75_79),
    (70, AgeBand.AGE_70_74),
    (65, AgeBand.AGE_65_69),
    (60, AgeBand.AGE_60_64),
    (50, AgeBand.FIFTIES),
    (40, AgeBand.FORTIES),
    (30, AgeBand.THIRTIES),
)


def age_band(age: int) -> AgeBand:
    """The band for a completed age (use calendar.age_on(birth, start))."""
    if age < 0:
        raise RuleError("INVALID_AGE", "age", f"age must be ≥ 0, got {age}")
    for floor, band in _AGE_BAND_FLOORS:
        if age >= floor:
            return band
    return AgeBand.UP_TO_29


class NewCarBand(Labelled):
    """Column of the new-car discount tables (001 L752-763, 004 L1532/L1562-1567)."""

    UP_TO_25_MONTHS = ("UP_TO_25_MONTHS", "25か月以内", "Within 25 months")
    MONTHS_26_49 = ("MONTHS_26_49", "26～49か月以内", "26–49 months")


def months_since_first_registration(first: YearMonth, start: date) -> int:
    """Elapsed months for the new-car / ECO windows.

    All three pamphlets count "from the month after the first-registration month" with that
    month as month 1, and test the month containing the start date (001 L752, 002b L4875-4879,
    004 L1532). So registration 2024-03 and a start in 2024-04 is month 1; a start in the
    registration month itself is month 0 (inside every window).
    """
    n = YearMonth.of(start).index - first.index
    if n < 0:
        raise RuleError(
            "START_BEFORE_FIRST_REGISTRATION",
            "firstRegistration",
            f"start {start} is before first registration {first}",
        )
    return n


def within_registration_months(first: YearMonth, start: date, months: int) -> bool:
    """True when the start month is within `months` counting from the month after registration."""
    return months_since_first_registration(first, start) <= months


def new_car_band(first: YearMonth, start: date) -> NewCarBand | None:
    """≤25 months, 26–49 months, or no new-car discount (001 L752-763, 004 L1532/L1562-1567)."""
    n = months_since_first_registration(first, start)
    if n <= 25:
        return NewCarBand.UP_TO_25_MONTHS
    if n <= 49:
        return NewCarBand.MONTHS_26_49
    return None


def asv_last_start(release: YearMonth) -> date:
    """Last start date for the ASV / automatic-braking discount: 31 Dec of (release FY + 3)."""
    return date(fiscal_year(release.first_day()) + 3, 12, 31)


def asv_eligible(release: YearMonth, start: date) -> bool:
    """ASV (aioi/tokio) and 自動ブレーキ (rakuten) window: start ≤ 31 Dec of (release FY + 3).

    001 L698-716 (release 2022-04 and 2023-01 both → 2025-12-31), 002b L4842-4845, 004 L1533.
    Whether the car has AEB is the caller's fact; for terms over one year pass each anniversary.
    """
    return start <= asv_last_start(release)


NO_ACCIDENT_MAX_GAP_DAYS = 7  # 001 L722: lost when the start is 8 or more days after the end


def no_accident_discount_kept(
    prev_end: date | None,
    new_start: date,
    used_interruption_certificate: bool,
    prev_term_at_least_one_year: bool,
    *,
    prev_term_had_counted_accident: bool = False,
) -> bool:
    """Rakuten no-accident 5% (001 L722).

    Needs a previous contract (any insurer) of ≥ 1 year with no accident other than no-count
    ones; lost when the new start is 8+ days after the previous expiry or cancellation date,
    or when an interruption certificate is used. A start on or before the previous end
    (an overlapping or seamless renewal) keeps it.
    """
    if prev_end is None or used_interruption_certificate:
        return False
    if not prev_term_at_least_one_year or prev_term_had_counted_accident:
        return False
    return day_number(prev_end, new_start) <= NO_ACCIDENT_MAX_GAP_DAYS


def gold_licence_applies(
    colour_on_start: LicenceColour, *, gold_eligible_at_renewal: bool = False
) -> bool:
    """Gold licence discount: the named insured's valid licence is gold on the start date (001 L730).

    Tokio also treats a blue licence as gold when the holder qualified for gold but had not yet
    renewed, or renewed early to blue (004 L1544 ※, L1345); callers that know it pass
    `gold_eligible_at_renewal=True`.
    """
    return colour_on_start is LicenceColour.GOLD or (
        colour_on_start is LicenceColour.BLUE and gold_eligible_at_renewal
    )


def group_scheme_active(start: date, frm: date, to: date) -> bool:
    """Group discount applies to contracts whose start date is within [frm, to] (004 L160)."""
    if to < frm:
        raise RuleError("DATES_OUT_OF_ORDER", "to", f"scheme end {to} is before its start {frm}")
    return frm <= start <= to


def _validate_bands(bands: Sequence[Band], field: str) -> None:
    prev_hi: int | None = None
    for i, (lo, hi) in enumerate(bands):
        if hi is not None and hi < lo:
            raise RuleError("INVALID_BANDS", field, f"band {i} ({lo}, {hi}) is empty")
        if i > 0 and (prev_hi is None or lo <= prev_hi):
            raise RuleError(
                "INVALID_BANDS", field, f"band {i} ({lo}, {hi}) overlaps or is out of order"
            )
        if hi is None and i != len(bands) - 1:
            raise RuleError("INVALID_BANDS", field, "only the last band may be open-ended")
        prev_hi = hi


def pick_band(value: int, bands: Sequence[Band], *, field: str = "bands") -> int | None:
    """Index of the band containing `value`, or None when it falls in none of them.

    Bands are inclusive, ascending and disjoint; the last may be open (hi None).
    """
    _validate_bands(bands, field)
    for i, (lo, hi) in enumerate(bands):
        if value >= lo and (hi is None or value <= hi):
            return i
    return None


def multi_car_rate_key(cars: int, bands: Sequence[Band]) -> int | None:
    """Index into the product's multi-car rates for `cars` insured together, None below the first band.

    The product declares bands and rates side by side, e.g. rakuten [(2, 2), (3, None)] →
    1% / 5% (001 L738-746); aioi and tokio [(2, 2), (3, 5), (6, None)] → 3/4/6%
    (002b L4894-4896, 004 L1546). Group (団体扱) contracts are excluded by the caller (001 L741).
    """
    if cars < 0:
        raise RuleError("INVALID_CAR_COUNT", "cars", f"car count must be ≥ 0, got {cars}")
    return pick_band(cars, bands, field="multiCarBands")


def telematics_band(score: int | None, bands: Sequence[Band]) -> int | None:
    """Index of the safety-score band, e.g. aioi [(0, 59), (60, 79), (80, None)] → C/B/A with
    0/4/8% on renewal (002a L1082-1116); tokio driving score [(80, None)] → 5% (004 L1547).

    None when there is no score (first year, < 500 km measured); the product decides what that
    means (aioi: priced like category B, 002a L1106-1108).
    """
    if score is None:
        return None
    if not 0 <= score <= 100:
        raise RuleError("INVALID_SCORE", "telematicsScore", f"score must be 0..100, got {score}")
    return pick_band(score, bands, field="telematicsBands")


class EnvironmentDiscount(Labelled):
    """Which of the two mutually exclusive vehicle discounts applies."""

    ECO = ("ECO", "ECOカー割引", "Eco-car discount")
    WELFARE = ("WELFARE", "福祉車両割引", "Welfare-vehicle discount")


def eco_or_welfare(
    eco: bool, welfare: bool, welfare_wins: bool = True
) -> EnvironmentDiscount | None:
    """ECO and welfare do not stack; when both qualify the product's precedence decides.

    aioi (002b L4812 注1) and tokio (004 L1535 ※): welfare wins.
    """
    if eco and welfare:
        return EnvironmentDiscount.WELFARE if welfare_wins else EnvironmentDiscount.ECO
    if welfare:
        return EnvironmentDiscount.WELFARE
    if eco:
        return EnvironmentDiscount.ECO
    return None


ECO_WINDOW_MONTHS = 13  # 002b L4846-4847, 004 L1535


def eco_window_open(first: YearMonth, start: date, months: int = ECO_WINDOW_MONTHS) -> bool:
    """ECO discount window: start month within 13 months counting from the month after registration."""
    return within_registration_months(first, start, months)


# The rating helper's brief (H2) names this picker multi_car_count_band; one rule, two names.
multi_car_count_band = multi_car_rate_key
