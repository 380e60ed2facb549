"""Claim reads for the API: claims with their contract, lines, payments and history, scoped by the
caller (a claim is visible exactly when its contract is; another's claim looks missing).

Batch functions: a page of contracts or any number of claims costs four statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from domain.services.access import Actor, can_read_contract
from domain.store import claim_repo as repo
from domain.store.contract_repo import CONTRACT_COLS, Contract, contract_from_row


@dataclass(frozen=True, slots=True)
class ClaimDetail:
    claim: repo.StoredClaim
    contract: Contract
    lines: tuple[repo.StoredLine, ...]
    events: tuple[repo.ClaimEvent, ...]


async def _contracts(pool: asyncpg.Pool, ids: Sequence[int]) -> dict[int, Contract]:
    rows = await pool.fetch(f"SELECT {CONTRACT_COLS} FROM contracts c WHERE c.id = any($1::bigint[])", list(ids))
    return {r["id"]: contract_from_row(r) for r in rows}


async def _details(pool: asyncpg.Pool, actor: Actor | None, claims: Sequence[repo.StoredClaim]) -> list[ClaimDetail]:
    contracts = await _contracts(pool, list({c.contract_id for c in claims}))
    visible = [c for c in claims if c.contract_id in contracts and can_read_contract(actor, contracts[c.contract_id])]
    if not visible:
        return []
    ids = [c.id for c in visible]
    lines = await repo.lines_of(pool, ids)
    events = await repo.events_of_claims(pool, ids)
    return [ClaimDetail(c, contracts[c.contract_id], tuple(lines[c.id]), tuple(events[c.id])) for c in visible]


async def claims_by_id(pool: asyncpg.Pool, actor: Actor | None, claim_ids: Sequence[int]) -> dict[int, ClaimDetail]:
    if actor is None or not claim_ids:
        return {}
    found = await repo.claims_by_id(pool, claim_ids)
    return {d.claim.id: d for d in await _details(pool, actor, list(found.values()))}


async def claims_of_contracts(
    pool: asyncpg.Pool, actor: Actor | None, contract_ids: Sequence[int]
) -> dict[int, list[ClaimDetail]]:
    out: dict[int, list[ClaimDetail]] = {int(c): [] for c in contract_ids}
    if actor is None or not contract_ids:
        return out
    by_contract = await repo.claims_of_contracts(pool, contract_ids)
    for d in await _details(pool, actor, [c for cs in by_contract.values() for c in cs]):
        out[d.contract.id].append(d)
    return out
