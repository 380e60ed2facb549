"""Renewal offers against real PostgreSQL: computed when due, idempotent, superseded when an input
changes (latest inputs win), an outbox event only when new or repriced, renewContract priced exactly
as offered and refusing a stale offer (SPEC §4.4, §5; issue 5 item 5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
import pytest

from domain.calendar import JST
from domain.lifecycle import Role
from domain.services.access import Actor
from domain.services.contracts.types import RenewRequest
from domain.services.errors import Refused
from domain.services.renewals.offers import offer_document, offers_of, refresh_contract
from domain.services.renewals.recalc import RECALC_KIND, request_recalculation
from domain.services.renewals.renew import renew_contract
from domain.store.offer_repo import OFFER_EVENT
from domain.store.uow import UnitOfWork
from domain.vocab import AccidentClass
from tests.factories import rated_contract

STAFF = Actor("staff-1", Role.STAFF)
# rated_contract: a rakuten term 2026-04-01 → 2027-04-01 (16:00 JST); the offer is due from 2027-01-31.
DUE = datetime(2027, 2, 15, 2, 0, tzinfo=JST)


async def _refresh(pool: asyncpg.Pool, cid: int, now: datetime = DUE, **kw: object):  # type: ignore[no-untyped-def]
    async with UnitOfWork(pool) as uow:
        return await refresh_contract(uow, cid, now, reason="test", **kw)  # type: ignore[arg-type]


async def _rows(pool: asyncpg.Pool, cid: int) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM renewal_offers WHERE contract_id = $1 ORDER BY id", cid)


async def _offer_events(pool: asyncpg.Pool, cid: int) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT seq, payload::text FROM events WHERE contract_id = $1 AND kind = $2 ORDER BY seq",
                            cid, OFFER_EVENT)


async def test_offer_is_computed_when_due_once_and_idempotent(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    # 2027-01-30 is 61 days before the 2027-04-01 expiry: not due yet (offer_days_before = 60)
    early = await _refresh(pool, cid, datetime(2027, 1, 30, 2, 0, tzinfo=JST))
    assert early.scanned == 0 and await _rows(pool, cid) == []

    first = await _refresh(pool, cid)
    assert (first.offered, first.unchanged) == (1, 0)
    rows = await _rows(pool, cid)
    assert len(rows) == 1 and rows[0]["state"] == "OFFERED" and rows[0]["next_start"] == date(2027, 4, 1)
    offer = (await offers_of(pool, [cid]))[cid]
    doc = offer_document(offer)
    assert doc["grade"] == {"grade": 11, "marker": "NONE", "period": 0, "label": "11"}   # 10 without accident → 11
    assert doc["premiumYen"] == offer.premium_yen == rows[0]["premium_yen"]
    # the tariff in force at the next start (rating classes reviewed every 1 January)
    assert doc["tariffVersion"] == "rakuten-drive-assist/DEMO-2026-01"
    assert doc["diff"]["lines"] and any(c["factor"] == "GRADE" for c in doc["diff"]["causes"])
    assert len(await _offer_events(pool, cid)) == 1

    again = await _refresh(pool, cid, DUE + timedelta(days=1))
    assert (again.offered, again.changed, again.unchanged) == (0, 0, 1)
    assert len(await _rows(pool, cid)) == 1 and len(await _offer_events(pool, cid)) == 1


async def test_changed_input_supersedes_and_reprices(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    await _refresh(pool, cid)
    before = (await offers_of(pool, [cid]))[cid]
    # the named insured lost the gold licence: the gold discount goes at the next start
    await pool.execute("UPDATE parties SET licence_colour = 'BLUE' WHERE id = $1", b.policyholder.id)
    res = await _refresh(pool, cid, DUE + timedelta(hours=1))
    assert res.changed == 1
    rows = await _rows(pool, cid)
    assert [r["state"] for r in rows] == ["SUPERSEDED", "OFFERED"]
    after = (await offers_of(pool, [cid]))[cid]
    assert after.premium_yen > before.premium_yen and after.fingerprint != before.fingerprint
    events = await _offer_events(pool, cid)
    assert len(events) == 2 and str(before.premium_yen) in events[1]["payload"]


async def test_not_due_contract_is_left_for_the_nightly_run_unless_forced(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    now = datetime(2026, 6, 1, 10, 0, tzinfo=JST)
    assert (await _refresh(pool, cid, now)).scanned == 0
    forced = await _refresh(pool, cid, now, only_if_due=False)
    assert forced.offered == 1


async def test_request_recalculation_collapses_pending_requests(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    for i in range(3):
        async with UnitOfWork(pool) as uow:
            await request_recalculation(uow, cid, f"claim {i}", DUE + timedelta(seconds=i))
    rows = await pool.fetch("SELECT state, payload FROM timers WHERE kind = $1 AND subject = $2", RECALC_KIND,
                            f"contract:{cid}")
    assert [r["state"] for r in rows] == ["PENDING"]


async def test_renew_is_priced_exactly_as_offered_and_accepts_the_offer(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    await _refresh(pool, cid)
    offer = (await offers_of(pool, [cid]))[cid]
    lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", cid)
    async with UnitOfWork(pool) as uow:
        r = await renew_contract(uow, STAFF, RenewRequest(cid, lock, offer_id=offer.id), DUE)
    assert r.premium_after_yen == offer.premium_yen
    assert (await _rows(pool, cid))[0]["state"] == "ACCEPTED"
    assert await offers_of(pool, [cid]) == {}   # the latest term is the new one: no offer yet


async def test_renew_refuses_a_stale_offer_and_changes_nothing(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    await _refresh(pool, cid)
    offer = (await offers_of(pool, [cid]))[cid]
    await pool.execute("UPDATE parties SET licence_colour = 'BLUE' WHERE id = $1", b.policyholder.id)
    lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", cid)
    with pytest.raises(Refused) as e:
        async with UnitOfWork(pool) as uow:
            await renew_contract(uow, STAFF, RenewRequest(cid, lock, offer_id=offer.id), DUE)
    assert e.value.errors[0].code == "OFFER_OUTDATED"
    assert [r["state"] for r in await _rows(pool, cid)] == ["OFFERED"]
    assert await pool.fetchval("SELECT count(*) FROM terms WHERE contract_id = $1", cid) == 1
    # without offerId the renewal is priced afresh and the stale offer is superseded
    async with UnitOfWork(pool) as uow:
        r = await renew_contract(uow, STAFF, RenewRequest(cid, lock), DUE)
    assert r.premium_after_yen > offer.premium_yen
    assert [r["state"] for r in await _rows(pool, cid)] == ["SUPERSEDED"]


async def test_renew_uses_request_accidents_over_term_claims(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", cid)
    async with UnitOfWork(pool) as uow:
        r = await renew_contract(uow, STAFF, RenewRequest(cid, lock, (AccidentClass.THREE_DOWN,)), DUE)
    assert r.grade is not None and (r.grade.grade, r.grade.period) == (7, 3)   # 10 − 3; period 3 (002b L4289, L4326)


async def test_offer_of_another_contract_looks_missing(pool: asyncpg.Pool) -> None:
    a, b = await rated_contract(pool), await rated_contract(pool)
    await _refresh(pool, a.created.contract.id)
    other = (await offers_of(pool, [a.created.contract.id]))[a.created.contract.id]
    cid = b.created.contract.id
    lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", cid)
    with pytest.raises(Refused) as e:
        async with UnitOfWork(pool) as uow:
            await renew_contract(uow, STAFF, RenewRequest(cid, lock, offer_id=other.id), DUE)
    assert e.value.errors[0].code == "RENEWALOFFER_NOT_FOUND"


async def test_contract_without_a_stored_rating_input_is_counted_failed(pool: asyncpg.Pool) -> None:
    b = await rated_contract(pool)
    cid = b.created.contract.id
    await pool.execute("UPDATE contract_versions SET rating_input = '{}' WHERE contract_id = $1", cid)
    res = await _refresh(pool, cid)
    assert (res.failed, res.offered) == (1, 0) and res.failures == {cid: "NO_RATING_INPUT"}
    assert await _rows(pool, cid) == [] and await _offer_events(pool, cid) == []


async def test_the_document_is_derived_from_the_offers_source_and_checked_against_its_price(
        pool: asyncpg.Pool) -> None:
    """The night stores the price and what it was computed from; the document read is
    `renewal_offer` on the same facts. One that no longer gives the stored price shows no breakdown
    rather than explain another number; an offer written before offers kept their source is served
    from its stored document (migration 0026)."""
    import orjson

    from domain.services.renewals.offers import _NO_SOURCE, _RULES_CHANGED

    b = await rated_contract(pool)
    cid = b.created.contract.id
    await _refresh(pool, cid)
    row = (await _rows(pool, cid))[0]
    assert row["source_version_id"] is not None and orjson.loads(row["source_facts"])["licence"] == "GOLD"
    assert row["current_premium_yen"] == await pool.fetchval(
        "SELECT premium_yen FROM contract_versions WHERE id = $1", row["source_version_id"])
    doc = offer_document((await offers_of(pool, [cid]))[cid])
    assert doc["premiumYen"] == row["premium_yen"] and doc["premium"] is not None and doc["notes"]

    # the same facts, another stored price (product rules changed since the night)
    await pool.execute("UPDATE renewal_offers SET premium_yen = premium_yen + 10 WHERE id = $1", row["id"])
    changed = offer_document((await offers_of(pool, [cid]))[cid])
    assert changed["notes"] == [_RULES_CHANGED] and changed["premium"] is None
    assert changed["premiumYen"] == row["premium_yen"] + 10 and changed["diff"]["lines"] == []
    assert changed["nextStart"] == "2027-04-01" and changed["tariffVersion"] == doc["tariffVersion"]
    assert row["tariff_version"] == doc["tariffVersion"]

    # a source that cannot be read: the stored numbers and a note, never an error
    await pool.execute("UPDATE renewal_offers SET source_facts = '{\"claims\": 5}' WHERE id = $1", row["id"])
    unreadable = offer_document((await offers_of(pool, [cid]))[cid])
    assert unreadable["notes"] == [_NO_SOURCE] and unreadable["premiumYen"] == row["premium_yen"] + 10

    # an offer from before: no source, its document in renewal_offer_docs
    legacy = dict(doc, notes=["written before offers kept their source"])
    await pool.execute(
        """INSERT INTO renewal_offer_docs (fingerprint, product_id, tariff_version, premium_yen, current_premium_yen,
                                           offer, created_at)
           SELECT fingerprint, $4, $2, premium_yen, current_premium_yen, $3, now()
           FROM renewal_offers WHERE id = $1""", row["id"], doc["tariffVersion"], orjson.dumps(legacy).decode(),
        doc["productId"])
    await pool.execute("UPDATE renewal_offers SET source_version_id = NULL, source_facts = NULL WHERE id = $1",
                       row["id"])
    assert offer_document((await offers_of(pool, [cid]))[cid])["notes"] == legacy["notes"]
