"""The calendar's cached answers are cached only for exact keys: equal instants in other zones,
datetimes that differ in `fold` only, or a float month count get their own answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.calendar import JST, YearMonth, add_months, jst_date


def test_equal_instants_in_other_zones_keep_their_own_months() -> None:
    u = datetime(2025, 1, 31, 20, 0, tzinfo=UTC)
    j = u.astimezone(JST)
    assert YearMonth.of(u) == YearMonth(2025, 1)
    assert YearMonth.of(j) == YearMonth(2025, 2)
    assert add_months(u, 1) == date(2025, 2, 28)
    assert add_months(j, 1) == date(2025, 3, 1)
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)


def test_fold_and_float_counts_are_not_answered_from_the_cache() -> None:
    lh = ZoneInfo("Australia/Lord_Howe")
    assert jst_date(datetime(2025, 4, 6, 1, 45, tzinfo=lh)) == date(2025, 4, 5)
    assert jst_date(datetime(2025, 4, 6, 1, 45, fold=1, tzinfo=lh)) == date(2025, 4, 6)
    assert jst_date(datetime(2025, 4, 5, 15, 0, tzinfo=UTC)) == date(2025, 4, 6)
    add_months(date(2025, 1, 15), 1)
    with pytest.raises(TypeError):
        add_months(date(2025, 1, 15), 1.0)  # type: ignore[arg-type]
