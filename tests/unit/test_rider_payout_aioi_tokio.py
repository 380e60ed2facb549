"""aioi (002) and tokio (004) riders on the one pay-out engine: each rule, each cap at its edge, and
who may attach the rider. Every test names the pamphlet line of what it checks; the amounts come
from domain/products/*.toml (docs/rider_rules.md, docs/riders.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from domain.calendar import YearMonth
from domain.claims.impact import claim_grade_impact
from domain.claims.rider_payout import (
    Assessment,
    LossFacts,
    PayoutContext,
    StepKind,
    assess,
    product_rules,
    rule_of,
)
from domain.grade_accidents import NoFault, VehicleCause
from domain.products.model import Product
from domain.products.payout import BrokenPart, InjuryClass, LossCause, Outcome
from domain.rating import CoverageChoice, NamedInsured, RatingError, rate
from domain.vocab import AgeCondition, UseType
from domain.windows import WindowKind, liability_set
from tests.unit.test_rating_support import (
    AIOI,
    TOKIO,
    base_quote,
    product,
    with_facts,
    with_vehicle,
)

ACCIDENT = date(2026, 6, 10)
C = LossCause
O = Outcome


def ctx_for(p: Product, **kw: Any) -> PayoutContext:
    codes = frozenset({c.code for c in p.coverages} | {r.code for r in p.riders})
    base: dict[str, Any] = {"accident_date": ACCIDENT, "held": codes, "paying": codes, "rules": product_rules(p)}
    base.update(kw)
    return PayoutContext(**base)


def explained(line: str, facts: LossFacts, pid: str, **kw: Any) -> Assessment:
    p = product(pid)
    return assess(line, rule_of(p, line), facts, ctx_for(p, **kw))


def aioi(line: str, facts: LossFacts, **kw: Any) -> int:
    return explained(line, facts, AIOI, **kw).payable


def tokio(line: str, facts: LossFacts, **kw: Any) -> int:
    return explained(line, facts, TOKIO, **kw).payable


# ================================================================== aioi (002)

# 002 L2809-2810: PD capped at ¥1,000,000,000 for hazardous cargo / aircraft even when unlimited
@pytest.mark.parametrize(("loss", "paid"), [(999_999_999, 999_999_999), (1_000_000_000, 1_000_000_000),
                                            (1_000_000_001, 1_000_000_000)])
def test_aioi_pd_hazardous_cargo_cap(loss: int, paid: int) -> None:
    assert aioi("PD", LossFacts(loss_yen=loss, cause=C.HAZARDOUS_CARGO), unlimited=True) == paid
    assert aioi("PD", LossFacts(loss_yen=loss, cause=C.AIRCRAFT), unlimited=True) == paid
    assert aioi("PD", LossFacts(loss_yen=1_500_000_000), unlimited=True) == 1_500_000_000


# 002 L2812-2814: the chosen PD sum insured, and a corporate deductible, apply
def test_aioi_pd_sum_insured_and_deductible() -> None:
    assert aioi("PD", LossFacts(loss_yen=30_000_001), sum_insured=30_000_000) == 30_000_000
    assert aioi("PD", LossFacts(loss_yen=200_000), unlimited=True, line_deductible=50_000) == 150_000


# 002 L2764-2765: ¥200,000 per deceased victim
def test_aioi_bi_temporary_expense() -> None:
    assert aioi("TEMPORARY_BI_EXPENSE", LossFacts(outcome=O.DEATH)) == 200_000
    assert aioi("TEMPORARY_BI_EXPENSE", LossFacts(outcome=O.INJURY)) == 0


# 002 L2701-2710: the victim's PI-standard loss less 自賠責 and BI; death or hospital only
def test_aioi_pedestrian_injury() -> None:
    assert aioi("PEDESTRIAN_INJURY", LossFacts(loss_yen=10_000_000, paid_by_others_yen=8_000_000, outcome=O.DEATH),
                unlimited=True) == 2_000_000
    assert aioi("PEDESTRIAN_INJURY", LossFacts(loss_yen=10_000_000, paid_by_others_yen=8_000_000,
                                               outcome=O.INJURY, outpatient_only=False), unlimited=True) == 2_000_000
    # 注1 L2704: outpatient-only treatment is not paid
    assert aioi("PEDESTRIAN_INJURY", LossFacts(loss_yen=500_000, outcome=O.INJURY, outpatient_only=True),
                unlimited=True) == 0
    # 注3 L2710: the BI limit per injured person (a finite one caps)
    assert aioi("PEDESTRIAN_INJURY", LossFacts(loss_yen=5_000_001, outcome=O.DEATH), sum_insured=5_000_000) == 5_000_000


# 002 L2891-2909, L2712-2714: victim relief with no liability; property capped at the PD sum insured
def test_aioi_victim_relief() -> None:
    hack = LossFacts(loss_yen=40_000_000, cause=C.DEFECT_OR_HACKING, liable=False)
    assert aioi("VICTIM_RELIEF_HACKING", hack, sum_insured=30_000_000) == 30_000_000
    assert aioi("VICTIM_RELIEF_HACKING", LossFacts(loss_yen=30_000_000, cause=C.DEFECT_OR_HACKING, liable=False),
                sum_insured=30_000_000) == 30_000_000
    hurt = LossFacts(loss_yen=40_000_000, cause=C.DEFECT_OR_HACKING, liable=False, outcome=O.INJURY)
    assert aioi("VICTIM_RELIEF_HACKING", hurt, sum_insured=30_000_000) == 40_000_000    # BI unlimited
    assert aioi("VICTIM_RELIEF_HACKING", LossFacts(loss_yen=1, cause=C.DEFECT_OR_HACKING, liable=True)) == 0
    incap = LossFacts(loss_yen=1_000_000, cause=C.DRIVER_INCAPACITY, liable=False)
    assert aioi("VICTIM_RELIEF_INCAPACITY", incap, unlimited=True) == 1_000_000
    assert aioi("VICTIM_RELIEF_INCAPACITY", LossFacts(loss_yen=1_000_000, cause=C.DEFECT_OR_HACKING, liable=False),
                unlimited=True) == 0


# 002 L2851-2853: ≤ ¥20,000 per victim; death or ≥ 3 hospital days; ≥ 100 km
@pytest.mark.parametrize(("facts", "paid"), [
    (LossFacts(loss_yen=20_000, outcome=O.DEATH, distance_km=100), 20_000),
    (LossFacts(loss_yen=20_001, outcome=O.DEATH, distance_km=100), 20_000),
    (LossFacts(loss_yen=15_000, outcome=O.DEATH, distance_km=99), 0),
    (LossFacts(loss_yen=15_000, outcome=O.INJURY, days=3, distance_km=150), 15_000),
    (LossFacts(loss_yen=15_000, outcome=O.INJURY, days=2, distance_km=150), 0),
])
def test_aioi_remote_victim_expense(facts: LossFacts, paid: int) -> None:
    assert aioi("REMOTE_VICTIM_EXPENSE", facts) == paid


# 002 L4120-4122, L4149-4151: the late-filing liability sets name 遠隔地被害者臨時費用特約
def test_aioi_liability_sets_name_the_remote_victim_rider() -> None:
    p = product(AIOI)
    for kind in (WindowKind.VEHICLE_SWAP, WindowKind.DRIVER_CHANGE):
        codes = liability_set(p, kind)
        assert "REMOTE_VICTIM_EXPENSE" in codes
        assert all(p.rider(c) is not None or p.coverage(c) is not None for c in codes)


# 002 L3344-3345: 10% of the vehicle SI, at least ¥100,000, at most ¥200,000
@pytest.mark.parametrize(("si", "paid"), [(500_000, 100_000), (1_000_000, 100_000), (1_000_010, 100_001),
                                          (1_999_990, 199_999), (2_000_000, 200_000), (5_000_000, 200_000)])
def test_aioi_total_loss_expense_clamped(si: int, paid: int) -> None:
    assert aioi("TOTAL_LOSS_EXPENSE", LossFacts(total_loss=True), sum_insured=si) == paid
    assert aioi("TOTAL_LOSS_EXPENSE_DOUBLE", LossFacts(total_loss=True), sum_insured=si) == paid   # L3345: × 2 in all


# 002 L3432-3434: after a replacement under the new-car / restoration rider, 10% of that sum
def test_aioi_total_loss_expense_on_the_new_car_sum() -> None:
    f = LossFacts(total_loss=True, replaced=True, new_car_value_yen=1_800_000)
    assert aioi("TOTAL_LOSS_EXPENSE", f, sum_insured=900_000) == 180_000
    assert aioi("TOTAL_LOSS_EXPENSE", LossFacts(total_loss=False), sum_insured=900_000) == 0


# 002 L3359-3375, L3583-3605: replacement / repair up to the new-car SI, within 90 days
def test_aioi_new_car_replacement() -> None:
    last = ACCIDENT + timedelta(days=90)

    def facts(loss: int, on: date, cause: LossCause = C.ACCIDENT) -> LossFacts:
        return LossFacts(loss_yen=loss, repaired_on=on, major_damage=True, new_car_value_yen=2_000_000, cause=cause)

    assert aioi("NEW_CAR_REPLACEMENT", facts(2_000_000, last)) == 2_000_000
    assert aioi("NEW_CAR_REPLACEMENT", facts(2_000_001, last)) == 2_000_000
    assert aioi("NEW_CAR_REPLACEMENT", facts(1_500_000, last + timedelta(days=1))) == 0
    assert aioi("NEW_CAR_REPLACEMENT", facts(1_500_000, last, C.THEFT)) == 0   # L3441


# 002 L3320-3322: the restoration limit is the lower of 2 × SI and SI + ¥1,000,000
@pytest.mark.parametrize(("si", "loss", "paid"), [
    (900_000, 1_800_000, 1_800_000), (900_000, 1_800_001, 1_800_000),      # 2 × SI is lower
    (1_000_000, 2_000_001, 2_000_000),                                      # both ¥2,000,000
    (1_500_000, 2_500_001, 2_500_000),                                      # SI + ¥1M is lower
])
def test_aioi_restoration_limit(si: int, loss: int, paid: int) -> None:
    f = LossFacts(loss_yen=loss, total_loss=True, cause=C.ACCIDENT, repaired_on=ACCIDENT + timedelta(days=30))
    assert aioi("RESTORATION", f, sum_insured=si) == paid


# 002 L3285-3287: ¥500,000, or the vehicle SI when lower
@pytest.mark.parametrize(("si", "paid"), [(499_999, 499_999), (500_000, 500_000), (3_000_000, 500_000)])
def test_aioi_earthquake_fixed_sum(si: int, paid: int) -> None:
    assert aioi("EARTHQUAKE_FIXED_SUM", LossFacts(cause=C.EARTHQUAKE, total_loss=True), sum_insured=si) == paid
    assert aioi("EARTHQUAKE_FIXED_SUM", LossFacts(cause=C.ACCIDENT, total_loss=True), sum_insured=si) == 0


# 002 L3020-3021: uninsured motorist ¥200,000,000 per insured person
def test_aioi_uninsured_motorist_cap() -> None:
    assert aioi("UNINSURED_MOTORIST", LossFacts(loss_yen=200_000_001, outcome=O.DEATH)) == 200_000_000
    assert aioi("UNINSURED_MOTORIST", LossFacts(loss_yen=200_000_000, outcome=O.DEATH)) == 200_000_000
    assert aioi("UNINSURED_MOTORIST", LossFacts(loss_yen=5_000_000, outcome=O.INJURY)) == 0


# 002 L2552-2553: a borrowed car's own damage within this contract's vehicle sum insured
def test_aioi_other_car_driving() -> None:
    f = LossFacts(loss_yen=1_500_001, borrowed_car_eligible=True)
    assert aioi("OTHER_CAR_DRIVING", f, sum_insured=1_500_000) == 1_500_000
    assert aioi("OTHER_CAR_DRIVING", f, sum_insured=1_500_000, held=frozenset({"BI", "PD"})) == 0
    assert aioi("OTHER_CAR_DRIVING", LossFacts(loss_yen=10, borrowed_car_eligible=False), sum_insured=1) == 0


# 002 L3177-3178: the traffic-accident rider pays the PI loss up to the PI sum insured per person
def test_aioi_traffic_accident() -> None:
    assert aioi("TRAFFIC_ACCIDENT", LossFacts(loss_yen=30_000_001), sum_insured=30_000_000) == 30_000_000
    assert aioi("TRAFFIC_ACCIDENT", LossFacts(loss_yen=1_000_000, paid_by_others_yen=400_000), unlimited=True) == 600_000


# 002 L3090-3135: ¥20,000 an item-day, one transfer ≤ ¥1,000,000, ①-⑧ ≤ ¥2,000,000; rehab ¥50,000 a
# month; equipment ≤ ¥5,000,000
def test_aioi_pi_expenses() -> None:
    assert aioi("PI_EXPENSES", LossFacts(loss_yen=200_000, days=10)) == 200_000
    assert aioi("PI_EXPENSES", LossFacts(loss_yen=200_001, days=10)) == 200_000
    assert aioi("PI_EXPENSES", LossFacts(extra_yen=1_000_001)) == 1_000_000
    # ①-⑧ together: ¥1,500,000 of items + ¥1,000,000 transfer → ¥2,000,000
    a = explained("PI_EXPENSES", LossFacts(loss_yen=1_500_000, days=100, extra_yen=1_000_000), AIOI)
    assert a.payable == 2_000_000
    assert any(s.kind is StepKind.CAP and s.before == 2_500_000 and s.after == 2_000_000 for s in a.steps)
    # rehab and equipment are outside the ¥2,000,000
    full = LossFacts(loss_yen=2_000_000, days=100, months=3, equipment_yen=5_000_001)
    assert aioi("PI_EXPENSES", full) == 2_000_000 + 150_000 + 5_000_000
    assert aioi("PI_EXPENSES", LossFacts(loss_yen=100_000, days=5), paying=frozenset({"BI"})) == 0


# 002 L3225-3271: ≤ 4 days ¥10,000; 5+ days ¥100k / ¥300k / ¥500k / ¥1M; double pay (L3237)
@pytest.mark.parametrize(("days", "injury", "paid"), [
    (1, None, 10_000), (4, InjuryClass.BRAIN_CORD_ORGAN, 10_000), (5, None, 100_000),
    (5, InjuryClass.FRACTURE_NERVE_TENDON, 300_000), (5, InjuryClass.AMPUTATION_EYE, 500_000),
    (30, InjuryClass.BRAIN_CORD_ORGAN, 1_000_000), (0, None, 0),
])
def test_aioi_injury_lump_sum(days: int, injury: InjuryClass | None, paid: int) -> None:
    f = LossFacts(days=days, injury_class=injury)
    assert aioi("INJURY_LUMP_SUM", f) == paid
    assert aioi("INJURY_LUMP_SUM_DOUBLE", f) == paid
    assert aioi("PASSENGER_LUMP_SUM", f) == paid
    assert aioi("PASSENGER_LUMP_SUM_DOUBLE", f) == paid


# 002 L3237-3238 ※2: the ¥10,000 / ¥100,000 variant
def test_aioi_injury_lump_sum_flat() -> None:
    assert aioi("INJURY_LUMP_SUM_FLAT", LossFacts(days=4)) == 10_000
    assert aioi("INJURY_LUMP_SUM_FLAT", LossFacts(days=5, injury_class=InjuryClass.BRAIN_CORD_ORGAN)) == 100_000


# 002 L4062-4100: ¥3,000,000 costs and ¥100,000 consultation per person; which accidents each variant pays
@pytest.mark.parametrize("line", ["LAWYER_AUTO", "LAWYER_DAILY_LIFE", "LAWYER_BICYCLE"])
def test_aioi_lawyer_caps(line: str) -> None:
    assert aioi(line, LossFacts(loss_yen=3_000_000, consultation_yen=100_000)) == 3_100_000
    assert aioi(line, LossFacts(loss_yen=3_000_001, consultation_yen=100_001)) == 3_100_000


def test_aioi_lawyer_variants_by_accident() -> None:
    # L4075-4086: auto ○ × ×; daily life ○ ○ ○; bicycle ○ ○ ×
    expect = {"LAWYER_AUTO": (True, False, False), "LAWYER_DAILY_LIFE": (True, True, True),
              "LAWYER_BICYCLE": (True, True, False)}
    for line, pays in expect.items():
        got = tuple(aioi(line, LossFacts(loss_yen=1_000, cause=c)) > 0 for c in (C.ACCIDENT, C.BICYCLE, C.DAILY_LIFE))
        assert got == pays, line


# 002 L4051-4060: the lower of the sum insured and the value; +10% extra costs; debris ≤ 10% of the loss
@pytest.mark.parametrize(("line", "si"), [("BUSINESS_CARGO_500K", 500_000), ("BUSINESS_CARGO_1M", 1_000_000),
                                          ("BUSINESS_CARGO_2M", 2_000_000)])
def test_aioi_business_cargo(line: str, si: int) -> None:
    at = aioi(line, LossFacts(loss_yen=si, cause=C.ACCIDENT))
    assert at == si + si // 10
    over = explained(line, LossFacts(loss_yen=si + 1, extra_yen=si, cause=C.THEFT), AIOI)
    assert [p.amount for p in over.parts] == [si, si // 10, si // 10]
    # debris: at most 10% of the loss
    assert aioi(line, LossFacts(loss_yen=100_000, extra_yen=10_001, cause=C.ACCIDENT)) == 100_000 + 10_000 + 10_000
    assert aioi(line, LossFacts(loss_yen=100_000, cause=C.BREAKDOWN)) == 0     # not a covered peril (L3946-3951)


# 002 L4020-4031: cargo ¥5,000,000 less ¥30,000; loading BI ¥10,000,000 per person, property ¥2,000,000
def test_aioi_carrier_cargo() -> None:
    assert aioi("CARRIER_CARGO", LossFacts(loss_yen=5_030_000, cause=C.CARGO_IN_TRANSIT)) == 5_000_000
    assert aioi("CARRIER_CARGO", LossFacts(loss_yen=5_030_001, cause=C.CARGO_IN_TRANSIT)) == 5_000_000
    assert aioi("CARRIER_CARGO", LossFacts(loss_yen=30_000, cause=C.CARGO_IN_TRANSIT)) == 0
    assert aioi("CARRIER_CARGO", LossFacts(loss_yen=10_000_001, cause=C.LOADING_INJURY)) == 10_000_000
    assert aioi("CARRIER_CARGO", LossFacts(loss_yen=2_000_001, cause=C.LOADING_PROPERTY)) == 2_000_000


# 002 L3957-4012: condolence by the injury, property ≤ ¥30,000 when the victim's loss ≥ ¥200,000
@pytest.mark.parametrize(("facts", "paid"), [
    (LossFacts(loss_yen=300_001, outcome=O.DEATH), 300_000),
    (LossFacts(loss_yen=100_001, outcome=O.INJURY, days=20), 100_000),
    (LossFacts(loss_yen=100_001, outcome=O.INJURY, days=19), 50_000),
    (LossFacts(loss_yen=30_001, outcome=O.INJURY, outpatient_only=True), 30_000),
    (LossFacts(loss_yen=300_000, extra_yen=150_001, outcome=O.DEATH), 450_000),       # 3 visits
    (LossFacts(extra_yen=100_001, outcome=O.INJURY, days=20), 100_000),                # 2 visits
    (LossFacts(extra_yen=50_001, outcome=O.INJURY, days=5), 50_000),                   # 1 visit
    (LossFacts(loss_yen=30_001, damage_to_others_yen=200_000), 30_000),
    (LossFacts(loss_yen=30_000, damage_to_others_yen=199_999), 0),
])
def test_aioi_corporate_condolence(facts: LossFacts, paid: int) -> None:
    assert aioi("CORPORATE_CONDOLENCE", facts) == paid


# 002 L3633, L3696-3698: the rental days: 30 accident, 15 breakdown (towed), 90 after a replacement
@pytest.mark.parametrize(("facts", "paid"), [
    (LossFacts(loss_yen=1_000_000, days=31, cause=C.ACCIDENT), 150_000),
    (LossFacts(loss_yen=1_000_000, days=16, cause=C.BREAKDOWN, towed=True), 75_000),
    (LossFacts(loss_yen=1_000_000, days=16, cause=C.BREAKDOWN, towed=False), 0),
    (LossFacts(loss_yen=1_000_000, days=91, cause=C.ACCIDENT, replaced=True), 450_000),
])
def test_aioi_replacement_car_days(facts: LossFacts, paid: int) -> None:
    assert aioi("REPLACEMENT_CAR_EXTENSION", facts) == paid


# ================================================================== tokio (004)

# 004 L624: 10% of the vehicle SI, at least ¥100,000, at most ¥200,000
@pytest.mark.parametrize(("si", "paid"), [(800_000, 100_000), (1_000_000, 100_000), (1_500_000, 150_000),
                                          (2_000_000, 200_000), (2_000_010, 200_000)])
def test_tokio_total_loss_expense(si: int, paid: int) -> None:
    assert tokio("TOTAL_LOSS_EXPENSE", LossFacts(total_loss=True), sum_insured=si) == paid


# 004 L631-652: the part's fixed amount, the highest part, ≤ the vehicle SI, towed breakdowns only
@pytest.mark.parametrize(("part", "paid"), [(BrokenPart.ENGINE, 300_000), (BrokenPart.TRANSMISSION, 200_000),
                                            (BrokenPart.RADIATOR, 100_000), (BrokenPart.ALTERNATOR, 70_000),
                                            (BrokenPart.REPAIR_ONLY, 70_000)])
def test_tokio_breakdown_amounts(part: BrokenPart, paid: int) -> None:
    f = LossFacts(cause=C.BREAKDOWN, towed=True, broken_part=part)
    assert tokio("BREAKDOWN", f, sum_insured=1_000_000) == paid


def test_tokio_breakdown_conditions() -> None:
    engine = LossFacts(cause=C.BREAKDOWN, towed=True, broken_part=BrokenPart.ENGINE)
    assert tokio("BREAKDOWN", engine, sum_insured=299_999) == 299_999       # ≤ the vehicle SI (L631)
    assert tokio("BREAKDOWN", engine, sum_insured=300_000) == 300_000
    assert tokio("BREAKDOWN", LossFacts(cause=C.BREAKDOWN, towed=False, broken_part=BrokenPart.ENGINE),
                 sum_insured=1_000_000) == 0


# 004 L687-695: new value up to the agreed new value; re-acquisition 20% (¥200k-¥400k) / 10% (¥100k-¥200k)
@pytest.mark.parametrize(("value", "expense"), [(900_000, 200_000), (1_000_000, 200_000), (1_500_000, 300_000),
                                                (2_000_000, 400_000), (3_000_000, 400_000)])
def test_tokio_new_value_replaced(value: int, expense: int) -> None:
    f = LossFacts(loss_yen=value + 1, major_damage=True, replaced=True, new_car_value_yen=value, cause=C.ACCIDENT)
    a = explained("NEW_VALUE", f, TOKIO)
    assert [p.amount for p in a.parts] == [value, expense]


@pytest.mark.parametrize(("value", "expense"), [(900_000, 100_000), (1_500_000, 150_000), (2_000_001, 200_000)])
def test_tokio_new_value_not_replaced(value: int, expense: int) -> None:
    f = LossFacts(major_damage=True, replaced=False, total_loss=True, new_car_value_yen=value, cause=C.ACCIDENT)
    assert tokio("NEW_VALUE", f) == expense
    assert tokio("NEW_VALUE", LossFacts(major_damage=True, replaced=True, loss_yen=1, new_car_value_yen=value,
                                        cause=C.THEFT)) == 0       # theft not found (L689 *6)


# 004 L713-721: recovery limit min(2 × SI, SI + ¥1M); expense 20% / 10% of it within ¥200k-¥400k / ¥100k-¥200k
@pytest.mark.parametrize(("si", "recovery", "replaced_expense", "other_expense"), [
    (400_000, 800_000, 200_000, 100_000),          # limit ¥800,000: 20% = 160,000 → ¥200,000; 10% → ¥100,000
    (1_000_000, 2_000_000, 400_000, 200_000),      # limit ¥2,000,000: 20% = ¥400,000; 10% = ¥200,000
    (750_000, 1_500_000, 300_000, 150_000),
    (1_500_000, 2_500_000, 400_000, 200_000),      # limit SI + ¥1M
])
def test_tokio_recovery_cost(si: int, recovery: int, replaced_expense: int, other_expense: int) -> None:
    replaced = LossFacts(loss_yen=10_000_000, total_loss=True, replaced=True, cause=C.ACCIDENT)
    a = explained("RECOVERY_COST", replaced, TOKIO, sum_insured=si)
    assert [p.amount for p in a.parts] == [recovery, replaced_expense]
    neither = LossFacts(total_loss=True, replaced=False, cause=C.ACCIDENT)
    assert tokio("RECOVERY_COST", neither, sum_insured=si) == other_expense


# 004 L554-557: ¥100,000 on day 3 + ¥10,000 a further day, ≤ ¥1,800,000; 3+ days in hospital
@pytest.mark.parametrize(("days", "cost", "paid"), [
    (2, 50_000, 0), (3, 100_001, 100_000), (3, 100_000, 100_000), (10, 200_000, 170_000),
    (173, 2_000_000, 1_800_000), (174, 2_000_000, 1_800_000), (172, 2_000_000, 1_790_000),
])
def test_tokio_hospital_select_assist(days: int, cost: int, paid: int) -> None:
    assert tokio("HOSPITAL_SELECT_ASSIST", LossFacts(loss_yen=cost, days=days)) == paid


# 004 L1149: ¥3,000,000 civil, ¥1,500,000 criminal per person per accident
def test_tokio_lawyer() -> None:
    assert tokio("LAWYER_AUTO", LossFacts(loss_yen=3_000_001, criminal_yen=1_500_001)) == 4_500_000
    assert tokio("LAWYER_AUTO", LossFacts(loss_yen=3_000_000)) == 3_000_000
    assert tokio("LAWYER_AUTO", LossFacts(loss_yen=10_000, cause=C.DAILY_LIFE)) == 0     # auto accidents only


# 004 L830-835, L861: rental ¥5,000 a day (¥7,000 / ¥10,000 with the daily-amount rider), 30 / 15 days
def test_tokio_rental_daily_amounts_and_days() -> None:
    base = frozenset({"BI", "PD", "PI", "VEHICLE", "ROAD_RENTAL_PACKAGE"})
    acc = LossFacts(loss_yen=1_000_000, days=31, cause=C.ACCIDENT)
    assert tokio("ROAD_RENTAL_PACKAGE", acc, held=base) == 150_000
    assert tokio("ROAD_RENTAL_PACKAGE", acc, held=base | {"RENTAL_DAILY_7000"}) == 210_000
    assert tokio("ROAD_RENTAL_PACKAGE", acc, held=base | {"RENTAL_DAILY_10000"}) == 300_000
    brk = LossFacts(loss_yen=1_000_000, days=16, cause=C.BREAKDOWN, towed=True)
    assert tokio("ROAD_RENTAL_PACKAGE", brk, held=base) == 75_000
    assert tokio("ROAD_RENTAL_PACKAGE", LossFacts(loss_yen=1_000_000, days=5, cause=C.BREAKDOWN, towed=False),
                 held=base) == 0
    assert tokio("ROAD_RENTAL_PACKAGE", LossFacts(loss_yen=20_000, days=5, cause=C.ACCIDENT), held=base) == 20_000
    assert tokio("ROAD_RENTAL_PACKAGE", acc, held=base | {"RENTAL_EXCLUDED"}) == 0


# 004 L1057: loss − ¥5,000, within the sum insured over the period (DEMONSTRATION ¥300,000)
def test_tokio_in_car_belongings() -> None:
    assert tokio("IN_CAR_BELONGINGS", LossFacts(loss_yen=305_000)) == 300_000
    assert tokio("IN_CAR_BELONGINGS", LossFacts(loss_yen=305_001)) == 300_000
    assert tokio("IN_CAR_BELONGINGS", LossFacts(loss_yen=105_000), paid_in_year_elsewhere=250_000) == 50_000
    assert explained("IN_CAR_BELONGINGS", LossFacts(loss_yen=5_000), TOKIO).payable == 0
    assert "DEMONSTRATION" in explained("IN_CAR_BELONGINGS", LossFacts(), TOKIO).demonstration


# 004 L1027 (*13): the borrowed car's damage within the PD sum insured, with vehicle cover
def test_tokio_other_car_driving() -> None:
    f = LossFacts(loss_yen=2_000_000, borrowed_car_eligible=True)
    assert tokio("OTHER_CAR_DRIVING", f, unlimited=True) == 2_000_000
    assert tokio("OTHER_CAR_DRIVING", f, held=frozenset({"BI", "PD"})) == 0


# 004 L677: ¥500,000 or the vehicle SI when lower
def test_tokio_earthquake_lump_sum() -> None:
    assert tokio("EARTHQUAKE_LUMP_SUM", LossFacts(cause=C.EARTHQUAKE, total_loss=True), sum_insured=400_000) == 400_000
    assert tokio("EARTHQUAKE_LUMP_SUM", LossFacts(cause=C.EARTHQUAKE, total_loss=True), sum_insured=900_000) == 500_000


# ================================================================== who may attach the riders


def riders_of(q: Any) -> tuple[str, ...]:
    return rate(product(q.product_id), q).riders


# 004 L1097: the breakdown rider from the 85th month after first registration (General cover only)
def test_tokio_breakdown_automatic_after_84_months() -> None:
    q = base_quote(TOKIO)           # starts 2026-02-01
    at_84 = with_vehicle(q, first_registration=YearMonth(2019, 2))
    at_85 = with_vehicle(q, first_registration=YearMonth(2019, 1))
    assert "BREAKDOWN" not in riders_of(at_84)
    assert "BREAKDOWN" in riders_of(at_85)
    economy = replace(q, coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PI"),
                                                         CoverageChoice("VEHICLE", "ECONOMY_DED_50000")))
    assert "BREAKDOWN" not in riders_of(with_vehicle(economy, first_registration=YearMonth(2019, 1)))
    lease = replace(at_85, riders=("LEASE_CAR",))
    assert "BREAKDOWN" not in riders_of(lease)                                   # L644


# 004 L1085: new value automatic while the expiry is less than 38 months from first registration
def test_tokio_new_value_automatic_under_38_months() -> None:
    q = base_quote(TOKIO)           # 2026-02-01 .. 2027-02-01
    assert "NEW_VALUE" in riders_of(with_vehicle(q, first_registration=YearMonth(2024, 1)))    # 37 months
    assert "NEW_VALUE" not in riders_of(with_vehicle(q, first_registration=YearMonth(2023, 12)))   # 38 months
    chosen = replace(with_vehicle(q, first_registration=YearMonth(2024, 1)), riders=("RECOVERY_COST",))
    r = riders_of(chosen)
    assert "RECOVERY_COST" in r and "NEW_VALUE" not in r


# 004 L1105: BI without PI brings the self-accident and uninsured-motorist riders
def test_tokio_bi_without_pi() -> None:
    q = base_quote(TOKIO)
    assert not {"SELF_ACCIDENT_INJURY", "UNINSURED_MOTORIST"} & set(riders_of(q))
    bi_pd = replace(q, coverages=(CoverageChoice("BI"), CoverageChoice("PD")))
    assert {"SELF_ACCIDENT_INJURY", "UNINSURED_MOTORIST", "OTHER_CAR_DRIVING"} <= set(riders_of(bi_pd))
    vehicle_only = replace(q, coverages=(CoverageChoice("VEHICLE"),))
    assert "OTHER_CAR_DRIVING" not in riders_of(vehicle_only)                  # L1014
    assert "TOTAL_LOSS_EXPENSE" in riders_of(vehicle_only)                     # L620


# 002 L2403 注3: the distant-victim rider is automatic on a telematics contract
def test_aioi_remote_victim_automatic_with_telematics() -> None:
    q = base_quote(AIOI)
    assert "REMOTE_VICTIM_EXPENSE" not in riders_of(q)
    assert "REMOTE_VICTIM_EXPENSE" in riders_of(with_facts(q, telematics_plan=True))
    chosen = replace(q, riders=("REMOTE_VICTIM_EXPENSE",))
    assert "REMOTE_VICTIM_EXPENSE" in riders_of(chosen)                        # on request otherwise (L2858)


# 002 L2404-2405 注4, 注5, 注7, 注8, 注9
def test_aioi_automatic_riders_and_their_conditions() -> None:
    q = base_quote(AIOI)
    r = set(riders_of(q))
    assert {"TOTAL_LOSS_EXPENSE", "NO_FAULT_VEHICLE", "PI_EXPENSES", "OTHER_CAR_DRIVING",
            "TEMPORARY_SUBSTITUTE_CAR"} <= r
    company = replace(q, named_insured=NamedInsured(date(1980, 3, 3), individual=False),
                             coverages=(CoverageChoice("BI"), CoverageChoice("PD", "UNLIMITED_DED_50000"),
                                           CoverageChoice("PI"), CoverageChoice("VEHICLE")))
    rc = set(riders_of(company))
    assert not {"TOTAL_LOSS_EXPENSE", "PI_EXPENSES", "OTHER_CAR_DRIVING"} & rc      # optional for a company
    assert "TEMPORARY_SUBSTITUTE_CAR" in rc
    seven = replace(q, coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PI"),
                                                       CoverageChoice("VEHICLE", "DED_50000")),
                           riders=("VEHICLE_7_PERILS",))
    assert "NO_FAULT_VEHICLE" not in riders_of(seven)                               # 注7
    road = replace(q, riders=("ROAD_SERVICE",))
    assert "REPLACEMENT_CAR_EXTENSION" in riders_of(road)
    declined = replace(q, riders=("ROAD_SERVICE", "NO_REPLACEMENT_CAR"))
    assert "REPLACEMENT_CAR_EXTENSION" not in riders_of(declined)                   # 注8


# 002 L4069-4071, L3241-3243, L4017-4018, L3954: who may carry the optional riders
def test_aioi_rider_scope_refusals() -> None:
    q = base_quote(AIOI)
    company = NamedInsured(date(1980, 3, 3), individual=False)
    cov = (CoverageChoice("BI"), CoverageChoice("PD", "UNLIMITED_DED_50000"), CoverageChoice("PI"),
           CoverageChoice("VEHICLE"))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"named_insured": company, "coverages": cov, "riders": ("LAWYER_DAILY_LIFE",)}, "NOT_ELIGIBLE_RIDER"),
        ({"riders": ("LAWYER_BICYCLE",)}, "RIDER_REQUIRES"),
        ({"riders": ("PASSENGER_LUMP_SUM",)}, "RIDER_CONFLICT"),
        ({"riders": ("CARRIER_CARGO",)}, "NOT_ELIGIBLE_RIDER"),
        ({"riders": ("LAWYER_AUTO", "LAWYER_DAILY_LIFE")}, "RIDER_CONFLICT"),
        ({"riders": ("NEW_CAR_REPLACEMENT", "RESTORATION")}, "RIDER_CONFLICT"),
    ]
    for changes, code in cases:
        with pytest.raises(RatingError) as e:
            rate(product(AIOI), replace(q, **changes))
        assert e.value.code == code, changes
    ok = replace(q, riders=("BICYCLE_LIABILITY", "LAWYER_BICYCLE", "BUSINESS_CARGO_1M"))
    assert {"LAWYER_BICYCLE", "BUSINESS_CARGO_1M"} <= set(riders_of(ok))
    truck = with_vehicle(replace(q, riders=("CARRIER_CARGO",), age_condition=AgeCondition.ANY),
                         use_type=UseType.COMMERCIAL_SMALL_TRUCK)
    assert "CARRIER_CARGO" in riders_of(truck)


# ================================================================== the grade class of the new lines

# 002b L4761-4810, 004 L1593-1594: which class a payment under each new rider line has
@pytest.mark.parametrize(("pid", "codes", "cls"), [
    (AIOI, ("REMOTE_VICTIM_EXPENSE",), "NO_COUNT"),
    (AIOI, ("PI_EXPENSES", "INJURY_LUMP_SUM", "TRAFFIC_ACCIDENT"), "NO_COUNT"),
    (AIOI, ("PERSONAL_BELONGINGS",), "NO_COUNT"),                         # 002b L4807
    (AIOI, ("BUSINESS_CARGO_1M", "CARRIER_CARGO", "CORPORATE_CONDOLENCE"), "NO_COUNT"),
    (AIOI, ("LAWYER_DAILY_LIFE", "BICYCLE_LIABILITY", "FAMILY_BIKE_PI"), "NO_COUNT"),
    (TOKIO, ("BREAKDOWN",), "ONE_DOWN"),                                  # 004 L1593 ①
    (TOKIO, ("NEW_VALUE", "TOTAL_LOSS_EXPENSE"), "THREE_DOWN"),           # a collision
])
def test_grade_class_of_the_new_lines(pid: str, codes: tuple[str, ...], cls: str) -> None:
    impact = claim_grade_impact(product(pid), codes, vehicle_cause=VehicleCause.COLLISION)
    assert impact.accident_class is not None and impact.accident_class.value == cls


def test_new_value_on_a_no_fault_accident_is_no_count() -> None:
    # 004 L995-1002: the no-fault rule covers vehicle payments including new-value ones
    impact = claim_grade_impact(product(TOKIO), ("NEW_VALUE",), vehicle_cause=VehicleCause.COLLISION,
                                no_fault=NoFault.NO_FAULT_COLLISION)
    assert impact.accident_class is not None and impact.accident_class.value == "NO_COUNT"


# 004 L1127, L1129: victim relief (defect / hacking, confirmed objectively) and the incapacitated driver
def test_tokio_victim_relief_riders() -> None:
    hack = LossFacts(loss_yen=3_000_000, cause=C.DEFECT_OR_HACKING, liable=False, confirmed_objectively=True)
    assert tokio("VICTIM_RELIEF_HACKING", hack) == 3_000_000
    assert tokio("VICTIM_RELIEF_HACKING", replace(hack, confirmed_objectively=False)) == 0
    incap = LossFacts(loss_yen=2_000_000, cause=C.DRIVER_INCAPACITY, liable=False)
    assert tokio("INSANITY_VICTIM", incap) == 2_000_000
    assert tokio("INSANITY_VICTIM", replace(incap, liable=True)) == 0


# 004 L135, L938, L980: the dashcam rider at the pamphlet's ¥470 / ¥810 a month (1-year, no surcharge)
def test_tokio_dap_price() -> None:
    q = base_quote(TOKIO)
    plain = rate(product(TOKIO), q).total
    assert rate(product(TOKIO), replace(q, riders=("DAP_NEW",))).total - plain == 470 * 12
    assert rate(product(TOKIO), replace(q, riders=("DAP_TWO_CAMERA",))).total - plain == 810 * 12
    with pytest.raises(RatingError) as e:
        rate(product(TOKIO), replace(q, riders=("DAP_NEW", "DAP_TWO_CAMERA")))
    assert e.value.code == "RIDER_CONFLICT"
