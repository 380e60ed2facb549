"""Cancel, reinstate, rescind and the interruption certificate.

An ending takes effect at 16:00 JST of its effective date: the version chain stops there (the
version in force is cut at that instant, later ones are superseded; `as of` reads after it find
nothing insured), the terms reaching past it take the ending's status, and the money is the
refund of each such term by the product's method (terms that had not started: all of it back).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from domain.calendar import RuleError, add_months, cover_moment, jst_date
from domain.grade import GradeRecord, renew
from domain.grade_continuity import (
    certificate_request_deadline,
    issue_interruption_certificate,
)
from domain.lifecycle import Action
from domain.products import Product
from domain.refunds import cooling_off_available, refund
from domain.services.access import Actor
from domain.services.contracts.support import (
    LIVE_TERMS,
    EventKind,
    allowed,
    change,
    charged_in_term,
    emit,
    end_versions_at,
    expect_version,
    product_of,
    record,
    restore_versions,
    steps,
    today,
    visible_contract,
)
from domain.services.contracts.types import (
    CancelRequest,
    Certificate,
    CertificateRequest,
    ContractChange,
    MoneyStep,
    ReinstateRequest,
    RescindRequest,
    RescissionReason,
)
from domain.services.errors import refuse
from domain.store.party_repo import PartyKind, parties_by_id
from domain.store.policy_repo import (
    Contract,
    ContractStatus,
    Term,
    TermStatus,
    TransactionKind,
    grades,
    lock_contract,
    record_grade,
    set_statuses,
    set_term_status,
    terms,
    versions,
)
from domain.store.uow import UnitOfWork
from domain.vocab import UseType

S = ContractStatus
REINSTATEMENT_DAYS = 30  # decision: within 30 days counting from the day after the cancellation date
CERTIFICATE_USE_YEARS = 10  # decision: a new contract must start within 10 years of the interruption
# Cooling-off is a tokio rule (004 L1374-1390); products do not declare it yet (reported).
COOLING_OFF_PRODUCTS = frozenset({"tokio-total-assist-group"})
COMMERCIAL_USE = frozenset({UseType.COMMERCIAL_STANDARD_TRUCK, UseType.COMMERCIAL_SMALL_TRUCK,
                            UseType.COMMERCIAL_KEI_TRUCK})



def _as_json(items: tuple[MoneyStep, ...]) -> list[dict[str, str]]:
    return [{"name": s.name, "value": s.value, "rule": s.rule} for s in items]


async def _refunds(
    uow: UnitOfWork, c: Contract, product: Product, affected: list[Term], at: datetime, cancel_date: date,
    *, cooling_off: bool,
) -> tuple[int, int, tuple[MoneyStep, ...]]:
    """(refund, still owed, steps) over the terms an ending cuts."""
    total_refund = total_owed = 0
    out: list[MoneyStep] = []
    for t in affected:
        paid = await charged_in_term(uow, c.id, t)
        start, end = jst_date(t.starts_at), jst_date(t.ends_at)
        label = f"term {t.term_no} ({start}..{end})"
        if at <= t.starts_at:
            why = "cooling-off: premium paid returned in full (004 L1376)" if cooling_off else \
                "ended on or before its start date: premium paid returned in full"
            out += steps((f"{label}: refund", paid, why))
            total_refund += paid
            continue
        try:
            r = refund(paid, product.refund_method, start, end, cancel_date, cooling_off=cooling_off)
        except RuleError as e:
            raise refuse(e.code, "input.effectiveDate", e.message) from None
        out += [MoneyStep(f"{label}: {s.name}", s.value, s.rule_ref) for s in r.steps]
        total_refund += r.amount
        total_owed += r.owed
    return total_refund, total_owed, tuple(out)


def _affected(ts: list[Term], at: datetime) -> list[Term]:
    return [t for t in ts if t.status in LIVE_TERMS and t.ends_at > at]


async def cancel_contract(uow: UnitOfWork, actor: Actor, req: CancelRequest, now: datetime) -> ContractChange:
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.CANCEL, c, actor)
    if not req.reason.strip():
        raise refuse("REASON_REQUIRED", "input.reason", "give the reason for the cancellation")
    ts = await terms(uow.conn, c.id)
    current = await versions(uow.conn, c.id)
    premium_now = current[-1].data.premium_yen if current else 0
    if S.QUOTED in c.statuses:
        # Withdrawing a quote: nothing was insured or paid; the quoted versions stay readable.
        lock = await lock_contract(uow, c.id, req.expected_version)
        for t in ts:
            await set_term_status(uow, t.id, TermStatus.CANCELLED)
        await set_statuses(uow, c.id, [S.CANCELLED])
        tx = await record(uow, actor, c.id, TransactionKind.CANCEL, now, effective_at=now, reason=req.reason,
                          idempotency_key=req.idempotency_key, explanation={"withdrawn": True})
        await emit(uow, c, EventKind.QUOTE_WITHDRAWN, {"reason": req.reason}, now, tx)
        return change(c, tx, TransactionKind.CANCEL, [S.CANCELLED], lock, ts[-1].term_no, now,
                      premium_now, 0, 0)
    if req.effective_date < today(now) and not actor.sees_everything:
        raise refuse("EFFECTIVE_DATE_IN_PAST", "input.effectiveDate", "only insurer staff back-date a cancellation")
    at = cover_moment(req.effective_date)
    affected = _affected(ts, at)
    if not affected:
        raise refuse("EFFECTIVE_DATE_OUTSIDE_TERM", "input.effectiveDate",
                     f"{req.effective_date} is on or after the end of the last term")
    product = product_of(c.product_id, "input.contractId")
    if req.cooling_off:
        await _check_cooling_off(uow, c, product, affected[0], today(now))
    refunded, owed, explained = await _refunds(uow, c, product, affected, at, req.effective_date,
                                               cooling_off=req.cooling_off)
    delta = owed - refunded
    lock = await lock_contract(uow, c.id, req.expected_version)
    tx = await record(uow, actor, c.id, TransactionKind.CANCEL, now, effective_at=at, reason=req.reason,
                      idempotency_key=req.idempotency_key, delta=delta,
                      explanation={"steps": _as_json(explained), "refundYen": refunded, "owedYen": owed,
                                   "coolingOff": req.cooling_off})
    closed = await end_versions_at(uow, c.id, at, now, tx)
    await _remember(uow, tx, closed, affected)
    for t in affected:
        await set_term_status(uow, t.id, TermStatus.CANCELLED)
    await set_statuses(uow, c.id, [S.CANCELLED])
    await emit(uow, c, EventKind.CONTRACT_CANCELLED,
               {"effectiveAt": at.isoformat(), "refundYen": refunded, "owedYen": owed, "reason": req.reason},
               now, tx)
    return change(c, tx, TransactionKind.CANCEL, [S.CANCELLED], lock, affected[0].term_no, at, premium_now, 0,
                  delta, delta_steps=explained)


async def _remember(uow: UnitOfWork, tx: int, closed: list[int], affected: list[Term]) -> None:
    """Keep on the transaction what a reinstatement needs to undo it (one statement)."""
    await uow.conn.execute(
        """UPDATE transactions SET explanation = explanation || jsonb_build_object(
               'supersededVersionIds', $2::bigint[], 'termIds', $3::bigint[]) WHERE id = $1""",
        tx, closed, [t.id for t in affected],
    )


async def _check_cooling_off(uow: UnitOfWork, c: Contract, product: Product, term: Term, on: date) -> None:
    """Tokio cooling-off (004 L1374-1390). The application date is the quote's creation date and
    the statement counts as received on the same day (the earliest reading: no receipt is stored)."""
    ok = False
    if product.id in COOLING_OFF_PRODUCTS:
        holder = (await parties_by_id(uow.conn, [c.policyholder_id]))[c.policyholder_id]
        v = (await versions(uow.conn, c.id))[0]
        business = v.data.rating_input.get("use_purpose") == "BUSINESS" or \
            v.data.rating_input.get("vehicle", {}).get("use_type") in {u.value for u in COMMERCIAL_USE}
        applied = jst_date(c.created_at)
        ok = cooling_off_available(
            jst_date(term.starts_at), jst_date(term.ends_at), applied, applied, on, business_use=business,
            corporate_policyholder=holder.kind is PartyKind.CORPORATION,
        )
    if not ok:
        raise refuse("COOLING_OFF_NOT_AVAILABLE", "input.coolingOff",
                     "cooling-off applies to terms over 1 year of products that offer it, within 8 days (004 L1374-1390)")
    # An insured event that already happened makes the notice void, known or not (004 L1378).
    if await uow.conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM claims WHERE contract_id = $1 AND status <> 'WITHDRAWN')", c.id):
        raise refuse("COOLING_OFF_INSURED_EVENT", "input.coolingOff",
                     "an accident is already reported on this contract: cooling-off has no effect (004 L1378)")


async def _last_tx(uow: UnitOfWork, contract_id: int, kind: TransactionKind) -> Any:
    return await uow.conn.fetchrow(
        """SELECT id, at, effective_at, premium_delta_yen, explanation FROM transactions
           WHERE contract_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1""",
        contract_id, kind.value,
    )


async def reinstate_contract(uow: UnitOfWork, actor: Actor, req: ReinstateRequest, now: datetime) -> ContractChange:
    """Staff undo a cancellation within 30 days counting from the day after its effective date,
    while a cancelled term is still running: cover resumes from the cancellation instant (no gap)
    and the refund is charged back."""
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.REINSTATE, c, actor)
    cancel = await _last_tx(uow, c.id, TransactionKind.CANCEL)
    info = cancel["explanation"] if cancel else {}
    if S.CANCELLED not in c.statuses or cancel is None or info.get("withdrawn") or "termIds" not in info:
        raise refuse("NOT_REINSTATABLE", "input.contractId",
                     "only a cancelled contract is reinstated (a lapse is cured by renewing in its grace window)")
    at: datetime = cancel["effective_at"]
    last_day = jst_date(at) + timedelta(days=REINSTATEMENT_DAYS)
    cancelled = [t for t in await terms(uow.conn, c.id) if t.id in set(info["termIds"])]
    if today(now) > last_day or not any(now < t.ends_at for t in cancelled):
        raise refuse("REINSTATEMENT_PERIOD_OVER", "input.contractId",
                     f"reinstatement was possible until {last_day} while the term runs")
    lock = await lock_contract(uow, c.id, req.expected_version)
    delta = -int(cancel["premium_delta_yen"])
    explained = steps(("cancellation refund charged back", delta, f"transaction {cancel['id']}"))
    tx = await record(uow, actor, c.id, TransactionKind.REINSTATE, now, effective_at=at, reason=req.reason,
                      idempotency_key=req.idempotency_key, delta=delta,
                      explanation={"steps": _as_json(explained), "cancellationId": cancel["id"]})
    await restore_versions(uow, info["supersededVersionIds"], at, now, tx)
    for t in cancelled:
        await set_term_status(uow, t.id, TermStatus.SCHEDULED if now < t.starts_at else TermStatus.IN_FORCE)
    await set_statuses(uow, c.id, [S.IN_FORCE])
    await emit(uow, c, EventKind.CONTRACT_REINSTATED, {"effectiveAt": at.isoformat(), "chargedYen": delta}, now, tx)
    current = [v for v in await versions(uow.conn, c.id) if v.in_force_at(max(at, cancelled[0].starts_at))]
    premium = current[0].data.premium_yen if current else 0
    return change(c, tx, TransactionKind.REINSTATE, [S.IN_FORCE], lock, cancelled[0].term_no, at, 0, premium,
                  delta, delta_steps=explained, version_id=current[0].id if current else None)


async def rescind_contract(uow: UnitOfWork, actor: Actor, req: RescindRequest, now: datetime) -> ContractChange:
    """Staff rescind (解除) for non-payment or misrepresentation from the effective date on.

    The grade is lost for continuity: a grade record with source RESCINDED marks it, so a later
    contract cannot carry a grade of 7 or more (004 L1264, 002b L5222). Misrepresentation returns
    the unexpired premium by the product's method; non-payment returns nothing (nothing was paid).
    """
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.RESCIND, c, actor)
    at = cover_moment(req.effective_date)
    ts = await terms(uow.conn, c.id)
    if at < ts[0].starts_at:
        raise refuse("EFFECTIVE_DATE_OUTSIDE_TERM", "input.effectiveDate", "a rescission takes effect from the start on")
    affected = _affected(ts, at)
    product = product_of(c.product_id, "input.contractId")
    refunded, owed, explained = 0, 0, steps(("non-payment: no premium to return", 0, "001 L833; 002b L5131"))
    if req.reason is RescissionReason.MISREPRESENTATION:
        refunded, owed, explained = await _refunds(uow, c, product, affected, at, req.effective_date,
                                                   cooling_off=False)
    delta = owed - refunded
    current = await versions(uow.conn, c.id)
    premium_now = current[-1].data.premium_yen if current else 0
    lock = await lock_contract(uow, c.id, req.expected_version)
    tx = await record(uow, actor, c.id, TransactionKind.RESCIND, now, effective_at=at,
                      reason=f"{req.reason.value}: {req.note}" if req.note else req.reason.value,
                      idempotency_key=req.idempotency_key, delta=delta,
                      explanation={"steps": _as_json(explained), "refundYen": refunded})
    if affected:
        await end_versions_at(uow, c.id, at, now, tx)
    for t in affected:
        await set_term_status(uow, t.id, TermStatus.RESCINDED)
    await set_statuses(uow, c.id, [S.RESCINDED])
    grade: GradeRecord | None = None
    if product.graded:
        history = await grades(uow.conn, c.id)
        if history:
            grade = history[-1].grade
            await record_grade(uow, c.id, history[-1].term_id, grade, "RESCINDED", recorded_at=now)
    await emit(uow, c, EventKind.CONTRACT_RESCINDED,
               {"effectiveAt": at.isoformat(), "reason": req.reason.value, "refundYen": refunded}, now, tx)
    return change(c, tx, TransactionKind.RESCIND, [S.RESCINDED], lock, (affected or ts)[0].term_no, at,
                  premium_now, 0, delta, delta_steps=explained, grade=grade)


async def issue_certificate(
    uow: UnitOfWork, actor: Actor, req: CertificateRequest, now: datetime
) -> ContractChange:
    """Interruption certificate (中断証明書, 004 L1427-1437) for a contract ended on its
    cancellation date or expiry date. The frozen record is the one the next contract would get:
    renewed (+1 when no accident) at expiry; unchanged after a mid-term cancellation, whose grade
    has not progressed (004 L1423)."""
    c = await visible_contract(uow, actor, req.contract_id)
    expect_version(c, req.expected_version)
    allowed(Action.ISSUE_INTERRUPTION_CERTIFICATE, c, actor)
    product = product_of(c.product_id, "input.contractId")
    if not product.graded:
        raise refuse("NOT_GRADED", "input.contractId", f"{product.id} has no non-fleet grade to certify")
    if await _last_tx(uow, c.id, TransactionKind.ISSUE_INTERRUPTION_CERTIFICATE) is not None:
        raise refuse("CERTIFICATE_ALREADY_ISSUED", "input.contractId", "this contract's certificate exists")
    ts = [t for t in await terms(uow.conn, c.id) if t.status is not TermStatus.QUOTED]
    cancel = await _last_tx(uow, c.id, TransactionKind.CANCEL) if S.CANCELLED in c.statuses else None
    history = await grades(uow.conn, c.id)
    if not ts or not history:
        raise refuse("NOT_ALLOWED_IN_STATE", "input.contractId", "the contract never ran")
    term_record = history[-1].grade
    if cancel is not None:
        ended = jst_date(cancel["effective_at"])
        mid_term = cancel["effective_at"] < max(t.ends_at for t in ts)
    else:
        ended, mid_term = jst_date(ts[-1].ends_at), False
    if req.interruption_date != ended:
        raise refuse("INTERRUPTION_DATE_MISMATCH", "input.interruptionDate",
                     f"the interruption date is the cancellation or expiry date: {ended} (004 L1431)")
    following = GradeRecord.carried(term_record.grade, term_record.period) if mid_term \
        else renew(term_record, (), term_years=1).record
    try:
        cert = issue_interruption_certificate(
            record=following, reason=req.reason, interruption_date=req.interruption_date,
            request_date=today(now), departure_date=req.departure_date,
        )
    except RuleError as e:
        raise refuse(e.code, "input.reason", e.message) from None
    result = Certificate(
        cert.record, cert.reason, cert.interruption_date, cert.issued_on,
        certificate_request_deadline(cert.interruption_date),
        add_months(cert.interruption_date, 12 * CERTIFICATE_USE_YEARS),
    )
    lock = await lock_contract(uow, c.id, req.expected_version)
    payload = {"grade": cert.record.grade, "marker": cert.record.marker.value, "period": cert.record.period,
               "reason": cert.reason.value, "interruptionDate": cert.interruption_date.isoformat(),
               "issuedOn": cert.issued_on.isoformat(), "validUntil": result.valid_until.isoformat()}
    tx = await record(uow, actor, c.id, TransactionKind.ISSUE_INTERRUPTION_CERTIFICATE, now,
                      effective_at=cover_moment(req.interruption_date), reason=req.reason.value,
                      idempotency_key=req.idempotency_key, explanation={"certificate": payload})
    await emit(uow, c, EventKind.INTERRUPTION_CERTIFICATE_ISSUED, payload, now, tx)
    return change(c, tx, TransactionKind.ISSUE_INTERRUPTION_CERTIFICATE, list(c.statuses), lock, ts[-1].term_no,
                  cover_moment(req.interruption_date), 0, 0, 0, grade=cert.record, certificate=result)
