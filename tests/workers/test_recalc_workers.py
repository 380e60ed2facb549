"""The nightly recalculation across several workers: three real `python -m workers` processes on one
PostgreSQL and one Redis share one run split into parts (a chain of page jobs per part, each page
handed over as soon as the previous one commits). Every contract is priced exactly once: one
offer, one event, counted once in the run's totals, whichever worker took which page."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from datetime import date, datetime, timedelta

import asyncpg

from domain.calendar import JST
from domain.services.renewals import recalc
from domain.store import offer_repo, timers
from domain.store.offer_repo import OFFER_EVENT
from tests.factories import rated_contract
from tests.workers.test_recalc_process import _reset
from tests.workers.test_worker_process import WorkerProcess, _until, fresh, start_worker  # noqa: F401

AS_OF = date(2027, 2, 16)     # rated_contract terms end 2027-04-01: every offer is due
N, PARTS, PAGE, WORKERS = 36, 6, 2, 3


async def test_three_workers_price_every_contract_of_one_run_exactly_once(
        fresh: asyncpg.Pool, start_worker: Callable[[], WorkerProcess]) -> None:  # noqa: F811
    pool = fresh
    await _reset(pool)
    ids = [(await rated_contract(pool)).created.contract.id for _ in range(N)]
    workers = [start_worker() for _ in range(WORKERS)]

    async def all_up() -> bool:     # each has started its loop (its own startup sweep ran)
        return all("Starting worker" in w.log() for w in workers)

    await _until(all_up, 90, "three workers to start", workers[0])
    async with pool.acquire() as conn:
        await timers.schedule(conn, kind=recalc.NIGHTLY_KIND, subject="renewal:nightly",
                              due_at=datetime.now(JST) - timedelta(seconds=1),
                              idempotency_key=f"{recalc.NIGHTLY_KIND}:{AS_OF}",
                              payload={"asOf": AS_OF.isoformat(), "parts": PARTS, "page": PAGE})

    async def finished() -> bool:
        run_id = await pool.fetchval("SELECT id FROM recalc_runs WHERE source = 'NIGHTLY' AND as_of = $1", AS_OF)
        r = None if run_id is None else await offer_repo.get_run(pool, run_id)
        return r is not None and r.state == "DONE"

    await _until(finished, 240, "the run to finish on three workers", workers[0])
    run_id = await pool.fetchval("SELECT id FROM recalc_runs WHERE source = 'NIGHTLY' AND as_of = $1", AS_OF)
    run = await offer_repo.get_run(pool, run_id)
    assert run is not None and len(run.parts) == PARTS and all(p.done for p in run.parts)
    for w in workers:
        assert w.kill(signal.SIGTERM) == 0

    offers = await pool.fetch(
        """SELECT contract_id, count(*) AS n, count(*) FILTER (WHERE state = 'OFFERED') AS live,
                  bool_and(run_id = $2) AS this_run
           FROM renewal_offers WHERE contract_id = any($1::bigint[]) GROUP BY contract_id""", ids, run_id)
    assert len(offers) == N and all(r["n"] == 1 and r["live"] == 1 and r["this_run"] for r in offers)
    events = await pool.fetch(
        """SELECT contract_id, count(*) AS n FROM events WHERE kind = $2 AND contract_id = any($1::bigint[])
           GROUP BY contract_id""", ids, OFFER_EVENT)
    assert len(events) == N and all(r["n"] == 1 for r in events)
    # the run covers every contract of the database (other tests' too): each it wrote, it wrote once
    written = await pool.fetchrow("SELECT count(*) AS n, count(DISTINCT contract_id) AS d FROM renewal_offers "
                                  "WHERE run_id = $1", run_id)
    assert written["n"] == written["d"] == run.total["offered"] + run.total["changed"] >= N
    assert run.total["scanned"] == run.total["offered"] + run.total["changed"] + run.total["unchanged"] \
        + run.total["failed"]
    # every page job of every part ran once, by whichever worker took it
    batch = await pool.fetch("SELECT state, attempts FROM timers WHERE kind = $1 AND subject LIKE $2",
                             recalc.BATCH_KIND, f"recalc:{run_id}:%")
    assert batch and all(r["state"] == "DONE" for r in batch)
    ran = [len(re.findall(r"run_timer", w.log())) for w in workers]
    print(f"run_timer jobs per worker: {ran}")
