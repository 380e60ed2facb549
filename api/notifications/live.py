"""GraphQL subscriptions (graphql-transport-ws on /graphql): `contractEvents`, `claimUpdates`.

Fed by the process's EventHub (domain/store/event_listener.py: LISTEN/NOTIFY on commit), read from
the outbox itself, so every API process sees every committed event, in seq order, without gaps.
`afterSeq` replays what came after it first (a client that reconnects resumes where it was).
The caller's token comes with the connection (`connection_init` payload `{"Authorization":
"Bearer ..."}`, which GraphiQL fills from its Headers tab) or the handshake's header; the access
rule is the queries': a contract or claim the caller may not read is "not found".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from api.claims.queries import claim_node
from api.claims.types import Claim
from api.context import Context
from api.contracts.types import ContractEvent
from api.node import db_id_of
from domain.runtime.logs import get_logger
from domain.services.notifications import live
from domain.store.event_listener import EventHub

log = get_logger("api.subscriptions")


def _refused(message: str, code: str) -> GraphQLError:
    # A GraphQLError with its code: a subscription's error reaches the client as it is (the
    # masking extension sees only single results), and this one is meant for the client.
    return GraphQLError(message, extensions={"code": code})


def _hub(ctx: Context) -> EventHub:
    return ctx.request.app.state.hub  # type: ignore[no-any-return]


T = TypeVar("T")


async def _masked(stream: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """The masking of api/errors.py for a stream: an unexpected exception reaches the client as
    "Unexpected error" (logged with its traceback), a GraphQLError of ours as it is."""
    try:
        async for item in stream:
            yield item
    except GraphQLError:
        raise
    except Exception as exc:
        log.error("unexpected_subscription_error", exc_info=exc)
        raise GraphQLError("Unexpected error", extensions={"code": "INTERNAL"}) from None
    finally:
        await stream.aclose()


# how often an idle subscription looks at its token's expiry (wall seconds)
RECHECK_S = 30.0


def _token_alive(ctx: Context) -> None:
    p = ctx.principal
    if p is not None and p.expires_at is not None and p.expires_at <= ctx.clock.now().timestamp():
        raise _refused("the token has expired (by the business clock); subscribe again with a new one",
                       "TOKEN_EXPIRED")


async def _woken(ctx: Context, wake: asyncio.Event) -> None:
    """Until the contract may have new events; TOKEN_EXPIRED ends the stream once the caller's token
    has expired, so a subscription never outlives the credential that opened it."""
    while True:
        _token_alive(ctx)
        try:
            await asyncio.wait_for(wake.wait(), RECHECK_S)
        except TimeoutError:
            continue
        wake.clear()
        _token_alive(ctx)
        return


@strawberry.type(description="A claim's event, with the claim as it is after it.")
class ClaimUpdate:
    event: ContractEvent
    claim: Claim | None


@strawberry.type
class Subscription:
    @strawberry.subscription(description=(
        "The contract's events as they commit (oldest first). `afterSeq`: first replay those after it."))
    async def contract_events(self, info: Info[Context, None], contract_id: strawberry.ID,
                              after_seq: int | None = None) -> AsyncGenerator[ContractEvent, None]:
        async for e in _masked(_contract_events(info.context, contract_id, after_seq)):
            yield e

    @strawberry.subscription(description=(
        "The claim's events as they commit (report, coverage, payments...), each with the claim after it."))
    async def claim_updates(self, info: Info[Context, None], claim_id: strawberry.ID,
                            after_seq: int | None = None) -> AsyncGenerator[ClaimUpdate, None]:
        async for u in _masked(_claim_updates(info.context, claim_id, after_seq)):
            yield u


async def _contract_events(ctx: Context, contract_id: strawberry.ID,
                           after_seq: int | None) -> AsyncGenerator[ContractEvent, None]:
    db_id = db_id_of(contract_id, "Contract")
    if db_id is None or not await live.watchable_contract(ctx.pool, ctx.actor, db_id, ctx.clock.now()):
        raise _refused(f"no contract {contract_id}", "CONTRACT_NOT_FOUND")
    async with _hub(ctx).watch(db_id) as wake:
        last = after_seq if after_seq is not None else await live.last_seq(ctx.pool, db_id)
        while True:
            await _woken(ctx, wake)
            while batch := await live.events_after(ctx.pool, db_id, last):
                for e in batch:
                    last = e.seq
                    yield ContractEvent(model=e)


async def _claim_updates(ctx: Context, claim_id: strawberry.ID,
                         after_seq: int | None) -> AsyncGenerator[ClaimUpdate, None]:
    db_id = db_id_of(claim_id, "Claim")
    target = None if db_id is None else await live.watchable_claim(ctx.pool, ctx.actor, db_id)
    if target is None:
        raise _refused(f"no claim {claim_id}", "CLAIM_NOT_FOUND")
    async with _hub(ctx).watch(target.contract_id) as wake:
        last = after_seq if after_seq is not None else await live.last_seq(ctx.pool, target.contract_id)
        while True:
            await _woken(ctx, wake)
            while batch := await live.events_after(ctx.pool, target.contract_id, last):
                for e in batch:
                    last = e.seq
                    if live.of_claim(e, target):
                        yield ClaimUpdate(event=ContractEvent(model=e), claim=await claim_node(ctx, target.claim_id))
