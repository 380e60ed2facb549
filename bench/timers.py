"""Timers per second through the whole path: cron sweep -> Redis -> arq job -> effect + DONE.

    .venv/bin/python bench/timers.py [--timers 5000] [--runs 3] [--max-jobs 20]

Uses DATABASE_URL / REDIS_URL (servers; embedded ones when unset). Works in a scratch database
that it drops at the end and in a Redis logical database it claims and flushes, so it never touches
real data. Each run schedules N ping timers due now, starts one in-process arq worker (the real
WorkerSettings: cron sweep every TIMER_SWEEP_SECONDS, one job per timer) and measures until all
are DONE. Beside it, the floor: the same per-timer transactions (lock row, write effect, mark
DONE) run straight against PostgreSQL with the same concurrency, no Redis, no sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench.servers import bench_services, scratch_database
from domain.runtime.clock import SystemClock
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from domain.store import timers
from domain.store.db import create_pool
from workers.config import TimerTuning
from workers.settings import create_worker, worker_settings

_CLAIM_KEY = "autopolicy:test-run-claim"


def claim_redis_db(base: str, claim: str) -> str:
    for db in range(15, 0, -1):
        if base.startswith("unix://"):
            url = f"{base.split('?')[0]}?db={db}"
        else:
            scheme, rest = base.rstrip("/").split("://", 1)
            url = f"{scheme}://{rest.split('/', 1)[0]}/{db}"
        client = redis.Redis.from_url(url)
        try:
            if client.set(_CLAIM_KEY, claim, nx=True, ex=3600):
                client.flushdb()
                client.set(_CLAIM_KEY, claim, ex=3600)
                return url
        finally:
            client.close()
    raise SystemExit("no free Redis logical database (1..15)")


async def reset(pool: asyncpg.Pool, n: int) -> None:
    now = SystemClock().now() - timedelta(seconds=1)
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE timers, timer_ping_effects RESTART IDENTITY")
        await conn.copy_records_to_table(
            "timers", columns=["kind", "subject", "due_at", "idempotency_key"],
            records=[("ping", f"bench:{i}", now, f"bench:{i}") for i in range(n)],
        )


async def done_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM timers WHERE state = 'DONE'"))


async def run_arq(pool: asyncpg.Pool, settings: Settings, tuning: TimerTuning, n: int, claim: str) -> float:
    await reset(pool, n)
    # Row ids restart at 1: the previous run's kept results would refuse the same job ids.
    client = redis.Redis.from_url(settings.redis_url or "")
    client.flushdb()
    client.set(_CLAIM_KEY, claim, ex=3600)
    client.close()
    ws = worker_settings(settings, SystemClock(), tuning, pool=pool)
    worker = create_worker(ws, handle_signals=False)
    started = time.perf_counter()
    task = asyncio.create_task(worker.async_run())
    try:
        while await done_count(pool) < n:
            if task.done():
                task.result()
                raise RuntimeError("worker stopped early")
            await asyncio.sleep(0.05)
        return time.perf_counter() - started
    finally:
        await worker.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def run_floor(pool: asyncpg.Pool, n: int, concurrency: int) -> float:
    await reset(pool, n)
    clock = SystemClock()
    ids = list(range(1, n + 1))

    async def lane(mine: list[int]) -> None:
        async with pool.acquire() as conn:
            for tid in mine:
                async with conn.transaction():
                    await timers.lock_for_run(conn, tid)
                    await conn.execute("INSERT INTO timer_ping_effects (timer_id, fired_at) VALUES ($1, $2)",
                                       tid, clock.now())
                    await timers.mark_done(conn, tid, clock.now())

    started = time.perf_counter()
    await asyncio.gather(*(lane(ids[i::concurrency]) for i in range(concurrency)))
    return time.perf_counter() - started


async def measure(svc: Services, args: argparse.Namespace) -> None:
    claim = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    redis_url = claim_redis_db(svc.redis_url, claim)
    async with scratch_database(svc, "timers", redis_url) as db_url:
        await _measure(svc, args, claim, db_url, redis_url)


async def _measure(svc: Services, args: argparse.Namespace, claim: str, db_url: str, redis_url: str) -> None:
    pool = None
    try:
        pool = await create_pool(db_url, min_size=2, max_size=args.max_jobs + 4)
        settings = Settings(database_url=db_url, redis_url=redis_url, arq_queue="bench-timers",
                            timer_sweep_seconds=1, environment="test")
        tuning = TimerTuning(max_jobs=args.max_jobs, poll_delay_seconds=0.05, keep_result_seconds=5)
        import logging

        logging.getLogger("arq").setLevel(logging.WARNING)  # one log line per job would dominate
        rows = []
        for run in range(1, args.runs + 1):
            arq_s = await run_arq(pool, settings, tuning, args.timers, claim)
            floor_s = await run_floor(pool, args.timers, args.max_jobs)
            rows.append((run, arq_s, floor_s))
        print(f"timers per run: {args.timers}, worker max_jobs: {args.max_jobs}, sweep every 1 s, "
              f"cpus: {os.cpu_count()}")
        print(f"{'run':>4} {'sweep+arq s':>12} {'timers/s':>10} {'floor s':>9} {'floor/s':>9} {'ratio':>6}")
        for run, a, f in rows:
            print(f"{run:>4} {a:>12.2f} {args.timers / a:>10.0f} {f:>9.2f} {args.timers / f:>9.0f} {f / a:>6.2f}")
        med_a = statistics.median(r[1] for r in rows)
        med_f = statistics.median(r[2] for r in rows)
        print(f"median: {args.timers / med_a:.0f} timers/s through sweep+arq; floor {args.timers / med_f:.0f}/s; "
              f"ratio {med_f / med_a:.2f} of the floor")
    finally:
        if pool is not None:
            await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-jobs", type=int, default=20)
    args = parser.parse_args()
    with bench_services() as svc:
        asyncio.run(measure(svc, args))


if __name__ == "__main__":
    main()
