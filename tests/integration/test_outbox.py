"""The per-contract outbox: ordered, gapless, shared between publishers."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from domain.store.outbox import (
    append_event,
    append_events,
    claim_unpublished,
    events,
    mark_published,
)
from domain.store.policy_repo import ContractNotFound, get_contract
from domain.store.uow import UnitOfWork
from tests.integration.test_policy_store import RECORDED, make_contract


class Boom(Exception):
    pass


async def test_seq_starts_at_one_per_contract_and_batches_are_consecutive(pool: asyncpg.Pool) -> None:
    a = await make_contract(pool)
    b = await make_contract(pool)
    async with UnitOfWork(pool) as uow:
        e1 = await append_event(uow, a.contract.id, "ISSUED", {"premium_yen": 58_320}, at=RECORDED)
        batch = await append_events(
            uow, a.contract.id, [("ENDORSED", {"n": 1}), ("PREMIUM_CHANGED", {"delta": -100}), ("X", {})],
            at=RECORDED,
        )
        other = await append_event(uow, b.contract.id, "ISSUED", {}, at=RECORDED)
        assert await append_events(uow, a.contract.id, [], at=RECORDED) == []
    assert e1.seq == 1 and [e.seq for e in batch] == [2, 3, 4] and other.seq == 1
    assert [e.kind for e in batch] == ["ENDORSED", "PREMIUM_CHANGED", "X"]
    async with pool.acquire() as conn:
        stored = await events(conn, a.contract.id)
        assert [(e.seq, e.kind) for e in stored] == [(1, "ISSUED"), (2, "ENDORSED"), (3, "PREMIUM_CHANGED"), (4, "X")]
        assert stored[2].payload == {"delta": -100} and stored[0].at == RECORDED
        assert [e.seq for e in await events(conn, a.contract.id, after_seq=2, limit=1)] == [3]
        assert (await get_contract(conn, a.contract.id)).event_count == 4  # type: ignore[union-attr]


async def test_rolled_back_events_leave_no_gap(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    cid = c.contract.id
    async with UnitOfWork(pool) as uow:
        await append_event(uow, cid, "A", {}, at=RECORDED)
    with pytest.raises(Boom):
        async with UnitOfWork(pool) as uow:
            await append_events(uow, cid, [("LOST", {}), ("LOST", {})], at=RECORDED)
            raise Boom
    async with UnitOfWork(pool, dry_run=True) as uow:
        await append_event(uow, cid, "DRY", {}, at=RECORDED)
    async with UnitOfWork(pool) as uow:
        b = await append_event(uow, cid, "B", {}, at=RECORDED)
    assert b.seq == 2
    async with pool.acquire() as conn:
        assert [(e.seq, e.kind) for e in await events(conn, cid)] == [(1, "A"), (2, "B")]


async def test_concurrent_appenders_of_one_contract_queue_up(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    cid = c.contract.id

    async def one(i: int) -> int:
        async with UnitOfWork(pool) as uow:
            e = await append_event(uow, cid, "TICK", {"i": i}, at=RECORDED)
            await asyncio.sleep(0.005)
            if i % 7 == 3:
                raise Boom
            return e.seq

    results = await asyncio.gather(*(one(i) for i in range(30)), return_exceptions=True)
    committed = sorted(r for r in results if isinstance(r, int))
    assert committed == list(range(1, len(committed) + 1))
    async with pool.acquire() as conn:
        assert [e.seq for e in await events(conn, cid)] == committed


async def test_append_to_a_missing_contract_is_refused(pool: asyncpg.Pool) -> None:
    with pytest.raises(ContractNotFound):
        async with UnitOfWork(pool) as uow:
            await append_event(uow, 987_654_321, "X", {}, at=RECORDED)


async def test_publishers_share_unpublished_events_without_doubles(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    async with UnitOfWork(pool) as uow:
        appended = await append_events(uow, c.contract.id, [(f"E{i}", {}) for i in range(6)], at=RECORDED)
    mine = {e.id for e in appended}

    async with UnitOfWork(pool) as first, UnitOfWork(pool) as second:
        # Other runs' events may be pending too; claim everything and look at ours.
        a = [e for e in await claim_unpublished(first, limit=10_000) if e.id in mine]
        b = [e for e in await claim_unpublished(second, limit=10_000) if e.id in mine]
        assert len(a) == 6 and b == []  # the first holds them; the second skips, not waits
        assert [e.seq for e in a] == [1, 2, 3, 4, 5, 6]
        assert await mark_published(first, [e.id for e in a], RECORDED) == 6
    async with UnitOfWork(pool) as again:
        assert not [e for e in await claim_unpublished(again, limit=10_000) if e.id in mine]
        assert await mark_published(again, list(mine), RECORDED) == 0
