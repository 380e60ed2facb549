"""Pay-out rules as data: what a rider (or a coverage) pays for a stated loss.

A product file gives each rider a `[riders.payout]` table (a coverage may have a
`[coverages.payout]` too); `domain/claims/rider_payout.py` is the one engine that evaluates them.
The *kinds* below (fixed amount, per day, percent of the sum insured, cost, same as another line)
and the fact names are closed sets; the amounts, caps, conditions and pamphlet lines come from the
file. docs/rider_rules.md describes the format field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.vocab import Labelled


class FactType(Labelled):
    YEN = ("YEN", "金額(円)", "Yen amount")
    COUNT = ("COUNT", "人数・件数", "Count")
    DAYS = ("DAYS", "日数", "Days")
    PERCENT = ("PERCENT", "割合(%)", "Percent 0..100")
    FLAG = ("FLAG", "該当/非該当", "Yes / no")
    CHOICE = ("CHOICE", "区分", "One of a closed set")
    DATE = ("DATE", "日付", "Date")


class Fact(Labelled):
    """A fact of the stated loss a rule may read. The value is the field name of
    `domain.claims.rider_payout.LossFacts` (and, camel-cased, of the GraphQL `RiderLossInput`)."""

    LOSS_YEN = ("loss_yen", "損害額・費用", "Loss or cost stated (repair cost, fees, damages, rental cost)")
    CONSULTATION_YEN = ("consultation_yen", "法律相談費用", "Legal consultation cost")
    MARKET_VALUE_YEN = ("market_value_yen", "時価額", "Market value of the damaged car")
    PAID_BY_OTHERS_YEN = ("paid_by_others_yen", "自賠責保険等の支払額",
                          "Paid by compulsory insurance, workers' compensation or the other side")
    OWN_COST_YEN = ("own_cost_yen", "経済的自己負担額", "The member's own cost")
    DAMAGE_TO_OTHERS_YEN = ("damage_to_others_yen", "他人の財物の損害額", "Damage to others' property")
    FAULT_PERCENT = ("fault_percent", "過失割合", "The insured's fault ratio")
    DAYS = ("days", "日数", "Days (rental days; hospital + outpatient days within 180 days of the accident)")
    DEPENDANTS = ("dependants", "扶養する所定の方の人数", "Prescribed dependants of the person")
    DISABILITY_GRADE = ("disability_grade", "後遺障害等級", "After-effects grade 1 (worst) .. 14; 0: none")
    OUTCOME = ("outcome", "被害の程度", "What happened to the person")
    INJURY_CLASS = ("injury_class", "部位・症状", "Injury class (body part / symptom)")
    CAUSE = ("cause", "事故の原因・態様", "Cause or kind of the loss")
    TOTAL_LOSS = ("total_loss", "全損", "The car is a total loss")
    TOWED = ("towed", "レッカーけん引", "The car was towed")
    AT_FAULT = ("at_fault", "過失あり", "The insured / member was at fault")
    LIABLE = ("liable", "法律上の損害賠償責任あり", "The insured is legally liable")
    NO_FAULT = ("no_fault", "無過失", "Owner and user of the insured car had no fault")
    OTHER_PARTY_IDENTIFIED = ("other_party_identified", "相手自動車の運転者・所有者を確認",
                              "The other car's driver or owner is identified")
    CONFIRMED_OBJECTIVELY = ("confirmed_objectively", "リコール・警察の捜査等で確認",
                             "Confirmed by a recall, a police investigation or similar objective facts")
    ABROAD = ("abroad", "国外での事故", "The accident happened outside Japan")
    BORROWED_CAR_ELIGIBLE = ("borrowed_car_eligible", "借用自動車が補償対象",
                             "The borrowed car is one of the 8 private types, not the family's own")
    REPAIRED_ON = ("repaired_on", "修理・再取得日", "Day the car was repaired or replaced")
    # aioi / tokio riders (h-riders2)
    DISTANCE_KM = ("distance_km", "被保険者の居住地からの距離(km)",
                   "Distance from the insured's home to the victim's home or hospital, km")
    OUTPATIENT_ONLY = ("outpatient_only", "通院のみ", "Treated as an outpatient only (no hospital stay)")
    MAJOR_DAMAGE = ("major_damage", "大きな損害",
                    "Major damage: unrepairable, repair ≥ the vehicle SI, or repair ≥ 50% of the new-car value")
    REPLACED = ("replaced", "買替え", "The car was replaced (a new one bought) rather than repaired")
    NEW_CAR_VALUE_YEN = ("new_car_value_yen", "新車保険金額・協定新価保険金額",
                         "New-car sum insured / agreed new value")
    EXTRA_YEN = ("extra_yen", "臨時費用・残存物取片づけ費用等", "Further costs (debris removal, travel, lodging)")
    MONTHS = ("months", "月数", "Months (rehabilitation training months within the window)")
    CRIMINAL_YEN = ("criminal_yen", "刑事事件の弁護士費用", "Lawyer fees in criminal proceedings")
    BROKEN_PART = ("broken_part", "交換部品", "The part to be replaced (the highest-paying one)")
    EQUIPMENT_YEN = ("equipment_yen", "福祉機器等の取得費用", "Welfare equipment bought")


FACT_TYPES: dict[Fact, FactType] = {
    Fact.LOSS_YEN: FactType.YEN, Fact.CONSULTATION_YEN: FactType.YEN, Fact.MARKET_VALUE_YEN: FactType.YEN,
    Fact.PAID_BY_OTHERS_YEN: FactType.YEN, Fact.OWN_COST_YEN: FactType.YEN,
    Fact.DAMAGE_TO_OTHERS_YEN: FactType.YEN, Fact.FAULT_PERCENT: FactType.PERCENT, Fact.DAYS: FactType.DAYS,
    Fact.DEPENDANTS: FactType.COUNT, Fact.DISABILITY_GRADE: FactType.COUNT, Fact.OUTCOME: FactType.CHOICE, Fact.INJURY_CLASS: FactType.CHOICE,
    Fact.CAUSE: FactType.CHOICE, Fact.TOTAL_LOSS: FactType.FLAG, Fact.TOWED: FactType.FLAG,
    Fact.AT_FAULT: FactType.FLAG, Fact.LIABLE: FactType.FLAG, Fact.NO_FAULT: FactType.FLAG,
    Fact.OTHER_PARTY_IDENTIFIED: FactType.FLAG, Fact.CONFIRMED_OBJECTIVELY: FactType.FLAG,
    Fact.ABROAD: FactType.FLAG, Fact.BORROWED_CAR_ELIGIBLE: FactType.FLAG, Fact.REPAIRED_ON: FactType.DATE,
    Fact.DISTANCE_KM: FactType.COUNT, Fact.OUTPATIENT_ONLY: FactType.FLAG, Fact.MAJOR_DAMAGE: FactType.FLAG,
    Fact.REPLACED: FactType.FLAG, Fact.NEW_CAR_VALUE_YEN: FactType.YEN, Fact.EXTRA_YEN: FactType.YEN,
    Fact.MONTHS: FactType.COUNT, Fact.CRIMINAL_YEN: FactType.YEN, Fact.BROKEN_PART: FactType.CHOICE,
    Fact.EQUIPMENT_YEN: FactType.YEN,
}


class Outcome(Labelled):
    DEATH = ("DEATH", "死亡", "Death")
    SEVERE_DISABILITY_CARE = ("SEVERE_DISABILITY_CARE", "重度後遺障害(要介護)",
                              "Prescribed severe disability needing nursing care")
    DISABILITY = ("DISABILITY", "後遺障害", "Residual disability")
    INJURY = ("INJURY", "傷害", "Injury")


class InjuryClass(Labelled):
    """搭乗者傷害 入院給付金支払額基準 (001 L1095-1099)."""

    FRACTURE_NERVE_TENDON = ("FRACTURE_NERVE_TENDON", "骨折・脱臼、神経損傷(脳・眼・頸髄・脊髄を除く)、腱・筋・靭帯の断裂",
                             "Fracture, dislocation, nerve damage (not brain/eye/cord), tendon/muscle/ligament rupture")
    AMPUTATION_EYE = ("AMPUTATION_EYE", "上肢・下肢の切断、眼球の内出血・血腫、眼の神経損傷、眼球の破裂",
                      "Limb amputation, eyeball haemorrhage, eye nerve damage, eyeball rupture")
    BRAIN_CORD_ORGAN = ("BRAIN_CORD_ORGAN", "脳損傷、頭蓋内出血・血腫、頸髄・脊髄損傷、胸部・腹部の臓器損傷",
                        "Brain injury, intracranial haemorrhage, cervical/spinal cord injury, chest/abdominal organ injury")
    OTHER = ("OTHER", "その他の傷害", "Any other injury")


class LossCause(Labelled):
    ACCIDENT = ("ACCIDENT", "事故", "Accident")
    BREAKDOWN = ("BREAKDOWN", "故障", "Breakdown")
    THEFT = ("THEFT", "盗難", "Theft")
    THEFT_FROM_CARRIER = ("THEFT_FROM_CARRIER", "車外キャリア・ルーフボックスからの盗難",
                          "Theft from a roof carrier or roof box")
    HAZARDOUS_CARGO = ("HAZARDOUS_CARGO", "業務積載危険物の火災・爆発・漏えい",
                       "Fire, explosion or leak of hazardous cargo carried for business")
    AIRCRAFT = ("AIRCRAFT", "航空機に対する事故", "Accident to an aircraft")
    DEFECT_OR_HACKING = ("DEFECT_OR_HACKING", "欠陥・ハッキング等", "Defect or hacking of the car")
    # kyosai vehicle perils (003 L45)
    SELF_ACCIDENT = ("SELF_ACCIDENT", "自損事故", "Single-vehicle accident")
    CONTACT_WITH_CAR = ("CONTACT_WITH_CAR", "他の車との接触事故", "Contact with another car")
    THEFT_VANDALISM = ("THEFT_VANDALISM", "盗難・いたずら等第三者による被害", "Theft, vandalism by a third party")
    NATURAL_DISASTER = ("NATURAL_DISASTER", "自然災害", "Natural disaster")
    EARTHQUAKE = ("EARTHQUAKE", "地震・噴火・津波", "Earthquake, eruption, tsunami")
    # aioi / tokio riders (h-riders2)
    DRIVER_INCAPACITY = ("DRIVER_INCAPACITY", "運転者の心神喪失等", "The driver lacked mental capacity")
    BICYCLE = ("BICYCLE", "自転車事故", "A bicycle accident (not a car)")
    DAILY_LIFE = ("DAILY_LIFE", "日常生活の事故", "Another accident of daily life in Japan")
    CARGO_IN_TRANSIT = ("CARGO_IN_TRANSIT", "受託貨物の損害", "Cargo accepted for carriage damaged in transit")
    LOADING_INJURY = ("LOADING_INJURY", "積込み・積卸し作業中の対人事故", "Injury to a person while loading or unloading")
    LOADING_PROPERTY = ("LOADING_PROPERTY", "積込み・積卸し作業中の対物事故",
                        "Damage to property while loading or unloading")


class BrokenPart(Labelled):
    """故障補償特約(搬送時・定額払): the part to be replaced (004 L631-641)."""

    ENGINE = ("ENGINE", "エンジン本体", "Engine")
    TRANSMISSION = ("TRANSMISSION", "トランスミッション", "Transmission")
    RADIATOR = ("RADIATOR", "ラジエーター", "Radiator")
    ALTERNATOR = ("ALTERNATOR", "オルタネーター", "Alternator")
    REPAIR_ONLY = ("REPAIR_ONLY", "部品交換なしの補修", "Repaired without replacing a part")


# The closed value sets of the CHOICE facts (the loader checks every value a rule names).
FACT_CHOICES: dict[Fact, type[Labelled]] = {
    Fact.OUTCOME: Outcome, Fact.INJURY_CLASS: InjuryClass, Fact.CAUSE: LossCause, Fact.BROKEN_PART: BrokenPart,
}


class CondOp(Labelled):
    IS = ("is", "である", "is")                                   # FLAG / CHOICE
    ONE_OF = ("one_of", "いずれか", "is one of")                  # CHOICE
    NOT_ONE_OF = ("not_one_of", "いずれでもない", "is none of")   # CHOICE
    AT_LEAST = ("at_least", "以上", "is at least")                # numbers
    BELOW = ("below", "未満", "is below")
    AT_MOST = ("at_most", "以下", "is at most")
    WITHIN_MONTHS_AFTER_ACCIDENT = ("within_months_after_accident", "事故日の翌日からか月以内",
                                    "is within months counted from the day after the accident")
    WITHIN_DAYS_AFTER_ACCIDENT = ("within_days_after_accident", "事故日の翌日から日以内",
                                  "is within days counted from the day after the accident")
    HELD = ("held", "契約にセット", "the contract carries")                 # a coverage / rider code
    NOT_HELD = ("not_held", "契約にセットなし", "the contract does not carry")  # a coverage / rider code
    PAYING = ("paying", "この事故で支払対象", "pays this accident")         # a coverage / rider code


@dataclass(frozen=True, slots=True)
class Condition:
    """One test. `fact` is None for HELD / NOT_HELD / PAYING, which test a line code (`value`)."""

    op: CondOp
    value: bool | int | str | tuple[str, ...]
    fact: Fact | None = None


class PartKind(Labelled):
    FIXED = ("FIXED", "定額", "Fixed amount (× a count + offset)")
    PER_DAY = ("PER_DAY", "日額×日数", "Daily amount × days (day cap)")
    PERCENT_OF_SUM_INSURED = ("PERCENT_OF_SUM_INSURED", "保険金額×割合", "Percent of the line's sum insured")
    COST = ("COST", "実費・損害額", "Cost stated (less a fact, × a percent fact)")
    SAME_AS = ("SAME_AS", "他の補償と同額", "The amount another line's rule gives")


class CapBasis(Labelled):
    """What a cap counts what was already paid over (same codes as domain.claims.lines.LimitBasis)."""

    PER_ACCIDENT = ("PER_ACCIDENT", "1事故あたり", "Per accident")
    PER_PERSON = ("PER_PERSON", "1名あたり", "Per person")
    PER_VEHICLE = ("PER_VEHICLE", "1台あたり", "Per vehicle")
    PER_YEAR = ("PER_YEAR", "保険期間あたり", "Per policy year")


class Pick(Labelled):
    SUM = ("SUM", "合計", "Add every part that applies")
    FIRST = ("FIRST", "最初に該当する区分", "The first part that applies (a table of tiers)")


@dataclass(frozen=True, slots=True)
class Cap:
    """At most `amount` yen (or `sum_insured_times` × the line's sum insured; an unlimited sum
    insured leaves no cap), less what was already paid on `basis`, when `when` holds."""

    basis: CapBasis
    source: str
    amount: int | None = None
    sum_insured_times: Decimal | None = None
    when: tuple[Condition, ...] = ()
    label: str = ""
    plus: int = 0                          # with sum_insured_times / per_day: + this many yen (SI + ¥1,000,000)
    per_day: int | None = None             # or: this many yen × the days fact (+ plus): tokio hospital assist
    of_fact: Fact | None = None            # or: at most this yen fact × `fact_times` (the new-car value)
    fact_times: Decimal = Decimal(1)
    parts: tuple[str, ...] = ()            # a rule-level cap on the sum of these parts only (empty: all)


@dataclass(frozen=True, slots=True)
class Part:
    code: str
    ja: str
    en: str
    kind: PartKind
    source: str
    amount: int | None = None              # FIXED: yen per count; PER_DAY: yen per day
    count: Fact | None = None              # FIXED: × (count + count_offset); None: × 1
    count_offset: int = 0
    base: Fact | None = None               # COST: the yen fact; PER_DAY: the actual cost (optional)
    less: Fact | None = None               # COST: base − less (not below 0)
    share: Fact | None = None              # COST: × this percent fact, rounded down
    percent: Decimal | None = None         # PERCENT_OF_SUM_INSURED: 0.10 = 10%; COST: × this fraction
    max_days: int | None = None            # PER_DAY: day cap
    same_as: str | None = None             # SAME_AS: the line code whose rule is evaluated
    deductible: int = 0                    # less this many yen
    deductible_from_line: bool = False     # less the line's deductible (its option's 免責金額)
    waive_deductible_when: tuple[tuple[Condition, ...], ...] = ()   # any group holding waives it
    when: tuple[Condition, ...] = ()
    caps: tuple[Cap, ...] = ()
    minimum: int | None = None             # at least this many yen (before the caps): 10% (min ¥100,000)


@dataclass(frozen=True, slots=True)
class PayoutRule:
    source: str
    parts: tuple[Part, ...]
    pick: Pick = Pick.SUM
    when: tuple[Condition, ...] = ()
    caps: tuple[Cap, ...] = ()
    times_per_year: int | None = None      # paid at most this many times per policy year
    # The sum insured a percent or a `sum_insured_times` cap reads: that of this line (None) or of
    # another line of the contract (the total-loss expense reads VEHICLE's).
    sum_insured_of: str | None = None
    demonstration: str = ""                # non-empty: which amounts are not the pamphlet's, and why
    note: str = ""
