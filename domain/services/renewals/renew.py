"""Renew: the next term from the current term's end, priced exactly as the renewal offer is.

Renewal belongs to the renewals part because it prices through the offer (`offers.price_renewal`)
and, inside the forgotten-renewal window, goes through the grace rules (`windows.grace`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from domain.calendar import add_months, cover_moment, jst_date
from domain.lifecycle import Action
from domain.rating_codec import quote_from_json
from domain.services.access import Actor
from domain.services.contracts.registrations import ensure_registration_free
from domain.services.contracts.support import (
    EventKind,
    allowed,
    change,
    emit,
    expect_version,
    product_of,
    record,
    steps,
    today,
    version_data,
    visible_contract,
)
from domain.services.contracts.types import ContractChange, RenewRequest
from domain.services.errors import refuse
from domain.services.reactions import TermBound, publish
from domain.services.renewals.offers import price_renewal, settle_offers
from domain.services.windows import grace
from domain.store.party_repo import PartyKind, parties_by_id, vehicles_by_id
from domain.store.policy_repo import (
    ContractStatus,
    ContractVersion,
    GradeSource,
    Term,
    TermStatus,
    TransactionKind,
    add_term,
    append_version,
    record_grade,
    set_statuses,
    terms,
    versions,
)
from domain.store.uow import UnitOfWork

S = ContractStatus
RENEWAL_OPENS_DAYS = 90  # a renewal may be made from 90 days before expiry (offers go at ≈ 60)


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
    ends_at = cover_moment(add_months(end, new_q.term_months))
    car = (await vehicles_by_id(uow.conn, [v.data.vehicle_id]))[v.data.vehicle_id]
    await ensure_registration_free(uow, actor, car.registration_no, starts_at=term.ends_at, ends_at=ends_at,
                                   field="input.contractId", contract_id=c.id)
    tx = await record(
        uow, actor, c.id, TransactionKind.RENEW, now, effective_at=term.ends_at, reason=None,
        idempotency_key=req.idempotency_key, delta=premium.total,
        explanation={"steps": [{"name": s.name, "value": s.value, "rule": s.rule} for s in explained],
                     "accidents": [a.value for a in req.accidents],
                     "offerId": pricing.offer_id, "claims": list(pricing.offer.counted_claims)},
    )
    appended = await append_version(uow, c.id, req.expected_version, term.ends_at, data, recorded_at=now,
                                    transaction_id=tx)
    new_term = await add_term(uow, c.id, starts_at=term.ends_at, ends_at=ends_at,
                              status=TermStatus.SCHEDULED if now < term.ends_at else TermStatus.IN_FORCE, at=now)
    if product.graded:
        await record_grade(uow, c.id, new_term.id, grade, GradeSource.RENEWAL, recorded_at=now)
    await settle_offers(uow, pricing, now)
    await publish(uow, TermBound(c, new_term, premium.total), now)
    await grace.after_renewal(uow, in_grace, c, v.data, data, new_term, tx, now)
    statuses = (set(c.statuses) - {S.IN_RENEWAL_GRACE, S.EXPIRED}) | {S.IN_FORCE}
    await set_statuses(uow, c.id, statuses)
    await emit(uow, c, EventKind.CONTRACT_RENEWED,
               {"termNo": new_term.term_no, "startsAt": term.ends_at.isoformat(), "premiumYen": premium.total,
                "grade": grade.label if product.graded else None}, now, tx)
    return change(
        c, tx, TransactionKind.RENEW, list(statuses), appended.lock_version, new_term.term_no, term.ends_at,
        v.data.premium_yen, premium.total, premium.total, delta_steps=explained, version_id=appended.after.id,
        grade=grade if product.graded else None, tariff_version=premium.tariff_version, premium=premium,
    )
