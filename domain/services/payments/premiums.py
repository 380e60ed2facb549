"""Premium payment of bound terms: schedules, payments, debit results, delinquency, rescission.

The rules are domain/payments.py (pure); this module keeps their inputs in `instalments` and
acts on their answers:

- A bound term stores its schedule (single payment or monthly, as quoted) and two timers per
  instalment: the end of its due day (unpaid → the contract is DELINQUENT) and the end of its
  rescission deadline, M+1 or M+2 when not at fault (unpaid → rescinded as non-payment by the
  SYSTEM actor, grade lost) [001 L833][002b L5131].
- `reconcile` is the one place that turns the stored facts into the contract's DELINQUENT status,
  its events and an acceleration (the rest due at once after the second run of two consecutive
  failed debits, 002b L5134-5135). Mutations and timers call it; it compares before it writes, so
  running it twice changes nothing and emits nothing the second time.
- A payment cancels the instalment's timers and cures DELINQUENT when nothing else is overdue.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from domain.calendar import JST
from domain.claims.coverage import PremiumStatus, premium_status_from
from domain.lifecycle import Role
from domain.payments import (
    Delinquency,
    PaymentState,
    build_schedule,
    delinquency,
    rescission_deadline,
)
from domain.services.access import SYSTEM, Actor
from domain.services.contracts.endings import rescind_contract
from domain.services.contracts.support import lock_version_of, today, visible_contract
from domain.services.contracts.types import RescindRequest, RescissionReason
from domain.services.errors import refuse
from domain.services.payments import no_claims
from domain.services.reactions import PremiumStandingChanged, TermBound, publish
from domain.store import payment_repo, timers
from domain.store.contract_repo import (
    Contract,
    Term,
    get_contract_for_update,
    lock_contract,
    set_statuses,
    terms,
)
from domain.store.outbox import append_events
from domain.store.payment_repo import InstalmentState, PaidBy, RecordKind, StoredInstalment
from domain.store.uow import Executor, UnitOfWork
from domain.store.version_repo import version_as_of
from domain.vocab import ContractStatus, Labelled, PaymentMethod

S = ContractStatus
KIND_DELINQUENT = "payment.check_delinquent"
KIND_RESCISSION = "payment.check_rescission"
# Nothing is collected or checked on a contract that ended.
_ENDED = frozenset({S.CANCELLED, S.LAPSED, S.RESCINDED})
_RECORDERS = frozenset({Role.STAFF, Role.ADMIN, Role.SYSTEM})


class PaymentEvent:
    PREMIUM_PAID = "PREMIUM_PAID"
    PREMIUM_DEBIT_FAILED = "PREMIUM_DEBIT_FAILED"
    PREMIUM_OVERDUE = "PREMIUM_OVERDUE"          # the contract became DELINQUENT
    PREMIUM_CURED = "PREMIUM_CURED"              # DELINQUENT lifted: nothing overdue any more
    PREMIUM_ACCELERATED = "PREMIUM_ACCELERATED"  # the rest of the term's premium is due at once
    EXTRA_PREMIUM_CHARGED = "EXTRA_PREMIUM_CHARGED"  # a window filing's extra premium became due


class DebitResult(Labelled):
    PAID = ("PAID", "振替済", "Debited")
    FAILED = ("FAILED", "振替不能", "Debit failed")


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    contract_id: int
    term_no: int
    number: int
    amount_yen: int
    paid_on: date
    paid_by: PaidBy
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class DebitResultRequest:
    contract_id: int
    term_no: int
    number: int
    result: DebitResult
    on: date
    not_at_fault: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentChange:
    """What a payment mutation did (or, in a dry run, would do)."""

    contract_id: int
    policy_number: str
    term_no: int
    number: int
    instalment_state: InstalmentState
    statuses: tuple[ContractStatus, ...]
    lock_version: int
    delinquent: bool
    accelerated: bool
    amount_due_now_yen: int


@dataclass(frozen=True, slots=True)
class TermPayments:
    """A term's schedule with its standing on a day (the `payments` read)."""

    term_no: int
    term_id: int
    plan: PaymentMethod
    on: date
    instalments: tuple[StoredInstalment, ...]
    standing: Delinquency
    not_at_fault: bool

    @property
    def total_yen(self) -> int:
        return sum(i.amount_yen for i in self.instalments)

    @property
    def paid_yen(self) -> int:
        return sum(i.amount_yen for i in self.instalments if i.paid_on is not None and i.paid_on <= self.on)

    @property
    def delinquent_since(self) -> date | None:
        """The due day of the oldest unpaid instalment: claims from it wait (or are lost)."""
        return self.standing.overdue[0].due_on if self.standing.overdue else None


# --- the standing of a term -------------------------------------------------------------------------


def _by_term(rows: Sequence[StoredInstalment]) -> dict[int, list[StoredInstalment]]:
    out: dict[int, list[StoredInstalment]] = defaultdict(list)
    for r in rows:
        out[r.term_id].append(r)
    return dict(out)


def _oldest_unpaid(rows: Sequence[StoredInstalment], paid: Mapping[int, date], on: date) -> StoredInstalment | None:
    due = [r for r in rows if r.effective_due_on < on and r.number not in paid]
    return min(due, key=lambda r: r.number) if due else None


def standing(rows: Sequence[StoredInstalment], on: date, *, clamp: bool = False) -> tuple[Delinquency, bool]:
    """The pure standing of one term's rows on `on`, and whether its deadline is the not-at-fault
    one (the flag of the oldest unpaid instalment's last failed debit decides, 001 L833)."""
    paid = payment_repo.paid_of(rows, upto=on, clamp=clamp)
    oldest = _oldest_unpaid(rows, paid, on)
    naf = oldest.not_at_fault if oldest else False
    return delinquency(payment_repo.schedule_of(rows), paid, on, not_at_fault=naf), naf


def term_payments(rows: Sequence[StoredInstalment], on: date) -> TermPayments:
    d, naf = standing(rows, on)
    ordered = tuple(sorted(rows, key=lambda r: r.number))
    return TermPayments(ordered[0].term_no, ordered[0].term_id, ordered[0].plan, on, ordered, d, naf)


def payments_at(rows: Sequence[StoredInstalment], ts: Sequence[Term], at: datetime) -> TermPayments | None:
    """The payments of the term at `at` (the one containing it, else the next to come, else the
    last one with a schedule), with payments made by that day."""
    grouped = _by_term(rows)
    with_schedule = sorted((t for t in ts if t.id in grouped), key=lambda t: t.starts_at)
    if not with_schedule:
        return None
    term = next((t for t in with_schedule if t.starts_at <= at < t.ends_at), None) \
        or next((t for t in with_schedule if t.starts_at > at), None) or with_schedule[-1]
    return term_payments(grouped[term.id], at.astimezone(JST).date())


async def instalments_of(conn: Executor, contract_ids: Sequence[int]) -> dict[int, list[StoredInstalment]]:
    """Instalments per contract (the caller already checked the contracts are visible)."""
    return await payment_repo.of_contracts(conn, contract_ids)


# --- timers -----------------------------------------------------------------------------------------


def end_of(d: date) -> datetime:
    """The first instant after day `d` (JST): a check "at the end of the day" runs then."""
    return datetime.combine(d + timedelta(days=1), time(0, 0), tzinfo=JST)


async def _cancel(conn: Executor, subjects: Sequence[str], kind: str | None = None) -> None:
    """Cancel the live timers of the subjects, skipping rows a running job holds.

    Jobs lock their timer row, then the contract; we hold the contract, so waiting for their row
    would deadlock. A skipped job runs after we commit, re-reads the contract and finds nothing
    left to do (it ends DONE rather than CANCELLED)."""
    await conn.execute(
        """UPDATE timers SET state = 'CANCELLED', updated_at = now()
           WHERE id IN (SELECT id FROM timers
                        WHERE subject = ANY($1::text[]) AND ($2::text IS NULL OR kind = $2)
                          AND state IN ('PENDING', 'ENQUEUED')
                        FOR UPDATE SKIP LOCKED)""",
        list(subjects), kind,
    )


async def _schedule(conn: Executor, inst: StoredInstalment, kind: str, due_at: datetime) -> None:
    """(Re)schedule the instalment's timer of `kind`: live ones are cancelled, a new one stored
    under a fresh key (a cancelled key cannot be revived)."""
    await _cancel(conn, [inst.subject], kind)
    rev = int(await conn.fetchval("SELECT count(*) FROM timers WHERE subject = $1 AND kind = $2",
                                  inst.subject, kind))
    await timers.schedule(conn, kind=kind, subject=inst.subject, due_at=due_at,  # type: ignore[arg-type]
                          idempotency_key=f"{inst.subject}:{kind}:{rev}",
                          payload={"contractId": inst.contract_id, "instalmentId": inst.id})


def _deadline(inst: StoredInstalment) -> date:
    return rescission_deadline(inst.effective_due_on, not_at_fault=inst.not_at_fault)


async def _schedule_checks(conn: Executor, inst: StoredInstalment) -> None:
    await _schedule(conn, inst, KIND_DELINQUENT, end_of(inst.effective_due_on))
    await _schedule(conn, inst, KIND_RESCISSION, end_of(_deadline(inst)))


async def _cancel_checks(conn: Executor, rows: Sequence[StoredInstalment]) -> None:
    await _cancel(conn, [r.subject for r in rows])


# --- when a term is bound ---------------------------------------------------------------------------


async def on_term_bound(uow: UnitOfWork, event: TermBound, now: datetime) -> None:
    """Reaction to a bound term: its instalment schedule (and the 無事故祝金 decision's timer)."""
    await schedule_term(uow, event.contract, event.term, event.premium_yen, now)


async def schedule_term(uow: UnitOfWork, contract: Contract, term: Term, premium_yen: int, now: datetime) -> None:
    """Store the bound term's instalments and their timers (on a `TermBound` reaction).

    The plan (single or monthly) and the amounts are the quote's: `QuoteInput.payment_method`
    rated into `Premium.instalments` and stored with the version in force at the term's start.
    The first instalment is due at contracting [001 L823]: the start date, or the binding day when
    the term is bound after its start (a renewal inside the grace window). Later ones fall on the
    debit day of the following months [001 L827] (domain.payments.DEFAULT_DEBIT_DAY).
    """
    v = await version_as_of(uow.conn, contract.id, term.starts_at)
    premium: Mapping[str, Any] = v.data.premium if v is not None else {}
    # the 無事故祝金 decision's timer, when the term carries the rider (read from the same version)
    await no_claims.schedule(uow.conn, contract.id, term.id, term.ends_at, tuple(premium.get("riders") or ()))
    amounts = [int(a) for a in premium.get("instalmentsYen") or [premium_yen]]
    method = PaymentMethod(premium.get("paymentMethod", PaymentMethod.ANNUAL.value))
    if sum(amounts) != premium_yen:
        raise ValueError(f"contract {contract.id} term {term.term_no}: instalments {amounts} do not add up "
                         f"to the bound premium {premium_yen}")
    start = term.starts_at.astimezone(JST).date()
    schedule = build_schedule(amounts, start, method=method)
    first = schedule.instalments[0]
    if today(now) > first.due_on:
        schedule = dataclasses.replace(
            schedule, instalments=(dataclasses.replace(first, due_on=today(now)), *schedule.instalments[1:]))
    before = {r.term_id for r in await payment_repo.of_contract(uow.conn, contract.id)}
    rows = await payment_repo.insert_schedule(uow.conn, contract.id, term.id, schedule, now=now)
    if term.id in before:
        return  # bound twice in one unit of work: the first call scheduled everything
    for r in rows:
        await _schedule_checks(uow.conn, r)


async def charge_extra_premium(uow: UnitOfWork, contract: Contract, term: Term, transaction_id: int, amount_yen: int,
                               now: datetime) -> StoredInstalment | None:
    """The extra premium of a window filing (vehicle swap, driver change): the term's next
    instalment, due on the filing day, with the same non-payment timers as the others. The window's
    cover waits for it (002b L4111-4112 "追加保険料の払込みがない間は適用しません", L4143). None when
    there is nothing to charge."""
    if amount_yen <= 0:
        return None
    plan = next((r.plan for r in await payment_repo.of_contract(uow.conn, contract.id) if r.term_id == term.id),
                PaymentMethod.ANNUAL)
    inst = await payment_repo.insert_extra(uow.conn, contract.id, term.id, plan, today(now), amount_yen,
                                           transaction_id, now=now)
    await _schedule_checks(uow.conn, inst)
    await _events(uow, contract, [(PaymentEvent.EXTRA_PREMIUM_CHARGED, {
        "termNo": inst.term_no, "instalment": inst.number, "amountYen": amount_yen,
        "dueOn": inst.due_on.isoformat(), "transactionId": transaction_id})], now)
    return inst


async def unpaid_extra_premiums(conn: Executor, transaction_ids: Sequence[int]) -> set[int]:
    """Of these transactions, those whose extra premium is charged and not paid."""
    rows = await conn.fetch(
        """SELECT transaction_id FROM instalments WHERE transaction_id = any($1::bigint[]) AND state <> 'PAID'""",
        list(transaction_ids))
    return {int(r["transaction_id"]) for r in rows}


# --- reconcile --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reconciled:
    contract: Contract
    lock_version: int
    terms: dict[int, TermPayments]  # by term id

    @property
    def delinquent(self) -> bool:
        return any(t.standing.state is not PaymentState.CURRENT for t in self.terms.values())


async def _events(uow: UnitOfWork, c: Contract, items: list[tuple[str, dict[str, Any]]], now: datetime) -> None:
    await append_events(uow, c.id, [(k, {"policyNumber": c.policy_number, **p}) for k, p in items], at=now)


async def _accelerate(uow: UnitOfWork, c: Contract, tp: TermPayments, now: datetime) -> bool:
    """Store a new acceleration of the term: its unpaid later instalments fall due on the day of
    the second run's second failed debit [002b L5134-5135]. False when already stored."""
    d = tp.standing
    if not d.accelerated or d.accelerated_on is None or any(r.accelerated_on for r in tp.instalments):
        return False
    paid = payment_repo.paid_of(tp.instalments, upto=tp.on)
    later = [r for r in tp.instalments if r.number not in paid and r.due_on > d.accelerated_on]
    if not later:
        return False
    await payment_repo.accelerate(uow.conn, [r.id for r in later], d.accelerated_on, now=now)
    for r in later:
        moved = dataclasses.replace(r, accelerated_on=d.accelerated_on)
        await _schedule_checks(uow.conn, moved)
    await _events(uow, c, [(PaymentEvent.PREMIUM_ACCELERATED, {
        "termNo": tp.term_no, "on": d.accelerated_on.isoformat(), "instalments": [r.number for r in later],
        "amountYen": sum(r.amount_yen for r in later), "rule": "002b L5134-5135"})], now)
    return True


async def reconcile(uow: UnitOfWork, c: Contract, now: datetime) -> Reconciled:
    """Bring the stored states in line with the rules on today's date: instalments past their due
    day become OVERDUE, a second run of failed debits accelerates the rest, and the contract is
    DELINQUENT exactly while some term's standing is not CURRENT. The caller holds the contract
    lock. Writes (and emits) only what differs from what is stored."""
    on = today(now)
    rows = await payment_repo.of_contract(uow.conn, c.id)
    if not rows or c.statuses & _ENDED:
        return Reconciled(c, c.lock_version, {tid: term_payments(rs, on) for tid, rs in _by_term(rows).items()})
    await payment_repo.mark_overdue(uow.conn, c.id, on, now=now)
    rows = await payment_repo.of_contract(uow.conn, c.id)
    accelerated = False
    for rs in _by_term(rows).values():
        accelerated |= await _accelerate(uow, c, term_payments(rs, on), now)
    if accelerated:
        await payment_repo.mark_overdue(uow.conn, c.id, on, now=now)
        rows = await payment_repo.of_contract(uow.conn, c.id)
    result = {tid: term_payments(rs, on) for tid, rs in _by_term(rows).items()}
    state = Reconciled(c, c.lock_version, result)
    if state.delinquent == (S.DELINQUENT in c.statuses):
        return state
    lock = await lock_contract(uow, c.id, None)
    statuses = set(c.statuses) | {S.DELINQUENT} if state.delinquent else set(c.statuses) - {S.DELINQUENT}
    await set_statuses(uow, c.id, statuses)
    if state.delinquent:
        tp = min((t for t in result.values() if t.standing.overdue), key=lambda t: t.term_no)
        oldest = tp.standing.overdue[0]
        payload: dict[str, Any] = {
            "termNo": tp.term_no, "instalment": oldest.number, "dueOn": oldest.due_on.isoformat(),
            "amountDueYen": tp.standing.amount_due_now,
            "rescissionDeadline": tp.standing.rescission_deadline.isoformat() if tp.standing.rescission_deadline else None,
            "notAtFault": tp.not_at_fault, "rule": "001 L833; 002b L5131"}
        await _events(uow, c, [(PaymentEvent.PREMIUM_OVERDUE, payload)], now)
    else:
        await _events(uow, c, [(PaymentEvent.PREMIUM_CURED, {})], now)
    c = dataclasses.replace(c, statuses=frozenset(statuses), lock_version=lock)
    return Reconciled(c, lock, result)


# --- mutations --------------------------------------------------------------------------------------


async def _instalment(uow: UnitOfWork, actor: Actor, contract_id: int, term_no: int,
                      number: int) -> tuple[Contract, StoredInstalment]:
    c = await visible_contract(uow, actor, contract_id)
    if actor.role not in _RECORDERS:
        raise refuse("FORBIDDEN", "input.contractId", f"{actor.role.en} may not record premium payments")
    inst = await payment_repo.find(uow.conn, c.id, term_no, number)
    if inst is None:
        raise refuse("INSTALMENT_NOT_FOUND", "input.number", f"no instalment {number} in term {term_no}")
    if S.RESCINDED in c.statuses:
        raise refuse("CONTRACT_RESCINDED", "input.contractId", "the contract was rescinded: nothing is collected")
    if inst.state is InstalmentState.VOID:
        raise refuse("INSTALMENT_VOID", "input.number", f"instalment {number} of term {term_no} is void")
    if inst.state is InstalmentState.PAID:
        raise refuse("ALREADY_PAID", "input.number", f"instalment {number} of term {term_no} was paid on {inst.paid_on}")
    return c, inst


def _check_day(on: date, now: datetime, field: str) -> None:
    if on > today(now):
        raise refuse("PAYMENT_IN_FUTURE", field, f"{on} is after today {today(now)}")


async def _mark_paid(uow: UnitOfWork, actor: Actor, inst: StoredInstalment, paid_on: date, paid_by: PaidBy,
                     now: datetime) -> None:
    """The instalment is paid: its row, the payment log and the end of its non-payment timers."""
    await payment_repo.mark_paid(uow.conn, inst.id, paid_on, paid_by, now=now)
    await payment_repo.log(uow.conn, inst.id, RecordKind.PAID, paid_on, inst.amount_yen, paid_by=paid_by,
                           not_at_fault=False, actor_subject=actor.subject, actor_role=actor.role.value, now=now)
    await _cancel_checks(uow.conn, [inst])


async def _pay(uow: UnitOfWork, actor: Actor, c: Contract, inst: StoredInstalment, paid_on: date,
               paid_by: PaidBy, now: datetime) -> PaymentChange:
    await _mark_paid(uow, actor, inst, paid_on, paid_by, now)
    await _events(uow, c, [(PaymentEvent.PREMIUM_PAID, {
        "termNo": inst.term_no, "instalment": inst.number, "amountYen": inst.amount_yen,
        "paidOn": paid_on.isoformat(), "paidBy": paid_by.value, "late": paid_on > inst.effective_due_on})], now)
    answer = await _answer(uow, c, inst, now)
    await _premium_standing_changed(uow, c.id, now)
    return answer


async def _premium_standing_changed(uow: UnitOfWork, contract_id: int, now: datetime) -> None:
    await publish(uow, PremiumStandingChanged(contract_id), now)


async def record_paid_at_binding(uow: UnitOfWork, actor: Actor, contract_id: int, term_id: int, paid_on: date,
                                 now: datetime) -> None:
    """The first instalment of a just-bound term was paid with the binding (a renewal inside the
    forgotten-renewal window counts only once its premium is paid, SPEC §4.6.1)."""
    inst = next((i for i in (await instalments_of(uow.conn, [contract_id])).get(contract_id, [])
                 if i.term_id == term_id and i.number == 1 and i.state is not InstalmentState.PAID), None)
    if inst is None:
        return
    await _mark_paid(uow, actor, inst, paid_on, PaidBy.TRANSFER, now)


async def _answer(uow: UnitOfWork, c: Contract, inst: StoredInstalment, now: datetime) -> PaymentChange:
    r = await reconcile(uow, c, now)
    tp = r.terms[inst.term_id]
    row = next(x for x in tp.instalments if x.id == inst.id)
    return PaymentChange(
        contract_id=c.id, policy_number=c.policy_number, term_no=inst.term_no, number=inst.number,
        instalment_state=row.state, statuses=tuple(sorted(r.contract.statuses, key=lambda s: s.value)),
        lock_version=r.lock_version, delinquent=r.delinquent, accelerated=tp.standing.accelerated,
        amount_due_now_yen=tp.standing.amount_due_now,
    )


async def record_payment(uow: UnitOfWork, actor: Actor, req: PaymentRequest, now: datetime) -> PaymentChange:
    """Staff (or the system) record that an instalment was paid on a day, for its exact amount.
    A payment after the rescission deadline is still taken while the contract is not rescinded
    (the insurer "may" rescind, 001 L833): it cures the standing."""
    if req.amount_yen < 0:
        raise refuse("NEGATIVE_AMOUNT", "input.amountYen", f"amount must be ≥ 0, got {req.amount_yen}")
    c, inst = await _instalment(uow, actor, req.contract_id, req.term_no, req.number)
    if req.amount_yen != inst.amount_yen:
        raise refuse("AMOUNT_MISMATCH", "input.amountYen",
                     f"instalment {inst.number} of term {inst.term_no} is {inst.amount_yen} yen, got {req.amount_yen}")
    _check_day(req.paid_on, now, "input.paidOn")
    return await _pay(uow, actor, c, inst, req.paid_on, req.paid_by, now)


async def record_debit_result(uow: UnitOfWork, actor: Actor, req: DebitResultRequest, now: datetime) -> PaymentChange:
    """The bank's answer for one debit. Debited: the instalment is paid on that day. Failed: the
    failure is logged with whether the policyholder was at fault; not at fault moves the
    instalment's rescission deadline to the end of M+2 [001 L833][002b L5131]."""
    c, inst = await _instalment(uow, actor, req.contract_id, req.term_no, req.number)
    _check_day(req.on, now, "input.on")
    if req.on < inst.effective_due_on:
        raise refuse("DEBIT_BEFORE_DUE", "input.on", f"instalment {inst.number} is debited from {inst.effective_due_on}")
    if req.result is DebitResult.PAID:
        return await _pay(uow, actor, c, inst, req.on, PaidBy.BANK_DEBIT, now)
    await payment_repo.mark_debit_failed(uow.conn, inst.id, req.on, req.not_at_fault, now=now)
    await payment_repo.log(uow.conn, inst.id, RecordKind.DEBIT_FAILED, req.on, inst.amount_yen, paid_by=None,
                           not_at_fault=req.not_at_fault, actor_subject=actor.subject,
                           actor_role=actor.role.value, now=now)
    if req.not_at_fault != inst.not_at_fault:
        moved = dataclasses.replace(inst, not_at_fault=req.not_at_fault)
        await _schedule(uow.conn, moved, KIND_RESCISSION, end_of(_deadline(moved)))
    await _events(uow, c, [(PaymentEvent.PREMIUM_DEBIT_FAILED, {
        "termNo": inst.term_no, "instalment": inst.number, "on": req.on.isoformat(),
        "notAtFault": req.not_at_fault,
        "rescissionDeadline": rescission_deadline(inst.effective_due_on, not_at_fault=req.not_at_fault).isoformat()})],
        now)
    return await _answer(uow, c, inst, now)


# --- timers -----------------------------------------------------------------------------------------


async def check_delinquent(uow: UnitOfWork, contract_id: int, now: datetime) -> None:
    """End of a due day: reconcile (DELINQUENT when still unpaid). Idempotent."""
    c = await get_contract_for_update(uow.conn, contract_id)
    if c is not None:
        await reconcile(uow, c, now)


async def check_rescission(uow: UnitOfWork, contract_id: int, now: datetime) -> bool:
    """End of a rescission deadline: when a term is still unpaid past it, rescind the contract for
    non-payment as the SYSTEM actor (grade lost) from the oldest unpaid instalment's due day — the
    start of the term when the first premium was never paid (no cover from day one, SPEC §4.7).
    Answers whether it rescinded. Idempotent: a rescinded contract is left alone."""
    c = await get_contract_for_update(uow.conn, contract_id)
    if c is None or c.statuses & _ENDED:
        return False
    r = await reconcile(uow, c, now)
    late = [t for t in r.terms.values() if t.standing.state is PaymentState.RESCINDABLE]
    if not late:
        return False
    tp = min(late, key=lambda t: t.term_no)
    oldest = tp.standing.overdue[0]
    term = next(t for t in await terms(uow.conn, c.id) if t.id == tp.term_id)
    effective = term.starts_at.astimezone(JST).date() if oldest.number == 1 else oldest.due_on
    await rescind_contract(uow, SYSTEM, RescindRequest(
        c.id, await lock_version_of(uow, c.id), RescissionReason.NON_PAYMENT, effective,
        note=f"term {tp.term_no} instalment {oldest.number} due {oldest.due_on} unpaid after "
             f"{tp.standing.rescission_deadline} (001 L833; 002b L5131)",
        idempotency_key=f"payments:rescind:{c.id}"), now)
    rows = await payment_repo.of_contract(uow.conn, c.id)
    await payment_repo.void_unpaid(uow.conn, c.id, now=now)
    await _cancel_checks(uow.conn, rows)
    await _premium_standing_changed(uow, c.id, now)
    return True


# --- claims -----------------------------------------------------------------------------------------


async def premium_status(uow: UnitOfWork, contract_id: int, at: datetime) -> PremiumStatus:
    """The payment standing, for a claim, of the term covering `at` (an accident's moment): the
    instalments due by that day, and every payment recorded so far — a premium paid after the
    accident ends the wait (SPEC §4.7: the claim waits for the payment). A term without a stored
    schedule (bound before payments were kept) counts as paid."""
    rows = await payment_repo.of_contract(uow.conn, contract_id)
    if not rows:
        return PremiumStatus.PAID
    ts = await terms(uow.conn, contract_id)
    term = next((t for t in ts if t.starts_at <= at < t.ends_at), None)
    grouped = _by_term(rows)
    if term is None or term.id not in grouped:
        return PremiumStatus.PAID
    d, _ = standing(grouped[term.id], at.astimezone(JST).date(), clamp=True)
    return premium_status_from(claims=d.claims.value, first_premium_unpaid=d.first_premium_unpaid,
                               no_cover_from_start=d.no_cover_from_start)


__all__ = [
    "KIND_DELINQUENT",
    "KIND_RESCISSION",
    "DebitResult",
    "DebitResultRequest",
    "PaymentChange",
    "PaymentEvent",
    "PaymentRequest",
    "Reconciled",
    "TermPayments",
    "check_delinquent",
    "check_rescission",
    "end_of",
    "instalments_of",
    "payments_at",
    "premium_status",
    "reconcile",
    "record_debit_result",
    "record_payment",
    "schedule_term",
    "standing",
    "term_payments",
]
