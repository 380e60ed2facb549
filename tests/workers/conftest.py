"""Fixtures for the worker tests: their own database and Redis logical database.

The sweep claims every due timer of a database and these tests flush Redis, so they get a
database (`<run database>_workers`) and a Redis logical database of their own, beside the ones of
tests/conftest.py, instead of disturbing timers or keys that other test folders keep in the run's.
Every test starts with empty timer tables and an empty Redis database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis
from arq.connections import ArqRedis, RedisSettings
from arq.connections import create_pool as create_arq_pool

from domain.runtime.clock import JST, ManualClock
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from domain.store.db import create_pool
from tests.support import CLAIM_KEY, CLAIM_TTL, claimed_redis_db, fresh_database
from workers.config import TimerTuning
from workers.settings import TimerWorker, create_worker, worker_settings
from workers.timer_job import CTX_KEY, TimerRuntime, sweep_timers

_CLAIM = f"workers_{os.getpid()}_{secrets.token_hex(3)}"
START = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


@pytest.fixture(scope="session")
def workers_database_url(services: Services, database_url: str) -> Iterator[str]:
    name = urlsplit(database_url).path.lstrip("/") + "_workers"
    with fresh_database(services.database_url, name) as url:
        yield url


@pytest.fixture(scope="session")
def workers_redis_url(services: Services, redis_url: str) -> Iterator[str]:
    """Another Redis logical database, claimed like tests/conftest.py claims the run's."""
    with claimed_redis_db(services.redis_url, _CLAIM, range(15, 0, -1)) as url:
        yield url


def flush_redis(url: str) -> None:
    """FLUSHDB, keeping this run's claim on the logical database."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
        client.set(CLAIM_KEY, _CLAIM, ex=CLAIM_TTL)
    finally:
        client.close()


@pytest.fixture(scope="session")
async def wpool(workers_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(workers_database_url, min_size=1, max_size=20)
    yield p
    await p.close()


@dataclass
class Harness:
    """An in-process timer system: a manual clock, the sweep, and real arq burst workers."""

    pool: asyncpg.Pool
    redis_url: str
    database_url: str
    arq: ArqRedis
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    max_attempts: int = 3
    tuning: TimerTuning = field(default_factory=lambda: TimerTuning(
        lease_seconds=30, backoff_base_seconds=5, backoff_cap_seconds=60, poll_delay_seconds=0.01,
        max_jobs=10, queue_high_water=5000, keep_result_seconds=60, job_timeout_seconds=10,
    ))
    queue: str = "timers-test"

    @property
    def settings(self) -> Settings:
        return Settings(database_url=self.database_url, redis_url=self.redis_url, arq_queue=self.queue,
                        timer_max_attempts=self.max_attempts, timer_batch=500, environment="test")

    def ctx(self) -> dict[str, Any]:
        return {"redis": self.arq,
                CTX_KEY: TimerRuntime(self.pool, self.clock, self.settings, self.tuning)}

    async def sweep(self) -> int:
        return await sweep_timers(self.ctx())

    async def work(self, **overrides: Any) -> TimerWorker:
        """Run a real arq worker in burst mode until the queue is empty."""
        ws = worker_settings(self.settings, self.clock, self.tuning, pool=self.pool, sweep=False)
        worker = create_worker(ws, burst=True, handle_signals=False, **overrides)
        try:
            await worker.async_run()
        finally:
            await worker.close()
        return worker

    async def tick(self) -> TimerWorker:
        await self.sweep()
        return await self.work()

    async def queued(self) -> int:
        return int(await self.arq.zcard(self.queue))


@pytest.fixture
async def harness(wpool: asyncpg.Pool, workers_redis_url: str,
                  workers_database_url: str) -> AsyncIterator[Harness]:
    async with wpool.acquire() as conn:
        await conn.execute("TRUNCATE timers, timer_ping_effects RESTART IDENTITY")
    flush_redis(workers_redis_url)
    arq = await create_arq_pool(RedisSettings.from_dsn(workers_redis_url), default_queue_name="timers-test")
    try:
        yield Harness(wpool, workers_redis_url, workers_database_url, arq)
    finally:
        await arq.aclose(close_connection_pool=True)
