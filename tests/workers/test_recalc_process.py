"""R1: a real `python -m workers` process SIGKILLed in the middle of the nightly recalculation,
then restarted, ends with exactly the offers an uninterrupted run gives, and no event twice."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import date, datetime, timedelta

import asyncpg

from domain.calendar import JST
from domain.runtime.clock import ManualClock
from domain.services.renewals import recalc
from domain.store import offer_repo, timers
from domain.store.offer_repo import OFFER_EVENT
from tests.factories import rated_contract
from tests.workers.test_worker_process import WorkerProcess, _until, fresh, start_worker  # noqa: F401

AS_OF = date(2027, 2, 15)     # rated_contract terms end 2027-04-01: every offer is due
N, PARTS, PAGE = 24, 2, 2


async def _state(pool: asyncpg.Pool, ids: list[int]) -> list[tuple[object, ...]]:
    offers = await pool.fetch(
        """SELECT contract_id, term_id, next_start, fingerprint, premium_yen, current_premium_yen, state
           FROM renewal_offers WHERE contract_id = any($1::bigint[]) ORDER BY contract_id, id""", ids)
    events = await pool.fetch(
        """SELECT contract_id, seq, payload->>'premiumYen' FROM events
           WHERE kind = $2 AND contract_id = any($1::bigint[]) ORDER BY contract_id, seq""", ids, OFFER_EVENT)
    return [tuple(r) for r in offers] + [tuple(r) for r in events]


async def _reset(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM renewal_offers")
        await conn.execute("DELETE FROM events WHERE kind = $1", OFFER_EVENT)
        await conn.execute("""UPDATE contracts c SET event_seq = (SELECT coalesce(max(seq), 0) FROM events e
                                                                  WHERE e.contract_id = c.id)""")
        await conn.execute("DELETE FROM recalc_run_parts; DELETE FROM recalc_runs")


async def test_sigkill_mid_nightly_batch_resumes_to_the_uninterrupted_state(
        fresh: asyncpg.Pool, start_worker: Callable[[], WorkerProcess]) -> None:  # noqa: F811
    pool = fresh
    await _reset(pool)
    ids = [(await rated_contract(pool)).created.contract.id for _ in range(N)]
    async with pool.acquire() as conn:
        await timers.schedule(conn, kind=recalc.NIGHTLY_KIND, subject="renewal:nightly",
                              due_at=datetime.now(JST) - timedelta(seconds=1),
                              idempotency_key=f"{recalc.NIGHTLY_KIND}:{AS_OF}",
                              payload={"asOf": AS_OF.isoformat(), "parts": PARTS, "page": PAGE})
    first = start_worker()

    async def some_pages_done() -> bool:
        return bool(await pool.fetchval("SELECT count(*) FROM renewal_offers WHERE contract_id = any($1::bigint[])",
                                        ids))

    await _until(some_pages_done, 20, "the first pages of the nightly run", first)
    first.kill(signal.SIGKILL)
    run_id = await pool.fetchval("SELECT id FROM recalc_runs WHERE source = 'NIGHTLY' AND as_of = $1", AS_OF)
    run = await offer_repo.get_run(pool, run_id)
    assert run is not None and run.state == "RUNNING"       # killed mid-batch
    assert 0 < await pool.fetchval("SELECT count(*) FROM renewal_offers") < N

    second = start_worker()

    async def finished() -> bool:
        r = await offer_repo.get_run(pool, run_id)
        return r is not None and r.state == "DONE"

    await _until(finished, 60, "the resumed run to finish", second)
    assert second.kill(signal.SIGTERM) == 0
    after_kill = await _state(pool, ids)
    per_contract = await pool.fetch(
        """SELECT contract_id, count(*) AS n, max(seq) = (SELECT event_seq FROM contracts c WHERE c.id = e.contract_id)
                  AS last FROM events e WHERE kind = $2 AND contract_id = any($1::bigint[]) GROUP BY contract_id""",
        ids, OFFER_EVENT)
    assert len(per_contract) == N and all(r["n"] == 1 and r["last"] for r in per_contract)   # no event twice
    gaps = await pool.fetchval(
        """SELECT count(*) FROM contracts c WHERE c.id = any($1::bigint[])
             AND c.event_seq <> (SELECT count(*) FROM events e WHERE e.contract_id = c.id)""", ids)
    assert gaps == 0                                          # outbox numbering still gapless

    # the same book, recalculated by an uninterrupted run, gives the same table content
    await _reset(pool)
    clean = await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=1, source="CLI",
                                         now=datetime.now(JST))
    await recalc.run_part(pool, clean.id, 0, ManualClock(datetime.now(JST)), page=PAGE)
    assert await _state(pool, ids) == after_kill
