"""Idempotency keys: a replayed mutation answers its first response and has one effect.

Protocol, inside the mutation's own unit of work:

    outcome = await begin(uow, scope=principal.subject, key=key, request_hash=request_hash(input))
    NEW                        -> do the work, then `await finish(uow, scope, key, response)`
    REPLAY                     -> answer `outcome.response`, do nothing
    REUSED_WITH_OTHER_PAYLOAD  -> refuse (the key names another request)

`begin` inserts the key with ON CONFLICT DO NOTHING. The row is visible to others only when the
unit of work commits, together with the effect and the response, so:
- two concurrent first uses: the second INSERT waits on the first's uncommitted row; when the
  first commits, the second finds the row (SELECT ... FOR UPDATE) and replays its response; when
  the first rolls back, the second's INSERT goes through and it does the work itself;
- a failed or dry-run request leaves no key behind, and its retry runs for real.
Keys are per principal (`scope`), so two users cannot collide or read each other's responses.
Timestamps here are the database's wall clock: retention is an operational matter, not a rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.store.uow import Executor, UnitOfWork


class Outcome(StrEnum):
    NEW = "NEW"
    REPLAY = "REPLAY"
    REUSED_WITH_OTHER_PAYLOAD = "REUSED_WITH_OTHER_PAYLOAD"


@dataclass(frozen=True, slots=True)
class Begun:
    outcome: Outcome
    response: Any = None  # the stored response, for REPLAY


class IdempotencyError(RuntimeError):
    """The protocol was broken (finish without begin, twice, or a committed key with no response)."""


def request_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of a request's input: key order and whitespace do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def begin(uow: UnitOfWork, scope: str, key: str, request_hash: str) -> Begun:
    conn = uow.conn
    inserted = await conn.fetchval(
        """INSERT INTO idempotency_records (scope, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT (scope, key) DO NOTHING RETURNING true""",
        scope, key, request_hash,
    )
    if inserted:
        return Begun(Outcome.NEW)
    row = await conn.fetchrow(
        """SELECT request_hash, response FROM idempotency_records
           WHERE scope = $1 AND key = $2 FOR UPDATE""",
        scope, key,
    )
    if row is None:
        # Only a purge between our two statements gets here; a caller's retry starts afresh.
        raise IdempotencyError(f"idempotency key {key!r} vanished while being read; retry")
    if row["request_hash"] != request_hash:
        return Begun(Outcome.REUSED_WITH_OTHER_PAYLOAD)
    if row["response"] is None:
        raise IdempotencyError(f"idempotency key {key!r} was committed without a response")
    return Begun(Outcome.REPLAY, row["response"])


async def finish(uow: UnitOfWork, scope: str, key: str, response: Any) -> None:
    """Store the response of a NEW request; it commits with the request's effect."""
    if response is None:
        raise IdempotencyError("a response is required (None marks a key still in progress)")
    done = await uow.conn.execute(
        """UPDATE idempotency_records SET response = $3, completed_at = now()
           WHERE scope = $1 AND key = $2 AND response IS NULL""",
        scope, key, response,
    )
    if done == "UPDATE 0":
        raise IdempotencyError(f"finish({key!r}) without a NEW begin in this unit of work")


async def purge(conn: Executor, older_than: datetime) -> int:
    """Forget keys created before `older_than`; a retry after that runs as a new request."""
    done = await conn.execute("DELETE FROM idempotency_records WHERE created_at < $1", older_than)
    return int(done.split()[-1])
