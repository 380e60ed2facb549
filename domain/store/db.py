"""Connection pools. One asyncpg pool per process; JSON in and out as Python objects."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        # Cover times and deadlines are compared in JST; the session zone makes ::date casts agree.
        server_settings={"timezone": "Asia/Tokyo", "application_name": "autopolicy"},
        **kwargs,
    )
    assert pool is not None
    return pool
