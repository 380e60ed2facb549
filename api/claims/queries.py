"""Root query fields over claims (general path). A claim the caller may not see is null, exactly
like a missing one: it is visible when its contract is."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.claims.types import Claim
from api.context import Context
from api.node import db_id_of
from domain.services.claims import reads as claims_reads


async def claim_node(ctx: Context, db_id: int) -> Claim | None:
    if ctx.actor is None:
        return None
    d = (await claims_reads.claims_by_id(ctx.pool, ctx.actor, [db_id])).get(db_id)
    return None if d is None else Claim.of(d, ctx.actor)


@strawberry.type
class ClaimQueries:
    @strawberry.field(description="One claim by global id; null when absent or not yours.")
    async def claim(self, info: Info[Context, None], id: strawberry.ID) -> Claim | None:
        db_id = db_id_of(id, "Claim")
        return None if db_id is None else await claim_node(info.context, db_id)
