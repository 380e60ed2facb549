"""Closed vocabularies shared by every domain module, each value with its Japanese and English label.

The enum *value* is the stable machine code (stored in PostgreSQL, exposed in GraphQL);
labels are for people. Adding a member is cheap; renaming one is a migration.
"""

from __future__ import annotations

from enum import Enum


class Labelled(str, Enum):
    """A str enum whose members carry (ja, en) labels: `Member = ("CODE", "日本語", "English")`."""

    ja: str
    en: str

    def __new__(cls, code: str, ja: str = "", en: str = "") -> Labelled:  # noqa: PYI034 - Enum members, not Self
        obj = str.__new__(cls, code)
        obj._value_ = code
        obj.ja = ja
        obj.en = en
        return obj


class UseType(Labelled):
    """用途車種. The first eight are the 自家用8車種 (001 L166-174)."""

    PRIVATE_STANDARD_PASSENGER = ("PRIVATE_STANDARD_PASSENGER", "自家用普通乗用車", "Private standard passenger car")
    PRIVATE_SMALL_PASSENGER = ("PRIVATE_SMALL_PASSENGER", "自家用小型乗用車", "Private small passenger car")
    PRIVATE_KEI_PASSENGER = ("PRIVATE_KEI_PASSENGER", "自家用軽四輪乗用車", "Private kei passenger car")
    PRIVATE_STANDARD_TRUCK_HEAVY = ("PRIVATE_STANDARD_TRUCK_HEAVY", "自家用普通貨物車(0.5t超2t以下)", "Private standard truck (0.5–2 t)")
    PRIVATE_STANDARD_TRUCK_LIGHT = ("PRIVATE_STANDARD_TRUCK_LIGHT", "自家用普通貨物車(0.5t以下)", "Private standard truck (≤0.5 t)")
    PRIVATE_SMALL_TRUCK = ("PRIVATE_SMALL_TRUCK", "自家用小型貨物車", "Private small truck")
    PRIVATE_KEI_TRUCK = ("PRIVATE_KEI_TRUCK", "自家用軽四輪貨物車", "Private kei truck")
    CAMPING_CAR = ("CAMPING_CAR", "特種用途自動車(キャンピング車)", "Special-purpose vehicle (camping car)")
    # commercial types (aioi Tough Biz and fleets)
    COMMERCIAL_STANDARD_TRUCK = ("COMMERCIAL_STANDARD_TRUCK", "営業用普通貨物車", "Commercial standard truck")
    COMMERCIAL_SMALL_TRUCK = ("COMMERCIAL_SMALL_TRUCK", "営業用小型貨物車", "Commercial small truck")
    COMMERCIAL_KEI_TRUCK = ("COMMERCIAL_KEI_TRUCK", "営業用軽四輪貨物車", "Commercial kei truck")
    PRIVATE_LARGE_TRUCK = ("PRIVATE_LARGE_TRUCK", "自家用普通貨物車(2t超)", "Private standard truck (>2 t)")
    PRIVATE_BUS = ("PRIVATE_BUS", "自家用バス", "Private bus")
    SPECIAL_PURPOSE = ("SPECIAL_PURPOSE", "特種用途自動車", "Special-purpose vehicle")
    MOTORCYCLE = ("MOTORCYCLE", "二輪自動車・原動機付自転車", "Motorcycle / moped")

    @property
    def is_private_eight(self) -> bool:
        return self in PRIVATE_EIGHT

    @property
    def is_kei(self) -> bool:
        return self in (UseType.PRIVATE_KEI_PASSENGER, UseType.PRIVATE_KEI_TRUCK, UseType.COMMERCIAL_KEI_TRUCK)


PRIVATE_EIGHT: frozenset[UseType] = frozenset(
    {
        UseType.PRIVATE_STANDARD_PASSENGER,
        UseType.PRIVATE_SMALL_PASSENGER,
        UseType.PRIVATE_KEI_PASSENGER,
        UseType.PRIVATE_STANDARD_TRUCK_HEAVY,
        UseType.PRIVATE_STANDARD_TRUCK_LIGHT,
        UseType.PRIVATE_SMALL_TRUCK,
        UseType.PRIVATE_KEI_TRUCK,
        UseType.CAMPING_CAR,
    }
)


class Relationship(Labelled):
    """Relationship of a driver to the named insured (記名被保険者)."""

    SELF = ("SELF", "記名被保険者本人", "Named insured")
    SPOUSE = ("SPOUSE", "配偶者", "Spouse")
    COHABITING_RELATIVE = ("COHABITING_RELATIVE", "同居の親族", "Cohabiting relative")
    UNMARRIED_CHILD_APART = ("UNMARRIED_CHILD_APART", "別居の未婚の子", "Unmarried child living apart")
    EMPLOYEE = ("EMPLOYEE", "使用人", "Employee of the above, on business")
    OTHER = ("OTHER", "その他", "Other (friend, relative living apart, ...)")


class SpouseKind(Labelled):
    """Whether the 'spouse' is legally married or a de-facto / same-sex partner (001 L1142, 002b L4115)."""

    LEGAL = ("LEGAL", "婚姻の届出をした配偶者", "Legally married")
    DE_FACTO = ("DE_FACTO", "内縁・同性パートナー", "De-facto or same-sex partner")


class AgeCondition(Labelled):
    """運転者年令条件."""

    ANY = ("ANY", "年齢問わず補償", "Any age")
    AGE_21 = ("AGE_21", "21歳以上補償", "21 and over")
    AGE_26 = ("AGE_26", "26歳以上補償", "26 and over")
    AGE_35 = ("AGE_35", "35歳以上補償", "35 and over")

    @property
    def minimum_age(self) -> int:
        return {"ANY": 0, "AGE_21": 21, "AGE_26": 26, "AGE_35": 35}[self.value]


class DriverRestriction(Labelled):
    """運転者限定 (運転者の範囲)."""

    NONE = ("NONE", "限定なし", "No restriction")
    FAMILY = ("FAMILY", "家族限定", "Family only")
    NAMED_INSURED_AND_SPOUSE = ("NAMED_INSURED_AND_SPOUSE", "本人・配偶者限定", "Named insured and spouse")
    NAMED_INSURED_ONLY = ("NAMED_INSURED_ONLY", "本人限定", "Named insured only")


class LicenceColour(Labelled):
    GOLD = ("GOLD", "ゴールド", "Gold")
    BLUE = ("BLUE", "ブルー", "Blue")
    GREEN = ("GREEN", "グリーン", "Green")


class Channel(Labelled):
    INTERNET = ("INTERNET", "インターネット", "Internet")
    AGENT = ("AGENT", "代理店", "Agent")
    GROUP = ("GROUP", "団体扱", "Group scheme")


class PaymentMethod(Labelled):
    ANNUAL = ("ANNUAL", "一時払", "Single annual payment")
    MONTHLY = ("MONTHLY", "月払(分割)", "Monthly instalments")


class AccidentClass(Labelled):
    """Grade impact of one accident (事故の区分)."""

    THREE_DOWN = ("THREE_DOWN", "3等級ダウン事故", "3-down accident")
    ONE_DOWN = ("ONE_DOWN", "1等級ダウン事故", "1-down accident")
    NO_COUNT = ("NO_COUNT", "ノーカウント事故", "No-count accident")


class Fuel(Labelled):
    PETROL = ("PETROL", "ガソリン", "Petrol")
    DIESEL = ("DIESEL", "ディーゼル", "Diesel")
    HYBRID = ("HYBRID", "ハイブリッド", "Hybrid")
    EV = ("EV", "電気", "Electric")
    PHEV = ("PHEV", "プラグインハイブリッド", "Plug-in hybrid")
    FCV = ("FCV", "燃料電池", "Fuel cell")
    CNG = ("CNG", "天然ガス", "Natural gas")


class ContractStatus(Labelled):
    """SPEC §4.4. A contract holds a set of these (IN_FORCE and CANCEL_PENDING at once, ...)."""

    QUOTED = ("QUOTED", "見積", "Quoted")
    IN_FORCE = ("IN_FORCE", "有効", "In force")
    EXPIRED = ("EXPIRED", "満期", "Expired")
    IN_RENEWAL_GRACE = ("IN_RENEWAL_GRACE", "更新猶予期間中", "In renewal grace period")
    LAPSED = ("LAPSED", "失効", "Lapsed")
    CANCELLED = ("CANCELLED", "解約", "Cancelled")
    CANCEL_PENDING = ("CANCEL_PENDING", "解約手続中", "Cancellation pending")
    DELINQUENT = ("DELINQUENT", "保険料未払", "Premium unpaid")
    RESCINDED = ("RESCINDED", "解除", "Rescinded")
    SWAP_PENDING = ("SWAP_PENDING", "車両入替手続中", "Vehicle swap pending")
    DO_NOT_RENEW = ("DO_NOT_RENEW", "更新しない", "Not to be renewed")
