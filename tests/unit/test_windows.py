"""The 30-day windows: forgotten renewal, vehicle swap, driver change (SPEC §4.6, 002b §6.3-6.5, 001 §6.3)."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domain.products as products_pkg
from domain.calendar import JST, RuleError, cover_moment
from domain.products.loader import ProductFileError, default_catalog, parse_product
from domain.products.model import Product
from domain.products.model import WindowKind as ProductWindowKind
from domain.vocab import Relationship
from domain.windows import (
    FilingOutcome,
    HouseholdEvent,
    OldCarFate,
    Term,
    Window,
    WindowAction,
    WindowCover,
    WindowKind,
    WindowRefused,
    WindowState,
    advance,
    close,
    cover_in_window,
    days_left,
    due_actions,
    file,
    grace_reminder_days,
    liability_set,
    open_driver_change,
    open_renewal_grace,
    open_vehicle_swap,
    state_on,
)

AIOI = "aioi-tough-biz"
RAKUTEN = "rakuten-drive-assist"
TOKIO = "tokio-total-assist-group"
KYOSAI = "kyosai-accident-expense"


def product(pid: str) -> Product:
    p = default_catalog().get(pid)
    assert p is not None
    return p


# a one-year term 2025-10-01 16:00 → 2026-10-01 16:00
TERM = Term(cover_moment(date(2025, 10, 1)), cover_moment(date(2026, 10, 1)))
TODAY = date(2026, 9, 1)


def swap(acquired: date = date(2026, 4, 1), pid: str = AIOI, term: Term = TERM, today: date = TODAY, **kw: object) -> Window:
    facts: dict[str, object] = {"old_car": OldCarFate.SCRAPPED, "owner": Relationship.SELF}
    facts.update(kw)
    return open_vehicle_swap(acquired, term, product(pid), today=today, **facts)  # type: ignore[arg-type]


def jst(y: int, m: int, d: int, h: int = 0) -> datetime:
    return datetime(y, m, d, h, tzinfo=JST)


# ------------------------------------------------------------------------------- vehicle swap


def test_spec_example_day_30_in_time_day_31_late() -> None:
    # SPEC §4.1: acquired 2026-04-01 → filed 2026-05-01 in time, 2026-05-02 is day 31.
    w = swap(date(2026, 4, 1))
    assert w.full_until == date(2026, 5, 1)                      # 002b L4142 「30日以内」
    in_time = file(w, date(2026, 5, 1))
    assert in_time.outcome is FilingOutcome.FULL and in_time.day == 30
    assert in_time.window.state is WindowState.CONFIRMED
    assert in_time.cover_from == jst(2026, 4, 1)                 # from the acquisition date (002b L4142-4143)
    late = file(w, date(2026, 5, 2))
    assert late.outcome is FilingOutcome.LIABILITY_ONLY and late.day == 31   # 002b L4149 「31日目以後」
    assert late.window.state is WindowState.DOWNGRADED and late.window.filed_on == date(2026, 5, 2)


def test_swap_after_expiry_plus_30_gives_nothing() -> None:
    # 002b L4151: filed more than 30 days after the day after expiry → nothing.
    w = swap(date(2026, 9, 1))
    assert w.downgrade_until == date(2026, 10, 31)
    assert file(w, date(2026, 10, 31)).outcome is FilingOutcome.LIABILITY_ONLY
    nothing = file(w, date(2026, 11, 1))
    assert nothing.outcome is FilingOutcome.NONE and nothing.cover_from is None
    assert nothing.window.state is WindowState.VOID and nothing.window.filed_on is None


def test_swap_states_along_the_calendar() -> None:
    w = swap(date(2026, 4, 1))
    assert state_on(w, date(2026, 4, 1)) is WindowState.OPEN
    assert state_on(w, date(2026, 5, 1)) is WindowState.OPEN         # day 30
    assert state_on(w, date(2026, 5, 2)) is WindowState.DOWNGRADED   # day 31 (002b L4149)
    assert state_on(w, date(2026, 10, 31)) is WindowState.DOWNGRADED  # expiry + 30
    assert state_on(w, date(2026, 11, 1)) is WindowState.VOID        # 002b L4151
    assert advance(w, date(2026, 5, 2)).state is WindowState.DOWNGRADED
    assert advance(w, date(2026, 4, 2)) is w


def test_swap_due_actions() -> None:
    w = swap(date(2026, 4, 1))
    acts = due_actions(w)
    assert [(a.action, a.due_at) for a in acts] == [
        (WindowAction.DOWNGRADE, jst(2026, 5, 2)),      # start of day 31
        (WindowAction.VOID, jst(2026, 11, 1)),          # after expiry + 30
    ]
    assert [a.key for a in acts] == ["DOWNGRADE", "VOID"]
    assert due_actions(file(w, date(2026, 4, 10)).window) == ()
    downgraded = advance(w, date(2026, 5, 2))
    assert [a.action for a in due_actions(downgraded)] == [WindowAction.VOID]


def test_days_left() -> None:
    w = swap(date(2026, 4, 1))
    assert days_left(w, date(2026, 4, 1)) == 31      # event day itself, then days 1..30
    assert days_left(w, date(2026, 5, 1)) == 1       # day 30: today is the last day
    assert days_left(w, date(2026, 5, 2)) == (date(2026, 10, 31) - date(2026, 5, 2)).days + 1
    assert days_left(w, date(2026, 11, 1)) == 0
    assert days_left(file(w, date(2026, 4, 2)).window, date(2026, 4, 3)) == 0


def test_cover_in_window() -> None:
    w = swap(date(2026, 4, 1))
    accident = jst(2026, 4, 20, 10)
    assert cover_in_window(w, accident) is WindowCover.PENDING
    assert cover_in_window(w, jst(2026, 3, 31, 23)) is WindowCover.NONE      # before the acquisition
    assert cover_in_window(w, cover_moment(date(2026, 10, 1))) is WindowCover.NONE  # at/after the term's end
    assert cover_in_window(file(w, date(2026, 5, 1)).window, accident) is WindowCover.FULL
    assert cover_in_window(file(w, date(2026, 5, 2)).window, accident) is WindowCover.LIABILITY_SET
    assert cover_in_window(advance(w, date(2026, 5, 2)), accident) is WindowCover.PENDING   # late filing may still come
    assert cover_in_window(advance(w, date(2026, 11, 1)), accident) is WindowCover.NONE
    assert cover_in_window(close(w, date(2026, 4, 5)), accident) is WindowCover.NONE


def test_liability_set_codes_per_product() -> None:
    # SPEC §4.6.2 / 002b L4149-4151, L4120-4122: 対人, 対人臨時費用, 対物, 対物超過修理費用, the two
    # victim-relief riders and 遠隔地被害者臨時費用特約.
    expected = ("BI", "TEMPORARY_BI_EXPENSE", "PD", "EXCESS_REPAIR", "VICTIM_RELIEF_HACKING",
                "VICTIM_RELIEF_INCAPACITY", "REMOTE_VICTIM_EXPENSE")
    assert liability_set(product(AIOI), WindowKind.VEHICLE_SWAP) == expected
    assert liability_set(product(AIOI), WindowKind.DRIVER_CHANGE) == expected
    assert swap().liability_codes == liability_set(product(AIOI), WindowKind.VEHICLE_SWAP)
    # 001 L869, L881: 対人・対物賠償事故に限り(対物超過修理費用補償特約を含みます); 対人臨時費用 is part of BI (001 L1086)
    assert liability_set(product(RAKUTEN), WindowKind.DRIVER_CHANGE) == ("BI", "TEMPORARY_BI_EXPENSE", "PD", "EXCESS_REPAIR")
    assert liability_set(product(RAKUTEN), WindowKind.VEHICLE_SWAP) == ()
    assert liability_set(product(AIOI), WindowKind.RENEWAL_GRACE) == ()


def test_swap_eligibility_errors_all_reported() -> None:
    with pytest.raises(WindowRefused) as e:
        swap(date(2026, 4, 1), old_car=OldCarFate.KEPT, owner=Relationship.OTHER, replaces_insured_car=False)
    codes = [p.code for p in e.value.problems]
    assert codes == ["OWNER_NOT_ELIGIBLE", "OLD_CAR_NOT_DISPOSED", "CAR_NOT_INSURED"]
    assert e.value.code == "OWNER_NOT_ELIGIBLE"


@pytest.mark.parametrize(("kw", "code"), [
    ({"old_car": None}, "OLD_CAR_NOT_DISPOSED"),
    ({"owner": Relationship.UNMARRIED_CHILD_APART}, "OWNER_NOT_ELIGIBLE"),
    ({"owner": None}, "OWNER_NOT_ELIGIBLE"),
    ({"fleet": True, "owner_is_corporation": True}, "CORPORATE_FLEET_EXCLUDED"),   # 002b L4147
])
def test_swap_eligibility(kw: dict[str, object], code: str) -> None:
    with pytest.raises(WindowRefused) as e:
        swap(**kw)  # type: ignore[arg-type]
    assert code in [p.code for p in e.value.problems]


@pytest.mark.parametrize("fate", [OldCarFate.SCRAPPED, OldCarFate.TRANSFERRED, OldCarFate.RETURNED_TO_LESSOR])
def test_swap_old_car_disposed_ways(fate: OldCarFate) -> None:
    # 002b L4141: 廃車・譲渡・リース業者へ返還
    assert swap(old_car=fate).state is WindowState.OPEN


def test_swap_owner_spouse_or_relative_and_non_fleet_corporation() -> None:
    assert swap(owner=Relationship.SPOUSE).state is WindowState.OPEN
    assert swap(owner=Relationship.COHABITING_RELATIVE).state is WindowState.OPEN
    # a company named insured owning its car, non-fleet: eligible (only corporate-owned fleets are out)
    assert swap(owner=Relationship.SELF, owner_is_corporation=True).state is WindowState.OPEN


def test_swap_acquisition_dates() -> None:
    with pytest.raises(WindowRefused) as e:
        swap(date(2026, 9, 2), today=date(2026, 9, 1))
    assert e.value.code == "ACQUISITION_IN_FUTURE"
    with pytest.raises(WindowRefused) as e:
        swap(date(2025, 9, 30))
    assert e.value.code == "ACQUISITION_BEFORE_CONTRACT"
    with pytest.raises(WindowRefused) as e:
        swap(date(2026, 10, 2), today=date(2026, 10, 5))
    assert e.value.code == "ACQUISITION_AFTER_TERM"
    # events count from the conclusion date when given (002b L4141) ...
    concluded_early = Term(TERM.start_at, TERM.end_at, events_from=date(2025, 9, 15))
    w = swap(date(2025, 9, 20), term=concluded_early)
    # ... but cover never starts before the term does
    assert w.opens_at == TERM.start_at


def test_swap_not_offered_by_products_without_it() -> None:
    for pid in (RAKUTEN, TOKIO, KYOSAI):
        with pytest.raises(WindowRefused) as e:
            swap(pid=pid)
        assert e.value.code == "VEHICLE_SWAP_NOT_OFFERED"


def test_refiling_and_closed_windows_are_refused() -> None:
    w = swap(date(2026, 4, 1))
    done = file(w, date(2026, 4, 10)).window
    with pytest.raises(RuleError) as e:
        file(done, date(2026, 4, 11))
    assert e.value.code == "WINDOW_ALREADY_FILED"
    closed = close(w, date(2026, 4, 3))
    assert closed.state is WindowState.CLOSED and due_actions(closed) == ()
    with pytest.raises(RuleError) as e:
        file(closed, date(2026, 4, 11))
    assert e.value.code == "WINDOW_CLOSED"
    with pytest.raises(RuleError) as e:
        close(closed, date(2026, 4, 4))
    assert e.value.code == "WINDOW_NOT_OPEN"
    with pytest.raises(RuleError) as e:
        file(w, date(2026, 3, 31))
    assert e.value.code == "FILED_BEFORE_EVENT"


def test_term_validation() -> None:
    with pytest.raises(RuleError) as e:
        Term(datetime(2026, 1, 1, 16), cover_moment(date(2027, 1, 1)))
    assert e.value.code == "NAIVE_DATETIME"
    with pytest.raises(RuleError) as e:
        Term(cover_moment(date(2027, 1, 1)), cover_moment(date(2026, 1, 1)))
    assert e.value.code == "DATES_OUT_OF_ORDER"


# ------------------------------------------------------------------------------- driver change


def test_driver_change_window_rakuten_and_aioi() -> None:
    # 001 L867-869: within 30 days counting from the day after → as if in scope; day 31 until
    # expiry + 30 → BI / PD only.
    w = open_driver_change(HouseholdEvent.NEWLY_LICENSED, date(2026, 6, 10), TERM, product(RAKUTEN), today=TODAY)
    assert w.kind is WindowKind.DRIVER_CHANGE and w.event is HouseholdEvent.NEWLY_LICENSED
    assert w.full_until == date(2026, 7, 10)
    assert w.downgrade_until == date(2026, 10, 31)
    assert file(w, date(2026, 7, 10)).outcome is FilingOutcome.FULL
    assert file(w, date(2026, 7, 11)).outcome is FilingOutcome.LIABILITY_ONLY
    assert file(w, date(2026, 11, 1)).outcome is FilingOutcome.NONE
    a = open_driver_change(HouseholdEvent.NEW_HOUSEHOLD_MEMBER, date(2026, 6, 10), TERM, product(AIOI), today=TODAY)
    # 002b L4120-4122: the same day-31 / expiry+30 rule
    assert state_on(a, date(2026, 7, 11)) is WindowState.DOWNGRADED
    assert state_on(a, date(2026, 11, 1)) is WindowState.VOID


def test_teenager_crash_day_10_and_day_40() -> None:
    # issue 5 scenario: a newly licensed teenager crashes on day 10 and on day 40.
    w = open_driver_change(HouseholdEvent.NEWLY_LICENSED, date(2026, 4, 1), TERM, product(AIOI), today=TODAY)
    day10, day40 = jst(2026, 4, 11, 18), jst(2026, 5, 11, 18)
    filed_day_12 = file(w, date(2026, 4, 13)).window
    assert cover_in_window(filed_day_12, day10) is WindowCover.FULL
    filed_day_41 = file(w, date(2026, 5, 12)).window
    assert cover_in_window(filed_day_41, day40) is WindowCover.LIABILITY_SET


def test_driver_change_de_facto_partner() -> None:
    # 002b L4115-4116 (注2): a de-facto / same-sex partner is not a "spouse" for aioi's triggers.
    with pytest.raises(WindowRefused) as e:
        open_driver_change(HouseholdEvent.MARRIAGE, date(2026, 6, 1), TERM, product(AIOI), today=TODAY, de_facto_partner=True)
    assert e.value.code == "DE_FACTO_PARTNER_NOT_ELIGIBLE"
    # rakuten's page does not say so
    w = open_driver_change(HouseholdEvent.MARRIAGE, date(2026, 6, 1), TERM, product(RAKUTEN), today=TODAY, de_facto_partner=True)
    assert w.state is WindowState.OPEN


def test_driver_change_refusals() -> None:
    for pid in (TOKIO, KYOSAI):
        with pytest.raises(WindowRefused) as e:
            open_driver_change(HouseholdEvent.NEWLY_LICENSED, date(2026, 6, 1), TERM, product(pid), today=TODAY)
        assert e.value.code == "DRIVER_CHANGE_NOT_OFFERED"
    with pytest.raises(WindowRefused) as e:
        open_driver_change(HouseholdEvent.NEWLY_LICENSED, date(2026, 9, 2), TERM, product(AIOI), today=TODAY)
    assert e.value.code == "EVENT_IN_FUTURE"
    with pytest.raises(WindowRefused) as e:
        open_driver_change(HouseholdEvent.NEWLY_LICENSED, date(2025, 9, 1), TERM, product(AIOI), today=TODAY)
    assert e.value.code == "EVENT_BEFORE_CONTRACT"


# ------------------------------------------------------------------------------- renewal grace


EXPIRY = cover_moment(date(2026, 4, 1))


def test_grace_window_days() -> None:
    # 002b L4161: within 30 days counting from the day after the expiry date.
    w = open_renewal_grace(EXPIRY, product(AIOI), previous_was_grace=False)
    assert w.kind is WindowKind.RENEWAL_GRACE and w.kind.product_kind is ProductWindowKind.FORGOTTEN_RENEWAL
    assert w.opens_at == EXPIRY and w.event_on == date(2026, 4, 1)
    assert w.full_until == date(2026, 5, 1)
    assert w.downgrade_until is None and w.liability_codes == ()
    assert state_on(w, date(2026, 5, 1)) is WindowState.OPEN
    assert state_on(w, date(2026, 5, 2)) is WindowState.VOID    # lapsed as of the expiry


def test_grace_renewal_inside_the_window_starts_at_the_old_expiry() -> None:
    w = open_renewal_grace(EXPIRY, product(AIOI), previous_was_grace=False)
    renewed = file(w, date(2026, 4, 30))          # day 29
    assert renewed.outcome is FilingOutcome.FULL and renewed.day == 29
    assert renewed.cover_from == EXPIRY            # new term starts at the old expiry (002b L4161-4162)
    gap_claim = jst(2026, 4, 15, 12)
    assert cover_in_window(w, gap_claim) is WindowCover.PENDING           # held COVERAGE_PENDING
    assert cover_in_window(renewed.window, gap_claim) is WindowCover.FULL
    assert file(w, date(2026, 5, 1)).outcome is FilingOutcome.FULL       # day 30
    late = file(w, date(2026, 5, 2))                                       # day 31
    assert late.outcome is FilingOutcome.NONE and late.window.state is WindowState.VOID
    assert cover_in_window(late.window, gap_claim) is WindowCover.NONE
    assert cover_in_window(w, EXPIRY - timedelta(seconds=1)) is WindowCover.NONE   # still the old term


def test_grace_reminders_and_lapse() -> None:
    # SPEC §4.6.1: reminders on expiry, day 7 and day 23; lapse at the end of day 30.
    assert grace_reminder_days(date(2026, 4, 1)) == (date(2026, 4, 1), date(2026, 4, 8), date(2026, 4, 24))
    w = open_renewal_grace(EXPIRY, product(AIOI), previous_was_grace=False)
    acts = due_actions(w)
    assert [(a.action, a.due_at, a.key) for a in acts] == [
        (WindowAction.REMIND, EXPIRY, "REMIND:0"),
        (WindowAction.REMIND, jst(2026, 4, 8, 9), "REMIND:7"),
        (WindowAction.REMIND, jst(2026, 4, 24, 9), "REMIND:23"),
        (WindowAction.LAPSE, jst(2026, 5, 2), "LAPSE"),
    ]
    assert due_actions(w) == acts     # deterministic: the worker can recompute timers


def test_grace_not_twice_in_a_row() -> None:
    # 002b L4158: ※この特約は、2回連続して適用することはできません。
    with pytest.raises(WindowRefused) as e:
        open_renewal_grace(EXPIRY, product(AIOI), previous_was_grace=True)
    assert e.value.code == "GRACE_USED_LAST_TERM"
    with pytest.raises(WindowRefused) as e:
        open_renewal_grace(EXPIRY, product(AIOI), previous_was_grace=False, fleet=True)
    assert e.value.code == "RENEWAL_GRACE_NON_FLEET_ONLY"


@pytest.mark.parametrize("pid", [RAKUTEN, TOKIO, KYOSAI])
def test_products_without_the_rider_simply_expire(pid: str) -> None:
    with pytest.raises(WindowRefused) as e:
        open_renewal_grace(EXPIRY, product(pid), previous_was_grace=False)
    assert e.value.code == "RENEWAL_GRACE_NOT_OFFERED"


def test_grace_needs_an_aware_expiry() -> None:
    with pytest.raises(RuleError) as e:
        open_renewal_grace(datetime(2026, 4, 1, 16), product(AIOI), previous_was_grace=False)
    assert e.value.code == "NAIVE_DATETIME"


def test_labels() -> None:
    assert WindowKind.RENEWAL_GRACE.ja == "継続手続忘れ"
    assert WindowState.DOWNGRADED.en.startswith("Downgraded")
    assert WindowState.CONFIRMED.final and not WindowState.DOWNGRADED.final


# ------------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 364), st.integers(0, 450))
def test_filing_outcome_follows_the_day_count(event_offset: int, filed_after: int) -> None:
    event = date(2025, 10, 1) + timedelta(days=event_offset)
    w = swap(event, today=event)
    on = event + timedelta(days=filed_after)
    f = file(w, on)
    expected = (
        FilingOutcome.FULL if filed_after <= 30
        else FilingOutcome.LIABILITY_ONLY if on <= date(2026, 10, 31)
        else FilingOutcome.NONE
    )
    assert f.outcome is expected
    assert f.day == filed_after
    # the stored state never goes back: OPEN → DOWNGRADED → VOID
    order = [WindowState.OPEN, WindowState.DOWNGRADED, WindowState.VOID]
    states = [state_on(w, event + timedelta(days=d)) for d in (0, filed_after, filed_after + 1, 500)]
    idx = [order.index(s) for s in states]
    assert idx == sorted(idx)
    assert days_left(w, on) >= 0


# ------------------------------------------------------------------------------- product file fields


def _aioi_doc() -> dict[str, object]:
    path = Path(products_pkg.__file__).parent / "aioi-tough-biz.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def test_product_file_checks_liability_set_and_window_kinds() -> None:
    doc = _aioi_doc()
    windows = doc["windows"]
    assert isinstance(windows, list)
    windows[1]["liability_set"] = ["BI", "NOT_A_RIDER"]
    with pytest.raises(ProductFileError, match="liability_set"):
        parse_product(doc)
    doc = _aioi_doc()
    windows = doc["windows"]
    assert isinstance(windows, list)
    windows.append(dict(windows[0]))
    with pytest.raises(ProductFileError, match="declared twice"):
        parse_product(doc)


def test_product_renewal_settings() -> None:
    assert product(AIOI).renewal.offer_days_before == 60 and product(AIOI).renewal.auto_renew_rider is None
    assert product(TOKIO).renewal.auto_renew_rider == "RENEWAL"      # 004 L1449 更新バックアップ
    doc = _aioi_doc()
    doc["renewal"] = {"offer_days_before": 45, "auto_renew_rider": "NO_SUCH_RIDER"}
    with pytest.raises(ProductFileError, match="auto_renew_rider"):
        parse_product(doc)
    doc["renewal"] = {"offer_days_before": 45}
    assert parse_product(doc).renewal.offer_days_before == 45
