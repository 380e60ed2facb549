"""Hypothesis properties of grade renewal: ranges, monotonicity, order independence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.grade import (
    GradeMarker,
    GradeRecord,
    coefficient_percent,
    renew_long_term,
    renew_one_year,
)
from domain.vocab import AccidentClass

SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def records(draw: st.DrawFn) -> GradeRecord:
    if draw(st.booleans()) and draw(st.booleans()):
        return GradeRecord(draw(st.sampled_from([6, 7])), GradeMarker.S, 0)
    return GradeRecord.carried(draw(st.integers(1, 20)), draw(st.integers(0, 6)))


classes = st.sampled_from(list(AccidentClass))
accident_lists = st.lists(classes, max_size=6)
terms = st.integers(1, 7)

_WORSE = {
    AccidentClass.NO_COUNT: AccidentClass.ONE_DOWN,
    AccidentClass.ONE_DOWN: AccidentClass.THREE_DOWN,
}


def _valid(rec: GradeRecord) -> bool:
    return 1 <= rec.grade <= 20 and 0 <= rec.period <= 6 and rec.marker is not GradeMarker.S


@SETTINGS
@given(records(), accident_lists)
def test_one_year_stays_in_range(rec: GradeRecord, accidents: list[AccidentClass]) -> None:
    assert _valid(renew_one_year(rec, accidents).record)


@SETTINGS
@given(records(), accident_lists, terms)
def test_long_term_stays_in_range(rec: GradeRecord, accidents: list[AccidentClass], n: int) -> None:
    assert _valid(renew_long_term(rec, accidents, term_years=n).record)


@SETTINGS
@given(records(), accident_lists, classes)
def test_one_more_accident_never_helps(
    rec: GradeRecord, accidents: list[AccidentClass], extra: AccidentClass
) -> None:
    base = renew_one_year(rec, accidents).record
    more = renew_one_year(rec, [*accidents, extra]).record
    assert more.grade <= base.grade
    assert more.period >= base.period
    assert coefficient_percent(more) >= coefficient_percent(base)


@SETTINGS
@given(records(), accident_lists, terms, classes)
def test_one_more_accident_never_helps_long_term(
    rec: GradeRecord, accidents: list[AccidentClass], n: int, extra: AccidentClass
) -> None:
    base = renew_long_term(rec, accidents, term_years=n).record
    more = renew_long_term(rec, [*accidents, extra], term_years=n).record
    assert more.grade <= base.grade
    assert more.period >= base.period
    assert coefficient_percent(more) >= coefficient_percent(base)


@SETTINGS
@given(records(), st.lists(classes, min_size=1, max_size=6), st.data())
def test_heavier_class_never_helps(
    rec: GradeRecord, accidents: list[AccidentClass], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(accidents) - 1))
    if accidents[i] not in _WORSE:
        return
    worse = [*accidents]
    worse[i] = _WORSE[accidents[i]]
    base = renew_one_year(rec, accidents).record
    more = renew_one_year(rec, worse).record
    assert more.grade <= base.grade and more.period >= base.period


@SETTINGS
@given(records(), accident_lists, st.randoms(use_true_random=False), terms)
def test_order_of_accidents_does_not_matter(
    rec: GradeRecord, accidents: list[AccidentClass], rnd, n: int
) -> None:
    shuffled = [*accidents]
    rnd.shuffle(shuffled)
    assert renew_one_year(rec, accidents).record == renew_one_year(rec, shuffled).record
    assert (
        renew_long_term(rec, accidents, term_years=n).record
        == renew_long_term(rec, shuffled, term_years=n).record
    )


@SETTINGS
@given(records(), accident_lists)
def test_long_term_formula_with_one_year_equals_table_1(
    rec: GradeRecord, accidents: list[AccidentClass]
) -> None:
    # 002a L2357-2359 reduce to 002b 表1 when N = 1
    assert (
        renew_long_term(rec, accidents, term_years=1).record
        == renew_one_year(rec, accidents).record
    )


@SETTINGS
@given(records(), accident_lists)
def test_repeat_surcharge_only_at_grade_1_from_1(
    rec: GradeRecord, accidents: list[AccidentClass]
) -> None:
    out = renew_one_year(rec, accidents)
    if out.repeat_surcharge:
        assert rec.grade == 1 and out.record.grade == 1
        assert any(a is not AccidentClass.NO_COUNT for a in accidents)
