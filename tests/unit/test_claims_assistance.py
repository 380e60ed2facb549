"""Road assistance and site attendance against each product's limits (001 §7.4, 003, 004 §7.3, 000)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import JST, RuleError
from domain.claims.assistance import (
    AssistanceRequest,
    AssistanceUse,
    ContractContext,
    offered,
    request_assistance,
)
from domain.products.model import AssistanceKind, ContractTrait
from domain.vocab import AccidentClass, Channel
from tests.unit.test_rating_support import AIOI, KYOSAI, RAKUTEN, TOKIO, product

K = AssistanceKind
START = datetime(2026, 4, 1, 16, tzinfo=JST)
END = datetime(2027, 4, 1, 16, tzinfo=JST)
WHEN = datetime(2026, 7, 1, 10, tzinfo=JST)


def ctx(pid: str, channel: Channel = Channel.AGENT, covs: frozenset[str] = frozenset()) -> ContractContext:
    return ContractContext(product(pid), channel, covs, START, END)


def req(kind: AssistanceKind, **kw: Any) -> AssistanceRequest:
    return AssistanceRequest(kind=kind, incident=kw.pop("incident", "i1"), at=kw.pop("at", WHEN), **kw)


def refused(c: ContractContext, r: AssistanceRequest, history: tuple[AssistanceUse, ...] = ()) -> str:
    with pytest.raises(RuleError) as e:
        request_assistance(c, r, history)
    return e.value.code


# ------------------------------------------------------------------ fuel


# 001 L941-945: 10 L, once per policy year (internet); 001 L961: twice (Road Assistance Plus)
def test_rakuten_fuel_once_per_year_on_internet_twice_via_agent() -> None:
    net = ctx(RAKUTEN, Channel.INTERNET)
    first = request_assistance(net, req(K.FUEL, litres=15))
    assert first.free_litres == 10 and first.grade_class is AccidentClass.NO_COUNT
    used = (first.as_use(req(K.FUEL)),)
    assert refused(net, req(K.FUEL, incident="i2", at=WHEN + timedelta(days=30)), used) == "ASSISTANCE_LIMIT_USED_UP"
    agent = ctx(RAKUTEN, Channel.AGENT)
    second = request_assistance(agent, req(K.FUEL, incident="i2"), used)
    assert second.free_litres == 10
    assert refused(agent, req(K.FUEL, incident="i3"), used + (second.as_use(req(K.FUEL)),)) == "ASSISTANCE_LIMIT_USED_UP"


def test_fuel_counts_only_inside_the_period() -> None:
    net = ctx(RAKUTEN, Channel.INTERNET)
    last_year = (AssistanceUse(K.FUEL, "old", START - timedelta(days=10)),)
    assert request_assistance(net, req(K.FUEL), last_year).free_litres == 10
    assert refused(net, req(K.FUEL, at=END)) == "OUTSIDE_POLICY_PERIOD"


# 001 L942: not at the home parking space (サービスの対象外: refused)
def test_no_free_fuel_at_home() -> None:
    assert refused(ctx(RAKUTEN), req(K.FUEL, at_home=True)) == "NOT_AT_HOME_PARKING"


# 002 L3762: at home the fuel is delivered but charged (燃料代は有料), and the free delivery of the
# period is still there afterwards
def test_aioi_fuel_at_home_is_charged_not_refused() -> None:
    c = ctx(AIOI, covs=frozenset({"ROAD_SERVICE"}))
    home = request_assistance(c, req(K.FUEL, at_home=True, litres=10))
    assert (home.free_litres, home.payable, home.limits) == (0, 0, ())
    assert any("home or contracted car park" in n and "charged" in n for n in home.notes)
    away = request_assistance(c, req(K.FUEL, incident="i2", litres=10), (home.as_use(req(K.FUEL)),))
    assert away.free_litres == 10
    used = (home.as_use(req(K.FUEL)), away.as_use(req(K.FUEL)))
    assert refused(c, req(K.FUEL, incident="i3"), used) == "ASSISTANCE_LIMIT_USED_UP"
    # charged at home again even when the free one is used up: never refused at home
    assert request_assistance(c, req(K.FUEL, incident="i4", at_home=True), used).free_litres == 0


# 002 L3759-3760: fleet and multi-car (まとめて割引) contracts: no limit on free fuel deliveries
@pytest.mark.parametrize("trait", [ContractTrait.FLEET, ContractTrait.MULTI_CAR_DISCOUNT])
def test_aioi_fuel_unlimited_for_fleet_and_multi_car(trait: ContractTrait) -> None:
    c = replace(ctx(AIOI, covs=frozenset({"ROAD_SERVICE"})), traits=frozenset({trait}))
    history: tuple[AssistanceUse, ...] = ()
    for i in range(3):
        r = req(K.FUEL, incident=f"i{i}", at=WHEN + timedelta(days=i), litres=12)
        d = request_assistance(c, r, history)
        assert d.free_litres == 10          # still 10 L a delivery (002 L3762)
        history += (d.as_use(r),)
    plain = ctx(AIOI, covs=frozenset({"ROAD_SERVICE"}))
    assert refused(plain, req(K.FUEL, incident="x"), history[:1]) == "ASSISTANCE_LIMIT_USED_UP"


# 002 L3792-3802: JAF members served by JAF: up to ¥4,000 of the cost beyond quick repair, once a
# policy period; not when the tow service was used in the incident
def test_aioi_jaf_excess_4000_once() -> None:
    c = ctx(AIOI, covs=frozenset({"ROAD_SERVICE"}))
    at_cap = request_assistance(c, req(K.BATTERY, via_jaf=True, extra_amount=4_000))
    assert (at_cap.payable, at_cap.customer_pays) == (4_000, 0) and "JAF_EXCESS" in at_cap.limits
    over = request_assistance(c, req(K.BATTERY, via_jaf=True, extra_amount=4_001))
    assert (over.payable, over.customer_pays) == (4_000, 1)
    used = (at_cap.as_use(req(K.BATTERY)),)
    again = request_assistance(c, req(K.LOCKOUT, incident="i2", via_jaf=True, extra_amount=3_000), used)
    assert (again.payable, again.customer_pays) == (0, 3_000)      # once per policy period
    no_jaf = request_assistance(c, req(K.BATTERY, incident="i3", extra_amount=3_000))
    assert (no_jaf.payable, no_jaf.customer_pays) == (0, 3_000)
    tow = request_assistance(c, req(K.TOWING, incident="t", immobile=True, pre_approved=True, amount=50_000))
    after_tow = request_assistance(c, req(K.TYRE, incident="t", via_jaf=True, extra_amount=2_000),
                                   (tow.as_use(req(K.TOWING, incident="t")),))
    assert (after_tow.payable, after_tow.customer_pays) == (0, 2_000)


# 002 L3741-3749: towing arranged through the desk has no ceiling; a self-arranged tow is paid up
# to ¥150,000, or 10% of the vehicle sum insured when that is higher
def test_aioi_towing_ceiling() -> None:
    c = ctx(AIOI, covs=frozenset({"ROAD_SERVICE"}))
    desk = request_assistance(c, req(K.TOWING, immobile=True, pre_approved=True, amount=400_000))
    assert (desk.payable, desk.customer_pays) == (400_000, 0)
    own = request_assistance(c, req(K.TOWING, incident="i2", immobile=True, amount=150_001))
    assert (own.payable, own.customer_pays) == (150_000, 1)
    with_vehicle = replace(c, vehicle_sum_insured=2_000_000)
    d = request_assistance(with_vehicle, req(K.TOWING, incident="i3", immobile=True, amount=250_000))
    assert (d.payable, d.customer_pays) == (200_000, 50_000)
    small = replace(c, vehicle_sum_insured=1_000_000)        # 10% = ¥100,000 < ¥150,000
    assert request_assistance(small, req(K.TOWING, incident="i4", immobile=True, amount=160_000)).payable == 150_000


# 004 L804-806: 10 L once per policy period
def test_tokio_fuel_once() -> None:
    c = ctx(TOKIO, Channel.GROUP)
    d = request_assistance(c, req(K.FUEL, litres=8))
    assert d.free_litres == 8
    assert refused(c, req(K.FUEL, incident="i2"), (d.as_use(req(K.FUEL)),)) == "ASSISTANCE_LIMIT_USED_UP"


# 004 L814: a JAF member using JAF gets the fuel delivery twice a policy period
def test_tokio_fuel_twice_via_jaf() -> None:
    c = ctx(TOKIO, Channel.GROUP)
    first = request_assistance(c, req(K.FUEL, via_jaf=True))
    second = request_assistance(c, req(K.FUEL, incident="i2", via_jaf=True), (first.as_use(req(K.FUEL)),))
    used = (first.as_use(req(K.FUEL)), second.as_use(req(K.FUEL)))
    assert second.free_litres == 10
    assert refused(c, req(K.FUEL, incident="i3", via_jaf=True), used) == "ASSISTANCE_LIMIT_USED_UP"
    assert refused(c, req(K.FUEL, incident="i3"), used[:1]) == "ASSISTANCE_LIMIT_USED_UP"   # not via JAF: once


# 004 L790, L814: parts and consumables are the customer's, except ¥4,000 once a period via JAF
def test_tokio_jaf_parts() -> None:
    c = ctx(TOKIO, Channel.GROUP)
    plain = request_assistance(c, req(K.BATTERY, amount=10_000, extra_amount=5_000))
    assert (plain.payable, plain.customer_pays) == (10_000, 5_000)
    jaf = request_assistance(c, req(K.BATTERY, incident="i2", amount=10_000, via_jaf=True, extra_amount=5_000))
    assert (jaf.payable, jaf.customer_pays) == (14_000, 1_000)
    edge = request_assistance(c, req(K.TYRE, incident="i3", via_jaf=True, extra_amount=4_000))
    assert (edge.payable, edge.customer_pays) == (4_000, 0)
    later = request_assistance(c, req(K.LOCKOUT, incident="i4", via_jaf=True, extra_amount=4_000),
                               (jaf.as_use(req(K.BATTERY)),))
    assert (later.payable, later.customer_pays) == (0, 4_000)


# 002b L3716-3718: aioi assistance only with the road-service rider
def test_aioi_needs_the_road_service_rider() -> None:
    assert refused(ctx(AIOI), req(K.FUEL)) == "RIDER_NOT_HELD"
    assert request_assistance(ctx(AIOI, covs=frozenset({"ROAD_SERVICE"})), req(K.BATTERY)).payable == 0


# ------------------------------------------------------------------ towing


# 001 L893: towing, crane and post-repair pickup ≤ ¥200,000 per incident
def test_rakuten_towing_cap_per_incident() -> None:
    c = ctx(RAKUTEN)
    tow = request_assistance(c, req(K.TOWING, immobile=True, amount=150_000))
    assert tow.payable == 150_000
    pick = request_assistance(c, req(K.POST_REPAIR_TRANSPORT, immobile=True, amount=80_000),
                              (tow.as_use(req(K.TOWING)),))
    assert (pick.payable, pick.customer_pays) == (50_000, 30_000)
    used = (tow.as_use(req(K.TOWING)), pick.as_use(req(K.POST_REPAIR_TRANSPORT)))
    assert refused(c, req(K.WHEEL_DROP, amount=10_000), used) == "ASSISTANCE_LIMIT_USED_UP"
    # another incident has its own ¥200,000
    assert request_assistance(c, req(K.TOWING, incident="i2", immobile=True, amount=200_000), used).payable == 200_000


def test_towing_needs_an_immobile_car() -> None:
    assert refused(ctx(RAKUTEN), req(K.TOWING, amount=10_000)) == "VEHICLE_NOT_IMMOBILE"


# 004 L766-790: towing + emergency response ¥150,000 combined per event
def test_tokio_towing_and_emergency_combined() -> None:
    c = ctx(TOKIO, Channel.GROUP)
    batt = request_assistance(c, req(K.BATTERY, amount=20_000))
    tow = request_assistance(c, req(K.TOWING, immobile=True, amount=140_000), (batt.as_use(req(K.BATTERY)),))
    assert tow.payable == 130_000 and tow.customer_pays == 10_000



# 004 L776, L817 (*2): towing to a destination the insurer approved in advance has no limit
def test_tokio_towing_unlimited_if_pre_approved() -> None:
    c = ctx(TOKIO, Channel.GROUP)
    edge = request_assistance(c, req(K.TOWING, immobile=True, amount=150_000))
    assert (edge.payable, edge.customer_pays) == (150_000, 0)
    over = request_assistance(c, req(K.TOWING, incident="i2", immobile=True, amount=150_001))
    assert (over.payable, over.customer_pays) == (150_000, 1)
    tow = request_assistance(c, req(K.TOWING, incident="i3", immobile=True, pre_approved=True, amount=400_000))
    assert (tow.payable, tow.customer_pays) == (400_000, 0)
    # the approved tow does not use up the ¥150,000 left for the emergency response of the event
    batt = request_assistance(c, req(K.BATTERY, incident="i3", amount=150_000),
                              (tow.as_use(req(K.TOWING, incident="i3")),))
    assert batt.payable == 150_000


# 003 L139-141: 15 km free, once; L142: not free at the home car park
def test_kyosai_towing() -> None:
    c = ctx(KYOSAI, covs=frozenset({"ROAD_SERVICE"}))
    d = request_assistance(c, req(K.TOWING, immobile=True, tow_km=22))
    assert d.chargeable_km == 7
    assert refused(c, req(K.TOWING, immobile=True), (d.as_use(req(K.TOWING)),)) == "ASSISTANCE_LIMIT_USED_UP"
    # at the home car park the tow is a charged referral (有料案内), not refused, and not the free one
    home = request_assistance(c, req(K.TOWING, immobile=True, at_home=True, incident="i2", tow_km=5, amount=12_000))
    assert (home.payable, home.customer_pays, home.chargeable_km, home.limits) == (0, 12_000, 5, ())
    assert request_assistance(c, req(K.TOWING, immobile=True, incident="i3", tow_km=15),
                              (home.as_use(req(K.TOWING)),)).chargeable_km == 0
    assert refused(ctx(KYOSAI), req(K.TOWING, immobile=True)) == "RIDER_NOT_HELD"       # 003 L66


# 003 L162-163: up to a 1 m drop free, more is charged
def test_kyosai_wheel_drop() -> None:
    c = ctx(KYOSAI, covs=frozenset({"ROAD_SERVICE"}))
    assert any("over 1 m" in n for n in request_assistance(c, req(K.WHEEL_DROP, drop_m=2)).notes)


# ------------------------------------------------------------------ people: lodging and transport


# 001 L998-1009: transport ¥20,000 / lodging ¥10,000 per person per incident (internet);
# 001 L1039-1045: ¥40,000 / ¥20,000 with Road Assistance Plus (agent)
@pytest.mark.parametrize(("channel", "transport", "lodging"),
                         [(Channel.INTERNET, 20_000, 10_000), (Channel.AGENT, 40_000, 20_000)])
def test_rakuten_per_person_caps(channel: Channel, transport: int, lodging: int) -> None:
    c = ctx(RAKUTEN, channel)
    t = request_assistance(c, req(K.TRANSPORT_HOME, immobile=True, person_amounts={"a": 50_000, "b": 5_000}))
    assert t.person_paid == {"a": transport, "b": 5_000}
    lo = request_assistance(c, req(K.LODGING, stolen=True, person_amounts={"a": 30_000}))
    assert lo.payable == lodging and lo.customer_pays == 30_000 - lodging


# 001 L999-1001: a shared taxi or rental car ≤ ¥20,000 per vehicle
def test_rakuten_shared_taxi_cap() -> None:
    d = request_assistance(ctx(RAKUTEN, Channel.INTERNET), req(K.TRANSPORT_HOME, immobile=True, vehicle_amount=35_000))
    assert d.payable == 20_000


# 001 L1015-1018: pet lodging ¥10,000 per incident, dog or cat, only with the owner's lodging
def test_rakuten_pet_lodging() -> None:
    c = ctx(RAKUTEN, Channel.INTERNET)
    assert refused(c, req(K.PET_LODGING, immobile=True, pet="DOG", amount=8_000)) == "PET_NEEDS_LODGING"
    lodging = AssistanceUse(K.LODGING, "i1", WHEN, 10_000, {"a": 10_000})
    assert refused(c, req(K.PET_LODGING, immobile=True, pet="RABBIT", amount=8_000), (lodging,)) == "PET_NOT_COVERED"
    d = request_assistance(c, req(K.PET_LODGING, immobile=True, pet="CAT", amount=15_000), (lodging,))
    assert d.payable == 10_000


# 003 L176-177: lodging ¥15,000 per person, 100 km or more from home
# 003 L184-190: travel home ¥20,000 per person, a shared taxi ¥20,000 per taxi
# 003 L195-196: repaired car home ≤ ¥50,000, 100 km or more
def test_kyosai_distance_conditions() -> None:
    c = ctx(KYOSAI, covs=frozenset({"ROAD_SERVICE"}))
    assert refused(c, req(K.LODGING, immobile=True, distance_from_home_km=99,
                          person_amounts={"a": 9_000})) == "TOO_CLOSE_TO_HOME"
    assert refused(c, req(K.LODGING, immobile=True, person_amounts={"a": 9_000})) == "TOO_CLOSE_TO_HOME"
    lo = request_assistance(c, req(K.LODGING, immobile=True, distance_from_home_km=100,
                                   person_amounts={"a": 18_000, "b": 12_000}))
    assert lo.person_paid == {"a": 15_000, "b": 12_000}
    home = request_assistance(c, req(K.TRANSPORT_HOME, immobile=True, distance_from_home_km=300,
                                     person_amounts={"a": 26_000}, vehicle_amount=45_000))
    assert home.payable == 20_000 + 20_000
    rep = request_assistance(c, req(K.POST_REPAIR_TRANSPORT, immobile=True, distance_from_home_km=400,
                                    amount=60_000))
    assert rep.payable == 50_000


# 004 L794-798: alternative transport ¥50,000 per event, taxi ≤ ¥30,000
def test_tokio_alternative_transport() -> None:
    c = ctx(TOKIO, Channel.GROUP)
    d = request_assistance(c, req(K.TRANSPORT_HOME, immobile=True, vehicle_amount=40_000,
                                  person_amounts={"a": 25_000}))
    assert d.payable == 50_000          # 30,000 taxi + 25,000 train → 55,000 capped at 50,000
    assert d.person_paid == {"a": 25_000}     # the cut comes off the shared taxi first
    assert refused(c, req(K.LODGING, immobile=True, person_amounts={"a": 1})) == "ASSISTANCE_NOT_OFFERED"


# ------------------------------------------------------------------ site attendance (000)


# 000 L34-37: any accident of a contract holder; not for a breakdown that only needs road assistance
def test_site_attendance() -> None:
    c = ctx(RAKUTEN, Channel.INTERNET)
    d = request_assistance(c, req(K.SITE_ATTENDANCE, accident=True))
    assert d.payable == 0 and d.grade_class is AccidentClass.NO_COUNT
    assert refused(c, req(K.SITE_ATTENDANCE, accident=False)) == "NOT_AN_ACCIDENT"
    assert refused(ctx(TOKIO, Channel.GROUP), req(K.SITE_ATTENDANCE, accident=True)) == "ASSISTANCE_NOT_OFFERED"


def test_offered_kinds_per_product() -> None:
    assert K.SITE_ATTENDANCE in offered(product(RAKUTEN), Channel.INTERNET)
    assert K.LODGING not in offered(product(TOKIO), Channel.GROUP)
    assert set(offered(product(KYOSAI), Channel.AGENT)) >= {K.TOWING, K.LODGING, K.TRANSPORT_HOME, K.FUEL}


def test_bad_input() -> None:
    c = ctx(RAKUTEN)
    assert refused(c, req(K.TOWING, immobile=True, amount=-1)) == "NEGATIVE_AMOUNT"
    assert refused(c, replace(req(K.FUEL), at=datetime(2026, 7, 1, 10))) == "NAIVE_DATETIME"


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=300_000), min_size=1, max_size=6))
def test_incident_cap_never_exceeded(amounts: list[int]) -> None:
    c = ctx(RAKUTEN)
    history: tuple[AssistanceUse, ...] = ()
    for i, a in enumerate(amounts):
        kind = (K.TOWING, K.WHEEL_DROP, K.POST_REPAIR_TRANSPORT)[i % 3]
        r = req(kind, immobile=True, amount=a, at=WHEN + timedelta(minutes=i))
        try:
            d = request_assistance(c, r, history)
        except RuleError as e:
            assert e.code == "ASSISTANCE_LIMIT_USED_UP"
            continue
        assert 0 <= d.payable <= a and d.customer_pays >= 0
        history += (d.as_use(r),)
    assert sum(h.paid for h in history) <= 200_000
    assert date(2026, 7, 1) == WHEN.date()


def test_product_files_assistance_limits_are_consistent() -> None:
    for pid in (RAKUTEN, AIOI, TOKIO, KYOSAI):
        p = product(pid)
        codes = {c.code for c in p.coverages} | {r.code for r in p.riders}
        for lim in p.road_assistance:
            assert set(lim.requires) <= codes, (pid, lim.code)
            assert lim.source
            if lim.services and lim.basis.value.startswith("YEN"):
                assert lim.amount > 0, (pid, lim.code)
