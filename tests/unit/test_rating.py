"""Rating engine: rounding, tariff choice, the kyosai table, instalments and input errors."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from domain.calendar import YearMonth
from domain.explanation import StepKind
from domain.grade import GradeMarker, GradeRecord
from domain.rating import CoverageChoice, NamedInsured, QuoteInput, RatingError, rate
from domain.vocab import AgeCondition, Channel, DriverRestriction, PaymentMethod, UseType
from tests.unit.test_rating_support import (
    AIOI,
    KYOSAI,
    RAKUTEN,
    TOKIO,
    base_quote,
    product,
    quote,
    step,
    with_facts,
    with_vehicle,
)


def _error(q: QuoteInput) -> RatingError:
    with pytest.raises(RatingError) as e:
        quote(q)
    return e.value


# ------------------------------------------------------------------ rounding and explanation


@pytest.mark.parametrize("pid", [RAKUTEN, AIOI, TOKIO, KYOSAI])
def test_each_line_is_rounded_down_to_10_yen(pid: str) -> None:
    p = quote(base_quote(pid, payment_method=PaymentMethod.MONTHLY))
    for line in p.lines:
        assert line.amount % 10 == 0
        steps = p.explanation.line_steps(line.code)
        exact = steps[-1].before if steps[-1].kind is StepKind.ROUNDING else steps[-1].after
        assert 0 <= exact - line.amount < 10          # down, never up
    assert p.total == sum(line.amount for line in p.lines) == p.explanation.total()


def test_rounding_is_per_line_not_on_the_total() -> None:
    p = quote(base_quote(RAKUTEN))
    unrounded = sum(s.before for s in p.explanation.steps if s.kind is StepKind.ROUNDING)
    rounded = sum(s.after for s in p.explanation.steps if s.kind is StepKind.ROUNDING)
    assert rounded < unrounded
    assert all(s.after % 10 == 0 for s in p.explanation.steps if s.kind is StepKind.ROUNDING)


def test_explanation_chains_and_names_the_tariff() -> None:
    p = quote(base_quote(AIOI))
    assert p.explanation.tariff_version == p.tariff_version == "aioi-tough-biz/DEMO-2025-01"
    assert p.demonstration and p.explanation.demonstration
    for line in p.explanation.lines():
        steps = p.explanation.line_steps(line)
        assert steps[0].kind is StepKind.BASE and steps[0].before == 0
        for a, b in itertools.pairwise(steps):
            assert a.after == b.before
            if b.rate is not None:
                assert b.after == b.before * b.rate


def test_factor_order_follows_the_product_file() -> None:
    p = quote(base_quote(RAKUTEN))
    factors = [s.factor for s in p.explanation.line_steps("BI") if s.kind is StepKind.FACTOR]
    assert factors == ["GRADE", "AGE_CONDITION", "AGE_BAND", "DRIVER_RESTRICTION", "USE_PURPOSE", "MILEAGE_CLASS", "RATING_CLASS"]


def test_grade_step_uses_the_pamphlet_coefficient() -> None:
    g20 = step(quote(base_quote(RAKUTEN, grade=GradeRecord(20, GradeMarker.NONE, 0))), "BI", "GRADE")
    assert g20 is not None and g20.rate == D("0.37")                 # 20: −63% (001 L780)
    g6s = step(quote(base_quote(RAKUTEN, grade=GradeRecord(6, GradeMarker.S, 0))), "BI", "GRADE")
    assert g6s is not None and g6s.rate == D("1.03")                 # 6(S): +3% (001 L780)
    g20a = step(quote(base_quote(RAKUTEN, grade=GradeRecord(20, GradeMarker.NONE, 2))), "BI", "GRADE")
    assert g20a is not None and g20a.rate == D("0.49")               # 20 with accident: −51% (001 L781)


# ------------------------------------------------------------------ tariff versions


def test_tariff_is_chosen_by_start_date() -> None:
    old = quote(base_quote(RAKUTEN, start_date=date(2025, 12, 31)))
    new = quote(base_quote(RAKUTEN, start_date=date(2026, 1, 1)))
    assert old.tariff_version == "rakuten-drive-assist/DEMO-2023-12"
    assert new.tariff_version == "rakuten-drive-assist/DEMO-2026-01"
    assert step(new, "BI", "BASE").after == D(24480)   # type: ignore[union-attr]
    assert step(old, "BI", "BASE").after == D(24000)   # type: ignore[union-attr]


def test_tariff_date_can_be_given_explicitly() -> None:
    q = base_quote(RAKUTEN, start_date=date(2026, 3, 1))
    assert rate(product(RAKUTEN), q, on=date(2025, 6, 1)).tariff_version == "rakuten-drive-assist/DEMO-2023-12"


def test_start_before_product_validity() -> None:
    e = _error(base_quote(RAKUTEN, start_date=date(2023, 11, 30)))    # 001 L18: from 2023-12-01
    assert (e.code, e.field) == ("START_BEFORE_PRODUCT", "startDate")


def test_no_tariff_in_force() -> None:
    e = pytest.raises(RatingError, rate, product(RAKUTEN), base_quote(RAKUTEN), on=date(2020, 1, 1)).value
    assert e.code == "NO_TARIFF_IN_FORCE"


# ------------------------------------------------------------------ kyosai: exact table (003)

KYOSAI_TABLE = [
    (UseType.PRIVATE_STANDARD_PASSENGER, 9000, 900),     # 003 L34 自家用乗用自動車
    (UseType.PRIVATE_SMALL_PASSENGER, 9000, 900),        # 003 L34
    (UseType.PRIVATE_KEI_PASSENGER, 4500, 450),          # 003 L35
    (UseType.PRIVATE_LARGE_TRUCK, 16500, 1650),          # 003 L36 (2t超)
    (UseType.PRIVATE_STANDARD_TRUCK_HEAVY, 13500, 1350),  # 003 L37 (2t以下)
    (UseType.PRIVATE_STANDARD_TRUCK_LIGHT, 13500, 1350),  # 003 L37 (2t以下)
    (UseType.PRIVATE_SMALL_TRUCK, 9000, 900),            # 003 L38
    (UseType.PRIVATE_KEI_TRUCK, 4500, 450),              # 003 L39
]


@pytest.mark.parametrize(("use_type", "annual", "monthly"), KYOSAI_TABLE)
def test_kyosai_premium_table(use_type: UseType, annual: int, monthly: int) -> None:
    q = with_vehicle(base_quote(KYOSAI), use_type=use_type, rating_classes={})
    a = quote(q)
    assert a.total == annual and a.instalments == (annual,)
    assert not a.demonstration
    m = quote(replace(q, payment_method=PaymentMethod.MONTHLY))
    assert m.instalments == (monthly,) * 12
    assert m.total == monthly * 12


def test_kyosai_riders() -> None:
    q = base_quote(KYOSAI, riders=("VEHICLE_ACCIDENT", "PROPERTY_DAMAGE"))
    p = quote(q)
    assert {line.code: line.amount for line in p.lines} == {
        "ACCIDENT_EXPENSE": 9000, "VEHICLE_ACCIDENT": 2100, "PROPERTY_DAMAGE": 1000,   # 003 L47, L51
    }
    m = quote(replace(q, payment_method=PaymentMethod.MONTHLY))
    assert m.instalments == (900 + 210 + 100,) * 12                                   # 003 L47, L51 月払
    assert p.explanation.total() == p.total == 12100


def test_kyosai_has_no_grade_age_or_sex_factor() -> None:
    p = quote(base_quote(KYOSAI, named_insured=NamedInsured(date(2005, 1, 1))))       # 003 L6
    assert [s.kind for s in p.explanation.steps] == [StepKind.BASE]


def test_kyosai_road_service_needs_a_rider() -> None:
    assert _error(base_quote(KYOSAI, riders=("ROAD_SERVICE",))).code == "RIDER_REQUIRES"
    assert quote(base_quote(KYOSAI, riders=("ROAD_SERVICE", "VEHICLE_ACCIDENT"))).total == 11100


@pytest.mark.parametrize("use_type", [UseType.CAMPING_CAR, UseType.COMMERCIAL_SMALL_TRUCK, UseType.MOTORCYCLE])
def test_kyosai_insures_only_the_listed_private_types(use_type: UseType) -> None:
    e = _error(with_vehicle(base_quote(KYOSAI), use_type=use_type))
    assert (e.code, e.field) == ("USE_TYPE_NOT_INSURED", "vehicle.useType")


# ------------------------------------------------------------------ instalments


def test_monthly_instalments_add_up_and_carry_the_remainder_first() -> None:
    p = quote(base_quote(RAKUTEN, payment_method=PaymentMethod.MONTHLY))
    assert len(p.instalments) == 12 and sum(p.instalments) == p.total
    assert p.instalments[0] >= p.instalments[1] == p.instalments[-1]
    s = step(p, "BI", "INSTALMENT")
    assert s is not None and s.rate == D("1.05")           # SPEC §4.3 (001 L829 gives no rate)


def test_monthly_costs_five_percent_more_before_rounding() -> None:
    annual = quote(base_quote(AIOI))
    monthly = quote(base_quote(AIOI, payment_method=PaymentMethod.MONTHLY))
    for a, m in zip(annual.lines, monthly.lines):
        exact = step(annual, a.code, "ROUNDING")
        assert exact is not None
        assert m.amount == int(exact.before * D("1.05")) // 10 * 10     # 002 L5379


# ------------------------------------------------------------------ validation errors


def test_vehicle_type_the_product_does_not_insure() -> None:
    e = _error(with_vehicle(base_quote(RAKUTEN), use_type=UseType.COMMERCIAL_SMALL_TRUCK))   # 001 L166-174
    assert (e.code, e.field) == ("USE_TYPE_NOT_INSURED", "vehicle.useType")
    e = _error(with_vehicle(base_quote(AIOI), use_type=UseType.MOTORCYCLE))                  # 002 L817-819
    assert e.code == "USE_TYPE_NOT_INSURED"


def test_rakuten_internet_rules() -> None:
    online = base_quote(RAKUTEN, channel=Channel.INTERNET)
    e = _error(with_vehicle(online, use_type=UseType.CAMPING_CAR))           # 001 L181
    assert (e.code, e.field) == ("USE_TYPE_NOT_ON_CHANNEL", "vehicle.useType")
    e = _error(replace(online, payment_method=PaymentMethod.MONTHLY))         # 001 L677 card only
    assert (e.code, e.field) == ("PAYMENT_METHOD_NOT_ON_CHANNEL", "paymentMethod")


def test_missing_mandatory_coverage() -> None:
    e = _error(base_quote(RAKUTEN, coverages=(CoverageChoice("BI"), CoverageChoice("PD"))))   # 001 L30-59
    assert (e.code, e.field) == ("MISSING_MANDATORY_COVERAGE", "coverages")


def test_at_least_one_of_bi_pd_vehicle() -> None:
    e = _error(base_quote(AIOI, coverages=(CoverageChoice("PI"),)))            # 002 L3282-3283
    assert (e.code, e.field) == ("MISSING_REQUIRED_COVERAGE", "coverages")
    assert quote(base_quote(AIOI, coverages=(CoverageChoice("VEHICLE"),))).total > 0


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"coverages": ()}, "NO_COVERAGE", "coverages"),
        ({"coverages": (CoverageChoice("BI"), CoverageChoice("BI"))}, "DUPLICATE_COVERAGE", "coverages[1].code"),
        ({"coverages": (CoverageChoice("XYZ"),)}, "UNKNOWN_COVERAGE", "coverages[0].code"),
        ({"coverages": (CoverageChoice("BI", "SI_1M"),)}, "UNKNOWN_LIMIT_OPTION", "coverages[0].option"),
        ({"riders": ("NOPE",)}, "UNKNOWN_RIDER", "riders[0]"),
        ({"term_months": 6}, "TERM_NOT_OFFERED", "termMonths"),
        ({"channel": Channel.GROUP}, "CHANNEL_NOT_OFFERED", "channel"),
        ({"grade": None}, "GRADE_REQUIRED", "grade"),
        ({"use_purpose": None}, "USE_PURPOSE_REQUIRED", "usePurpose"),
        ({"mileage_class": None}, "MILEAGE_CLASS_REQUIRED", "mileageClass"),
        ({"mileage_class": 9}, "INVALID_MILEAGE_CLASS", "mileageClass"),
        ({"named_insured": NamedInsured(date(2026, 6, 1))}, "BIRTH_NOT_BEFORE_START", "namedInsured.birthDate"),
    ],
)
def test_invalid_input_has_a_code_and_field(changes: dict, code: str, field: str) -> None:
    e = _error(base_quote(RAKUTEN, **changes))
    assert (e.code, e.field) == (code, field)
    assert e.message


def test_product_mismatch() -> None:
    e = pytest.raises(RatingError, rate, product(AIOI), base_quote(RAKUTEN)).value
    assert (e.code, e.field) == ("PRODUCT_MISMATCH", "productId")


def test_rider_conflicts() -> None:
    both = base_quote(RAKUTEN, riders=("NAMED_INSURED_ONLY", "NAMED_INSURED_AND_SPOUSE"))   # 001 L635, L646
    assert (_error(both).code, _error(both).field) == ("RIDER_CONFLICT", "riders")
    mismatch = base_quote(RAKUTEN, riders=("NAMED_INSURED_ONLY",), driver_restriction=DriverRestriction.NONE)
    assert _error(mismatch).code == "RIDER_CONFLICT"
    ok = quote(base_quote(RAKUTEN, riders=("NAMED_INSURED_ONLY",), driver_restriction=DriverRestriction.NAMED_INSURED_ONLY))
    assert "NAMED_INSURED_ONLY" in ok.riders


def test_driver_restriction_brings_its_rider_and_automatic_riders_are_attached() -> None:
    p = quote(base_quote(RAKUTEN, driver_restriction=DriverRestriction.NAMED_INSURED_AND_SPOUSE))
    assert "NAMED_INSURED_AND_SPOUSE" in p.riders
    # 001 L378, L453, L472, L889: automatic riders
    assert {"PIP_EMERGENCY_SUPPORT", "UNINSURED_MOTORIST", "AGREED_VALUE", "ROAD_ASSISTANCE"} <= set(p.riders)
    no_vehicle = quote(base_quote(RAKUTEN, coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PIP"))))
    assert "AGREED_VALUE" not in no_vehicle.riders


def test_rider_requirements() -> None:
    e = _error(base_quote(RAKUTEN, riders=("PASSENGER_DOUBLE_MEDICAL",)))    # 001 L435
    assert (e.code, e.field) == ("RIDER_REQUIRES", "riders")


def test_seven_perils_needs_a_50k_or_70k_deductible() -> None:
    # 002 L3334-3342: 7補償限定 only with a ¥50,000 or ¥70,000 deductible
    covs = (CoverageChoice("BI"), CoverageChoice("VEHICLE", "DED_100000"))
    e = _error(base_quote(AIOI, coverages=covs, riders=("VEHICLE_7_PERILS",)))
    assert (e.code, e.field) == ("RIDER_REQUIRES_OPTION", "coverages")
    for ded in ("DED_50000", "DED_70000"):
        ok = base_quote(AIOI, coverages=(CoverageChoice("BI"), CoverageChoice("VEHICLE", ded)), riders=("VEHICLE_7_PERILS",))
        assert "VEHICLE_7_PERILS" in quote(ok).riders
    clash = base_quote(AIOI, riders=("VEHICLE_7_PERILS", "CAR_TO_CAR_ZERO_DEDUCTIBLE"))
    assert _error(clash).code == "RIDER_CONFLICT"


def test_aioi_offers_only_its_conditions() -> None:
    e = _error(base_quote(AIOI, driver_restriction=DriverRestriction.NAMED_INSURED_ONLY))   # 002 L4624-4625
    assert (e.code, e.field) == ("DRIVER_RESTRICTION_NOT_OFFERED", "driverRestriction")
    e = _error(base_quote(AIOI, age_condition=AgeCondition.AGE_35))                          # 002 L4626-4627
    assert (e.code, e.field) == ("AGE_CONDITION_NOT_OFFERED", "ageCondition")


def test_tokio_is_group_only() -> None:
    assert _error(base_quote(TOKIO, channel=Channel.AGENT)).code == "CHANNEL_NOT_OFFERED"   # 004 L1298


def test_rating_class_checks() -> None:
    e = _error(with_vehicle(base_quote(RAKUTEN), rating_classes={"BI": 5}))
    assert (e.code, e.field) == ("RATING_CLASS_REQUIRED", "vehicle.ratingClasses.PD")
    e = _error(with_vehicle(base_quote(RAKUTEN), rating_classes={"BI": 18, "PD": 1, "INJURY": 1, "VEHICLE": 1}))
    assert (e.code, e.field) == ("RATING_CLASS_OUT_OF_RANGE", "vehicle.ratingClasses.BI")   # 1-17 (001 L799)
    kei = with_vehicle(base_quote(AIOI), use_type=UseType.PRIVATE_KEI_PASSENGER,
                       rating_classes={"BI": 7, "PD": 7, "INJURY": 7, "VEHICLE": 7})
    assert quote(kei).total > 0                                                            # kei 1-7 (002 L4822)
    truck = with_vehicle(base_quote(RAKUTEN), use_type=UseType.PRIVATE_SMALL_TRUCK, rating_classes={})
    assert step(quote(truck), "BI", "RATING_CLASS") is None


def test_vehicle_dates_before_start() -> None:
    e = _error(with_vehicle(base_quote(RAKUTEN), first_registration=YearMonth(2026, 6)))
    assert (e.code, e.field) == ("START_BEFORE_FIRST_REGISTRATION", "vehicle.firstRegistration")
    e = _error(with_vehicle(base_quote(RAKUTEN), model_release=YearMonth(2027, 1)))
    assert e.code == "START_BEFORE_MODEL_RELEASE"


@pytest.mark.parametrize(
    ("facts", "code"),
    [({"multi_car_count": 0}, "INVALID_CAR_COUNT"), ({"telematics_score": 101}, "INVALID_SCORE"),
     ({"one_day_policy_count": -1}, "INVALID_COUNT")],
)
def test_invalid_discount_facts(facts: dict, code: str) -> None:
    assert _error(with_facts(base_quote(AIOI), **facts)).code == code


def test_grade_one_repeat_surcharge_aioi() -> None:
    g1 = GradeRecord(1, GradeMarker.NONE, 3)
    p = quote(base_quote(AIOI, grade=g1, grade_one_repeat=True))
    s = step(p, "BI", "GRADE_ONE_REPEAT")
    assert s is not None and s.rate == D("1.20")                  # 002 L4421-4427: a further +20%
    assert step(quote(base_quote(AIOI, grade=g1)), "BI", "GRADE_ONE_REPEAT") is None
    g2 = GradeRecord(2, GradeMarker.NONE, 3)
    assert step(quote(base_quote(AIOI, grade=g2, grade_one_repeat=True)), "BI", "GRADE_ONE_REPEAT") is None
    # rakuten prints no such surcharge
    assert step(quote(base_quote(RAKUTEN, grade=g1, grade_one_repeat=True)), "BI", "GRADE_ONE_REPEAT") is None


def test_rate_in_looks_the_product_up() -> None:
    from domain.products import default_catalog
    from domain.rating import rate_in

    products = default_catalog().products
    assert rate_in(products, base_quote(AIOI)).product_id == AIOI
    e = pytest.raises(RatingError, rate_in, products, base_quote(AIOI, product_id="nope")).value
    assert (e.code, e.field) == ("UNKNOWN_PRODUCT", "productId")
