"""Webhook subscriptions: create, list, update (pause/resume), rotate the secret, delete, redeliver.

Who: insurer staff manage every subscription, one for every contract (no agency) or for one
agency's; an agent manages those of its own agency only, and what it creates is always scoped to
it. A policyholder has none. A subscription outside the caller's reach answers "not found".
The secret is shown once, in the answer of create and of rotate; reads never carry it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx

from domain.lifecycle import Role
from domain.runtime.settings import Settings
from domain.services.access import Actor
from domain.services.agencies.cases import agencies_visible
from domain.services.errors import not_found, refuse
from domain.services.notifications.types import (
    CreateSubscription,
    Deleted,
    Redelivered,
    SubscriptionView,
    SubscriptionWithSecret,
    UpdateSubscription,
)
from domain.store import timers, webhook_repo
from domain.store.uow import Executor, UnitOfWork
from domain.store.webhook_repo import Lane, Subscription
from domain.webhooks import internal_host, valid_kind

LANE_KIND = "webhook.lane"
MAX_KINDS = 50


def view(s: Subscription) -> SubscriptionView:
    overlap = s.previous_secret_until if s.previous_secret is not None else None
    return SubscriptionView(s.id, s.url, s.kinds, s.agency_id, s.active, s.description, s.created_by,
                            s.created_at, s.updated_at, overlap)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _may_manage(actor: Actor) -> bool:
    return actor.sees_everything or (actor.role is Role.AGENT and actor.agency_id is not None)


def _reaches(actor: Actor, s: Subscription) -> bool:
    return actor.sees_everything or (actor.agency_id is not None and s.agency_id == actor.agency_id
                                     and actor.role is Role.AGENT)


def _check_url(url: str, actor: Actor) -> str:
    url = url.strip()
    why = "an absolute http(s) URL of at most 2000 characters"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port   # .port raises on a bad port
        httpx.URL(url)                         # what the worker will POST to (brackets, IDNA)
    except (ValueError, httpx.InvalidURL):
        raise refuse("INVALID_URL", "input.url", why) from None
    if parts.scheme not in ("http", "https") or not host or len(url) > 2000 or any(c.isspace() for c in url):
        raise refuse("INVALID_URL", "input.url", why)
    # An agency is outside the insurer: the worker must not POST for it into the insurer's own
    # network (loopback, private, link-local such as cloud metadata). Staff may (internal systems).
    if not actor.sees_everything and internal_host(host):
        raise refuse("INVALID_URL", "input.url", "an agency's webhook URL must be a public address")
    return url


def _check_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    bad = [k for k in kinds if not valid_kind(k)]
    if bad or len(kinds) > MAX_KINDS:
        raise refuse("INVALID_EVENT_KIND", "input.kinds",
                     f"event kinds are UPPER_SNAKE names (at most {MAX_KINDS}); not: {', '.join(bad)}")
    return tuple(dict.fromkeys(kinds))


async def _reachable(conn: Executor, actor: Actor, sub_id: int, field: str = "input.id",
                     *, for_update: bool = False) -> Subscription:
    s = await webhook_repo.get_subscription(conn, sub_id, for_update=for_update)
    if s is None or not _reaches(actor, s):
        raise not_found("webhook_subscription", field, sub_id)
    return s


async def schedule_lanes(conn: Executor, lanes: list[Lane], due_at: datetime, tag: str) -> int:
    """One `webhook.lane` timer per lane, due at `due_at` (its job delivers the lane in order)."""
    return await timers.schedule_many(conn, kind=LANE_KIND, rows=[  # type: ignore[arg-type]
        (f"webhook:{ln.subscription_id}:{ln.contract_id}", due_at,
         f"webhook:{ln.subscription_id}:{ln.contract_id}:{tag}:{ln.first_delivery_id}",
         {"subscriptionId": ln.subscription_id, "contractId": ln.contract_id})
        for ln in lanes])


async def create_subscription(uow: UnitOfWork, actor: Actor, req: CreateSubscription,
                              now: datetime) -> SubscriptionWithSecret:
    if not _may_manage(actor):
        raise refuse("FORBIDDEN", "input", "insurer staff or an agency manage webhook subscriptions")
    agency_id = req.agency_id
    if not actor.sees_everything:
        if agency_id is not None and agency_id != actor.agency_id:
            raise not_found("agency", "input.agencyId", agency_id)
        agency_id = actor.agency_id
    elif agency_id is not None and not await agencies_visible(uow.conn, actor, [agency_id]):
        raise not_found("agency", "input.agencyId", agency_id)
    secret = new_secret()
    s = await webhook_repo.create_subscription(
        uow.conn, url=_check_url(req.url, actor), kinds=_check_kinds(req.kinds), agency_id=agency_id, secret=secret,
        active=req.active, description=req.description[:500], created_by=actor.subject,
        public_only=not actor.sees_everything, now=now)
    return SubscriptionWithSecret(view(s), secret)


async def update_subscription(uow: UnitOfWork, actor: Actor, req: UpdateSubscription, now: datetime,
                              *, settings: Settings) -> SubscriptionView:
    s = await _reachable(uow.conn, actor, req.subscription_id, for_update=True)
    url = s.url if req.url is None else _check_url(req.url, actor)
    kinds = s.kinds if req.kinds is None else _check_kinds(req.kinds)
    active = s.active if req.active is None else req.active
    desc = s.description if req.description is None else req.description[:500]
    # the URL's checks follow whoever set it: an agency's only public addresses, staff's any
    public_only = s.public_only if req.url is None else not actor.sees_everything
    out = await webhook_repo.update_subscription(uow.conn, s.id, url=url, kinds=kinds, active=active,
                                                 description=desc, public_only=public_only, now=now)
    if active and not s.active:
        # Resumed: what was held while paused goes out now, with a full retry budget.
        await webhook_repo.extend_pending(
            uow.conn, s.id, now + timedelta(seconds=settings.webhook_max_age_seconds), now)
        await schedule_lanes(uow.conn, await webhook_repo.pending_lanes(uow.conn, s.id), now,
                             f"resume{int(now.timestamp() * 1000)}")
    return view(out)


async def rotate_secret(uow: UnitOfWork, actor: Actor, sub_id: int, now: datetime,
                        *, settings: Settings) -> SubscriptionWithSecret:
    s = await _reachable(uow.conn, actor, sub_id, for_update=True)
    secret = new_secret()
    out = await webhook_repo.rotate_secret(
        uow.conn, s.id, secret, now + timedelta(seconds=settings.webhook_secret_overlap_seconds), now)
    return SubscriptionWithSecret(view(out), secret)


async def delete_subscription(uow: UnitOfWork, actor: Actor, sub_id: int, now: datetime) -> Deleted:
    s = await _reachable(uow.conn, actor, sub_id, for_update=True)
    await webhook_repo.delete_subscription(uow.conn, s.id, now)
    return Deleted(s.id)


async def redeliver(uow: UnitOfWork, actor: Actor, delivery_id: int, now: datetime,
                    *, settings: Settings) -> Redelivered:
    d = await webhook_repo.get_delivery(uow.conn, delivery_id)
    s = None if d is None else await webhook_repo.get_subscription(uow.conn, d.subscription_id)
    if d is None or s is None or not _reaches(actor, s):
        raise not_found("webhook_delivery", "input.deliveryId", delivery_id)
    if not actor.sees_everything:
        raise refuse("FORBIDDEN", "input.deliveryId", "insurer staff redeliver a webhook")
    again = await webhook_repo.redeliver(
        uow.conn, d.id, now, now + timedelta(seconds=settings.webhook_max_age_seconds))
    assert again is not None
    await schedule_lanes(uow.conn, [Lane(d.subscription_id, d.contract_id, d.id)], now,
                         f"redeliver{again.attempts}")
    return Redelivered(d.id)


# ------------------------------------------------------------------ reads


async def subscriptions_visible(conn: Executor, actor: Actor | None) -> list[SubscriptionView]:
    if actor is None or not _may_manage(actor):
        return []
    subs = await webhook_repo.list_subscriptions(conn, agency_id=actor.agency_id, all_agencies=actor.sees_everything)
    return [view(s) for s in subs]


async def subscription_visible(conn: Executor, actor: Actor | None, sub_id: int) -> SubscriptionView | None:
    if actor is None:
        return None
    s = await webhook_repo.get_subscription(conn, sub_id)
    return view(s) if s is not None and _reaches(actor, s) else None


async def deliveries_visible(conn: Executor, actor: Actor | None, sub_id: int | None, *, state: str | None,
                             contract_id: int | None, limit: int) -> list[webhook_repo.Delivery]:
    """The deliveries of one subscription (or of every reachable one), newest first."""
    if actor is None:
        return []
    if sub_id is not None:
        one = await subscription_visible(conn, actor, sub_id)
        ids = [] if one is None else [one.id]
    else:
        ids = [s.id for s in await subscriptions_visible(conn, actor)]
    if not ids:
        return []
    return await webhook_repo.deliveries(conn, ids, state=state, contract_id=contract_id, limit=limit)


async def delivery_with_attempts(conn: Executor, delivery_id: int) -> tuple[webhook_repo.Delivery, list[webhook_repo.Attempt]] | None:
    """A delivery the caller just acted on (the mutation checked access), with its attempts."""
    d = await webhook_repo.get_delivery(conn, delivery_id)
    if d is None:
        return None
    return d, (await webhook_repo.attempts_of(conn, [d.id]))[d.id]


async def delivery_attempts(conn: Executor, delivery_ids: list[int]) -> dict[int, list[webhook_repo.Attempt]]:
    return await webhook_repo.attempts_of(conn, delivery_ids)


async def notifications_of(conn: Executor, contract_ids: list[int], *, last: int) -> dict[int, list[webhook_repo.Notification]]:
    """The last notifications of contracts the caller already reads (the contract's own rule)."""
    return await webhook_repo.notifications_of(conn, contract_ids, last=last)
