"""Scenario harness: whole stories across months, through the GraphQL API and a real arq worker.

A scenario has its own database (`<run database>_scenarios`): its clock jumps months ahead, and
the sweep claims every due timer of a database, so it must not meet the contracts other tests
leave behind. The API runs in-process (httpx over ASGI) on the scenario's ManualClock; the worker
is a real arq worker in burst mode on the run's Redis database, under its own queue name.

`await s.run_until(when)` is the heart: it moves the clock to each due timer in turn, sweeps and
lets the worker run what is due, so every timer fires at its own moment (the reminder of day 7 on
day 7), exactly like `autopolicy simulate`, but through Redis and arq.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import redis
from arq.connections import ArqRedis, RedisSettings
from arq.connections import create_pool as create_arq_pool

from api.app import create_app
from api.auth import Role
from domain.runtime.clock import JST, ManualClock, as_jst
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from domain.store.db import create_pool
from tests.factories import unique
from tests.support import fresh_database
from tests.tokens import long_token
from workers.config import TimerTuning
from workers.settings import create_worker, worker_settings
from workers.timer_job import CTX_KEY, TimerRuntime, sweep_timers

QUEUE = "scenarios"
TUNING = TimerTuning(lease_seconds=30, backoff_base_seconds=5, backoff_cap_seconds=60, poll_delay_seconds=0.01,
                     max_jobs=10, queue_high_water=50_000, keep_result_seconds=5, job_timeout_seconds=30)


@pytest.fixture(scope="session")
def scenario_database_url(services: Services, database_url: str) -> Iterator[str]:
    name = urlsplit(database_url).path.lstrip("/") + "_scenarios"
    with fresh_database(services.database_url, name) as url:
        yield url


@pytest.fixture(scope="session")
async def spool(scenario_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(scenario_database_url, min_size=1, max_size=20)
    yield p
    await p.close()


@dataclass
class Scenario:
    pool: asyncpg.Pool
    clock: ManualClock
    client: httpx.AsyncClient
    arq: ArqRedis
    settings: Settings

    # ---------------------------------------------------------------- API
    def bearer(self, role: Role, **claims: int) -> dict[str, str]:
        token = long_token(self.settings, role, f"{role.value}-{unique('s')}", **claims)  # type: ignore[arg-type]
        return {"authorization": f"Bearer {token}"}

    async def gql(self, query: str, variables: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                   headers=headers or {})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert "errors" not in body, body
        return body["data"]

    # ---------------------------------------------------------------- time
    async def next_due(self, until: datetime) -> datetime | None:
        due = await self.pool.fetchval(
            "SELECT min(due_at) FROM timers WHERE state IN ('PENDING', 'ENQUEUED') AND due_at <= $1", until)
        return as_jst(due) if due else None

    async def tick(self) -> int:
        """Sweep what is due now and let a real arq worker run it; answer how many were handed over."""
        ctx = {"redis": self.arq, CTX_KEY: TimerRuntime(self.pool, self.clock, self.settings, TUNING)}
        handed = await sweep_timers(ctx)
        if handed:
            ws = worker_settings(self.settings, self.clock, TUNING, pool=self.pool, sweep=False)
            worker = create_worker(ws, burst=True, handle_signals=False)
            try:
                await worker.async_run()
            finally:
                await worker.close()
        return handed

    async def run_until(self, when: datetime) -> None:
        """Move the clock to `when`, stopping at every due timer on the way to run it."""
        when = as_jst(when)
        while (due := await self.next_due(when)) is not None:
            self.clock.set(max(self.clock.now(), due))
            if not await self.tick():
                break
        self.clock.set(max(self.clock.now(), when))


@pytest.fixture
async def scenario(spool: asyncpg.Pool, scenario_database_url: str, redis_url: str) -> AsyncIterator[Scenario]:
    client_r = redis.Redis.from_url(redis_url)
    try:
        client_r.delete(f"arq:queue:{QUEUE}")
    finally:
        client_r.close()
    settings = Settings(database_url=scenario_database_url, redis_url=redis_url, arq_queue=QUEUE,
                        environment="test", timer_max_attempts=3)
    clock = ManualClock(datetime(2026, 4, 1, 9, 0, tzinfo=JST))
    app = create_app(settings, clock=clock)
    arq = await create_arq_pool(RedisSettings.from_dsn(redis_url), default_queue_name=QUEUE)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield Scenario(spool, clock, c, arq, settings)
    finally:
        await arq.aclose(close_connection_pool=True)
