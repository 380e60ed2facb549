"""What GraphQL subscriptions read: who may watch a contract or a claim, and the outbox after a seq.

The access rule is the queries' own (a policyholder watches only their contracts and claims; an
agent its agency's; staff everything), checked when the subscription starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from domain.services.access import Actor
from domain.services.claims.reads import claims_by_id
from domain.services.contracts.reads import contracts_by_id
from domain.store import outbox
from domain.store.outbox import Event

PAGE = 100


@dataclass(frozen=True, slots=True)
class ClaimTarget:
    claim_id: int
    contract_id: int
    claim_number: str


async def watchable_contract(pool: asyncpg.Pool, actor: Actor | None, contract_id: int, at: datetime) -> bool:
    return actor is not None and contract_id in await contracts_by_id(pool, actor, [contract_id], at)


async def watchable_claim(pool: asyncpg.Pool, actor: Actor | None, claim_id: int) -> ClaimTarget | None:
    if actor is None:
        return None
    d = (await claims_by_id(pool, actor, [claim_id])).get(claim_id)
    return None if d is None else ClaimTarget(claim_id, d.claim.contract_id, d.claim.claim_number)


async def last_seq(pool: asyncpg.Pool, contract_id: int) -> int:
    return await outbox.last_seq(pool, contract_id)


async def events_after(pool: asyncpg.Pool, contract_id: int, after_seq: int) -> list[Event]:
    async with pool.acquire() as conn:
        return await outbox.events(conn, contract_id, after_seq=after_seq, limit=PAGE)


def of_claim(e: Event, target: ClaimTarget) -> bool:
    p: Mapping[str, Any] = e.payload
    return p.get("claimNumber") == target.claim_number or p.get("claimId") == target.claim_id
