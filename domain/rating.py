"""The rating engine: one piece of code for every product file.

premium line = base(coverage, use type) × the product's factors in its declared order
               × each applicable discount (multiplied in the product's order)
               × instalment surcharge (unless waived) × term, rounded DOWN to 10 yen per line.

Pure: dates are parameters, nothing is read from the clock or the disk (products come in
loaded). Every premium carries its explanation (domain/explanation.py). How discounts combine
is not printed in any pamphlet (001 §9.8); they multiply, which also realises tokio's "group
discount after the grade discount" (004 L156).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Generic, Protocol, TypeVar

from domain.calendar import RuleError, YearMonth, add_months, age_on, day_number
from domain.discount_rules import (
    asv_eligible,
    asv_last_start,
    gold_licence_applies,
    months_since_first_registration,
    no_accident_discount_kept,
)
from domain.explanation import Explanation, Step, StepKind, new_step
from domain.fleet import FleetFacts, days_pro_rata
from domain.grade import GradeMarker, GradeRecord, grade_factor, rule_ref
from domain.products.model import (
    PASSENGER_SIZE,
    Band,
    Coverage,
    DiscountKind,
    DiscountRule,
    Factor,
    MemberRank,
    Product,
    Rider,
    RiderMode,
    ShortTermMethod,
    Tariff,
    UsePurpose,
    VehicleSize,
)
from domain.vocab import (
    AgeCondition,
    Channel,
    DriverRestriction,
    Fuel,
    LicenceColour,
    PaymentMethod,
    UseType,
)

__all__ = [
    "CoverageChoice",
    "DiscountFacts",
    "MemberRank",
    "NamedInsured",
    "Premium",
    "PremiumLine",
    "QuoteInput",
    "RatingError",
    "UsePurpose",
    "VehicleFacts",
    "rate",
]

# Exact arithmetic: products of a dozen two-decimal factors need ~30 digits; 60 leaves room.
_CTX = Context(prec=60)
_ONE = Decimal(1)
_TWELVE = Decimal(12)


class RatingError(Exception):
    """Invalid quote input. `code` is stable (API userErrors), `field` names the input."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(f"{code} ({field}): {message}")
        self.code = code
        self.field = field
        self.message = message


# ------------------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    use_type: UseType
    first_registration: YearMonth | None = None     # 初度登録(検査)年月
    model_release: YearMonth | None = None           # 型式発売年月
    rating_classes: Mapping[str, int] = field(default_factory=dict)   # group (BI/PD/INJURY/VEHICLE) → class
    aeb: bool = False                                # AEB fitted by the maker (discount-eligible model)
    fuel: Fuel = Fuel.PETROL
    welfare: bool = False
    value: int = 0                                   # vehicle value in yen (vehicle sum insured basis)
    repairability_percent: int = 0                   # aioi ドーン!とおまかせ level: 0, 5 or 10


@dataclass(frozen=True, slots=True)
class NamedInsured:
    birth_date: date
    licence_colour: LicenceColour = LicenceColour.BLUE
    gold_eligible_at_renewal: bool = False   # tokio: counts as gold (004 L1345)
    individual: bool = True


@dataclass(frozen=True, slots=True)
class CoverageChoice:
    code: str
    option: str | None = None     # None: the coverage's default option


@dataclass(frozen=True, slots=True)
class DiscountFacts:
    multi_car_count: int = 1
    member_rank: MemberRank | None = None
    renewal: bool = False                          # continuation with the same insurer
    previous_contract_end: date | None = None      # expiry or cancellation date of the previous contract
    previous_term_at_least_one_year: bool = False
    previous_term_had_counted_accident: bool = False
    interruption_certificate_used: bool = False
    telematics_plan: bool = False                  # the contract carries the driving-data rider
    telematics_first_time: bool = False
    telematics_score: int | None = None            # safety score of the previous measurement period
    one_day_policy_count: int = 0                  # aioi: one-day policies; tokio: Choinori days
    partner_plan: bool = False                     # aioi まるごとマモル in force on the start date
    large_instalment: bool = False                 # 大口分割払 arrangement


@dataclass(frozen=True, slots=True)
class QuoteInput:
    product_id: str
    start_date: date
    vehicle: VehicleFacts
    named_insured: NamedInsured
    coverages: tuple[CoverageChoice, ...]
    term_months: int = 12
    channel: Channel = Channel.AGENT
    payment_method: PaymentMethod = PaymentMethod.ANNUAL
    age_condition: AgeCondition = AgeCondition.ANY
    driver_restriction: DriverRestriction = DriverRestriction.NONE
    use_purpose: UsePurpose | None = None
    mileage_class: int | None = None
    grade: GradeRecord | None = None
    grade_one_repeat: bool = False       # 1等級連続事故 (decided by grade.repeat_surcharge_applies)
    riders: tuple[str, ...] = ()
    discounts: DiscountFacts = DiscountFacts()
    fleet: FleetFacts | None = None      # a car of a fleet contract (domain/fleet.py)


# ------------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class PremiumLine:
    code: str
    rider: bool
    ja: str
    en: str
    amount: int


@dataclass(frozen=True, slots=True)
class Premium:
    product_id: str
    tariff_version: str
    demonstration: bool
    start_date: date
    term_months: int
    payment_method: PaymentMethod
    total: int
    lines: tuple[PremiumLine, ...]
    instalments: tuple[int, ...]       # first instalment carries the remainder
    riders: tuple[str, ...]            # effective riders, automatic ones included
    discounts: tuple[str, ...]         # discount codes applied to at least one line
    explanation: Explanation


# ------------------------------------------------------------------------------- validation


def _band_index(value: int, bands: tuple[Band, ...]) -> int | None:
    for i, (lo, hi) in enumerate(bands):
        if value >= lo and (hi is None or value <= hi):
            return i
    return None


def _selected_coverages(product: Product, q: QuoteInput) -> list[tuple[Coverage, str]]:
    if not q.coverages:
        raise RatingError("NO_COVERAGE", "coverages", "choose at least one coverage")
    chosen: dict[str, str] = {}
    for i, c in enumerate(q.coverages):
        cov = product.coverage(c.code)
        if cov is None:
            raise RatingError("UNKNOWN_COVERAGE", f"coverages[{i}].code", f"{product.id} has no coverage {c.code!r}")
        if c.code in chosen:
            raise RatingError("DUPLICATE_COVERAGE", f"coverages[{i}].code", f"{c.code} is chosen twice")
        option = c.option or cov.default_option
        if cov.option(option) is None:
            allowed = ", ".join(o.code for o in cov.options)
            raise RatingError("UNKNOWN_LIMIT_OPTION", f"coverages[{i}].option", f"{c.code} offers {allowed}, not {option!r}")
        chosen[c.code] = option
    for cov in product.coverages:
        if cov.mandatory and cov.code not in chosen:
            raise RatingError("MISSING_MANDATORY_COVERAGE", "coverages", f"{cov.code} ({cov.ja}) is mandatory in {product.id}")
    if product.require_one_of and not any(c in chosen for c in product.require_one_of):
        raise RatingError(
            "MISSING_REQUIRED_COVERAGE", "coverages",
            f"at least one of {', '.join(product.require_one_of)} is required ({product.require_one_of_source})",
        )
    el = product.eligibility
    if not q.named_insured.individual:
        for code in sorted(el.corporate_deductible_coverages & chosen.keys()):
            cov = product.coverage(code)
            assert cov is not None
            if not (opt := cov.option(chosen[code])) or not opt.deductible:
                with_ded = ", ".join(o.code for o in cov.options if o.deductible)
                raise RatingError("NOT_ELIGIBLE_DEDUCTIBLE_REQUIRED", "coverages",
                                  f"a corporate named insured must set a deductible for {code} ({cov.ja}): "
                                  f"choose one of {with_ded} ({el.corporate_deductible_source})")
    # product order, so explanations of the same product always list lines alike
    return [(cov, chosen[cov.code]) for cov in product.coverages if cov.code in chosen]


def _check_registration_window(r: Rider, q: QuoteInput) -> None:
    """The expiry must fall within N months counted from the month after first registration
    (month 1 is the month after it, so the last allowed expiry month is registration + N)."""
    limit = r.expiry_within_registration_months
    first = q.vehicle.first_registration
    if first is None:
        raise RatingError("NOT_ELIGIBLE_RIDER_VEHICLE_AGE", "vehicle.firstRegistration",
                          f"{r.code} ({r.ja}) needs the car's first registration month ({r.source})")
    expiry = YearMonth.of(add_months(q.start_date, q.term_months))
    last = first.plus_months(limit or 0)
    if expiry.index > last.index:
        raise RatingError("NOT_ELIGIBLE_RIDER_VEHICLE_AGE", "riders",
                          f"{r.code} ({r.ja}) only while the expiry ({expiry}) is within {limit} months from the month "
                          f"after first registration ({first}), i.e. by {last} ({r.source})")


def _check_rider_terms(product: Product, q: QuoteInput) -> None:
    """Riders bound to the whole contract's term and payment (checked once on the full quote, not
    per policy year of a long-term one)."""
    for code in q.riders:
        r = product.rider(code)
        if r is None:
            continue   # UNKNOWN_RIDER comes from the rider check
        if r.min_term_months is not None and q.term_months < r.min_term_months:
            raise RatingError("NOT_ELIGIBLE_RIDER_TERM", "termMonths",
                              f"{r.code} ({r.ja}) is for terms of {r.min_term_months} months or more ({r.source})")
        if r.payment_methods and q.payment_method not in r.payment_methods:
            raise RatingError("NOT_ELIGIBLE_RIDER_TERM", "paymentMethod",
                              f"{r.code} ({r.ja}) is paid by {', '.join(sorted(m.value for m in r.payment_methods))} "
                              f"({r.source})")
        if r.excludes_telematics and q.discounts.telematics_plan:
            raise RatingError("RIDER_CONFLICT", "discounts.telematicsPlan",
                              f"{r.code} ({r.ja}) cannot be combined with the telematics plan ({r.source})")


@dataclass(frozen=True, slots=True)
class _RiderPlan:
    """A product's riders as `_effective_riders` walks them, sorted out once per product."""

    order: Mapping[str, int]              # rider code → position in the product file
    by_restriction: tuple[Rider, ...]     # riders a driver-restriction condition brings
    automatic: tuple[Rider, ...]
    conditional: frozenset[str]           # automatic riders with a requirement or an auto_* condition
    constrained: frozenset[str]           # riders with a scope, requirement or registration-window check


_P = TypeVar("_P")


class _PerProduct(Generic[_P]):
    """A value worked out once per product object: keyed by its id, the entry holding the product
    so a recycled id is never answered; bounded, as tests build products over and over."""

    def __init__(self, make: Callable[[Product], _P]) -> None:
        self._make = make
        self._by_id: dict[int, tuple[Product, _P]] = {}

    def __call__(self, product: Product) -> _P:
        got = self._by_id.get(id(product))
        if got is not None and got[0] is product:
            return got[1]
        if len(self._by_id) > 256:
            self._by_id.clear()
        value = self._make(product)
        self._by_id[id(product)] = (product, value)
        return value


def _make_rider_plan(product: Product) -> _RiderPlan:
    return _RiderPlan({r.code: i for i, r in enumerate(product.riders)},
                      tuple(r for r in product.riders if r.driver_restriction is not None),
                      tuple(r for r in product.riders if r.mode is RiderMode.AUTOMATIC),
                      frozenset(r.code for r in product.riders if _has_requirements(r) or _has_scope(r) or (
                          r.auto_unless or r.auto_without or r.auto_non_fleet or r.auto_telematics
                          or r.auto_after_registration_months is not None
                          or r.auto_expiry_before_registration_months is not None)),
                      frozenset(r.code for r in product.riders if _has_requirements(r) or _has_scope(r)
                                or r.expiry_within_registration_months is not None))


_rider_plan = _PerProduct(_make_rider_plan)


def _has_requirements(r: Rider) -> bool:
    return bool(r.requires or r.requires_any or r.requires_options)


def _has_scope(r: Rider) -> bool:
    return bool(r.individual_only or r.non_fleet_only or r.use_types or r.excludes_coverages)


def _effective_riders(product: Product, q: QuoteInput, chosen: Mapping[str, str]) -> list[Rider]:
    plan = _rider_plan(product)
    explicit: list[Rider] = []
    seen: set[str] = set()
    for i, code in enumerate(q.riders):
        r = product.rider(code)
        if r is None:
            raise RatingError("UNKNOWN_RIDER", f"riders[{i}]", f"{product.id} has no rider {code!r}")
        if code in seen:
            raise RatingError("DUPLICATE_RIDER", f"riders[{i}]", f"{code} is listed twice")
        seen.add(code)
        explicit.append(r)
    for r in explicit:
        for other in r.excludes:
            if other in seen:
                raise RatingError("RIDER_CONFLICT", "riders", f"{r.code} ({r.ja}) and {other} exclude each other")
        if r.driver_restriction is not None and r.driver_restriction is not q.driver_restriction:
            raise RatingError(
                "RIDER_CONFLICT", "driverRestriction",
                f"rider {r.code} sets {r.driver_restriction.value} but the quote says {q.driver_restriction.value}",
            )
    # the driver restriction chosen as a condition brings its rider
    for r in plan.by_restriction:
        if r.driver_restriction is q.driver_restriction and r.code not in seen:
            explicit.append(r)
            seen.add(r.code)
    present = set(chosen) | seen
    individual = q.named_insured.individual
    # (the plan's sets skip the checks a rider has none of: most riders have none)
    conditional, constrained = plan.conditional, plan.constrained
    for r in plan.automatic:
        if r.optional_for_corporate and not individual:
            continue  # a company chooses it (listed in q.riders) or goes without (002a L2844-2846)
        if r.code not in seen and (r.code not in conditional or (
                _requirements_met(r, present, chosen) and _automatic_here(r, q, present))):
            explicit.append(r)
            seen.add(r.code)
            present.add(r.code)
    for r in explicit:
        if r.code not in constrained:
            continue
        _check_rider_scope(r, q, present)
        missing = [x for x in r.requires if x not in present]
        if missing:
            raise RatingError("RIDER_REQUIRES", "riders", f"{r.code} ({r.ja}) needs {', '.join(missing)} ({r.source})")
        if r.requires_any and not any(x in present for x in r.requires_any):
            raise RatingError("RIDER_REQUIRES", "riders", f"{r.code} needs one of {', '.join(r.requires_any)} ({r.source})")
        if r.expiry_within_registration_months is not None:
            _check_registration_window(r, q)
        for cov, options in r.requires_options.items():
            if chosen.get(cov) not in options:
                raise RatingError(
                    "RIDER_REQUIRES_OPTION", "coverages",
                    f"{r.code} ({r.ja}) needs {cov} with one of {', '.join(options)} ({r.source})",
                )
    order = plan.order
    return sorted(explicit, key=lambda r: order[r.code])


def _months_after_registration(q: QuoteInput, d: date) -> int | None:
    """Months from the first-registration month to the month of `d` (the month after it is 1)."""
    first = q.vehicle.first_registration
    return None if first is None else YearMonth.of(d).index - first.index


def _automatic_here(r: Rider, q: QuoteInput, present: set[str]) -> bool:
    """The auto_* conditions of an AUTOMATIC rider (aioi 注3-注9, 002 L2402-2405; tokio 004 L1085-1105)."""
    if (r.auto_unless and not present.isdisjoint(r.auto_unless)) or (
            r.auto_without and not present.isdisjoint(r.auto_without)):
        return False
    if r.auto_non_fleet and q.fleet is not None:
        return False
    if r.auto_telematics and not q.discounts.telematics_plan:
        return False
    if r.auto_after_registration_months is not None:
        # 004 L1097: the start month more than 84 months after first registration
        m = _months_after_registration(q, q.start_date)
        if m is None or m <= r.auto_after_registration_months:
            return False
    if r.auto_expiry_before_registration_months is not None:
        # 004 L1085: the expiry less than 38 months from the first-registration month
        m = _months_after_registration(q, add_months(q.start_date, q.term_months))
        if m is None or m >= r.auto_expiry_before_registration_months:
            return False
    return not ((r.individual_only and not q.named_insured.individual)
                or (r.non_fleet_only and q.fleet is not None)
                or (r.use_types and q.vehicle.use_type not in r.use_types)
                or (r.excludes_coverages and not present.isdisjoint(r.excludes_coverages)))


def _check_rider_scope(r: Rider, q: QuoteInput, present: set[str]) -> None:
    """Who may carry the rider at all."""
    if r.individual_only and not q.named_insured.individual:
        raise RatingError("NOT_ELIGIBLE_RIDER", "riders", f"{r.code} ({r.ja}) is for an individual named insured ({r.source})")
    if r.non_fleet_only and q.fleet is not None:
        raise RatingError("NOT_ELIGIBLE_RIDER", "riders", f"{r.code} ({r.ja}) is for non-fleet contracts ({r.source})")
    if r.use_types and q.vehicle.use_type not in r.use_types:
        raise RatingError("NOT_ELIGIBLE_RIDER", "vehicle.useType",
                          f"{r.code} ({r.ja}) is not for a {q.vehicle.use_type.value} ({r.source})")
    clash = [x for x in r.excludes_coverages if x in present]
    if clash:
        raise RatingError("RIDER_CONFLICT", "coverages", f"{r.code} ({r.ja}) cannot be set with {', '.join(clash)} ({r.source})")


def _requirements_met(r: Rider, present: set[str], chosen: Mapping[str, str]) -> bool:
    if r.requires and not present.issuperset(r.requires):
        return False
    if r.requires_any and present.isdisjoint(r.requires_any):
        return False
    return not r.requires_options or all(chosen.get(cov) in opts for cov, opts in r.requires_options.items())


def _validate(product: Product, q: QuoteInput) -> None:
    if q.product_id != product.id:
        raise RatingError("PRODUCT_MISMATCH", "productId", f"quote is for {q.product_id!r}, product is {product.id!r}")
    if product.valid_from is not None and q.start_date < product.valid_from:
        raise RatingError("START_BEFORE_PRODUCT", "startDate", f"{product.id} covers starts from {product.valid_from}")
    if q.term_months not in product.term_months:
        raise RatingError("TERM_NOT_OFFERED", "termMonths", f"{product.id} offers terms of {sorted(product.term_months)} months")
    if q.channel not in product.channels:
        raise RatingError("CHANNEL_NOT_OFFERED", "channel", f"{product.id} is sold through {sorted(c.value for c in product.channels)}")
    if q.payment_method not in product.payment.methods:
        raise RatingError("PAYMENT_METHOD_NOT_OFFERED", "paymentMethod", f"{product.id} does not offer {q.payment_method.value}")
    el = product.eligibility
    if el.individual_named_insured and not q.named_insured.individual:
        raise RatingError("NOT_ELIGIBLE_CORPORATE_NAMED_INSURED", "namedInsured.individual",
                          f"{product.id} is for individuals: the named insured must be a person ({el.individual_named_insured})")
    if q.fleet is not None:
        if not el.fleet_contracts:
            raise RatingError("NOT_ELIGIBLE_FLEET", "fleet", f"{product.id} has no fleet contracts")
        if q.term_months != 12:
            raise RatingError("TERM_NOT_OFFERED", "termMonths", "a car of a fleet contract is insured for one year")
    elif el.max_insured_vehicles is not None and q.discounts.multi_car_count > el.max_insured_vehicles:
        what = ("10 or more cars make a fleet contract (createFleet, then addFleetVehicle)" if el.fleet_contracts
                else f"{product.id} is for non-fleet contracts")
        raise RatingError("NOT_ELIGIBLE_FLEET", "discounts.multiCarCount",
                          f"{what}: at most {el.max_insured_vehicles} insured cars on a non-fleet contract, "
                          f"{q.discounts.multi_car_count} declared ({el.max_insured_vehicles_source})")
    ut = q.vehicle.use_type
    if ut not in product.use_types:
        raise RatingError("USE_TYPE_NOT_INSURED", "vehicle.useType", f"{product.id} does not insure {ut.value} ({ut.ja})")
    for rule in product.channel_rules:
        if rule.channel is q.channel:
            if ut in rule.excluded_use_types:
                raise RatingError("USE_TYPE_NOT_ON_CHANNEL", "vehicle.useType", f"{ut.ja} cannot be applied for via {q.channel.value} ({rule.source})")
            if rule.payment_methods and q.payment_method not in rule.payment_methods:
                raise RatingError("PAYMENT_METHOD_NOT_ON_CHANNEL", "paymentMethod", f"{q.channel.value} contracts pay {sorted(m.value for m in rule.payment_methods)} ({rule.source})")
    if el.restriction_use_types is not None and q.driver_restriction is not DriverRestriction.NONE and (
            not q.named_insured.individual or ut not in el.restriction_use_types):
        raise RatingError("NOT_ELIGIBLE_DRIVER_RESTRICTION", "driverRestriction",
                          f"{q.driver_restriction.ja} is only for an individual named insured with a private passenger car "
                          f"({el.restriction_source})")
    if el.age_condition_use_types is not None and q.age_condition is not AgeCondition.ANY and (
            ut not in el.age_condition_use_types):
        raise RatingError("NOT_ELIGIBLE_AGE_CONDITION", "ageCondition",
                          f"an age condition is only for a private passenger car, not {ut.ja} ({el.age_condition_source})")
    if q.age_condition not in product.age_conditions:
        raise RatingError("AGE_CONDITION_NOT_OFFERED", "ageCondition", f"{product.id} does not offer {q.age_condition.value}")
    if q.driver_restriction not in product.driver_restrictions:
        raise RatingError("DRIVER_RESTRICTION_NOT_OFFERED", "driverRestriction", f"{product.id} does not offer {q.driver_restriction.value}")
    order = product.factor_order
    if Factor.USE_PURPOSE in order:
        if q.use_purpose is None:
            raise RatingError("USE_PURPOSE_REQUIRED", "usePurpose", f"{product.id} rates by use purpose")
        if q.use_purpose not in product.use_purposes:
            raise RatingError("USE_PURPOSE_NOT_OFFERED", "usePurpose", f"{q.use_purpose.value} is not offered")
    if Factor.MILEAGE_CLASS in order:
        if q.mileage_class is None:
            raise RatingError("MILEAGE_CLASS_REQUIRED", "mileageClass", f"{product.id} rates by previous-year mileage class")
        if q.mileage_class not in product.mileage_classes:
            raise RatingError("INVALID_MILEAGE_CLASS", "mileageClass", f"mileage class must be one of {list(product.mileage_classes)}")
    if product.graded and q.grade is None:
        raise RatingError("GRADE_REQUIRED", "grade", f"{product.id} is rated by non-fleet grade")
    v = q.vehicle
    if v.first_registration is not None and v.first_registration.index > YearMonth.of(q.start_date).index:
        raise RatingError("START_BEFORE_FIRST_REGISTRATION", "vehicle.firstRegistration", f"start {q.start_date} is before first registration {v.first_registration}")
    if v.model_release is not None and v.model_release.index > YearMonth.of(q.start_date).index:
        raise RatingError("START_BEFORE_MODEL_RELEASE", "vehicle.modelRelease", f"start {q.start_date} is before model release {v.model_release}")
    if v.value < 0:
        raise RatingError("NEGATIVE_AMOUNT", "vehicle.value", "vehicle value must be ≥ 0")
    if v.repairability_percent not in (0, 5, 10):
        raise RatingError("INVALID_REPAIRABILITY", "vehicle.repairabilityPercent", "must be 0, 5 or 10")
    if q.named_insured.birth_date >= q.start_date:
        raise RatingError("BIRTH_NOT_BEFORE_START", "namedInsured.birthDate", "the named insured must be born before the start date")
    f = q.discounts
    if f.multi_car_count < 1:
        raise RatingError("INVALID_CAR_COUNT", "discounts.multiCarCount", "car count must be ≥ 1")
    if f.telematics_score is not None and not 0 <= f.telematics_score <= 100:
        raise RatingError("INVALID_SCORE", "discounts.telematicsScore", "score must be 0..100")
    if f.one_day_policy_count < 0:
        raise RatingError("INVALID_COUNT", "discounts.oneDayPolicyCount", "count must be ≥ 0")
    if f.previous_contract_end is not None and day_number(f.previous_contract_end, q.start_date) < -366:
        raise RatingError("DATES_OUT_OF_ORDER", "discounts.previousContractEnd", "previous contract ends more than a year after the start")


def _rating_class_factor(product: Product, tariff: Tariff, q: QuoteInput, cov: Coverage, size: VehicleSize | None) -> tuple[Decimal, str] | None:
    if size is None or cov.rating_class_group is None or size not in product.rating_class_ranges:
        return None      # no model rating classes for trucks, campers, ... (001 L799-801)
    cls = q.vehicle.rating_classes.get(cov.rating_class_group)
    lo, hi = product.rating_class_ranges[size]
    field_name = f"vehicle.ratingClasses.{cov.rating_class_group}"
    if cls is None:
        raise RatingError("RATING_CLASS_REQUIRED", field_name, f"{cov.code} needs the model rating class ({cov.rating_class_group})")
    if not lo <= cls <= hi:
        raise RatingError("RATING_CLASS_OUT_OF_RANGE", field_name, f"{size.value} rating classes run {lo}..{hi}, got {cls}")
    return tariff.rating_class_factors[size][cls - 1], f"class {cls} ({cov.rating_class_group})"


# ------------------------------------------------------------------------------- discounts


@dataclass(frozen=True, slots=True)
class _Applied:
    rule: DiscountRule
    value: str
    rate: Decimal | None                    # flat rate for every line it covers
    by_line: Mapping[str, Decimal] | None   # per-coverage rates (new-car tables)


def _gold_rate(rule: DiscountRule, q: QuoteInput) -> Decimal | None:
    if rule.rate is not None:
        return rule.rate
    young = q.age_condition in (AgeCondition.ANY, AgeCondition.AGE_21)
    return rule.rates.get(f"{q.driver_restriction.value}_{'ANY_OR_21' if young else '26_OR_35'}")


# One check per discount kind: eligibility and rate of `rule` for this quote (None: not applied),
# once the rule's use types, channels, payment methods and date window have let the quote in.
# `first_policy_year` is False for the later years of a long-term contract (see `_rate_long_term`).
_Check = Callable[[QuoteInput, DiscountRule, date, bool], _Applied | None]


def _internet(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    f = q.discounts
    if f.renewal:
        return _Applied(rule, "renewal", rule.rates["renewal"], None)
    diamond = f.member_rank is MemberRank.DIAMOND
    key = "new_diamond" if diamond else "new_other"
    return _Applied(rule, f"new, {'Diamond' if diamond else 'other rank'}", rule.rates[key], None)


def _aeb(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    v = q.vehicle
    if not v.aeb or v.model_release is None or not asv_eligible(v.model_release, start):
        return None
    return _Applied(rule, f"released {v.model_release}, start ≤ {asv_last_start(v.model_release)}", rule.rate, None)


def _no_accident(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    f = q.discounts
    if not no_accident_discount_kept(
        f.previous_contract_end, start, f.interruption_certificate_used, f.previous_term_at_least_one_year,
        prev_term_had_counted_accident=f.previous_term_had_counted_accident,
    ):
        return None
    gap = day_number(f.previous_contract_end, start)  # type: ignore[arg-type]
    return _Applied(rule, f"{max(gap, 0)} days after previous end", rule.rate, None)


def _gold_licence(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    ni = q.named_insured
    if not gold_licence_applies(ni.licence_colour, gold_eligible_at_renewal=ni.gold_eligible_at_renewal):
        return None
    r = _gold_rate(rule, q)
    return None if not r else _Applied(rule, "gold on start date", r, None)


def _multi_car(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    if q.fleet is not None:
        return None   # a fleet has the fleet multi-car discount instead (002b L4913-4920 ※3)
    n = q.discounts.multi_car_count
    i = _band_index(n, rule.bands)
    return None if i is None or not rule.band_rates[i] else _Applied(rule, f"{n} cars", rule.band_rates[i], None)


def _new_car(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    v = q.vehicle
    if v.first_registration is None:
        return None
    months = months_since_first_registration(v.first_registration, start)
    i = _band_index(months, rule.bands)
    size = PASSENGER_SIZE.get(v.use_type)
    if i is None or size is None:
        return None
    six_s = q.grade is not None and q.grade.grade == 6 and q.grade.marker is GradeMarker.S
    # a long-term contract keeps 6(S) for its term, but the 6(S) column is for policy year 1
    # only; later years take the other column while still in the window (002 L4812-4813 注2,
    # 004 L1580 *12)
    later_6s = six_s and not first_policy_year and bool(rule.table_6s)
    six_s = six_s and first_policy_year
    table = rule.table_6s if (six_s and rule.table_6s) else rule.table
    by_line = {cov: rates[i] for (sz, cov), rates in table.items() if sz is size and rates[i]}
    lo, hi = rule.bands[i]
    col = f"{lo}-{hi} months" if hi is not None else f"{lo}+ months"
    grade_col = ", 6(S)" if six_s and rule.table_6s else ", 6(S) after policy year 1: other column" if later_6s else ""
    return None if not by_line else _Applied(rule, f"month {months} ({col}{grade_col})", None, by_line)


def _eco(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    v = q.vehicle
    if v.fuel not in rule.fuels or v.first_registration is None:
        return None
    months = months_since_first_registration(v.first_registration, start)
    if months > (rule.window_months or 0):
        return None
    return _Applied(rule, f"{v.fuel.value}, month {months}", rule.rate, None)


def _welfare(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    return _Applied(rule, "welfare vehicle", rule.rate, None) if q.vehicle.welfare else None


def _repairability(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    v = q.vehicle
    r = rule.rates.get(str(v.repairability_percent))
    if not r or v.first_registration is None:
        return None
    if months_since_first_registration(v.first_registration, start) > (rule.window_months or 0):
        return None
    return _Applied(rule, f"level {v.repairability_percent}%", r, None)


def _partner_plan(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    return _Applied(rule, "partner plan in force", rule.rate, None) if q.discounts.partner_plan else None


def _one_day_history(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    g, n = q.grade, q.discounts.one_day_policy_count
    if g is None or g.marker is not GradeMarker.S or g.period != 0 or not q.named_insured.individual:
        return None
    i = _band_index(n, rule.bands)
    if i is None:
        return None
    r = rule.band_rates[i] if g.grade == 6 else rule.band_rates_7s[i]
    return None if not r else _Applied(rule, f"{n} at {g.label}", r, None)


def _telematics(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    f = q.discounts
    if not f.telematics_plan:
        return None
    if f.telematics_score is None:
        r = rule.no_score_rate
        return None if not r else _Applied(rule, "no score (priced as middle band)", r, None)
    i = _band_index(f.telematics_score, rule.bands)
    return None if i is None or not rule.band_rates[i] else _Applied(rule, f"score {f.telematics_score}", rule.band_rates[i], None)


def _telematics_first(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    f = q.discounts
    return _Applied(rule, "first telematics contract", rule.rate, None) if f.telematics_plan and f.telematics_first_time else None


def _group(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    return _Applied(rule, f"start {start}", rule.rate, None)


def _unknown_kind(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
    raise AssertionError(rule.kind)  # pragma: no cover - every kind has its check in _CHECKS


_CHECKS: Mapping[DiscountKind, _Check] = {
    DiscountKind.INTERNET: _internet,
    DiscountKind.AEB: _aeb,
    DiscountKind.NO_ACCIDENT: _no_accident,
    DiscountKind.GOLD_LICENCE: _gold_licence,
    DiscountKind.MULTI_CAR: _multi_car,
    DiscountKind.NEW_CAR: _new_car,
    DiscountKind.ECO: _eco,
    DiscountKind.WELFARE: _welfare,
    DiscountKind.REPAIRABILITY: _repairability,
    DiscountKind.PARTNER_PLAN: _partner_plan,
    DiscountKind.ONE_DAY_HISTORY: _one_day_history,
    DiscountKind.TELEMATICS: _telematics,
    DiscountKind.TELEMATICS_FIRST: _telematics_first,
    DiscountKind.GROUP: _group,
}

_DiscountKey = tuple[UseType, Channel, PaymentMethod]
_Open = tuple[tuple[DiscountRule, _Check], ...]   # the rules a quote of one key can get, with their checks


def _lets_in(rule: DiscountRule, key: _DiscountKey) -> bool:
    use_type, channel, payment_method = key
    return ((not rule.use_types or use_type in rule.use_types)
            and (not rule.channels or channel in rule.channels)
            and channel not in rule.excluded_channels
            and (not rule.payment_methods or payment_method in rule.payment_methods))


def _within_window(check: _Check) -> _Check:
    """`check` behind the rule's date window: only a few rules have one, so the others skip the test."""
    def windowed(q: QuoteInput, rule: DiscountRule, start: date, first_policy_year: bool) -> _Applied | None:
        if (rule.valid_from and start < rule.valid_from) or (rule.valid_to and start > rule.valid_to):
            return None
        return check(q, rule, start, first_policy_year)
    return windowed


def _check_of(rule: DiscountRule) -> _Check:
    check = _CHECKS.get(rule.kind, _unknown_kind)
    return _within_window(check) if rule.valid_from or rule.valid_to else check


@dataclass(frozen=True, slots=True)
class _DiscountPlan:
    """A product's discount rules sorted out per (use type, channel, payment method): a quote
    runs only the checks of the rules its key lets in."""

    product: Product
    by_key: dict[_DiscountKey, tuple[_Open, bool]]    # filled by open_to; the bool: a rule let in names excluded_by

    def open_to(self, key: _DiscountKey) -> tuple[_Open, bool]:
        rules = [r for r in self.product.discounts if _lets_in(r, key)]
        got = tuple((r, _check_of(r)) for r in rules), any(r.excluded_by for r in rules)
        self.by_key[key] = got    # a key is a triple of enum members: the dict stays small
        return got


_discount_plan = _PerProduct(lambda product: _DiscountPlan(product, {}))


def _discounts(product: Product, q: QuoteInput, first_policy_year: bool = True) -> list[_Applied]:
    """The discounts this quote gets, in the product's order. `first_policy_year` is False for the
    later years of a long-term contract (see `_rate_long_term`)."""
    if not product.discounts:
        return []
    plan, key = _discount_plan(product), (q.vehicle.use_type, q.channel, q.payment_method)
    rules, exclusive = plan.by_key.get(key) or plan.open_to(key)
    start = q.start_date
    found = [a for rule, check in rules if (a := check(q, rule, start, first_policy_year)) is not None]
    if not exclusive:
        return found
    codes = {a.rule.code for a in found}
    # precedence: e.g. ECO is excluded_by WELFARE (welfare wins, 002 L4812, 004 L1535)
    return [a for a in found if not any(x in codes for x in a.rule.excluded_by)]


# ------------------------------------------------------------------------------- rating


def _floor10(x: Decimal) -> Decimal:
    return Decimal(int(x) // 10 * 10)


def _shared_factors(product: Product, tariff: Tariff, q: QuoteInput) -> list[tuple[Factor, str, Decimal, str]]:
    """Factors that are the same for every coverage line, in the product's order."""
    out: list[tuple[Factor, str, Decimal, str]] = []
    src = product.factor_sources
    demo = f"DEMONSTRATION {tariff.version}" if tariff.demonstration else tariff.version
    for f in product.factor_order:
        if f is Factor.GRADE and q.fleet is not None and q.fleet.rate_percent is not None:
            r = q.fleet.rate_percent
            out.append((Factor.FLEET, f"fleet rate {r:+d}%", _ONE + Decimal(r) / 100, q.fleet.rate_source))
        elif f is Factor.GRADE:
            g = q.grade
            assert g is not None
            if q.fleet is not None and q.fleet.period_zero:
                g = replace(g, period=0)
            out.append((f, f"{g.label}, period {g.period}", grade_factor(g), product.grade_source or rule_ref(g)))
        elif f is Factor.AGE_CONDITION:
            out.append((f, q.age_condition.value, tariff.factors[f][q.age_condition.value], src.get(f, demo)))
        elif f is Factor.AGE_BAND:
            rule = product.age_band
            assert rule is not None
            if rule.applies_with and q.age_condition not in rule.applies_with:
                continue
            if rule.use_types and q.vehicle.use_type not in rule.use_types:
                continue
            if not q.named_insured.individual:
                continue
            try:
                age = age_on(q.named_insured.birth_date, q.start_date)
            except RuleError as e:
                raise RatingError(e.code, "namedInsured.birthDate", e.message) from None
            i = rule.index(age)
            out.append((f, f"age {age} ({rule.label(i)})", tariff.age_band_factors[i], src.get(f, rule.source)))
        elif f is Factor.DRIVER_RESTRICTION:
            out.append((f, q.driver_restriction.value, tariff.factors[f][q.driver_restriction.value], src.get(f, demo)))
        elif f is Factor.USE_PURPOSE:
            assert q.use_purpose is not None
            out.append((f, q.use_purpose.value, tariff.factors[f][q.use_purpose.value], src.get(f, demo)))
        elif f is Factor.MILEAGE_CLASS:
            out.append((f, f"class {q.mileage_class}", tariff.factors[f][str(q.mileage_class)], src.get(f, demo)))
    return out


def rate(product: Product, quote: QuoteInput, *, on: date | None = None, explain: bool = True) -> Premium:
    """Premium and explanation for `quote` under the tariff version in force on `on`.

    `on` defaults to the start date (a quote is priced by the tariff of its start date; a
    recalculation after a tariff is published passes the date it wants). `explain` False: the
    same premium with no explanation steps, for a caller that needs the price alone (the nightly
    recalculation; the offer's explanation is derived when read). Raises RatingError.
    """
    try:
        _check_rider_terms(product, quote)
        return _rate(product, quote, on or quote.start_date, explain=explain)
    except RuleError as e:   # a shared rule refused a fact: same code and field
        raise RatingError(e.code, e.field, e.message) from None


def rate_reference(product: Product, quote: QuoteInput, *, on: date | None = None) -> Premium:
    """`rate` by the reference implementation (no compiled plan): for tests and bench/rating.py."""
    try:
        _check_rider_terms(product, quote)
        return _rate_reference(product, quote, on or quote.start_date)
    except RuleError as e:
        raise RatingError(e.code, e.field, e.message) from None


def rate_in(products: Mapping[str, Product], quote: QuoteInput, *, on: date | None = None) -> Premium:
    """`rate` with the product looked up by the quote's product id (e.g. `Catalog.products`)."""
    product = products.get(quote.product_id)
    if product is None:
        raise RatingError("UNKNOWN_PRODUCT", "productId", f"no product {quote.product_id!r}")
    return rate(product, quote, on=on)


class _OneYear(Protocol):
    def __call__(self, product: Product, q: QuoteInput, on: date, *, first_policy_year: bool = True) -> Premium: ...


LONG_TERM_RULE = ("long-term contract: each policy year rated at its anniversary with the grade fixed for the "
                  "term (002a L2216-2262, L2303-2305; 004 L1271-1279, L1537, L1613)")


def _rate_long_term(product: Product, q: QuoteInput, on: date, one: _OneYear) -> Premium:
    """A contract of 2 or 3 years: the grade and period stay fixed for the whole term and the
    premium does not change with an accident (002a L2303-2305); each policy year is rated by the
    tariff of the contract with the facts of its anniversary — the named insured's age band, the
    new-car / ASV windows (004 L1271-1279, L1537; policy year 004 L1613). The lines add the years;
    the explanation is year 1's chain, then one step per later year and line."""
    _validate(product, q)
    years = [one(product, replace(q, start_date=add_months(q.start_date, 12 * y), term_months=12), on,
                   first_policy_year=y == 0)
             for y in range(q.term_months // 12)]
    first = years[0]
    steps = list(first.explanation.steps)
    totals = {line.code: line.amount for line in first.lines}
    for y, p in enumerate(years[1:], start=2):
        start = add_months(q.start_date, 12 * (y - 1))
        lost = [c for c in first.discounts if c not in p.discounts]
        gained = [c for c in p.discounts if c not in first.discounts]
        change = "".join((f"; without {', '.join(lost)}" if lost else "", f"; with {', '.join(gained)}" if gained else ""))
        for line in p.lines:
            before = Decimal(totals.get(line.code, 0))
            totals[line.code] = int(before) + line.amount
            steps.append(Step(line.code, StepKind.TERM, f"POLICY_YEAR_{y}", f"第{y}保険年度", f"Policy year {y}",
                              f"from {start}: {line.amount} yen{change}", None, LONG_TERM_RULE, before,
                              before + line.amount))
    lines = tuple(replace(line, amount=totals[line.code]) for line in first.lines)
    total = sum(line.amount for line in lines)
    if q.payment_method is PaymentMethod.MONTHLY:
        n = product.payment.instalments_per_year * q.term_months // 12
        each, rest = divmod(total, n)
        instalments: tuple[int, ...] = (each + rest,) + (each,) * (n - 1)
    else:
        instalments = (total,)
    discounts = tuple(dict.fromkeys(c for p in years for c in p.discounts))
    return replace(first, term_months=q.term_months, start_date=q.start_date, total=total, lines=lines,
                   instalments=instalments, discounts=discounts,
                   explanation=replace(first.explanation, steps=tuple(steps)))


def _premium(product: Product, tariff: Tariff, q: QuoteInput, lines: list[PremiumLine],
             riders: Sequence[Rider], used_discounts: Mapping[str, None], steps: Sequence[Step]) -> Premium:
    """The premium of priced lines (both pricing paths): total, instalments (the first carries the
    remainder) and the explanation."""
    total = sum(line.amount for line in lines)
    if q.payment_method is PaymentMethod.MONTHLY:
        n = product.payment.instalments_per_year * q.term_months // 12 or 1
        each, rest = divmod(total, n)
        instalments = (each + rest,) + (each,) * (n - 1)
    else:
        instalments = (total,)
    return Premium(
        product_id=product.id, tariff_version=tariff.version, demonstration=tariff.demonstration,
        start_date=q.start_date, term_months=q.term_months, payment_method=q.payment_method,
        total=total, lines=tuple(lines), instalments=instalments,
        riders=tuple(r.code for r in riders), discounts=tuple(used_discounts),
        explanation=Explanation(product.id, tariff.version, tariff.demonstration, tuple(steps)),
    )


def _term_adjustments(product: Product, tariff: Tariff, q: QuoteInput, applied: list[_Applied]
                      ) -> tuple[tuple[Decimal, str] | None, Decimal | None, Decimal | None, tuple[int, int] | None]:
    """What both pricing paths apply to every line after its factors: (instalment surcharge and its
    source, grade-1 repeat surcharge, short-term rate, fleet join's (days, of days)); None where not."""
    monthly = q.payment_method is PaymentMethod.MONTHLY
    pay = product.payment
    surcharge: tuple[Decimal, str] | None = None
    if monthly and pay.instalment_surcharge:
        waived_by = next((a.rule.code for a in applied if a.rule.waives_instalment_surcharge), None)
        if q.channel in pay.waived_for_channels:
            waived_by = waived_by or q.channel.value
        if q.discounts.large_instalment and pay.waived_by_large_instalment:
            waived_by = waived_by or "LARGE_INSTALMENT"
        if waived_by is None:
            surcharge = (_ONE + pay.instalment_surcharge, pay.surcharge_source)

    repeat: Decimal | None = None
    fleet_rated = q.fleet is not None and q.fleet.rate_percent is not None
    if (q.grade_one_repeat and q.grade is not None and q.grade.grade == 1 and not fleet_rated
            and product.grade_one_repeat_surcharge is not None):
        repeat = _ONE + product.grade_one_repeat_surcharge

    term_rate: Decimal | None = None
    if q.term_months != 12 and tariff.short_term is ShortTermMethod.PRO_RATA_MONTHS:
        term_rate = (Decimal(q.term_months) / _TWELVE).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    joins: tuple[int, int] | None = None
    if q.fleet is not None and q.fleet.ends_on is not None and q.fleet.ends_on != add_months(q.start_date, 12):
        try:
            joins = days_pro_rata(q.start_date, q.fleet.ends_on)
        except RuleError as e:
            raise RatingError(e.code, "fleet.endsOn", e.message) from None
    return surcharge, repeat, term_rate, joins


def _rate_reference(product: Product, q: QuoteInput, on: date, *, first_policy_year: bool = True) -> Premium:
    """The reference implementation of one year's pricing: the rules as written, step by step.
    `_rate` (the compiled plan below) must give exactly this; tests/unit/test_rating_plan.py
    compares both on 10,000 random quotes."""
    if q.term_months > 12:
        return _rate_long_term(product, q, on, _rate_reference)
    _validate(product, q)
    tariff = product.tariff_on(on)
    if tariff is None:
        raise RatingError("NO_TARIFF_IN_FORCE", "startDate", f"{product.id} has no tariff version in force on {on}")
    selected = _selected_coverages(product, q)
    chosen = {cov.code: opt for cov, opt in selected}
    riders = _effective_riders(product, q, chosen)
    applied = _discounts(product, q, first_policy_year)
    shared = _shared_factors(product, tariff, q)
    size = PASSENGER_SIZE.get(q.vehicle.use_type)
    demo = f"DEMONSTRATION {tariff.version}" if tariff.demonstration else tariff.version

    monthly = q.payment_method is PaymentMethod.MONTHLY
    surcharge, repeat, term_rate, joins = _term_adjustments(product, tariff, q, applied)

    steps: list[Step] = []
    lines: list[PremiumLine] = []
    used_discounts: dict[str, None] = {}
    mul = _CTX.multiply
    ut = q.vehicle.use_type

    def finish(code: str, amount: Decimal, fixed_monthly: bool) -> Decimal:
        if fixed_monthly:
            months = Decimal(q.term_months)
            steps.append(Step(code, StepKind.TERM, "MONTHS", "月払掛金×月数", "monthly amount × months",
                              f"{q.term_months} months", months, tariff.base_source, amount, mul(amount, months)))
            amount = mul(amount, months)
        else:
            if surcharge is not None:
                new = mul(amount, surcharge[0])
                steps.append(Step(code, StepKind.SURCHARGE, "INSTALMENT", "分割払割増", "Instalment surcharge",
                                  "monthly", surcharge[0], surcharge[1], amount, new))
                amount = new
            if term_rate is not None:
                new = mul(amount, term_rate)
                steps.append(Step(code, StepKind.TERM, "SHORT_TERM", "短期料率", "Short-term rate",
                                  f"{q.term_months} months", term_rate, demo, amount, new))
                amount = new
            if joins is not None:
                new = _CTX.divide(mul(amount, Decimal(joins[0])), Decimal(joins[1]))
                steps.append(Step(code, StepKind.TERM, "FLEET_PRO_RATA", "中途付保（日割）",
                                  "Joins the fleet certificate mid-term (by day)",
                                  f"{joins[0]} of {joins[1]} days to {q.fleet.ends_on}", None,  # type: ignore[union-attr]
                                  "all-vehicle certificate: one common expiry (002b L5089-5092)", amount, new))
                amount = new
        rounded = _floor10(amount)
        if rounded != amount:
            steps.append(Step(code, StepKind.ROUNDING, "ROUNDING", "10円未満切捨", "Round down to 10 yen",
                              "", None, "house rule: each line rounded down to 10 yen", amount, rounded))
        return rounded

    discounted: dict[str, Decimal] = {}      # each coverage after its factors and discounts (rider factors)
    for cov, option in selected:
        fixed_monthly = monthly and cov.code in tariff.base_monthly
        table = tariff.base_monthly if fixed_monthly else tariff.base
        amount = Decimal(table[cov.code][ut])
        steps.append(Step(cov.code, StepKind.BASE, "BASE", cov.ja, cov.en, f"{ut.value} / {option}", None,
                          tariff.base_source if not tariff.demonstration else demo, Decimal(0), amount))
        for f in product.factor_order:
            if f is Factor.LIMIT_OPTION:
                of = tariff.option_factors.get(cov.code, {}).get(option)
                if of is not None and of != _ONE:
                    new = mul(amount, of)
                    steps.append(Step(cov.code, StepKind.FACTOR, f.value, f.ja, f.en, option, of,
                                      product.factor_sources.get(f, demo), amount, new))
                    amount = new
            elif f is Factor.RATING_CLASS:
                rc = _rating_class_factor(product, tariff, q, cov, size)
                if rc is not None:
                    new = mul(amount, rc[0])
                    steps.append(Step(cov.code, StepKind.FACTOR, f.value, f.ja, f.en, rc[1], rc[0],
                                      product.factor_sources.get(f, product.rating_class_source), amount, new))
                    amount = new
            else:
                for sf, value, r, rule in shared:
                    if sf is f or (sf is Factor.FLEET and f is Factor.GRADE):
                        new = mul(amount, r)
                        steps.append(Step(cov.code, StepKind.FACTOR, sf.value, sf.ja, sf.en, value, r, rule, amount, new))
                        amount = new
                if f is Factor.GRADE and repeat is not None:
                    new = mul(amount, repeat)
                    steps.append(Step(cov.code, StepKind.SURCHARGE, "GRADE_ONE_REPEAT", "1等級連続事故契約割増",
                                      "Grade-1 repeat-accident surcharge", "grade 1 again", repeat,
                                      product.grade_one_repeat_surcharge_source, amount, new))
                    amount = new
        for a in applied:
            dr = a.rule
            if dr.coverages and cov.code not in dr.coverages:
                continue
            d = a.rate if a.by_line is None else a.by_line.get(cov.code)
            if not d:
                continue
            m = _ONE - d
            new = mul(amount, m)
            steps.append(Step(cov.code, StepKind.DISCOUNT, dr.code, dr.ja, dr.en, a.value, m, dr.source, amount, new))
            amount = new
            used_discounts.setdefault(dr.code, None)
        discounted[cov.code] = amount
        final = finish(cov.code, amount, fixed_monthly)
        lines.append(PremiumLine(cov.code, False, cov.ja, cov.en, int(final)))

    for rider in riders:
        if not rider.priced:
            continue
        fixed_monthly = monthly and rider.code in tariff.rider_premiums_monthly
        rule = tariff.base_source if not tariff.demonstration else demo
        if rider.code in tariff.rider_factors:
            of_line, rate_ = tariff.rider_factors[rider.code]
            amount = mul(discounted[of_line], rate_)
            steps.append(Step(rider.code, StepKind.BASE, "BASE", rider.ja, rider.en,
                              f"{rate_} × {of_line} premium {discounted[of_line]:.2f}", None, rule, Decimal(0), amount))
        else:
            amount = Decimal((tariff.rider_premiums_monthly if fixed_monthly else tariff.rider_premiums)[rider.code])
            steps.append(Step(rider.code, StepKind.BASE, "BASE", rider.ja, rider.en, "rider premium", None,
                              rule, Decimal(0), amount))
        final = finish(rider.code, amount, fixed_monthly)
        lines.append(PremiumLine(rider.code, True, rider.ja, rider.en, int(final)))

    return _premium(product, tariff, q, lines, riders, used_discounts, steps)


# ------------------------------------------------------------------------------- compiled plan
#
# `_rate` prices by a plan compiled once per (product, tariff): each coverage's factor chain is
# resolved from the product's factor order into a short list of operations with their labels and
# sources, so pricing a quote walks only the steps that can apply to it, without searching the
# factor order, the shared factors or the source tables per line. The arithmetic is the reference's
# (the same Decimal products in the same order, exact at 60 digits), so every step, amount and
# rounding is identical; tests/unit/test_rating_plan.py holds the two paths equal on 10,000 random
# quotes over every product. Why not integers in sen: a line's running amount is the base times up
# to a dozen factors of 2-4 decimals, so it is exact only in ~30-digit fixed point; Decimal's C
# multiply is a few percent of a quote's time, the Python around it is the rest.

_OP_LIMIT, _OP_CLASS, _OP_SHARED = 0, 1, 2


_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _LinePlan:
    cov: Coverage
    ops: tuple[tuple[int, Any], ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    product: Product      # held, so the id-keyed cache never answers for a recycled id
    tariff: Tariff
    demo: str             # the rule text of demonstration values
    base_rule: str
    lines: Mapping[str, _LinePlan]


_PLANS: dict[tuple[int, int], _Plan] = {}


def plan_of(product: Product, tariff: Tariff) -> _Plan:
    """The compiled pricing plan of `product` under `tariff` (built on first use, then cached)."""
    key = (id(product), id(tariff))
    got = _PLANS.get(key)
    if got is not None and got.product is product and got.tariff is tariff:
        return got
    demo = f"DEMONSTRATION {tariff.version}" if tariff.demonstration else tariff.version
    src = product.factor_sources
    lines: dict[str, _LinePlan] = {}
    for cov in product.coverages:
        ops: list[tuple[int, Any]] = []
        for f in product.factor_order:
            if f is Factor.LIMIT_OPTION:
                factors = {opt: of for opt, of in tariff.option_factors.get(cov.code, {}).items()
                           if of is not None and of != _ONE}
                if factors:
                    ops.append((_OP_LIMIT, (factors, f.value, f.ja, f.en, src.get(f, demo))))
            elif f is Factor.RATING_CLASS:
                if cov.rating_class_group is not None:
                    ops.append((_OP_CLASS, (f.value, f.ja, f.en, src.get(f, product.rating_class_source))))
            else:
                ops.append((_OP_SHARED, f))
        lines[cov.code] = _LinePlan(cov, tuple(ops))
    if len(_PLANS) > 256:      # products rebuilt over and over (tests): keep the cache bounded
        _PLANS.clear()
    plan = _Plan(product, tariff, demo, tariff.base_source if not tariff.demonstration else demo, lines)
    _PLANS[key] = plan
    return plan


def _rate(product: Product, q: QuoteInput, on: date, *, first_policy_year: bool = True,
          explain: bool = True) -> Premium:
    """One year's pricing by the compiled plan: exactly `_rate_reference`, faster. `explain` False:
    the same lines and total with no explanation steps (long-term quotes are always explained)."""
    if q.term_months > 12:
        return _rate_long_term(product, q, on, _rate)
    _validate(product, q)
    tariff = product.tariff_on(on)
    if tariff is None:
        raise RatingError("NO_TARIFF_IN_FORCE", "startDate", f"{product.id} has no tariff version in force on {on}")
    plan = plan_of(product, tariff)
    selected = _selected_coverages(product, q)
    chosen = {cov.code: opt for cov, opt in selected}
    riders = _effective_riders(product, q, chosen)
    applied = _discounts(product, q, first_policy_year)
    # (code, ja, en, value, rate, rule) by the factor position they apply at; `_value_`, not the
    # slower `.value` property of an enum, in this per-step path
    shared: dict[Factor, list[tuple[str, str, str, str, Decimal, str]]] = {}
    for sf, value, r, rule in _shared_factors(product, tariff, q):
        shared.setdefault(Factor.GRADE if sf is Factor.FLEET else sf, []).append(
            (sf._value_, sf.ja, sf.en, value, r, rule))
    size = PASSENGER_SIZE.get(q.vehicle.use_type)
    demo = plan.demo

    monthly = q.payment_method is PaymentMethod.MONTHLY
    surcharge, repeat, term_rate, joins = _term_adjustments(product, tariff, q, applied)

    # explain False, the price alone: no step is made, nor its arguments (most of a step's cost)
    steps: list[Step] = []
    add_step = steps.append
    step = new_step
    lines: list[PremiumLine] = []
    used_discounts: dict[str, None] = {}
    mul = _CTX.multiply
    ut = q.vehicle.use_type
    ut_text = ut._value_
    base_rule = plan.base_rule
    plain_finish = surcharge is None and term_rate is None and joins is None
    FACTOR, DISCOUNT, ROUNDING = StepKind.FACTOR, StepKind.DISCOUNT, StepKind.ROUNDING

    def finish(code: str, amount: Decimal, fixed_monthly: bool) -> Decimal:
        if fixed_monthly:
            months = Decimal(q.term_months)
            if explain:
                add_step(step(code, StepKind.TERM, "MONTHS", "月払掛金×月数", "monthly amount × months",
                              f"{q.term_months} months", months, tariff.base_source, amount, mul(amount, months)))
            amount = mul(amount, months)
        elif not plain_finish:
            if surcharge is not None:
                new = mul(amount, surcharge[0])
                if explain:
                    add_step(step(code, StepKind.SURCHARGE, "INSTALMENT", "分割払割増", "Instalment surcharge",
                                  "monthly", surcharge[0], surcharge[1], amount, new))
                amount = new
            if term_rate is not None:
                new = mul(amount, term_rate)
                if explain:
                    add_step(step(code, StepKind.TERM, "SHORT_TERM", "短期料率", "Short-term rate",
                                  f"{q.term_months} months", term_rate, demo, amount, new))
                amount = new
            if joins is not None:
                new = _CTX.divide(mul(amount, Decimal(joins[0])), Decimal(joins[1]))
                if explain:
                    add_step(step(code, StepKind.TERM, "FLEET_PRO_RATA", "中途付保（日割）",
                                  "Joins the fleet certificate mid-term (by day)",
                                  f"{joins[0]} of {joins[1]} days to {q.fleet.ends_on}", None,  # type: ignore[union-attr]
                                  "all-vehicle certificate: one common expiry (002b L5089-5092)", amount, new))
                amount = new
        rounded = Decimal(int(amount) // 10 * 10)
        if explain and rounded != amount:
            add_step(step(code, ROUNDING, "ROUNDING", "10円未満切捨", "Round down to 10 yen",
                          "", None, "house rule: each line rounded down to 10 yen", amount, rounded))
        return rounded

    discounted: dict[str, Decimal] = {}      # each coverage after its factors and discounts (rider factors)
    for cov, option in selected:
        code = cov.code
        fixed_monthly = monthly and code in tariff.base_monthly
        amount = Decimal((tariff.base_monthly if fixed_monthly else tariff.base)[code][ut])
        if explain:
            add_step(step(code, StepKind.BASE, "BASE", cov.ja, cov.en, f"{ut_text} / {option}", None, base_rule,
                          _ZERO, amount))
        for op, arg in plan.lines[code].ops:
            if op is _OP_SHARED:
                for f_code, f_ja, f_en, value, r, rule in shared.get(arg, ()):
                    new = mul(amount, r)
                    if explain:
                        add_step(step(code, FACTOR, f_code, f_ja, f_en, value, r, rule, amount, new))
                    amount = new
                if repeat is not None and arg is Factor.GRADE:
                    new = mul(amount, repeat)
                    if explain:
                        add_step(step(code, StepKind.SURCHARGE, "GRADE_ONE_REPEAT", "1等級連続事故契約割増",
                                      "Grade-1 repeat-accident surcharge", "grade 1 again", repeat,
                                      product.grade_one_repeat_surcharge_source, amount, new))
                    amount = new
            elif op is _OP_LIMIT:
                of = arg[0].get(option)
                if of is not None:
                    new = mul(amount, of)
                    if explain:
                        add_step(step(code, FACTOR, arg[1], arg[2], arg[3], option, of, arg[4], amount, new))
                    amount = new
            else:
                rc = _rating_class_factor(product, tariff, q, cov, size)
                if rc is not None:
                    new = mul(amount, rc[0])
                    if explain:
                        add_step(step(code, FACTOR, arg[0], arg[1], arg[2], rc[1], rc[0], arg[3], amount, new))
                    amount = new
        for a in applied:
            dr = a.rule
            if dr.coverages and code not in dr.coverages:
                continue
            d = a.rate if a.by_line is None else a.by_line.get(code)
            if not d:
                continue
            m = _ONE - d
            new = mul(amount, m)
            if explain:
                add_step(step(code, DISCOUNT, dr.code, dr.ja, dr.en, a.value, m, dr.source, amount, new))
            amount = new
            used_discounts.setdefault(dr.code, None)
        discounted[code] = amount
        final = finish(code, amount, fixed_monthly)
        lines.append(PremiumLine(code, False, cov.ja, cov.en, int(final)))

    for rider in riders:
        if not rider.priced:
            continue
        fixed_monthly = monthly and rider.code in tariff.rider_premiums_monthly
        if rider.code in tariff.rider_factors:
            of_line, rate_ = tariff.rider_factors[rider.code]
            amount = mul(discounted[of_line], rate_)
            if explain:
                add_step(step(rider.code, StepKind.BASE, "BASE", rider.ja, rider.en,
                                  f"{rate_} × {of_line} premium {discounted[of_line]:.2f}", None, base_rule, _ZERO,
                                  amount))
        else:
            amount = Decimal((tariff.rider_premiums_monthly if fixed_monthly else tariff.rider_premiums)[rider.code])
            if explain:
                add_step(step(rider.code, StepKind.BASE, "BASE", rider.ja, rider.en, "rider premium", None,
                                  base_rule, _ZERO, amount))
        final = finish(rider.code, amount, fixed_monthly)
        lines.append(PremiumLine(rider.code, True, rider.ja, rider.en, int(final)))

    return _premium(product, tariff, q, lines, riders, used_discounts, steps)
