"""Long-term contracts: grade fixed for the term, renewal by the 002a formula (domain.grade)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import RuleError
from domain.grade import (
    GradeMarker,
    GradeRecord,
    long_term_years,
    record_for_policy_year,
    renew_long_term,
    renew_one_year,
)
from domain.vocab import AccidentClass

THREE = AccidentClass.THREE_DOWN
ONE = AccidentClass.ONE_DOWN
NC = AccidentClass.NO_COUNT


def rec(grade: int, period: int = 0) -> GradeRecord:
    return GradeRecord.carried(grade, period)


def _three_year_then_annual(first_year_accident: AccidentClass) -> list[tuple[int, int]]:
    """Years 1–6 of the 002a example: a 3-year contract at 13(0), then 1-year renewals."""
    term = rec(13, 0)
    years = [record_for_policy_year(term, policy_year=y, term_years=3) for y in (1, 2, 3)]
    r = renew_long_term(term, [first_year_accident], term_years=3).record
    years.append(r)
    for _ in range(2):
        r = renew_one_year(r, []).record
        years.append(r)
    return [(x.grade, x.period) for x in years]


def test_aioi_3_year_contract_one_3_down() -> None:
    # 002a L2383: 13(0)×3 years, then 12(2) 13(1) 14(0); label "3等級ダウン事故1件, 2年" L2380-2381
    assert _three_year_then_annual(THREE) == [(13, 0), (13, 0), (13, 0), (12, 2), (13, 1), (14, 0)]


def test_aioi_3_year_contract_one_1_down() -> None:
    # 002a L2383: 13(0)×3 years, then 14(0) 15(0) 16(0); label "1等級ダウン事故1件, なし" L2385-2386
    assert _three_year_then_annual(ONE) == [(13, 0), (13, 0), (13, 0), (14, 0), (15, 0), (16, 0)]


def test_aioi_1_year_contracts_via_formula_n_1() -> None:
    # 002a L2376: the 1-year rows 13 → 10(3) and 13 → 12(1); the formula with N=1 gives them too
    assert renew_long_term(rec(13), [THREE], term_years=1).record == rec(10, 3)
    assert renew_long_term(rec(13), [ONE], term_years=1).record == rec(12, 1)


def test_grade_fixed_for_whole_term() -> None:
    # 002a L2218, L2228: "3年間13等級（0年）"; L2303-2305: premium unchanged by an accident
    term = rec(13, 0)
    assert {record_for_policy_year(term, policy_year=y, term_years=3) for y in (1, 2, 3)} == {term}
    with pytest.raises(RuleError):
        record_for_policy_year(term, policy_year=4, term_years=3)


def test_claim_free_3_year_term_adds_3_grades() -> None:
    # 002a L2357: G + 〔N − 0 − 0〕 = 13 + 3
    assert renew_long_term(rec(13), [], term_years=3).record == rec(16, 0)


def test_claim_free_long_term_runs_off_the_period() -> None:
    # 002a L2359: 〔4 − 1.5〕 − 1.5 = 1
    assert renew_long_term(rec(10, 4), [], term_years=3).record == rec(13, 1)


def test_bracket_floors_at_zero() -> None:
    # 002a L2325: 〔3 − 2 − 2〕 → 0, grade 15 − 6 − 2 = 7 → 7(F) (L2327)
    out = renew_long_term(rec(15), [THREE, THREE, ONE, ONE], term_years=3).record
    # period 〔0 − 1.5〕→0 − 1.5 + 6 + 2 = 6.5 → 7 → capped at 6
    assert out == GradeRecord(7, GradeMarker.F, 6)


def test_period_rounds_up() -> None:
    # 002a L2326: 1.5 → 2 (worked example) and 0.5 → 1
    assert renew_long_term(rec(13, 0), [THREE], term_years=3).record.period == 2
    assert renew_long_term(rec(10, 0), [ONE], term_years=1).record.period == 1  # −0.5 + 1 = 0.5 → 1


def test_grade_unchanged_accidents_only_inside_bracket() -> None:
    # 002a L2356-2357: k1s (1-down or 等級すえおき) sits inside the bracket only
    out = renew_long_term(rec(13), [], term_years=3, grade_unchanged_accidents=1).record
    assert out == rec(15, 0)


def test_result_6_or_7_is_f() -> None:
    out = renew_long_term(rec(8), [THREE], term_years=2).record  # 8 + 1 − 3 = 6 → 6(F), 002a L2327
    assert out.label == "6(F)"


def test_long_term_clamps() -> None:
    assert renew_long_term(rec(19), [], term_years=5).record == rec(20, 0)  # 002a L2330
    assert renew_long_term(rec(2), [THREE, THREE], term_years=3).record.grade == 1


def test_long_term_repeat_surcharge() -> None:
    # 002b L4421-4427 applies to any renewal at grade 1 (継続契約に1等級が適用され)
    out = renew_long_term(rec(1, 2), [THREE], term_years=3)
    assert out.record.grade == 1 and out.repeat_surcharge


def test_long_term_years_full_term() -> None:
    assert long_term_years(start=date(2025, 1, 1), full_term_years=3) == 3


def test_long_term_years_after_cancellation_truncates() -> None:
    # 002a L2323: whole years elapsed up to the cancellation, fractions dropped
    assert (
        long_term_years(start=date(2025, 1, 1), full_term_years=3, cancelled_on=date(2027, 6, 30))
        == 2
    )
    assert (
        long_term_years(start=date(2025, 1, 1), full_term_years=3, cancelled_on=date(2027, 1, 1))
        == 2
    )


def test_long_term_years_one_year_or_less_is_not_given() -> None:
    # 002a L2323-2324: ≤ 1 year elapsed → a different handling the pamphlet does not describe
    with pytest.raises(RuleError) as err:
        long_term_years(start=date(2025, 1, 1), full_term_years=3, cancelled_on=date(2026, 12, 31))
    assert err.value.code == "GRADE_RULE_NOT_GIVEN"


def test_long_term_years_refuses_one_year_term() -> None:
    with pytest.raises(RuleError):
        long_term_years(start=date(2025, 1, 1), full_term_years=1)


def test_steps_show_formula() -> None:
    steps = "\n".join(renew_long_term(rec(13), [THREE], term_years=3).steps)
    assert "〔3 − 1 − 0〕→2" in steps
    assert "rounded up to 2" in steps
