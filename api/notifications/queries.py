"""Webhook queries: `webhookSubscriptions`, `webhookSubscription(id)` (also `node`), `webhookDeliveries`."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.context import Context
from api.node import db_id_of
from api.notifications.types import (
    WebhookDelivery,
    WebhookDeliveryState,
    WebhookSubscription,
    deliveries_of,
)
from domain.services.notifications import subscriptions as subs


async def subscription_node(ctx: Context, db_id: int) -> WebhookSubscription | None:
    async with ctx.pool.acquire() as conn:
        s = await subs.subscription_visible(conn, ctx.actor, db_id)
    return None if s is None else WebhookSubscription.of(s)


@strawberry.type
class NotificationQueries:
    @strawberry.field(description="Webhook subscriptions within reach (staff: all; an agent: its agency's).")
    async def webhook_subscriptions(self, info: Info[Context, None]) -> list[WebhookSubscription]:
        ctx = info.context
        async with ctx.pool.acquire() as conn:
            return [WebhookSubscription.of(s) for s in await subs.subscriptions_visible(conn, ctx.actor)]

    @strawberry.field(description="One webhook subscription; null when absent or not yours.")
    async def webhook_subscription(self, info: Info[Context, None], id: strawberry.ID) -> WebhookSubscription | None:
        db_id = db_id_of(id, "WebhookSubscription")
        return None if db_id is None else await subscription_node(info.context, db_id)

    @strawberry.field(description="Deliveries (newest first, at most 100) of one subscription or of all within reach.")
    async def webhook_deliveries(self, info: Info[Context, None], subscription_id: strawberry.ID | None = None,
                                 state: WebhookDeliveryState | None = None, contract_id: strawberry.ID | None = None,
                                 first: int = 20) -> list[WebhookDelivery]:
        sub_id = None if subscription_id is None else db_id_of(subscription_id, "WebhookSubscription")
        cid = None if contract_id is None else db_id_of(contract_id, "Contract")
        if (subscription_id is not None and sub_id is None) or (contract_id is not None and cid is None):
            return []
        return await deliveries_of(info.context, sub_id, state, cid, first)
