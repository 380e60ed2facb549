"""Time rules shared by every domain rule: Japan time, the 16:00 cover moment, day counting.

Pure: nothing here reads the clock; every "today" is a parameter.
"""

from __future__ import annotations

import calendar as _stdcal
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

JST: ZoneInfo = ZoneInfo("Asia/Tokyo")

# Cover starts and ends at 16:00 on the start / expiry date unless the contract says otherwise
# (002b L5239, 004 L1234).
COVER_TIME: time = time(16, 0)


class RuleError(ValueError):
    """A domain rule refused its input (dates outside a term, a negative amount, ...).

    `code` is stable (API userErrors use it), `field` names the offending input.
    """

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(f"{code} ({field}): {message}")
        self.code = code
        self.field = field
        self.message = message


_YM = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


@dataclass(frozen=True, order=True, slots=True)
class YearMonth:
    """A calendar month (first registration 初度登録年月, model release 発売年月)."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise RuleError("INVALID_YEAR_MONTH", "month", f"month must be 1..12, got {self.month}")
        if not 1 <= self.year <= 9999:
            raise RuleError("INVALID_YEAR_MONTH", "year", f"year out of range: {self.year}")

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        m = _YM.match(text)
        if m is None:
            raise RuleError("INVALID_YEAR_MONTH", "yearMonth", f"expected YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, d: date) -> YearMonth:
        return _month_of(d) if cls is YearMonth else cls(d.year, d.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since year 0, so that differences of two YearMonths are month counts."""
        return self.year * 12 + (self.month - 1)

    def plus_months(self, n: int) -> YearMonth:
        i = self.index + n
        return YearMonth(i // 12, i % 12 + 1)

    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def last_day(self) -> date:
        return date(self.year, self.month, _stdcal.monthrange(self.year, self.month)[1])


# Pure functions of a date that the nightly recalculation calls several times per contract on a
# few hundred distinct dates: each answer is worked out once (months and dates are immutable).
# Cached only for keys whose equality is exact: a plain `date`, an `int`, a UTC instant (equal
# datetimes in other zones, or differing only in `fold`, can have different answers).
def _month_of(d: date) -> YearMonth:
    return _month_of_date(d) if type(d) is date else YearMonth(d.year, d.month)


@lru_cache(maxsize=8192)
def _month_of_date(d: date) -> YearMonth:
    return YearMonth(d.year, d.month)


def jst_date(at: datetime) -> date:
    """The calendar day in Japan of an aware instant."""
    return _jst_date_of_utc(at) if at.tzinfo is UTC else at.astimezone(JST).date()


@lru_cache(maxsize=8192)
def _jst_date_of_utc(at: datetime) -> date:
    return at.astimezone(JST).date()


def cover_moment(d: date, at: time = COVER_TIME) -> datetime:
    """The aware JST instant at which cover starts or ends on day `d`."""
    return datetime.combine(d, at, tzinfo=JST)


def last_day_within(event: date, days: int) -> date:
    """Last valid day of "within N days counting from the day after `event`" (SPEC §4.1).

    The day after the event is day 1, so day N is event + N days.
    """
    if days < 0:
        raise RuleError("INVALID_DAY_COUNT", "days", f"day count must be ≥ 0, got {days}")
    return event + timedelta(days=days)


def day_number(event: date, on: date) -> int:
    """Which day of a "counting from the day after" window `on` is: 1 on the day after `event`.

    0 on the event day itself, negative before it.
    """
    return (on - event).days


def within_days(event: date, days: int, on: date) -> bool:
    """True when `on` is no later than day N counting from the day after `event`."""
    return on <= last_day_within(event, days)


def age_on(birth: date, on: date) -> int:
    """Completed years (満年齢) on date `on`.

    Someone born on 29 February has a birthday on 1 March in common years, which matches
    the Japanese civil reckoning during that day (年齢計算ニ関スル法律 with Civil Code
    art. 143: the year is completed at the end of 28 February).
    """
    if on < birth:
        raise RuleError("DATE_BEFORE_BIRTH", "on", f"{on} is before birth date {birth}")
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def fiscal_year(d: date) -> int:
    """Japanese fiscal year (年度), April to March: 2025-03-31 is FY2024, 2025-04-01 is FY2025."""
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_end(fy: int) -> date:
    return date(fy + 1, 3, 31)


def add_months(d: date, n: int) -> date:
    """Same day n months later; clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    return _add_months_cached(d, n) if type(d) is date and type(n) is int else _add_months(d, n)


@lru_cache(maxsize=8192)
def _add_months_cached(d: date, n: int) -> date:
    return _add_months(d, n)


def _add_months(d: date, n: int) -> date:
    ym = YearMonth.of(d).plus_months(n)
    return date(ym.year, ym.month, min(d.day, _stdcal.monthrange(ym.year, ym.month)[1]))


def whole_months_between(a: date, b: date) -> int:
    """Number of whole months from `a` to `b` (0 when b < a month later; negative never).

    A month from `a` ends on the same day-of-month (clamped), so 2024-01-31 → 2024-02-29
    is one whole month and 2024-04-01 → 2025-04-01 is twelve.
    """
    if b < a:
        raise RuleError("DATES_OUT_OF_ORDER", "end", f"{b} is before {a}")
    n = (b.year - a.year) * 12 + (b.month - a.month)
    # n can overshoot by one when b's day-of-month is before a's (after clamping).
    while n > 0 and add_months(a, n) > b:
        n -= 1
    return n
