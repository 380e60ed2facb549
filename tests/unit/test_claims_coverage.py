"""Coverage at the accident moment: 16:00 boundaries, premium, vehicle, driver, windows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.calendar import JST, RuleError
from domain.claims.coverage import (
    LIABILITY_SET,
    AccidentFacts,
    PremiumStatus,
    Term,
    VersionFacts,
    WindowFacts,
    WindowOutcome,
    decide_coverage,
    fnol_refusal,
    premium_status_from,
)
from domain.claims.workflow import CoverageState
from domain.covered import CoverConditions, DriverFacts
from domain.products.model import WindowKind
from domain.vocab import AgeCondition, DriverRestriction, Relationship

TERM = Term(date(2026, 4, 1), date(2027, 4, 1))
COVS = frozenset({"BI", "PD", "PI", "VEHICLE", "EXCESS_REPAIR"})
VERSION = VersionFacts(
    "car-1", COVS, CoverConditions(AgeCondition.AGE_26, DriverRestriction.NAMED_INSURED_AND_SPOUSE)
)
SELF = DriverFacts(Relationship.SELF, date(1980, 5, 5))
SON_20 = DriverFacts(Relationship.COHABITING_RELATIVE, date(2006, 1, 10))
FRIEND_20 = DriverFacts(Relationship.OTHER, date(2006, 1, 10))


def at(d: date, h: int, m: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=JST)


def decide(when: datetime, driver: DriverFacts | None = SELF, vehicle: str = "car-1",
           **kw: object):  # type: ignore[no-untyped-def]
    return decide_coverage(terms=[TERM], version=VERSION,
                           accident=AccidentFacts(when, vehicle, driver), **kw)  # type: ignore[arg-type]


def codes(decision) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.code for r in decision.reasons]


# SPEC §4.1; 002b L5239; 004 L1234: cover runs 16:00 start date → 16:00 expiry date
@pytest.mark.parametrize(
    ("when", "state", "code"),
    [
        (at(date(2026, 4, 1), 15, 59), CoverageState.NOT_COVERED, "ACCIDENT_BEFORE_CONTRACT"),
        (at(date(2026, 4, 1), 16, 0), CoverageState.COVERED, "CONTRACT_IN_FORCE"),
        (at(date(2027, 4, 1), 15, 59), CoverageState.COVERED, "CONTRACT_IN_FORCE"),
        (at(date(2027, 4, 1), 16, 0), CoverageState.NOT_COVERED, "ACCIDENT_AFTER_CONTRACT"),
    ],
)
def test_sixteen_hundred_boundaries(when: datetime, state: CoverageState, code: str) -> None:
    d = decide(when)
    assert d.state is state
    assert code in codes(d)


def test_boundary_holds_for_utc_input() -> None:
    utc = at(date(2026, 4, 1), 16, 0).astimezone(UTC)    # 07:00Z, the same instant
    assert decide(utc).covered
    assert not decide(utc - timedelta(minutes=1)).covered


def test_fnol_refusals_for_bad_input() -> None:
    before = decide(at(date(2026, 3, 31), 12))
    err = fnol_refusal(before)
    assert err is not None and err.code == "ACCIDENT_BEFORE_CONTRACT"
    unknown = decide(at(date(2026, 6, 1), 12), vehicle="car-9")
    err = fnol_refusal(unknown)
    assert err is not None and err.code == "VEHICLE_NOT_INSURED" and err.field == "vehicleId"
    assert fnol_refusal(decide(at(date(2026, 6, 1), 12))) is None


def test_naive_and_future_accidents_are_refused() -> None:
    with pytest.raises(RuleError) as e:
        decide(datetime(2026, 6, 1, 12))
    assert e.value.code == "NAIVE_DATETIME"
    with pytest.raises(RuleError) as e:
        decide(at(date(2026, 6, 2), 12), now=at(date(2026, 6, 1), 12))
    assert e.value.code == "ACCIDENT_IN_FUTURE"


def test_cancelled_term_ends_at_the_cancellation() -> None:
    term = Term(date(2026, 4, 1), date(2027, 4, 1), cancelled_at=at(date(2026, 9, 1), 0))
    d = decide_coverage(terms=[term], version=VERSION,
                        accident=AccidentFacts(at(date(2026, 9, 2), 10), "car-1", SELF))
    assert d.state is CoverageState.NOT_COVERED
    assert any("cancelled" in r.en for r in d.reasons)


def test_rescinded_term_pays_nothing() -> None:
    term = Term(date(2026, 4, 1), date(2027, 4, 1), rescinded=True)
    d = decide_coverage(terms=[term], version=VERSION,
                        accident=AccidentFacts(at(date(2026, 6, 1), 10), "car-1", SELF))
    assert "CONTRACT_RESCINDED" in codes(d) and not d.covered


# SPEC §4.7: first premium unpaid → no cover; the claim waits for the first payment
def test_first_premium_unpaid_waits_then_defaulted_is_not_covered() -> None:
    d = decide(at(date(2026, 4, 2), 9), premium=PremiumStatus.FIRST_PREMIUM_UNPAID)
    assert d.state is CoverageState.COVERAGE_PENDING
    assert d.waiting_for == ("FIRST_PREMIUM_UNPAID",)
    d = decide(at(date(2026, 4, 2), 9), premium=PremiumStatus.FIRST_PREMIUM_DEFAULTED)
    assert d.state is CoverageState.NOT_COVERED and "PREMIUM_UNPAID" in codes(d)
    # 001 L833: a premium unpaid past the end of M+1 → claims not paid
    assert decide(at(date(2026, 8, 2), 9), premium=PremiumStatus.DEFAULTED).state is CoverageState.NOT_COVERED
    assert decide(at(date(2026, 8, 2), 9), premium=PremiumStatus.OVERDUE).state is CoverageState.COVERAGE_PENDING


# SPEC §4.5; 001 L624: the age condition binds household members, not friends
def test_driver_scope() -> None:
    d = decide(at(date(2026, 6, 1), 10), driver=SON_20)
    assert d.state is CoverageState.NOT_COVERED
    assert "OUTSIDE_DRIVER_RESTRICTION" in codes(d)
    unrestricted = VersionFacts("car-1", COVS, CoverConditions(AgeCondition.AGE_26, DriverRestriction.NONE))
    son = decide_coverage(terms=[TERM], version=unrestricted,
                          accident=AccidentFacts(at(date(2026, 6, 1), 10), "car-1", SON_20))
    assert "UNDER_AGE_CONDITION" in codes(son) and not son.covered
    friend = decide_coverage(terms=[TERM], version=unrestricted,
                             accident=AccidentFacts(at(date(2026, 6, 1), 10), "car-1", FRIEND_20))
    assert friend.covered and "COVERED_AGE_NOT_BINDING" in codes(friend)
    parked = decide(at(date(2026, 6, 1), 10), driver=None)
    assert parked.covered and "NO_DRIVER" in codes(parked)


def test_age_uses_the_jst_date_of_the_accident() -> None:
    # 26th birthday on 2026-06-02 (JST); 2026-06-01 20:00 UTC is already 2026-06-02 05:00 JST
    unrestricted = VersionFacts("car-1", COVS, CoverConditions(AgeCondition.AGE_26, DriverRestriction.NONE))
    son = DriverFacts(Relationship.COHABITING_RELATIVE, date(2000, 6, 2))
    when = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)
    d = decide_coverage(terms=[TERM], version=unrestricted, accident=AccidentFacts(when, "car-1", son))
    assert d.covered


# SPEC §4.6.3; 002b L4106-4123: driver/age change window
@pytest.mark.parametrize(
    ("outcome", "state", "applicable"),
    [
        (WindowOutcome.FULL, CoverageState.COVERED, COVS),
        (WindowOutcome.LIABILITY_SET, CoverageState.COVERED, frozenset({"BI", "PD", "EXCESS_REPAIR"})),
        (WindowOutcome.PENDING, CoverageState.COVERAGE_PENDING, COVS),
        (WindowOutcome.NONE, CoverageState.NOT_COVERED, frozenset()),
    ],
)
def test_driver_change_window_outcomes(outcome: WindowOutcome, state: CoverageState,
                                       applicable: frozenset[str]) -> None:
    w = WindowFacts(WindowKind.DRIVER_CHANGE, outcome)
    d = decide(at(date(2026, 6, 1), 10), driver=SON_20, windows=[w])
    assert d.state is state
    assert d.applicable == applicable
    assert d.liability_only == (outcome is WindowOutcome.LIABILITY_SET)
    if outcome is WindowOutcome.LIABILITY_SET:
        assert "LIABILITY_SET_ONLY" in codes(d)


# SPEC §4.6.3; 002b L4120-4122; 001 L879-881: an unfiled window past day 30 (DOWNGRADED) can at
# best bring the liability set: the claim waits for that set only, never for vehicle damage.
def test_a_downgraded_unfiled_window_waits_for_the_liability_set_only() -> None:
    w = WindowFacts(WindowKind.DRIVER_CHANGE, WindowOutcome.PENDING, at_most_liability_set=True)
    d = decide(at(date(2026, 6, 10), 10), driver=SON_20, windows=[w])
    assert d.state is CoverageState.COVERAGE_PENDING
    assert d.waiting_for == ("DRIVER_CHANGE_WINDOW_PENDING",)
    assert d.liability_only and d.applicable == frozenset({"BI", "PD", "EXCESS_REPAIR"})
    assert "LIABILITY_SET_ONLY" in codes(d)
    swap = WindowFacts(WindowKind.VEHICLE_SWAP, WindowOutcome.PENDING, vehicle_id="car-new",
                       liability_set=frozenset({"BI", "PD"}), at_most_liability_set=True)
    d = decide(at(date(2026, 6, 10), 10), vehicle="car-new", windows=[swap])
    assert (d.state, d.applicable) == (CoverageState.COVERAGE_PENDING, frozenset({"BI", "PD"}))


# SPEC §4.6.2; 002b L4140-4152: the newly acquired car inside a swap window
@pytest.mark.parametrize(
    ("outcome", "state"),
    [(WindowOutcome.FULL, CoverageState.COVERED), (WindowOutcome.LIABILITY_SET, CoverageState.COVERED),
     (WindowOutcome.PENDING, CoverageState.COVERAGE_PENDING), (WindowOutcome.NONE, CoverageState.NOT_COVERED)],
)
def test_vehicle_swap_window_outcomes(outcome: WindowOutcome, state: CoverageState) -> None:
    w = WindowFacts(WindowKind.VEHICLE_SWAP, outcome, vehicle_id="car-new")
    d = decide(at(date(2026, 6, 1), 10), vehicle="car-new", windows=[w])
    assert d.state is state
    if outcome is WindowOutcome.LIABILITY_SET:
        assert d.applicable <= LIABILITY_SET and "VEHICLE" not in d.applicable
    # a swap window for another car does not save this one
    other = decide(at(date(2026, 6, 1), 10), vehicle="car-x", windows=[w])
    assert "VEHICLE_NOT_INSURED" in codes(other)



# 002b L4111-4112 (追加保険料の払込みがない間は適用しません) and L4143 (取得日以降の期間に対する追加
# 保険料の払込みが条件): a window filed in time covers its gap only once the extra premium is paid.
def test_a_filed_window_waits_for_its_extra_premium() -> None:
    change = WindowFacts(WindowKind.DRIVER_CHANGE, WindowOutcome.FULL, premium_unpaid=True)
    d = decide(at(date(2026, 6, 1), 10), driver=SON_20, windows=[change])
    assert (d.state, d.waiting_for) == (CoverageState.COVERAGE_PENDING, ("DRIVER_CHANGE_WINDOW_PREMIUM_UNPAID",))
    assert d.applicable == COVS
    swap = WindowFacts(WindowKind.VEHICLE_SWAP, WindowOutcome.FULL, vehicle_id="car-new", premium_unpaid=True)
    d = decide(at(date(2026, 6, 1), 10), vehicle="car-new", windows=[swap])
    assert d.waiting_for == ("VEHICLE_SWAP_WINDOW_PREMIUM_UNPAID",)
    # the swap's re-written version already names the new car: it still waits for the premium
    d = decide(at(date(2026, 6, 1), 10), vehicle="car-1", windows=[replace(swap, vehicle_id="car-1")])
    assert d.waiting_for == ("VEHICLE_SWAP_WINDOW_PREMIUM_UNPAID",)
    # paid: covered; a late filing's liability set does not wait (only the in-time cover is conditional)
    assert decide(at(date(2026, 6, 1), 10), vehicle="car-new", windows=[replace(swap, premium_unpaid=False)]).covered
    late = WindowFacts(WindowKind.DRIVER_CHANGE, WindowOutcome.LIABILITY_SET, premium_unpaid=True)
    assert decide(at(date(2026, 6, 1), 10), driver=SON_20, windows=[late]).covered

# SPEC §4.6.1; 002b L4160-4164: gap claims after an unrenewed expiry
@pytest.mark.parametrize(
    ("outcome", "state"),
    [(WindowOutcome.FULL, CoverageState.COVERED), (WindowOutcome.PENDING, CoverageState.COVERAGE_PENDING),
     (WindowOutcome.NONE, CoverageState.NOT_COVERED)],
)
def test_forgotten_renewal_gap(outcome: WindowOutcome, state: CoverageState) -> None:
    w = WindowFacts(WindowKind.FORGOTTEN_RENEWAL, outcome)
    d = decide(at(date(2027, 4, 10), 10), windows=[w])
    assert d.state is state
    assert fnol_refusal(d) is None       # held or declined, but not bad input


def test_claimed_coverages_must_be_on_the_contract() -> None:
    d = decide_coverage(terms=[TERM], version=VERSION,
                        accident=AccidentFacts(at(date(2026, 6, 1), 10), "car-1", SELF,
                                               claimed=frozenset({"VEHICLE", "LAWYER_AUTO"})))
    assert d.covered and d.applicable == frozenset({"VEHICLE"})
    assert "COVERAGE_ABSENT" in codes(d)
    only_absent = decide_coverage(terms=[TERM], version=VERSION,
                                  accident=AccidentFacts(at(date(2026, 6, 1), 10), "car-1", SELF,
                                                         claimed=frozenset({"LAWYER_AUTO"})))
    assert only_absent.state is CoverageState.NOT_COVERED
    assert "NO_COVERAGE_APPLIES" in codes(only_absent)


def test_renewed_terms_are_continuous() -> None:
    t2 = Term(date(2027, 4, 1), date(2028, 4, 1))
    d = decide_coverage(terms=[t2, TERM], version=VERSION,
                        accident=AccidentFacts(at(date(2027, 4, 1), 16), "car-1", SELF))
    assert d.covered
    assert decide_coverage(terms=[t2, TERM], version=VERSION, accident=AccidentFacts(
        at(date(2027, 4, 1), 16) - timedelta(seconds=1), "car-1", SELF)).covered


def test_a_window_brings_its_product_liability_set() -> None:
    # rakuten: 対人・対物賠償事故に限り (001 L869, L881)
    w = WindowFacts(WindowKind.DRIVER_CHANGE, WindowOutcome.LIABILITY_SET,
                    liability_set=frozenset({"BI", "PD"}))
    d = decide(at(date(2026, 6, 1), 10), driver=SON_20, windows=[w])
    assert d.covered and d.applicable == frozenset({"BI", "PD"})


def test_premium_status_from_payments() -> None:
    def ps(c: str, first: bool = False, none: bool = False) -> PremiumStatus:
        return premium_status_from(claims=c, first_premium_unpaid=first, no_cover_from_start=none)

    assert ps("PAYABLE") is PremiumStatus.PAID
    assert ps("HELD") is PremiumStatus.OVERDUE
    assert ps("NOT_PAYABLE") is PremiumStatus.DEFAULTED
    assert ps("HELD", first=True) is PremiumStatus.FIRST_PREMIUM_UNPAID
    assert ps("NOT_PAYABLE", first=True, none=True) is PremiumStatus.FIRST_PREMIUM_DEFAULTED
    with pytest.raises(RuleError):
        ps("MAYBE")
