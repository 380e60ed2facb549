"""The 30-day provisional-cover windows (SPEC §4.6): forgotten renewal, vehicle swap, driver change.

A window is data: what opened it (an expiry, an acquisition, a household event), the days
that bound it and its state. The functions here open windows (with eligibility refusals),
file them, move them along the calendar and say what cover they give at an instant; the
workers schedule `due_actions` as durable timers and store whatever state they return.

Day counting is "within N days counting from the day after D" (SPEC §4.1,
`calendar.last_day_within`): D + 30 is the last day in time, D + 31 is late
(002b L4111, L4142, L4161; 001 L867-869).

Pure: no clock, no I/O; "today" and "now" are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from domain.calendar import JST, RuleError, day_number, last_day_within
from domain.products.model import Product
from domain.products.model import Window as ProductWindow
from domain.products.model import WindowKind as ProductWindowKind
from domain.vocab import Labelled, Relationship

__all__ = [
    "GRACE_REMINDER_DAYS",
    "LIABILITY_SET_SPEC",
    "DueAction",
    "Filing",
    "FilingOutcome",
    "HouseholdEvent",
    "OldCarFate",
    "Term",
    "Window",
    "WindowAction",
    "WindowCover",
    "WindowKind",
    "WindowRefused",
    "WindowState",
    "advance",
    "close",
    "cover_in_window",
    "days_left",
    "due_actions",
    "file",
    "grace_reminder_days",
    "liability_set",
    "open_driver_change",
    "open_renewal_grace",
    "open_vehicle_swap",
    "state_on",
]

WINDOW_DAYS = 30  # every window of the pamphlets (002b L4111, L4142, L4161; 001 L867-869)
# Reminders of the forgotten-renewal window: on expiry, day 7 and day 23 (SPEC §4.6.1).
GRACE_REMINDER_DAYS: tuple[int, ...] = (0, 7, 23)
# Reminders go out in office hours, not at midnight; expiry's own reminder goes at the expiry moment.
REMINDER_TIME = time(9, 0)

# What "the liability set" is, by SPEC §4.6.2 / 002b L4120-4122, L4149-4151. Each product maps
# it to its own coverage and rider codes (`Window.liability_set` in the product file).
LIABILITY_SET_SPEC: tuple[tuple[str, str], ...] = (
    ("対人賠償保険", "Bodily-injury liability"),
    ("対人臨時費用特約", "Bodily-injury temporary expenses"),
    ("対物賠償保険", "Property-damage liability"),
    ("対物超過修理費用特約", "Excess repair cost"),
    ("不正アクセス・車両の欠陥等による事故の被害者救済費用特約", "Victim relief: hacking or vehicle defect"),
    ("心神喪失等による事故の被害者救済費用特約", "Victim relief: incapacitated driver"),
    ("遠隔地被害者臨時費用特約", "Remote-victim temporary expenses"),
)


class WindowKind(Labelled):
    RENEWAL_GRACE = ("RENEWAL_GRACE", "継続手続忘れ", "Forgotten-renewal grace")
    VEHICLE_SWAP = ("VEHICLE_SWAP", "入替自動補償", "Vehicle swap automatic cover")
    DRIVER_CHANGE = ("DRIVER_CHANGE", "運転者限定・年令条件うっかり", "Driver / age condition change")

    @property
    def product_kind(self) -> ProductWindowKind:
        """The same window as the product files name it (FORGOTTEN_RENEWAL is RENEWAL_GRACE)."""
        return _PRODUCT_KIND[self]


_PRODUCT_KIND: dict[WindowKind, ProductWindowKind] = {
    WindowKind.RENEWAL_GRACE: ProductWindowKind.FORGOTTEN_RENEWAL,
    WindowKind.VEHICLE_SWAP: ProductWindowKind.VEHICLE_SWAP,
    WindowKind.DRIVER_CHANGE: ProductWindowKind.DRIVER_CHANGE,
}


class WindowState(Labelled):
    OPEN = ("OPEN", "受付中", "Open: a filing now gives full cover")
    CONFIRMED = ("CONFIRMED", "確定", "Confirmed: filed in time, full cover from the event")
    DOWNGRADED = ("DOWNGRADED", "賠償責任のみ", "Downgraded: only the liability set")
    VOID = ("VOID", "失効", "Void: the window ran out, nothing covered")
    CLOSED = ("CLOSED", "終了", "Closed by a decision (withdrawn, declined, contract ended)")

    @property
    def final(self) -> bool:
        return self in (WindowState.CONFIRMED, WindowState.VOID, WindowState.CLOSED)


class FilingOutcome(Labelled):
    """What a filing (renewal, swap, endorsement) achieves for the gap it closes."""

    FULL = ("FULL", "全補償", "Full cover from the event")
    LIABILITY_ONLY = ("LIABILITY_ONLY", "賠償責任のみ", "Liability set only")
    NONE = ("NONE", "補償なし", "Nothing")


class WindowCover(Labelled):
    """The cover a window gives an accident in its gap; PENDING while a filing can still change it."""

    FULL = ("FULL", "全補償", "Full cover")
    LIABILITY_SET = ("LIABILITY_SET", "賠償責任のみ", "Liability set only")
    NONE = ("NONE", "補償なし", "No cover")
    PENDING = ("PENDING", "確認待ち", "Pending the filing (claims held COVERAGE_PENDING)")


class WindowAction(Labelled):
    REMIND = ("REMIND", "継続案内", "Send a renewal reminder")
    LAPSE = ("LAPSE", "失効", "Lapse the contract as of the expiry (window void)")
    DOWNGRADE = ("DOWNGRADE", "賠償責任のみへ変更", "Downgrade to the liability set")
    VOID = ("VOID", "失効", "Void the window: nothing covered any more")


class HouseholdEvent(Labelled):
    """Events that open a driver-change window (002b L4127-4134; 001 L857-865, L873-877)."""

    NEWLY_LICENSED = ("NEWLY_LICENSED", "新たに運転免許を取得", "A family member newly licensed")
    NEW_HOUSEHOLD_MEMBER = ("NEW_HOUSEHOLD_MEMBER", "新たに同居の親族となった", "Someone newly part of the household")
    MARRIAGE = ("MARRIAGE", "新たに配偶者となった", "Someone newly the named insured's spouse")


class OldCarFate(Labelled):
    """What happened to the insured car a new car replaces (002b L4141)."""

    SCRAPPED = ("SCRAPPED", "廃車", "Scrapped")
    TRANSFERRED = ("TRANSFERRED", "譲渡", "Transferred")
    RETURNED_TO_LESSOR = ("RETURNED_TO_LESSOR", "リース業者へ返還", "Returned to the lessor")
    KEPT = ("KEPT", "保有継続", "Kept (not disposed of)")


_DISPOSED = frozenset({OldCarFate.SCRAPPED, OldCarFate.TRANSFERRED, OldCarFate.RETURNED_TO_LESSOR})
# SPEC issue 5 item 3: the new car's owner is the named insured, the spouse or a cohabiting relative.
_SWAP_OWNERS = frozenset({Relationship.SELF, Relationship.SPOUSE, Relationship.COHABITING_RELATIVE})


class WindowRefused(RuleError):
    """A window cannot be opened or filed. `problems` lists every failed rule (userErrors);
    code/field/message are the first one's."""

    def __init__(self, problems: Sequence[RuleError]) -> None:
        first = problems[0]
        super().__init__(first.code, first.field, first.message)
        self.problems: tuple[RuleError, ...] = tuple(problems)


# ------------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Term:
    """The term a swap or driver-change event happens in.

    `events_from` is the first day events count: the contract conclusion date (保険契約締結日),
    or the start date when the contract was renewed under forgotten-renewal support
    (002b L4114, L4144 注1). None means the start date.
    """

    start_at: datetime
    end_at: datetime
    events_from: date | None = None

    def __post_init__(self) -> None:
        _aware(self.start_at, "term.startAt")
        _aware(self.end_at, "term.endAt")
        if self.end_at <= self.start_at:
            raise RuleError("DATES_OUT_OF_ORDER", "term.endAt", f"term ends {self.end_at} before it starts {self.start_at}")

    @property
    def expiry_on(self) -> date:
        return self.end_at.astimezone(JST).date()

    @property
    def first_event_day(self) -> date:
        return self.events_from or self.start_at.astimezone(JST).date()


@dataclass(frozen=True, slots=True)
class Window:
    """One provisional-cover window.

    opens_at: the moment the gap starts (expiry 16:00 for the grace; start of the acquisition
      or event day, JST, for swap and driver change — cover runs "from the acquisition date").
    event_on: the expiry, acquisition or event date that day 1 counts from.
    full_until: day 30 — the last day a filing gives full cover (or renews, for the grace).
    downgrade_until: swap / driver change only: expiry + 30, the last day a late filing still
      gives the liability set; None for the grace (and for products without the liability rule).
    gap_end: where the gap this window covers ends: the term's expiry moment for swap and
      driver change, the end of day 30 for the grace.
    """

    kind: WindowKind
    product_id: str
    opens_at: datetime
    event_on: date
    full_until: date
    downgrade_until: date | None
    gap_end: datetime
    state: WindowState
    liability_codes: tuple[str, ...]
    source: str
    filed_on: date | None = None
    outcome: FilingOutcome | None = None
    event: HouseholdEvent | None = None

    @property
    def filing_deadline(self) -> date:
        """The last day any filing still achieves something."""
        return self.downgrade_until or self.full_until


@dataclass(frozen=True, slots=True)
class Filing:
    """The result of `file`: the window as it now stands and what the filing achieved."""

    window: Window
    outcome: FilingOutcome
    cover_from: datetime | None     # where the achieved cover starts; None when nothing
    day: int                        # which day of the window the filing fell on (1 = day after the event)
    reason: str


@dataclass(frozen=True, slots=True)
class DueAction:
    """Something the worker must do at `due_at`. `key` is stable per window (timer idempotency)."""

    due_at: datetime
    action: WindowAction
    key: str
    note: str


# ------------------------------------------------------------------------------- helpers


def _aware(t: datetime, field: str) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise RuleError("NAIVE_DATETIME", field, f"{t} has no time zone")


def _start_of(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=JST)


def _end_of(d: date) -> datetime:
    """The instant a day ends: 00:00 JST of the next day."""
    return _start_of(d + timedelta(days=1))


def _product_window(product: Product, kind: WindowKind) -> ProductWindow | None:
    return product.window(kind.product_kind)


def liability_set(product: Product, kind: WindowKind) -> tuple[str, ...]:
    """The product's coverage / rider codes a late filing still pays (SPEC §4.6.2)."""
    pw = _product_window(product, kind)
    return pw.liability_set if pw is not None and pw.liability_only_after else ()


def _refuse_if(problems: list[RuleError]) -> None:
    if problems:
        raise WindowRefused(problems)


def _check_event_day(problems: list[RuleError], what: str, field: str, on: date, term: Term, today: date) -> None:
    if on > today:
        problems.append(RuleError(f"{what}_IN_FUTURE", field, f"{on} is after today {today}"))
    if on < term.first_event_day:
        problems.append(RuleError(
            f"{what}_BEFORE_CONTRACT", field,
            f"{on} is before {term.first_event_day}, from which this contract counts events (002b L4114, L4144)",
        ))
    if on > term.expiry_on:
        problems.append(RuleError(f"{what}_AFTER_TERM", field, f"{on} is after the term's expiry {term.expiry_on}"))


# ------------------------------------------------------------------------------- opening


def open_renewal_grace(
    expiry_at: datetime,
    product: Product,
    previous_was_grace: bool,
    *,
    fleet: bool = False,
) -> Window:
    """The forgotten-renewal window of a contract that expired unrenewed at `expiry_at`.

    Refuses products without the rider (RENEWAL_GRACE_NOT_OFFERED: rakuten, tokio and kyosai
    simply expire), fleet contracts (the rider is automatic on non-fleet only, 002b L4156) and
    a contract that was itself renewed under the rider (GRACE_USED_LAST_TERM, 002b L4158).
    """
    _aware(expiry_at, "expiryAt")
    pw = _product_window(product, WindowKind.RENEWAL_GRACE)
    problems: list[RuleError] = []
    if pw is None:
        problems.append(RuleError(
            "RENEWAL_GRACE_NOT_OFFERED", "productId",
            f"{product.id} has no forgotten-renewal rider: the contract simply expires (SPEC §4.6.1)",
        ))
    else:
        if fleet:
            problems.append(RuleError(
                "RENEWAL_GRACE_NON_FLEET_ONLY", "fleet",
                f"the forgotten-renewal rider is attached to non-fleet contracts only ({pw.source})",
            ))
        if previous_was_grace and pw.not_twice_in_a_row:
            problems.append(RuleError(
                "GRACE_USED_LAST_TERM", "previousWasGrace",
                "this contract was itself renewed under the forgotten-renewal rider; it cannot be used twice in a row (002 L4158)",
            ))
    _refuse_if(problems)
    assert pw is not None
    expiry_on = expiry_at.astimezone(JST).date()
    full_until = last_day_within(expiry_on, pw.days)
    return Window(
        kind=WindowKind.RENEWAL_GRACE, product_id=product.id, opens_at=expiry_at, event_on=expiry_on,
        full_until=full_until, downgrade_until=None, gap_end=_end_of(full_until),
        state=WindowState.OPEN, liability_codes=(), source=pw.source,
    )


def grace_reminder_days(expiry_on: date) -> tuple[date, ...]:
    """Reminder dates of the forgotten-renewal window: the expiry, day 7 and day 23 (SPEC §4.6.1)."""
    return tuple(last_day_within(expiry_on, n) for n in GRACE_REMINDER_DAYS)


def _late_window_days(pw: ProductWindow, term: Term) -> date | None:
    return last_day_within(term.expiry_on, pw.days) if pw.liability_only_after else None


def open_vehicle_swap(
    acquired_on: date,
    term: Term,
    product: Product,
    *,
    today: date,
    old_car: OldCarFate | None,
    owner: Relationship | None,
    owner_is_corporation: bool = False,
    fleet: bool = False,
    replaces_insured_car: bool = True,
) -> Window:
    """The vehicle-swap window for a new car acquired on `acquired_on` (002b L4140-4152).

    `owner` is the new car's owner's relationship to the named insured (SELF also when the
    named insured is a company that owns the car); `owner_is_corporation` matters for fleets.

    Every failed eligibility rule is reported (WindowRefused.problems): product without the
    rider, corporate-owned fleet (L4147), owner not the named insured / spouse / cohabiting
    relative, old car not scrapped / transferred / returned to a lessor (L4141), the replaced
    car not insured by this contract, acquisition in the future, before the contract (L4141,
    L4144) or after the term.
    """
    pw = _product_window(product, WindowKind.VEHICLE_SWAP)
    problems: list[RuleError] = []
    if pw is None:
        problems.append(RuleError("VEHICLE_SWAP_NOT_OFFERED", "productId", f"{product.id} has no vehicle-swap automatic cover"))
    if fleet and owner_is_corporation:
        problems.append(RuleError(
            "CORPORATE_FLEET_EXCLUDED", "owner",
            "vehicle-swap cover is not attached to fleet contracts whose car owner is a corporation (002 L4147)",
        ))
    if owner not in _SWAP_OWNERS:
        problems.append(RuleError(
            "OWNER_NOT_ELIGIBLE", "owner",
            f"the new car's owner ({owner.value if owner else 'unknown'}) must be the named insured, spouse or a cohabiting relative",
        ))
    if old_car not in _DISPOSED:
        problems.append(RuleError(
            "OLD_CAR_NOT_DISPOSED", "oldCar",
            "the replaced car must have been scrapped, transferred or returned to a lessor (002 L4141)",
        ))
    if not replaces_insured_car:
        problems.append(RuleError("CAR_NOT_INSURED", "replacedVehicle", "the replaced car is not insured by this contract"))
    _check_event_day(problems, "ACQUISITION", "acquiredOn", acquired_on, term, today)
    _refuse_if(problems)
    assert pw is not None
    return _open_event_window(WindowKind.VEHICLE_SWAP, product, pw, acquired_on, term, None)


def open_driver_change(
    event: HouseholdEvent,
    event_on: date,
    term: Term,
    product: Product,
    *,
    today: date,
    de_facto_partner: bool = False,
) -> Window:
    """The driver / age-condition change window opened by a household event
    (002b L4106-4134; 001 L851-881).

    A marriage to a de-facto or same-sex partner does not open it where the product says so
    (002 L4115-4116 注2).
    """
    pw = _product_window(product, WindowKind.DRIVER_CHANGE)
    problems: list[RuleError] = []
    if pw is None:
        problems.append(RuleError("DRIVER_CHANGE_NOT_OFFERED", "productId", f"{product.id} has no driver / age change support"))
    elif event is HouseholdEvent.MARRIAGE and de_facto_partner and pw.de_facto_spouse_excluded:
        problems.append(RuleError(
            "DE_FACTO_PARTNER_NOT_ELIGIBLE", "event",
            "a de-facto or same-sex partner does not count as a new spouse for this window (002 L4115-4116)",
        ))
    _check_event_day(problems, "EVENT", "eventOn", event_on, term, today)
    _refuse_if(problems)
    assert pw is not None
    return _open_event_window(WindowKind.DRIVER_CHANGE, product, pw, event_on, term, event)


def _open_event_window(
    kind: WindowKind, product: Product, pw: ProductWindow, on: date, term: Term, event: HouseholdEvent | None,
) -> Window:
    # Cover runs from the event / acquisition date (002b L4112, L4142); not before the term starts.
    opens_at = max(_start_of(on), term.start_at)
    return Window(
        kind=kind, product_id=product.id, opens_at=opens_at, event_on=on,
        full_until=last_day_within(on, pw.days), downgrade_until=_late_window_days(pw, term),
        gap_end=term.end_at, state=WindowState.OPEN,
        liability_codes=pw.liability_set if pw.liability_only_after else (), source=pw.source, event=event,
    )


# ------------------------------------------------------------------------------- moving along


def state_on(window: Window, today: date) -> WindowState:
    """The state the calendar gives the window on `today` (what the worker stores).

    Filed and closed windows keep their state. An unfiled window is OPEN to day 30; from day 31
    the grace is VOID (the contract lapsed as of the expiry), swap and driver change are
    DOWNGRADED until expiry + 30 and VOID after it (002b L4120-4122, L4149-4151).
    """
    if window.filed_on is not None or window.state.final:
        return window.state
    if today <= window.full_until:
        return WindowState.OPEN
    if window.downgrade_until is not None and today <= window.downgrade_until:
        return WindowState.DOWNGRADED
    return WindowState.VOID


def advance(window: Window, today: date) -> Window:
    """The window with the state `state_on` gives it (unchanged object when nothing moves)."""
    s = state_on(window, today)
    return window if s is window.state else replace(window, state=s)


def days_left(window: Window, today: date) -> int:
    """Days left to file in the current phase, today included: day 30 → 1, day 31 of an
    unfiled swap → the days to expiry + 30; 0 once nothing more can be achieved."""
    s = state_on(window, today)
    if window.filed_on is not None or s.final:
        return 0
    deadline = window.full_until if s is WindowState.OPEN else window.filing_deadline
    return max(0, (deadline - today).days + 1)


def file(window: Window, on: date) -> Filing:
    """File the window's procedure (renewal paid, swap filed, matching endorsement) on `on`.

    Day 1..30 (counting from the day after the event): FULL cover from the event
    (grace: the new term starts at the old expiry). Day 31 up to expiry + 30: the liability set
    (swap, driver change). Later, or a grace filed on day 31: nothing.
    Refuses a second filing (WINDOW_ALREADY_FILED), a closed window (WINDOW_CLOSED) and a
    filing before the event (FILED_BEFORE_EVENT).
    """
    if window.filed_on is not None or window.state is WindowState.CONFIRMED:
        raise RuleError("WINDOW_ALREADY_FILED", "window", f"already filed on {window.filed_on}")
    if window.state is WindowState.CLOSED:
        raise RuleError("WINDOW_CLOSED", "window", "the window was closed")
    if on < window.event_on:
        raise RuleError("FILED_BEFORE_EVENT", "filedOn", f"{on} is before the event {window.event_on}")
    day = day_number(window.event_on, on)
    s = state_on(window, on)
    if s is WindowState.OPEN:
        outcome, state, cover_from = FilingOutcome.FULL, WindowState.CONFIRMED, window.opens_at
        reason = f"filed on day {day} (≤ {WINDOW_DAYS}): full cover from {window.opens_at.isoformat()} ({window.source})"
    elif s is WindowState.DOWNGRADED:
        outcome, state, cover_from = FilingOutcome.LIABILITY_ONLY, WindowState.DOWNGRADED, window.opens_at
        reason = (f"filed on day {day} (31 or later) by {window.downgrade_until}: only the liability set "
                  f"({', '.join(window.liability_codes)}) covers the gap ({window.source})")
    else:
        outcome, state, cover_from = FilingOutcome.NONE, WindowState.VOID, None
        limit = window.filing_deadline
        reason = f"filed on {on}, after {limit}: the window gives nothing ({window.source})"
        # A filing that achieves nothing leaves no mark on the window.
        return Filing(replace(window, state=state), outcome, None, day, reason)
    return Filing(replace(window, state=state, filed_on=on, outcome=outcome), outcome, cover_from, day, reason)


def close(window: Window, on: date) -> Window:
    """Close an unfiled window by a decision (report withdrawn, renewal declined, contract ended)."""
    if window.filed_on is not None or window.state.final:
        raise RuleError("WINDOW_NOT_OPEN", "window", f"the window is {window.state.value}")
    if on < window.event_on:
        raise RuleError("DATES_OUT_OF_ORDER", "closedOn", f"{on} is before the event {window.event_on}")
    return replace(window, state=WindowState.CLOSED)


def cover_in_window(window: Window, at: datetime) -> WindowCover:
    """What the window gives an accident at `at` that only the window could cover.

    Outside [opens_at, gap_end) the window says nothing (NONE; the contract's own versions
    decide). Inside: CONFIRMED → FULL; filed late → LIABILITY_SET; unfiled and still fileable
    → PENDING (claims wait as COVERAGE_PENDING); VOID / CLOSED → NONE.
    """
    _aware(at, "at")
    if not window.opens_at <= at < window.gap_end:
        return WindowCover.NONE
    if window.outcome is FilingOutcome.FULL:
        return WindowCover.FULL
    if window.outcome is FilingOutcome.LIABILITY_ONLY:
        return WindowCover.LIABILITY_SET
    if window.state in (WindowState.OPEN, WindowState.DOWNGRADED):
        return WindowCover.PENDING
    return WindowCover.NONE


def due_actions(window: Window) -> tuple[DueAction, ...]:
    """Every timer the worker must store for this window, in time order.

    Grace: reminders on the expiry (at the expiry moment), day 7 and day 23 (09:00 JST), and
    the lapse at the end of day 30. Swap / driver change: the downgrade at the start of day 31
    (or the void, for a product without the liability rule) and the void after expiry + 30.
    A filed or closed window needs nothing more.
    """
    if window.filed_on is not None or window.state.final:
        return ()
    out: list[DueAction] = []
    if window.kind is WindowKind.RENEWAL_GRACE:
        for n, d in zip(GRACE_REMINDER_DAYS, grace_reminder_days(window.event_on), strict=True):
            at = window.opens_at if n == 0 else datetime.combine(d, REMINDER_TIME, tzinfo=JST)
            out.append(DueAction(at, WindowAction.REMIND, f"REMIND:{n}", f"renewal reminder, day {n}"))
        out.append(DueAction(
            _end_of(window.full_until), WindowAction.LAPSE, "LAPSE",
            f"end of day {WINDOW_DAYS} ({window.full_until}): lapsed as of the expiry {window.event_on}",
        ))
    else:
        if window.downgrade_until is not None:
            if window.state is WindowState.OPEN:
                out.append(DueAction(
                    _end_of(window.full_until), WindowAction.DOWNGRADE, "DOWNGRADE",
                    f"day 31 ({window.full_until + timedelta(days=1)}): only the liability set from now on",
                ))
            out.append(DueAction(
                _end_of(window.downgrade_until), WindowAction.VOID, "VOID",
                f"after {window.downgrade_until} (expiry + 30): nothing",
            ))
        else:
            out.append(DueAction(_end_of(window.full_until), WindowAction.VOID, "VOID", f"after day {WINDOW_DAYS}: nothing"))
    return tuple(sorted(out, key=lambda a: a.due_at))
