"""Connection pools. One asyncpg pool per process; JSON in and out as Python objects."""

from __future__ import annotations

import json
from typing import Any

import asyncpg


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class SessionFreeConnection(asyncpg.Connection):  # type: ignore[misc]
    """A connection whose users leave no session state behind: no LISTEN, no session advisory lock,
    no cursor outside a transaction, no session-level SET (only SET LOCAL, pg_advisory_xact_lock).

    asyncpg's pool resets every released connection with one more round trip
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) that undoes exactly those; for
    the API, whose reads are one statement each, that round trip was a sizeable share of a request
    (issue 16's profile). An open transaction is still rolled back and listeners still dropped:
    asyncpg does that in `reset()` whatever this query is.
    """

    def get_reset_query(self) -> str:
        return ""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, session_free: bool = False,
                      **kwargs: Any) -> asyncpg.Pool:
    """The process's pool. `session_free`: its users keep to `SessionFreeConnection`'s rules, so
    a released connection is not reset by an extra statement."""
    if session_free:
        kwargs["connection_class"] = SessionFreeConnection
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
