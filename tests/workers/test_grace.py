"""Expiry and the forgotten-renewal window with a real arq worker and a ManualClock moved across
months (SPEC §4.6.1; 002b L4153-4160): expiry → grace → reminders on day 0/7/23 → renewal on
day 29 confirms / day 31 lapsed; rakuten and kyosai simply expire; tokio auto-renews unless
declined (004 L1449-1451); running every timer twice changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import asyncpg
import pytest

from domain.calendar import JST, YearMonth, cover_moment
from domain.lifecycle import Role
from domain.products.model import UsePurpose
from domain.services.access import Actor
from domain.services.contracts.parties import register_party, register_vehicle
from domain.services.contracts.quote import create_quote, issue_contract
from domain.services.contracts.types import (
    CoverageInput,
    DriverInput,
    IssueRequest,
    QuoteRequest,
    RegisterParty,
    RegisterVehicle,
    RenewRequest,
)
from domain.services.errors import Refused
from domain.services.renewals.renew import renew_contract
from domain.services.windows import expiry, grace
from domain.services.windows.timers import schedule_window_timers
from domain.store.party_repo import PartyKind, create_agency
from domain.store.uow import UnitOfWork
from domain.store.window_repo import windows_of
from domain.vocab import AgeCondition, Channel, LicenceColour, Relationship, UseType
from tests.factories import pay_all_instalments, unique
from tests.workers.conftest import Harness

AIOI, RAKUTEN, TOKIO, KYOSAI = "aioi-tough-biz", "rakuten-drive-assist", "tokio-total-assist-group", "kyosai-accident-expense"
STAFF = Actor("staff-grace-test", Role.STAFF)
ISSUED_ON = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
START = date(2026, 4, 10)
EXPIRY = cover_moment(date(2027, 4, 10))      # 16:00 JST
CONTRACT_TABLES = ("windows", "events", "grade_records", "version_drivers", "contract_versions", "transactions",
                   "terms", "idempotency_records", "contracts", "vehicles", "parties", "agencies")
STATE_TABLES = ("contracts", "terms", "windows", "events", "transactions", "contract_versions")


@pytest.fixture
async def h(harness: Harness) -> AsyncIterator[Harness]:
    """The worker harness over an empty book (expiry jobs take every term ending at their instant)."""
    async with harness.pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(CONTRACT_TABLES)} RESTART IDENTITY CASCADE")
    harness.clock.set(ISSUED_ON)
    yield harness


async def issue(pool: asyncpg.Pool, product: str, now: datetime = ISSUED_ON, start: date = START) -> int:
    """A contract issued through the use cases (so the TermBound reaction schedules its expiry)."""
    async with UnitOfWork(pool) as uow:
        agency = (await create_agency(uow, unique("AG"), "テスト代理店", "Test agency")).id
        holder = await register_party(uow, STAFF, RegisterParty(
            PartyKind.PERSON, "佐藤 花子", "サトウ ハナコ", "Hanako Sato", date(1980, 5, 5), "100-0001", "東京都千代田区1-1",
            licence_colour=LicenceColour.GOLD, licence_date=date(2000, 6, 1), agency_id=agency), now)
        car = await register_vehicle(uow, STAFF, RegisterVehicle(
            UseType.PRIVATE_STANDARD_PASSENGER, registration_no=unique("品川300た"), first_registration=YearMonth(2019, 4),
            model_release=YearMonth(2018, 10), rating_classes=(("BI", 5), ("PD", 6), ("INJURY", 4), ("VEHICLE", 7)),
            value_yen=2_000_000, owner_party_id=holder.id, account_party_id=holder.id, agency_id=agency), now)
        coverages = {
            AIOI: ("BI", "PD", "PI", "VEHICLE"), TOKIO: ("BI", "PD", "PI", "VEHICLE"),
            RAKUTEN: ("BI", "PD", "PIP", "VEHICLE"), KYOSAI: ("ACCIDENT_EXPENSE",),
        }[product]
        channel = Channel.GROUP if product == TOKIO else Channel.AGENT
        q = await create_quote(uow, STAFF, QuoteRequest(
            product_id=product, start_date=start, policyholder_id=holder.id, named_insured_id=holder.id,
            vehicle_id=car.id, coverages=tuple(CoverageInput(c) for c in coverages),
            drivers=(DriverInput(holder.id, Relationship.SELF),), channel=channel, agency_id=agency,
            age_condition=AgeCondition.ANY if product == KYOSAI else AgeCondition.AGE_26,
            use_purpose=UsePurpose.DAILY_LEISURE if product in (RAKUTEN, TOKIO) else None,
            mileage_class=5 if product == RAKUTEN else None), now)
        c = await issue_contract(uow, STAFF, IssueRequest(q.contract_id, q.lock_version), now)
    await pay_all_instalments(pool, c.contract_id, now)  # non-payment is another story
    return c.contract_id


async def renew(pool: asyncpg.Pool, contract_id: int, now: datetime, *, premium_paid: bool = True) -> object:
    async with UnitOfWork(pool) as uow:
        version = await uow.conn.fetchval("SELECT lock_version FROM contracts WHERE id = $1", contract_id)
        return await renew_contract(uow, STAFF, RenewRequest(contract_id, version, premium_paid=premium_paid), now)


async def refused(pool: asyncpg.Pool, contract_id: int, now: datetime, **kw: bool) -> str:
    with pytest.raises(Refused) as e:
        await renew(pool, contract_id, now, **kw)
    return e.value.errors[0].code


async def statuses(pool: asyncpg.Pool, contract_id: int) -> list[str]:
    return list(await pool.fetchval("SELECT statuses FROM contracts WHERE id = $1", contract_id))


async def term_rows(pool: asyncpg.Pool, contract_id: int) -> list[tuple[int, str, datetime, bool]]:
    rows = await pool.fetch("SELECT term_no, status, starts_at, renewed_in_grace FROM terms WHERE contract_id = $1 "
                            "ORDER BY term_no", contract_id)
    return [(r["term_no"], r["status"], r["starts_at"], r["renewed_in_grace"]) for r in rows]


async def events(pool: asyncpg.Pool, contract_id: int) -> list[tuple[int, str, dict]]:
    rows = await pool.fetch("SELECT seq, kind, payload FROM events WHERE contract_id = $1 ORDER BY seq", contract_id)
    return [(r["seq"], r["kind"], r["payload"]) for r in rows]


async def reminders(pool: asyncpg.Pool, contract_id: int) -> list[tuple[int, int]]:
    return [(p["day"], p["daysLeft"]) for _, k, p in await events(pool, contract_id) if k == "RENEWAL_REMINDER"]


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    out = {}
    async with pool.acquire() as conn:
        for t in STATE_TABLES:
            out[t] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


async def at(h: Harness, when: datetime) -> None:
    """Move the clock and let the worker do everything due (chunk timers need a second round)."""
    h.clock.set(when)
    for _ in range(3):
        await h.tick()


async def rerun_every_timer(h: Harness) -> None:
    """Hand every finished timer to the worker again: their effects must not repeat."""
    async with h.pool.acquire() as conn:
        await conn.execute("UPDATE timers SET state = 'PENDING' WHERE state = 'DONE'")
    await h.tick()


def day(n: int, hour: int = 10) -> datetime:
    return datetime.combine(EXPIRY.date() + timedelta(days=n), datetime.min.time(), tzinfo=JST) + timedelta(hours=hour)


# ------------------------------------------------------------------------------------------------


async def test_a_bound_term_schedules_the_timer_of_its_expiry_instant_once(h: Harness) -> None:
    a = await issue(h.pool, AIOI)
    b = await issue(h.pool, RAKUTEN)
    rows = await h.pool.fetch("SELECT kind, subject, idempotency_key, due_at FROM timers WHERE kind = 'term.expiry'")
    # Both terms end at 2027-04-10 16:00: one timer for the instant (P6: set-based, not per contract).
    assert [(r["kind"], r["subject"], r["idempotency_key"]) for r in rows] == [
        ("term.expiry", "expiry:2027-04-10T16:00:00+09:00", "expiry:2027-04-10T16:00:00+09:00")]
    assert rows[0]["due_at"] == EXPIRY
    assert a != b


async def test_expiry_grace_reminders_and_renewal_on_day_29(h: Harness) -> None:
    cid = await issue(h.pool, AIOI)
    await at(h, EXPIRY - timedelta(minutes=1))
    assert await statuses(h.pool, cid) == ["IN_FORCE"]  # not due yet

    await at(h, EXPIRY)
    assert await statuses(h.pool, cid) == ["EXPIRED", "IN_RENEWAL_GRACE"]
    (w,) = await windows_of(h.pool, cid)
    assert w.window.state.value == "OPEN"
    assert w.window.event_on == date(2027, 4, 10)
    assert w.window.full_until == date(2027, 5, 10)  # day 30 counting from the day after (002b L4161)
    assert w.window.opens_at == EXPIRY
    assert [t[1] for t in await term_rows(h.pool, cid)] == ["EXPIRED"]
    kinds = [k for _, k, _ in await events(h.pool, cid)]
    assert kinds[-2:] == ["RENEWAL_GRACE_OPENED", "RENEWAL_REMINDER"]
    seqs = [s for s, _, _ in await events(h.pool, cid)]
    assert seqs == list(range(1, len(seqs) + 1))  # gapless per contract
    assert await reminders(h.pool, cid) == [(0, 31)]  # SPEC §4.6.1: a reminder on the expiry

    await at(h, day(7))
    assert await reminders(h.pool, cid) == [(0, 31), (7, 24)]   # day 7: 24 days left, today included
    await at(h, day(22))
    assert len(await reminders(h.pool, cid)) == 2
    await at(h, day(23))
    assert await reminders(h.pool, cid) == [(0, 31), (7, 24), (23, 8)]

    await at(h, day(29))
    before = await snapshot(h.pool)
    assert await refused(h.pool, cid, h.clock.now(), premium_paid=False) == "PREMIUM_NOT_PAID"
    assert await snapshot(h.pool) == before   # a refused renewal changes nothing
    await renew(h.pool, cid, h.clock.now())
    assert await statuses(h.pool, cid) == ["IN_FORCE"]
    terms = await term_rows(h.pool, cid)
    # The new term starts at the old expiry (cover continuous) and is marked renewed in grace.
    assert terms[1][1:] == ("IN_FORCE", EXPIRY, True)
    (w,) = await windows_of(h.pool, cid)
    assert (w.window.state.value, w.window.filed_on, w.window.outcome.value if w.window.outcome else None) == (
        "CONFIRMED", date(2027, 5, 9), "FULL")
    live = await h.pool.fetchval("SELECT count(*) FROM timers WHERE subject = $1 AND state IN ('PENDING', 'ENQUEUED')",
                                 f"window:{w.id}")
    assert live == 0  # the lapse is cancelled

    await at(h, day(31))
    assert await statuses(h.pool, cid) == ["IN_FORCE"]
    before = await snapshot(h.pool)
    await rerun_every_timer(h)
    assert await snapshot(h.pool) == before

    # The term renewed in grace expires a year later: no window this time (002b L4158), and a
    # renewal after that expiry is refused.
    next_expiry = cover_moment(date(2028, 4, 10))
    await at(h, next_expiry)
    assert await statuses(h.pool, cid) == ["EXPIRED"]
    assert len(await windows_of(h.pool, cid)) == 1
    assert await refused(h.pool, cid, next_expiry + timedelta(days=2)) == "GRACE_USED_LAST_TERM"


async def test_unrenewed_window_lapses_after_day_30(h: Harness) -> None:
    cid = await issue(h.pool, AIOI)
    await at(h, EXPIRY)
    await at(h, day(30, hour=23))
    assert await statuses(h.pool, cid) == ["EXPIRED", "IN_RENEWAL_GRACE"]
    # Day 31 before the lapse timer ran: the filing comes too late all the same.
    h.clock.set(day(31, hour=0) + timedelta(seconds=1))
    assert await refused(h.pool, cid, h.clock.now()) == "CONTRACT_LAPSED"
    await at(h, h.clock.now())
    assert await statuses(h.pool, cid) == ["EXPIRED", "LAPSED"]
    (w,) = await windows_of(h.pool, cid)
    assert w.window.state.value == "VOID"
    assert [t[1] for t in await term_rows(h.pool, cid)] == ["LAPSED"]
    lapsed = [p for _, k, p in await events(h.pool, cid) if k == "CONTRACT_LAPSED"]
    assert len(lapsed) == 1 and lapsed[0]["lapsedAsOf"] == EXPIRY.isoformat()
    tx = await h.pool.fetch("SELECT kind, effective_at, actor_role FROM transactions WHERE contract_id = $1 AND kind = 'LAPSE'", cid)
    assert [(r["effective_at"], r["actor_role"]) for r in tx] == [(EXPIRY, "system")]
    assert await refused(h.pool, cid, day(31)) == "CONTRACT_LAPSED"
    before = await snapshot(h.pool)
    await rerun_every_timer(h)
    assert await snapshot(h.pool) == before


@pytest.mark.parametrize("product", [RAKUTEN, KYOSAI])
async def test_products_without_the_rider_simply_expire(h: Harness, product: str) -> None:
    cid = await issue(h.pool, product)
    await at(h, EXPIRY)
    assert await statuses(h.pool, cid) == ["EXPIRED"]
    assert await windows_of(h.pool, cid) == []
    assert [k for _, k, _ in await events(h.pool, cid)][-1] == "CONTRACT_EXPIRED"
    assert [t[1] for t in await term_rows(h.pool, cid)] == ["EXPIRED"]
    with pytest.raises(Refused):
        await renew(h.pool, cid, day(3))
    before = await snapshot(h.pool)
    await rerun_every_timer(h)
    assert await snapshot(h.pool) == before


async def test_tokio_auto_renews_unless_declined(h: Harness) -> None:
    kept = await issue(h.pool, TOKIO)
    declined = await issue(h.pool, TOKIO)
    async with UnitOfWork(h.pool) as uow:
        version = await uow.conn.fetchval("SELECT lock_version FROM contracts WHERE id = $1", declined)
        await grace.decline_renewal(uow, STAFF, grace.DeclineRenewalRequest(declined, version, "moving abroad"),
                                    datetime(2027, 2, 1, 10, 0, tzinfo=JST))
    assert await statuses(h.pool, declined) == ["DO_NOT_RENEW", "IN_FORCE"]
    await at(h, EXPIRY)
    # Renewal backup (004 L1449-1451): same terms from the expiry, by the system.
    assert await statuses(h.pool, kept) == ["IN_FORCE"]
    assert [(n, s, st) for n, s, st, _ in await term_rows(h.pool, kept)] == [
        (1, "EXPIRED", cover_moment(START)), (2, "IN_FORCE", EXPIRY)]
    renewed = await h.pool.fetchrow("SELECT actor_role, effective_at FROM transactions WHERE contract_id = $1 "
                                    "AND kind = 'RENEW'", kept)
    assert (renewed["actor_role"], renewed["effective_at"]) == ("system", EXPIRY)
    assert await statuses(h.pool, declined) == ["DO_NOT_RENEW", "EXPIRED"]
    assert [t[1] for t in await term_rows(h.pool, declined)] == ["EXPIRED"]
    assert await windows_of(h.pool, kept) == [] and await windows_of(h.pool, declined) == []
    before = await snapshot(h.pool)
    await rerun_every_timer(h)
    assert await snapshot(h.pool) == before


async def test_a_contract_renewed_before_expiry_rolls_over_without_a_window(h: Harness) -> None:
    cid = await issue(h.pool, AIOI)
    await renew(h.pool, cid, datetime(2027, 3, 1, 10, 0, tzinfo=JST))
    # (term 1 says SCHEDULED: issued before its start, and nothing yet marks a start; see the report)
    assert [t[1] for t in await term_rows(h.pool, cid)][1:] == ["SCHEDULED"]
    await at(h, EXPIRY)
    assert [t[1] for t in await term_rows(h.pool, cid)] == ["EXPIRED", "IN_FORCE"]
    assert await statuses(h.pool, cid) == ["IN_FORCE"]
    assert await windows_of(h.pool, cid) == []


async def test_a_declined_aioi_contract_gets_no_grace_window(h: Harness) -> None:
    cid = await issue(h.pool, AIOI)
    async with UnitOfWork(h.pool) as uow:
        version = await uow.conn.fetchval("SELECT lock_version FROM contracts WHERE id = $1", cid)
        await grace.decline_renewal(uow, STAFF, grace.DeclineRenewalRequest(cid, version), ISSUED_ON)
    await at(h, EXPIRY)
    assert await statuses(h.pool, cid) == ["DO_NOT_RENEW", "EXPIRED"]
    assert await windows_of(h.pool, cid) == []


async def test_the_batch_stores_the_same_window_timers_as_window_timers(h: Harness) -> None:
    cid = await issue(h.pool, AIOI)
    await at(h, EXPIRY)
    (w,) = await windows_of(h.pool, cid)
    shape = """SELECT kind, subject, idempotency_key, due_at, payload::text AS payload FROM timers
               WHERE subject = $1 ORDER BY idempotency_key"""
    batch = [tuple(r) for r in await h.pool.fetch(shape, f"window:{w.id}")]
    async with h.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("DELETE FROM timers WHERE subject = $1", f"window:{w.id}")
            await schedule_window_timers(conn, w)
            service = [tuple(r) for r in await conn.fetch(shape, f"window:{w.id}")]
        finally:
            await tx.rollback()
    assert batch == service
    assert [r[2].split(":", 2)[2] for r in batch] == ["LAPSE", "REMIND:0", "REMIND:23", "REMIND:7"]
    states = dict(await h.pool.fetch("SELECT idempotency_key, state FROM timers WHERE subject = $1", f"window:{w.id}"))
    # The day-0 reminder's effect is the batch's own event: its timer is stored DONE.
    assert states[f"window:{w.id}:REMIND:0"] == "DONE"
    assert {states[f"window:{w.id}:{k}"] for k in ("REMIND:7", "REMIND:23", "LAPSE")} == {"PENDING"}


async def test_a_large_instant_fans_out_into_chunks_with_the_same_outcome(h: Harness,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expiry, "CHUNK", 2)
    ids = [await issue(h.pool, p) for p in (AIOI, AIOI, RAKUTEN, AIOI, KYOSAI)]
    h.clock.set(EXPIRY)
    await h.tick()
    chunks = await h.pool.fetch("SELECT payload FROM timers WHERE kind = 'term.expiry.chunk' ORDER BY id")
    assert [(c["payload"]["fromId"], c["payload"]["toId"]) for c in chunks] == [
        (ids[0], ids[1]), (ids[2], ids[3]), (ids[4], ids[4])]
    await at(h, EXPIRY)
    assert [await statuses(h.pool, c) for c in ids] == [
        ["EXPIRED", "IN_RENEWAL_GRACE"], ["EXPIRED", "IN_RENEWAL_GRACE"], ["EXPIRED"],
        ["EXPIRED", "IN_RENEWAL_GRACE"], ["EXPIRED"]]
    before = await snapshot(h.pool)
    await rerun_every_timer(h)
    assert await snapshot(h.pool) == before
