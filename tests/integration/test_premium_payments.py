"""Premium payment against real PostgreSQL (SPEC §4.7): the schedule a bound term stores, payments
and debit results, DELINQUENT, acceleration, rescission for non-payment, and the premium status
claims read. The timer checks are called directly here at chosen instants; tests/workers run them
through a real arq worker.

Dates: START 2026-04-10 (term 2026-04-10 16:00 .. 2027-04-10 16:00), monthly debits on the 27th.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.calendar import JST
from domain.claims.coverage import PremiumStatus
from domain.payments import rescission_deadline
from domain.services.access import Actor
from domain.services.contracts.cases import (
    IssueRequest,
    RenewRequest,
    create_quote,
    issue_contract,
)
from domain.services.errors import Refused
from domain.services.payments.premiums import (
    KIND_DELINQUENT,
    KIND_RESCISSION,
    DebitResult,
    DebitResultRequest,
    PaymentChange,
    PaymentRequest,
    check_delinquent,
    check_rescission,
    end_of,
    premium_status,
    record_debit_result,
    record_payment,
)
from domain.services.renewals.renew import renew_contract
from domain.store import payment_repo, timers
from domain.store.payment_repo import InstalmentState, PaidBy, StoredInstalment
from domain.store.policy_repo import get_contract, grades, terms
from domain.store.uow import UnitOfWork
from domain.vocab import ContractStatus, PaymentMethod
from tests.integration.test_contract_services import NOW, STAFF, START, book, issued, quote_req, run

S = ContractStatus
TABLES = ("contracts", "terms", "contract_versions", "transactions", "events", "grade_records", "instalments",
          "payment_records", "timers")


def at(d: date) -> datetime:
    """The end of day d-1: when a check "at the end of d-1" runs."""
    return datetime(d.year, d.month, d.day, 0, 0, tzinfo=JST)


async def snapshot(pool: asyncpg.Pool) -> dict[str, str | None]:
    async with pool.acquire() as conn:
        return {t: await conn.fetchval(f"SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM {t} t")
                for t in TABLES}


async def instalments(pool: asyncpg.Pool, cid: int) -> list[StoredInstalment]:
    async with pool.acquire() as conn:
        return await payment_repo.of_contract(conn, cid)


async def statuses(pool: asyncpg.Pool, cid: int) -> set[ContractStatus]:
    async with pool.acquire() as conn:
        c = await get_contract(conn, cid)
    assert c is not None
    return set(c.statuses)


async def event_kinds(pool: asyncpg.Pool, cid: int) -> list[str]:
    async with pool.acquire() as conn:
        return [r["kind"] for r in await conn.fetch("SELECT kind FROM events WHERE contract_id = $1 ORDER BY seq", cid)]


async def pay(pool: asyncpg.Pool, cid: int, number: int, amount: int, on: date, now: datetime, *,
              term_no: int = 1, actor: Actor = STAFF) -> PaymentChange:
    return await run(pool, record_payment, actor, PaymentRequest(cid, term_no, number, amount, on, PaidBy.TRANSFER), now)


async def debit(pool: asyncpg.Pool, cid: int, number: int, on: date, now: datetime, *, failed: bool = True,
                not_at_fault: bool = False) -> PaymentChange:
    req = DebitResultRequest(cid, 1, number, DebitResult.FAILED if failed else DebitResult.PAID, on, not_at_fault)
    return await run(pool, record_debit_result, STAFF, req, now)


async def delinquent_check(pool: asyncpg.Pool, cid: int, now: datetime) -> None:
    async with UnitOfWork(pool) as uow:
        await check_delinquent(uow, cid, now)


async def rescission_check(pool: asyncpg.Pool, cid: int, now: datetime) -> bool:
    async with UnitOfWork(pool) as uow:
        return await check_rescission(uow, cid, now)


async def status_at(pool: asyncpg.Pool, cid: int, when: datetime) -> PremiumStatus:
    async with UnitOfWork(pool) as uow:
        return await premium_status(uow, cid, when)


async def refused(pool: asyncpg.Pool, fn: Any, actor: Actor, req: Any, now: datetime) -> str:
    """The refusal code, after checking nothing changed (md5 of every table payments touch)."""
    before = await snapshot(pool)
    with pytest.raises(Refused) as info:
        await run(pool, fn, actor, req, now)
    assert await snapshot(pool) == before
    return info.value.errors[0].code


async def monthly(pool: asyncpg.Pool) -> tuple[int, list[StoredInstalment]]:
    b = await book(pool)
    i = await issued(pool, b, payment_method=PaymentMethod.MONTHLY)
    rows = await instalments(pool, i.contract_id)
    # the first premium is paid at contracting (001 L823)
    await pay(pool, i.contract_id, 1, rows[0].amount_yen, START, at(START))
    return i.contract_id, rows


# --- the schedule of a bound term ---------------------------------------------------------------------


async def test_annual_term_stores_one_instalment_and_two_timers(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    (row,) = await instalments(pool, i.contract_id)
    assert (row.term_no, row.number, row.plan, row.due_on, row.amount_yen, row.state) == (
        1, 1, PaymentMethod.ANNUAL, START, i.premium_after_yen, InstalmentState.DUE)
    async with pool.acquire() as conn:
        ts = await timers.for_subject(conn, row.subject)
    # end of the due day, and the end of M+1 (due in April → end of May, 001 L833)
    assert [(t.kind, t.due_at) for t in ts] == [
        (KIND_DELINQUENT, at(date(2026, 4, 11))), (KIND_RESCISSION, at(date(2026, 6, 1)))]
    assert all(t.payload == {"contractId": i.contract_id, "instalmentId": row.id} for t in ts)


async def test_monthly_term_stores_the_quoted_instalments(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b, payment_method=PaymentMethod.MONTHLY)
    rows = await instalments(pool, i.contract_id)
    async with pool.acquire() as conn:
        premium = (await conn.fetchval(
            "SELECT premium::text FROM contract_versions WHERE contract_id = $1 LIMIT 1", i.contract_id))
    assert len(rows) == 12 and sum(r.amount_yen for r in rows) == i.premium_after_yen
    assert str([r.amount_yen for r in rows]).replace(" ", "") in premium.replace(" ", "")  # as rated
    # first at contracting (001 L823), then the debit day of each following month (001 L827)
    assert [r.due_on for r in rows[:3]] == [START, date(2026, 5, 27), date(2026, 6, 27)]
    assert rows[-1].due_on == date(2027, 3, 27)
    assert {r.plan for r in rows} == {PaymentMethod.MONTHLY}


async def test_renewal_binds_the_next_terms_schedule(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    later = datetime(2027, 3, 1, 10, 0, tzinfo=JST)
    await pay(pool, i.contract_id, 1, i.premium_after_yen, START, at(START))
    r = await run(pool, renew_contract, b.agent, RenewRequest(i.contract_id, i.lock_version), later)
    rows = await instalments(pool, i.contract_id)
    assert [(x.term_no, x.number, x.due_on, x.state) for x in rows] == [
        (1, 1, START, InstalmentState.PAID), (2, 1, date(2027, 4, 10), InstalmentState.DUE)]
    assert rows[1].amount_yen == r.premium_after_yen


# --- payments -----------------------------------------------------------------------------------------


async def test_payment_marks_paid_logs_and_cancels_the_timers(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    (row,) = await instalments(pool, i.contract_id)
    p = await pay(pool, i.contract_id, 1, i.premium_after_yen, date(2026, 4, 1), NOW)
    assert (p.instalment_state, p.delinquent, p.amount_due_now_yen) == (InstalmentState.PAID, False, 0)
    (row,) = await instalments(pool, i.contract_id)
    assert (row.state, row.paid_on, row.paid_by) == (InstalmentState.PAID, date(2026, 4, 1), PaidBy.TRANSFER)
    async with pool.acquire() as conn:
        ts = await timers.for_subject(conn, row.subject)
        (rec,) = await payment_repo.records_of(conn, row.id)
    assert {t.state for t in ts} == {timers.TimerState.CANCELLED}
    assert (rec.kind.value, rec.amount_yen, rec.actor_subject) == ("PAID", i.premium_after_yen, STAFF.subject)
    assert (await event_kinds(pool, i.contract_id))[-1] == "PREMIUM_PAID"
    # a timer that fires anyway finds nothing to do
    await delinquent_check(pool, i.contract_id, at(date(2026, 4, 11)))
    assert await rescission_check(pool, i.contract_id, at(date(2026, 6, 1))) is False
    assert await statuses(pool, i.contract_id) == {S.IN_FORCE}


async def test_payment_refusals_change_nothing(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    other = await book(pool)
    i = await issued(pool, b)
    j = await issued(pool, other)
    amount = i.premium_after_yen
    ok = PaymentRequest(i.contract_id, 1, 1, amount, date(2026, 4, 1), PaidBy.CARD)

    def req(**kw: Any) -> PaymentRequest:
        from dataclasses import replace
        return replace(ok, **kw)

    assert await refused(pool, record_payment, STAFF, req(amount_yen=-1), NOW) == "NEGATIVE_AMOUNT"
    assert await refused(pool, record_payment, STAFF, req(amount_yen=amount - 10), NOW) == "AMOUNT_MISMATCH"
    assert await refused(pool, record_payment, STAFF, req(number=2), NOW) == "INSTALMENT_NOT_FOUND"
    assert await refused(pool, record_payment, STAFF, req(term_no=2), NOW) == "INSTALMENT_NOT_FOUND"
    assert await refused(pool, record_payment, STAFF, req(paid_on=date(2026, 4, 2)), NOW) == "PAYMENT_IN_FUTURE"
    # only the insurer records money; an agent of the agency is refused, a stranger sees nothing
    assert await refused(pool, record_payment, b.agent, ok, NOW) == "FORBIDDEN"
    assert await refused(pool, record_payment, b.holder_actor, ok, NOW) == "FORBIDDEN"
    assert await refused(pool, record_payment, other.holder_actor, ok, NOW) == "CONTRACT_NOT_FOUND"
    assert await refused(pool, record_payment, other.agent, ok, NOW) == "CONTRACT_NOT_FOUND"
    assert await refused(pool, record_payment, b.holder_actor, req(contract_id=j.contract_id), NOW) == "CONTRACT_NOT_FOUND"
    await run(pool, record_payment, STAFF, ok, NOW)
    assert await refused(pool, record_payment, STAFF, ok, NOW) == "ALREADY_PAID"
    debit_early = DebitResultRequest(j.contract_id, 1, 1, DebitResult.FAILED, date(2026, 4, 9))
    assert await refused(pool, record_debit_result, STAFF, debit_early, at(START)) == "DEBIT_BEFORE_DUE"


async def test_dry_run_stores_nothing(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    before = await snapshot(pool)
    p = await run(pool, record_payment, STAFF, PaymentRequest(i.contract_id, 1, 1, i.premium_after_yen,
                                                              date(2026, 4, 1), PaidBy.CARD), NOW, dry_run=True)
    assert p.instalment_state is InstalmentState.PAID
    assert await snapshot(pool) == before


# --- delinquency and rescission -------------------------------------------------------------------------


async def test_first_premium_unpaid_no_cover_from_day_one(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    cid = i.contract_id
    accident = datetime(2026, 4, 20, 10, 0, tzinfo=JST)
    # a claim before the first premium is paid waits for it (SPEC §4.7)
    assert await status_at(pool, cid, accident) is PremiumStatus.FIRST_PREMIUM_UNPAID
    await delinquent_check(pool, cid, at(date(2026, 4, 11)))  # end of the due day, unpaid
    assert await statuses(pool, cid) == {S.IN_FORCE, S.DELINQUENT}
    await delinquent_check(pool, cid, at(date(2026, 4, 11)))  # twice: no second event
    assert (await event_kinds(pool, cid))[-1:] == ["PREMIUM_OVERDUE"]
    assert (await event_kinds(pool, cid)).count("PREMIUM_OVERDUE") == 1
    (row,) = await instalments(pool, cid)
    assert row.state is InstalmentState.OVERDUE
    # still unpaid at the end of May (end of M+1, 001 L833): not yet rescinded on 31 May
    assert await rescission_check(pool, cid, datetime(2026, 5, 31, 23, 59, tzinfo=JST)) is False
    assert await rescission_check(pool, cid, at(date(2026, 6, 1))) is True
    assert await statuses(pool, cid) == {S.RESCINDED}
    async with pool.acquire() as conn:
        (term,) = await terms(conn, cid)
        tx = await conn.fetchrow("SELECT actor_role, reason, effective_at FROM transactions "
                                 "WHERE contract_id = $1 AND kind = 'RESCIND'", cid)
        history = await grades(conn, cid)
        live = await conn.fetchval("SELECT count(*) FROM timers WHERE subject = $1 AND state IN ('PENDING', 'ENQUEUED')",
                                   row.subject)
    # rescinded from the start: no cover from day one (SPEC §4.7), by the system, grade lost
    assert term.status.value == "RESCINDED"
    assert (tx["actor_role"], tx["effective_at"]) == ("system", term.starts_at)
    assert tx["reason"].startswith("NON_PAYMENT")
    assert [g.source for g in history] == ["NEW", "RESCINDED"]
    assert live == 0
    (row,) = await instalments(pool, cid)
    assert row.state is InstalmentState.VOID
    assert await rescission_check(pool, cid, at(date(2026, 6, 2))) is False  # idempotent
    assert (await event_kinds(pool, cid)).count("CONTRACT_RESCINDED") == 1
    # paying a rescinded contract is refused
    assert await refused(pool, record_payment, STAFF, PaymentRequest(
        cid, 1, 1, i.premium_after_yen, date(2026, 6, 2), PaidBy.TRANSFER), at(date(2026, 6, 2))) == "CONTRACT_RESCINDED"


async def test_missed_instalment_delinquent_cured_by_payment(pool: asyncpg.Pool) -> None:
    cid, rows = await monthly(pool)
    second = rows[1]  # due 2026-05-27: month M = May
    await delinquent_check(pool, cid, at(date(2026, 5, 27)))  # not yet the end of the due day
    assert S.DELINQUENT not in await statuses(pool, cid)
    await delinquent_check(pool, cid, at(date(2026, 5, 28)))
    assert S.DELINQUENT in await statuses(pool, cid)
    accident = datetime(2026, 6, 5, 10, 0, tzinfo=JST)
    assert await status_at(pool, cid, accident) is PremiumStatus.OVERDUE  # the claim waits
    # paid within M+1: cured, the rescission timer cancelled
    p = await pay(pool, cid, 2, second.amount_yen, date(2026, 6, 20), datetime(2026, 6, 20, 10, 0, tzinfo=JST))
    assert not p.delinquent and S.DELINQUENT not in p.statuses
    assert (await event_kinds(pool, cid))[-2:] == ["PREMIUM_PAID", "PREMIUM_CURED"]
    async with pool.acquire() as conn:
        ts = await timers.for_subject(conn, second.subject)
    assert {t.state for t in ts} == {timers.TimerState.CANCELLED}
    assert await status_at(pool, cid, accident) is PremiumStatus.PAID  # the wait is over
    assert await rescission_check(pool, cid, at(date(2026, 7, 1))) is False


async def test_missed_instalment_rescinded_at_the_end_of_m_plus_1(pool: asyncpg.Pool) -> None:
    cid, rows = await monthly(pool)
    # due 2026-05-27 (M = May): the deadline is 2026-06-30, the end of M+1 (001 L833)
    assert rescission_deadline(rows[1].due_on, not_at_fault=False) == date(2026, 6, 30)
    await delinquent_check(pool, cid, at(date(2026, 5, 28)))
    assert await status_at(pool, cid, at(date(2026, 7, 1))) is PremiumStatus.DEFAULTED
    assert await rescission_check(pool, cid, at(date(2026, 6, 30))) is False
    assert await rescission_check(pool, cid, at(date(2026, 7, 1))) is True
    async with pool.acquire() as conn:
        eff = await conn.fetchval("SELECT effective_at FROM transactions WHERE contract_id = $1 AND kind = 'RESCIND'", cid)
    assert eff == datetime(2026, 5, 27, 16, 0, tzinfo=JST)  # from the unpaid instalment's due day
    assert [r.state for r in await instalments(pool, cid)][:3] == [
        InstalmentState.PAID, InstalmentState.VOID, InstalmentState.VOID]


async def test_not_at_fault_moves_the_deadline_to_the_end_of_m_plus_2(pool: asyncpg.Pool) -> None:
    cid, rows = await monthly(pool)
    second = rows[1]
    now = datetime(2026, 5, 29, 10, 0, tzinfo=JST)
    d = await debit(pool, cid, 2, date(2026, 5, 27), now, not_at_fault=True)
    assert d.delinquent and d.instalment_state is InstalmentState.OVERDUE
    async with pool.acquire() as conn:
        live = [t for t in await timers.for_subject(conn, second.subject)
                if t.kind == KIND_RESCISSION and t.state is timers.TimerState.PENDING]
        (rec,) = await payment_repo.records_of(conn, second.id)
    # 001 L833 / 002b L5131: 翌々月末 → 2026-07-31
    assert [t.due_at for t in live] == [end_of(date(2026, 7, 31))]
    assert (rec.kind.value, rec.not_at_fault) == ("DEBIT_FAILED", True)
    assert await rescission_check(pool, cid, at(date(2026, 7, 1))) is False  # the M+1 timer, if it ran
    assert S.DELINQUENT in await statuses(pool, cid)
    assert await rescission_check(pool, cid, at(date(2026, 8, 1))) is True
    # a debit result "paid" on a rescinded contract is refused
    assert await refused(pool, record_debit_result, STAFF, DebitResultRequest(
        cid, 1, 2, DebitResult.PAID, date(2026, 8, 1)), at(date(2026, 8, 2))) == "CONTRACT_RESCINDED"


async def test_debit_paid_result_pays_on_the_debit_day(pool: asyncpg.Pool) -> None:
    cid, _rows = await monthly(pool)
    p = await debit(pool, cid, 2, date(2026, 5, 27), datetime(2026, 5, 27, 18, 0, tzinfo=JST), failed=False)
    assert p.instalment_state is InstalmentState.PAID
    row = (await instalments(pool, cid))[1]
    assert (row.paid_on, row.paid_by) == (date(2026, 5, 27), PaidBy.BANK_DEBIT)
    await delinquent_check(pool, cid, at(date(2026, 5, 28)))
    assert S.DELINQUENT not in await statuses(pool, cid)


async def test_second_run_of_two_failed_debits_accelerates_the_rest(pool: asyncpg.Pool) -> None:
    # 002b L5134-5135: 2か月連続で口座振替不能となった回数が2回目以降 → 残りの保険料全額を一括
    cid, rows = await monthly(pool)
    amount = {r.number: r.amount_yen for r in rows}
    due = {r.number: r.due_on for r in rows}

    async def late(n: int, on: date) -> None:
        await debit(pool, cid, n, due[n], datetime.combine(due[n] + timedelta(days=1), datetime.min.time(), JST) + timedelta(hours=10))
        await pay(pool, cid, n, amount[n], on, at(on) + timedelta(hours=12))

    # run 1: instalments 2 and 3 fail, paid late in July; 4 and 5 debited on time
    await debit(pool, cid, 2, due[2], at(date(2026, 5, 28)) + timedelta(hours=10))
    await late(3, date(2026, 7, 10))
    await pay(pool, cid, 2, amount[2], date(2026, 7, 10), at(date(2026, 7, 10)) + timedelta(hours=13))
    for n in (4, 5):
        await debit(pool, cid, n, due[n], at(due[n]) + timedelta(hours=18), failed=False)
    # run 2: 6 (due 2026-09-27) and 7 (due 2026-10-27) fail
    await debit(pool, cid, 6, due[6], at(date(2026, 9, 28)) + timedelta(hours=10))
    assert all(r.accelerated_on is None for r in await instalments(pool, cid))  # one failure is no run
    await delinquent_check(pool, cid, at(date(2026, 10, 28)))  # the end of 7's due day, unpaid
    rows = await instalments(pool, cid)
    assert {r.number: r.accelerated_on for r in rows if r.accelerated_on} == {n: due[7] for n in range(8, 13)}
    assert {r.state for r in rows[6:]} == {InstalmentState.OVERDUE}
    assert (await event_kinds(pool, cid)).count("PREMIUM_ACCELERATED") == 1
    await delinquent_check(pool, cid, at(date(2026, 10, 29)))  # again: nothing new
    assert (await event_kinds(pool, cid)).count("PREMIUM_ACCELERATED") == 1
    p = await pay(pool, cid, 6, amount[6], date(2026, 10, 30), datetime(2026, 10, 30, 10, 0, tzinfo=JST))
    assert p.accelerated and p.delinquent
    assert p.amount_due_now_yen == sum(amount[n] for n in range(7, 13))  # everything left, at once
    # the accelerated instalments' checks moved to the acceleration day's deadline (end of November)
    async with pool.acquire() as conn:
        live = [t for t in await timers.for_subject(conn, rows[11].subject) if t.state is timers.TimerState.PENDING]
    assert sorted(t.due_at for t in live) == [at(date(2026, 10, 28)), end_of(date(2026, 11, 30))]
    # unpaid past the end of November: rescinded from instalment 7's due day
    assert await rescission_check(pool, cid, at(date(2026, 12, 1))) is True
    async with pool.acquire() as conn:
        eff = await conn.fetchval("SELECT effective_at FROM transactions WHERE contract_id = $1 AND kind = 'RESCIND'", cid)
    assert eff == datetime(2026, 10, 27, 16, 0, tzinfo=JST)


async def test_premium_status_maps_every_state(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    cid = i.contract_id
    assert await status_at(pool, cid, datetime(2026, 4, 20, tzinfo=JST)) is PremiumStatus.FIRST_PREMIUM_UNPAID
    assert await status_at(pool, cid, datetime(2026, 6, 1, tzinfo=JST)) is PremiumStatus.FIRST_PREMIUM_DEFAULTED
    assert await status_at(pool, cid, datetime(2026, 4, 9, tzinfo=JST)) is PremiumStatus.PAID  # before cover
    await pay(pool, cid, 1, i.premium_after_yen, date(2026, 4, 15), at(date(2026, 4, 15)))
    assert await status_at(pool, cid, datetime(2026, 4, 12, tzinfo=JST)) is PremiumStatus.PAID


async def test_contract_without_a_schedule_counts_as_paid(pool: asyncpg.Pool) -> None:
    from tests.factories import rated_contract

    made = await rated_contract(pool)
    assert await status_at(pool, made.created.contract.id, datetime(2026, 6, 1, tzinfo=JST)) is PremiumStatus.PAID


async def test_quote_has_no_schedule_until_issued(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    q = await run(pool, create_quote, b.agent, quote_req(b))
    assert await instalments(pool, q.contract_id) == []
    await run(pool, issue_contract, b.agent, IssueRequest(q.contract_id, q.lock_version))
    assert len(await instalments(pool, q.contract_id)) == 1
