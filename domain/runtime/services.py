"""Where PostgreSQL and Redis are: the URLs from the settings, or embedded servers under .data/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as aioredis

from domain.runtime.embedded import EmbeddedPostgres, EmbeddedRedis


class ServiceUnavailable(RuntimeError):
    """A backing service cannot be reached; the message is meant for a person, in one line."""


@dataclass
class Services:
    database_url: str
    redis_url: str
    embedded_postgres: EmbeddedPostgres | None = None
    embedded_redis: EmbeddedRedis | None = None
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        # Redis first: it holds nothing PostgreSQL does not also hold.
        if self.embedded_redis is not None:
            self.embedded_redis.stop()
            self.embedded_redis = None
        if self.embedded_postgres is not None:
            self.embedded_postgres.stop()
            self.embedded_postgres = None


def start_services(database_url: str | None, redis_url: str | None, data_dir: Path,
                   *, redis_persist: bool = True, redis_dir: Path | None = None,
                   with_redis: bool = True) -> Services:
    """Answer the URLs to use, starting embedded servers for those not given.

    `with_redis=False` (migrate, seed) starts no Redis and leaves `redis_url` empty.
    `redis_dir` gives a run its own Redis (tests): an embedded Redis replaces a stale server
    found in its directory, so two runs must not share one.
    """
    pg: EmbeddedPostgres | None = None
    rd: EmbeddedRedis | None = None
    notes: list[str] = []
    try:
        if not database_url:
            pg = EmbeddedPostgres(data_dir / "postgres")
            database_url = pg.start()
            notes.append(f"embedded PostgreSQL, data in {data_dir / 'postgres'}")
        if with_redis and not redis_url:
            rd = EmbeddedRedis(redis_dir or data_dir / "redis")
            redis_url = rd.start(persist=redis_persist)
            notes.append(f"embedded Redis, data in {rd.data_dir}")
    except Exception:
        if rd:
            rd.stop()
        if pg:
            pg.stop()
        raise
    return Services(database_url, redis_url or "", pg, rd, notes)


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (keeps ?host=/socket query)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


async def check_postgres(url: str, timeout: float = 5.0) -> None:
    try:
        conn = await asyncpg.connect(url, timeout=timeout)
    except (TimeoutError, OSError, asyncpg.PostgresError, ValueError) as exc:
        raise ServiceUnavailable(f"PostgreSQL at {redact(url)} is not reachable: {exc}") from exc
    await conn.close()


async def check_redis(url: str, timeout: float = 5.0) -> None:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError, ValueError) as exc:
        raise ServiceUnavailable(f"Redis at {redact(url)} is not reachable: {exc}") from exc
    finally:
        await client.aclose()
