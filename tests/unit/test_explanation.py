"""compare(): what changed between two premiums, by factor and coverage, and by how much."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.explanation import compare, render
from domain.grade import GradeMarker, GradeRecord
from domain.rating import CoverageChoice
from tests.unit.test_rating_support import AIOI, RAKUTEN, TOKIO, base_quote, quote, with_facts


def test_grade_change_is_the_cause_and_later_steps_are_knock_ons() -> None:
    before = quote(base_quote(RAKUTEN, grade=GradeRecord(16, GradeMarker.NONE, 0)))
    after = quote(base_quote(RAKUTEN, grade=GradeRecord(13, GradeMarker.NONE, 3)))    # one 3-down accident
    diff = compare(before, after)
    assert diff.change == after.total - before.total > 0
    causes = {(i.line, i.factor) for i in diff.causes}
    assert causes == {(line, "GRADE") for line in ("BI", "PD", "PIP", "VEHICLE")}
    bi = next(i for i in diff.causes if i.line == "BI")
    assert (bi.rate_before, bi.rate_after) == (D("0.46"), D("0.76"))   # 16: −54%, 13 with accident: −24% (001 L780-781)
    assert (bi.value_before, bi.value_after) == ("16, period 0", "13, period 3")
    assert any(not i.cause for i in diff.items)                          # later factors act on a new amount
    assert not diff.tariff_changed


def test_added_discount_appears_with_no_before() -> None:
    before = quote(base_quote(AIOI))
    after = quote(with_facts(base_quote(AIOI), multi_car_count=3))
    diff = compare(before, after)
    multi = [i for i in diff.causes if i.factor == "MULTI_CAR"]
    assert {i.line for i in multi} == {"BI", "PD", "PI", "VEHICLE"}
    assert all(i.rate_before is None and i.rate_after == D("0.96") and i.amount_after < 0 for i in multi)  # 002 L4919
    assert diff.change < 0


def test_added_coverage_is_a_line_change() -> None:
    before = quote(base_quote(AIOI, coverages=(CoverageChoice("BI"), CoverageChoice("PD"))))
    after = quote(base_quote(AIOI))
    diff = compare(before, after)
    added = {c.line for c in diff.lines}
    assert added == {"PI", "VEHICLE"}
    assert all(c.before == 0 and c.after > 0 for c in diff.lines)
    assert diff.change == after.total - before.total


def test_tariff_change_is_reported() -> None:
    old = quote(base_quote(RAKUTEN, start_date=date(2025, 12, 1)))
    new = quote(base_quote(RAKUTEN, start_date=date(2026, 1, 2)))
    diff = compare(old, new)
    assert diff.tariff_changed
    assert diff.tariff_before == "rakuten-drive-assist/DEMO-2023-12"
    bases = {i.line for i in diff.items if i.factor == "BASE"}
    assert bases == {"BI", "PD"}          # the 2026 demonstration version changed liability bases only


def test_group_period_ending_shows_the_group_discount_removed() -> None:
    inside = quote(base_quote(TOKIO, start_date=date(2027, 3, 31)))
    outside = quote(base_quote(TOKIO, start_date=date(2027, 4, 1)))   # 004 L160
    diff = compare(inside, outside)
    groups = [i for i in diff.causes if i.factor == "GROUP"]
    assert groups and all(i.rate_before == D("0.73") and i.rate_after is None for i in groups)
    assert diff.change > 0


def test_identical_premiums_have_no_diff() -> None:
    p = quote(base_quote(AIOI))
    diff = compare(p, p.explanation)
    assert diff.items == () and diff.lines == () and diff.change == 0


def test_render_lists_every_step_and_the_total() -> None:
    p = quote(base_quote(AIOI))
    text = render(p.explanation)
    assert "DEMONSTRATION" in text and p.tariff_version in text
    assert len(text.splitlines()) == len(p.explanation.steps) + 2
    assert "ノンフリート等級" in render(p.explanation, "ja")
