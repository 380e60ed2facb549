"""Endorse and renew: a new version re-rated from the stored `QuoteInput` with the changes applied.

Endorsements take effect at 16:00 JST of the effective date (the same instant terms start and
end), inside the term containing it; the premium delta is pro-rata by day from the effective date
to the term end (SPEC §4.3; no pamphlet gives a mid-term method, notes/001.md L1061).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from domain.calendar import JST, add_months, cover_moment
from domain.lifecycle import Action
from domain.rating import CoverageChoice, QuoteInput
from domain.rating_codec import quote_from_json
from domain.refunds import pro_rata_delta
from domain.services.windows import grace
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
    RenewRequest,
)
from domain.services.errors import refuse
from domain.services.hooks import on_term_bound
from domain.services.renewals.offers import price_renewal, settle_offers
from domain.services.windows.filings import confirm_driver_changes
from domain.store.party_repo import Party, PartyKind, parties_by_id
from domain.store.policy_repo import (
    ContractStatus,
    ContractVersion,
    DriverEntry,
    GradeSource,
    Term,
    TermStatus,
    TransactionKind,
    add_term,
    append_version,
    lock_contract,
    record_grade,
    set_statuses,
    terms,
    versions,
)
from domain.store.uow import UnitOfWork
from domain.vocab import Relationship

S = ContractStatus
RENEWAL_OPENS_DAYS = 90  # a renewal may be made from 90 days before expiry (offers go at ≈ 60)
DELTA_RULE = "SPEC §4.3 daily pro-rata (no pamphlet method, notes/001.md L1061), truncated toward zero"


def jst_date(at: datetime) -> date:
    return at.astimezone(JST).date()


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
        await confirm_driver_changes(uow, c, age_condition=q.age_condition, driver_restriction=q.driver_restriction,
                                     drivers=entries, named_insured=parties[ni_id], now=now, transaction_id=tx)
    return change(
        c, tx, TransactionKind.ENDORSE, list(c.statuses), lock, term.term_no, at, old_total, new_total, delta,
        delta_steps=explained, changes=tuple(diffs), version_id=version_id,
        grade=v.data.grade if product.graded else None, tariff_version=premium.tariff_version,
    )


def _renewed_term(ts: list[Term], now: datetime) -> Term:
    """The term being renewed: the one in force now, else the latest (grace after expiry)."""
    live = [t for t in ts if t.status in (TermStatus.IN_FORCE, TermStatus.SCHEDULED, TermStatus.EXPIRED)]
    if not live:
        raise refuse("NOT_ALLOWED_IN_STATE", "input.contractId", "no term to renew")
    return next((t for t in live if t.starts_at <= now < t.ends_at), live[-1])


def _last_version(vs: list[ContractVersion], term: Term) -> ContractVersion | None:
    inside = [v for v in vs if v.valid_from < term.ends_at and (v.valid_to is None or v.valid_to > term.starts_at)]
    return inside[-1] if inside else None


async def renew_contract(uow: UnitOfWork, actor: Actor, req: RenewRequest, now: datetime) -> ContractChange:
    """Next term from the current term's end, same terms, grade renewed over its accidents, priced
    by the tariff in force at the next start with the renewal discount facts."""
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    in_grace = await grace.before_renewal(uow, c, req.premium_paid, now)  # forgotten-renewal window (§4.6.1)
    allowed(Action.RENEW, c, actor)
    ts = await terms(uow.conn, c.id)
    term = _renewed_term(ts, now)
    if any(t.term_no > term.term_no for t in ts):
        raise refuse("ALREADY_RENEWED", "input.contractId", f"term {term.term_no} is already renewed")
    end = jst_date(term.ends_at)
    opens = end - timedelta(days=RENEWAL_OPENS_DAYS)
    if today(now) < opens:
        raise refuse("RENEWAL_TOO_EARLY", "input.contractId", f"renewal opens on {opens}, {RENEWAL_OPENS_DAYS} days before expiry")
    v = _last_version(await versions(uow.conn, c.id), term)
    if v is None or (v.valid_to is not None and v.valid_to < term.ends_at):
        raise refuse("NOT_ALLOWED_IN_STATE", "input.contractId", "the term's cover has ended")
    product = product_of(c.product_id, "input.contractId")
    q = quote_from_json(v.data.rating_input)
    people = await parties_by_id(uow.conn, [v.data.named_insured_id, *(d.party_id for d in v.data.drivers)])
    # Priced exactly as the renewal offer is (domain/services/renewal_offers.py): claims from the
    # request or the term's classified claims, the named insured's licence now, the tariff then.
    ni = people[v.data.named_insured_id]
    pricing = await price_renewal(
        uow, contract_id=c.id, term_id=term.id, term_start=jst_date(term.starts_at), term_end=end,
        version_id=v.id, product=product, current=q,
        licence=ni.licence_colour if ni.kind is PartyKind.PERSON else None,
        accidents=req.accidents, offer_id=req.offer_id)
    new_q, premium = pricing.offer.quote, pricing.offer.premium
    grade = pricing.offer.record if product.graded and pricing.offer.record is not None else v.data.grade
    grade_steps: tuple[str, ...] = pricing.offer.grade.steps if pricing.offer.grade is not None else ()
    # Licence colours are read again: a driver may have turned gold during the term.
    drivers = tuple(replace(d, licence_colour=people[d.party_id].licence_colour or d.licence_colour,
                            licence_date=people[d.party_id].licence_date) for d in v.data.drivers)
    data = version_data(v.data, new_q, premium, grade=grade, drivers=drivers)
    explained = steps(("next term premium charged", premium.total, premium.tariff_version),
                      *((g, "", "grade") for g in grade_steps))
    tx = await record(
        uow, actor, c.id, TransactionKind.RENEW, now, effective_at=term.ends_at, reason=None,
        idempotency_key=req.idempotency_key, delta=premium.total,
        explanation={"steps": [{"name": s.name, "value": s.value, "rule": s.rule} for s in explained],
                     "accidents": [a.value for a in req.accidents],
                     "offerId": pricing.offer_id, "claims": list(pricing.offer.counted_claims)},
    )
    appended = await append_version(uow, c.id, req.expected_version, term.ends_at, data, recorded_at=now,
                                    transaction_id=tx)
    ends_at = cover_moment(add_months(end, new_q.term_months))
    new_term = await add_term(uow, c.id, starts_at=term.ends_at, ends_at=ends_at,
                              status=TermStatus.SCHEDULED if now < term.ends_at else TermStatus.IN_FORCE, at=now)
    if product.graded:
        await record_grade(uow, c.id, new_term.id, grade, GradeSource.RENEWAL, recorded_at=now)
    await settle_offers(uow, pricing, now)
    await on_term_bound(uow, c, new_term, premium.total, now)
    await grace.after_renewal(uow, in_grace, c, v.data, data, new_term, tx, now)
    statuses = (set(c.statuses) - {S.IN_RENEWAL_GRACE, S.EXPIRED}) | {S.IN_FORCE}
    await set_statuses(uow, c.id, statuses)
    await emit(uow, c, EventKind.CONTRACT_RENEWED,
               {"termNo": new_term.term_no, "startsAt": term.ends_at.isoformat(), "premiumYen": premium.total,
                "grade": grade.label if product.graded else None}, now, tx)
    return change(
        c, tx, TransactionKind.RENEW, list(statuses), appended.lock_version, new_term.term_no, term.ends_at,
        v.data.premium_yen, premium.total, premium.total, delta_steps=explained, version_id=appended.after.id,
        grade=grade if product.graded else None, tariff_version=premium.tariff_version,
    )
