"""The forgotten-renewal window (継続手続忘れ, SPEC §4.6.1) after it opened: reminders, lapse,
renewal inside it, and declining a renewal.

The expiry batch (domain/services/expiry.py) opens the window. From then on:
- `remind_window` (timer `window.remind`, day 7 and day 23): a RENEWAL_REMINDER event with the
  day and the days left, only while the window is OPEN.
- `lapse_window` (timer `window.lapse`, end of day 30): window VOID, contract LAPSED as of the
  expiry (statuses {EXPIRED, LAPSED}), term LAPSED, a LAPSE transaction and a CONTRACT_LAPSED event.
- `before_renewal` / `after_renewal`: the two calls renew_contract makes. Inside the window
  (day 1..30, premium paid) the new term starts at the old expiry with the same cover, the window
  is CONFIRMED and its timers cancelled, and the new term is marked renewed_in_grace so its own
  expiry opens no window (002b L4158). Day 31 or a lapsed contract: CONTRACT_LAPSED.
- `decline_renewal`: DO_NOT_RENEW (tokio's auto-renewal and every grace window then skip it).

Every function runs inside its caller's transaction and is idempotent: a window that is no longer
OPEN makes reminders and lapses no-ops.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from domain.calendar import JST, RuleError
from domain.lifecycle import Action
from domain.products import default_catalog
from domain.rating_codec import quote_from_json
from domain.services.access import SYSTEM, Actor
from domain.services.contracts.support import (
    allowed,
    change,
    emit,
    expect_version,
    record,
    today,
    visible_contract,
)
from domain.services.contracts.types import ContractChange
from domain.services.errors import refuse
from domain.services.payments.premiums import record_paid_at_binding
from domain.services.reactions import WindowResolved, publish
from domain.services.windows.expiry import ExpiryEvent
from domain.services.windows.timers import cancel_window_timers
from domain.store.contract_repo import (
    Contract,
    Term,
    TermStatus,
    get_contract_for_update,
    lock_contract,
    set_statuses,
    set_term_status,
    terms,
)
from domain.store.outbox import append_events
from domain.store.policy_repo import TransactionKind
from domain.store.uow import JobUnitOfWork, UnitOfWork
from domain.store.version_repo import VersionData
from domain.store.window_repo import StoredWindow, get_window, save_state
from domain.vocab import ContractStatus
from domain.windows import FilingOutcome, Window, WindowKind, WindowState, days_left, file

S = ContractStatus
GRACE_SOURCE = "002b L4153-4160"
# SPEC §4.6.1: a renewal in the window counts only with its premium paid. The API asks the caller
# to confirm it (input.premiumPaid); payments are another part's (payments.premiums) business.
PREMIUM_RULE = "SPEC §4.6.1: renewal completed (and its premium paid) in the window"




# --------------------------------------------------------------------------- worker effects


async def _locked_window(conn: asyncpg.Connection, window_id: int) -> tuple[Contract, StoredWindow] | None:
    """Contract then window, both locked (the order renew_contract takes them)."""
    contract_id = await conn.fetchval("SELECT contract_id FROM windows WHERE id = $1", window_id)
    if contract_id is None:
        return None
    c = await get_contract_for_update(conn, contract_id)
    w = await get_window(conn, window_id, for_update=True)
    if c is None or w is None:
        return None
    return c, w


def reminder_day(timer_key: str) -> int:
    """The reminder's day from its timer key `window:<id>:REMIND:<n>`."""
    return int(timer_key.rsplit(":", 1)[-1])


async def remind_window(conn: asyncpg.Connection, window_id: int, day: int, now: datetime) -> bool:
    """Queue the day-`day` reminder (an outbox event) if the window is still open; answer whether."""
    found = await _locked_window(conn, window_id)
    if found is None:
        return False
    c, sw = found
    w = sw.window
    on = today(now)
    if w.kind is not WindowKind.RENEWAL_GRACE or w.state is not WindowState.OPEN or S.IN_RENEWAL_GRACE not in c.statuses:
        return False
    left = days_left(w, on)
    if left == 0:
        return False  # ran late past day 30: the lapse decides now
    sent = await conn.fetchval(
        """SELECT 1 FROM events WHERE contract_id = $1 AND kind = $2
           AND (payload->>'windowId')::bigint = $3 AND (payload->>'day')::int = $4""",
        c.id, ExpiryEvent.RENEWAL_REMINDER.value, sw.id, day)
    if sent:
        return False  # the same reminder twice (a replayed timer) is still one reminder
    await append_events(JobUnitOfWork(conn), c.id, [(ExpiryEvent.RENEWAL_REMINDER.value, {
        "policyNumber": c.policy_number, "windowId": sw.id, "day": day, "daysLeft": left,
        "fullUntil": w.full_until.isoformat()})], at=now)
    return True


async def lapse_window(conn: asyncpg.Connection, window_id: int, now: datetime, actor: Actor = SYSTEM) -> bool:
    """Day 30 ended unrenewed: window VOID, contract LAPSED as of the expiry. Answer whether it lapsed."""
    found = await _locked_window(conn, window_id)
    if found is None:
        return False
    c, sw = found
    w = sw.window
    if w.kind is not WindowKind.RENEWAL_GRACE or w.state is not WindowState.OPEN:
        return False
    uow = JobUnitOfWork(conn)
    void = replace(w, state=WindowState.VOID)
    await save_state(conn, sw.id, void, now=now, details={"lapsedAt": now.isoformat()})
    await lock_contract(uow, c.id, None)
    statuses = (set(c.statuses) - {S.IN_RENEWAL_GRACE, S.IN_FORCE}) | {S.LAPSED, S.EXPIRED}
    await set_statuses(uow, c.id, statuses)
    await set_term_status(uow, sw.term_id, TermStatus.LAPSED)
    tx = await record(uow, actor, c.id, TransactionKind.LAPSE, now, effective_at=w.opens_at,
                      reason=f"forgotten-renewal window ended on {w.full_until} unrenewed ({GRACE_SOURCE})",
                      idempotency_key=None)
    await emit(uow, c, ExpiryEvent.CONTRACT_LAPSED.value,
               {"windowId": sw.id, "lapsedAsOf": w.opens_at.isoformat(), "fullUntil": w.full_until.isoformat()},
               now, tx)
    await cancel_window_timers(conn, sw.id)
    stored = await get_window(conn, sw.id)
    assert stored is not None
    await publish(uow, WindowResolved(stored), now)
    return True


# --------------------------------------------------------------------------- renewal in the window


@dataclass(frozen=True, slots=True)
class GraceRenewal:
    """A renewal that files the contract's open forgotten-renewal window."""

    window: StoredWindow
    filed: Window
    day: int


async def before_renewal(uow: UnitOfWork, c: Contract, premium_paid: bool, now: datetime) -> GraceRenewal | None:
    """Called by renew_contract before its checks. Refuses a renewal the grace rules forbid;
    answers the window a renewal in grace files (None for an ordinary renewal)."""
    conn = uow.conn
    if S.LAPSED in c.statuses:
        raise refuse("CONTRACT_LAPSED", "input.contractId",
                     "the contract lapsed: the forgotten-renewal window ended unrenewed (002b L4153-4160)")
    ts = await terms(conn, c.id)
    last: Term | None = ts[-1] if ts else None
    if S.EXPIRED in c.statuses and S.IN_RENEWAL_GRACE not in c.statuses and last is not None:
        in_grace = await conn.fetchval("SELECT renewed_in_grace FROM terms WHERE id = $1", last.id)
        product = default_catalog().get(c.product_id)
        if in_grace and product is not None and product.window(WindowKind.RENEWAL_GRACE.product_kind) is not None:
            raise refuse("GRACE_USED_LAST_TERM", "input.contractId",
                         "this term was itself renewed under the forgotten-renewal rider; it cannot be used "
                         "twice in a row, so the expired contract cannot be renewed (002b L4158)")
        return None
    if S.IN_RENEWAL_GRACE not in c.statuses:
        return None
    row = await conn.fetchrow(
        """SELECT id FROM windows WHERE contract_id = $1 AND kind = 'RENEWAL_GRACE' AND state = 'OPEN'
           ORDER BY id DESC LIMIT 1 FOR UPDATE""", c.id)
    if row is None:
        raise refuse("NOT_ALLOWED_IN_STATE", "input.contractId", "no open forgotten-renewal window")
    sw = await get_window(conn, row["id"])
    assert sw is not None
    on = today(now)
    try:
        filing = file(sw.window, on)
    except RuleError as e:
        raise refuse(e.code, "input.contractId", e.message) from None
    if filing.outcome is not FilingOutcome.FULL:
        raise refuse("CONTRACT_LAPSED", "input.contractId",
                     f"day {filing.day} after the expiry: the forgotten-renewal window ended on "
                     f"{sw.window.full_until} (002b L4153-4160)")
    if not premium_paid:
        raise refuse("PREMIUM_NOT_PAID", "input.premiumPaid",
                     "a renewal in the forgotten-renewal window counts only with its premium paid "
                     "(SPEC §4.6.1): confirm it with premiumPaid: true")
    return GraceRenewal(sw, filing.window, filing.day)


def cover_of(data: VersionData) -> tuple[object, ...]:
    """What a renewal in grace must keep: car, coverages and options, riders, age condition,
    driver restriction and who drives (licence colours may be read again)."""
    q = quote_from_json(data.rating_input)
    return (
        data.vehicle_id, data.named_insured_id,
        tuple(sorted((cc.code, cc.option or "") for cc in q.coverages)),
        tuple(sorted(q.riders)), q.age_condition, q.driver_restriction,
        tuple(sorted((d.party_id, d.relationship.value) for d in data.drivers)),
    )


async def after_renewal(uow: UnitOfWork, grace: GraceRenewal | None, c: Contract, old: VersionData,
                        new: VersionData, new_term: Term, tx: int, now: datetime) -> None:
    """Called by renew_contract once the new term is bound: confirm the window it filed."""
    if grace is None:
        return
    if cover_of(old) != cover_of(new):
        # No cover may be raised retroactively over the gap (SPEC §4.6.1): same terms only.
        raise refuse("COVER_CHANGED_IN_GRACE", "input.contractId",
                     "a renewal in the forgotten-renewal window keeps the expired term's cover; "
                     "change it by an endorsement after renewing")
    conn = uow.conn
    await conn.execute("UPDATE terms SET renewed_in_grace = true WHERE id = $1", new_term.id)
    await record_paid_at_binding(uow, SYSTEM, c.id, new_term.id, now.astimezone(JST).date(), now)
    await save_state(conn, grace.window.id, grace.filed, now=now,
                     details={"renewalTermNo": new_term.term_no, "premiumPaid": True, "filedDay": grace.day})
    await cancel_window_timers(conn, grace.window.id)
    await emit(uow, c, "RENEWAL_GRACE_CONFIRMED",
               {"windowId": grace.window.id, "day": grace.day, "termNo": new_term.term_no,
                "startsAt": new_term.starts_at.astimezone(JST).isoformat(), "premiumPaid": True}, now, tx)
    stored = await get_window(conn, grace.window.id)
    assert stored is not None
    await publish(uow, WindowResolved(stored), now)


# --------------------------------------------------------------------------- declining


@dataclass(frozen=True, slots=True)
class DeclineRenewalRequest:
    contract_id: int
    expected_version: int
    reason: str | None = None
    idempotency_key: str | None = None


async def decline_renewal(uow: UnitOfWork, actor: Actor, req: DeclineRenewalRequest, now: datetime) -> ContractChange:
    """The policyholder will not renew: DO_NOT_RENEW. At expiry the contract simply expires
    (no auto-renewal, tokio 004 L1449-1451; no forgotten-renewal window either)."""
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.DECLINE_RENEWAL, c, actor)
    lock = await lock_contract(uow, c.id, req.expected_version)
    statuses = set(c.statuses) | {S.DO_NOT_RENEW}
    await set_statuses(uow, c.id, statuses)
    ts = await terms(uow.conn, c.id)
    term = ts[-1]
    tx = await record(uow, actor, c.id, TransactionKind.DECLINE_RENEWAL, now, effective_at=term.ends_at,
                      reason=req.reason, idempotency_key=req.idempotency_key)
    await emit(uow, c, "RENEWAL_DECLINED", {"termNo": term.term_no, "expiresAt": term.ends_at.isoformat(),
                                            "reason": req.reason}, now, tx)
    return change(c, tx, TransactionKind.DECLINE_RENEWAL, list(statuses), lock, term.term_no, term.ends_at, 0, 0, 0)


__all__ = [
    "DeclineRenewalRequest", "GraceRenewal", "after_renewal", "before_renewal", "cover_of",
    "decline_renewal", "lapse_window", "remind_window", "reminder_day",
]
