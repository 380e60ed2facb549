from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from api.app import create_app
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings

START = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="module", autouse=True)
def clock_from_the_start(clock: ManualClock) -> None:
    """Each module starts at the same business moment, whatever an earlier module moved the shared
    clock to (the tests of one module may carry a story across their functions)."""
    clock.set(START)


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=redis_url, environment="test")


@pytest.fixture(scope="session")
async def client(settings: Settings, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def gql(client: httpx.AsyncClient, query: str, variables: dict | None = None,
              headers: dict | None = None) -> dict:
    r = await client.post("/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers or {})
    assert r.status_code == 200, r.text
    return r.json()
