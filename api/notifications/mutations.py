"""Webhook mutations: create, update (pause/resume), rotate the secret, delete; staff redeliver."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.types import Info

from api.context import Context
from api.mutation_support import UserError, errors_of, id_of, required_id, run_use_case
from api.notifications.types import WebhookDelivery, WebhookSubscription
from domain.services.mutation_runner import Outcome
from domain.services.notifications import subscriptions as subs
from domain.services.notifications.types import (
    CreateSubscription,
    Deleted,
    Redelivered,
    SubscriptionView,
    SubscriptionWithSecret,
    UpdateSubscription,
)


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str
    kinds: list[str] = strawberry.field(default_factory=list, description="Event kinds; empty: every kind.")
    agency_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff: one agency's contracts (null: every contract). An agent: always its own.")
    active: bool = True
    description: str = ""
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class UpdateWebhookSubscriptionInput:
    id: strawberry.ID
    url: str | None = None
    kinds: list[str] | None = None
    active: bool | None = strawberry.field(default=None, description="False pauses; true resumes (held deliveries go out).")
    description: str | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class WebhookSubscriptionIdInput:
    id: strawberry.ID
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class RedeliverWebhookInput:
    delivery_id: strawberry.ID
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.type(description="Answer of create, update and rotate.")
class WebhookSubscriptionPayload:
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    subscription: WebhookSubscription | None
    secret: str | None = strawberry.field(
        description="Create and rotate only: the signing secret, shown this once (store it now); null on an idempotent replay (rotate to get a new one).")


@strawberry.type
class DeleteWebhookSubscriptionPayload:
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    deleted_id: strawberry.ID | None


@strawberry.type
class RedeliverWebhookPayload:
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    delivery: WebhookDelivery | None = strawberry.field(description="The delivery, PENDING again.")


def _sub_id(gid: strawberry.ID) -> int:
    return required_id(gid, "WebhookSubscription", "input.id")


def _with_secret(o: Outcome[SubscriptionWithSecret]) -> WebhookSubscriptionPayload:
    """Create's and rotate's answer: the secret only the first time (not on a dry run or a replay)."""
    r = o.result
    return WebhookSubscriptionPayload(
        user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
        subscription=None if r is None else WebhookSubscription.of(r.subscription),
        secret=None if r is None or o.dry_run or not r.secret else r.secret)


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Subscribe a URL to events (staff, or an agency for its contracts).")
    async def create_webhook_subscription(self, info: Info[Context, None],
                                          input: CreateWebhookSubscriptionInput) -> WebhookSubscriptionPayload:
        def build() -> CreateSubscription:
            return CreateSubscription(input.url, tuple(input.kinds),
                                      id_of(input.agency_id, "Agency", "input.agencyId", required=False),
                                      input.active, input.description)

        o = await run_use_case(info, "createWebhookSubscription", build, subs.create_subscription,
                               SubscriptionWithSecret, input.idempotency_key, input.dry_run)
        return _with_secret(o)

    @strawberry.mutation(description="Change the URL, kinds or description; `active: false` pauses, `true` resumes.")
    async def update_webhook_subscription(self, info: Info[Context, None],
                                          input: UpdateWebhookSubscriptionInput) -> WebhookSubscriptionPayload:
        def build() -> UpdateSubscription:
            return UpdateSubscription(_sub_id(input.id), input.url,
                                      None if input.kinds is None else tuple(input.kinds), input.active,
                                      input.description)

        o = await run_use_case(info, "updateWebhookSubscription", build,
                               partial(subs.update_subscription, settings=info.context.settings),
                               SubscriptionView, input.idempotency_key, input.dry_run)
        return WebhookSubscriptionPayload(
            user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
            subscription=None if o.result is None else WebhookSubscription.of(o.result), secret=None)

    @strawberry.mutation(description="A new signing secret (shown once); the previous one also signs for a day.")
    async def rotate_webhook_secret(self, info: Info[Context, None],
                                    input: WebhookSubscriptionIdInput) -> WebhookSubscriptionPayload:
        o = await run_use_case(info, "rotateWebhookSecret", lambda: _sub_id(input.id),
                               partial(subs.rotate_secret, settings=info.context.settings),
                               SubscriptionWithSecret, input.idempotency_key, input.dry_run)
        return _with_secret(o)

    @strawberry.mutation(description="Delete a subscription: nothing more is sent; its deliveries stay readable.")
    async def delete_webhook_subscription(self, info: Info[Context, None],
                                          input: WebhookSubscriptionIdInput) -> DeleteWebhookSubscriptionPayload:
        o = await run_use_case(info, "deleteWebhookSubscription", lambda: _sub_id(input.id),
                               subs.delete_subscription, Deleted, input.idempotency_key, input.dry_run)
        return DeleteWebhookSubscriptionPayload(
            user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
            deleted_id=None if o.result is None else input.id)

    @strawberry.mutation(description="Send a delivery again (staff): delivered or dead, it is PENDING with a new budget.")
    async def redeliver_webhook(self, info: Info[Context, None], input: RedeliverWebhookInput) -> RedeliverWebhookPayload:
        o = await run_use_case(info, "redeliverWebhook",
                               lambda: required_id(input.delivery_id, "WebhookDelivery", "input.deliveryId"),
                               partial(subs.redeliver, settings=info.context.settings),
                               Redelivered, input.idempotency_key, input.dry_run)
        delivery = None
        if o.result is not None:
            ctx = info.context
            async with ctx.pool.acquire() as conn:
                found = await subs.delivery_with_attempts(conn, o.result.delivery_id)
            delivery = None if found is None else WebhookDelivery.of(*found)
        return RedeliverWebhookPayload(user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
                                       delivery=delivery)
