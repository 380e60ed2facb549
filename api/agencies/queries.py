"""The `agencies` list: the agencies the caller deals with (staff: all; an agent: their own)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.agencies.types import Agency, AgencyConnection, AgencyEdge
from api.context import Context
from api.errors import ClientError
from api.pages import PageInfo, decode_cursor, encode_cursor
from domain.services.agencies import cases as agencies


@strawberry.type
class AgencyQueries:
    @strawberry.field(description=(
        "Agencies you may see, oldest first: staff every one, an agent their own, a policyholder those "
        "of their contracts; keyset pages of at most 100. One agency by id: `node(id:)`."))
    async def agencies(self, info: Info[Context, None], first: int = 20, after: str | None = None) -> AgencyConnection:
        if not 1 <= first <= agencies.MAX_PAGE:
            raise ClientError(f"`first` must be 1..{agencies.MAX_PAGE}", "INVALID_PAGE_SIZE")
        ctx = info.context
        page = await agencies.agencies_page(ctx.pool, ctx.actor, first=first,
                                            after_id=None if after is None else decode_cursor(after))
        edges = [AgencyEdge(cursor=encode_cursor(a.id), node=Agency.of(a)) for a in page.agencies]
        return AgencyConnection(
            edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None))
