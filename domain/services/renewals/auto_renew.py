"""Tokio's renewal backup (更新バックアップ, 004 L1449-1451): at the expiry, a contract whose
policyholder did not decline is renewed on the same terms, by the SYSTEM.

The expiry batch stores one `contract.auto_renew` timer per such contract (a per-contract use
case: rating and grade per contract do not fit one set-based statement). The renewal runs inside
a savepoint: when it is refused (a tariff gap, a rule), the contract simply expires instead, with
the refusal's code in the CONTRACT_EXPIRED event, so the term never stays IN_FORCE past its end.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import asyncpg

from domain.calendar import RuleError
from domain.rating import RatingError
from domain.services.access import SYSTEM
from domain.services.claims.handling import term_claims
from domain.services.contracts.types import RenewRequest
from domain.services.errors import Refused
from domain.services.renewals.renew import renew_contract
from domain.services.windows.expiry import expire_terms
from domain.store.contract_repo import StoreError, get_contract_for_update
from domain.store.uow import JobUnitOfWork
from domain.vocab import ContractStatus

S = ContractStatus


class AutoRenewal(StrEnum):
    RENEWED = "RENEWED"
    EXPIRED = "EXPIRED"           # declined meanwhile, or the renewal was refused
    NOTHING = "NOTHING"           # renewed by hand, ended, or already handled


async def auto_renew(conn: asyncpg.Connection, contract_id: int, term_id: int, now: datetime) -> AutoRenewal:
    c = await get_contract_for_update(conn, contract_id)
    term = await conn.fetchrow(
        """SELECT t.status, t.ends_at,
                  EXISTS (SELECT 1 FROM terms n WHERE n.contract_id = t.contract_id AND n.term_no > t.term_no) AS renewed
           FROM terms t WHERE t.id = $1 AND t.contract_id = $2""", term_id, contract_id)
    if c is None or term is None or term["status"] not in ("IN_FORCE", "SCHEDULED"):
        return AutoRenewal.NOTHING
    if term["renewed"]:
        await _roll_over(conn, term_id, term["ends_at"])
        return AutoRenewal.NOTHING
    if c.statuses & {S.CANCELLED, S.RESCINDED, S.LAPSED, S.QUOTED}:
        return AutoRenewal.NOTHING
    if S.DO_NOT_RENEW in c.statuses:
        await expire_terms(conn, now, [term_id], reason="DO_NOT_RENEW")
        return AutoRenewal.EXPIRED
    uow = JobUnitOfWork(conn)
    claims = await term_claims(uow, contract_id, term_id)
    accidents = tuple(cl.accident_class for cl in claims if cl.counts and cl.accident_class is not None)
    try:
        async with conn.transaction():  # savepoint: a refused renewal leaves nothing behind
            await renew_contract(uow, SYSTEM, RenewRequest(contract_id, c.lock_version, accidents), now)
    except (Refused, RuleError, RatingError, StoreError) as exc:
        code = exc.errors[0].code if isinstance(exc, Refused) else getattr(exc, "code", type(exc).__name__)
        await expire_terms(conn, now, [term_id], reason=f"AUTO_RENEWAL_REFUSED:{code}")
        return AutoRenewal.EXPIRED
    await _roll_over(conn, term_id, term["ends_at"])
    return AutoRenewal.RENEWED


async def _roll_over(conn: asyncpg.Connection, term_id: int, ends_at: datetime) -> None:
    """The renewed term is over: EXPIRED; the next one, starting at its end, IN_FORCE."""
    await conn.execute(
        """WITH old AS (UPDATE terms SET status = 'EXPIRED' WHERE id = $1 RETURNING contract_id)
           UPDATE terms n SET status = 'IN_FORCE' FROM old
           WHERE n.contract_id = old.contract_id AND n.starts_at = $2 AND n.status = 'SCHEDULED'""",
        term_id, ends_at,
    )
