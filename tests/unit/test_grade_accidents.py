"""Classifying one accident as 3-down / 1-down / no-count (domain.grade_accidents)."""

from __future__ import annotations

import pytest

from domain.calendar import RuleError
from domain.grade_accidents import (
    DEFAULT_NO_COUNT,
    ONE_DOWN_CAUSES,
    Coverage,
    NoFault,
    VehicleCause,
    classify_accident,
    counted_classes,
    heavier,
)
from domain.vocab import AccidentClass

THREE = AccidentClass.THREE_DOWN
ONE = AccidentClass.ONE_DOWN
NC = AccidentClass.NO_COUNT
C = Coverage
V = VehicleCause


def cls(*paid: Coverage, **kw: object) -> AccidentClass | None:
    return classify_accident(paid, **kw).accident_class  # type: ignore[arg-type]


def test_liability_is_3_down() -> None:
    assert cls(C.BI) is THREE  # 004 L1595: neither 1-down nor no-count
    assert cls(C.PD) is THREE
    assert cls(C.BI, C.PD, C.PI) is THREE  # 002b L4834: 3-down + no-count → 3-down


def test_vehicle_collision_is_3_down() -> None:
    assert cls(C.VEHICLE, vehicle_cause=V.COLLISION) is THREE  # 004 L1593 *13, L1595


def test_vehicle_fire_theft_flying_object_are_1_down() -> None:
    # 002b L4839-4840: fire / theft / flying or falling object, vehicle-only payment
    for cause in (V.FIRE_EXPLOSION, V.THEFT, V.FLYING_FALLING_OBJECT):
        assert cls(C.VEHICLE, vehicle_cause=cause) is ONE


@pytest.mark.parametrize("cause", sorted(ONE_DOWN_CAUSES, key=lambda c: c.value))
def test_every_tokio_1_down_cause(cause: VehicleCause) -> None:
    # 004 L1593 ①: fire, explosion, window, theft, riot, typhoon/flood, graffiti, flying object, other
    assert cls(C.VEHICLE, vehicle_cause=cause) is ONE


def test_one_down_with_no_count_stays_1_down() -> None:
    # 004 L1593 ③; 002b L4835
    assert cls(C.VEHICLE, C.ROAD_SERVICE, C.RENTAL_CAR, vehicle_cause=V.STORM_FLOOD) is ONE


def test_one_down_with_3_down_is_3_down() -> None:
    # 002b L4834: 3-down + 1-down → 3-down (e.g. theft then the thief hits someone)
    assert cls(C.VEHICLE, C.PD, vehicle_cause=V.THEFT) is THREE


@pytest.mark.parametrize("cov", sorted(DEFAULT_NO_COUNT, key=lambda c: c.value))
def test_each_no_count_coverage_alone(cov: Coverage) -> None:
    # 004 L1594; 002b L4761-4810
    assert cls(cov) is NC


def test_no_count_combinations_stay_no_count() -> None:
    assert cls(C.PI, C.PASSENGER, C.LAWYER, C.ROAD_SERVICE) is NC  # 002b L4835: NC + NC → NC


def test_road_service_does_not_affect_grade() -> None:
    assert cls(C.ROAD_SERVICE) is NC  # 001 L1070


def test_belongings_follow_vehicle_cause() -> None:
    # 004 L1593 ①: 車両事故(車内携行品補償特約にかかわる事故を含みます)
    assert cls(C.BELONGINGS, vehicle_cause=V.THEFT) is ONE
    assert cls(C.BELONGINGS, vehicle_cause=V.COLLISION) is THREE


def test_product_can_make_belongings_no_count() -> None:
    # 002b L4807: aioi's 車内外身の回り品特約 is no-count
    assert (
        cls(C.BELONGINGS, vehicle_cause=V.THEFT, no_count=DEFAULT_NO_COUNT | {C.BELONGINGS}) is NC
    )


def test_other_car_rider_flying_object_is_1_down() -> None:
    assert cls(C.OTHER_CAR_VEHICLE, vehicle_cause=V.FLYING_FALLING_OBJECT) is ONE  # 004 L1593 ②
    assert cls(C.OTHER_CAR_VEHICLE, vehicle_cause=V.COLLISION) is THREE  # 004 L1595


def test_breakdown_rider_is_1_down() -> None:
    assert cls(C.BREAKDOWN) is ONE  # 004 L1593 ① *15
    assert cls(C.BREAKDOWN, C.ROAD_SERVICE) is ONE  # 004 L1593 ③


def test_no_fault_collision_vehicle_is_no_count() -> None:
    # 001 L496-500; 002b L3415-3417; 004 L1001
    assert cls(C.VEHICLE, vehicle_cause=V.COLLISION, no_fault=NoFault.NO_FAULT_COLLISION) is NC


def test_no_fault_collision_with_new_car_rider_is_3_down() -> None:
    # 001 L509: the new-car replacement rider paying makes it a 3-down accident
    assert (
        cls(
            C.VEHICLE,
            C.VEHICLE_NEW_CAR,
            vehicle_cause=V.COLLISION,
            no_fault=NoFault.NO_FAULT_COLLISION,
        )
        is THREE
    )


def test_no_fault_rider_also_covers_liability_payments() -> None:
    # 004 L999-1001: 車両保険金、対人賠償保険金または対物賠償保険金を支払う場合
    assert cls(C.BI, C.PD, no_fault=NoFault.NO_FAULT_COLLISION) is NC


def test_automated_driving_is_no_count_except_1_down() -> None:
    # 004 L1002: 自動運転中に生じた偶然な事故(1等級ダウン事故を除きます)
    assert cls(C.VEHICLE, vehicle_cause=V.COLLISION, no_fault=NoFault.AUTOMATED_DRIVING) is NC
    assert (
        cls(C.VEHICLE, vehicle_cause=V.FLYING_FALLING_OBJECT, no_fault=NoFault.AUTOMATED_DRIVING)
        is ONE
    )


def test_victim_relief_with_pd_riders_is_no_count() -> None:
    # 002b L4903-4904; 004 L1595 *17 (victim relief can trigger the excess-repair rider)
    assert cls(C.VICTIM_RELIEF, C.PD_EXCESS_REPAIR) is NC
    assert cls(C.PD_EXCESS_REPAIR) is THREE  # without victim relief it is an 対物 payment
    assert cls(C.VICTIM_RELIEF, C.PD_EXCESS_REPAIR, C.PD) is THREE


def test_unlisted_coverage_is_3_down() -> None:
    assert cls(C.OTHER) is THREE  # 004 L1595; 002b L4838


def test_withdrawn_claim_is_not_counted() -> None:
    out = classify_accident([C.BI, C.PD], withdrawn=True)
    assert out.accident_class is None
    assert "withdrawn" in out.reason


def test_nothing_paid_is_not_an_accident() -> None:
    assert cls() is None  # 002b L4837: 保険金をお支払いする事故


def test_vehicle_cause_required() -> None:
    with pytest.raises(RuleError) as err:
        classify_accident([C.VEHICLE])
    assert err.value.code == "VEHICLE_CAUSE_REQUIRED"


def test_reason_names_the_decisive_coverage() -> None:
    out = classify_accident([C.PI, C.VEHICLE], vehicle_cause=V.THEFT)
    assert out.accident_class is ONE
    assert "VEHICLE" in out.reason and "L4833" in out.reason
    assert {p[0] for p in out.per_coverage} == {C.PI, C.VEHICLE}


def test_heavier_precedence() -> None:
    # 002b L4833-4835
    assert heavier(THREE, NC) is THREE
    assert heavier(THREE, ONE) is THREE
    assert heavier(ONE, NC) is ONE
    assert heavier(NC, NC) is NC


def test_counted_classes_drops_withdrawn() -> None:
    got = counted_classes(
        [
            classify_accident([C.BI]),
            classify_accident([C.BI], withdrawn=True),
            classify_accident([C.PI]),
        ]
    )
    assert got == (THREE, NC)


def test_coverage_codes_are_strings() -> None:
    assert cls("BI") is THREE  # type: ignore[arg-type]
    assert C("ROAD_SERVICE") is C.ROAD_SERVICE
