"""Coefficient table, markers, start grades and the second-car rule (domain.grade)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.calendar import RuleError
from domain.grade import (
    GradeMarker,
    GradeRecord,
    RateColumn,
    coefficient_percent,
    grade_factor,
    new_contract_record,
    rule_ref,
    second_car_eligibility,
)
from domain.vocab import Relationship

N = GradeMarker.NONE

# (grade, marker, no-accident %, with-accident %) — 001 L779-781, 002b L4419-4513 (表2).
TABLE = [
    (1, N, "108", "108"),
    (2, N, "63", "63"),
    (3, N, "38", "38"),
    (4, N, "7", "7"),
    (5, N, "-2", "-2"),  # 001 L780: 割引 2%
    (6, GradeMarker.F, "-13", "-13"),  # 001 L784: 6(F) one rate
    (7, GradeMarker.F, "-27", "-14"),
    (8, N, "-38", "-15"),
    (9, N, "-44", "-18"),
    (10, N, "-46", "-19"),
    (11, N, "-48", "-20"),
    (12, N, "-50", "-22"),
    (13, N, "-51", "-24"),
    (14, N, "-52", "-25"),
    (15, N, "-53", "-28"),
    (16, N, "-54", "-32"),
    (17, N, "-55", "-44"),
    (18, N, "-56", "-46"),
    (19, N, "-57", "-50"),
    (20, N, "-63", "-51"),
]


@pytest.mark.parametrize(("grade", "marker", "no_acc", "with_acc"), TABLE)
def test_coefficient_table_both_columns(
    grade: int, marker: GradeMarker, no_acc: str, with_acc: str
) -> None:
    # 001 L779-781; 002b L4419-4513; period 0 → no-accident, 1–6 → with-accident (001 L789)
    assert coefficient_percent(GradeRecord(grade, marker, 0)) == Decimal(no_acc)
    for period in range(1, 7):
        assert coefficient_percent(GradeRecord(grade, marker, period)) == Decimal(with_acc)


def test_no_accident_row_matches_tokio_table() -> None:
    # 004 L1261: 108 63 38 7 2 13 27 38 44 46 48 50 51 52 53 54 55 56 57 63 (surcharge 1–4, discount 5–20, L1262)
    printed = [108, 63, 38, 7, 2, 13, 27, 38, 44, 46, 48, 50, 51, 52, 53, 54, 55, 56, 57, 63]
    got = [abs(coefficient_percent(GradeRecord(g, m, 0))) for g, m, _, _ in TABLE]
    assert got == [Decimal(x) for x in printed]


def test_aioi_chart_points() -> None:
    # 002b L4517-4579 chart: 16 no-accident 54%, 20 no-accident 63%, 13/14/15 with-accident 24/25/28%
    assert coefficient_percent(GradeRecord.carried(16, 0)) == Decimal(-54)
    assert coefficient_percent(GradeRecord.carried(20, 0)) == Decimal(-63)
    assert [coefficient_percent(GradeRecord.carried(g, 1)) for g in (13, 14, 15)] == [
        Decimal(-24),
        Decimal(-25),
        Decimal(-28),
    ]


def test_new_contract_is_6s_plus_3_period_0() -> None:
    # 002b L4405-4406; 004 L1247, L1251; 001 L775, L780
    rec = new_contract_record(second_car=False)
    assert rec == GradeRecord(6, GradeMarker.S, 0)
    assert coefficient_percent(rec) == Decimal(3)
    assert grade_factor(rec) == Decimal("1.03")
    assert rec.label == "6(S)"


def test_second_car_is_7s_minus_38_period_0() -> None:
    # 002b L4408-4409; 004 L1248, L1251; 001 L780 (7(S) 割引 38%)
    rec = new_contract_record(second_car=True)
    assert rec == GradeRecord(7, GradeMarker.S, 0)
    assert coefficient_percent(rec) == Decimal(-38)
    assert grade_factor(rec) == Decimal("0.62")


def test_grade_factor_examples() -> None:
    assert grade_factor(GradeRecord.carried(20, 0)) == Decimal("0.37")  # 002b 表2, 20 無事故 63%
    assert grade_factor(GradeRecord.carried(1, 0)) == Decimal("2.08")  # 002b 表2, 1 割増 108%
    assert grade_factor(GradeRecord.carried(13, 3)) == Decimal("0.76")  # 002b 表2, 13 事故有 24%


def test_rule_ref_points_at_table() -> None:
    assert "002b L4419-4513" in rule_ref(GradeRecord.carried(12, 0))
    assert "L781" in rule_ref(GradeRecord.carried(12, 2))
    assert "L4405" in rule_ref(new_contract_record(second_car=False))


def test_rate_column() -> None:
    assert GradeRecord.carried(12, 0).rate_column is RateColumn.NO_ACCIDENT
    assert GradeRecord.carried(12, 1).rate_column is RateColumn.WITH_ACCIDENT


def test_carried_marks_6_and_7_as_f() -> None:
    # 002b L4234: a computed 6 or 7 is 6(F) / 7(F)
    assert GradeRecord.carried(6).marker is GradeMarker.F
    assert GradeRecord.carried(7, 2).label == "7(F)"
    assert GradeRecord.carried(8).marker is GradeMarker.NONE


@pytest.mark.parametrize(
    ("grade", "marker", "period"),
    [
        (0, N, 0),
        (21, N, 0),
        (10, N, -1),
        (10, N, 7),  # 001 L790: period cap 6
        (6, N, 0),
        (7, N, 0),
        (8, GradeMarker.F, 0),
        (5, GradeMarker.S, 0),
        (6, GradeMarker.S, 1),
    ],
)
def test_invalid_records_refused(grade: int, marker: GradeMarker, period: int) -> None:
    with pytest.raises(RuleError):
        GradeRecord(grade, marker, period)


def _second_car(**overrides: object):
    facts: dict[str, object] = {
        "first_car_grade": 11,
        "first_car_term_years": 1,
        "first_car_in_force_on_start": True,
        "first_car_private_eight": True,
        "new_car_private_eight": True,
        "new_car_has_previous_contract": False,
        "named_insured_is_individual": True,
        "named_insured_relationship": Relationship.SPOUSE,
        "owner_is_individual": True,
        "owner_is_first_car_owner": False,
        "owner_relationship": Relationship.COHABITING_RELATIVE,
    }
    facts.update(overrides)
    return second_car_eligibility(**facts)  # type: ignore[arg-type]


def test_second_car_all_conditions_hold() -> None:
    # 002b L4394-4412; SPEC §4.2; grade 11 is enough (11等級以上, L4411)
    assert _second_car().ok


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"first_car_grade": 10}, "below 11"),  # 002b L4411
        ({"first_car_in_force_on_start": False}, "in force"),  # 002b L4401
        ({"first_car_private_eight": False}, "8 private"),  # 002b L4394
        ({"new_car_private_eight": False}, "8 private"),  # 002b L4394
        ({"named_insured_is_individual": False}, "individual"),  # 002b L4395
        ({"named_insured_relationship": Relationship.OTHER}, "named insured"),  # 002b L4395
        (
            {"named_insured_relationship": Relationship.UNMARRIED_CHILD_APART},
            "named insured",
        ),  # 同居 only
        ({"owner_is_individual": False}, "owner"),  # 002b L4396
        ({"owner_relationship": Relationship.OTHER}, "owner"),  # 002b L4396-4397
        ({"new_car_has_previous_contract": True}, "previous contract"),  # 004 L1545
        ({"first_car_term_years": 3}, "longer than 1 year"),  # 002b L4399
    ],
)
def test_second_car_each_condition_refuses(override: dict[str, object], fragment: str) -> None:
    answer = _second_car(**override)
    assert not answer.ok
    assert any(fragment in r for r in answer.reasons)


def test_second_car_owner_same_as_first_owner_is_enough() -> None:
    # 002b L4396: the first car's owner (whoever that is) qualifies
    assert _second_car(owner_is_first_car_owner=True, owner_relationship=Relationship.OTHER).ok


def test_second_car_lists_every_failure() -> None:
    answer = _second_car(first_car_grade=5, new_car_private_eight=False)
    assert len(answer.reasons) == 2
