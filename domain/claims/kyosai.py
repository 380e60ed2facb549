"""Kyosai (自動車事故費用共済, pamphlet 003) benefits: a fixed schedule, not indemnity.

The two riders' fixed benefits (vehicle accident, property damage: 003 L44-50) are pay-out rules in
the product file, evaluated by domain/claims/rider_payout.py; this module is the personal schedule.

Pure. Every amount cites its seed line (seeds/003_*.txt). The after-effects table by grade is
not printed (003 L18 gives only "¥120,000 to ¥3,000,000 by grade"): we use the standard
14-grade percentage table of Japanese personal-accident cover on the ¥3,000,000 sum, whose
grade 14 (4%) gives exactly ¥120,000 and grade 1 (100%) ¥3,000,000 (see decisions).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import RuleError
from domain.vocab import Labelled

SUM_INSURED = 3_000_000               # 保障内容(300万円) 003 L15
DEATH_BENEFIT = 3_000_000             # 003 L17
DEATH_WITHIN_DAYS = 180               # 事故の日から180日以内 003 L17
AFTER_EFFECTS_MIN = 120_000           # 003 L18
AFTER_EFFECTS_MAX = 3_000_000         # 003 L18
HOSPITAL_PER_DAY = 4_500              # per person per day, 003 L19-20
HOSPITAL_DAY_CAP_PER_ACCIDENT = 18_000   # per day per accident, 003 L21
HOSPITAL_MAX_DAYS = 365               # 003 L22
HOSPITAL_MAX_AMOUNT = 3_000_000       # 003 L22
OUTPATIENT_PER_DAY = 2_250            # per person per day, 003 L23-24
DEATH_TEMPORARY = 300_000             # 死亡臨時費用共済金 003 L26-27
TREATMENT_TEMPORARY = 30_000          # 入通院臨時費用共済金 003 L27
TREATMENT_TEMPORARY_MIN_DAYS = 3      # 3日以上の入通院 003 L27
NO_CERTIFICATE_UP_TO = 50_000         # 5万円以下は診断書不要 003 L56

# Grade → percentage of the ¥3M sum (standard 後遺障害等級別支払割合; decision, see module doc).
AFTER_EFFECTS_PERCENT: Mapping[int, int] = {
    1: 100, 2: 89, 3: 78, 4: 69, 5: 59, 6: 50, 7: 42,
    8: 34, 9: 26, 10: 20, 11: 15, 12: 10, 13: 7, 14: 4,
}


class Benefit(Labelled):
    DEATH = ("DEATH", "死亡共済金", "Death benefit")
    AFTER_EFFECTS = ("AFTER_EFFECTS", "後遺障害共済金", "After-effects benefit")
    HOSPITAL = ("HOSPITAL", "入院共済金", "Hospital benefit")
    OUTPATIENT = ("OUTPATIENT", "通院共済金", "Outpatient benefit")
    DEATH_TEMPORARY = ("DEATH_TEMPORARY", "死亡臨時費用共済金", "Death temporary expense")
    TREATMENT_TEMPORARY = ("TREATMENT_TEMPORARY", "入通院臨時費用共済金", "Treatment temporary expense")
    VEHICLE = ("VEHICLE", "車両事故共済金", "Vehicle accident benefit")
    PROPERTY = ("PROPERTY", "対物事故共済金", "Property damage benefit")


class VehiclePeril(Labelled):
    """Perils of the vehicle rider (003 L45)."""

    SELF_ACCIDENT = ("SELF_ACCIDENT", "自損事故", "Single-vehicle accident")
    CONTACT_WITH_CAR = ("CONTACT_WITH_CAR", "他の車との接触事故", "Contact with another car")
    THEFT_VANDALISM = ("THEFT_VANDALISM", "盗難・いたずら等第三者による被害", "Theft, vandalism by a third party")
    NATURAL_DISASTER = ("NATURAL_DISASTER", "自然災害", "Natural disaster")
    EARTHQUAKE = ("EARTHQUAKE", "地震・噴火・津波", "Earthquake, eruption, tsunami")


@dataclass(frozen=True, slots=True)
class BenefitAmount:
    benefit: Benefit
    amount: int
    person: str | None
    reason: str
    source: str


def _nonneg(name: str, v: int) -> None:
    if v < 0:
        raise RuleError("NEGATIVE_AMOUNT", name, f"{name} cannot be negative")


def death_benefit(
    *, person: str, accident_date: date, death_date: date, after_effects_paid: int = 0
) -> BenefitAmount:
    """¥3,000,000 when death follows within 180 days of the accident day (003 L17). The
    accident day counts as day 1 (事故の日から); after-effects already paid to the same person
    are deducted so the person never gets more than the ¥3M sum (003 L15)."""
    _nonneg("afterEffectsPaid", after_effects_paid)
    if death_date < accident_date:
        raise RuleError("DATES_OUT_OF_ORDER", "deathDate", "death before the accident")
    last = accident_date + timedelta(days=DEATH_WITHIN_DAYS - 1)
    if death_date > last:
        return BenefitAmount(Benefit.DEATH, 0, person,
                             f"death on {death_date} is after day 180 ({last})", "003 L17")
    amount = max(0, min(DEATH_BENEFIT, SUM_INSURED - after_effects_paid))
    why = f"death on {death_date}, within 180 days (last day {last})"
    if after_effects_paid:
        why += f"; ¥{after_effects_paid:,} after-effects already paid"
    return BenefitAmount(Benefit.DEATH, amount, person, why, "003 L15, L17")


def after_effects_benefit(*, person: str, grade: int) -> BenefitAmount:
    """By after-effects grade 1..14: ¥3,000,000 × the grade's percentage (003 L18)."""
    pct = AFTER_EFFECTS_PERCENT.get(grade)
    if pct is None:
        raise RuleError("INVALID_AFTER_EFFECTS_GRADE", "grade", "after-effects grade is 1..14")
    amount = SUM_INSURED * pct // 100
    return BenefitAmount(Benefit.AFTER_EFFECTS, amount, person,
                         f"grade {grade}: {pct}% of ¥{SUM_INSURED:,}", "003 L18 (table: decision)")


@dataclass(frozen=True, slots=True)
class Treatment:
    """One person's hospital and outpatient days after one accident."""

    person: str
    hospital_days: frozenset[date] = frozenset()
    outpatient_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.hospital_days & self.outpatient_days
        if both:
            raise RuleError("DAY_COUNTED_TWICE", "outpatientDays",
                            f"{min(both)} is both a hospital and an outpatient day")


def hospital_benefits(treatments: Iterable[Treatment]) -> tuple[BenefitAmount, ...]:
    """¥4,500 per person per day, at most ¥18,000 a day for the accident (also when both sides
    are members), at most 365 days or ¥3,000,000 per person (003 L19-22).

    The 365 days and ¥3,000,000 are each person's (the benefits are per person, 1名1日につき;
    person A's long stay does not shorten B's): a person's first 365 calendar days in hospital.
    When the daily cap bites, the day's ¥18,000 is shared in person order (the pamphlet does not
    say how: decision).
    """
    ts = sorted(treatments, key=lambda t: t.person)
    if len({t.person for t in ts}) != len(ts):
        raise RuleError("DUPLICATE_PERSON", "person", "one treatment record per person")
    counted = {t.person: frozenset(sorted(t.hospital_days)[:HOSPITAL_MAX_DAYS]) for t in ts}
    per_person = {t.person: 0 for t in ts}
    for d in sorted(set().union(*counted.values())):
        left_today = HOSPITAL_DAY_CAP_PER_ACCIDENT
        for t in ts:
            if d not in counted[t.person]:
                continue
            pay = min(HOSPITAL_PER_DAY, left_today, HOSPITAL_MAX_AMOUNT - per_person[t.person])
            per_person[t.person] += pay
            left_today -= pay
    return tuple(
        BenefitAmount(Benefit.HOSPITAL, per_person[t.person], t.person,
                      f"{len(counted[t.person])} hospital day(s) × ¥{HOSPITAL_PER_DAY:,}, within ¥18,000/day "
                      "per accident, and 365 days and ¥3,000,000 per person", "003 L19-22")
        for t in ts)


def outpatient_benefit(treatment: Treatment) -> BenefitAmount:
    """¥2,250 per person per outpatient day (003 L23-24)."""
    n = len(treatment.outpatient_days)
    return BenefitAmount(Benefit.OUTPATIENT, n * OUTPATIENT_PER_DAY, treatment.person,
                         f"{n} outpatient day(s) × ¥{OUTPATIENT_PER_DAY:,}", "003 L23-24")


def temporary_expenses(
    *, member_at_fault: bool, pays_other_side: bool, other_side_deaths: int = 0,
    other_side_treatment_days: Iterable[int] = (),
) -> tuple[BenefitAmount, ...]:
    """When the member was at fault and pays the other side: ¥300,000 per death and ¥30,000 per
    injured person with 3 or more treatment days confirmed (003 L26-27). Per victim: decision."""
    if other_side_deaths < 0:
        raise RuleError("NEGATIVE_AMOUNT", "otherSideDeaths", "cannot be negative")
    if not (member_at_fault and pays_other_side):
        return ()
    out = [BenefitAmount(Benefit.DEATH_TEMPORARY, DEATH_TEMPORARY, None,
                         "other side died; member at fault and paying", "003 L26-27")
           for _ in range(other_side_deaths)]
    for n in other_side_treatment_days:
        if n < 0:
            raise RuleError("NEGATIVE_AMOUNT", "treatmentDays", "cannot be negative")
        if n >= TREATMENT_TEMPORARY_MIN_DAYS:
            out.append(BenefitAmount(Benefit.TREATMENT_TEMPORARY, TREATMENT_TEMPORARY, None,
                                     f"{n} treatment days (≥ 3)", "003 L27"))
    return tuple(out)


def medical_certificate_needed(total_claimed: int) -> bool:
    """Up to ¥50,000 no medical certificate: a treatment declaration, receipts and the patient
    card (copies) are enough (003 L56)."""
    _nonneg("totalClaimed", total_claimed)
    return total_claimed > NO_CERTIFICATE_UP_TO
