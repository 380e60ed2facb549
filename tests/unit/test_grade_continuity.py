"""7-day continuity, rescission and the interruption certificate (domain.grade_continuity)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.calendar import RuleError
from domain.grade import GradeMarker, GradeRecord, new_contract_record, renew_one_year
from domain.grade_continuity import (
    InterruptionReason,
    carry_over,
    certificate_request_deadline,
    interruption_certificate_eligibility,
    issue_interruption_certificate,
    last_continuous_start,
    overseas_earliest_interruption,
    record_from_certificate,
)
from domain.vocab import AccidentClass

R = InterruptionReason
END = date(2026, 4, 1)


def rec(grade: int, period: int = 0) -> GradeRecord:
    return GradeRecord.carried(grade, period)


# --- 7-day rule (004 L1264) ---------------------------------------------------------------


def test_last_continuous_start_is_day_7_after() -> None:
    # 004 L1264: 満期日または解約日の翌日から起算して7日以内
    assert last_continuous_start(END) == date(2026, 4, 8)


def test_grade_7_plus_carries_on_day_7() -> None:
    out = carry_over(rec(15, 0), previous_end=END, new_start=date(2026, 4, 8))
    assert out.carried and out.record == rec(15, 0)


def test_grade_7_plus_lost_on_day_8() -> None:
    out = carry_over(rec(15, 0), previous_end=END, new_start=date(2026, 4, 9))
    assert not out.carried
    assert out.record == new_contract_record(second_car=False)  # back to 6(S)
    assert "L1264" in out.rule_ref


def test_lost_grade_can_still_use_second_car_rule() -> None:
    out = carry_over(rec(12), previous_end=END, new_start=date(2026, 6, 1), second_car=True)
    assert out.record == GradeRecord(7, GradeMarker.S, 0)


def test_grade_7f_is_losable() -> None:
    assert not carry_over(rec(7), previous_end=END, new_start=date(2026, 5, 1)).carried  # 7等級以上


def test_grades_1_to_6_always_carry_with_period() -> None:
    # 004 L1264 restricts only grades of 7 or more
    for grade in range(1, 7):
        out = carry_over(rec(grade, 3), previous_end=END, new_start=date(2028, 1, 1))
        assert out.carried and out.record == rec(grade, 3)


def test_bad_grade_survives_rescission() -> None:
    out = carry_over(rec(3, 5), previous_end=END, new_start=date(2026, 4, 2), rescinded=True)
    assert out.carried and out.record == rec(3, 5)


def test_rescission_loses_grade_7_plus_even_without_gap() -> None:
    # 004 L1264 (更新前のご契約が解除された場合); 002b L5222
    out = carry_over(rec(18, 0), previous_end=END, new_start=END, rescinded=True)
    assert not out.carried and out.record.grade == 6
    assert "rescinded" in out.reason


def test_renewed_then_carried() -> None:
    # A with-accident record computed at renewal crosses a 3-day gap intact.
    nxt = renew_one_year(rec(16), [AccidentClass.THREE_DOWN]).record
    out = carry_over(nxt, previous_end=END, new_start=date(2026, 4, 4))
    assert out.record == rec(13, 3)


# --- interruption certificate (004 L1427-1437) --------------------------------------------


def _elig(**kw: object):
    facts: dict[str, object] = {
        "record": rec(15, 0),
        "reason": R.SCRAPPED,
        "interruption_date": END,
        "request_date": date(2026, 5, 1),
    }
    facts.update(kw)
    return interruption_certificate_eligibility(**facts)  # type: ignore[arg-type]


@pytest.mark.parametrize("reason", [r for r in R if r is not R.OVERSEAS])
def test_each_listed_reason_is_eligible(reason: InterruptionReason) -> None:
    # 004 L1433-1436: 廃車・譲渡・返還・一時抹消・盗難・入替, 車検切れ, 災害による滅失
    assert _elig(reason=reason).ok


def test_request_deadline_is_5_years() -> None:
    # 004 L1431: 中断日(解約日または満期日)から5年以内
    assert certificate_request_deadline(END) == date(2031, 4, 1)
    assert _elig(request_date=date(2031, 4, 1)).ok
    late = _elig(request_date=date(2031, 4, 2))
    assert not late.ok and any("5 years" in r for r in late.reasons)


def test_request_deadline_from_29_february() -> None:
    assert certificate_request_deadline(date(2028, 2, 29)) == date(2033, 2, 28)


def test_request_before_interruption_refused() -> None:
    assert not _elig(request_date=date(2026, 3, 31)).ok


def test_overseas_6_month_rule() -> None:
    # 004 L1437: 海外渡航した日の6か月前の日以降に、解約日または満期日がある場合
    departure = date(2026, 10, 1)
    assert overseas_earliest_interruption(departure) == END
    assert _elig(reason=R.OVERSEAS, departure_date=departure).ok
    too_early = _elig(reason=R.OVERSEAS, departure_date=date(2026, 10, 2))
    assert not too_early.ok and any("6 months" in r for r in too_early.reasons)


def test_overseas_ending_after_departure_is_eligible() -> None:
    assert _elig(reason=R.OVERSEAS, departure_date=date(2026, 1, 15)).ok


def test_overseas_needs_departure_date() -> None:
    assert not _elig(reason=R.OVERSEAS).ok


def test_certificate_not_for_grades_below_7() -> None:
    # they carry anyway (004 L1264)
    assert not _elig(record=rec(5, 2)).ok


def test_certificate_not_after_rescission() -> None:
    assert not _elig(rescinded=True).ok  # 004 L1264


def test_certificate_freezes_grade_and_period() -> None:
    # 004 L1429: the new contract after the interruption inherits 等級 and 事故有係数適用期間
    frozen = rec(14, 2)
    cert = issue_interruption_certificate(
        record=frozen, reason=R.TRANSFERRED, interruption_date=END, request_date=date(2026, 4, 10)
    )
    assert record_from_certificate(cert) == frozen  # years later, unchanged: no +1, no run-off


def test_certificate_for_7s_is_reused_as_7f() -> None:
    cert = issue_interruption_certificate(
        record=new_contract_record(second_car=True),
        reason=R.STOLEN,
        interruption_date=END,
        request_date=END,
    )
    assert record_from_certificate(cert).label == "7(F)"


def test_issue_refuses_ineligible() -> None:
    with pytest.raises(RuleError) as err:
        issue_interruption_certificate(
            record=rec(15), reason=R.SCRAPPED, interruption_date=END, request_date=date(2032, 1, 1)
        )
    assert err.value.code == "CERTIFICATE_NOT_ELIGIBLE"
