"""Endorse: a new version re-rated from the stored `QuoteInput` with the changes applied.

Endorsements take effect at 16:00 JST of the effective date (the same instant terms start and
end), inside the term containing it; the premium delta is pro-rata by day from the effective date
to the term end (SPEC §4.3; no pamphlet gives a mid-term method, notes/001.md L1061).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.calendar import cover_moment, jst_date
from domain.lifecycle import Action
from domain.rating import CoverageChoice, QuoteInput
from domain.rating_codec import quote_from_json
from domain.refunds import pro_rata_delta
from domain.services.access import Actor
from domain.services.contracts.quote import check_drivers, named_insured_facts
from domain.services.contracts.support import (
    LIVE_TERMS,
    EventKind,
    allowed,
    change,
    emit,
    expect_version,
    product_of,
    rated,
    record,
    steps,
    today,
    version_data,
    visible_contract,
    visible_parties,
)
from domain.services.contracts.types import (
    ContractChange,
    DriverAction,
    EndorseChanges,
    EndorseRequest,
    FieldChange,
)
from domain.services.errors import refuse
from domain.services.reactions import DriversChanged, publish
from domain.store.party_repo import Party, PartyKind, parties_by_id
from domain.store.policy_repo import (
    ContractStatus,
    DriverEntry,
    TransactionKind,
    append_version,
    lock_contract,
    terms,
    versions,
)
from domain.store.uow import UnitOfWork
from domain.vocab import Relationship

S = ContractStatus
DELTA_RULE = "SPEC §4.3 daily pro-rata (no pamphlet method, notes/001.md L1061), truncated toward zero"



def _show(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _driver_text(d: DriverEntry) -> str:
    return f"{d.relationship.value} {d.licence_colour.value}"


def _entry(p: Party, rel: Relationship, field: str) -> DriverEntry:
    if p.kind is not PartyKind.PERSON or p.birth_date is None:
        raise refuse("DRIVER_NOT_A_PERSON", field, "a driver is a person with a birth date")
    if p.licence_colour is None:
        raise refuse("LICENCE_REQUIRED", field, f"party {p.id} has no licence registered")
    return DriverEntry(p.id, rel, p.licence_colour, p.licence_date)


def _apply_coverages(q: QuoteInput, ch: EndorseChanges, diffs: list[FieldChange]) -> QuoteInput:
    covs = list(q.coverages)
    for i, cc in enumerate(ch.coverages):
        at = next((k for k, c in enumerate(covs) if c.code == cc.code), None)
        field = f"input.changes.coverages[{i}].code"
        if cc.remove:
            if at is None:
                raise refuse("COVERAGE_NOT_PRESENT", field, f"the contract has no coverage {cc.code}")
            diffs.append(FieldChange(f"coverages.{cc.code}", covs[at].option or "default", None))
            del covs[at]
        elif at is None:
            covs.append(CoverageChoice(cc.code, cc.option))
            diffs.append(FieldChange(f"coverages.{cc.code}", None, cc.option or "default"))
        elif covs[at].option != cc.option:
            diffs.append(FieldChange(f"coverages.{cc.code}", covs[at].option or "default", cc.option or "default"))
            covs[at] = CoverageChoice(cc.code, cc.option)
    return replace(q, coverages=tuple(covs))


def _apply_riders(q: QuoteInput, ch: EndorseChanges, diffs: list[FieldChange]) -> QuoteInput:
    riders = list(q.riders)
    for i, code in enumerate(ch.riders_remove):
        if code not in riders:
            raise refuse("RIDER_NOT_PRESENT", f"input.changes.ridersRemove[{i}]",
                         f"{code} is not a chosen rider (automatic riders follow their coverages)")
        riders.remove(code)
        diffs.append(FieldChange(f"riders.{code}", "present", None))
    for i, code in enumerate(ch.riders_add):
        if code in riders:
            raise refuse("RIDER_ALREADY_PRESENT", f"input.changes.ridersAdd[{i}]", f"{code} is already chosen")
        riders.append(code)
        diffs.append(FieldChange(f"riders.{code}", None, "present"))
    return replace(q, riders=tuple(riders))


async def endorse_contract(uow: UnitOfWork, actor: Actor, req: EndorseRequest, now: datetime) -> ContractChange:
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.ENDORSE, c, actor)
    if req.effective_date < today(now) and not actor.sees_everything:
        raise refuse("EFFECTIVE_DATE_IN_PAST", "input.effectiveDate", "only insurer staff back-date a change")
    at = cover_moment(req.effective_date)
    term = next((t for t in await terms(uow.conn, c.id)
                 if t.status in LIVE_TERMS and t.starts_at <= at < t.ends_at), None)
    if term is None:
        raise refuse("EFFECTIVE_DATE_OUTSIDE_TERM", "input.effectiveDate",
                     f"{req.effective_date} is not inside a current term (from its start, before its end)")
    current = await versions(uow.conn, c.id)
    v = next((x for x in current if x.in_force_at(at)), None)
    if v is None:
        raise refuse("EFFECTIVE_DATE_OUTSIDE_TERM", "input.effectiveDate", f"nothing is insured at {at.isoformat()}")
    if any(at < x.valid_from < term.ends_at for x in current):
        # A change before a later change of the same term would have to be merged into it.
        raise refuse("EFFECTIVE_DATE_BEFORE_LAST_CHANGE", "input.effectiveDate",
                     "a later change of this term already exists; endorse from its date or later")
    product = product_of(c.product_id, "input.contractId")
    ch = req.changes
    old_q = quote_from_json(v.data.rating_input)
    q = old_q
    diffs: list[FieldChange] = []

    refs: list[tuple[int, str]] = []
    if ch.named_insured_id is not None:
        refs.append((ch.named_insured_id, "input.changes.namedInsuredId"))
    refs += [(d.party_id, f"input.changes.drivers[{i}].partyId") for i, d in enumerate(ch.drivers)
             if d.action is not DriverAction.REMOVE]
    parties = await visible_parties(uow, actor, refs)
    on_contract = [v.data.named_insured_id, c.policyholder_id, *(d.party_id for d in v.data.drivers)]
    parties.update(await parties_by_id(uow.conn, [p for p in on_contract if p not in parties]))

    ni_id = v.data.named_insured_id
    if ch.named_insured_id is not None and ch.named_insured_id != ni_id:
        diffs.append(FieldChange("namedInsuredId", str(ni_id), str(ch.named_insured_id)))
        ni_id = ch.named_insured_id
        q = replace(q, named_insured=named_insured_facts(parties[ni_id]))

    drivers = {d.party_id: d for d in v.data.drivers}
    for i, dc in enumerate(ch.drivers):
        field = f"input.changes.drivers[{i}]"
        listed = drivers.get(dc.party_id)
        if dc.action is DriverAction.REMOVE:
            if listed is None:
                raise refuse("DRIVER_NOT_LISTED", f"{field}.partyId", f"party {dc.party_id} is not a driver")
            del drivers[dc.party_id]
            diffs.append(FieldChange(f"drivers.{dc.party_id}", _driver_text(listed), None))
            continue
        if dc.action is DriverAction.ADD and listed is not None:
            raise refuse("DUPLICATE_DRIVER", f"{field}.partyId", f"party {dc.party_id} is already a driver")
        if dc.action is DriverAction.CHANGE and listed is None:
            raise refuse("DRIVER_NOT_LISTED", f"{field}.partyId", f"party {dc.party_id} is not a driver")
        rel = dc.relationship or (listed.relationship if listed else None)
        if rel is None:
            raise refuse("RELATIONSHIP_REQUIRED", f"{field}.relationship", "a new driver needs a relationship")
        entry = _entry(parties[dc.party_id], rel, f"{field}.partyId")
        if entry != listed:
            diffs.append(FieldChange(f"drivers.{dc.party_id}", _driver_text(listed) if listed else None,
                                     _driver_text(entry)))
        drivers[dc.party_id] = entry
    for pid, d in drivers.items():
        if (d.relationship is Relationship.SELF) != (pid == ni_id):
            raise refuse("INVALID_RELATIONSHIP", "input.changes.drivers",
                         "SELF is the named insured, and the named insured is SELF")

    if ch.age_condition is not None and ch.age_condition is not q.age_condition:
        diffs.append(FieldChange("ageCondition", _show(q.age_condition), _show(ch.age_condition)))
        q = replace(q, age_condition=ch.age_condition)
    if ch.driver_restriction is not None and ch.driver_restriction is not q.driver_restriction:
        diffs.append(FieldChange("driverRestriction", _show(q.driver_restriction), _show(ch.driver_restriction)))
        q = replace(q, driver_restriction=ch.driver_restriction)
    if ch.use_purpose is not None and ch.use_purpose is not q.use_purpose:
        diffs.append(FieldChange("usePurpose", _show(q.use_purpose), _show(ch.use_purpose)))
        q = replace(q, use_purpose=ch.use_purpose)
    if ch.mileage_class is not None and ch.mileage_class != q.mileage_class:
        diffs.append(FieldChange("mileageClass", _show(q.mileage_class), _show(ch.mileage_class)))
        q = replace(q, mileage_class=ch.mileage_class)
    if q.driver_restriction is not old_q.driver_restriction:
        # A restriction chosen as a rider follows the condition: drop the one that contradicts it.
        kept = tuple(r for r in q.riders if (rd := product.rider(r)) is None
                     or rd.driver_restriction in (None, q.driver_restriction))
        q = replace(q, riders=kept)
    q = _apply_coverages(q, ch, diffs)
    q = _apply_riders(q, ch, diffs)

    holder = parties[c.policyholder_id]
    a = ch.address
    address_changed = a is not None and (a.postal_code, a.address_ja, a.address_en) != (
        holder.postal_code, holder.address_ja, holder.address_en)
    if a is not None and address_changed:
        diffs.append(FieldChange("policyholder.address", holder.address_ja, a.address_ja))
    if not diffs:
        raise refuse("NO_CHANGE", "input.changes", "the changes leave the contract as it is")

    entries = tuple(sorted(drivers.values(), key=lambda d: d.party_id))
    check_drivers(q, entries, parties, parties[ni_id], "input.changes.drivers")
    premium = rated(product, q)
    start, end = jst_date(term.starts_at), jst_date(term.ends_at)
    old_total, new_total = v.data.premium_yen, premium.total
    delta = pro_rata_delta(old_total, new_total, start, end, req.effective_date)
    explained = steps(
        ("term premium before", old_total, v.data.premium.get("tariffVersion", "")),
        ("term premium after", new_total, premium.tariff_version),
        ("days from the effective date to the term end", (end - req.effective_date).days, DELTA_RULE),
        ("days in the term", (end - start).days, DELTA_RULE),
        ("delta = (after − before) × remaining days / term days", delta, DELTA_RULE),
    )
    tx = await record(
        uow, actor, c.id, TransactionKind.ENDORSE, now, effective_at=at, reason=req.reason,
        idempotency_key=req.idempotency_key, delta=delta,
        explanation={"steps": [{"name": s.name, "value": s.value, "rule": s.rule} for s in explained],
                     "changes": [{"field": d.field, "before": d.before, "after": d.after} for d in diffs]},
    )
    version_changed = q != old_q or entries != v.data.drivers or ni_id != v.data.named_insured_id
    version_id: int | None = None
    if version_changed:
        data = version_data(v.data, q, premium, named_insured_id=ni_id, drivers=entries)
        appended = await append_version(uow, c.id, req.expected_version, at, data, recorded_at=now,
                                        transaction_id=tx)
        lock, version_id = appended.lock_version, appended.after.id
    else:
        lock = await lock_contract(uow, c.id, req.expected_version)
    if a is not None and address_changed:
        # Parties are not versioned: the transaction and event keep the before/after.
        await uow.conn.execute(
            "UPDATE parties SET postal_code = $2, address_ja = $3, address_en = $4 WHERE id = $1",
            holder.id, a.postal_code, a.address_ja, a.address_en,
        )
    await emit(uow, c, EventKind.CONTRACT_ENDORSED,
               {"effectiveAt": at.isoformat(), "premiumDeltaYen": delta,
                "changes": [d.field for d in diffs]}, now, tx)
    if version_changed:
        # A change that brings a reported household member into scope files their window (§4.6.3).
        await publish(uow, DriversChanged(c, age_condition=q.age_condition, driver_restriction=q.driver_restriction,
                                          drivers=entries, named_insured=parties[ni_id], transaction_id=tx), now)
    return change(
        c, tx, TransactionKind.ENDORSE, list(c.statuses), lock, term.term_no, at, old_total, new_total, delta,
        delta_steps=explained, changes=tuple(diffs), version_id=version_id,
        grade=v.data.grade if product.graded else None, tariff_version=premium.tariff_version, premium=premium,
    )
