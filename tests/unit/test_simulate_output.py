"""`autopolicy simulate` output and `--until` parsing (issue 12): a bare date is 09:00 JST that
day, a date-time is JST unless it carries an offset; a line per timer that changed something;
a summary in words, never a raw timedelta."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.runtime.business_clock import describe_span
from domain.runtime.clock import JST
from workers.simulate import Simulation, Step, parse_until

AT = datetime(2027, 10, 5, 16, 0, tzinfo=JST)


def test_a_bare_date_is_the_start_of_that_office_day() -> None:
    assert parse_until("2027-10-05") == datetime(2027, 10, 5, 9, 0, tzinfo=JST)


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-10-05T09:30", datetime(2027, 10, 5, 9, 30, tzinfo=JST)),
    ("2027-10-05 23:15:10", datetime(2027, 10, 5, 23, 15, 10, tzinfo=JST)),
    ("2027-10-05T00:30+00:00", datetime(2027, 10, 5, 9, 30, tzinfo=JST)),
    ("2027-10-04T15:00Z", datetime(2027, 10, 5, 0, 0, tzinfo=JST)),
])
def test_a_date_time_is_jst_unless_it_carries_an_offset(text: str, expected: datetime) -> None:
    got = parse_until(text)
    assert got == expected and got.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize("text", ["someday", "2027-13-01", "05/10/2027", ""])
def test_anything_else_is_refused_with_the_formats(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a date \(YYYY-MM-DD\) or a date-time"):
        parse_until(text)


@pytest.mark.parametrize(("span", "words"), [
    (timedelta(days=62, hours=6, minutes=56, seconds=5.69758), "62 days 6 hours"),
    (timedelta(days=1), "1 day"),
    (timedelta(hours=3, minutes=10), "3 hours 10 minutes"),
    (timedelta(hours=1), "1 hour"),
    (timedelta(minutes=1, seconds=59), "1 minute"),
    (timedelta(seconds=20), "less than a minute"),
])
def test_spans_read_as_people_say_them(span: timedelta, words: str) -> None:
    assert describe_span(span) == words


def _step(kind: str, events: tuple[str, ...], contracts: tuple[str, ...], outcome: str = "done") -> Step:
    return Step(AT, 1, kind, "window:7", outcome, events, contracts)


def test_a_line_has_time_kind_contract_and_what_happened() -> None:
    line = _step("window.lapse", ("CONTRACT_LAPSED",), ("AP-RK-100001",)).line()
    assert line.startswith("2027-10-05 16:00 JST  window.lapse")
    assert "AP-RK-100001" in line and line.endswith("contract lapsed")
    batch = _step("renewal.batch", ("RENEWAL_OFFERED",) * 3, ("AP-AI-1", "AP-AI-2", "AP-AI-3")).line()
    assert "AP-AI-1 +2 more" in batch and batch.endswith("renewal offered ×3")


def test_only_timers_that_changed_something_or_failed_get_a_line() -> None:
    assert not _step("renewal.nightly", (), ()).had_effect
    assert _step("demo.pay", ("PREMIUM_PAID",), ("AP-RK-1",)).had_effect
    failing = _step("term.expiry", (), (), outcome="retry")
    assert failing.had_effect and "RETRY" in failing.line() and "window:7" in failing.line()


def test_the_summary_says_how_far_how_many_and_what_happened() -> None:
    start = AT - timedelta(days=62, hours=6, minutes=56, seconds=5.69758)
    sim = Simulation(started_at=start, until=AT, offset=timedelta(days=306, hours=1))
    sim.steps = [_step("demo.renew", ("CONTRACT_RENEWED",), ("A",)) for _ in range(12)] + \
        [_step("payment.check_rescission", ("CONTRACT_RESCINDED",), ("B",)) for _ in range(3)] + \
        [_step("renewal.nightly", (), ())] + [_step("term.expiry", (), (), outcome="failed")]
    assert sim.summary() == ("moved 62 days 6 hours ahead to 2027-10-05 16:00 JST; 17 timers run; "
                             "12 renewals, 3 rescissions; 1 failed "
                             "(the business clock is 306 days 1 hour ahead of the wall clock)")
    assert ":" not in sim.summary().split("JST")[1]  # no raw timedelta anywhere


def test_an_empty_simulation_says_so() -> None:
    sim = Simulation(started_at=AT - timedelta(hours=2), until=AT)
    assert sim.summary() == ("moved 2 hours ahead to 2027-10-05 16:00 JST; no timer was due "
                             "(the business clock is the wall clock)")


def test_utc_input_keeps_its_instant() -> None:
    assert parse_until("2027-10-05T00:00+00:00") == datetime(2027, 10, 5, tzinfo=UTC)
