"""Webhook events delivered per second to a local receiver, with a fan-out of 10 subscriptions.

    .venv/bin/python bench/webhooks.py [--events 300] [--contracts 50] [--subscriptions 10] [--runs 3]

Uses DATABASE_URL / REDIS_URL (servers; embedded ones when unset), in a scratch database dropped at
the end and a claimed Redis logical database. Each run appends `events` outbox events spread over
`contracts` contracts, starts the real worker in-process (its publisher cron fans each event out to
every subscription, one `webhook.lane` timer per (subscription, contract) lane, the lane jobs POST
signed JSON in seq order) and measures until every delivery is DELIVERED. The receiver
(tests/receiver.py: uvicorn in its own process) verifies each HMAC. Beside it, the floor: the same number
of signed POSTs of the same bodies from a bare httpx loop with the same concurrency, no database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import secrets
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.book import generate_book
from bench.servers import bench_services, scratch_database
from bench.timers import claim_redis_db
from domain.lifecycle import Role
from domain.runtime.clock import JST, SystemClock
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from domain.services.access import Actor
from domain.services.notifications import subscriptions as subs
from domain.services.notifications.delivery import body_of
from domain.services.notifications.types import CreateSubscription
from domain.store import outbox
from domain.store.db import create_pool
from domain.store.uow import UnitOfWork
from domain.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header
from tests.receiver import serve
from workers.config import TimerTuning
from workers.settings import create_worker, worker_settings

STAFF = Actor("bench-webhooks", Role.STAFF)


class ReceiverProcess:
    """tests/receiver.py in a child process (its own GIL), counting and verifying what it gets."""

    def __init__(self) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.proc: multiprocessing.process.BaseProcess | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self, secrets_by_path: dict[str, list[str]]) -> None:
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        self.proc = ctx.Process(target=serve, args=(self.port, secrets_by_path, ready), daemon=True)
        self.proc.start()
        if not ready.wait(30):
            raise RuntimeError("receiver process did not start")

    def counts(self) -> dict[str, int]:
        return httpx.get(self.url("/_counts"), timeout=10).json()  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join(10)


async def reset(pool: asyncpg.Pool, contract_ids: list[int], n_events: int) -> list[outbox.Event]:
    """Empty the webhook tables and timers, then append this run's events (answered)."""
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE webhook_attempts, notifications, webhook_deliveries, webhook_lanes, timers "
                           "RESTART IDENTITY")
        await conn.execute("UPDATE events SET published_at = now() WHERE published_at IS NULL")
    now = datetime.now(JST)
    per = {cid: [] for cid in contract_ids}  # type: dict[int, list[tuple[str, dict[str, int]]]]
    for i in range(n_events):
        per[contract_ids[i % len(contract_ids)]].append(("BENCH_EVENT", {"i": i}))
    made: list[outbox.Event] = []
    async with UnitOfWork(pool) as uow:
        for cid, items in per.items():
            made += await outbox.append_events(uow, cid, items, at=now)
    return made


async def delivered(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE state = 'DELIVERED'"))


async def run_worker(pool: asyncpg.Pool, settings: Settings, tuning: TimerTuning, expected: int, claim: str) -> float:
    client = redis.Redis.from_url(settings.redis_url or "")
    client.flushdb()
    client.set("autopolicy:test-run-claim", claim, ex=3600)
    client.close()
    worker = create_worker(worker_settings(settings, SystemClock(), tuning, pool=pool), handle_signals=False)
    started = time.perf_counter()
    task = asyncio.create_task(worker.async_run())
    try:
        while await delivered(pool) < expected:
            if task.done():
                task.result()
                raise RuntimeError("worker stopped early")
            await asyncio.sleep(0.05)
        return time.perf_counter() - started
    finally:
        await worker.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def run_floor(events: list[outbox.Event], receiver: ReceiverProcess, paths: dict[str, str],
                    concurrency: int) -> float:
    """The same signed POSTs (bodies of this run's events, to every subscription) from bare httpx."""
    work = [(path, secret, e) for path, secret in paths.items() for e in events]
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=100)) as client:
        async def lane(mine: list[tuple[str, str, outbox.Event]]) -> None:
            for path, secret, e in mine:
                body = body_of(e)
                r = await client.post(receiver.url(path), content=body, headers={
                    "Content-Type": "application/json", EVENT_ID_HEADER: f"evt_{e.id}",
                    SIGNATURE_HEADER: signature_header([secret], int(time.time()), body)})
                r.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(lane(work[i::concurrency]) for i in range(concurrency)))
        return time.perf_counter() - started


async def measure(svc: Services, args: argparse.Namespace) -> None:
    claim = f"bench_{os.getpid()}_{secrets.token_hex(3)}"
    redis_url = claim_redis_db(svc.redis_url, claim)
    async with scratch_database(svc, "webhooks", redis_url) as db_url:
        await _measure(svc, args, claim, db_url, redis_url)


async def _measure(svc: Services, args: argparse.Namespace, claim: str, db_url: str, redis_url: str) -> None:
    pool = None
    receiver = ReceiverProcess()
    try:
        pool = await create_pool(db_url, min_size=2, max_size=args.max_jobs + 6)
        await generate_book(pool, args.contracts)
        contract_ids = [r["id"] for r in await pool.fetch("SELECT id FROM contracts ORDER BY id")]
        paths: dict[str, str] = {}
        for i in range(args.subscriptions):
            async with UnitOfWork(pool) as uow:
                made = await subs.create_subscription(uow, STAFF, CreateSubscription(receiver.url(f"/s{i}")),
                                                      datetime.now(JST))
            paths[f"/s{i}"] = made.secret
        receiver.start({p: [s] for p, s in paths.items()})
        settings = Settings(database_url=db_url, redis_url=redis_url, arq_queue="bench-webhooks",
                            timer_sweep_seconds=1, environment="test")
        tuning = TimerTuning(max_jobs=args.max_jobs, poll_delay_seconds=0.05, keep_result_seconds=5)
        logging.getLogger("arq").setLevel(logging.WARNING)
        expected = args.events * args.subscriptions
        rows = []
        for run in range(1, args.runs + 1):
            events = await reset(pool, contract_ids, args.events)
            ours = await run_worker(pool, settings, tuning, expected, claim)
            if receiver.counts()["unverified"]:
                raise SystemExit(f"signatures did not verify: {receiver.counts()}")
            floor = await run_floor(events, receiver, paths, args.max_jobs)
            rows.append((run, ours, floor))
        print(f"events per run: {args.events} over {len(contract_ids)} contracts, fan-out {args.subscriptions} "
              f"({expected} POSTs), worker max_jobs {args.max_jobs}, publisher+sweep every 1 s, cpus {os.cpu_count()}")
        print(f"{'run':>4} {'worker s':>9} {'events/s':>9} {'POSTs/s':>8} {'floor s':>8} {'POSTs/s':>8} {'ratio':>6}")
        for run, a, f in rows:
            print(f"{run:>4} {a:>9.2f} {args.events / a:>9.0f} {expected / a:>8.0f} {f:>8.2f} {expected / f:>8.0f} "
                  f"{f / a:>6.2f}")
        med_a = statistics.median(r[1] for r in rows)
        med_f = statistics.median(r[2] for r in rows)
        print(f"median: {args.events / med_a:.0f} events/s ({expected / med_a:.0f} signed POSTs/s) through "
              f"outbox → publisher → lane jobs; floor {expected / med_f:.0f} POSTs/s; ratio {med_f / med_a:.2f}")
    finally:
        receiver.stop()
        if pool is not None:
            await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--contracts", type=int, default=50)
    parser.add_argument("--subscriptions", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-jobs", type=int, default=20)
    args = parser.parse_args()
    with bench_services() as svc:
        asyncio.run(measure(svc, args))


if __name__ == "__main__":
    main()
