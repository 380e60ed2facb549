"""Root query fields over contracts, parties, vehicles and agencies (the general path).

Every field reads through domain.services.contracts.reads with the caller's actor, so scope rules
live in one place; a node the caller may not see is null, exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.context import Context
from api.contracts.types import (
    Agency,
    Contract,
    ContractConnection,
    ContractEdge,
    Party,
    Vehicle,
)
from api.errors import ClientError
from api.node import Node, db_id_of, from_global_id
from api.pages import PageInfo, decode_cursor, encode_cursor
from api.windows.types import Window
from domain.services.agencies import cases as agency_services
from domain.services.contracts import reads as contract_reads
from domain.services.windows import filings as window_services
from domain.store.contract_read_repo import MAX_PAGE
from domain.vocab import ContractStatus

ContractStatusEnum = strawberry.enum(ContractStatus, name="ContractStatus",
                                     description="A member of a contract's status set (SPEC §4.4).")


@strawberry.input(description="Contract list filters; all given filters must match.")
class ContractFilter:
    status: ContractStatusEnum | None = None  # type: ignore[valid-type]
    product_id: str | None = None
    agency_id: strawberry.ID | None = strawberry.field(default=None, description="Agency global id.")
    policyholder_id: strawberry.ID | None = strawberry.field(default=None, description="Party global id.")
    expires_from: dt.datetime | None = strawberry.field(default=None, description="A term ends at or after.")
    expires_before: dt.datetime | None = strawberry.field(default=None, description="A term ends before.")


def _as_of(info: Info[Context, None], as_of: dt.datetime | None) -> dt.datetime:
    if as_of is None:
        return info.context.clock.now()
    if as_of.tzinfo is None:
        raise ClientError("asOf needs a time zone offset (e.g. 2026-04-01T16:00:00+09:00)", "INVALID_AS_OF")
    return as_of


def _ref(gid: strawberry.ID | None, type_name: str) -> int | None:
    """The database id of an optional filter reference; -1 (matches nothing) for a malformed one."""
    if gid is None:
        return None
    db_id = db_id_of(gid, type_name)
    return -1 if db_id is None else db_id


def service_filter(f: ContractFilter | None) -> contract_reads.ContractFilter:
    """The service layer's filter for a `ContractFilter` input (both read paths use this)."""
    f = f or ContractFilter()
    return contract_reads.ContractFilter(
        status=ContractStatus(f.status.value) if f.status is not None else None,
        product_id=f.product_id, agency_id=_ref(f.agency_id, "Agency"),
        policyholder_id=_ref(f.policyholder_id, "Party"),
        expiring_from=f.expires_from, expiring_before=f.expires_before,
    )


AsOf = Annotated[dt.datetime | None, strawberry.argument(
    description="Answer as of this moment (default: now). Versions, premium, drivers and vehicle are those in force then.")]


@strawberry.type
class ContractQueries:
    @strawberry.field(description="One contract by global id or policy number; null when absent or not yours.")
    async def contract(
        self, info: Info[Context, None], id: strawberry.ID | None = None,
        policy_number: str | None = None, as_of: AsOf = None,
    ) -> Contract | None:
        if (id is None) == (policy_number is None):
            raise ClientError("give exactly one of `id` and `policyNumber`", "INVALID_ARGUMENTS")
        at = _as_of(info, as_of)
        ctx = info.context
        if id is not None:
            db_id = db_id_of(id, "Contract")
        else:
            assert policy_number is not None
            db_id = await contract_reads.contract_id_by_policy_number(ctx.pool, ctx.actor, policy_number)
        if db_id is None:
            return None
        found = await contract_reads.contracts_by_id(ctx.pool, ctx.actor, [db_id], at)
        d = found.get(db_id)
        return None if d is None else Contract.of(d, at)

    @strawberry.field(description="Contracts you may see, oldest first; keyset pages of at most 100.")
    async def contracts(
        self, info: Info[Context, None], filter: ContractFilter | None = None, first: int = 20,
        after: str | None = None, as_of: AsOf = None,
    ) -> ContractConnection:
        if not 1 <= first <= MAX_PAGE:
            raise ClientError(f"`first` must be 1..{MAX_PAGE}", "INVALID_PAGE_SIZE")
        at = _as_of(info, as_of)
        ctx = info.context
        page = await contract_reads.contract_page(
            ctx.pool, ctx.actor, service_filter(filter),
            first=first, after_id=None if after is None else decode_cursor(after),
        )
        found = await contract_reads.contracts_by_id(ctx.pool, ctx.actor, page.ids, at)
        edges = [ContractEdge(cursor=encode_cursor(i), node=Contract.of(found[i], at)) for i in page.ids if i in found]
        return ContractConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
        )

    @strawberry.field(description="Any object by global id; null when absent or not yours.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        decoded = from_global_id(id)
        if decoded is None:
            return None
        type_name, db_id = decoded
        ctx = info.context
        if type_name == "Contract":
            at = ctx.clock.now()
            d = (await contract_reads.contracts_by_id(ctx.pool, ctx.actor, [db_id], at)).get(db_id)
            return None if d is None else Contract.of(d, at)
        if type_name == "Party":
            p = (await contract_reads.parties_visible(ctx.pool, ctx.actor, [db_id])).get(db_id)
            return None if p is None else Party.of(p)
        if type_name == "Claim":
            from api.claims.queries import claim_node

            return await claim_node(ctx, db_id)
        if type_name == "Fleet":
            from api.fleets.queries import fleet_node

            return await fleet_node(ctx, db_id)
        if type_name == "WebhookSubscription":
            from api.notifications.queries import subscription_node

            return await subscription_node(ctx, db_id)
        if type_name == "WebhookDelivery":
            return None  # not a Node: read through webhookDeliveries
        if type_name == "Vehicle":
            v = (await contract_reads.vehicles_visible(ctx.pool, ctx.actor, [db_id])).get(db_id)
            return None if v is None else Vehicle.of(v)
        if type_name == "Window":
            w = await window_services.window_visible(ctx.pool, ctx.actor, db_id)
            return None if w is None else Window.of(w)
        a = (await agency_services.agencies_visible(ctx.pool, ctx.actor, [db_id])).get(db_id)
        return None if a is None else Agency.of(a)
