"""The loaded product model: what a product file declares, as frozen dataclasses.

A product is data (one TOML file per product, see `loader.py`); the rating engine in
`domain/rating.py` is one piece of code for all of them. Rule *kinds* (what an internet
discount or a new-car table means) are closed sets here; their *numbers*, eligible vehicle
types, dates and pamphlet line references come from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from domain.fleet import RateTable
from domain.products.payout import PayoutRule
from domain.refunds import RefundMethod  # one enum for products and the refund rules
from domain.vocab import (
    AgeCondition,
    Channel,
    DriverRestriction,
    Fuel,
    Labelled,
    PaymentMethod,
    UseType,
)

# (lowest, highest) inclusive; highest None means "and above" (same shape as discount_rules.Band).
Band = tuple[int, int | None]


class ProductKind(Labelled):
    PERSONAL = ("PERSONAL", "個人用自動車保険", "Personal auto insurance")
    COMMERCIAL = ("COMMERCIAL", "事業用自動車保険", "Commercial auto insurance")
    GROUP = ("GROUP", "団体扱自動車保険", "Group-scheme auto insurance")
    MUTUAL_AID = ("MUTUAL_AID", "自動車共済", "Car mutual aid")


class UsePurpose(Labelled):
    """使用目的 (001 L215-228, 004 L1349)."""

    DAILY_LEISURE = ("DAILY_LEISURE", "日常・レジャー使用", "Daily / leisure")
    COMMUTE = ("COMMUTE", "通勤・通学使用", "Commuting / school")
    BUSINESS = ("BUSINESS", "業務使用", "Business")


class MemberRank(Labelled):
    """Rakuten member rank at application (001 L679-681)."""

    DIAMOND = ("DIAMOND", "ダイヤモンド", "Diamond")
    PLATINUM = ("PLATINUM", "プラチナ", "Platinum")
    GOLD = ("GOLD", "ゴールド", "Gold")
    SILVER = ("SILVER", "シルバー", "Silver")
    REGULAR = ("REGULAR", "レギュラー", "Regular")


class VehicleSize(Labelled):
    """Rating-class and new-car table column: standard/small passenger vs kei passenger."""

    STANDARD = ("STANDARD", "普通・小型乗用車", "Standard / small passenger car")
    KEI = ("KEI", "軽四輪乗用車", "Kei passenger car")


PASSENGER_SIZE: Mapping[UseType, VehicleSize] = {
    UseType.PRIVATE_STANDARD_PASSENGER: VehicleSize.STANDARD,
    UseType.PRIVATE_SMALL_PASSENGER: VehicleSize.STANDARD,
    UseType.PRIVATE_KEI_PASSENGER: VehicleSize.KEI,
}


class Factor(Labelled):
    """Rating factors a product may declare, applied in the product's declared order."""

    LIMIT_OPTION = ("LIMIT_OPTION", "保険金額・免責", "Limit / deductible option")
    GRADE = ("GRADE", "ノンフリート等級", "Non-fleet grade")
    AGE_CONDITION = ("AGE_CONDITION", "運転者年齢条件", "Driver age condition")
    AGE_BAND = ("AGE_BAND", "記名被保険者年齢", "Named-insured age band")
    DRIVER_RESTRICTION = ("DRIVER_RESTRICTION", "運転者限定", "Driver restriction")
    USE_PURPOSE = ("USE_PURPOSE", "使用目的", "Use purpose")
    MILEAGE_CLASS = ("MILEAGE_CLASS", "前年走行距離区分", "Previous-year mileage class")
    RATING_CLASS = ("RATING_CLASS", "型式別料率クラス", "Model rating class")
    # In place of GRADE for a car rated by its fleet's rate (002b L5015-5016); never in a factor order.
    FLEET = ("FLEET", "フリート契約の割引・割増", "Fleet discount / surcharge")


class DiscountKind(Labelled):
    """What a discount rule means; the engine implements each kind's eligibility once."""

    INTERNET = ("INTERNET", "インターネット割引", "Internet discount")
    AEB = ("AEB", "自動ブレーキ・ASV割引", "Automatic-braking / ASV discount")
    NO_ACCIDENT = ("NO_ACCIDENT", "無事故割引", "No-accident discount")
    GOLD_LICENCE = ("GOLD_LICENCE", "ゴールド免許割引", "Gold licence discount")
    MULTI_CAR = ("MULTI_CAR", "ノンフリート多数割引", "Multi-car discount")
    NEW_CAR = ("NEW_CAR", "新車割引", "New-car discount")
    ECO = ("ECO", "ECOカー割引", "Eco-car discount")
    WELFARE = ("WELFARE", "福祉車両割引", "Welfare-vehicle discount")
    REPAIRABILITY = ("REPAIRABILITY", "耐損傷性・修理性割引", "Damage-resistance / repairability discount")
    PARTNER_PLAN = ("PARTNER_PLAN", "提携プラン加入者割引", "Partner-plan holder discount")
    ONE_DAY_HISTORY = ("ONE_DAY_HISTORY", "1日自動車保険無事故割引", "One-day policy no-accident discount")
    TELEMATICS = ("TELEMATICS", "運転特性割引", "Driving-score discount")
    TELEMATICS_FIRST = ("TELEMATICS_FIRST", "テレマ新規割引", "First telematics contract discount")
    GROUP = ("GROUP", "団体扱割引", "Group-scheme discount")


class RiderMode(Labelled):
    AUTOMATIC = ("AUTOMATIC", "自動セット", "Attached automatically")
    OPTIONAL = ("OPTIONAL", "任意セット", "Optional")


class WindowKind(Labelled):
    FORGOTTEN_RENEWAL = ("FORGOTTEN_RENEWAL", "継続手続忘れ", "Forgotten renewal")
    VEHICLE_SWAP = ("VEHICLE_SWAP", "入替自動補償", "Vehicle swap automatic cover")
    DRIVER_CHANGE = ("DRIVER_CHANGE", "運転者限定・年令条件うっかり", "Driver / age condition change")


class ShortTermMethod(Labelled):
    PRO_RATA_MONTHS = ("PRO_RATA_MONTHS", "月割", "Months / 12 (demonstration)")
    MONTHLY_TABLE = ("MONTHLY_TABLE", "月払掛金×月数", "Monthly table × months")


@dataclass(frozen=True, slots=True)
class LimitOption:
    code: str
    ja: str
    en: str
    deductible: int = 0        # 免責金額 in yen carried by this choice; 0: none


@dataclass(frozen=True, slots=True)
class Coverage:
    code: str
    ja: str
    en: str
    mandatory: bool
    options: tuple[LimitOption, ...]
    default_option: str
    rating_class_group: str | None
    source: str
    # what the line pays for a stated loss (domain/claims/rider_payout.py); left out of repr (it is long)
    payout: PayoutRule | None = field(default=None, repr=False)

    def option(self, code: str) -> LimitOption | None:
        for o in self.options:
            if o.code == code:
                return o
        return None


@dataclass(frozen=True, slots=True)
class Rider:
    code: str
    ja: str
    en: str
    mode: RiderMode
    source: str
    requires: tuple[str, ...] = ()          # coverage or rider codes that must all be present
    requires_any: tuple[str, ...] = ()      # at least one of these coverage or rider codes
    excludes: tuple[str, ...] = ()          # rider codes that may not be present together
    requires_options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # coverage → allowed options
    driver_restriction: DriverRestriction | None = None   # rider that *is* a driver restriction
    priced: bool = False
    # Only while the contract's expiry falls within this many months counted from the month after
    # the car's first registration (rakuten new-car replacement: 61, 001 L482).
    expiry_within_registration_months: int | None = None
    # An AUTOMATIC rider attached automatically only for an individual named insured; for a
    # corporate one it is optional (aioi excess repair, 002a L2844-2846).
    optional_for_corporate: bool = False
    # More conditions of an AUTOMATIC rider; when one fails the rider is not attached by itself and
    # the customer may still choose it (aioi 注3-注9, 002 L2402-2405; tokio *1-*10, 004 L1085-1105).
    auto_unless: tuple[str, ...] = ()           # not when the contract carries one of these codes
    auto_without: tuple[str, ...] = ()          # only when the contract lacks these (tokio: BI without PI)
    auto_non_fleet: bool = False                # only on a non-fleet contract
    auto_telematics: bool = False               # only with the telematics plan
    auto_after_registration_months: int | None = None   # start month more than N months after first registration
    auto_expiry_before_registration_months: int | None = None   # expiry month less than N months after it
    # Who may carry the rider at all (RatingError when chosen otherwise).
    individual_only: bool = False               # an individual named insured only
    non_fleet_only: bool = False
    use_types: frozenset[UseType] = frozenset()  # empty: every use type of the product
    excludes_coverages: tuple[str, ...] = ()    # not with these coverages (aioi passenger lump sum: not with PI)
    # Only on terms of at least this many months, paid by one of these methods, without the
    # telematics plan (aioi 無事故祝金付ロング: long-term instalments, not つながるプラン, 002a L2264-2265).
    min_term_months: int | None = None
    payment_methods: frozenset[PaymentMethod] = frozenset()
    excludes_telematics: bool = False
    # Pays this share of the first policy year's annual premium after an accident-free term paid in
    # full (無事故返れい金, 002a L2268-2275).
    no_claims_refund_rate: Decimal | None = None
    # What the rider pays for a stated loss, evaluated by domain/claims/rider_payout.py; None: the
    # rider pays nothing of its own (a driver restriction, a service, a grade or deductible effect).
    payout: PayoutRule | None = field(default=None, repr=False)
    # Why the rider is AUTOMATIC / OPTIONAL when the pamphlet does not say (a decision), else "".
    mode_note: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class DiscountRule:
    """One discount of one product. Which optional fields matter depends on `kind`."""

    code: str
    kind: DiscountKind
    ja: str
    en: str
    source: str
    coverages: frozenset[str] = frozenset()           # empty: every coverage line
    use_types: frozenset[UseType] = frozenset()       # empty: every insurable type
    channels: frozenset[Channel] = frozenset()        # empty: every channel
    excluded_channels: frozenset[Channel] = frozenset()
    payment_methods: frozenset[PaymentMethod] = frozenset()
    rate: Decimal | None = None
    rates: Mapping[str, Decimal] = field(default_factory=dict)
    bands: tuple[Band, ...] = ()
    band_rates: tuple[Decimal, ...] = ()
    band_rates_7s: tuple[Decimal, ...] = ()
    no_score_rate: Decimal | None = None
    # new-car tables: (size, coverage) → rate per band; `_6s` for the grade-6(S) column
    table: Mapping[tuple[VehicleSize, str], tuple[Decimal, ...]] = field(default_factory=dict)
    table_6s: Mapping[tuple[VehicleSize, str], tuple[Decimal, ...]] = field(default_factory=dict)
    fuels: frozenset[Fuel] = frozenset()
    window_months: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    excluded_by: tuple[str, ...] = ()
    waives_instalment_surcharge: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class AgeBandRule:
    source: str
    bands: tuple[Band, ...]
    applies_with: frozenset[AgeCondition] = frozenset()   # empty: with every age condition
    use_types: frozenset[UseType] = frozenset()

    def index(self, age: int) -> int:
        for i, (lo, hi) in enumerate(self.bands):
            if age >= lo and (hi is None or age <= hi):
                return i
        raise LookupError(age)

    def label(self, i: int) -> str:
        lo, hi = self.bands[i]
        return f"{lo}+" if hi is None else f"{lo}-{hi}"


@dataclass(frozen=True, slots=True)
class ChannelRule:
    channel: Channel
    source: str
    excluded_use_types: frozenset[UseType] = frozenset()
    payment_methods: frozenset[PaymentMethod] = frozenset()   # empty: any the product offers


@dataclass(frozen=True, slots=True)
class PaymentRules:
    methods: frozenset[PaymentMethod]
    instalments_per_year: int
    instalment_surcharge: Decimal
    surcharge_source: str
    surcharge_demonstration: bool
    waived_for_channels: frozenset[Channel] = frozenset()
    waived_by_large_instalment: bool = False
    waiver_source: str = ""


@dataclass(frozen=True, slots=True)
class Window:
    kind: WindowKind
    days: int
    automatic: bool
    source: str
    liability_only_after: bool = False   # late filing still gives the liability set until expiry + days
    # coverage / rider codes of this product that a late filing still pays (SPEC §4.6 liability set)
    liability_set: tuple[str, ...] = ()
    liability_set_source: str = ""
    not_twice_in_a_row: bool = False     # aioi forgotten-renewal: not usable by the renewal after a grace renewal
    de_facto_spouse_excluded: bool = False   # driver-change events: a de-facto / same-sex partner is no "spouse"


class AssistanceKind(Labelled):
    """Road-assistance and accident-site services a claim can request (001 §7.4, 003 L95-200, 004 §7.3, 000)."""

    TOWING = ("TOWING", "レッカー搬送", "Towing")
    WHEEL_DROP = ("WHEEL_DROP", "落輪引き上げ", "Wheel-drop recovery")
    BATTERY = ("BATTERY", "バッテリー上がり", "Battery jump start")
    LOCKOUT = ("LOCKOUT", "鍵開け", "Lock-out")
    FUEL = ("FUEL", "ガス欠時燃料補給", "Fuel delivery")
    TYRE = ("TYRE", "スペアタイヤ交換", "Spare-tyre change")
    LODGING = ("LODGING", "宿泊費用", "Emergency lodging")
    TRANSPORT_HOME = ("TRANSPORT_HOME", "帰宅・代替交通費用", "Transport home / alternative transport")
    PET_LODGING = ("PET_LODGING", "ペット宿泊費用", "Pet lodging")
    POST_REPAIR_TRANSPORT = ("POST_REPAIR_TRANSPORT", "修理後搬送・引取", "Post-repair transport")
    SITE_ATTENDANCE = ("SITE_ATTENDANCE", "事故現場かけつけ", "Accident-site attendance")


class AssistanceBasis(Labelled):
    """What an assistance limit's `amount` counts."""

    SERVICE = ("SERVICE", "サービス提供(上限なし)", "Service offered, no numeric cap")
    YEN_PER_INCIDENT = ("YEN_PER_INCIDENT", "1事案あたり(円)", "Yen per incident")
    YEN_PER_PERSON = ("YEN_PER_PERSON", "1名あたり(円)", "Yen per person per incident")
    YEN_PER_VEHICLE = ("YEN_PER_VEHICLE", "1台あたり(円)", "Yen per shared taxi / rental car")
    USES_PER_PERIOD = ("USES_PER_PERIOD", "保険期間あたり回数", "Uses per policy period")
    USES_PER_INCIDENT = ("USES_PER_INCIDENT", "1事案あたり回数", "Uses per incident")
    LITRES_PER_USE = ("LITRES_PER_USE", "1回あたり(L)", "Litres per use")
    FREE_KM_PER_TOW = ("FREE_KM_PER_TOW", "無料牽引距離(km)", "Free towing distance (km)")
    METRES = ("METRES", "落差(m)", "Height of a wheel drop (m)")
    # Yen of the cost beyond the free service (parts, consumables) the insurer bears, at most
    # `uses_per_period` times a policy period (JAF ¥4,000: 002 L3792-3793; 004 L814).
    EXTRA_YEN = ("EXTRA_YEN", "無料範囲外費用の負担(円)", "Yen of the cost beyond the free service")


class ContractTrait(Labelled):
    """A fact of the contract an assistance limit can depend on."""

    FLEET = ("FLEET", "フリート契約", "A car of a fleet contract")
    MULTI_CAR_DISCOUNT = ("MULTI_CAR_DISCOUNT", "まとめて割引適用契約", "The multi-car discount applies")


@dataclass(frozen=True, slots=True)
class AssistanceLimit:
    code: str
    ja: str
    en: str
    amount: int
    unit: str
    source: str
    # Structured meaning, read by domain/claims/assistance.py. A limit with no `services` is
    # informational only (shown, not enforced).
    services: frozenset[AssistanceKind] = frozenset()
    basis: AssistanceBasis = AssistanceBasis.SERVICE
    channels: frozenset[Channel] = frozenset()   # empty: every channel
    min_distance_km: int = 0                     # from home, straight line (003 L176)
    not_at_home: bool = False                    # not available at the home / contracted car park
    requires: tuple[str, ...] = ()               # coverage or rider codes the contract must carry
    # At the home / contracted car park the service is given but charged (有料: 002 L3762 fuel;
    # 003 L142 towing), rather than refused: nothing free, no allowance used.
    charged_at_home: bool = False
    unlimited_for: frozenset[ContractTrait] = frozenset()   # USES_PER_PERIOD: no count for these (002 L3759-3760)
    jaf_amount: int | None = None                # this amount instead when a JAF member is served by JAF (004 L814)
    jaf_only: bool = False                       # the limit exists only when a JAF member is served by JAF
    not_after_tow: bool = False                  # not in an incident whose car was towed (002 L3802)
    uses_per_period: int | None = None           # EXTRA_YEN: how many times a policy period
    # Kinds whose yen cap this limit lifts when the insurer approved the destination / arranged
    # the tow in advance (004 L776 *2: unlimited; 002 L3741-3746: no ceiling with prior contact).
    uncapped_if_pre_approved: frozenset[AssistanceKind] = frozenset()
    # YEN_PER_INCIDENT: the cap is the higher of `amount` and this share of the vehicle sum
    # insured when the contract carries vehicle cover (002 L3749).
    or_vehicle_si_share: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ScoreBand:
    min_score: int                 # this band from this safety score up (to the next band's minimum)
    discount: Decimal              # 運転特性毎月割引 on the month's driving premium (0.80 = 80%)


@dataclass(frozen=True, slots=True)
class ConnectedPlan:
    """つながるプラン: base premium + a monthly driving premium = km × unit rate, less the month's
    safety-score discount, no charge above the annual km cap (002 L1624-1628, L1685-1696, L1831-1850)."""

    unit_rate_yen_per_km: Decimal  # 運転分保険料単価: not printed (002a §9 item 8): DEMONSTRATION
    unit_rate_demonstration: bool
    annual_km_cap: int             # 20,000 km a policy year (002 L1624-1628)
    bands: tuple[ScoreBand, ...]   # by descending min_score
    source: str


@dataclass(frozen=True, slots=True)
class Tariff:
    """A dated set of prices. The insurers' base premiums are not public: DEMONSTRATION values."""

    version: str
    effective_from: date
    effective_to: date | None      # inclusive; None = open
    demonstration: bool
    note: str
    short_term: ShortTermMethod
    base: Mapping[str, Mapping[UseType, int]]                # coverage → use type → annual yen
    base_monthly: Mapping[str, Mapping[UseType, int]]        # fixed monthly tables (kyosai)
    option_factors: Mapping[str, Mapping[str, Decimal]]      # coverage → option → factor
    factors: Mapping[Factor, Mapping[str, Decimal]]          # factor → key → factor
    age_band_factors: tuple[Decimal, ...]
    rating_class_factors: Mapping[VehicleSize, tuple[Decimal, ...]]   # index = class − 1
    rider_premiums: Mapping[str, int]                        # annual yen
    rider_premiums_monthly: Mapping[str, int]
    base_source: str = "DEMONSTRATION"
    # A rider priced as a factor of a coverage's premium: rider → (coverage, rate). The coverage's
    # amount after its factors and discounts, × rate, then the same instalment / term steps.
    rider_factors: Mapping[str, tuple[str, Decimal]] = field(default_factory=dict)

    def in_force(self, d: date) -> bool:
        return self.effective_from <= d and (self.effective_to is None or d <= self.effective_to)


@dataclass(frozen=True, slots=True)
class RenewalRules:
    """How the next term is offered (SPEC §4.4: offer ≈ 60 days before expiry; tokio auto-renew)."""

    offer_days_before: int = 60
    auto_renew_rider: str | None = None   # rider whose presence renews on the same terms unless declined
    source: str = ""


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who may buy the product at all, each rule with its pamphlet line (checked on every rating:
    quote, endorsement, renewal). None: the product has no such rule."""

    individual_named_insured: str | None = None   # the named insured must be a person: its source line
    max_insured_vehicles: int | None = None         # non-fleet: the policyholder's insured cars in total
    max_insured_vehicles_source: str = ""
    # A driver restriction other than NONE only for an individual named insured with one of these cars.
    restriction_use_types: frozenset[UseType] | None = None
    restriction_source: str = ""
    # An age condition other than ANY only for these cars.
    age_condition_use_types: frozenset[UseType] | None = None
    age_condition_source: str = ""
    # The product also has fleet contracts: a non-fleet quote over max_insured_vehicles is told to use one.
    fleet_contracts: bool = False
    # A corporate named insured must choose an option with a deductible for these coverages.
    corporate_deductible_coverages: frozenset[str] = frozenset()
    corporate_deductible_source: str = ""


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    ja: str
    en: str
    insurer_ja: str
    insurer_en: str
    kind: ProductKind
    source: str
    source_file: str
    valid_from: date | None
    use_types: frozenset[UseType]
    channels: frozenset[Channel]
    channel_rules: tuple[ChannelRule, ...]
    age_conditions: frozenset[AgeCondition]
    driver_restrictions: frozenset[DriverRestriction]
    use_purposes: frozenset[UsePurpose]
    mileage_classes: tuple[int, ...]
    term_months: frozenset[int]
    graded: bool
    grade_source: str
    grade_one_repeat_surcharge: Decimal | None     # aioi 1等級連続事故契約割増 +20% (002 L4421-4427)
    grade_one_repeat_surcharge_source: str
    factor_order: tuple[Factor, ...]
    factor_sources: Mapping[Factor, str]
    coverages: tuple[Coverage, ...]
    require_one_of: tuple[str, ...]
    require_one_of_source: str
    riders: tuple[Rider, ...]
    discounts: tuple[DiscountRule, ...]
    age_band: AgeBandRule | None
    rating_class_ranges: Mapping[VehicleSize, tuple[int, int]]
    rating_class_source: str
    payment: PaymentRules
    windows: tuple[Window, ...]
    road_assistance: tuple[AssistanceLimit, ...]
    refund_method: RefundMethod
    refund_source: str
    tariffs: tuple[Tariff, ...]
    renewal: RenewalRules = RenewalRules()
    eligibility: Eligibility = Eligibility()
    fleet: RateTable | None = None       # fleet contracts' loss-ratio table (domain/fleet.py)
    connected_plan: ConnectedPlan | None = None   # aioi つながるプラン driving premium (domain/connected_plan.py)

    def coverage(self, code: str) -> Coverage | None:
        for c in self.coverages:
            if c.code == code:
                return c
        return None

    def rider(self, code: str) -> Rider | None:
        for r in self.riders:
            if r.code == code:
                return r
        return None

    def window(self, kind: WindowKind) -> Window | None:
        for w in self.windows:
            if w.kind is kind:
                return w
        return None

    def tariff_on(self, d: date) -> Tariff | None:
        """The tariff version in force on `d` (versions never overlap: the loader checks)."""
        for t in self.tariffs:
            if t.in_force(d):
                return t
        return None
