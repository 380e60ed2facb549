"""From the outbox to the receivers: publishing (fan-out) and the lane job that POSTs in order.

Publishing (`publish_events`, the worker's cron, several workers share it): claim unpublished
events (SKIP LOCKED), write one delivery per matching subscription, the webhook notifications of
reminders and deadlines, one `webhook.lane` timer per lane that got deliveries, and mark the
events published -- one transaction, so an event is published exactly when its deliveries exist.

The lane job (`deliver_lane`, in the timer job's transaction, with its lane row locked so two jobs
of one lane never interleave) takes the lane's oldest pending delivery, POSTs it, records the
attempt, and goes on with the next only once it is DELIVERED or DEAD: a later event never reaches
an endpoint before an earlier one of the same contract. A failure records the attempt and parks
the lane until the retry is due (a new lane timer); a delivery out of time or attempts is DEAD and
the lane moves on. A worker killed mid-job commits nothing: the lease hands the timer over again
and the same deliveries go out again with the same event id (at least once; receivers dedupe).
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from domain.runtime.settings import Settings
from domain.services.notifications.subscriptions import schedule_lanes
from domain.services.notifications.types import LaneRun, Sender
from domain.store import outbox, timers, webhook_repo
from domain.store.outbox import Event
from domain.store.uow import Executor, UnitOfWork
from domain.store.webhook_repo import Attempt, Lane
from domain.webhooks import (
    ATTEMPT_HEADER,
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_KIND_HEADER,
    SIGNATURE_HEADER,
    USER_AGENT,
    RetryPolicy,
    signature_header,
)

# Reminders and deadlines: each delivery of one of these is also a notification on the contract.
NOTIFIED_KINDS = ("RENEWAL_REMINDER", "RENEWAL_GRACE_OPENED", "WINDOW_OPENED", "WINDOW_DOWNGRADED",
                  "WINDOW_VOIDED")
EMAIL_KIND = "notification.email"
# An earlier event of the contract not yet published: look again this much later.
_BLOCKED_RETRY = timedelta(seconds=1)


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(base=timedelta(seconds=settings.webhook_retry_base_seconds),
                       cap=timedelta(seconds=settings.webhook_retry_cap_seconds),
                       max_age=timedelta(seconds=settings.webhook_max_age_seconds),
                       max_attempts=settings.webhook_max_attempts)


def event_id(e: Event) -> str:
    """Stable across every attempt and redelivery: what receivers dedupe on."""
    return f"evt_{e.id}"


def body_of(e: Event) -> bytes:
    """The same bytes on every attempt (sorted keys), so a receiver may also dedupe on a hash."""
    doc = {"id": event_id(e), "kind": e.kind, "seq": e.seq, "occurredAt": e.at.isoformat(),
           "contractId": base64.b64encode(f"Contract:{e.contract_id}".encode()).decode(),
           "data": dict(e.payload)}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def notification_text(e: Event) -> tuple[str, str]:
    p: Mapping[str, Any] = e.payload
    policy = p.get("policyNumber", "")
    if e.kind == "RENEWAL_REMINDER":
        return (f"継続手続のご案内 (day {p.get('day')})",
                (f"Policy {policy} expired without renewal; {p.get('daysLeft')} days left to renew "
                f"with full cover until {p.get('fullUntil')}."))
    if e.kind == "RENEWAL_GRACE_OPENED":
        return "継続手続忘れ: 猶予期間開始", f"Policy {policy} expired unrenewed; the renewal grace period opened."
    if e.kind == "WINDOW_OPENED":
        return ("手続期限のご案内", (f"Policy {policy}: a {p.get('windowKind', 'change')} window opened; "
                f"file it by {p.get('fullUntil') or 'the deadline'}."))
    if e.kind == "WINDOW_DOWNGRADED":
        return "手続期限超過", f"Policy {policy}: the {p.get('windowKind', 'change')} window was not filed in time."
    return "手続期限終了", f"Policy {policy}: the {p.get('windowKind', 'change')} window is void."


async def publish_events(uow: UnitOfWork, now: datetime, settings: Settings, *, limit: int) -> int:
    """Publish up to `limit` events (one transaction); answer how many."""
    events = await outbox.claim_unpublished(uow, limit)
    if not events:
        return 0
    ids = [e.id for e in events]
    lanes = await webhook_repo.fan_out(uow.conn, ids, now, now + retry_policy(settings).max_age)
    notified = {e.id: notification_text(e) for e in events if e.kind in NOTIFIED_KINDS}
    if notified and lanes:
        await webhook_repo.add_notifications(uow.conn, list(notified), NOTIFIED_KINDS, notified, now)
    await schedule_lanes(uow.conn, lanes, now, "new")
    if notified and settings.email_on:
        assert settings.notification_email_to is not None
        by_id = {e.id: e for e in events}
        made = await webhook_repo.add_email_notifications(uow.conn, [
            (by_id[i].contract_id, i, by_id[i].kind, settings.notification_email_to, subject, body)
            for i, (subject, body) in notified.items()], now)
        await timers.schedule_many(uow.conn, kind=EMAIL_KIND, rows=[
            (f"notification:{n}", now, f"notification:{n}:email", {"notificationId": n}) for n in made])
    await outbox.mark_published(uow, ids, now)
    return len(events)


# subject, body, recipient, event id -> None; raises on failure (the timer retries with backoff)
MailSender = Callable[[str, str, str, str], Awaitable[None]]


async def send_email_notification(conn: Executor, note_id: int, now: datetime, send: MailSender, *,
                                  last_attempt: bool) -> str:
    """Send one EMAIL notification (inside the timer job, its row locked); answer its state after.

    A failure before the last attempt raises (the timer retries with backoff); on the last one the
    notification is FAILED with the error."""
    n = await webhook_repo.get_notification(conn, note_id, for_update=True)
    if n is None or n.state != "PENDING":
        return "GONE" if n is None else n.state
    try:
        await send(n.subject, n.body, n.recipient, f"evt_{n.event_id}")
    except Exception as exc:
        if not last_attempt:
            raise
        await webhook_repo.settle_notification(conn, n.id, "FAILED", f"{type(exc).__name__}: {exc}"[:500], now)
        return "FAILED"
    await webhook_repo.settle_notification(conn, n.id, "SENT", None, now)
    return "SENT"


async def _event(conn: Executor, d: webhook_repo.Delivery) -> Event:
    (e,) = await outbox.events(conn, d.contract_id, after_seq=d.seq - 1, limit=1)
    return e


async def deliver_lane(
    conn: Executor, sub_id: int, contract_id: int, *, clock: Callable[[], datetime], settings: Settings,
    send: Sender, rand: Callable[[], float] = random.random, unix_now: Callable[[], float] = time.time,
) -> LaneRun:
    """Send the lane's due deliveries in order (see the module docstring); schedules its next job."""
    if not await webhook_repo.lock_lane(conn, sub_id, contract_id):
        return LaneRun()
    sub = await webhook_repo.get_subscription(conn, sub_id)
    if sub is None:
        # deleted: a fan-out that raced the delete may have left deliveries pending; they are dead
        return LaneRun(dead=await webhook_repo.dead_letter_deleted(conn, sub_id, clock()))
    if not sub.active:
        return LaneRun()   # paused (resuming reschedules)
    policy = retry_policy(settings)
    started = time.monotonic()
    delivered = failed = dead = 0

    async def park(at: datetime, tag: str) -> LaneRun:
        await schedule_lanes(conn, [Lane(sub_id, contract_id, head.id)], at, tag)
        return LaneRun(delivered, failed, dead, at)

    for _ in range(settings.webhook_lane_batch):
        found = await webhook_repo.lane_head(conn, sub_id, contract_id)
        if found is None:
            return LaneRun(delivered, failed, dead)
        head, blocked = found
        now = clock()
        if blocked:
            return await park(now + _BLOCKED_RETRY, f"wait{int(now.timestamp() * 1000)}")
        if head.next_attempt_at > now:
            return await park(head.next_attempt_at, f"a{head.attempts}")
        e = await _event(conn, head)
        body = body_of(e)
        attempt = head.attempts + 1
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: event_id(e), EVENT_KIND_HEADER: e.kind,
            DELIVERY_ID_HEADER: str(head.id), ATTEMPT_HEADER: str(attempt),
            SIGNATURE_HEADER: signature_header(sub.signing_secrets(now), int(unix_now()), body),
        }
        result = await send(sub.url, headers, body, sub.public_only)
        now = clock()
        await webhook_repo.record_attempt(conn, Attempt(head.id, attempt, now, result.latency_ms, result.status,
                                                        result.outcome, result.error))
        if result.outcome == "DELIVERED":
            delivered += 1
            await webhook_repo.settle(conn, head.id, state="DELIVERED", attempts=attempt, status=result.status,
                                      error=None, next_attempt_at=None, now=now)
        else:
            retry_at = policy.next_attempt(attempt, now, head.give_up_at, rand())
            error = result.error or f"HTTP {result.status}"
            if retry_at is None:
                dead += 1
                await webhook_repo.settle(conn, head.id, state="DEAD", attempts=attempt, status=result.status,
                                          error=error, next_attempt_at=None, now=now)
            else:
                failed += 1
                await webhook_repo.settle(conn, head.id, state="PENDING", attempts=attempt, status=result.status,
                                          error=error, next_attempt_at=retry_at, now=now)
                return await park(retry_at, f"a{attempt}")
        if time.monotonic() - started > settings.webhook_lane_budget_seconds:
            break
    # Batch or time budget used up: the rest of the lane in a new job (a short transaction each).
    found = await webhook_repo.lane_head(conn, sub_id, contract_id)
    if found is None:
        return LaneRun(delivered, failed, dead)
    head = found[0]
    now = clock()
    return await park(max(now, head.next_attempt_at), f"more{head.attempts}")
