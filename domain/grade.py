"""Non-fleet grade system (ノンフリート等級別料率制度): records, coefficients, start grades, renewal.

Pure: no I/O, no clock. A grade record is the pair (grade 1–20 with its S/F marker, accident-
coefficient period 0–6 years); the coefficient comes from the grade and whether the period is 0.

Sources (seed notes and the Japanese line they cite):
- coefficient table: 001 L779-784, 002b L4419-4513 (表2), 004 L1250-1262;
- start grades 6(S) / 7(S) and the second-car rule: 002b L4394-4412, 004 L1545, 001 L769;
- 1-year renewal (表1): 002b L4245-4385, 004 L1591-1600, 001 L775, L789-790;
- long-term renewal formula: 002a L2317-2392;
- grade-1 repeat surcharge: 002b L4421-4427.
Accident classification lives in `domain.grade_accidents`, carry-over across gaps and the
interruption certificate in `domain.grade_continuity`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from domain.calendar import RuleError, whole_months_between
from domain.vocab import AccidentClass, Labelled, Relationship

MIN_GRADE = 1
MAX_GRADE = 20
MIN_PERIOD = 0
MAX_PERIOD = 6  # 001 L790, 002a L2330, 004 L1253
SECOND_CAR_MIN_FIRST_GRADE = 11  # 002b L4411, 004 L1545, 001 L769

# 1等級連続事故契約割増 (002b L4421-4422). A separate surcharge on top of the grade-1 rate; the
# pamphlet does not say how it combines, we apply it as its own factor (see docs/decisions).
REPEAT_SURCHARGE_PERCENT = Decimal(20)
REPEAT_SURCHARGE_FACTOR = Decimal("1.20")


class GradeMarker(Labelled):
    """S = new entry (新規加入), F = has a previous contract (前契約がある契約) [001 L779].

    Only grades 6 and 7 have the distinction; every other grade carries NONE.
    """

    S = ("S", "S(新規)", "S (new entry)")
    F = ("F", "F(前契約あり)", "F (has a previous contract)")
    NONE = ("NONE", "", "no marker")


class RateColumn(Labelled):
    """Which column of the coefficient table a record uses [001 L789, 002b L4236-4239]."""

    NO_ACCIDENT = ("NO_ACCIDENT", "無事故", "No-accident rate")
    WITH_ACCIDENT = ("WITH_ACCIDENT", "事故有", "With-accident rate")


def _marker_for(grade: int) -> GradeMarker:
    # A computed (renewed or carried) 6 or 7 is always 6(F) / 7(F) [002b L4234, 002a L2327].
    return GradeMarker.F if grade in (6, 7) else GradeMarker.NONE


@dataclass(frozen=True, slots=True)
class GradeRecord:
    """Grade, its marker and the accident-coefficient period (事故有係数適用期間, years left)."""

    grade: int
    marker: GradeMarker
    period: int

    def __post_init__(self) -> None:
        if not MIN_GRADE <= self.grade <= MAX_GRADE:
            raise RuleError("INVALID_GRADE", "grade", f"grade must be 1..20, got {self.grade}")
        if not MIN_PERIOD <= self.period <= MAX_PERIOD:
            raise RuleError(
                "INVALID_GRADE_PERIOD", "period", f"period must be 0..6, got {self.period}"
            )
        if self.grade in (6, 7):
            if self.marker is GradeMarker.NONE:
                raise RuleError(
                    "INVALID_GRADE_MARKER", "marker", f"grade {self.grade} needs marker S or F"
                )
        elif self.marker is not GradeMarker.NONE:
            raise RuleError(
                "INVALID_GRADE_MARKER", "marker", f"grade {self.grade} has no S/F marker"
            )
        # S grades exist only as start grades, which always have period 0 [002b L4406, L4409].
        if self.marker is GradeMarker.S and self.period != 0:
            raise RuleError("INVALID_GRADE_MARKER", "marker", "an S grade always has period 0")

    @classmethod
    def carried(cls, grade: int, period: int = 0) -> GradeRecord:
        """A record that comes from a previous contract: 6 and 7 get the F marker."""
        return cls(grade, _marker_for(grade), period)

    @property
    def label(self) -> str:
        """Display form used in the pamphlets: "6(S)", "7(F)", "13"."""
        if self.marker is GradeMarker.NONE:
            return str(self.grade)
        return f"{self.grade}({self.marker.value})"

    @property
    def rate_column(self) -> RateColumn:
        return RateColumn.NO_ACCIDENT if self.period == 0 else RateColumn.WITH_ACCIDENT

    def __str__(self) -> str:
        return f"{self.label} (period {self.period})"


# ---------------------------------------------------------------------------------------------
# Coefficient table (割増引率), signed percent: + surcharge (割増), − discount (割引).
# Key is (grade, marker); value is (no-accident, with-accident). Grades 1–6 and 7(S) have one
# rate for both columns [001 L784]. 5 is a 2% *discount* [001 L780].
_P = Decimal
_TABLE: dict[tuple[int, GradeMarker], tuple[Decimal, Decimal]] = {
    (1, GradeMarker.NONE): (_P("108"), _P("108")),
    (2, GradeMarker.NONE): (_P("63"), _P("63")),
    (3, GradeMarker.NONE): (_P("38"), _P("38")),
    (4, GradeMarker.NONE): (_P("7"), _P("7")),
    (5, GradeMarker.NONE): (_P("-2"), _P("-2")),
    (6, GradeMarker.S): (_P("3"), _P("3")),
    (6, GradeMarker.F): (_P("-13"), _P("-13")),
    (7, GradeMarker.S): (_P("-38"), _P("-38")),
    (7, GradeMarker.F): (_P("-27"), _P("-14")),
    (8, GradeMarker.NONE): (_P("-38"), _P("-15")),
    (9, GradeMarker.NONE): (_P("-44"), _P("-18")),
    (10, GradeMarker.NONE): (_P("-46"), _P("-19")),
    (11, GradeMarker.NONE): (_P("-48"), _P("-20")),
    (12, GradeMarker.NONE): (_P("-50"), _P("-22")),
    (13, GradeMarker.NONE): (_P("-51"), _P("-24")),
    (14, GradeMarker.NONE): (_P("-52"), _P("-25")),
    (15, GradeMarker.NONE): (_P("-53"), _P("-28")),
    (16, GradeMarker.NONE): (_P("-54"), _P("-32")),
    (17, GradeMarker.NONE): (_P("-55"), _P("-44")),
    (18, GradeMarker.NONE): (_P("-56"), _P("-46")),
    (19, GradeMarker.NONE): (_P("-57"), _P("-50")),
    (20, GradeMarker.NONE): (_P("-63"), _P("-51")),
}


def coefficient_percent(rec: GradeRecord) -> Decimal:
    """Signed percent for the record: Decimal("-63") for 20 no-accident, Decimal("108") for 1."""
    no_accident, with_accident = _TABLE[(rec.grade, rec.marker)]
    return no_accident if rec.rate_column is RateColumn.NO_ACCIDENT else with_accident


def grade_factor(rec: GradeRecord) -> Decimal:
    """Multiplier for the premium: 1 + pct/100, e.g. Decimal("0.37") for grade 20 no-accident."""
    return Decimal(1) + coefficient_percent(rec) / Decimal(100)


def rule_ref(rec: GradeRecord) -> str:
    """Citation for an explanation step that applies this record's coefficient."""
    if rec.marker is GradeMarker.S:
        return "002b L4405-4409; 004 L1250-1251; 001 L779-780"
    if rec.rate_column is RateColumn.WITH_ACCIDENT and rec.grade >= 7:
        return "002b L4419-4513; 001 L781, L789"
    return "002b L4419-4513; 001 L779-780"


# ---------------------------------------------------------------------------------------------
# Start grades


def new_contract_record(*, second_car: bool) -> GradeRecord:
    """First contract 6(S) +3% period 0; second-car rule 7(S) −38% period 0 [002b L4405-4409]."""
    return GradeRecord(7 if second_car else 6, GradeMarker.S, 0)


@dataclass(frozen=True, slots=True)
class Eligibility:
    """A yes/no answer with every reason that decided it (all failures, or why it passed)."""

    ok: bool
    reasons: tuple[str, ...]
    rule_ref: str

    def __bool__(self) -> bool:
        return self.ok


# Relationship of a person to the first car's named insured that keeps them in the household
# for the second-car rule: the same person, the spouse, or a cohabiting relative of either
# [002b L4395-4397, 004 L1545 *7].
_SECOND_CAR_HOUSEHOLD = frozenset(
    {Relationship.SELF, Relationship.SPOUSE, Relationship.COHABITING_RELATIVE}
)


def second_car_eligibility(
    *,
    first_car_grade: int,
    first_car_term_years: int,
    first_car_in_force_on_start: bool,
    first_car_private_eight: bool,
    new_car_private_eight: bool,
    new_car_has_previous_contract: bool,
    named_insured_is_individual: bool,
    named_insured_relationship: Relationship,
    owner_is_individual: bool,
    owner_is_first_car_owner: bool,
    owner_relationship: Relationship,
) -> Eligibility:
    """Does the new car start at 7(S) (複数所有新規特則 / セカンドカー割引)?

    `named_insured_relationship` and `owner_relationship` are relationships to the first car's
    named insured (SELF = the same person). The first-car policy may be with another insurer or
    a designated 共済 [002b L4400]. Every condition must hold [SPEC §4.2, 002b L4394-4412,
    004 L1545].
    """
    failures: list[str] = []
    if new_car_has_previous_contract:
        failures.append(
            "the new car's contract has a previous contract, so it is not a new contract (004 L1545)"
        )
    if first_car_term_years > 1:
        # 002b L4399: "handled differently" without saying how; SPEC §4.2 asks for a 1-year policy.
        failures.append(
            "the first car's policy is longer than 1 year: handled differently, refer to underwriting (002b L4399)"
        )
    if first_car_grade < SECOND_CAR_MIN_FIRST_GRADE:
        failures.append(f"the first car's grade is {first_car_grade}, below 11 (002b L4411)")
    if not first_car_in_force_on_start:
        failures.append(
            "the first car's policy is not in force on the new start date (002b L4401, 004 L1545)"
        )
    if not (first_car_private_eight and new_car_private_eight):
        failures.append("both cars must be among the 8 private use types (002b L4394)")
    if not named_insured_is_individual:
        failures.append("the new car's named insured must be an individual (002b L4395)")
    elif named_insured_relationship not in _SECOND_CAR_HOUSEHOLD:
        failures.append(
            "the new car's named insured must be the first car's named insured, spouse or a cohabiting relative (002b L4395)"
        )
    if not owner_is_individual:
        failures.append("the new car's owner must be an individual (002b L4396)")
    elif not owner_is_first_car_owner and owner_relationship not in _SECOND_CAR_HOUSEHOLD:
        failures.append(
            "the new car's owner must be the first car's owner, or its named insured, spouse or a cohabiting relative (002b L4396-4397)"
        )
    ref = "002b L4394-4412; 004 L1545"
    if failures:
        return Eligibility(False, tuple(failures), ref)
    return Eligibility(
        True,
        (
            f"first car at grade {first_car_grade} ≥ 11 in force on the start date; same household; both private-eight cars",
        ),
        ref,
    )


# ---------------------------------------------------------------------------------------------
# Renewal


@dataclass(frozen=True, slots=True)
class RenewalOutcome:
    """The record for the renewed contract, the grade-1 repeat surcharge flag and the reasoning."""

    record: GradeRecord
    repeat_surcharge: bool
    three_down: int
    one_down: int
    no_count: int
    steps: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Counts:
    three_down: int
    one_down: int
    no_count: int

    @property
    def counted(self) -> int:
        return self.three_down + self.one_down


def _count(accidents: Sequence[AccidentClass]) -> _Counts:
    k3 = k1 = k0 = 0
    for a in accidents:
        cls = AccidentClass(a)
        if cls is AccidentClass.THREE_DOWN:
            k3 += 1
        elif cls is AccidentClass.ONE_DOWN:
            k1 += 1
        else:
            k0 += 1
    return _Counts(k3, k1, k0)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def repeat_surcharge_applies(
    *,
    previous_grade: int,
    renewal_grade: int,
    counted_accidents: int,
    previously_surcharged: bool,
    rental_or_driving_school: bool = False,
) -> Eligibility:
    """1等級連続事故契約割増 (+20%): renewal at 1, expiring contract at 1, and a 3-down or 1-down
    accident in the expiring term or the surcharge already on it; never for rental or
    driving-school cars [002b L4421-4427]."""
    ref = "002b L4421-4427"
    failures: list[str] = []
    if renewal_grade != 1:
        failures.append(f"the renewal grade is {renewal_grade}, not 1")
    if previous_grade != 1:
        failures.append(f"the expiring contract's grade is {previous_grade}, not 1")
    if counted_accidents == 0 and not previously_surcharged:
        failures.append("no 3-down or 1-down accident in the expiring term and no surcharge on it")
    if rental_or_driving_school:
        failures.append("rental and driving-school cars are excluded")
    if failures:
        return Eligibility(False, tuple(failures), ref)
    why = (
        "a counted accident in the expiring term"
        if counted_accidents
        else "the expiring contract already carried it"
    )
    return Eligibility(True, (f"renewal at grade 1 from grade 1 with {why}",), ref)


def _finish(
    rec: GradeRecord,
    raw_grade: int,
    raw_period: int,
    counts: _Counts,
    steps: list[str],
    *,
    previously_surcharged: bool,
    rental_or_driving_school: bool,
    label_ref: str,
) -> RenewalOutcome:
    grade = _clamp(raw_grade, MIN_GRADE, MAX_GRADE)
    period = _clamp(raw_period, MIN_PERIOD, MAX_PERIOD)
    if grade != raw_grade:
        steps.append(f"grade {raw_grade} clamped to {grade}: grades run 1..20 (002a L2330)")
    if period != raw_period:
        steps.append(
            f"period {raw_period} clamped to {period}: periods run 0..6 (002a L2330; 001 L790)"
        )
    new = GradeRecord.carried(grade, period)
    if new.marker is GradeMarker.F:
        steps.append(f"a renewed grade {grade} is applied as {new.label} ({label_ref})")
    surcharge = repeat_surcharge_applies(
        previous_grade=rec.grade,
        renewal_grade=grade,
        counted_accidents=counts.counted,
        previously_surcharged=previously_surcharged,
        rental_or_driving_school=rental_or_driving_school,
    )
    if surcharge.ok:
        steps.append(f"grade-1 repeat surcharge +20%: {surcharge.reasons[0]} (002b L4421-4427)")
    steps.append(
        f"renewal record {new.label}, period {new.period}: {coefficient_percent(new):+}% "
        f"{new.rate_column.en.lower()} ({rule_ref(new)})"
    )
    return RenewalOutcome(
        record=new,
        repeat_surcharge=surcharge.ok,
        three_down=counts.three_down,
        one_down=counts.one_down,
        no_count=counts.no_count,
        steps=tuple(steps),
    )


def _describe_counts(c: _Counts) -> str:
    return f"{c.three_down} × 3-down, {c.one_down} × 1-down, {c.no_count} × no-count"


def renew_one_year(
    rec: GradeRecord,
    accidents: Sequence[AccidentClass],
    *,
    previously_surcharged: bool = False,
    rental_or_driving_school: bool = False,
) -> RenewalOutcome:
    """Record for the contract that renews a 1-year term, from the accidents of that term (表1).

    Each 3-down: −3 grades, +3 years; each 1-down: −1, +1; none or only no-count: +1 grade.
    An existing period of 1–6 first drops by 1. Order of accidents does not matter.
    [002b L4245-4385, 004 L1591-1600]
    """
    c = _count(accidents)
    steps = [f"accidents in the expiring 1-year term: {_describe_counts(c)} (004 L1586-1595)"]
    period = rec.period
    if period > 0:
        steps.append(
            f"period {period} → {period - 1}: an existing period of 1–6 first drops by 1 (002b L4363; 004 L1600)"
        )
        period -= 1
    if c.counted:
        grade = rec.grade - 3 * c.three_down - c.one_down
        added = period + 3 * c.three_down + c.one_down
        steps.append(
            f"grade {rec.grade} − 3×{c.three_down} − 1×{c.one_down} = {grade}; "
            f"period {period} + 3×{c.three_down} + 1×{c.one_down} = {added} "
            "(002b L4284-4289, L4258-4270, L4326-4351)"
        )
        period = added
    else:
        grade = rec.grade + 1
        steps.append(
            f"no counted accident: grade {rec.grade} + 1 = {grade}, no years added (002b L4303; 004 L1594)"
        )
    return _finish(
        rec,
        grade,
        period,
        c,
        steps,
        previously_surcharged=previously_surcharged,
        rental_or_driving_school=rental_or_driving_school,
        label_ref="002b L4234",
    )


def renew_long_term(
    rec: GradeRecord,
    accidents: Sequence[AccidentClass],
    *,
    term_years: int,
    grade_unchanged_accidents: int = 0,
    previously_surcharged: bool = False,
    rental_or_driving_school: bool = False,
) -> RenewalOutcome:
    """Record for the contract that renews a long-term contract (保険期間が1年を超える) [002a L2317-2330].

    The grade and period of the long-term contract were fixed for its whole term; all accidents
    of the term are counted together:
        grade  = G + 〔N − k3 − k1s〕 − 3·k3 − 1·k1
        period = 〔P − N/2〕 − N/2 + 3·k3 + 1·k1, fractions rounded up
    〔 〕 below 0 counts as 0; k1s = 1-down accidents plus legacy grade-unchanged (等級すえおき)
    accidents, which only old contracts have. `term_years` is N: the term in years, or for a
    contract cancelled mid-term the whole years elapsed (see `long_term_years`).
    With N = 1 the formula gives the same record as `renew_one_year`.
    """
    if term_years < 1:
        raise RuleError(
            "INVALID_TERM_YEARS", "term_years", f"term must be at least 1 year, got {term_years}"
        )
    if grade_unchanged_accidents < 0:
        raise RuleError("INVALID_ACCIDENT_COUNT", "grade_unchanged_accidents", "count must be ≥ 0")
    c = _count(accidents)
    n = term_years
    steps = [
        f"accidents in the expiring {n}-year term: {_describe_counts(c)}"
        + (f", {grade_unchanged_accidents} × grade-unchanged" if grade_unchanged_accidents else "")
        + " (002a L2317-2318)"
    ]
    k1s = c.one_down + grade_unchanged_accidents
    bracket_g = max(0, n - c.three_down - k1s)
    grade = rec.grade + bracket_g - 3 * c.three_down - c.one_down
    steps.append(
        f"grade {rec.grade} + 〔{n} − {c.three_down} − {k1s}〕→{bracket_g} − 3×{c.three_down} − 1×{c.one_down} "
        f"= {grade} (002a L2357, L2325)"
    )
    half = Fraction(n, 2)
    bracket_p = max(Fraction(0), rec.period - half)
    exact = bracket_p - half + 3 * c.three_down + c.one_down
    period = math.ceil(exact)
    steps.append(
        f"period 〔{rec.period} − {n}/2〕→{_fmt(bracket_p)} − {n}/2 + 3×{c.three_down} + 1×{c.one_down} "
        f"= {_fmt(exact)}, rounded up to {period} (002a L2359, L2325-2326)"
    )
    return _finish(
        rec,
        grade,
        period,
        c,
        steps,
        previously_surcharged=previously_surcharged,
        rental_or_driving_school=rental_or_driving_school,
        label_ref="002a L2327",
    )


def _fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"


def renew(
    rec: GradeRecord,
    accidents: Sequence[AccidentClass],
    *,
    term_years: int,
    previously_surcharged: bool = False,
    rental_or_driving_school: bool = False,
) -> RenewalOutcome:
    """Renew after a term of `term_years` whole years: 1 → table 1, more → the long-term formula."""
    if term_years == 1:
        return renew_one_year(
            rec,
            accidents,
            previously_surcharged=previously_surcharged,
            rental_or_driving_school=rental_or_driving_school,
        )
    return renew_long_term(
        rec,
        accidents,
        term_years=term_years,
        previously_surcharged=previously_surcharged,
        rental_or_driving_school=rental_or_driving_school,
    )


def long_term_years(*, start: date, full_term_years: int, cancelled_on: date | None = None) -> int:
    """N for the long-term formula: the full term, or after a mid-term cancellation the whole
    years elapsed from `start` to `cancelled_on`, fractions dropped [002a L2323]. If that leaves
    1 year or less the pamphlet uses another handling it does not describe [002a L2323-2324]:
    refused with GRADE_RULE_NOT_GIVEN.
    """
    if full_term_years < 2:
        raise RuleError(
            "NOT_LONG_TERM",
            "full_term_years",
            f"a long-term contract runs ≥ 2 years, got {full_term_years}",
        )
    if cancelled_on is None:
        return full_term_years
    whole = min(whole_months_between(start, cancelled_on) // 12, full_term_years)
    if whole <= 1:
        raise RuleError(
            "GRADE_RULE_NOT_GIVEN",
            "cancelled_on",
            "a long-term contract cancelled with 1 whole year or less elapsed renews by a rule the "
            "pamphlet does not give (002a L2323-2324)",
        )
    return whole


def record_for_policy_year(
    term_record: GradeRecord, *, policy_year: int, term_years: int
) -> GradeRecord:
    """A long-term contract keeps one grade and period for its whole term, whatever happens in it
    [002a L2218-2228, L2303-2305]."""
    if not 1 <= policy_year <= term_years:
        raise RuleError(
            "INVALID_POLICY_YEAR",
            "policy_year",
            f"policy year must be 1..{term_years}, got {policy_year}",
        )
    return term_record
