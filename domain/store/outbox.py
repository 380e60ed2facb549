"""The event outbox: every transaction appends ordered events per contract, in its own unit of work.

Sequence numbers come from `contracts.event_seq`, raised by the same UPDATE that hands them out.
That UPDATE takes the contract's row lock, so concurrent appenders of one contract queue up, and a
transaction that rolls back gives its numbers back: per contract the events are 1, 2, 3, ... with
no gap, whatever failed in between. (A global sequence would leave holes on every rollback.)

Publishing (webhooks: domain/services/notifications/delivery.py, run by the worker's
`publish_events` cron) reads unpublished rows with `claim_unpublished` (SKIP LOCKED, so several
publishers share the work) and marks them with `mark_published` in the same unit of work. Every
insert also NOTIFYs `autopolicy_events` on commit (migration 0022), which GraphQL subscriptions
listen to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.store.policy_repo import ContractNotFound
from domain.store.uow import Executor, UnitOfWork


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    contract_id: int
    seq: int
    kind: str
    payload: Mapping[str, Any]
    at: datetime
    transaction_id: int | None
    published_at: datetime | None


_COLS = "id, contract_id, seq, kind, payload, at, transaction_id, published_at"

_APPEND = f"""
WITH s AS (
    UPDATE contracts SET event_seq = event_seq + cardinality($2::text[])
    WHERE id = $1 RETURNING event_seq - cardinality($2::text[]) AS base
)
INSERT INTO events (contract_id, seq, kind, payload, at, transaction_id)
SELECT $1, s.base + e.ord, e.kind, e.payload, $4, $5
FROM s, unnest($2::text[], $3::jsonb[]) WITH ORDINALITY AS e(kind, payload, ord)
RETURNING {_COLS}"""


def _event(r: Mapping[str, Any]) -> Event:
    return Event(
        r["id"], r["contract_id"], r["seq"], r["kind"], r["payload"], r["at"], r["transaction_id"],
        r["published_at"],
    )


async def append_events(
    uow: UnitOfWork,
    contract_id: int,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    at: datetime,
    transaction_id: int | None = None,
) -> list[Event]:
    """Append (kind, payload) pairs in order with consecutive seqs; one statement for any number."""
    if not items:
        return []
    if at.tzinfo is None:
        raise ValueError("at: naive datetime")
    rows = await uow.conn.fetch(
        _APPEND, contract_id, [str(k) for k, _ in items], [dict(p) for _, p in items], at, transaction_id
    )
    if not rows:
        raise ContractNotFound(contract_id)
    return sorted((_event(r) for r in rows), key=lambda e: e.seq)


async def append_event(
    uow: UnitOfWork,
    contract_id: int,
    kind: str,
    payload: Mapping[str, Any],
    *,
    at: datetime,
    transaction_id: int | None = None,
) -> Event:
    (event,) = await append_events(uow, contract_id, [(kind, payload)], at=at, transaction_id=transaction_id)
    return event


async def events(
    conn: Executor, contract_id: int, *, after_seq: int = 0, limit: int | None = None
) -> list[Event]:
    rows = await conn.fetch(
        f"""SELECT {_COLS} FROM events WHERE contract_id = $1 AND seq > $2 ORDER BY seq
            LIMIT $3""",
        contract_id, after_seq, limit,
    )
    return [_event(r) for r in rows]


async def last_seq(conn: Executor, contract_id: int) -> int:
    """The contract's last event seq (0 before its first event)."""
    return int(await conn.fetchval("SELECT event_seq FROM contracts WHERE id = $1", contract_id) or 0)


async def events_of(conn: Executor, contract_ids: Sequence[int], *, last: int) -> dict[int, list[Event]]:
    """The last `last` events of each contract, oldest first, in one statement."""
    rows = await conn.fetch(
        f"""SELECT e.* FROM unnest($1::bigint[]) AS c(id)
            CROSS JOIN LATERAL (SELECT {_COLS} FROM events WHERE contract_id = c.id
                                ORDER BY seq DESC LIMIT $2) e
            ORDER BY e.contract_id, e.seq""",
        list(contract_ids), last,
    )
    out: dict[int, list[Event]] = {int(c): [] for c in contract_ids}
    for r in rows:
        out[r["contract_id"]].append(_event(r))
    return out


async def claim_unpublished(uow: UnitOfWork, limit: int = 100) -> list[Event]:
    """Oldest unpublished events, locked for this unit of work; others skip them."""
    rows = await uow.conn.fetch(
        f"""SELECT {_COLS} FROM events WHERE published_at IS NULL ORDER BY id
            LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [_event(r) for r in rows]


async def mark_published(uow: UnitOfWork, event_ids: Sequence[int], at: datetime) -> int:
    done = await uow.conn.execute(
        "UPDATE events SET published_at = $2 WHERE id = any($1::bigint[]) AND published_at IS NULL",
        list(event_ids), at,
    )
    return int(done.split()[-1])
