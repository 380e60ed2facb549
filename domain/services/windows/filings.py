"""The vehicle-swap and driver-change windows as use cases (SPEC §4.6.2-3, §5).

    report_vehicle_acquisition → a VEHICLE_SWAP window, contract SWAP_PENDING, timers
    file_vehicle_swap          → domain.windows.file: FULL (day ≤ 30): the new car from its
                                 acquisition, extra premium pro-rata from then; LIABILITY_ONLY
                                 (day 31 .. expiry + 30): the swap from the filing day, the gap
                                 under the liability set; later: refused WINDOW_EXPIRED
    approve_vehicle_swap       → staff: approved, SWAP_PENDING dropped
    report_household_event     → a DRIVER_CHANGE window, timers
    confirm_driver_changes     → called by the endorsement: the matching change files the window
    advance_window             → the worker's window.downgrade / window.void timers

The rules live in domain/windows.py; this module reads and writes the rows around them. Each
use case runs in the caller's unit of work (one transaction), locks the contract before the
window (the worker does the same, so the two never deadlock) and raises the contract's lock
version whenever it changes anything of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

import asyncpg

from domain.calendar import JST, RuleError, jst_date
from domain.covered import CoverConditions, DriverFacts, decide_cover
from domain.lifecycle import Action
from domain.rating_codec import quote_from_json
from domain.refunds import pro_rata_delta
from domain.services.access import Actor, can_read_contract
from domain.services.contracts.quote import vehicle_facts
from domain.services.contracts.registrations import ensure_registration_free
from domain.services.contracts.support import (
    LIVE_TERMS,
    allowed,
    emit,
    product_of,
    rated,
    record,
    today,
    version_data,
    visible_contract,
    visible_parties,
    visible_vehicle,
)
from domain.services.errors import Refused, UserError, not_found, refuse
from domain.services.payments.premiums import charge_extra_premium
from domain.services.reactions import DriversChanged, RenewalInputsChanged, WindowResolved, publish
from domain.services.windows.timers import cancel_window_timers, schedule_window_timers
from domain.services.windows.types import (
    HouseholdEventReport,
    VehicleAcquisitionReport,
    VehicleSwapApproval,
    VehicleSwapFiling,
    WindowChange,
)
from domain.store import window_repo
from domain.store.contract_repo import get_contract, get_contract_for_update
from domain.store.outbox import append_events
from domain.store.party_repo import Party, PartyKind, parties_by_id, vehicles_by_id
from domain.store.policy_repo import (
    Contract,
    ContractStatus,
    ContractVersion,
    DriverEntry,
    Term,
    TermStatus,
    append_version,
    lock_contract,
    set_statuses,
    terms,
    version_as_of,
    versions,
)
from domain.store.uow import Executor, UnitOfWork
from domain.store.window_repo import StoredWindow, WindowLinks
from domain.vocab import AgeCondition, DriverRestriction, Relationship
from domain.windows import (
    Filing,
    FilingOutcome,
    HouseholdEvent,
    Window,
    WindowKind,
    WindowRefused,
    WindowState,
    advance,
    file,
    open_driver_change,
    open_vehicle_swap,
)
from domain.windows import Term as WindowTerm

S = ContractStatus


class WindowEvent:
    """Outbox event kinds of the windows (per contract, in order with its other events)."""

    WINDOW_OPENED = "WINDOW_OPENED"
    WINDOW_FILED = "WINDOW_FILED"
    VEHICLE_SWAP_APPROVED = "VEHICLE_SWAP_APPROVED"
    WINDOW_DOWNGRADED = "WINDOW_DOWNGRADED"
    WINDOW_VOIDED = "WINDOW_VOIDED"


class WindowTransaction:
    """Transaction kinds (plain text in the store, like TransactionKind)."""

    REPORT_VEHICLE_ACQUISITION = "REPORT_VEHICLE_ACQUISITION"
    VEHICLE_SWAP = "VEHICLE_SWAP"
    APPROVE_VEHICLE_SWAP = "APPROVE_VEHICLE_SWAP"
    REPORT_HOUSEHOLD_EVENT = "REPORT_HOUSEHOLD_EVENT"


SWAP_DELTA_RULE = "SPEC §4.6.2: extra premium pro-rata by day from the acquisition (002b L4143)"
# Terms an event can fall in: the running ones and one just expired (late filings, §4.6.2-3).
_EVENT_TERMS = LIVE_TERMS | {TermStatus.EXPIRED}
# The relationship a household event usually creates (input may say otherwise).
_EVENT_RELATIONSHIP = {
    HouseholdEvent.MARRIAGE: Relationship.SPOUSE,
    HouseholdEvent.NEW_HOUSEHOLD_MEMBER: Relationship.COHABITING_RELATIVE,
    HouseholdEvent.NEWLY_LICENSED: Relationship.COHABITING_RELATIVE,
}
# Input paths of the fields domain.windows names in its refusals.
_FIELDS = {
    "productId": "input.contractId", "owner": "input.ownerRelationship", "oldCar": "input.oldCar",
    "replacedVehicle": "input.replacedVehicleId", "acquiredOn": "input.acquiredOn",
    "eventOn": "input.eventOn", "event": "input.deFactoPartner", "window": "input.windowId",
    "filedOn": "input.windowId",
}



def _start_of(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=JST)


def _user_errors(e: RuleError) -> Refused:
    problems = e.problems if isinstance(e, WindowRefused) else (e,)
    return Refused(*(UserError(_FIELDS.get(p.field, f"input.{p.field}" if p.field else ""), p.code, p.message)
                     for p in problems))


def _term_of_event(ts: Sequence[Term], on: date) -> Term | None:
    """The earliest term whose days contain `on` (on a renewal day the expiring term: its gap
    starts at 00:00, the next term's only at 16:00); else the nearest, so the rules can say why."""
    live = [t for t in ts if t.status in _EVENT_TERMS]
    if not live:
        return None
    for t in live:
        if jst_date(t.starts_at) <= on <= jst_date(t.ends_at):
            return t
    return live[0] if on < jst_date(live[0].starts_at) else live[-1]


def _window_term(t: Term) -> WindowTerm:
    # Events count from the term's start date: the store keeps no separate conclusion date, and
    # the start is never later than it for a renewal (002b L4114, L4144) — see the decisions.
    return WindowTerm(t.starts_at, t.ends_at)


async def _bump(uow: UnitOfWork, c: Contract, statuses: frozenset[ContractStatus] | None = None) -> int:
    """Raise the contract's lock version (it holds the row lock already); store new statuses."""
    lock = await lock_contract(uow, c.id, None)
    if statuses is not None and statuses != c.statuses:
        await set_statuses(uow, c.id, statuses)
    return lock


def _sorted(statuses: frozenset[ContractStatus]) -> tuple[ContractStatus, ...]:
    return tuple(sorted(statuses, key=lambda s: s.value))


async def _visible_window(uow: UnitOfWork, actor: Actor, window_id: int) -> tuple[StoredWindow, Contract]:
    """The window and its contract, both locked (contract first); another's looks missing."""
    found = await window_repo.get_window(uow.conn, window_id)
    if found is None:
        raise not_found("window", "input.windowId", window_id)
    c = await get_contract_for_update(uow.conn, found.contract_id)
    if c is None or not can_read_contract(actor, c):
        raise not_found("window", "input.windowId", window_id)
    locked = await window_repo.get_window(uow.conn, window_id, for_update=True)
    assert locked is not None
    return locked, c


async def _live_windows(conn: Executor, contract_id: int, kind: WindowKind) -> list[StoredWindow]:
    """Unfiled windows of a kind that a filing can still move, locked."""
    rows = await conn.fetch(
        """SELECT id FROM windows WHERE contract_id = $1 AND kind = $2 AND filed_on IS NULL
             AND state IN ('OPEN', 'DOWNGRADED') ORDER BY id FOR UPDATE""",
        contract_id, kind.value,
    )
    out = []
    for r in rows:
        w = await window_repo.get_window(conn, r["id"])
        assert w is not None
        out.append(w)
    return out


async def _swap_pending_elsewhere(conn: Executor, contract_id: int, window_id: int) -> bool:
    """Another swap window of the contract still waits (not approved, not void or closed)."""
    return bool(await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM windows WHERE contract_id = $1 AND id <> $2
             AND kind = 'VEHICLE_SWAP' AND approved_at IS NULL AND state NOT IN ('VOID', 'CLOSED'))""",
        contract_id, window_id,
    ))


def _result(sw: StoredWindow, w: Window, tx: int, lock: int, statuses: frozenset[ContractStatus],
            **extra: Any) -> WindowChange:
    return WindowChange(window_id=sw.id, contract_id=sw.contract_id, kind=w.kind, state=w.state,
                        transaction_id=tx, lock_version=lock, statuses=_sorted(statuses), **extra)


def _window_payload(sw: StoredWindow, w: Window) -> dict[str, Any]:
    return {"windowId": sw.id, "windowKind": w.kind.value, "state": w.state.value,
            "eventOn": w.event_on.isoformat(), "fullUntil": w.full_until.isoformat(),
            "downgradeUntil": w.downgrade_until.isoformat() if w.downgrade_until else None,
            "outcome": w.outcome.value if w.outcome else None,
            "filedOn": w.filed_on.isoformat() if w.filed_on else None, "source": w.source}


# ------------------------------------------------------------------------------ vehicle swap


async def report_vehicle_acquisition(uow: UnitOfWork, actor: Actor, req: VehicleAcquisitionReport,
                                     now: datetime) -> WindowChange:
    c = await visible_contract(uow, actor, req.contract_id)
    allowed(Action.REPORT_VEHICLE_ACQUISITION, c, actor)
    new_car = await visible_vehicle(uow, actor, req.vehicle_id, "input.vehicleId")
    old_car = await visible_vehicle(uow, actor, req.replaced_vehicle_id, "input.replacedVehicleId")
    if new_car.id == old_car.id:
        raise refuse("SAME_VEHICLE", "input.vehicleId", "the new car is the car it replaces")
    product = product_of(c.product_id, "input.contractId")
    term = _term_of_event(await terms(uow.conn, c.id), req.acquired_on)
    if term is None:
        raise refuse("NOT_ALLOWED_IN_STATE", "input.contractId", "the contract has no term to swap a car in")
    wt = _window_term(term)
    insured = await version_as_of(uow.conn, c.id, max(_start_of(req.acquired_on), term.starts_at))
    owner_kind = None
    if new_car.owner_party_id is not None:
        owner = (await parties_by_id(uow.conn, [new_car.owner_party_id])).get(new_car.owner_party_id)
        owner_kind = owner.kind if owner else None
    try:
        w = open_vehicle_swap(
            req.acquired_on, wt, product, today=today(now), old_car=req.old_car, owner=req.owner_relationship,
            owner_is_corporation=owner_kind is PartyKind.CORPORATION, fleet=req.fleet or c.fleet_id is not None,
            replaces_insured_car=insured is not None and insured.data.vehicle_id == old_car.id,
        )
    except RuleError as e:
        raise _user_errors(e) from None
    # Reported late, the window may already be downgraded; reported after expiry + 30, it is void.
    w = advance(w, today(now))
    if w.state is WindowState.VOID:
        raise refuse("WINDOW_EXPIRED", "input.acquiredOn",
                     f"acquired {req.acquired_on}: the last day to file was {w.filing_deadline} ({w.source})")
    # the new car must be free from its acquisition to the contract's end (the old one is freed then)
    await ensure_registration_free(
        uow, actor, new_car.registration_no, starts_at=max(_start_of(req.acquired_on), term.starts_at),
        ends_at=(await terms(uow.conn, c.id))[-1].ends_at, field="input.vehicleId", contract_id=c.id)
    for other in await _live_windows(uow.conn, c.id, WindowKind.VEHICLE_SWAP):
        if other.links.new_vehicle_id == new_car.id:
            raise refuse("SWAP_ALREADY_REPORTED", "input.vehicleId",
                         f"this car's acquisition is already reported (window {other.id})")
    tx = await record(uow, actor, c.id, WindowTransaction.REPORT_VEHICLE_ACQUISITION, now,  # type: ignore[arg-type]
                      effective_at=w.opens_at, reason=None, idempotency_key=req.idempotency_key)
    sw = await window_repo.insert_window(
        uow.conn, c.id, term.id, w,
        WindowLinks(new_vehicle_id=new_car.id, replaced_vehicle_id=old_car.id, details={
            "oldCar": req.old_car.value, "ownerRelationship": req.owner_relationship.value,
             "fleet": req.fleet or c.fleet_id is not None}),
        now=now,
    )
    await schedule_window_timers(uow.conn, sw)
    statuses = c.statuses | {S.SWAP_PENDING}
    lock = await _bump(uow, c, statuses)
    await emit(uow, c, WindowEvent.WINDOW_OPENED,
               {**_window_payload(sw, w), "vehicleId": new_car.id, "replacedVehicleId": old_car.id}, now, tx)
    return _result(sw, w, tx, lock, statuses, reason=f"window open; full cover if filed by {w.full_until} ({w.source})")


async def _charge(uow: UnitOfWork, c: Contract, ts: Sequence[Term], sw: StoredWindow, transaction_id: int,
                  delta: int, now: datetime) -> None:
    """The filing's extra premium, charged in the term of the filing day (else the window's term);
    the window's cover waits for its payment (002b L4111-4112, L4143)."""
    term = _term_of_event(ts, today(now)) or next(t for t in ts if t.id == sw.term_id)
    await charge_extra_premium(uow, c, term, transaction_id, delta, now)


def _swap_segments(
    affected: Sequence[ContractVersion], ts: Sequence[Term], effective_at: datetime,
) -> list[tuple[ContractVersion, datetime, Term | None]]:
    """Each current version from `effective_at` on, with where its new copy starts and its term."""
    out = []
    for v in affected:
        a = max(v.valid_from, effective_at)
        term = next((t for t in ts if t.starts_at <= a < t.ends_at), None)
        out.append((v, a, term))
    return out


def _segment_delta(old: int, new: int, term: Term | None, a: datetime, b: datetime | None) -> int:
    """Pro-rata by day of the term over [a, b): the extra premium from `a` to the term end minus
    the part from `b` on (b is another version's start inside the same term)."""
    if term is None:
        return 0
    start, end = jst_date(term.starts_at), jst_date(term.ends_at)
    delta = pro_rata_delta(old, new, start, end, jst_date(a))
    if b is not None and b < term.ends_at:
        delta -= pro_rata_delta(old, new, start, end, jst_date(b))
    return delta


async def file_vehicle_swap(uow: UnitOfWork, actor: Actor, req: VehicleSwapFiling, now: datetime) -> WindowChange:
    sw, c = await _visible_window(uow, actor, req.window_id)
    if sw.window.kind is not WindowKind.VEHICLE_SWAP:
        raise refuse("NOT_A_VEHICLE_SWAP", "input.windowId", f"window {sw.id} is a {sw.window.kind.en.lower()} window")
    on = today(now)
    try:
        filing: Filing = file(sw.window, on)
    except RuleError as e:
        raise _user_errors(e) from None
    if filing.outcome is FilingOutcome.NONE:
        raise refuse("WINDOW_EXPIRED", "input.windowId", filing.reason)
    allowed(Action.FILE_VEHICLE_SWAP, c, actor)
    if req.value_yen <= 0:
        raise refuse("INVALID_VALUE", "input.valueYen", "the car's value at acquisition is a positive amount of yen")
    assert sw.links.new_vehicle_id is not None
    new_car = (await vehicles_by_id(uow.conn, [sw.links.new_vehicle_id]))[sw.links.new_vehicle_id]
    cert = req.certificate
    if cert.chassis_no and new_car.chassis_no and cert.chassis_no != new_car.chassis_no:
        raise refuse("CHASSIS_NO_MISMATCH", "input.chassisNo",
                     f"the certificate's chassis number is not the reported car's ({new_car.chassis_no})")
    product = product_of(c.product_id, "input.windowId")
    # FULL: the new car from its acquisition (002b L4142); late: from the filing day on, the gap
    # before it under the liability set only (002b L4149-4151).
    effective_at = sw.window.opens_at if filing.outcome is FilingOutcome.FULL else max(
        _start_of(on), sw.window.opens_at)
    ts = await terms(uow.conn, c.id)
    for number, field in ((new_car.registration_no, "input.windowId"), (cert.registration_no, "input.registrationNo")):
        await ensure_registration_free(uow, actor, number, starts_at=effective_at, ends_at=ts[-1].ends_at,
                                       field=field, contract_id=c.id)
    current = [v for v in await versions(uow.conn, c.id) if v.valid_to is None or v.valid_to > effective_at]
    planned = []
    delta = 0
    for v, a, term in _swap_segments(current, ts, effective_at):
        if term is None:
            continue  # past the last term (a late filing after expiry): the gap was all there was
        q_old = quote_from_json(v.data.rating_input)
        facts = replace(vehicle_facts(new_car, q_old.vehicle.repairability_percent), value=req.value_yen)
        q_new = replace(q_old, vehicle=facts)
        premium = rated(product, q_new)
        seg = _segment_delta(v.data.premium_yen, premium.total, term, a, v.valid_to)
        delta += seg
        planned.append((a, version_data(v.data, q_new, premium, vehicle_id=new_car.id), v, seg))
    tx = await record(
        uow, actor, c.id, WindowTransaction.VEHICLE_SWAP, now, effective_at=effective_at,  # type: ignore[arg-type]
        reason=filing.reason, idempotency_key=req.idempotency_key, delta=delta,
        explanation={"steps": [
            {"name": f"version from {a.isoformat()}: {v.data.premium_yen} → {d.premium_yen} yen", "value": str(seg),
             "rule": SWAP_DELTA_RULE} for a, d, v, seg in planned],
            "outcome": filing.outcome.value, "filingDay": filing.day},
    )
    lock = c.lock_version
    version_ids = []
    for a, data, _v, _seg in planned:
        appended = await append_version(uow, c.id, lock, a, data, recorded_at=now, transaction_id=tx)
        lock = appended.lock_version
        version_ids.append(appended.after.id)
    if not planned:
        lock = await _bump(uow, c)
    w = filing.window
    await window_repo.save_state(uow.conn, sw.id, w, now=now, details={"filing": {
        "registrationNo": cert.registration_no, "chassisNo": cert.chassis_no, "modelCode": cert.model_code,
        "valueYen": req.value_yen, "premiumDeltaYen": delta, "effectiveAt": effective_at.isoformat(),
        "day": filing.day, "transactionId": tx}})
    await cancel_window_timers(uow.conn, sw.id)
    stored = replace(sw, window=w)
    await emit(uow, c, WindowEvent.WINDOW_FILED,
               {**_window_payload(sw, w), "filingDay": filing.day, "premiumDeltaYen": delta,
                "effectiveAt": effective_at.isoformat(), "vehicleId": new_car.id}, now, tx)
    await _charge(uow, c, ts, sw, tx, delta, now)
    await publish(uow, WindowResolved(stored), now)
    await publish(uow, RenewalInputsChanged(c.id, "VEHICLE_SWAP"), now)
    return _result(sw, w, tx, lock, c.statuses, outcome=filing.outcome, filing_day=filing.day,
                   reason=filing.reason, effective_at=effective_at, premium_delta_yen=delta,
                   version_ids=tuple(version_ids))


async def approve_vehicle_swap(uow: UnitOfWork, actor: Actor, req: VehicleSwapApproval, now: datetime) -> WindowChange:
    sw, c = await _visible_window(uow, actor, req.window_id)
    if not actor.sees_everything:
        raise refuse("FORBIDDEN", "input.windowId", "only insurer staff approve a vehicle swap")
    if sw.window.kind is not WindowKind.VEHICLE_SWAP:
        raise refuse("NOT_A_VEHICLE_SWAP", "input.windowId", f"window {sw.id} is a {sw.window.kind.en.lower()} window")
    if sw.approved_at is not None:
        raise refuse("SWAP_ALREADY_APPROVED", "input.windowId",
                     f"approved on {sw.approved_at.isoformat()} by {sw.approved_by}")
    if sw.window.filed_on is None:
        raise refuse("SWAP_NOT_FILED", "input.windowId", "the swap has not been filed; nothing to approve")
    allowed(Action.APPROVE_VEHICLE_SWAP, c, actor)
    tx = await record(uow, actor, c.id, WindowTransaction.APPROVE_VEHICLE_SWAP, now,  # type: ignore[arg-type]
                      effective_at=None, reason=req.note, idempotency_key=req.idempotency_key)
    await window_repo.approve(uow.conn, sw.id, by=actor.subject, now=now)
    statuses = c.statuses
    if not await _swap_pending_elsewhere(uow.conn, c.id, sw.id):
        statuses = statuses - {S.SWAP_PENDING}
    lock = await _bump(uow, c, statuses)
    await emit(uow, c, WindowEvent.VEHICLE_SWAP_APPROVED, {**_window_payload(sw, sw.window), "by": actor.subject},
               now, tx)
    return _result(sw, sw.window, tx, lock, statuses, outcome=sw.window.outcome, reason="swap approved")


# ------------------------------------------------------------------------------ driver change


async def report_household_event(uow: UnitOfWork, actor: Actor, req: HouseholdEventReport,
                                 now: datetime) -> WindowChange:
    c = await visible_contract(uow, actor, req.contract_id)
    allowed(Action.REPORT_HOUSEHOLD_EVENT, c, actor)
    person = (await visible_parties(uow, actor, [(req.party_id, "input.partyId")]))[req.party_id]
    if person.kind is not PartyKind.PERSON or person.birth_date is None:
        raise refuse("PARTY_NOT_A_PERSON", "input.partyId", "a household member is a person with a birth date")
    rel = req.relationship or _EVENT_RELATIONSHIP[req.event]
    if rel in (Relationship.SELF, Relationship.OTHER, Relationship.EMPLOYEE) and req.event is not HouseholdEvent.NEWLY_LICENSED:
        raise refuse("INVALID_RELATIONSHIP", "input.relationship",
                     f"a {req.event.en.lower()} makes a spouse or a relative, not {rel.en.lower()}")
    if req.event is HouseholdEvent.MARRIAGE and rel is not Relationship.SPOUSE:
        raise refuse("INVALID_RELATIONSHIP", "input.relationship", "a marriage makes a spouse")
    product = product_of(c.product_id, "input.contractId")
    term = _term_of_event(await terms(uow.conn, c.id), req.event_on)
    if term is None:
        raise refuse("NOT_ALLOWED_IN_STATE", "input.contractId", "the contract has no term for the event")
    try:
        w = open_driver_change(req.event, req.event_on, _window_term(term), product, today=today(now),
                               de_facto_partner=req.de_facto_partner)
    except RuleError as e:
        raise _user_errors(e) from None
    w = advance(w, today(now))
    if w.state is WindowState.VOID:
        raise refuse("WINDOW_EXPIRED", "input.eventOn",
                     f"event on {req.event_on}: the last day to change was {w.filing_deadline} ({w.source})")
    for other in await _live_windows(uow.conn, c.id, WindowKind.DRIVER_CHANGE):
        if other.links.party_id == person.id:
            raise refuse("WINDOW_ALREADY_OPEN", "input.partyId",
                         f"a driver-change window for this person is already open (window {other.id})")
    tx = await record(uow, actor, c.id, WindowTransaction.REPORT_HOUSEHOLD_EVENT, now,  # type: ignore[arg-type]
                      effective_at=w.opens_at, reason=None, idempotency_key=req.idempotency_key)
    sw = await window_repo.insert_window(
        uow.conn, c.id, term.id, w,
        WindowLinks(party_id=person.id, details={"relationship": rel.value, "deFactoPartner": req.de_facto_partner}),
        now=now,
    )
    await schedule_window_timers(uow.conn, sw)
    lock = await _bump(uow, c)
    await emit(uow, c, WindowEvent.WINDOW_OPENED,
               {**_window_payload(sw, w), "partyId": person.id, "event": req.event.value}, now, tx)
    return _result(sw, w, tx, lock, c.statuses,
                   reason=f"window open; change the cover by {w.full_until} for cover from {req.event_on} ({w.source})")


async def on_drivers_changed(uow: UnitOfWork, event: DriversChanged, now: datetime) -> None:
    """Reaction to an endorsement that changed who may drive: file the windows it covers."""
    await confirm_driver_changes(uow, event.contract, age_condition=event.age_condition,
                                 driver_restriction=event.driver_restriction, drivers=event.drivers,
                                 named_insured=event.named_insured, now=now, transaction_id=event.transaction_id)


async def confirm_driver_changes(
    uow: UnitOfWork, c: Contract, *, age_condition: AgeCondition, driver_restriction: DriverRestriction,
    drivers: Sequence[DriverEntry], named_insured: Party, now: datetime, transaction_id: int,
) -> list[StoredWindow]:
    """After an endorsement: file every open DRIVER_CHANGE window whose person the new
    conditions cover (002b L4110-4123; 001 L857-881). Day ≤ 30: cover from the event; day 31 to
    expiry + 30: the liability set; later the window gives nothing and is left to the worker."""
    live = await _live_windows(uow.conn, c.id, WindowKind.DRIVER_CHANGE)
    if not live:
        return []
    people = await parties_by_id(uow.conn, [w.links.party_id for w in live if w.links.party_id is not None])
    listed = {d.party_id: d.relationship for d in drivers}
    cond = CoverConditions(age_condition, driver_restriction,
                           named_insured_is_corporate=named_insured.kind is PartyKind.CORPORATION)
    on = today(now)
    done = []
    for sw in live:
        p = people.get(sw.links.party_id or -1)
        if p is None or p.birth_date is None:
            continue
        rel = listed.get(p.id) or Relationship(sw.links.details.get("relationship", Relationship.COHABITING_RELATIVE.value))
        if not decide_cover(cond, DriverFacts(rel, p.birth_date), on).covered:
            continue
        filing = file(sw.window, on)
        if filing.outcome is FilingOutcome.NONE:
            continue
        w = filing.window
        await window_repo.save_state(uow.conn, sw.id, w, now=now,
                                     details={"filing": {"day": filing.day, "transactionId": transaction_id}})
        await cancel_window_timers(uow.conn, sw.id)
        delta = int(await uow.conn.fetchval("SELECT premium_delta_yen FROM transactions WHERE id = $1",
                                            transaction_id) or 0)
        stored = replace(sw, window=w)
        await emit(uow, c, WindowEvent.WINDOW_FILED, {**_window_payload(sw, w), "filingDay": filing.day,
                                                      "partyId": p.id}, now, transaction_id)
        await _charge(uow, c, await terms(uow.conn, c.id), sw, transaction_id, delta, now)
        await publish(uow, WindowResolved(stored), now)
        done.append(stored)
    if done:
        await publish(uow, RenewalInputsChanged(c.id, "DRIVER_CHANGE"), now)
    return done


# ------------------------------------------------------------------------------ the worker


async def advance_window(uow: UnitOfWork, window_id: int, due_on: date, now: datetime) -> StoredWindow | None:
    """Move the window to the state the calendar gives it on `due_on` (a window.downgrade or
    window.void timer). Answers the window when it moved, None when nothing changed (a filed or
    closed window, a second run): the timer's effect happens once."""
    found = await window_repo.get_window(uow.conn, window_id)
    if found is None:
        return None
    c = await get_contract_for_update(uow.conn, found.contract_id)
    sw = await window_repo.get_window(uow.conn, window_id, for_update=True)
    assert c is not None and sw is not None
    w = advance(sw.window, due_on)
    if w is sw.window:
        return None
    await window_repo.save_state(uow.conn, sw.id, w, now=now)
    stored = replace(sw, window=w)
    statuses = c.statuses
    if (w.kind is WindowKind.VEHICLE_SWAP and w.state.final and S.SWAP_PENDING in statuses
            and not await _swap_pending_elsewhere(uow.conn, c.id, sw.id)):
        statuses = statuses - {S.SWAP_PENDING}
    await _bump(uow, c, statuses)
    kind = WindowEvent.WINDOW_VOIDED if w.state is WindowState.VOID else WindowEvent.WINDOW_DOWNGRADED
    await append_events(uow, c.id, [(kind, {"policyNumber": c.policy_number, **_window_payload(sw, w),
                                            "dueOn": due_on.isoformat()})], at=now)
    await publish(uow, WindowResolved(stored), now)
    return stored


# ------------------------------------------------------------------------------ reads


async def windows_of_contracts(pool: asyncpg.Pool | Executor, contract_ids: list[int]) -> dict[int, list[StoredWindow]]:
    """Windows of contracts the caller already may see (the DataLoader of Contract.windows)."""
    return await window_repo.windows_of_contracts(pool, contract_ids)


async def window_visible(pool: Executor, actor: Actor | None, window_id: int) -> StoredWindow | None:
    sw = await window_repo.get_window(pool, window_id)
    if sw is None:
        return None
    c = await get_contract(pool, sw.contract_id)
    return sw if c is not None and can_read_contract(actor, c) else None


__all__ = [
    "WindowEvent",
    "WindowTransaction",
    "advance_window",
    "approve_vehicle_swap",
    "confirm_driver_changes",
    "file_vehicle_swap",
    "report_household_event",
    "report_vehicle_acquisition",
    "window_visible",
    "windows_of_contracts",
]
