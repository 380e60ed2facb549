from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import (
    COVER_TIME,
    JST,
    RuleError,
    YearMonth,
    add_months,
    age_on,
    cover_moment,
    day_number,
    fiscal_year,
    fiscal_year_end,
    last_day_within,
    whole_months_between,
    within_days,
)

dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))


# --- the cover moment -------------------------------------------------------------------


def test_cover_starts_at_16_jst():
    # 002b L5239 「始期日の午後4時」; 004 L1234-1235 始期日の午後4時〜満期日の午後4時
    m = cover_moment(date(2026, 4, 1))
    assert COVER_TIME == time(16, 0)
    assert m.tzinfo is JST
    assert m.utcoffset() == timedelta(hours=9)
    assert m.astimezone(UTC) == datetime(2026, 4, 1, 7, 0, tzinfo=UTC)


def test_cover_moment_other_time_printed_on_application():
    # 002b L5243-5244, 004 L1234: another time printed on the application wins
    assert cover_moment(date(2026, 4, 1), time(0, 0)).hour == 0


# --- "within N days counting from the day after" ----------------------------------------


def test_swap_window_last_day_spec_example():
    # SPEC §4.1 worked example; 002b L4142 「取得日の翌日から起算して30日以内」
    acquired = date(2026, 4, 1)
    assert last_day_within(acquired, 30) == date(2026, 5, 1)
    assert within_days(acquired, 30, date(2026, 5, 1))
    assert not within_days(acquired, 30, date(2026, 5, 2))
    assert day_number(acquired, date(2026, 5, 2)) == 31


def test_day_one_is_the_day_after_the_event():
    assert day_number(date(2026, 4, 1), date(2026, 4, 2)) == 1
    assert day_number(date(2026, 4, 1), date(2026, 4, 1)) == 0


def test_seven_day_continuity_window():
    # 004 L1264: new contract within 7 days counting from the day after expiry
    expiry = date(2026, 3, 31)
    assert last_day_within(expiry, 7) == date(2026, 4, 7)


def test_window_across_month_and_year_ends():
    assert last_day_within(date(2026, 12, 15), 30) == date(2027, 1, 14)
    assert last_day_within(date(2028, 2, 1), 30) == date(2028, 3, 2)  # leap February


def test_negative_day_count_refused():
    with pytest.raises(RuleError) as e:
        last_day_within(date(2026, 4, 1), -1)
    assert e.value.code == "INVALID_DAY_COUNT" and e.value.field == "days"


@settings(max_examples=100, deadline=None)
@given(dates, st.integers(min_value=0, max_value=400))
def test_last_day_is_day_n(event, n):
    assert day_number(event, last_day_within(event, n)) == n


# --- age ---------------------------------------------------------------------------------


def test_age_completed_years():
    birth = date(2005, 6, 10)
    assert age_on(birth, date(2026, 6, 9)) == 20
    assert age_on(birth, date(2026, 6, 10)) == 21
    assert age_on(birth, birth) == 0


def test_age_born_on_29_february():
    birth = date(2004, 2, 29)
    assert age_on(birth, date(2025, 2, 28)) == 20
    assert age_on(birth, date(2025, 3, 1)) == 21
    assert age_on(birth, date(2028, 2, 29)) == 24


def test_age_before_birth_refused():
    with pytest.raises(RuleError) as e:
        age_on(date(2000, 1, 2), date(2000, 1, 1))
    assert e.value.code == "DATE_BEFORE_BIRTH"


# --- fiscal year -------------------------------------------------------------------------


def test_fiscal_year_boundaries():
    # 001 L698 年度 is April–March; L711-716: January 2023 belongs to FY2022
    assert fiscal_year(date(2025, 3, 31)) == 2024
    assert fiscal_year(date(2025, 4, 1)) == 2025
    assert fiscal_year(date(2023, 1, 15)) == 2022
    assert fiscal_year(date(2022, 4, 1)) == 2022
    assert fiscal_year_end(2024) == date(2025, 3, 31)


# --- months ------------------------------------------------------------------------------


def test_whole_months_between():
    assert whole_months_between(date(2024, 4, 1), date(2025, 4, 1)) == 12
    assert whole_months_between(date(2024, 4, 1), date(2025, 3, 31)) == 11
    assert whole_months_between(date(2024, 4, 15), date(2024, 5, 14)) == 0
    assert whole_months_between(date(2024, 4, 15), date(2024, 5, 15)) == 1
    assert whole_months_between(date(2024, 1, 31), date(2024, 2, 29)) == 1
    assert whole_months_between(date(2024, 1, 31), date(2024, 3, 30)) == 1
    assert whole_months_between(date(2024, 5, 1), date(2024, 5, 1)) == 0


def test_whole_months_refuses_reversed_dates():
    with pytest.raises(RuleError) as e:
        whole_months_between(date(2024, 5, 2), date(2024, 5, 1))
    assert e.value.code == "DATES_OUT_OF_ORDER"


def test_add_months_clamps_to_month_end():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -6) == date(2025, 7, 15)


@settings(max_examples=100, deadline=None)
@given(dates, st.integers(min_value=0, max_value=800), st.integers(min_value=0, max_value=40))
def test_whole_months_monotone_and_exact(a, days, extra):
    b = a + timedelta(days=days)
    n = whole_months_between(a, b)
    assert add_months(a, n) <= b < add_months(a, n + 1)
    assert whole_months_between(a, b + timedelta(days=extra)) >= n


# --- YearMonth ---------------------------------------------------------------------------


def test_year_month_parse_and_str():
    ym = YearMonth.parse("2024-03")
    assert ym == YearMonth(2024, 3)
    assert str(ym) == "2024-03"
    assert str(YearMonth.parse("2024-3")) == "2024-03"
    assert YearMonth(2023, 12) < YearMonth(2024, 1)
    assert YearMonth(2023, 11).plus_months(3) == YearMonth(2024, 2)
    assert YearMonth(2024, 2).last_day() == date(2024, 2, 29)


@pytest.mark.parametrize("text", ["2024", "2024-13", "24-03", "2024/03", ""])
def test_year_month_parse_refuses_garbage(text):
    with pytest.raises(RuleError) as e:
        YearMonth.parse(text)
    assert e.value.code == "INVALID_YEAR_MONTH"
