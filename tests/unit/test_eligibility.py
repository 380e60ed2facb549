"""Who may buy a product at all (issue 13): rakuten and tokio are for individual, non-fleet
contracts. The rule is checked by rating itself, so a quote, an endorsement and a renewal are
refused alike, before anything is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.rating import CoverageChoice, NamedInsured, QuoteInput, RatingError, rate
from domain.vocab import AgeCondition, DriverRestriction, LicenceColour, UseType
from tests.unit.test_rating_support import AIOI, RAKUTEN, TOKIO, base_quote, product

CORPORATE = NamedInsured(date(1900, 1, 1), LicenceColour.BLUE, individual=False)


def refusal(pid: str, **changes: object) -> RatingError:
    with pytest.raises(RatingError) as e:
        rate(product(pid), replace(base_quote(pid), **changes))
    return e.value


# 001 L161-165 (個人のお客さま専用); 004 L405-415 (named insured is an individual)
@pytest.mark.parametrize(("pid", "line"), [(RAKUTEN, "001 L161-165"), (TOKIO, "004 L405-415")])
def test_a_corporate_named_insured_is_not_eligible(pid: str, line: str) -> None:
    e = refusal(pid, named_insured=CORPORATE)
    assert e.code == "NOT_ELIGIBLE_CORPORATE_NAMED_INSURED" and e.field == "namedInsured.individual"
    assert line in e.message


# 001 L176-178 and 004 L1612: non-fleet is 9 or fewer insured cars; 10 is a fleet
@pytest.mark.parametrize(("pid", "line"), [(RAKUTEN, "001 L176-178"), (TOKIO, "004 L1612")])
def test_ten_cars_is_a_fleet_nine_is_not(pid: str, line: str) -> None:
    q = base_quote(pid)
    nine = replace(q, discounts=replace(q.discounts, multi_car_count=9))
    assert rate(product(pid), nine).total > 0
    e = refusal(pid, discounts=replace(q.discounts, multi_car_count=10))
    assert e.code == "NOT_ELIGIBLE_FLEET" and line in e.message


def corporate_aioi(**changes: object) -> QuoteInput:
    """An aioi quote for a company, with the PD deductible a company must set (002a L2813-2814)."""
    q = base_quote(AIOI, named_insured=CORPORATE)
    pd = tuple(CoverageChoice("PD", "UNLIMITED_DED_50000") if c.code == "PD" else c for c in q.coverages)
    return replace(q, coverages=pd, **changes)


def test_aioi_is_a_commercial_product_and_insures_a_company() -> None:
    assert rate(product(AIOI), corporate_aioi()).total > 0


# 002b L4624-4625: 本人・配偶者限定 only when the named insured is an individual with a private
# passenger car; L4626-4627: the age condition only for a private passenger car
def test_aioi_spouse_restriction_needs_a_person_and_a_passenger_car() -> None:
    q = replace(base_quote(AIOI), driver_restriction=DriverRestriction.NAMED_INSURED_AND_SPOUSE)
    assert rate(product(AIOI), q).total > 0
    for changes in ({"named_insured": CORPORATE}, {"vehicle": replace(q.vehicle, use_type=UseType.PRIVATE_SMALL_TRUCK)}):
        e = refusal(AIOI, driver_restriction=DriverRestriction.NAMED_INSURED_AND_SPOUSE, **changes)
        assert e.code == "NOT_ELIGIBLE_DRIVER_RESTRICTION" and "002b L4624-4625" in e.message


def test_aioi_age_condition_is_for_passenger_cars() -> None:
    q = base_quote(AIOI)
    truck = replace(q.vehicle, use_type=UseType.PRIVATE_SMALL_TRUCK)
    assert rate(product(AIOI), replace(q, vehicle=truck, age_condition=AgeCondition.ANY)).total > 0
    e = refusal(AIOI, vehicle=truck, age_condition=AgeCondition.AGE_26)
    assert e.code == "NOT_ELIGIBLE_AGE_CONDITION" and "002b L4626-4627" in e.message
    assert rate(product(AIOI), corporate_aioi(age_condition=AgeCondition.AGE_26)).total > 0


# 001 L482: the new-car replacement rider only while the expiry falls within 61 months counted
# from the month after first registration (registered 2021-03: month 1 is 2021-04, month 61 is 2026-04)
def test_rakuten_new_car_rider_needs_expiry_within_61_months_of_first_registration() -> None:
    from domain.calendar import YearMonth

    q = base_quote(RAKUTEN)
    q = replace(q, start_date=date(2025, 4, 20), riders=("NEW_CAR_REPLACEMENT",))
    at_edge = replace(q, vehicle=replace(q.vehicle, first_registration=YearMonth(2021, 3)))  # expiry 2026-04
    assert rate(product(RAKUTEN), at_edge).total > rate(product(RAKUTEN), replace(at_edge, riders=())).total
    e = refusal(RAKUTEN, start_date=q.start_date, riders=q.riders,
                vehicle=replace(q.vehicle, first_registration=YearMonth(2021, 2)))  # month 62
    assert e.code == "NOT_ELIGIBLE_RIDER_VEHICLE_AGE" and "001 L478-484" in e.message and "2026-03" in e.message
    e = refusal(RAKUTEN, start_date=q.start_date, riders=q.riders,
                vehicle=replace(q.vehicle, first_registration=None))
    assert e.code == "NOT_ELIGIBLE_RIDER_VEHICLE_AGE" and e.field == "vehicle.firstRegistration"


# 002a L2813-2814: 記名被保険者が法人の場合は(対物賠償保険に)免責金額を設定していただきます
def test_aioi_corporate_must_set_a_property_damage_deductible() -> None:
    q = replace(base_quote(AIOI), named_insured=CORPORATE)
    e = refusal(AIOI, named_insured=CORPORATE)                    # PD at its default option: no deductible
    assert e.code == "NOT_ELIGIBLE_DEDUCTIBLE_REQUIRED" and e.field == "coverages"
    assert "002a L2813-2814" in e.message and "UNLIMITED_DED_50000" in e.message
    with_ded = tuple(CoverageChoice("PD", "UNLIMITED_DED_50000") if c.code == "PD" else c for c in q.coverages)
    assert rate(product(AIOI), replace(q, coverages=with_ded)).total > 0
    # an individual may choose either; a company without PD has nothing to set
    assert rate(product(AIOI), replace(base_quote(AIOI), coverages=with_ded)).total > 0
    no_pd = tuple(c for c in q.coverages if c.code != "PD")
    assert rate(product(AIOI), replace(q, coverages=no_pd)).total > 0


# 002a L2844-2846: excess repair is set automatically for an individual named insured with PD;
# a company may ask for it
def test_aioi_excess_repair_is_automatic_for_a_person_optional_for_a_company() -> None:
    assert "EXCESS_REPAIR" in rate(product(AIOI), base_quote(AIOI)).riders
    q = replace(base_quote(AIOI), named_insured=CORPORATE)
    q = replace(q, coverages=tuple(CoverageChoice("PD", "UNLIMITED_DED_100000") if c.code == "PD" else c
                                   for c in q.coverages))
    assert "EXCESS_REPAIR" not in rate(product(AIOI), q).riders
    assert "EXCESS_REPAIR" in rate(product(AIOI), replace(q, riders=("EXCESS_REPAIR",))).riders
    no_pd = replace(q, coverages=tuple(c for c in q.coverages if c.code != "PD"), riders=("EXCESS_REPAIR",))
    with pytest.raises(RatingError) as e:
        rate(product(AIOI), no_pd)
    assert e.value.code == "RIDER_REQUIRES"
