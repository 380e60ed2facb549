"""R2 (ENGINEERING §4) on real product timers: 10,000 forgotten-renewal windows with their day-7
reminders due, Redis flushed (this test's own logical database) while the worker is part-way
through, then the worker runs again: every reminder takes effect exactly once. The expiry job
itself is also lost with Redis once and still opens every window exactly once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bench.expiry import EXPIRY, create_expiring_book
from tests.workers.conftest import Harness, flush_redis
from tests.workers.test_grace import CONTRACT_TABLES, day

N = 10_000


@pytest.fixture
async def h(harness: Harness) -> AsyncIterator[Harness]:
    async with harness.pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(CONTRACT_TABLES)} RESTART IDENTITY CASCADE")
    yield harness


async def _count(h: Harness, sql: str) -> int:
    async with h.pool.acquire() as conn:
        return int(await conn.fetchval(sql))


async def _drain(h: Harness) -> None:
    """Sweep and work until no live timer is due; past the lease when only lost hand-overs remain."""
    for _ in range(50):
        await h.tick()
        due = await _count(h, f"""SELECT count(*) FROM timers WHERE state IN ('PENDING', 'ENQUEUED')
                                  AND due_at <= '{h.clock.now().isoformat()}'""")
        if due == 0:
            return
        if await h.queued() == 0:
            h.clock.advance(h.tuning.lease)
    raise AssertionError("timers left")


async def test_redis_flushed_with_10000_window_timers_due_every_effect_once(h: Harness) -> None:
    ids = await create_expiring_book(h.pool, N, prefix="R2-")
    assert len(ids) == N

    # The expiry job is handed to Redis, then Redis loses it: the lease hands it over again.
    h.clock.set(EXPIRY)
    assert await h.sweep() == 1
    flush_redis(h.redis_url)
    await _drain(h)
    assert await _count(h, "SELECT count(*) FROM windows WHERE kind = 'RENEWAL_GRACE' AND state = 'OPEN'") == N
    assert await _count(h, "SELECT count(DISTINCT term_id) FROM windows") == N
    due_later = await _count(h, "SELECT count(*) FROM timers WHERE kind LIKE 'window.%' AND state = 'PENDING'")
    assert due_later == 3 * N   # day 7, day 23, lapse

    # Day 7: 10,000 reminder timers due. The worker gets through part of them, Redis is flushed.
    h.clock.set(day(7))
    assert await h.sweep() >= N // 2       # up to the queue's high-water mark
    await h.work(max_burst_jobs=1500)
    sent_before = await _count(h, "SELECT count(*) FROM events WHERE kind = 'RENEWAL_REMINDER' AND payload->>'day' = '7'")
    assert 0 < sent_before < N
    flush_redis(h.redis_url)
    assert await h.queued() == 0
    await _drain(h)

    per_contract = await _count(h, """SELECT count(*) FROM (
        SELECT contract_id FROM events WHERE kind = 'RENEWAL_REMINDER' AND payload->>'day' = '7'
        GROUP BY contract_id HAVING count(*) = 1) x""")
    assert per_contract == N
    assert await _count(h, "SELECT count(*) FROM events WHERE kind = 'RENEWAL_REMINDER' AND payload->>'day' = '7'") == N
    assert await _count(h, """SELECT count(*) FROM timers WHERE idempotency_key LIKE '%:REMIND:7'
                              AND state = 'DONE'""") == N
    # Gapless outbox numbering per contract: opened, day 0, day 7.
    assert await _count(h, "SELECT count(*) FROM contracts WHERE event_seq <> 3") == 0
    assert await _count(h, """SELECT count(*) FROM (SELECT contract_id FROM events GROUP BY contract_id
                              HAVING max(seq) <> count(*)) x""") == 0
