"""Coverage at the accident moment (SPEC §4.8, issue 6 item 1): is this claim covered, and why.

Pure: every fact is a parameter. The checks, in order, each leave a reason (code + JP/EN):
1. contract in force at the accident instant (16:00 JST boundaries, SPEC §4.1), or a
   forgotten-renewal window that covers the gap;
2. premium: first premium unpaid → the claim waits for it; defaulted → nothing (SPEC §4.7);
3. vehicle insured (or a newly acquired car inside a vehicle-swap window);
4. driver in scope on that date (domain.covered), or a driver/age-change window;
5. coverages present; only the liability set when a window was downgraded (SPEC §4.6).
The windows themselves are decided elsewhere (domain/windows.py): their outcome comes in as a
plain `WindowOutcome`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from domain.calendar import COVER_TIME, JST, RuleError, cover_moment
from domain.claims.workflow import CoverageState
from domain.covered import CoverConditions, DriverFacts, decide_cover
from domain.products.model import WindowKind
from domain.vocab import Labelled

# SPEC §4.6.2 / 002b L4120-4122: 対人, 対人臨時費用, 対物, 対物超過修理費用, the two victim-relief
# riders, 遠隔地被害者臨時費用 — as the product files name them (rakuten declares only BI / PD,
# tokio calls its incapacity rider INSANITY_VICTIM). No product file declares 遠隔地被害者臨時費用.
LIABILITY_SET: frozenset[str] = frozenset(
    {
        "BI",
        "TEMPORARY_BI_EXPENSE",
        "PD",
        "EXCESS_REPAIR",
        "VICTIM_RELIEF_HACKING",
        "VICTIM_RELIEF_INCAPACITY",
        "INSANITY_VICTIM",
    }
)


class WindowOutcome(Labelled):
    """What a provisional-cover window gives a claim in its gap (from domain/windows.py)."""

    FULL = ("FULL", "全補償", "Full cover")
    LIABILITY_SET = ("LIABILITY_SET", "賠償責任関係のみ", "Liability set only")
    NONE = ("NONE", "補償なし", "No cover")
    PENDING = ("PENDING", "判定待ち", "Window still open")


class PremiumStatus(Labelled):
    """Payment state of the term for claims (from domain/payments.py), SPEC §4.7."""

    PAID = ("PAID", "払込済", "Paid up")
    FIRST_PREMIUM_UNPAID = ("FIRST_PREMIUM_UNPAID", "初回保険料未払", "First premium not yet paid")
    FIRST_PREMIUM_DEFAULTED = (
        "FIRST_PREMIUM_DEFAULTED",
        "初回保険料不払",
        "First premium not paid by its deadline",
    )
    OVERDUE = ("OVERDUE", "保険料払込猶予中", "An instalment is overdue, still in its grace")
    DEFAULTED = ("DEFAULTED", "保険料不払", "An instalment unpaid past the end of M+1 (M+2)")


def premium_status_from(
    *, claims: str, first_premium_unpaid: bool, no_cover_from_start: bool
) -> PremiumStatus:
    """Map domain.payments.Delinquency (its `claims` value PAYABLE / HELD / NOT_PAYABLE and the
    two first-premium flags) onto the status a claim decision needs."""
    if no_cover_from_start:
        return PremiumStatus.FIRST_PREMIUM_DEFAULTED
    if first_premium_unpaid:
        return PremiumStatus.FIRST_PREMIUM_UNPAID
    mapping = {"PAYABLE": PremiumStatus.PAID, "HELD": PremiumStatus.OVERDUE,
               "NOT_PAYABLE": PremiumStatus.DEFAULTED}
    if claims not in mapping:
        raise RuleError("UNKNOWN_PAYMENT_STATE", "claims", f"unknown claims payment state {claims!r}")
    return mapping[claims]


@dataclass(frozen=True, slots=True)
class Term:
    """One term of the contract as the claim sees it."""

    start_date: date
    expiry_date: date
    cover_time: time = COVER_TIME
    cancelled_at: datetime | None = None   # aware instant the cancellation took effect
    rescinded: bool = False                # 解除: no claim is paid on a rescinded term

    def __post_init__(self) -> None:
        if self.expiry_date <= self.start_date:
            raise RuleError("DATES_OUT_OF_ORDER", "expiryDate", "expiry must be after the start")

    @property
    def starts_at(self) -> datetime:
        return cover_moment(self.start_date, self.cover_time)

    @property
    def ends_at(self) -> datetime:
        end = cover_moment(self.expiry_date, self.cover_time)
        if self.cancelled_at is not None and self.cancelled_at < end:
            return self.cancelled_at
        return end

    def covers(self, at: datetime) -> bool:
        # Cover runs from 16:00 on the start date up to (not including) 16:00 on the expiry date.
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True)
class VersionFacts:
    """The contract version in force at the accident moment."""

    vehicle_id: str
    coverages: frozenset[str]          # coverage and rider codes, automatic riders included
    conditions: CoverConditions


@dataclass(frozen=True, slots=True)
class WindowFacts:
    kind: WindowKind
    outcome: WindowOutcome
    vehicle_id: str | None = None      # VEHICLE_SWAP: the newly acquired car
    # The product's liability set for this window (domain.windows.liability_set); None: the
    # default LIABILITY_SET below.
    liability_set: frozenset[str] | None = None
    # PENDING only: unfiled past day 30 (DOWNGRADED), so a filing now brings at most the
    # liability set (SPEC §4.6; 002b L4120-4122, L4149-4151): the claim waits for that set only.
    at_most_liability_set: bool = False
    # FULL only: the filing's extra premium is charged and not yet paid — the window's cover is not
    # applied while it is unpaid (002b L4111-4112, L4143): the claim waits for the payment.
    premium_unpaid: bool = False


@dataclass(frozen=True, slots=True)
class AccidentFacts:
    at: datetime                       # aware
    vehicle_id: str
    driver: DriverFacts | None = None  # None: nobody drove (parked car, theft)
    claimed: frozenset[str] = frozenset()   # coverages asked for; empty: whatever applies


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    ok: bool
    ja: str
    en: str
    rule_ref: str


@dataclass(frozen=True, slots=True)
class CoverageDecision:
    state: CoverageState
    reasons: tuple[Reason, ...]
    applicable: frozenset[str]         # the coverages that may pay (empty unless COVERED/PENDING)
    liability_only: bool
    waiting_for: tuple[str, ...]       # codes of what a pending decision waits for

    @property
    def covered(self) -> bool:
        return self.state is CoverageState.COVERED

    def refusals(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not r.ok)


# Codes that make FNOL itself bad input (issue 6: accident before the contract or after lapse,
# unknown vehicle): the report is refused and nothing is stored.
FNOL_REFUSALS: frozenset[str] = frozenset(
    {"ACCIDENT_BEFORE_CONTRACT", "ACCIDENT_AFTER_CONTRACT", "VEHICLE_NOT_INSURED"}
)


def _window(windows: Iterable[WindowFacts], kind: WindowKind) -> WindowFacts | None:
    return next((w for w in windows if w.kind is kind), None)


class _Acc:
    """Collects reasons and the worst state so far."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []
        self.not_covered = False
        self.pending: list[str] = []
        self.liability_only = False
        self.liability_sets: list[frozenset[str]] = []

    def ok(self, code: str, ja: str, en: str, ref: str) -> None:
        self.reasons.append(Reason(code, True, ja, en, ref))

    def fail(self, code: str, ja: str, en: str, ref: str) -> None:
        self.reasons.append(Reason(code, False, ja, en, ref))
        self.not_covered = True

    def wait(self, code: str, ja: str, en: str, ref: str) -> None:
        self.reasons.append(Reason(code, False, ja, en, ref))
        self.pending.append(code)

    def saved_by(self, w: WindowFacts, what: str) -> None:
        """A window decides a gap the contract alone does not cover."""
        ref = "SPEC §4.6; 002b L4106-4164; 001 L857-881"
        if w.outcome is WindowOutcome.FULL:
            self.ok(f"{w.kind.value}_WINDOW_FULL", f"{w.kind.ja}により補償",
                    f"{what}: covered by the {w.kind.en.lower()} window", ref)
        elif w.outcome is WindowOutcome.LIABILITY_SET:
            self.liability_only = True
            if w.liability_set is not None:
                self.liability_sets.append(w.liability_set)
            self.ok(f"{w.kind.value}_WINDOW_LIABILITY_SET", f"{w.kind.ja}(賠償責任関係のみ)",
                    f"{what}: only the liability set, the {w.kind.en.lower()} window was filed late",
                    ref)
        elif w.outcome is WindowOutcome.PENDING:
            if w.at_most_liability_set:
                self.liability_only = True
                if w.liability_set is not None:
                    self.liability_sets.append(w.liability_set)
            self.wait(f"{w.kind.value}_WINDOW_PENDING", f"{w.kind.ja}の判定待ち",
                      f"{what}: waiting for the {w.kind.en.lower()} window to resolve", ref)
        else:
            self.fail(f"{w.kind.value}_WINDOW_NONE", f"{w.kind.ja}の対象外",
                      f"{what}: the {w.kind.en.lower()} window gives no cover", ref)


def decide_coverage(
    *,
    terms: Iterable[Term],
    version: VersionFacts | None,
    accident: AccidentFacts,
    premium: PremiumStatus = PremiumStatus.PAID,
    windows: Iterable[WindowFacts] = (),
    now: datetime | None = None,
    liability_set: frozenset[str] = LIABILITY_SET,
) -> CoverageDecision:
    """Decide coverage at `accident.at`. `version` is the version in force then (for a gap
    claim under a forgotten-renewal window: the expired term's last version). Raises
    RuleError for a naive instant or an accident after `now`."""
    at = accident.at
    if at.tzinfo is None:
        raise RuleError("NAIVE_DATETIME", "accidentAt", "the accident time needs a time zone")
    if now is not None and at > now:
        raise RuleError("ACCIDENT_IN_FUTURE", "accidentAt", f"{at.isoformat()} is after now")
    ws = tuple(windows)
    terms_t = tuple(sorted(terms, key=lambda t: t.starts_at))
    acc = _Acc()
    local = at.astimezone(JST)
    term_ref = "SPEC §4.1; 002b L5239; 004 L1234"

    # 1. contract in force
    term = next((t for t in terms_t if t.covers(at)), None)
    if term is not None:
        acc.ok("CONTRACT_IN_FORCE", "保険期間中", f"in force at {local:%Y-%m-%d %H:%M} JST", term_ref)
        if term.rescinded:
            acc.fail("CONTRACT_RESCINDED", "契約解除", "the term was rescinded: no claim is paid",
                     "SPEC §4.4; 004 L1322; 001 L833")
    else:
        grace = _window(ws, WindowKind.FORGOTTEN_RENEWAL)
        if not terms_t or at < terms_t[0].starts_at:
            acc.fail("ACCIDENT_BEFORE_CONTRACT", "保険期間開始前の事故",
                     "the accident is before cover started (16:00 on the start date)", term_ref)
        elif grace is not None:
            acc.saved_by(grace, "after expiry")
        else:
            cancelled = any(t.cancelled_at is not None and t.cancelled_at <= at for t in terms_t)
            acc.fail("ACCIDENT_AFTER_CONTRACT", "保険期間外の事故",
                     "the accident is after the contract "
                     + ("was cancelled" if cancelled else "expired (16:00 on the expiry date)"),
                     term_ref)

    # 2. premium
    if premium is PremiumStatus.FIRST_PREMIUM_UNPAID:
        acc.wait("FIRST_PREMIUM_UNPAID", "初回保険料の払込待ち",
                 "no cover until the first premium is paid: the claim waits for it",
                 "SPEC §4.7; 004 L1320")
    elif premium is PremiumStatus.OVERDUE:
        acc.wait("PREMIUM_OVERDUE", "保険料払込猶予中",
                 "an instalment is overdue: the claim waits until it is paid",
                 "SPEC §4.7; 001 L833; 002b L5131")
    elif premium in (PremiumStatus.FIRST_PREMIUM_DEFAULTED, PremiumStatus.DEFAULTED):
        acc.fail("PREMIUM_UNPAID", "保険料不払", "premium unpaid past its deadline: claims are not paid",
                 "SPEC §4.7; 001 L833; 002b L5131; 004 L1320")

    if version is None:
        if not acc.not_covered and not acc.pending:
            raise RuleError("VERSION_REQUIRED", "version", "no contract version for a covered moment")
        return _finish(acc, frozenset(), accident, liability_set)

    # 3. vehicle
    if accident.vehicle_id == version.vehicle_id:
        acc.ok("VEHICLE_INSURED", "被保険自動車", "the insured car", "SPEC §4.8")
    else:
        swap = _window(ws, WindowKind.VEHICLE_SWAP)
        if swap is not None and swap.vehicle_id == accident.vehicle_id:
            acc.saved_by(swap, "newly acquired car")
        else:
            acc.fail("VEHICLE_NOT_INSURED", "被保険自動車ではない",
                     "this car is not insured by the contract", "SPEC §4.8")

    # 4. driver
    if accident.driver is None:
        acc.ok("NO_DRIVER", "運転者なし", "nobody was driving: driver scope does not apply", "SPEC §4.5")
    else:
        d = decide_cover(version.conditions, accident.driver, local.date())
        if d.covered:
            acc.ok(d.reason_code, "運転者は補償対象", f"driver in scope: {d.reason}", d.rule_ref)
        else:
            change = _window(ws, WindowKind.DRIVER_CHANGE)
            if change is not None:
                acc.saved_by(change, d.reason)
            else:
                ja = "運転者限定の範囲外" if d.reason_code == "OUTSIDE_DRIVER_RESTRICTION" else "運転者年齢条件を満たさない"
                acc.fail(d.reason_code, ja, d.reason, d.rule_ref)

    # A window filed in time covers its gap once the filing's extra premium is paid — also when the
    # swap's re-written versions already name the new car (002b L4111-4112, L4143).
    for w in ws:
        if w.outcome is WindowOutcome.FULL and w.premium_unpaid and (
                w.kind is not WindowKind.VEHICLE_SWAP or w.vehicle_id == accident.vehicle_id):
            acc.wait(f"{w.kind.value}_WINDOW_PREMIUM_UNPAID", f"{w.kind.ja}の追加保険料払込待ち",
                     f"the {w.kind.en.lower()} window covers its gap once the extra premium is paid",
                     "002b L4111-4112, L4143")

    return _finish(acc, version.coverages, accident, liability_set)


def _finish(
    acc: _Acc, present: frozenset[str], accident: AccidentFacts, liability_set: frozenset[str]
) -> CoverageDecision:
    # 5. coverages
    applicable = frozenset(present)
    if accident.claimed:
        missing = sorted(accident.claimed - present)
        for code in missing:
            acc.reasons.append(Reason("COVERAGE_ABSENT", False, f"{code}は契約されていない",
                                      f"{code} is not on the contract", "SPEC §4.8"))
        applicable = accident.claimed & present
    if acc.liability_only:
        if acc.liability_sets:     # the windows' own product sets replace the default
            liability_set = frozenset.intersection(*acc.liability_sets)
        dropped = sorted(applicable - liability_set)
        if dropped:
            acc.reasons.append(Reason("LIABILITY_SET_ONLY", False, "賠償責任関係以外は対象外",
                                      f"not paid in a late-filed window: {', '.join(dropped)}",
                                      "SPEC §4.6.2; 002b L4120-4122"))
        applicable = applicable & liability_set
    if present and not applicable and not acc.not_covered:
        acc.fail("NO_COVERAGE_APPLIES", "該当する補償なし", "no coverage on the contract applies",
                 "SPEC §4.8")
    if acc.not_covered:
        return CoverageDecision(CoverageState.NOT_COVERED, tuple(acc.reasons), frozenset(),
                                acc.liability_only, ())
    state = CoverageState.COVERAGE_PENDING if acc.pending else CoverageState.COVERED
    return CoverageDecision(state, tuple(acc.reasons), applicable, acc.liability_only,
                            tuple(acc.pending))


def fnol_refusal(decision: CoverageDecision) -> RuleError | None:
    """The error to answer a first notice of loss with, when the report itself is bad input."""
    for r in decision.reasons:
        if not r.ok and r.code in FNOL_REFUSALS:
            return RuleError(r.code, "accidentAt" if r.code.startswith("ACCIDENT") else "vehicleId", r.en)
    return None
