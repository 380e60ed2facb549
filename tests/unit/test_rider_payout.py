"""The rider pay-out engine on the rakuten and kyosai product files: every rule, each cap at its edge.

Each test names the pamphlet line of the amount it checks. The engine knows no rider: the amounts
come from domain/products/*.toml (docs/rider_rules.md).
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from domain.calendar import RuleError
from domain.claims.rider_payout import (
    Assessment,
    LossFacts,
    PayoutContext,
    StepKind,
    assess,
    months_after_accident_deadline,
    product_rules,
    render,
    rule_of,
)
from domain.products.loader import PRODUCTS_DIR, ProductFileError, parse_product
from domain.products.model import Product, RiderMode
from domain.products.payout import InjuryClass, LossCause, Outcome
from domain.rating import CoverageChoice, RatingError, rate
from tests.unit.test_rating_support import KYOSAI, RAKUTEN, base_quote, product

ACCIDENT = date(2026, 3, 10)


def ctx_for(p: Product, **kw: Any) -> PayoutContext:
    rules = product_rules(p)
    codes = frozenset({c.code for c in p.coverages} | {r.code for r in p.riders})
    base: dict[str, Any] = {"accident_date": ACCIDENT, "held": codes, "paying": codes, "rules": rules}
    base.update(kw)
    return PayoutContext(**base)


def pays(line: str, facts: LossFacts, pid: str = RAKUTEN, **kw: Any) -> int:
    p = product(pid)
    return assess(line, rule_of(p, line), facts, ctx_for(p, **kw)).payable


def explained(line: str, facts: LossFacts, pid: str = RAKUTEN, **kw: Any) -> Assessment:
    p = product(pid)
    return assess(line, rule_of(p, line), facts, ctx_for(p, **kw))


# ------------------------------------------------------------------ rakuten riders (001)


def test_new_rakuten_riders_are_in_the_product_file() -> None:
    p = product(RAKUTEN)
    for code in ("EXCESS_REPAIR", "OTHER_CAR_DRIVING", "VICTIM_RELIEF_HACKING", "NO_FAULT_VEHICLE",
                 "TEMPORARY_BI_EXPENSE"):
        r = p.rider(code)
        assert r is not None and r.mode is RiderMode.AUTOMATIC
        assert r.mode_note          # the pamphlet does not say automatic / optional: the decision is written
    assert p.rider("EXCESS_REPAIR").requires == ("PD",)  # type: ignore[union-attr]
    assert p.rider("NO_FAULT_VEHICLE").payout is None     # type: ignore[union-attr]  # a deductible effect only


def test_bi_temporary_expense_per_deceased_victim() -> None:
    # 001 L1086: 被害者1名につき、15万円
    assert pays("TEMPORARY_BI_EXPENSE", LossFacts(outcome=Outcome.DEATH)) == 150_000
    assert pays("TEMPORARY_BI_EXPENSE", LossFacts(outcome=Outcome.INJURY)) == 0
    assert pays("TEMPORARY_BI_EXPENSE", LossFacts(outcome=Outcome.DEATH), paying=frozenset({"PD"})) == 0


@pytest.mark.parametrize(("loss", "paid"), [
    (99_999_999, 99_999_999), (100_000_000, 100_000_000), (100_000_001, 100_000_000),
])
def test_pd_hazardous_cargo_and_aircraft_cap(loss: int, paid: int) -> None:
    # 001 L1088 (注1): 無制限でも1回の事故につき1億円を限度
    for cause in (LossCause.HAZARDOUS_CARGO, LossCause.AIRCRAFT):
        assert pays("PD", LossFacts(loss_yen=loss, cause=cause), unlimited=True) == paid
    assert pays("PD", LossFacts(loss_yen=loss, cause=LossCause.ACCIDENT), unlimited=True) == loss


def test_pd_cap_explained_before_and_after() -> None:
    a = explained("PD", LossFacts(loss_yen=150_000_000, cause=LossCause.AIRCRAFT), unlimited=True)
    caps = [s for s in a.steps if s.kind is StepKind.CAP]
    assert [(s.before, s.after) for s in caps] == [(150_000_000, 150_000_000), (150_000_000, 100_000_000)]
    assert "unlimited" in caps[0].en and caps[1].rule == "001 L1088 (注1)"
    assert "AIRCRAFT" in render(a)


@pytest.mark.parametrize(("loss", "paid"), [
    (99_999_999, 99_999_999), (100_000_000, 100_000_000), (100_000_001, 100_000_000),
])
def test_pip_severe_disability_twice_the_sum_insured(loss: int, paid: int) -> None:
    # 001 L403: 所定の重度後遺障害・介護を要する場合、保険金額の2倍が上限 (SI ¥50M)
    severe = LossFacts(loss_yen=loss, outcome=Outcome.SEVERE_DISABILITY_CARE)
    assert pays("PIP", severe, sum_insured=50_000_000) == paid
    assert pays("PIP", replace(severe, outcome=Outcome.DISABILITY), sum_insured=50_000_000) == 50_000_000
    assert pays("PIP", severe, unlimited=True) == loss    # 保険金額が無制限の場合を除き


def test_pip_less_what_others_paid() -> None:
    # 001 L405, L1091: 労災・相手方の賠償金・自賠責などの支払額を差し引く
    assert pays("PIP", LossFacts(loss_yen=10_000_000, paid_by_others_yen=1_200_000), sum_insured=50_000_000) == 8_800_000
    assert pays("PIP", LossFacts(loss_yen=1_000_000, paid_by_others_yen=1_200_000), sum_insured=50_000_000) == 0


@pytest.mark.parametrize(("dependants", "paid"), [(0, 1_000_000), (1, 2_000_000), (2, 3_000_000)])
def test_emergency_support_per_person_and_dependant(dependants: int, paid: int) -> None:
    # 001 L371, L1094: 1名につき100万円; L383 example: 本人 + 子2名 = 300万円
    assert pays("PIP_EMERGENCY_SUPPORT", LossFacts(outcome=Outcome.DEATH, dependants=dependants)) == paid
    assert pays("PIP_EMERGENCY_SUPPORT",
                LossFacts(outcome=Outcome.SEVERE_DISABILITY_CARE, dependants=dependants)) == paid
    assert pays("PIP_EMERGENCY_SUPPORT", LossFacts(outcome=Outcome.DISABILITY, dependants=dependants)) == 0


@pytest.mark.parametrize(("days", "injury", "paid"), [
    (0, None, 0),
    (1, None, 10_000), (4, None, 10_000),                    # 治療給付金 1日以上5日未満 (001 L426, L1095)
    (4, InjuryClass.BRAIN_CORD_ORGAN, 10_000),               # the table is for 5 days or more
    (5, None, 100_000), (5, InjuryClass.OTHER, 100_000),     # 入通院給付金 (001 L417)
    (5, InjuryClass.FRACTURE_NERVE_TENDON, 300_000),         # 001 L1097
    (5, InjuryClass.AMPUTATION_EYE, 500_000),                # 001 L1098
    (30, InjuryClass.BRAIN_CORD_ORGAN, 1_000_000),           # 001 L1099
])
def test_passenger_fixed_benefits(days: int, injury: InjuryClass | None, paid: int) -> None:
    facts = LossFacts(days=days, injury_class=injury)
    assert pays("PASSENGER", facts) == paid
    assert pays("PASSENGER_DOUBLE_MEDICAL", facts) == paid      # 倍額 (001 L437): the same amount again


@pytest.mark.parametrize(("sum_insured", "paid"), [
    (1_999_990, 199_999), (2_000_000, 200_000), (2_000_010, 200_000),
])
def test_total_loss_expense_ten_percent_capped(sum_insured: int, paid: int) -> None:
    # 001 L490, L1106: 車両保険金額の10% (1事故につき20万円限度)
    assert pays("TOTAL_LOSS_EXPENSE", LossFacts(total_loss=True), sum_insured=sum_insured) == paid
    assert pays("TOTAL_LOSS_EXPENSE", LossFacts(total_loss=False), sum_insured=sum_insured) == 0


def test_total_loss_expense_needs_the_vehicle_sum_insured() -> None:
    with pytest.raises(RuleError) as e:
        pays("TOTAL_LOSS_EXPENSE", LossFacts(total_loss=True))
    assert e.value.code == "SUM_INSURED_REQUIRED"
    assert rule_of(product(RAKUTEN), "TOTAL_LOSS_EXPENSE").sum_insured_of == "VEHICLE"


@pytest.mark.parametrize(("fees", "consult", "paid"), [
    (2_999_999, 99_999, 2_999_999 + 99_999),
    (3_000_000, 100_000, 3_100_000),
    (3_000_001, 100_001, 3_100_000),
])
def test_lawyer_fees_and_consultation_per_person(fees: int, consult: int, paid: int) -> None:
    # 001 L543 (300万円), L547 (10万円), 1事故につき被保険者1名あたり
    assert pays("LAWYER_FEES", LossFacts(loss_yen=fees, consultation_yen=consult)) == paid


@pytest.mark.parametrize(("cause", "days", "paid"), [
    (LossCause.ACCIDENT, 29, 145_000), (LossCause.ACCIDENT, 30, 150_000), (LossCause.ACCIDENT, 31, 150_000),
    (LossCause.THEFT, 31, 150_000),
    (LossCause.BREAKDOWN, 14, 70_000), (LossCause.BREAKDOWN, 15, 75_000), (LossCause.BREAKDOWN, 16, 75_000),
])
def test_rental_car_day_caps(cause: LossCause, days: int, paid: int) -> None:
    # 001 L559, L1109: 事故の場合は最長30日、故障の場合は最長15日 (daily amount: DEMONSTRATION ¥5,000)
    assert pays("RENTAL_CAR", LossFacts(cause=cause, days=days, towed=True, loss_yen=10_000 * days)) == paid


def test_rental_car_conditions_and_actual_cost() -> None:
    # 001 L559: a breakdown pays only when the car was towed; never more than the rental cost
    assert pays("RENTAL_CAR", LossFacts(cause=LossCause.BREAKDOWN, days=5, towed=False, loss_yen=50_000)) == 0
    assert pays("RENTAL_CAR", LossFacts(cause=LossCause.ACCIDENT, days=5, loss_yen=12_000)) == 12_000
    assert "DEMONSTRATION" in rule_of(product(RAKUTEN), "RENTAL_CAR").demonstration


@pytest.mark.parametrize(("loss", "paid"), [
    (5_000, 0), (5_001, 1), (304_999, 299_999), (305_000, 300_000), (305_001, 300_000),
])
def test_in_car_belongings_less_deductible_capped(loss: int, paid: int) -> None:
    # 001 L567, L1120: 1事故につき30万円(免責金額5,000円)を限度
    assert pays("IN_CAR_BELONGINGS", LossFacts(loss_yen=loss)) == paid
    assert pays("IN_CAR_BELONGINGS", LossFacts(loss_yen=loss, cause=LossCause.THEFT_FROM_CARRIER)) == 0


@pytest.mark.parametrize(("repair", "paid"), [
    (1_499_999, 499_999), (1_500_000, 500_000), (1_500_001, 500_000),
])
def test_excess_repair_formula_and_cap(repair: int, paid: int) -> None:
    # 001 L272, L1089: min((修理費 − 時価額) × 過失割合, 50万円); market value ¥1,000,000, fault 100%
    facts = LossFacts(loss_yen=repair, market_value_yen=1_000_000, fault_percent=100, repaired_on=ACCIDENT)
    assert pays("EXCESS_REPAIR", facts) == paid
    # × 70%, rounded down to the yen: 714,285 × 0.7 = 499,999.5
    assert pays("EXCESS_REPAIR", replace(facts, loss_yen=1_714_285, fault_percent=70)) == 499_999


def test_excess_repair_six_months_and_pd() -> None:
    # 001 L272: 事故日の翌日から6か月以内に修理; L1089: 対物賠償責任保険から支払えない事故は対象外
    last = months_after_accident_deadline(ACCIDENT, 6)
    assert last == date(2026, 9, 10)
    facts = LossFacts(loss_yen=1_300_000, market_value_yen=1_000_000, fault_percent=100, repaired_on=last)
    assert pays("EXCESS_REPAIR", facts) == 300_000
    assert pays("EXCESS_REPAIR", replace(facts, repaired_on=date(2026, 9, 11))) == 0
    assert pays("EXCESS_REPAIR", replace(facts, repaired_on=None)) == 0
    assert pays("EXCESS_REPAIR", facts, paying=frozenset({"BI"})) == 0


@pytest.mark.parametrize(("loss", "paid"), [(199_999, 199_999), (200_000, 200_000), (200_001, 200_000)])
def test_road_assistance_towing_cap(loss: int, paid: int) -> None:
    # 001 L893, L1128: 1事案につき20万円を限度
    assert pays("ROAD_ASSISTANCE", LossFacts(loss_yen=loss)) == paid


@pytest.mark.parametrize(("loss", "paid"), [
    (99_999_999, 99_999_999), (100_000_000, 100_000_000), (100_000_001, 100_000_000),
])
def test_personal_liability_abroad_cap(loss: int, paid: int) -> None:
    # 001 L521: 国内での事故は無制限、国外での事故は1億円を限度
    assert pays("PERSONAL_LIABILITY", LossFacts(loss_yen=loss, abroad=True)) == paid
    assert pays("PERSONAL_LIABILITY", LossFacts(loss_yen=loss, abroad=False)) == loss


@pytest.mark.parametrize(("days", "paid"), [(9, 27_000), (10, 130_000), (180, 640_000), (181, 640_000)])
def test_family_bicycle_hospital(days: int, paid: int) -> None:
    # 001 L1126 入院一時金 10日以上で10万円; L1127 入院保険金 1日3,000円 (within 180 days)
    assert pays("FAMILY_BICYCLE", LossFacts(days=days, outcome=Outcome.INJURY)) == paid
    assert pays("FAMILY_BICYCLE", LossFacts(outcome=Outcome.DEATH)) == 3_000_000   # 001 L1124


def test_victim_relief_needs_defect_no_liability_and_objective_confirmation() -> None:
    # 001 L289: 欠陥・ハッキング等で法律上の損害賠償責任がない場合、リコールや警察の捜査等で確認できる場合に限り
    ok = LossFacts(loss_yen=2_000_000, cause=LossCause.DEFECT_OR_HACKING, liable=False, confirmed_objectively=True)
    assert pays("VICTIM_RELIEF_HACKING", ok) == 2_000_000
    assert pays("VICTIM_RELIEF_HACKING", replace(ok, liable=True)) == 0
    assert pays("VICTIM_RELIEF_HACKING", replace(ok, confirmed_objectively=None)) == 0
    assert pays("VICTIM_RELIEF_HACKING", replace(ok, cause=LossCause.ACCIDENT)) == 0


def test_other_car_driving_borrowed_car_damage() -> None:
    # 001 L276-283: the borrowed car's own damage only with vehicle cover, up to its sum insured
    p = product(RAKUTEN)
    facts = LossFacts(loss_yen=1_500_000, borrowed_car_eligible=True)
    assert pays("OTHER_CAR_DRIVING", facts, sum_insured=1_000_000) == 1_000_000
    assert pays("OTHER_CAR_DRIVING", facts, sum_insured=2_000_000) == 1_500_000
    held = frozenset(r.code for r in p.riders) | {"BI", "PD", "PIP"}
    assert pays("OTHER_CAR_DRIVING", facts, sum_insured=2_000_000, held=held) == 0
    assert pays("OTHER_CAR_DRIVING", replace(facts, borrowed_car_eligible=False), sum_insured=2_000_000) == 0


def test_vehicle_deductible_waived_by_the_no_fault_rider() -> None:
    # 001 L496-500: 無過失・相手確認 → 免責金額はその事故がなかったものとして取り扱う
    facts = LossFacts(loss_yen=400_000, cause=LossCause.CONTACT_WITH_CAR, no_fault=True, other_party_identified=True)
    assert pays("VEHICLE", facts, sum_insured=2_000_000, line_deductible=50_000) == 400_000
    assert pays("VEHICLE", replace(facts, other_party_identified=False), sum_insured=2_000_000,
                line_deductible=50_000) == 350_000
    no_rider = frozenset({"VEHICLE", "BI", "PD"})
    assert pays("VEHICLE", facts, sum_insured=2_000_000, line_deductible=50_000, held=no_rider) == 350_000


def test_already_paid_on_the_claim_is_taken_off() -> None:
    a = explained("IN_CAR_BELONGINGS", LossFacts(loss_yen=205_000), paid_on_claim=150_000)
    assert (a.entitlement, a.already_paid, a.payable) == (200_000, 150_000, 50_000)
    assert [s.kind for s in a.steps][-2:] == [StepKind.ALREADY_PAID, StepKind.TOTAL]


def test_rules_without_payout_say_so() -> None:
    with pytest.raises(RuleError) as e:
        rule_of(product(RAKUTEN), "NAMED_INSURED_ONLY")
    assert e.value.code == "NO_PAYOUT_RULE"
    with pytest.raises(RuleError) as e:
        rule_of(product(RAKUTEN), "NOPE")
    assert e.value.code == "UNKNOWN_COVERAGE"


def test_bad_facts_are_refused() -> None:
    with pytest.raises(RuleError) as e:
        LossFacts(loss_yen=-1)
    assert (e.value.code, e.value.field) == ("NEGATIVE_AMOUNT", "lossYen")
    with pytest.raises(RuleError) as e:
        LossFacts(fault_percent=101)
    assert e.value.code == "INVALID_FAULT_RATIO"
    with pytest.raises(RuleError) as e:
        pays("EXCESS_REPAIR", LossFacts(loss_yen=2, market_value_yen=1, repaired_on=ACCIDENT))
    assert e.value.code == "FACT_REQUIRED"


# ------------------------------------------------------------------ kyosai riders (003)


@pytest.mark.parametrize(("own_cost", "paid"), [(29_999, 0), (30_000, 30_000), (30_001, 30_000)])
def test_kyosai_vehicle_benefit(own_cost: int, paid: int) -> None:
    # 003 L44-46: 経済的自己負担額が3万円以上のとき3万円、年1回; 地震・噴火・津波は対象外
    facts = LossFacts(own_cost_yen=own_cost, cause=LossCause.SELF_ACCIDENT)
    assert pays("VEHICLE_ACCIDENT", facts, KYOSAI) == paid
    assert pays("VEHICLE_ACCIDENT", facts, KYOSAI, times_paid_in_year_elsewhere=1) == 0
    assert pays("VEHICLE_ACCIDENT", replace(facts, cause=LossCause.EARTHQUAKE), KYOSAI) == 0
    for cause in (LossCause.CONTACT_WITH_CAR, LossCause.THEFT_VANDALISM, LossCause.NATURAL_DISASTER):
        assert pays("VEHICLE_ACCIDENT", replace(facts, cause=cause), KYOSAI) == paid


@pytest.mark.parametrize(("damage", "own_cost", "paid"), [
    (19_999, 20_000, 0), (20_000, 19_999, 0), (20_000, 20_000, 30_000), (20_001, 20_001, 30_000),
])
def test_kyosai_property_benefit(damage: int, own_cost: int, paid: int) -> None:
    # 003 L48-50: 他人の財物に2万円以上、経済的自己負担額2万円以上、過失あり: 3万円、年1回
    facts = LossFacts(at_fault=True, damage_to_others_yen=damage, own_cost_yen=own_cost)
    assert pays("PROPERTY_DAMAGE", facts, KYOSAI) == paid
    assert pays("PROPERTY_DAMAGE", replace(facts, at_fault=False), KYOSAI) == 0
    assert pays("PROPERTY_DAMAGE", facts, KYOSAI, times_paid_in_year_elsewhere=1) == 0


# ------------------------------------------------------------------ the format (loader)


def _raw() -> dict[str, Any]:
    return tomllib.loads((PRODUCTS_DIR / "rakuten-drive-assist.toml").read_text(encoding="utf-8"), parse_float=D)


def _rider(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in data["riders"] if r["code"] == code)


@pytest.mark.parametrize(("mutate", "key", "reason"), [
    (lambda r: r["payout"]["parts"][0].update(base="nonsense"), "parts[0].base", "unknown Fact"),
    (lambda r: r["payout"]["parts"][0].pop("base"), "parts[0].base", "needs base"),
    (lambda r: r["payout"]["parts"][0].update(amount=5), "parts[0].amount", "not a key of a COST part"),
    (lambda r: r["payout"]["caps"][0].update(sum_insured_times=1), "caps[0].amount", "exactly one of"),
    (lambda r: r["payout"].update(when=[{"fact": "days", "at_least": 1, "below": 3}]), "when[0].fact",
     "exactly one test"),
    (lambda r: r["payout"].update(when=[{"fact": "cause", "is": "FLOOD"}]), "when[0].is", "unknown LossCause"),
    (lambda r: r["payout"].update(when=[{"paying": "NOPE"}]), "IN_CAR_BELONGINGS.payout", "unknown coverage"),
    (lambda r: r["payout"].update(parts=[]), "payout.parts", "at least one part"),
])
def test_broken_payout_rules_name_the_key(mutate: Any, key: str, reason: str) -> None:
    data = copy.deepcopy(_raw())
    mutate(_rider(data, "IN_CAR_BELONGINGS"))
    with pytest.raises(ProductFileError) as e:
        parse_product(data, "rakuten-drive-assist.toml")
    assert key in e.value.key and reason in e.value.reason


def test_same_as_must_name_a_rule() -> None:
    data = copy.deepcopy(_raw())
    _rider(data, "PASSENGER_DOUBLE_MEDICAL")["payout"]["parts"][0]["same_as"] = "NAMED_INSURED_ONLY"
    with pytest.raises(ProductFileError) as e:
        parse_product(data, "rakuten-drive-assist.toml")
    assert "has no pay-out rule" in e.value.reason


def test_every_rule_cites_the_pamphlet() -> None:
    for pid in (RAKUTEN, KYOSAI):
        for line, rule in product_rules(product(pid)).items():
            assert rule.source.split()[0] in {"001", "003"}, line
            for part in rule.parts:
                assert part.source.split()[0] in {"001", "003"}, (line, part.code)


@pytest.mark.parametrize("pid", ["aioi-tough-biz", "tokio-total-assist-group"])
@pytest.mark.parametrize(("repair", "paid"), [(1_499_999, 499_999), (1_500_000, 500_000), (1_500_001, 500_000)])
def test_excess_repair_on_aioi_and_tokio(pid: str, repair: int, paid: int) -> None:
    # 002 L2890-2891 (1事故1台につき50万円を限度), L2825; 004 L456 (相手方の車1台あたり50万円), L458 (6か月以内)
    facts = LossFacts(loss_yen=repair, market_value_yen=1_000_000, fault_percent=100, repaired_on=ACCIDENT)
    assert pays("EXCESS_REPAIR", facts, pid) == paid
    assert pays("EXCESS_REPAIR", replace(facts, repaired_on=date(2026, 9, 11)), pid) == 0


# ------------------------------------------------------------------ who may attach, and the price


def test_family_bike_kinds_exclude_each_other() -> None:
    # 001 L571-573: ファミリーバイク特約(人身傷害) / (自損傷害), one kind per contract (decision)
    with pytest.raises(RatingError) as e:
        rate(product(RAKUTEN), base_quote(RAKUTEN, riders=("FAMILY_BIKE_PIP", "FAMILY_BIKE_SELF")))
    assert e.value.code == "RIDER_CONFLICT"
    assert rate(product(RAKUTEN), base_quote(RAKUTEN, riders=("FAMILY_BIKE_PIP",))).total > 0


def test_rider_priced_as_a_factor_of_its_coverage() -> None:
    # DEMONSTRATION (no rider price is printed in 001): 倍額払 costs 35% of the passenger premium
    q = base_quote(RAKUTEN, coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PIP"),
                                       CoverageChoice("PASSENGER")), riders=("PASSENGER_DOUBLE_MEDICAL",))
    p = rate(product(RAKUTEN), q)
    base = p.explanation.line_steps("PASSENGER_DOUBLE_MEDICAL")[0]
    passenger = [s for s in p.explanation.line_steps("PASSENGER") if s.kind.value != "ROUNDING"][-1].after
    assert base.after == passenger * D("0.35")
    assert "0.35 × PASSENGER premium" in base.value and base.rule.startswith("DEMONSTRATION")
    assert p.explanation.total() == p.total


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda t: t["rider_premiums"].update(PASSENGER_DOUBLE_MEDICAL=1200), "exactly one of a premium and a factor"),
    (lambda t: t["rider_factors"].update(PASSENGER_DOUBLE_MEDICAL={"of": "PD", "rate": 0.3}), "is not a coverage"),
    (lambda t: t["rider_factors"].update(NAMED_INSURED_ONLY={"of": "PD", "rate": 0.3}), "not a priced rider"),
])
def test_broken_rider_factors(mutate: Any, reason: str) -> None:
    data = copy.deepcopy(_raw())
    mutate(data["tariffs"][0])
    with pytest.raises(ProductFileError) as e:
        parse_product(data, "rakuten-drive-assist.toml")
    assert reason in e.value.reason


@pytest.mark.parametrize(("cost", "paid"), [(2_999_999, 2_999_999), (3_000_000, 3_000_000), (3_000_001, 3_000_000)])
def test_new_car_replacement_up_to_the_new_car_sum_insured(cost: int, paid: int) -> None:
    # 001 L480, L1107: 新車価格の保険金額の50%以上の損傷 → その保険金額を限度に再購入費用または修理費;
    # 事故日の翌日から6か月以内に購入・修理; 盗難され発見されない場合を除く
    facts = LossFacts(loss_yen=cost, new_car_value_yen=3_000_000, major_damage=True, replaced=True,
                      cause=LossCause.ACCIDENT, repaired_on=date(2026, 9, 10))
    assert pays("NEW_CAR_REPLACEMENT", facts) == paid
    assert pays("NEW_CAR_REPLACEMENT", replace(facts, repaired_on=date(2026, 9, 11))) == 0
    assert pays("NEW_CAR_REPLACEMENT", replace(facts, major_damage=False)) == 0
    assert pays("NEW_CAR_REPLACEMENT", replace(facts, cause=LossCause.THEFT)) == 0
    assert pays("NEW_CAR_REPLACEMENT", facts, paying=frozenset({"BI", "PD"})) == 0


@pytest.mark.parametrize(("grade", "paid"), [(0, 0), (1, 3_000_000), (7, 1_260_000), (14, 120_000)])
def test_family_bicycle_after_effects(grade: int, paid: int) -> None:
    # 001 L1125: 程度に応じて1名につき12万円から300万円 (grade table: the kyosai decision's 4%..100% of ¥3M)
    assert pays("FAMILY_BICYCLE", LossFacts(outcome=Outcome.DISABILITY, disability_grade=grade)) == paid
    with pytest.raises(RuleError) as e:
        LossFacts(disability_grade=15)
    assert e.value.code == "INVALID_AFTER_EFFECTS_GRADE"
