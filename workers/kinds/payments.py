"""Payment timers (SPEC §4.7, §5): the end of an instalment's due day and the end of its
rescission deadline. Both re-read the contract under its row lock and act only on what is still
true then (domain.services.payments.premiums), so a timer that runs twice, late, or after the
instalment was paid changes nothing.

- payment.check_delinquent: still unpaid → the contract becomes DELINQUENT (+ PREMIUM_OVERDUE);
  a second run of two consecutive failed debits makes the rest due at once [002b L5134-5135].
- payment.check_rescission: still unpaid past the end of M+1 (M+2 when not at fault) → rescinded
  for non-payment by the SYSTEM actor, grade lost [001 L833][002b L5131].
"""

from __future__ import annotations

import asyncpg

from domain.runtime.clock import Clock
from domain.services.payments import premiums as premium_payments
from domain.store.timers import TimerRow
from domain.store.uow import JobUnitOfWork
from workers.registry import timer_kind


@timer_kind(premium_payments.KIND_DELINQUENT)
async def check_delinquent(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await premium_payments.check_delinquent(JobUnitOfWork(conn), int(timer.payload["contractId"]), clock.now())


@timer_kind(premium_payments.KIND_RESCISSION)
async def check_rescission(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await premium_payments.check_rescission(JobUnitOfWork(conn), int(timer.payload["contractId"]), clock.now())
