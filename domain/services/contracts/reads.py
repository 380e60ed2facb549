"""Reads of contracts, parties and vehicles as a given actor sees them (agencies: domain/services/agencies).

Every read goes through the actor's scope: lists and pages filter in SQL (`ContractScope`), reads
by id drop what the actor may not see, so a forbidden id and a missing id answer the same (absent).
Each function runs a fixed number of statements whatever the number of ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.services.access import (
    Actor,
    can_read_contract,
    can_read_party,
    can_read_vehicle,
    contract_scope,
)
from domain.store import outbox
from domain.store.contract_json import ContractScopeSql, Sel, compile_contracts, fetch_compiled
from domain.store.contract_read_repo import (
    MAX_PAGE,
    ContractDetail,
    list_contract_ids,
    load_contracts,
)
from domain.store.contract_repo import ContractStatus
from domain.store.party_repo import (
    Party,
    Vehicle,
    parties_by_id,
    vehicles_by_id,
)
from domain.store.uow import Executor
from domain.store.version_repo import ContractVersion, versions_of


@dataclass(frozen=True, slots=True)
class ContractFilter:
    status: ContractStatus | None = None
    product_id: str | None = None
    agency_id: int | None = None
    policyholder_id: int | None = None
    expiring_from: datetime | None = None
    expiring_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContractPage:
    ids: tuple[int, ...]
    has_next: bool


async def contracts_by_id(
    pool: asyncpg.Pool, actor: Actor | None, ids: Sequence[int], as_of: datetime
) -> dict[int, ContractDetail]:
    if contract_scope(actor).nothing or not ids:
        return {}
    async with pool.acquire() as conn:
        found = await load_contracts(conn, ids, as_of)
    return {i: d for i, d in found.items() if can_read_contract(actor, d.contract)}


async def contract_id_by_policy_number(pool: Executor, actor: Actor | None, policy_number: str) -> int | None:
    """The id only; the caller loads the detail through `contracts_by_id`, which applies the scope."""
    if contract_scope(actor).nothing:
        return None
    cid = await pool.fetchval("SELECT id FROM contracts WHERE policy_number = $1", policy_number)
    return None if cid is None else int(cid)


async def contract_page(
    pool: Executor, actor: Actor | None, f: ContractFilter, *, first: int, after_id: int | None
) -> ContractPage:
    """One keyset page of ids in the actor's scope (1 statement)."""
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be 1..{MAX_PAGE}")
    scope = contract_scope(actor)
    if scope.nothing:
        return ContractPage((), False)
    policyholder_id, agency_id = f.policyholder_id, f.agency_id
    # The scope narrows the filter; a filter outside the scope matches nothing.
    if scope.policyholder_id is not None:
        if policyholder_id not in (None, scope.policyholder_id):
            return ContractPage((), False)
        policyholder_id = scope.policyholder_id
    if scope.agency_id is not None:
        if agency_id not in (None, scope.agency_id):
            return ContractPage((), False)
        agency_id = scope.agency_id
    ids = await list_contract_ids(
        pool, agency_id=agency_id, policyholder_id=policyholder_id, product_id=f.product_id,
        status=f.status, expiring_from=f.expiring_from, expiring_before=f.expiring_before,
        after_id=after_id, limit=first + 1,  # one more tells whether a next page exists
    )
    return ContractPage(tuple(ids[:first]), len(ids) > first)


async def parties_visible(pool: Executor, actor: Actor | None, ids: Sequence[int]) -> dict[int, Party]:
    if actor is None or not ids:
        return {}
    found = await parties_by_id(pool, ids)
    return {i: p for i, p in found.items() if can_read_party(actor, p)}


async def vehicles_visible(pool: Executor, actor: Actor | None, ids: Sequence[int]) -> dict[int, Vehicle]:
    if actor is None or not ids:
        return {}
    found = await vehicles_by_id(pool, ids)
    return {i: v for i, v in found.items() if can_read_vehicle(actor, v)}


async def version_history(
    pool: Executor, contract_ids: Sequence[int], *, include_superseded: bool
) -> dict[int, list[ContractVersion]]:
    """Versions of contracts the caller already resolved through `contracts_by_id` (1 statement)."""
    return await versions_of(pool, contract_ids, include_superseded=include_superseded)


async def events_of(pool: Executor, contract_ids: Sequence[int], *, last: int) -> dict[int, list[outbox.Event]]:
    """The last `last` events of each contract, oldest first (1 statement)."""
    return await outbox.events_of(pool, contract_ids, last=last)


async def parties_and_vehicles(
    pool: Executor, party_ids: Iterable[int], vehicle_ids: Iterable[int]
) -> tuple[dict[int, Party], dict[int, Vehicle]]:
    """Parties and vehicles named by versions of contracts the caller already resolved (2 statements)."""
    return await parties_by_id(pool, list(party_ids)), await vehicles_by_id(pool, list(vehicle_ids))


async def contracts_json(
    pool: asyncpg.Pool, actor: Actor | None, sels: tuple[Sel, ...], as_of: datetime, *,
    ids: Sequence[int] | None = None, policy_number: str | None = None,
) -> dict[int, str]:
    """The answer documents (JSON text) of the contracts among `ids` (or with `policy_number`) in
    the actor's scope, built by PostgreSQL in one statement (domain/store/contract_json.py).
    Raises `Unsupported` when the selection does not compile."""
    scope = contract_scope(actor)
    if scope.nothing:
        return {}
    q = compile_contracts(sels, as_of, ContractScopeSql(scope.policyholder_id, scope.agency_id),
                          ids=ids, policy_number=policy_number)
    return await fetch_compiled(pool, q)
