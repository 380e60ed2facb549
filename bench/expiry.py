"""P6: 100,000 contracts expiring at the same 16:00 — every grace window open and the day-0
reminder queued within 60 s (ENGINEERING §4).

Run: .venv/bin/python bench/expiry.py --contracts 100000
(DATABASE_URL / REDIS_URL name the servers, embedded ones when unset as for `make run`
(bench/servers.py); the bench makes its own database `bench_expiry_<pid>` and claims a free Redis
logical database, and drops / flushes them at the end.)

What it does: bulk-inserts N aioi contracts (the product with the forgotten-renewal rider) whose
terms all end at 2027-04-10 16:00 JST, one policyholder, `INSERT … SELECT FROM unnest` like
bench/book.py, plus the one `term.expiry` timer of that instant (what the TermBound reaction
schedules for each of them). Then it sets a ManualClock to the expiry and runs the real arq worker
(the sweep on its cron, the timer jobs), and polls until N RENEWAL_GRACE windows are OPEN and N
day-0 RENEWAL_REMINDER events exist. It prints the seconds from the expiry moment the worker
starts to that point, and the ratio to the 60 s bar (≤ 1.0 passes).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.runtime.clock import JST, ManualClock
from domain.services.windows.expiry import schedule_term_expiry

BAR_SECONDS = 60.0
EXPIRY = datetime(2027, 4, 10, 16, 0, tzinfo=JST)
PRODUCT = "aioi-tough-biz"
CHUNK = 10_000


async def create_expiring_book(pool: asyncpg.Pool, n: int, *, ends_at: datetime = EXPIRY,
                               product: str = PRODUCT, prefix: str = "EXP-") -> list[int]:
    """N in-force contracts of `product` whose one term ends at `ends_at`; answers their ids.

    Only what the expiry reads is written (contract, term, one shared policyholder), so the bench
    measures the expiry and not the generator. The instant's timer is scheduled once, as every
    bound term's hook would (idempotent by key).
    """
    starts_at = ends_at - timedelta(days=365)
    ids: list[int] = []
    async with pool.acquire() as conn:
        holder = await conn.fetchval(
            "INSERT INTO parties (kind, name_kanji) VALUES ('PERSON', 'ベンチ 太郎') RETURNING id")
        for lo in range(0, n, CHUNK):
            k = min(CHUNK, n - lo)
            async with conn.transaction():
                got = await conn.fetch(
                    """INSERT INTO contracts (policy_number, product_id, policyholder_id, channel, statuses,
                                              lock_version, event_seq, created_at)
                       SELECT $1 || lpad(g::text, 8, '0'), $2, $3, 'AGENT', ARRAY['IN_FORCE'], 1, 0, $4
                       FROM generate_series($5::int, $6::int) AS g
                       RETURNING id""",
                    prefix, product, holder, starts_at, lo + 1, lo + k)
                chunk_ids = [int(r["id"]) for r in got]
                await conn.execute(
                    """INSERT INTO terms (contract_id, term_no, starts_at, ends_at, status, created_at)
                       SELECT id, 1, $2, $3, 'IN_FORCE', $2 FROM unnest($1::bigint[]) AS id""",
                    chunk_ids, starts_at, ends_at)
                ids += chunk_ids
        await schedule_term_expiry(conn, ends_at)
    return ids


async def progress(conn: asyncpg.Connection, ids: list[int]) -> tuple[int, int]:
    """(open grace windows, day-0 reminders) of the contracts `ids`."""
    windows = await conn.fetchval(
        "SELECT count(*) FROM windows WHERE contract_id = any($1::bigint[]) AND kind = 'RENEWAL_GRACE'", ids)
    reminders = await conn.fetchval(
        """SELECT count(*) FROM events WHERE contract_id = any($1::bigint[]) AND kind = 'RENEWAL_REMINDER'
           AND (payload->>'day')::int = 0""", ids)
    return int(windows), int(reminders)


@dataclass(frozen=True, slots=True)
class Result:
    contracts: int
    insert_seconds: float
    seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / BAR_SECONDS

    def table(self) -> str:
        return ("| contracts | bulk insert (s) | expiry → all windows open + reminders queued (s) | bar (s) | ratio |\n"
                "|---:|---:|---:|---:|---:|\n"
                f"| {self.contracts:,} | {self.insert_seconds:.1f} | {self.seconds:.1f} | {BAR_SECONDS:.0f} | "
                f"{self.ratio:.2f} |")


async def run(database_url: str, redis_url: str, n: int, *, sweep_seconds: int = 2,
              timeout: float = 600.0) -> Result:
    """Insert the book, run a real worker from the expiry moment, answer the time to done."""

    from domain.runtime.settings import Settings
    from domain.store.db import create_pool
    from workers.config import TimerTuning
    from workers.settings import create_worker, worker_settings

    pool = await create_pool(database_url, min_size=1, max_size=12)
    try:
        t0 = time.perf_counter()
        ids = await create_expiring_book(pool, n)
        inserted = time.perf_counter() - t0
        clock = ManualClock(EXPIRY)
        settings = Settings(database_url=database_url, redis_url=redis_url, arq_queue=f"bench-expiry-{os.getpid()}",
                            timer_sweep_seconds=sweep_seconds, environment="test")
        tuning = TimerTuning(max_jobs=4, job_timeout_seconds=300, poll_delay_seconds=0.1)
        worker = create_worker(worker_settings(settings, clock, tuning, pool=pool), handle_signals=False)
        started = time.perf_counter()
        task = asyncio.create_task(worker.async_run())
        try:
            async with pool.acquire() as conn:
                while True:
                    windows, reminders = await progress(conn, ids)
                    if windows >= n and reminders >= n:
                        break
                    if task.done():
                        task.result()
                        raise RuntimeError("the worker stopped")
                    if time.perf_counter() - started > timeout:
                        raise TimeoutError(f"{windows} windows, {reminders} reminders after {timeout} s")
                    await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - started
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            await worker.close()
        return Result(n, inserted, elapsed)
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--contracts", type=int, default=100_000)
    ap.add_argument("--sweep-seconds", type=int, default=2, help="the worker's sweep period (TIMER_SWEEP_SECONDS)")
    args = ap.parse_args(argv)
    from bench.servers import bench_services
    from tests.support import claimed_redis_db, fresh_database

    with bench_services() as svc, fresh_database(svc.database_url, f"bench_expiry_{os.getpid()}") as db, \
            claimed_redis_db(svc.redis_url, f"bench_expiry_{os.getpid()}") as redis_url:
        result = asyncio.run(run(db, redis_url, args.contracts, sweep_seconds=args.sweep_seconds))
    print(result.table())
    print(f"P6: {result.seconds:.1f} s for {result.contracts:,} contracts; ratio to the {BAR_SECONDS:.0f} s bar "
          f"{result.ratio:.2f} ({'PASS' if result.ratio <= 1 else 'FAIL'})")
    return 0 if result.ratio <= 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
