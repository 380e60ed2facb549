"""Fleet queries: `fleet(id)` (also through `node`)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.fleets.types import Fleet
from api.node import db_id_of
from domain.services.errors import Refused
from domain.services.fleets.cases import view_fleet


async def fleet_node(ctx: Context, db_id: int) -> Fleet | None:
    async with ctx.pool.acquire() as conn:
        try:
            return Fleet.of(await view_fleet(conn, ctx.actor, db_id, ctx.clock.now()))
        except Refused:
            return None


@strawberry.type
class FleetQueries:
    @strawberry.field(description="One fleet by global id; null when it does not exist or is not yours.")
    async def fleet(self, info: Info[Context, None], id: strawberry.ID) -> Fleet | None:
        db_id = db_id_of(id, "Fleet")
        return None if db_id is None else await fleet_node(info.context, db_id)
