"""無事故祝金 (aioi no-claims refund on long-term instalments, domain/no_claims_refund.py).

A term bound with the rider stores a `payments.no_claims_refund` timer at its expiry; the job decides
the refund once (paid in full? accident-free? ran to expiry?), stores it with an event, and
`noClaimsRefunds(contractId)` reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from domain.calendar import jst_date
from domain.no_claims_refund import NoClaimsRefund, decide
from domain.products import default_catalog
from domain.rating import rate
from domain.rating_codec import quote_from_json
from domain.services.access import Actor, can_read_contract
from domain.store import payment_repo, timers
from domain.store.contract_repo import get_contract, get_contract_for_update, terms
from domain.store.outbox import append_events
from domain.store.payment_repo import InstalmentState
from domain.store.uow import Executor, UnitOfWork
from domain.store.version_repo import version_as_of
from domain.vocab import ContractStatus

KIND = "payments.no_claims_refund"
EVENT = "NO_CLAIMS_REFUND_DECIDED"
RIDER = "NO_CLAIMS_REFUND_LONG"


@dataclass(frozen=True, slots=True)
class StoredRefund:
    contract_id: int
    term_id: int
    term_no: int
    refund: NoClaimsRefund
    decided_at: datetime


async def schedule(conn: Executor, contract_id: int, term_id: int, ends_at: datetime, riders: tuple[str, ...]) -> None:
    """On a bound term: the decision's timer, when the term carries the rider."""
    if RIDER in riders:
        await timers.schedule(conn, kind=KIND, subject=f"contract:{contract_id}", due_at=ends_at,
                              idempotency_key=f"contract:{contract_id}:term:{term_id}:NO_CLAIMS",
                              payload={"contractId": contract_id, "termId": term_id})


async def decide_refund(uow: UnitOfWork, contract_id: int, term_id: int, now: datetime) -> NoClaimsRefund | None:
    """Decide and store the term's refund once (a replay answers None and changes nothing)."""
    conn = uow.conn
    c = await get_contract_for_update(conn, contract_id)
    term = next((t for t in await terms(conn, contract_id) if t.id == term_id), None) if c else None
    if c is None or term is None:
        return None
    if await conn.fetchval("SELECT 1 FROM no_claims_refunds WHERE term_id = $1", term_id):
        return None
    v = await version_as_of(conn, contract_id, term.starts_at)
    product = default_catalog().get(c.product_id)
    if v is None or product is None:
        return None
    q = quote_from_json(v.data.rating_input)
    r = product.rider(RIDER)
    assert r is not None and r.no_claims_refund_rate is not None
    # the first policy year's annual premium at contracting: year 1 rated as the long-term premium did
    first_year = rate(product, replace(q, term_months=12, riders=tuple(x for x in q.riders if x != RIDER)),
                      on=q.start_date).total
    ended = {ContractStatus.CANCELLED, ContractStatus.RESCINDED, ContractStatus.LAPSED} & set(c.statuses)
    instalments = [i for i in await payment_repo.of_contract(conn, contract_id) if i.term_id == term_id]
    accidents = int(await conn.fetchval(
        """SELECT count(*) FROM claims WHERE contract_id = $1 AND accident_at >= $2 AND accident_at < $3
           AND status NOT IN ('WITHDRAWN', 'DENIED')""", contract_id, term.starts_at, term.ends_at))
    d = decide(first_year, r.no_claims_refund_rate, expiry=jst_date(term.ends_at), ran_to_expiry=not ended,
               paid_in_full=bool(instalments) and all(i.state is InstalmentState.PAID for i in instalments),
               accidents=accidents)
    await conn.execute(
        """INSERT INTO no_claims_refunds (contract_id, term_id, payable, amount_yen, pay_on, first_year_premium_yen,
                                          reasons, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8)""",
        contract_id, term_id, d.payable, d.amount_yen, d.pay_on, d.first_year_premium_yen,
        json.dumps(list(d.reasons), ensure_ascii=False), now)
    await append_events(uow, contract_id, [(EVENT, {
        "policyNumber": c.policy_number, "termNo": term.term_no, "payable": d.payable, "amountYen": d.amount_yen,
        "payOn": None if d.pay_on is None else d.pay_on.isoformat(), "reasons": list(d.reasons)})], at=now)
    return d


async def refunds_of(conn: Executor, actor: Actor | None, contract_id: int) -> list[StoredRefund]:
    c = await get_contract(conn, contract_id)
    if c is None or not can_read_contract(actor, c):
        return []
    rows = await conn.fetch(
        """SELECT r.*, t.term_no FROM no_claims_refunds r JOIN terms t ON t.id = r.term_id
           WHERE r.contract_id = $1 ORDER BY t.term_no""", contract_id)
    out = []
    for row in rows:
        reasons = row["reasons"] if not isinstance(row["reasons"], str) else json.loads(row["reasons"])
        pay_on: date | None = row["pay_on"]
        out.append(StoredRefund(contract_id, row["term_id"], row["term_no"], NoClaimsRefund(
            row["payable"], row["amount_yen"], pay_on, row["first_year_premium_yen"], tuple(reasons)), row["decided_at"]))
    return out
