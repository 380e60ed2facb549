"""1-year renewal movement and the grade-1 repeat surcharge (domain.grade)."""

from __future__ import annotations

import pytest

from domain.grade import (
    GradeMarker,
    GradeRecord,
    new_contract_record,
    renew,
    renew_one_year,
    repeat_surcharge_applies,
)
from domain.vocab import AccidentClass

THREE = AccidentClass.THREE_DOWN
ONE = AccidentClass.ONE_DOWN
NC = AccidentClass.NO_COUNT


def rec(grade: int, period: int = 0) -> GradeRecord:
    return GradeRecord.carried(grade, period)


def after(grade: int, period: int, *accidents: AccidentClass) -> tuple[int, int]:
    out = renew_one_year(rec(grade, period), accidents).record
    return out.grade, out.period


# --- 002b 表1 printed examples -----------------------------------------------------------


def test_16_to_13_with_one_3_down() -> None:
    assert after(16, 0, THREE)[0] == 13  # 002b L4289-4295


def test_16_to_15_with_one_1_down() -> None:
    assert after(16, 0, ONE)[0] == 15  # 002b L4248-4252


def test_16_to_17_without_accident() -> None:
    assert after(16, 0)[0] == 17  # 002b L4303-4309


def test_period_0_to_3_with_3_down() -> None:
    assert after(16, 0, THREE)[1] == 3  # 002b L4326-4332


def test_period_3_to_5_with_3_down() -> None:
    assert after(16, 3, THREE)[1] == 5  # 002b L4351-4357


def test_period_0_to_1_with_1_down() -> None:
    assert after(16, 0, ONE)[1] == 1  # 002b L4258-4264


def test_period_3_to_3_with_1_down() -> None:
    assert after(16, 3, ONE)[1] == 3  # 002b L4270-4276


def test_period_0_stays_0_without_accident() -> None:
    assert after(16, 0)[1] == 0  # 002b L4338-4344


def test_period_3_to_2_without_accident() -> None:
    assert after(16, 3)[1] == 2  # 002b L4363-4369


def test_aioi_chart_16_three_down_back_in_4_years() -> None:
    # 002b L4517-4579: 16 → 13 (24%) → 14 (25%) → 15 (28%) → 16 no-accident in the 4th year
    r = renew_one_year(rec(16), [THREE]).record
    seen = [r]
    for _ in range(3):
        r = renew_one_year(r, []).record
        seen.append(r)
    assert [(x.grade, x.period) for x in seen] == [(13, 3), (14, 2), (15, 1), (16, 0)]


def test_aioi_chart_16_reaches_20_in_4_years_without_accident() -> None:
    r = rec(16)  # 002b L4517-4579: 無事故なら4年後に20等級へ
    for _ in range(4):
        r = renew_one_year(r, []).record
    assert (r.grade, r.period) == (20, 0)


# --- 002a worked examples, 1-year contracts (002a L2376, L2380-2392) -----------------------


def test_aioi_1_year_contracts_one_3_down() -> None:
    # 002a L2376: 13(0) 10(3) 11(2) 12(1) 13(0) 14(0); label "3等級ダウン事故1件, 3年" L2391-2392
    r = renew_one_year(rec(13), [THREE]).record
    got = [(13, 0), (r.grade, r.period)]
    for _ in range(4):
        r = renew_one_year(r, []).record
        got.append((r.grade, r.period))
    assert got == [(13, 0), (10, 3), (11, 2), (12, 1), (13, 0), (14, 0)]


def test_aioi_1_year_contracts_one_1_down() -> None:
    # 002a L2376: 13(0) 12(1) 13(0) 14(0) 15(0) 16(0); label "1等級ダウン事故1件, 1年" L2388-2389
    r = renew_one_year(rec(13), [ONE]).record
    got = [(13, 0), (r.grade, r.period)]
    for _ in range(4):
        r = renew_one_year(r, []).record
        got.append((r.grade, r.period))
    assert got == [(13, 0), (12, 1), (13, 0), (14, 0), (15, 0), (16, 0)]


# --- rakuten (001) -----------------------------------------------------------------------


def test_rakuten_17_claim_free_to_18() -> None:
    assert after(17, 0) == (18, 0)  # 001 L775


def test_rakuten_three_accidents_minus_9() -> None:
    assert after(15, 0, THREE, THREE, THREE)[0] == 6  # 001 rule 30 (L775, L779): 3 accidents → −9


def test_new_contract_6s_renews_to_7f() -> None:
    # 001 L775: one claim-free year → +1; 002b L4234: a renewed 7 is 7(F) (−27%)
    out = renew_one_year(new_contract_record(second_car=False), []).record
    assert out == GradeRecord(7, GradeMarker.F, 0)


def test_second_car_7s_renews_to_8() -> None:
    assert renew_one_year(new_contract_record(second_car=True), []).record == rec(8)


def test_renewed_6_is_6f() -> None:
    out = renew_one_year(rec(9), [THREE]).record  # 002b L4234
    assert out == GradeRecord(6, GradeMarker.F, 3)


# --- several accidents, no-count, clamps -------------------------------------------------


def test_mixed_accidents_add_up() -> None:
    # 004 L1593-1595: per accident −3/+3 and −1/+1; L1600: period first drops by 1
    assert after(16, 2, THREE, ONE, NC) == (12, 5)


def test_no_count_only_is_plus_one() -> None:
    assert after(10, 0, NC, NC) == (11, 0)  # 004 L1594: +1 grade, +0 years if no other accident
    assert after(10, 4, NC) == (11, 3)  # 004 L1600


def test_no_count_next_to_counted_adds_nothing() -> None:
    assert after(10, 0, ONE, NC) == after(10, 0, ONE)  # 004 L1594 "他の事故がない場合"


def test_clamp_grade_floor_1() -> None:
    assert after(2, 0, THREE) == (1, 3)  # 002a L2330: lower limit 1


def test_clamp_grade_ceiling_20() -> None:
    assert after(20, 0) == (20, 0)  # 002a L2330: upper limit 20


def test_clamp_period_cap_6() -> None:
    assert after(16, 5, THREE, THREE) == (10, 6)  # 001 L790; 002a L2330


def test_steps_explain_each_move() -> None:
    out = renew_one_year(rec(16, 3), [THREE])
    text = "\n".join(out.steps)
    assert "period 3 → 2" in text
    assert "16 − 3×1" in text
    assert out.three_down == 1 and out.one_down == 0 and out.no_count == 0


def test_renew_dispatches_on_term() -> None:
    assert renew(rec(13), [THREE], term_years=1).record == rec(10, 3)
    assert renew(rec(13), [THREE], term_years=3).record == rec(12, 2)


# --- grade-1 repeat surcharge (002b L4421-4427) ------------------------------------------


def test_repeat_surcharge_grade_1_to_1_with_counted_accident() -> None:
    out = renew_one_year(rec(1, 3), [ONE])  # 002b L4421-4426 ①②
    assert out.record.grade == 1
    assert out.repeat_surcharge


def test_no_repeat_surcharge_when_expiring_grade_was_not_1() -> None:
    out = renew_one_year(rec(3, 0), [THREE])  # 002b L4424 ①: expiring grade must be 1
    assert out.record.grade == 1
    assert not out.repeat_surcharge


def test_no_repeat_surcharge_when_leaving_grade_1() -> None:
    out = renew_one_year(rec(1, 2), [], previously_surcharged=True)  # L4421: renewal must be at 1
    assert out.record.grade == 2
    assert not out.repeat_surcharge


def test_no_repeat_surcharge_with_only_no_count() -> None:
    assert not renew_one_year(rec(1), [NC]).repeat_surcharge  # L4425: 3-down or 1-down only


def test_repeat_surcharge_never_for_rental_or_school_cars() -> None:
    out = renew_one_year(rec(1, 3), [THREE], rental_or_driving_school=True)
    assert not out.repeat_surcharge  # 002b L4423


@pytest.mark.parametrize(
    ("prev", "new", "counted", "already", "expected"),
    [
        (1, 1, 1, False, True),
        (1, 1, 0, True, True),  # ② second branch: the expiring contract already carried it
        (1, 1, 0, False, False),
        (2, 1, 1, False, False),
        (1, 2, 0, True, False),
    ],
)
def test_repeat_surcharge_rule(
    prev: int, new: int, counted: int, already: bool, expected: bool
) -> None:
    got = repeat_surcharge_applies(
        previous_grade=prev,
        renewal_grade=new,
        counted_accidents=counted,
        previously_surcharged=already,
    )
    assert got.ok is expected
