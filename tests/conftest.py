"""Shared fixtures: real PostgreSQL and Redis for every test run, never shared between runs.

DATABASE_URL / REDIS_URL (when set) name servers to use; otherwise embedded servers start under
.data/test/. Each run creates its own database (dropped at the end) and claims its own Redis
logical database (flushed at the end), so concurrent runs on one machine never see each other.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from domain.runtime.services import Services, start_services
from domain.services.wiring import install as install_reactions
from domain.store.db import create_pool
from tests.support import claimed_redis_db, fresh_database

ROOT = Path(__file__).resolve().parents[1]
RUN_ID = f"{os.getpid()}_{secrets.token_hex(3)}"


# The process entry points install the reactions (domain/services/wiring.py); so do the tests.
install_reactions()


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    svc = start_services(
        os.environ.get("DATABASE_URL") or None,
        os.environ.get("REDIS_URL") or None,
        ROOT / ".data" / "test",
        redis_persist=False,
        redis_dir=ROOT / ".data" / "test" / f"redis-{RUN_ID}",
    )
    yield svc
    svc.stop()
    shutil.rmtree(ROOT / ".data" / "test" / f"redis-{RUN_ID}", ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(services: Services) -> Iterator[str]:
    """A fresh, migrated database for this test run."""
    with fresh_database(services.database_url, f"autopolicy_test_{RUN_ID}") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(services: Services) -> Iterator[str]:
    """A Redis logical database claimed for this run (1..15), flushed before and after."""
    with claimed_redis_db(services.redis_url, RUN_ID) as url:
        yield url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(database_url, min_size=1, max_size=10)
    yield p
    await p.close()
