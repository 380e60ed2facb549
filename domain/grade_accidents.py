"""Which grade class one accident falls in (3-down / 1-down / no-count), from what was paid.

Pure. One accident can pay under several coverages; each paid coverage has a class, and the
accident takes the heaviest: 3-down > 1-down > no-count [002b L4833-4835]. The lists follow the
Tokio table (004 L1591-1595), the most complete of the pamphlets, cross-checked with aioi
(002b L4759-4811, L4837-4840) and rakuten (001 L496-509, L1070). What is on neither the
1-down nor the no-count list is a 3-down accident [004 L1595, 002b L4838]. An accident that
pays nothing, or whose payment was withdrawn (paid back), is not an accident for the grade.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.calendar import RuleError
from domain.vocab import AccidentClass, Labelled


class Coverage(Labelled):
    """Coverage or rider a claim can pay under, as far as the grade system cares."""

    BI = ("BI", "対人賠償", "Bodily-injury liability")
    PD = ("PD", "対物賠償", "Property-damage liability")
    PD_EXCESS_REPAIR = ("PD_EXCESS_REPAIR", "対物超過修理費用特約", "PD excess repair cost rider")
    BI_SPECIAL_EXPENSE = ("BI_SPECIAL_EXPENSE", "対人臨時費用", "BI special expenses")
    PI = ("PI", "人身傷害", "Personal injury protection")
    PI_CONVEYANCE = ("PI_CONVEYANCE", "人身傷害乗用具事故補償特約", "PI conveyance accident rider")
    PEDESTRIAN = ("PEDESTRIAN", "対歩行者等傷害特約", "Pedestrian injury rider")
    PASSENGER = ("PASSENGER", "搭乗者傷害", "Passenger personal accident")
    INJURY_LUMP_SUM = ("INJURY_LUMP_SUM", "傷害一時金特約", "Injury lump-sum rider")
    HOSPITAL_EXPENSES = (
        "HOSPITAL_EXPENSES",
        "入院時の諸費用特約",
        "Hospitalisation expense / assist rider",
    )
    UNINSURED = ("UNINSURED", "無保険車傷害", "Uninsured motorist")
    TRAFFIC_ACCIDENT = ("TRAFFIC_ACCIDENT", "交通事故特約", "Traffic accident rider")
    VEHICLE = ("VEHICLE", "車両保険", "Vehicle (own damage)")
    VEHICLE_NEW_CAR = ("VEHICLE_NEW_CAR", "新車特約(車両新車取得費用)", "New-car replacement rider")
    BELONGINGS = ("BELONGINGS", "車内携行品", "In-car belongings")
    OTHER_CAR_VEHICLE = (
        "OTHER_CAR_VEHICLE",
        "他車運転特約(車両損害)",
        "Other-car rider, damage to the borrowed car",
    )
    BREAKDOWN = ("BREAKDOWN", "故障補償特約", "Breakdown rider")
    ROAD_SERVICE = ("ROAD_SERVICE", "ロードサービス", "Road service / assistance")
    RENTAL_CAR = ("RENTAL_CAR", "レンタカー費用・代車", "Rental car / courtesy car")
    LAWYER = ("LAWYER", "弁護士費用", "Lawyer fees")
    LEGAL_CONSULTATION = ("LEGAL_CONSULTATION", "法律相談費用", "Legal consultation")
    PERSONAL_LIABILITY = (
        "PERSONAL_LIABILITY",
        "個人賠償・日常生活賠償・自転車賠償",
        "Personal / bicycle liability",
    )
    FAMILY_BIKE = ("FAMILY_BIKE", "ファミリーバイク", "Family bike")
    EARTHQUAKE_FIXED = (
        "EARTHQUAKE_FIXED",
        "地震・噴火・津波車両全損時定額払",
        "Earthquake total-loss fixed sum",
    )
    VICTIM_RELIEF = ("VICTIM_RELIEF", "被害者救済費用", "Victim relief costs")
    REMOTE_VICTIM = ("REMOTE_VICTIM", "遠隔地被害者臨時費用", "Remote-victim expenses")
    EMPLOYER_PASSENGER_COST = (
        "EMPLOYER_PASSENGER_COST",
        "搭乗者傷害事業主費用",
        "Employer's passenger-injury costs",
    )
    BUSINESS_CARGO = ("BUSINESS_CARGO", "事業用積載動産", "Business cargo")
    CARRIER_CARGO_LIABILITY = (
        "CARRIER_CARGO_LIABILITY",
        "運送業者受託貨物賠償",
        "Carrier's cargo liability",
    )
    CONDOLENCE = ("CONDOLENCE", "企業・団体見舞費用", "Corporate condolence costs")
    PERSONAL_BELONGINGS = ("PERSONAL_BELONGINGS", "車内外身の回り品", "Personal belongings in and out of the car")
    OTHER = ("OTHER", "その他", "Any coverage not listed")


class VehicleCause(Labelled):
    """What damaged the car, when vehicle cover (or a vehicle-like rider) pays [004 L1593]."""

    COLLISION = (
        "COLLISION",
        "他物との衝突・接触、転覆・墜落",
        "Collision, contact, rollover or fall",
    )
    FIRE_EXPLOSION = ("FIRE_EXPLOSION", "火災・爆発", "Fire or explosion")
    WINDOW_BREAKAGE = ("WINDOW_BREAKAGE", "窓ガラス破損", "Window breakage (not from a collision)")
    THEFT = ("THEFT", "盗難", "Theft")
    RIOT = ("RIOT", "騒じょう・労働争議に伴う暴力行為・破壊行為", "Riot or labour-dispute violence")
    STORM_FLOOD = (
        "STORM_FLOOD",
        "台風・たつ巻・洪水・高潮",
        "Typhoon, tornado, flood or storm surge",
    )
    VANDALISM = ("VANDALISM", "落書・いたずら", "Graffiti or mischief (not by another car)")
    FLYING_FALLING_OBJECT = (
        "FLYING_FALLING_OBJECT",
        "飛来中・落下中の他物との衝突",
        "Hit by a flying or falling object",
    )
    OTHER_ACCIDENTAL = (
        "OTHER_ACCIDENTAL",
        "その他偶然な事故",
        "Other accidental event (not a collision)",
    )


class NoFault(Labelled):
    """Circumstances under which the no-fault rider (無過失事故特約) makes a payment no-count."""

    NONE = ("NONE", "該当なし", "Not a no-fault accident")
    # Car-to-car, no fault on the insured side, other car and its driver/owner identified
    # [001 L496-500, 002b L3415-3417, 004 L1001].
    NO_FAULT_COLLISION = (
        "NO_FAULT_COLLISION",
        "無過失の車対車事故",
        "No-fault car-to-car accident",
    )
    # Accident while driving automatically, except one that is a 1-down accident [004 L1002].
    AUTOMATED_DRIVING = (
        "AUTOMATED_DRIVING",
        "自動運転中の事故",
        "Accident during automated driving",
    )


# Payments under these alone (or together) are not counted [004 L1594; 002b L4761-4810;
# 001 L1070 road service]. A product may add more (see `classify_accident(no_count=...)`).
DEFAULT_NO_COUNT: frozenset[Coverage] = frozenset(
    {
        Coverage.BI_SPECIAL_EXPENSE,  # 004 L1594, 002b L4762
        Coverage.PI,  # 004 L1594, 002b L4761
        Coverage.PI_CONVEYANCE,  # 004 L1594
        Coverage.PEDESTRIAN,  # 002b L4763
        Coverage.PASSENGER,  # 004 L1594, 002b L4782-4787
        Coverage.INJURY_LUMP_SUM,  # 002b L4776-4780
        Coverage.HOSPITAL_EXPENSES,  # 004 L1594 入院時選べるアシスト, 002b L4772
        Coverage.UNINSURED,  # 004 L1594, 002b L4775
        Coverage.TRAFFIC_ACCIDENT,  # 002b L4770
        Coverage.ROAD_SERVICE,  # 004 L1594, 002b L4791, 001 L1070
        Coverage.RENTAL_CAR,  # 004 L1594, 002b L4806
        Coverage.LAWYER,  # 004 L1594, 002b L4794-4796
        Coverage.LEGAL_CONSULTATION,  # 004 L1594
        Coverage.PERSONAL_LIABILITY,  # 004 L1594, 002b L4797-4798
        Coverage.FAMILY_BIKE,  # 004 L1594, 002b L4801-4804
        Coverage.EARTHQUAKE_FIXED,  # 004 L1594, 002b L4788
        Coverage.VICTIM_RELIEF,  # 004 L1594, 002b L4764-4768
        Coverage.REMOTE_VICTIM,  # 002b L4793
        Coverage.EMPLOYER_PASSENGER_COST,  # 002b L4805
        Coverage.BUSINESS_CARGO,  # 002b L4808
        Coverage.CARRIER_CARGO_LIABILITY,  # 002b L4809
        Coverage.CONDOLENCE,  # 002b L4810
        Coverage.PERSONAL_BELONGINGS,  # 002b L4807 (aioi; tokio's 車内携行品 is BELONGINGS, 1-down by cause)
    }
)

# Damage to the insured car from these causes is a 1-down accident [004 L1593 ①; 002b L4839-4840].
ONE_DOWN_CAUSES: frozenset[VehicleCause] = frozenset(set(VehicleCause) - {VehicleCause.COLLISION})

# Coverages whose class depends on what damaged the car. In-car belongings follow the vehicle
# accident they belong to [004 L1593 ①].
_VEHICLE_LIKE = frozenset({Coverage.VEHICLE, Coverage.VEHICLE_NEW_CAR, Coverage.BELONGINGS})

# Riders attached to BI/PD that stay no-count when paid with victim relief [002b L4903-4904].
_LIABILITY_ATTACHED = frozenset({Coverage.PD_EXCESS_REPAIR, Coverage.BI_SPECIAL_EXPENSE})

_WEIGHT = {AccidentClass.NO_COUNT: 0, AccidentClass.ONE_DOWN: 1, AccidentClass.THREE_DOWN: 2}


def heavier(a: AccidentClass, b: AccidentClass) -> AccidentClass:
    """The class of one accident that falls in both: 3-down > 1-down > no-count [002b L4833-4835]."""
    return a if _WEIGHT[a] >= _WEIGHT[b] else b


@dataclass(frozen=True, slots=True)
class AccidentClassification:
    """`accident_class` None means the accident does not exist for the grade (nothing paid, or withdrawn)."""

    accident_class: AccidentClass | None
    per_coverage: tuple[tuple[Coverage, AccidentClass, str], ...]
    reason: str


def _one(
    cov: Coverage,
    paid: frozenset[Coverage],
    cause: VehicleCause | None,
    no_fault: NoFault,
    no_count: frozenset[Coverage],
) -> tuple[AccidentClass, str]:
    nf = no_fault is not NoFault.NONE
    one_down_cause = cause in ONE_DOWN_CAUSES
    if cov is Coverage.VEHICLE_NEW_CAR and nf:
        # A no-fault accident that pays the new-car rider still costs 3 grades [001 L509].
        return AccidentClass.THREE_DOWN, "new-car rider paid on a no-fault accident (001 L509)"
    if cov in no_count:
        return AccidentClass.NO_COUNT, "on the no-count list (004 L1594; 002b L4761-4810)"
    if (
        cov in _LIABILITY_ATTACHED
        and Coverage.VICTIM_RELIEF in paid
        and not paid & {Coverage.BI, Coverage.PD}
    ):
        return AccidentClass.NO_COUNT, "paid together with victim relief (002b L4903-4904)"
    if cov in _VEHICLE_LIKE or cov in (Coverage.BI, Coverage.PD):
        if no_fault is NoFault.AUTOMATED_DRIVING and cov in _VEHICLE_LIKE and one_down_cause:
            return (
                AccidentClass.ONE_DOWN,
                "automated driving does not lift a 1-down cause (004 L1002)",
            )
        if nf:
            return (
                AccidentClass.NO_COUNT,
                f"{no_fault.en.lower()} under the no-fault rider (004 L999-1002; 001 L496; 002b L3415)",
            )
    if cov in _VEHICLE_LIKE:
        if cause is None:
            raise RuleError(
                "VEHICLE_CAUSE_REQUIRED",
                "vehicle_cause",
                f"{cov.value} was paid: say what damaged the car",
            )
        if one_down_cause:
            return (
                AccidentClass.ONE_DOWN,
                f"vehicle damage by {cause.en.lower()} (004 L1593; 002b L4839-4840)",
            )
        return (
            AccidentClass.THREE_DOWN,
            "vehicle damage by collision, contact, rollover or fall (004 L1593, L1595)",
        )
    if cov is Coverage.OTHER_CAR_VEHICLE:
        if cause is VehicleCause.FLYING_FALLING_OBJECT:
            return (
                AccidentClass.ONE_DOWN,
                "other-car rider repair for a flying/falling object (004 L1593 ②)",
            )
        return (
            AccidentClass.THREE_DOWN,
            "other-car rider damage other than a flying/falling object (004 L1595)",
        )
    if cov is Coverage.BREAKDOWN:
        return AccidentClass.ONE_DOWN, "breakdown rider (004 L1593 ①, *15)"
    return AccidentClass.THREE_DOWN, "neither 1-down nor no-count (004 L1595; 002b L4838)"


def classify_accident(
    paid: Iterable[Coverage],
    *,
    vehicle_cause: VehicleCause | None = None,
    no_fault: NoFault = NoFault.NONE,
    withdrawn: bool = False,
    no_count: frozenset[Coverage] = DEFAULT_NO_COUNT,
) -> AccidentClassification:
    """Class of one accident from the coverages that paid on it and how it happened.

    `vehicle_cause` is required when vehicle cover, the new-car rider or in-car belongings paid
    (unless a no-fault case settles it). `no_count` lets a product extend the no-count list
    (aioi, for example, counts 車内外身の回り品特約 as no-count, 002b L4807).
    """
    paid_set = frozenset(Coverage(c) for c in paid)
    if withdrawn:
        return AccidentClassification(None, (), "claim withdrawn and payment returned: not counted")
    if not paid_set:
        return AccidentClassification(
            None, (), "nothing paid: not an accident for the grade (002b L4837)"
        )
    parts: list[tuple[Coverage, AccidentClass, str]] = []
    result = AccidentClass.NO_COUNT
    for cov in sorted(paid_set, key=lambda c: c.value):
        cls, why = _one(cov, paid_set, vehicle_cause, no_fault, no_count)
        parts.append((cov, cls, why))
        result = heavier(result, cls)
    decisive = next(p for p in parts if p[1] is result)
    reason = f"{result.en} because of {decisive[0].value}: {decisive[2]}"
    if len(parts) > 1:
        reason += "; the heaviest class of one accident wins (002b L4833-4835)"
    return AccidentClassification(result, tuple(parts), reason)


def counted_classes(classifications: Iterable[AccidentClassification]) -> tuple[AccidentClass, ...]:
    """The classes to feed into renewal: withdrawn and unpaid accidents drop out."""
    return tuple(c.accident_class for c in classifications if c.accident_class is not None)
