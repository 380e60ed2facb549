"""Grade impact of a claim (classes, precedence, override, withdrawal) and the advisor."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.calendar import RuleError
from domain.claims.advisor import Advice, claim_impact
from domain.claims.impact import GradeOverride, claim_grade_impact, grade_coverage
from domain.claims.workflow import ActorRole
from domain.grade import GradeMarker, GradeRecord
from domain.grade_accidents import Coverage, NoFault, VehicleCause
from domain.vocab import AccidentClass
from tests.unit.test_rating_support import AIOI, KYOSAI, RAKUTEN, TOKIO, base_quote, product

THREE, ONE, ZERO = AccidentClass.THREE_DOWN, AccidentClass.ONE_DOWN, AccidentClass.NO_COUNT


# ------------------------------------------------------------------ grade impact


def test_product_codes_map_to_grade_vocabulary() -> None:
    assert grade_coverage("PIP") is Coverage.PI
    assert grade_coverage("ROAD_RENTAL_PACKAGE") is Coverage.ROAD_SERVICE
    assert grade_coverage("SOMETHING_NEW") is Coverage.OTHER       # unknown → counted, never free


@pytest.mark.parametrize(
    ("pid", "paid", "cause", "expected"),
    [
        (TOKIO, ["BI", "PD"], None, THREE),                            # 004 L1595
        (TOKIO, ["VEHICLE"], VehicleCause.COLLISION, THREE),           # 004 L1593, L1595
        (TOKIO, ["VEHICLE"], VehicleCause.THEFT, ONE),                 # 004 L1593 ①
        (TOKIO, ["PI", "ROAD_RENTAL_PACKAGE"], None, ZERO),            # 004 L1594
        (RAKUTEN, ["PIP", "PASSENGER"], None, ZERO),                   # 004 L1594 (PI, passenger)
        (RAKUTEN, ["ROAD_ASSISTANCE"], None, ZERO),                    # 001 L1070
        (AIOI, ["VEHICLE", "PI"], VehicleCause.STORM_FLOOD, ONE),      # 1-down with no-count: 1-down
        (AIOI, ["PD", "VEHICLE"], VehicleCause.FLYING_FALLING_OBJECT, THREE),   # 002b L4833-4835
    ],
)
def test_claim_classes_with_precedence(pid: str, paid: list[str], cause: VehicleCause | None,
                                       expected: AccidentClass) -> None:
    impact = claim_grade_impact(product(pid), paid, vehicle_cause=cause)
    assert impact.accident_class is expected
    assert not impact.overridden


def test_no_fault_rider_makes_a_vehicle_claim_no_count() -> None:
    # 004 L999-1001; 001 L496: no-fault car-to-car, other side identified
    impact = claim_grade_impact(product(TOKIO), ["VEHICLE"], vehicle_cause=VehicleCause.COLLISION,
                                no_fault=NoFault.NO_FAULT_COLLISION)
    assert impact.accident_class is ZERO and not impact.counts


def test_withdrawn_claim_does_not_count() -> None:
    impact = claim_grade_impact(product(TOKIO), ["BI"], withdrawn=True,
                                override=GradeOverride(THREE, "ignored", ActorRole.STAFF))
    assert impact.accident_class is None and not impact.counts


def test_staff_override_needs_a_reason_and_staff() -> None:
    ov = GradeOverride(ONE, "hail damage misfiled as a collision", ActorRole.STAFF)
    impact = claim_grade_impact(product(TOKIO), ["VEHICLE"], vehicle_cause=VehicleCause.COLLISION, override=ov)
    assert impact.accident_class is ONE and impact.overridden
    assert impact.computed is not None and impact.computed.accident_class is THREE
    with pytest.raises(RuleError) as e:
        claim_grade_impact(product(TOKIO), ["BI"], override=GradeOverride(ZERO, " ", ActorRole.STAFF))
    assert e.value.code == "REASON_REQUIRED"
    with pytest.raises(RuleError) as e:
        claim_grade_impact(product(TOKIO), ["BI"], override=GradeOverride(ZERO, "x", ActorRole.POLICYHOLDER))
    assert e.value.code == "ACTION_NOT_ALLOWED"


def test_kyosai_has_no_grade_impact() -> None:
    impact = claim_grade_impact(product(KYOSAI), ["ACCIDENT_EXPENSE"])
    assert impact.accident_class is None and impact.computed is None


# ------------------------------------------------------------------ advisor


def _next_quote(grade: int = 16):  # type: ignore[no-untyped-def]
    return base_quote(RAKUTEN, grade=GradeRecord(grade, GradeMarker.NONE, 0))


def test_advisor_three_down_from_16() -> None:
    # 002b L4289-4295, L4326-4332, L4517-4579: 16 → 13 (period 3) → 14 (2) → 15 (1)
    current = GradeRecord(16, GradeMarker.NONE, 0)
    out = claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE, terms=3)
    assert [(t.with_claim.record.grade, t.with_claim.record.period) for t in out.terms] == [(13, 3), (14, 2), (15, 1)]
    assert [(t.without_claim.record.grade, t.without_claim.record.period) for t in out.terms] == [(17, 0), (18, 0), (19, 0)]
    assert all(t.difference > 0 for t in out.terms)
    assert out.extra_premium == out.break_even == sum(t.difference for t in out.terms)
    assert [t.start_date.year for t in out.terms] == [2026, 2027, 2028]
    for t in out.terms:     # the explanation of each term re-adds to its premium
        assert t.with_claim.explanation.total() == t.with_claim.premium
        assert any("3-down" in s or "3×1" in s for s in out.terms[0].with_claim.grade_steps)
    assert claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE,
                        expected_payout=out.extra_premium + 1).advice is Advice.CLAIM
    assert claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE,
                        expected_payout=out.extra_premium).advice is Advice.PAY_YOURSELF
    assert out.advice is Advice.UNKNOWN


def test_advisor_one_down_costs_less_than_three_down() -> None:
    current = GradeRecord(16, GradeMarker.NONE, 0)
    one = claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=ONE, terms=6)
    three = claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE, terms=6)
    assert one.terms[0].with_claim.record.grade == 15          # 002b L4248-4252
    assert len(one.terms) == 6
    assert 0 < one.extra_premium < three.extra_premium


def test_advisor_no_count_changes_nothing() -> None:
    current = GradeRecord(16, GradeMarker.NONE, 0)
    out = claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=ZERO,
                       expected_payout=10_000)
    assert out.extra_premium == 0 and out.advice is Advice.NO_DIFFERENCE


def test_advisor_loses_the_rakuten_no_accident_discount_after_a_claim() -> None:
    # 001 L722: the 5% no-accident discount needs a previous term without counted accidents
    current = GradeRecord(16, GradeMarker.NONE, 0)
    out = claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE)
    first = out.terms[0]
    without = {s.factor for s in first.without_claim.explanation.steps}
    with_claim = {s.factor for s in first.with_claim.explanation.steps}
    assert "NO_ACCIDENT" in without and "NO_ACCIDENT" not in with_claim
    assert "NO_ACCIDENT" in {s.factor for s in out.terms[1].with_claim.explanation.steps}


def test_advisor_input_errors() -> None:
    current = GradeRecord(16, GradeMarker.NONE, 0)
    for bad in (2, 7):
        with pytest.raises(RuleError) as e:
            claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE, terms=bad)
        assert e.value.code == "INVALID_TERM_COUNT"
    with pytest.raises(RuleError) as e:
        claim_impact(product(KYOSAI), base_quote(KYOSAI), current=current, claim_class=THREE)
    assert e.value.code == "PRODUCT_NOT_GRADED"
    with pytest.raises(RuleError):
        claim_impact(product(RAKUTEN), _next_quote(), current=current, claim_class=THREE, expected_payout=-1)


def test_advisor_other_accidents_of_the_term_are_on_both_paths() -> None:
    current = GradeRecord(16, GradeMarker.NONE, 0)
    out = claim_impact(product(AIOI), replace(base_quote(AIOI), grade=current), current=current,
                       claim_class=THREE, other_accidents=[ONE])
    assert out.terms[0].without_claim.record.grade == 15
    assert out.terms[0].with_claim.record.grade == 12
