"""R4: concurrent endorsements of one contract version — one wins, the rest conflict, no gaps."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from domain.store.db import create_pool
from domain.store.outbox import append_event, events
from domain.store.policy_repo import VersionConflict, append_version, get_contract, versions
from domain.store.uow import UnitOfWork
from tests.integration.test_policy_store import RECORDED, START, make_contract

N = 50


@pytest.fixture(scope="module")
async def wide_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    # Enough connections that many writers really are inside PostgreSQL at once, few enough to
    # leave room for other test runs on a server with max_connections = 100.
    p = await create_pool(database_url, min_size=1, max_size=25)
    yield p
    await p.close()


async def test_fifty_concurrent_endorsements_of_one_version(wide_pool: asyncpg.Pool) -> None:
    c = await make_contract(wide_pool)
    cid = c.contract.id

    async def endorse(i: int) -> int:
        async with UnitOfWork(wide_pool) as uow:
            data = dataclasses.replace(c.version.data, premium_yen=60_000 + i)
            res = await append_version(uow, cid, 1, START + timedelta(days=10 + i), data, recorded_at=RECORDED)
            await append_event(uow, cid, "ENDORSED", {"i": i}, at=RECORDED)
            # Hold the row lock a moment so the others pile up behind it inside PostgreSQL.
            await asyncio.sleep(0.05)
            return res.lock_version

    results = await asyncio.gather(*(endorse(i) for i in range(N)), return_exceptions=True)
    wins = [r for r in results if isinstance(r, int)]
    conflicts = [r for r in results if isinstance(r, VersionConflict)]
    assert wins == [2]
    assert len(conflicts) == N - 1, [r for r in results if not isinstance(r, (int, VersionConflict))]
    async with wide_pool.acquire() as conn:
        assert (await get_contract(conn, cid)).lock_version == 2  # type: ignore[union-attr]
        current = await versions(conn, cid)
        assert len(current) == 2 and current[0].valid_to == current[1].valid_from
        assert [e.seq for e in await events(conn, cid)] == [1]


async def test_fifty_writers_retrying_get_a_gapless_event_sequence(wide_pool: asyncpg.Pool) -> None:
    """Every writer retries on conflict until it lands; every fifth also fails once after taking
    its event number. The sequence still runs 1..N: rolled-back numbers are handed out again."""
    c = await make_contract(wide_pool)
    cid = c.contract.id
    failed_once: set[int] = set()

    async def writer(i: int) -> int:
        while True:
            try:
                async with UnitOfWork(wide_pool) as uow:
                    lock = await uow.conn.fetchval("SELECT lock_version FROM contracts WHERE id = $1", cid)
                    at = START + timedelta(days=1 + i)
                    data = dataclasses.replace(c.version.data, premium_yen=70_000 + i)
                    await append_version(uow, cid, lock, at, data, recorded_at=RECORDED)
                    event = await append_event(uow, cid, "ENDORSED", {"writer": i}, at=RECORDED)
                    if i % 5 == 0 and i not in failed_once:
                        failed_once.add(i)
                        raise RuntimeError("crash after the event number was taken")
                    return event.seq
            except (VersionConflict, RuntimeError):
                await asyncio.sleep(0)

    seqs = await asyncio.gather(*(writer(i) for i in range(N)))
    assert sorted(seqs) == list(range(1, N + 1))
    async with wide_pool.acquire() as conn:
        stored = await events(conn, cid)
        assert [e.seq for e in stored] == list(range(1, N + 1))
        assert sorted(e.payload["writer"] for e in stored) == list(range(N))
        contract = await get_contract(conn, cid)
        assert contract is not None and contract.event_count == N and contract.lock_version == N + 1
        current = await versions(conn, cid)
        assert len(current) == N + 1
        for a, b in itertools.pairwise(current):
            assert a.valid_to == b.valid_from  # contiguous, no overlap
