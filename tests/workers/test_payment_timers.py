"""Payment timers through a real arq worker (burst) with a ManualClock moved across months
(SPEC §4.7, §5): a premium due in month M and unpaid makes the contract DELINQUENT at the end of
its due day, and it is rescinded at the end of M+1 — M+2 when the policyholder was not at fault
[001 L833][002b L5131]; paying cures it and cancels the rescission check. Running the timers
again, or copies of their jobs, changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from domain.runtime.clock import JST
from domain.services.payments.premiums import (
    KIND_RESCISSION,
    DebitResult,
    DebitResultRequest,
    PaymentRequest,
    record_debit_result,
    record_payment,
)
from domain.store import payment_repo, timers
from domain.store.payment_repo import InstalmentState, PaidBy
from domain.store.policy_repo import get_contract
from domain.vocab import ContractStatus, PaymentMethod
from tests.integration.test_contract_services import STAFF, book, issued, run
from tests.workers.conftest import START, Harness
from workers.timer_job import RUN_TIMER

S = ContractStatus


def midnight(d: date) -> datetime:
    """The end of the day before `d`."""
    return datetime(d.year, d.month, d.day, tzinfo=JST)


async def statuses(pool: asyncpg.Pool, cid: int) -> set[ContractStatus]:
    async with pool.acquire() as conn:
        c = await get_contract(conn, cid)
    assert c is not None
    return set(c.statuses)


async def events(pool: asyncpg.Pool, cid: int) -> list[str]:
    rows = await pool.fetch("SELECT kind FROM events WHERE contract_id = $1 ORDER BY seq", cid)
    return [r["kind"] for r in rows]


async def failed_timers(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM timers WHERE state = 'FAILED' OR last_error IS NOT NULL"))


async def at(h: Harness, when: datetime) -> None:
    """Move the clock and let the worker do everything due."""
    h.clock.set(when)
    await h.tick()
    await h.tick()  # what the first round scheduled in the past (none expected) runs too


async def monthly_paid_first(h: Harness) -> tuple[int, list[payment_repo.StoredInstalment]]:
    b = await book(h.pool)
    i = await issued(h.pool, b, payment_method=PaymentMethod.MONTHLY)
    async with h.pool.acquire() as conn:
        rows = await payment_repo.of_contract(conn, i.contract_id)
    await run(h.pool, record_payment, STAFF, PaymentRequest(i.contract_id, 1, 1, rows[0].amount_yen, START.date(),
                                                            PaidBy.CARD), h.clock.now())
    return i.contract_id, rows


async def test_first_premium_unpaid_delinquent_then_rescinded_from_the_start(harness: Harness) -> None:
    h = harness
    b = await book(h.pool)
    i = await issued(h.pool, b)  # annual, due 2026-04-10 (001 L823)
    cid = i.contract_id
    await at(h, datetime(2026, 4, 10, 23, 59, tzinfo=JST))
    assert await statuses(h.pool, cid) == {S.IN_FORCE}
    await at(h, midnight(date(2026, 4, 11)))  # the end of the due day
    assert await statuses(h.pool, cid) == {S.IN_FORCE, S.DELINQUENT}
    assert (await events(h.pool, cid))[-1] == "PREMIUM_OVERDUE"
    await at(h, datetime(2026, 5, 31, 23, 59, tzinfo=JST))  # M = April: grace to the end of May
    assert S.RESCINDED not in await statuses(h.pool, cid)
    await at(h, midnight(date(2026, 6, 1)))
    assert await statuses(h.pool, cid) == {S.RESCINDED}
    row = await h.pool.fetchrow("SELECT actor_role, effective_at FROM transactions WHERE contract_id = $1 AND kind = 'RESCIND'", cid)
    assert (row["actor_role"], row["effective_at"]) == ("system", datetime(2026, 4, 10, 16, 0, tzinfo=JST))
    before = await events(h.pool, cid)
    await at(h, midnight(date(2026, 6, 2)))
    assert await events(h.pool, cid) == before
    assert before.count("CONTRACT_RESCINDED") == 1 and before.count("PREMIUM_OVERDUE") == 1
    assert await failed_timers(h.pool) == 0


async def test_missed_instalment_rescinded_at_the_end_of_m_plus_1(harness: Harness) -> None:
    h = harness
    cid, rows = await monthly_paid_first(h)
    assert rows[1].due_on == date(2026, 5, 27)  # M = May
    await at(h, midnight(date(2026, 5, 27)))
    assert await statuses(h.pool, cid) == {S.IN_FORCE}
    await at(h, midnight(date(2026, 5, 28)))
    assert await statuses(h.pool, cid) == {S.IN_FORCE, S.DELINQUENT}
    await at(h, datetime(2026, 6, 30, 23, 59, tzinfo=JST))  # the last day of M+1 (001 L833)
    assert S.RESCINDED not in await statuses(h.pool, cid)
    await at(h, midnight(date(2026, 7, 1)))
    assert await statuses(h.pool, cid) == {S.RESCINDED}
    async with h.pool.acquire() as conn:
        states = [r.state for r in await payment_repo.of_contract(conn, cid)]
        live = await conn.fetchval("SELECT count(*) FROM timers WHERE state IN ('PENDING', 'ENQUEUED') AND kind LIKE 'payment.%'")
    assert states[:2] == [InstalmentState.PAID, InstalmentState.VOID] and live == 0
    assert await failed_timers(h.pool) == 0


async def test_not_at_fault_rescinded_at_the_end_of_m_plus_2(harness: Harness) -> None:
    h = harness
    cid, _rows = await monthly_paid_first(h)
    await at(h, midnight(date(2026, 5, 28)))
    h.clock.set(datetime(2026, 5, 29, 11, 0, tzinfo=JST))
    await run(h.pool, record_debit_result, STAFF, DebitResultRequest(
        cid, 1, 2, DebitResult.FAILED, date(2026, 5, 27), not_at_fault=True), h.clock.now())
    await at(h, midnight(date(2026, 7, 1)))  # past M+1, within M+2 (002b L5131: 翌々月末日)
    assert await statuses(h.pool, cid) == {S.IN_FORCE, S.DELINQUENT}
    await at(h, datetime(2026, 7, 31, 23, 59, tzinfo=JST))
    assert S.RESCINDED not in await statuses(h.pool, cid)
    await at(h, midnight(date(2026, 8, 1)))
    assert await statuses(h.pool, cid) == {S.RESCINDED}
    eff = await h.pool.fetchval("SELECT effective_at FROM transactions WHERE contract_id = $1 AND kind = 'RESCIND'", cid)
    assert eff == datetime(2026, 5, 27, 16, 0, tzinfo=JST)
    assert await failed_timers(h.pool) == 0


async def test_paying_cures_and_cancels_the_rescission(harness: Harness) -> None:
    h = harness
    cid, rows = await monthly_paid_first(h)
    await at(h, midnight(date(2026, 5, 28)))
    assert S.DELINQUENT in await statuses(h.pool, cid)
    h.clock.set(datetime(2026, 6, 10, 10, 0, tzinfo=JST))
    await run(h.pool, record_payment, STAFF, PaymentRequest(cid, 1, 2, rows[1].amount_yen, date(2026, 6, 10),
                                                            PaidBy.TRANSFER), h.clock.now())
    assert await statuses(h.pool, cid) == {S.IN_FORCE}
    async with h.pool.acquire() as conn:
        rescission = [t for t in await timers.for_subject(conn, rows[1].subject) if t.kind == KIND_RESCISSION]
    assert [t.state for t in rescission] == [timers.TimerState.CANCELLED]
    # instalment 3 (due 27 June) is debited on time; at the end of June and July nothing happens
    h.clock.set(datetime(2026, 6, 27, 18, 0, tzinfo=JST))
    await run(h.pool, record_debit_result, STAFF, DebitResultRequest(
        cid, 1, 3, DebitResult.PAID, date(2026, 6, 27)), h.clock.now())
    await at(h, midnight(date(2026, 7, 1)))
    assert await statuses(h.pool, cid) == {S.IN_FORCE}
    assert (await events(h.pool, cid)).count("PREMIUM_CURED") == 1
    assert await failed_timers(h.pool) == 0


async def test_copies_of_a_payment_job_take_effect_once(harness: Harness) -> None:
    h = harness
    b = await book(h.pool)
    i = await issued(h.pool, b)
    h.clock.set(midnight(date(2026, 4, 11)))
    assert await h.sweep() == 1  # the end of the first premium's due day
    tid = int(await h.pool.fetchval("SELECT id FROM timers WHERE state = 'ENQUEUED'"))
    for n in range(3):  # stale hand-overs and replays: arq accepts copies under other ids
        await h.arq.enqueue_job(RUN_TIMER, tid, _job_id=f"copy:{tid}:{n}", _queue_name=h.queue)
    worker = await h.work()
    assert worker.jobs_complete == 4 and worker.jobs_failed == 0
    assert (await events(h.pool, i.contract_id)).count("PREMIUM_OVERDUE") == 1
    lock = (await h.pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", i.contract_id))
    # the same check once more, as a new timer: still one event, no new lock version
    async with h.pool.acquire() as conn:
        await timers.schedule(conn, kind="payment.check_delinquent", subject="test:again",
                              due_at=h.clock.now() - timedelta(seconds=1), idempotency_key="test:again",
                              payload={"contractId": i.contract_id})
    await h.tick()
    assert (await events(h.pool, i.contract_id)).count("PREMIUM_OVERDUE") == 1
    assert await h.pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", i.contract_id) == lock
    assert await failed_timers(h.pool) == 0
