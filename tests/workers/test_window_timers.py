"""window.downgrade and window.void through a real arq worker (burst, manual clock): a swap window
unfiled by day 30 keeps only the liability set from day 31 (002b L4149-4151), and is void after
expiry + 30 (L4151-4152); each timer takes effect once, and running it again changes nothing."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

from domain.runtime.clock import JST
from domain.store import timers, window_repo
from domain.store.outbox import events
from domain.store.policy_repo import get_contract
from domain.store.timers import TimerState
from domain.store.uow import JobUnitOfWork
from domain.vocab import ContractStatus
from domain.windows import WindowState
from tests.integration.test_window_services import aioi_contract, at, file_swap, report_swap
from tests.workers.conftest import Harness
from workers.kinds.windows import window_downgrade
from workers.timer_job import RUN_TIMER


async def _window_events(pool: asyncpg.Pool, contract_id: int) -> list[str]:
    return [e.kind for e in await events(pool, contract_id) if e.kind.startswith("WINDOW_")]


async def _state(pool: asyncpg.Pool, window_id: int) -> WindowState:
    w = await window_repo.get_window(pool, window_id)
    assert w is not None
    return w.window.state


async def test_downgrade_then_void_each_once(harness: Harness) -> None:
    h = harness
    s = await aioi_contract(h.pool)
    opened = await report_swap(h.pool, s, date(2026, 5, 1), at(date(2026, 5, 3)))
    wid = opened.window_id
    h.clock.set(datetime(2026, 5, 31, 23, 59, tzinfo=JST))  # day 30: nothing due yet
    await h.tick()
    assert await _state(h.pool, wid) is WindowState.OPEN

    h.clock.set(datetime(2026, 6, 1, 0, 0, tzinfo=JST))  # day 31 begins
    await h.tick()
    assert await _state(h.pool, wid) is WindowState.DOWNGRADED
    assert await _window_events(h.pool, s.contract_id) == ["WINDOW_OPENED", "WINDOW_DOWNGRADED"]
    (downgrade,) = [t for t in await timers.for_subject(h.pool, f"window:{wid}") if t.kind == "window.downgrade"]
    assert downgrade.state is TimerState.DONE and downgrade.attempts == 1
    # A stale copy of the job, another sweep: nothing more happens.
    await h.arq.enqueue_job(RUN_TIMER, downgrade.id, _job_id=f"copy:{downgrade.id}", _queue_name=h.queue)
    await h.tick()
    assert await _window_events(h.pool, s.contract_id) == ["WINDOW_OPENED", "WINDOW_DOWNGRADED"]
    c = await get_contract(h.pool, s.contract_id)
    assert c is not None and ContractStatus.SWAP_PENDING in c.statuses

    h.clock.set(datetime(2027, 5, 10, 23, 59, tzinfo=JST))  # expiry 10 Apr 2027 + 30: still downgraded
    await h.tick()
    assert await _state(h.pool, wid) is WindowState.DOWNGRADED
    h.clock.set(datetime(2027, 5, 11, 0, 0, tzinfo=JST))
    await h.tick()
    assert await _state(h.pool, wid) is WindowState.VOID
    c = await get_contract(h.pool, s.contract_id)
    assert c is not None and ContractStatus.SWAP_PENDING not in c.statuses  # nothing left to approve
    await h.tick()
    assert await _window_events(h.pool, s.contract_id) == ["WINDOW_OPENED", "WINDOW_DOWNGRADED", "WINDOW_VOIDED"]


async def test_the_handler_run_twice_changes_nothing_the_second_time(harness: Harness) -> None:
    h = harness
    s = await aioi_contract(h.pool)
    opened = await report_swap(h.pool, s, date(2026, 5, 1), at(date(2026, 5, 3)))
    (row,) = [t for t in await timers.for_subject(h.pool, f"window:{opened.window_id}") if t.kind == "window.downgrade"]
    h.clock.set(datetime(2026, 6, 1, 0, 0, 5, tzinfo=JST))
    for _ in range(2):
        async with h.pool.acquire() as conn, conn.transaction():
            await window_downgrade(conn, row, h.clock)
    assert await _window_events(h.pool, s.contract_id) == ["WINDOW_OPENED", "WINDOW_DOWNGRADED"]
    c = await get_contract(h.pool, s.contract_id)
    assert c is not None
    lock_after_one = c.lock_version
    async with h.pool.acquire() as conn, conn.transaction():
        await window_downgrade(conn, row, h.clock)
    c = await get_contract(h.pool, s.contract_id)
    assert c is not None and c.lock_version == lock_after_one


async def test_a_filed_window_is_not_downgraded(harness: Harness) -> None:
    h = harness
    s = await aioi_contract(h.pool)
    opened = await report_swap(h.pool, s, date(2026, 5, 1), at(date(2026, 5, 3)))
    await file_swap(h.pool, opened.window_id, at(date(2026, 5, 20)))  # day 19: full cover, timers cancelled
    h.clock.set(datetime(2027, 6, 1, tzinfo=JST))
    await h.tick()
    assert await _state(h.pool, opened.window_id) is WindowState.CONFIRMED
    assert await _window_events(h.pool, s.contract_id) == ["WINDOW_OPENED", "WINDOW_FILED"]


def test_job_unit_of_work_is_not_entered() -> None:
    import pytest

    uow = JobUnitOfWork(object())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        uow.__aenter__().send(None)
