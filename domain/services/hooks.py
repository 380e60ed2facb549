"""Where one part of the product reacts to another, named once so the parts stay apart.

Each hook runs inside the caller's unit of work (one transaction): what it writes commits with
the change that caused it, or not at all. A hook schedules follow-up work as durable timers
(domain/store/timers.py) instead of doing slow work inline.
"""

from __future__ import annotations

from datetime import datetime

from domain.claims.coverage import PremiumStatus
from domain.renewal import TermClaim
from domain.services.payments import premiums as premium_payments
from domain.services.windows.expiry import schedule_term_expiry
from domain.store.contract_repo import Contract, Term
from domain.store.uow import UnitOfWork
from domain.store.window_repo import StoredWindow


async def on_term_bound(uow: UnitOfWork, contract: Contract, term: Term, premium_yen: int, now: datetime) -> None:
    """A term was bound (issue, renewal, renewal in the grace window): schedule what its
    calendar needs — its expiry and its premium instalments."""
    await premium_payments.schedule_term(uow, contract, term, premium_yen, now)
    await schedule_term_expiry(uow.conn, term.ends_at)


async def on_window_resolved(uow: UnitOfWork, window: StoredWindow, now: datetime) -> None:
    """A window was confirmed, downgraded, voided or closed: re-decide the claims it held
    COVERAGE_PENDING."""
    from domain.services.claims.handling import redecide_window_claims  # claims import hooks

    await redecide_window_claims(uow, window.id, now)


async def on_premium_standing_changed(uow: UnitOfWork, contract_id: int, now: datetime) -> None:
    """A premium was paid or the contract was rescinded for non-payment: re-decide the claims the
    premium held COVERAGE_PENDING (SPEC §4.7)."""
    from domain.services.claims.handling import redecide_premium_claims  # claims import hooks

    await redecide_premium_claims(uow, contract_id, now)


async def request_recalculation(uow: UnitOfWork, contract_id: int, reason: str, now: datetime) -> None:
    """Something the next term's price depends on changed (a claim classified or withdrawn, a
    vehicle or driver changed): recompute the contract's renewal offer, idempotently.

    Schedules a `renewal.recalc` timer due now, unless one for the contract is still PENDING
    (requests collapse: the pending one will read the latest inputs when it runs). One that is
    already running may have read the old inputs, so it does not absorb this request. The job
    recomputes only when the offer is due or one exists; otherwise the nightly run creates it.
    """
    from domain.services.renewals.recalc import RECALC_KIND
    from domain.store import timers

    subject = f"contract:{contract_id}"
    pending = await uow.conn.fetchval(
        "SELECT 1 FROM timers WHERE kind = $1 AND subject = $2 AND state = 'PENDING' LIMIT 1", RECALC_KIND, subject)
    if pending:
        return
    await timers.schedule(uow.conn, kind=RECALC_KIND, subject=subject, due_at=now,
                          idempotency_key=f"{RECALC_KIND}:{contract_id}:{now.isoformat()}:{reason}",
                          payload={"contract": contract_id, "reason": reason})


async def premium_status(uow: UnitOfWork, contract_id: int, at: datetime) -> PremiumStatus:
    """The payment standing of the contract's term at `at`, for a claim decision (SPEC §4.7):
    the term covering `at`, its instalments due by that day and every payment recorded so far
    (a premium paid after the accident ends the claim's wait). No stored schedule: PAID."""
    return await premium_payments.premium_status(uow, contract_id, at)


async def term_claims(uow: UnitOfWork, contract_id: int, term_id: int) -> list[TermClaim]:
    """The classified claims of a term, for its renewal (grade and accident-coefficient period)."""
    from domain.services.claims.handling import term_claims as claims_of_term  # claims import hooks

    return await claims_of_term(uow, contract_id, term_id)
