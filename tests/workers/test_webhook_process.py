"""The delivery worker as a real process (`python -m workers`), SIGKILLed in the middle of a lane.

Nothing is lost: every event reaches the receiver; nothing is doubled beyond at least once: a
repeat carries the same event id, every delivery row ends DELIVERED once, and per contract the
first arrivals are in seq order.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime

import asyncpg
import pytest

from domain.runtime.clock import JST
from domain.services.notifications import subscriptions as subs
from domain.services.notifications.types import CreateSubscription
from domain.store.outbox import append_events
from domain.store.uow import UnitOfWork
from tests.factories import rated_contract
from tests.receiver import Receiver
from tests.workers.test_webhooks import STAFF, _clean, _gid
from tests.workers.test_worker_process import WorkerProcess, _until, fresh, start_worker  # noqa: F401

N = 30


@pytest.fixture
async def clean(fresh: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:  # noqa: F811
    await _clean(fresh)
    yield fresh
    await _clean(fresh)


@pytest.fixture
def slow_receiver() -> Iterator[Receiver]:
    r = Receiver(plan=lambda path, eid, seen: (200, 0.05)).start()
    yield r
    r.stop()


async def test_killed_mid_batch_loses_nothing_and_repeats_only_with_the_same_event_id(
        clean: asyncpg.Pool, slow_receiver: Receiver, start_worker: Callable[[], WorkerProcess]) -> None:  # noqa: F811
    pool = clean
    contracts = [(await rated_contract(pool)).created.contract.id for _ in range(2)]
    now = datetime.now(JST)
    async with UnitOfWork(pool) as uow:
        made = await subs.create_subscription(uow, STAFF, CreateSubscription(slow_receiver.url("/k")), now)
    slow_receiver.secrets["/k"] = [made.secret]
    async with UnitOfWork(pool) as uow:
        for cid in contracts:
            await append_events(uow, cid, [(f"K{i}", {"i": i}) for i in range(N)], at=now)

    worker = start_worker()

    async def some_arrived() -> bool:
        return len(slow_receiver.received()) >= 12

    await _until(some_arrived, 30, "the first deliveries", worker)
    worker.kill(signal.SIGKILL)
    sent_before_kill = len(slow_receiver.received())
    assert sent_before_kill < 2 * N   # killed mid-batch

    second = start_worker()

    async def all_delivered() -> bool:
        states = await pool.fetch("SELECT state, count(*) FROM webhook_deliveries GROUP BY 1")
        return {r["state"]: r["count"] for r in states} == {"DELIVERED": 2 * N}

    await _until(all_delivered, 90, "every delivery DELIVERED after the restart", second)
    second.kill(signal.SIGTERM)

    got = slow_receiver.received()
    assert all(r.verified and r.status == 200 for r in got)
    ids = {r.event_id for r in got}
    expected = {f"evt_{i}" for i in await pool.fetchval(
        "SELECT array_agg(id) FROM events WHERE contract_id = any($1::bigint[]) AND kind LIKE 'K%'", contracts)}
    assert ids == expected                      # nothing lost
    for cid in contracts:
        firsts: list[int] = []
        for r in got:
            if r.body["contractId"] == _gid(cid) and r.body["seq"] not in firsts:
                firsts.append(r.body["seq"])
        assert firsts == sorted(firsts) and len(firsts) == N
    # each repeat is a whole event sent again with its id (at least once), the body unchanged
    by_id: dict[str, set[str]] = {}
    for r in got:
        by_id.setdefault(r.event_id, set()).add(repr(sorted(r.body.items())))
    assert all(len(bodies) == 1 for bodies in by_id.values())
    assert len(got) - len(ids) <= sent_before_kill
    rows = await pool.fetch("SELECT count(*) AS n FROM webhook_deliveries GROUP BY event_id")
    assert {r["n"] for r in rows} == {1}
