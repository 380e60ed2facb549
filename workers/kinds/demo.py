"""The demo book's customers (workers/demo_book.py), as timers: they keep acting while the clock
moves, so the book lives through `make run` and `autopolicy simulate` instead of being rescinded.

Only the demo seed schedules these kinds; a production database never holds one.

- `demo.pay` (payload contractId, skip [termNo, number] | null): the bank debits every instalment
  that has fallen due (on its due day, before the day ends and the delinquency check runs), except
  the one a "missed debit" customer skips; then the timer schedules itself for the next due day,
  or for the afternoon of the term's last day, when a renewed term's first instalment appears.
- `demo.renew` (payload contractId): the customer accepts the renewal 25 days before expiry (the
  offer is out by then, SPEC §4.4), then pays and renews again the year after. A refusal (the
  contract was cancelled or rescinded meanwhile) ends the habit.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from domain.calendar import JST
from domain.lifecycle import Role
from domain.runtime.clock import Clock
from domain.services.access import Actor
from domain.services.contracts.support import lock_version_of
from domain.services.contracts.types import RenewRequest
from domain.services.errors import Refused
from domain.services.payments.premiums import (
    DebitResult,
    DebitResultRequest,
    instalments_of,
    record_debit_result,
)
from domain.services.renewals.renew import renew_contract
from domain.store import timers
from domain.store.payment_repo import InstalmentState
from domain.store.timers import TimerRow
from domain.store.uow import JobUnitOfWork
from workers.registry import timer_kind

PAY_KIND = "demo.pay"
RENEW_KIND = "demo.renew"
BANK = Actor("demo-bank", Role.SYSTEM)
CUSTOMER_DESK = Actor("demo-customer-desk", Role.STAFF)
RENEW_DAYS_BEFORE = 25
_ENDED = {"CANCELLED", "LAPSED", "RESCINDED"}
_PAYS_AT = time(9, 0)       # the debit runs in the morning of its due day
_LAST_DAY_AT = time(17, 0)  # after a 16:00 expiry, before the due day's delinquency check


async def schedule_pay(conn: asyncpg.Connection, contract_id: int, at: datetime, skip: tuple[int, int] | None = None) -> int:
    payload: dict[str, Any] = {"contractId": contract_id, "skip": list(skip) if skip else None}
    return await timers.schedule(conn, kind=PAY_KIND, subject=f"contract:{contract_id}", due_at=at,
                                 idempotency_key=f"{PAY_KIND}:{contract_id}:{at.isoformat()}", payload=payload)


async def schedule_renew(conn: asyncpg.Connection, contract_id: int, term_ends_at: datetime) -> int:
    at = datetime.combine(term_ends_at.astimezone(JST).date() - timedelta(days=RENEW_DAYS_BEFORE), time(10, 0), tzinfo=JST)
    return await timers.schedule(conn, kind=RENEW_KIND, subject=f"contract:{contract_id}", due_at=at,
                                 idempotency_key=f"{RENEW_KIND}:{contract_id}:{at.date().isoformat()}",
                                 payload={"contractId": contract_id})


async def _ended(conn: asyncpg.Connection, contract_id: int) -> bool:
    statuses = await conn.fetchval("SELECT statuses FROM contracts WHERE id = $1", contract_id)
    return statuses is None or bool(_ENDED & set(statuses))


async def _last_term_end(conn: asyncpg.Connection, contract_id: int) -> datetime | None:
    end: datetime | None = await conn.fetchval(
        "SELECT max(ends_at) FROM terms WHERE contract_id = $1 AND status <> 'CANCELLED'", contract_id)
    return end


@timer_kind(PAY_KIND)
async def pay_due(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    cid = int(timer.payload["contractId"])
    skip = tuple(timer.payload["skip"]) if timer.payload.get("skip") else None
    now = clock.now()
    today = now.astimezone(JST).date()
    if await _ended(conn, cid):
        return
    uow = JobUnitOfWork(conn)
    later: list[date] = []
    for inst in sorted((await instalments_of(conn, [cid])).get(cid, []), key=lambda i: (i.term_no, i.number)):
        if inst.state in (InstalmentState.PAID, InstalmentState.VOID) or (inst.term_no, inst.number) == skip:
            continue
        if inst.effective_due_on > today:
            later.append(inst.effective_due_on)
            continue
        await record_debit_result(uow, BANK, DebitResultRequest(cid, inst.term_no, inst.number, DebitResult.PAID, today), now)
    if later:
        await schedule_pay(conn, cid, datetime.combine(min(later), _PAYS_AT, tzinfo=JST), skip)
        return
    end = await _last_term_end(conn, cid)
    if end is not None:
        last_day = datetime.combine(end.astimezone(JST).date(), _LAST_DAY_AT, tzinfo=JST)
        if last_day > now:
            await schedule_pay(conn, cid, last_day, skip)


@timer_kind(RENEW_KIND)
async def renew(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    cid = int(timer.payload["contractId"])
    now = clock.now()
    uow = JobUnitOfWork(conn)
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves the job's transaction clean
            await renew_contract(uow, CUSTOMER_DESK, RenewRequest(cid, await lock_version_of(uow, cid)), now)
    except Refused:
        return  # cancelled, rescinded or already renewed meanwhile: the customer stops renewing
    end = await _last_term_end(conn, cid)
    if end is not None:
        await schedule_renew(conn, cid, end)
