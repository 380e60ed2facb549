"""`payments.no_claims_refund` (key contract:<id>:term:<id>:NO_CLAIMS): decide a term's 無事故祝金 at its
expiry (domain/services/payments/no_claims.py)."""

from __future__ import annotations

import asyncpg

from domain.runtime.clock import Clock
from domain.services.payments.no_claims import decide_refund
from domain.store.timers import TimerRow
from domain.store.uow import JobUnitOfWork
from workers.registry import timer_kind


@timer_kind("payments.no_claims_refund")
async def no_claims_refund(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await decide_refund(JobUnitOfWork(conn), int(timer.payload["contractId"]), int(timer.payload["termId"]), clock.now())
