"""GraphQL types of webhooks and notifications. A subscription's secret is never a field."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import strawberry
from strawberry.types import Info

from api.context import Context
from api.node import Node, to_global_id
from domain.services.notifications import subscriptions as subs
from domain.services.notifications.types import SubscriptionView
from domain.store import webhook_repo


@strawberry.enum(description="Where a delivery is: PENDING (queued or waiting for its retry), DELIVERED, DEAD (dead-lettered).")
class WebhookDeliveryState(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


@strawberry.type(description="One POST of a delivery.")
class WebhookAttempt:
    attempt: int
    at: dt.datetime
    latency_ms: float
    status_code: int | None = strawberry.field(description="Null when no HTTP answer came (timeout, connection refused).")
    outcome: str = strawberry.field(description="DELIVERED, HTTP_ERROR, TIMEOUT or CONNECTION_ERROR.")
    error: str | None

    @classmethod
    def of(cls, a: webhook_repo.Attempt) -> WebhookAttempt:
        return cls(attempt=a.attempt, at=a.at, latency_ms=a.latency_ms, status_code=a.status, outcome=a.outcome,
                   error=a.error)


@strawberry.type(description="One event for one subscription, with every attempt made.")
class WebhookDelivery:
    id: strawberry.ID
    subscription_id: strawberry.ID
    event_id: str = strawberry.field(description="Stable for every attempt and redelivery (the body's `id`): dedupe on it.")
    kind: str
    contract_id: strawberry.ID
    seq: int
    state: WebhookDeliveryState
    attempt_count: int
    next_attempt_at: dt.datetime | None = strawberry.field(description="While PENDING: when it is tried next.")
    give_up_at: dt.datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    dead_at: dt.datetime | None
    created_at: dt.datetime
    attempts: list[WebhookAttempt]

    @classmethod
    def of(cls, d: webhook_repo.Delivery, attempts: list[webhook_repo.Attempt]) -> WebhookDelivery:
        return cls(
            id=to_global_id("WebhookDelivery", d.id), subscription_id=to_global_id("WebhookSubscription", d.subscription_id),
            event_id=f"evt_{d.event_id}", kind=d.kind, contract_id=to_global_id("Contract", d.contract_id), seq=d.seq,
            state=WebhookDeliveryState(d.state), attempt_count=d.attempts,
            next_attempt_at=d.next_attempt_at if d.state == "PENDING" else None, give_up_at=d.give_up_at,
            last_status_code=d.last_status, last_error=d.last_error, delivered_at=d.delivered_at, dead_at=d.dead_at,
            created_at=d.created_at, attempts=[WebhookAttempt.of(a) for a in attempts])


async def deliveries_of(ctx: Context, sub_id: int | None, state: WebhookDeliveryState | None,
                        contract_id: int | None, first: int) -> list[WebhookDelivery]:
    """Newest first, at most 100, with their attempts: two statements whatever the count."""
    async with ctx.pool.acquire() as conn:
        found = await subs.deliveries_visible(conn, ctx.actor, sub_id, state=None if state is None else state.value,
                                              contract_id=contract_id, limit=max(1, min(first, 100)))
        attempts = await subs.delivery_attempts(conn, [d.id for d in found])
    return [WebhookDelivery.of(d, attempts.get(d.id, [])) for d in found]


@strawberry.type(description="Where events are POSTed, signed. The secret is shown only by create and rotate.")
class WebhookSubscription(Node):
    url: str
    kinds: list[str] = strawberry.field(description="Event kinds it receives; empty: every kind.")
    agency_id: strawberry.ID | None = strawberry.field(description="Null: every contract (staff).")
    active: bool = strawberry.field(description="False: paused (deliveries are held, sent on resume).")
    description: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    previous_secret_valid_until: dt.datetime | None = strawberry.field(
        description="After a rotation: until when the previous secret also signs (a second v1=).")
    db_id: strawberry.Private[int]

    @classmethod
    def of(cls, s: SubscriptionView) -> WebhookSubscription:
        return cls(id=to_global_id("WebhookSubscription", s.id), url=s.url, kinds=list(s.kinds),
                   agency_id=None if s.agency_id is None else to_global_id("Agency", s.agency_id), active=s.active,
                   description=s.description, created_by=s.created_by, created_at=s.created_at,
                   updated_at=s.updated_at, previous_secret_valid_until=s.secret_overlap_until, db_id=s.id)

    @strawberry.field(description="Its deliveries, newest first (at most 100).")
    async def deliveries(self, info: Info[Context, None], state: WebhookDeliveryState | None = None,
                         first: int = 20) -> list[WebhookDelivery]:
        return await deliveries_of(info.context, self.db_id, state, None, first)


@strawberry.type(description="A reminder or deadline told to someone (channel, recipient, state).")
class Notification:
    id: strawberry.ID
    kind: str = strawberry.field(description="The event kind: RENEWAL_REMINDER, WINDOW_OPENED, ...")
    channel: str = strawberry.field(description="WEBHOOK (or EMAIL).")
    recipient: str | None = strawberry.field(description=(
        "Insurer staff only (a subscription or mailbox of the insurer's): null for others."))
    state: str = strawberry.field(description="PENDING, SENT or FAILED.")
    subject: str
    body: str
    event_id: str = strawberry.field(description="The event's stable id (evt_...).")
    created_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None = strawberry.field(description="Insurer staff only: why the last try failed.")

    @classmethod
    def of(cls, n: webhook_repo.Notification, *, internal: bool) -> Notification:
        """`internal`: the caller is insurer staff; others see what they were told, not where to."""
        return cls(id=to_global_id("Notification", n.id), kind=n.kind, channel=n.channel,
                   recipient=n.recipient if internal else None,
                   state=n.state, subject=n.subject, body=n.body, event_id=f"evt_{n.event_id}",
                   created_at=n.created_at, sent_at=n.sent_at, last_error=n.last_error if internal else None)
