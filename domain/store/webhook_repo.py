"""Webhook subscriptions, deliveries, attempts and notifications (migration 0022).

A lane is (subscription, contract). Its deliveries go out in `seq` order: `lane_head` answers the
oldest PENDING one, and says whether an earlier event of the contract is still unpublished (its
delivery may be about to appear), in one statement so both answers come from one snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.store.uow import Executor


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    url: str
    kinds: tuple[str, ...]
    agency_id: int | None
    active: bool
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    # Only the delivery worker reads these; the API never answers them.
    public_only: bool          # made by an agency: its URL must resolve to public addresses
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None

    def signing_secrets(self, now: datetime) -> list[str]:
        keep_previous = (self.previous_secret is not None and self.previous_secret_until is not None
                         and now < self.previous_secret_until)
        return [self.secret, *([self.previous_secret] if keep_previous and self.previous_secret else [])]


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    subscription_id: int
    event_id: int
    contract_id: int
    seq: int
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime
    give_up_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    dead_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: int
    attempt: int
    at: datetime
    latency_ms: float
    status: int | None
    outcome: str
    error: str | None


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    contract_id: int
    event_id: int
    kind: str
    channel: str
    recipient: str
    state: str
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Lane:
    subscription_id: int
    contract_id: int
    first_delivery_id: int


_SUB_COLS = """id, url, kinds, agency_id, active, description, created_by, created_at, updated_at,
               deleted_at, public_only, secret, previous_secret, previous_secret_until"""
_DEL_COLS = """id, subscription_id, event_id, contract_id, seq, kind, state, attempts, next_attempt_at,
               give_up_at, last_status, last_error, delivered_at, dead_at, created_at"""
_NOTE_COLS = "id, contract_id, event_id, kind, channel, recipient, state, subject, body, created_at, sent_at, last_error"


def _sub(r: Mapping[str, Any]) -> Subscription:
    return Subscription(r["id"], r["url"], tuple(r["kinds"]), r["agency_id"], r["active"], r["description"],
                        r["created_by"], r["created_at"], r["updated_at"], r["deleted_at"], r["public_only"], r["secret"],
                        r["previous_secret"], r["previous_secret_until"])


def _delivery(r: Mapping[str, Any]) -> Delivery:
    return Delivery(*(r[k] for k in Delivery.__dataclass_fields__))


def _note(r: Mapping[str, Any]) -> Notification:
    return Notification(*(r[k] for k in Notification.__dataclass_fields__))


# ------------------------------------------------------------------ subscriptions


async def create_subscription(conn: Executor, *, url: str, kinds: Sequence[str], agency_id: int | None,
                              secret: str, active: bool, description: str, created_by: str,
                              public_only: bool, now: datetime) -> Subscription:
    r = await conn.fetchrow(
        f"""INSERT INTO webhook_subscriptions (url, kinds, agency_id, secret, active, description, created_by,
                                               created_at, updated_at, after_event_id, public_only)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, (SELECT coalesce(max(id), 0) FROM events), $9)
            RETURNING {_SUB_COLS}""",
        url, list(kinds), agency_id, secret, active, description, created_by, now, public_only)
    return _sub(r)


async def get_subscription(conn: Executor, sub_id: int, *, for_update: bool = False) -> Subscription | None:
    r = await conn.fetchrow(
        f"SELECT {_SUB_COLS} FROM webhook_subscriptions WHERE id = $1 AND deleted_at IS NULL"
        + (" FOR UPDATE" if for_update else ""), sub_id)
    return None if r is None else _sub(r)


async def list_subscriptions(conn: Executor, *, agency_id: int | None, all_agencies: bool,
                             limit: int = 100) -> list[Subscription]:
    rows = await conn.fetch(
        f"""SELECT {_SUB_COLS} FROM webhook_subscriptions
            WHERE deleted_at IS NULL AND ($2 OR agency_id = $1) ORDER BY id LIMIT $3""",
        agency_id, all_agencies, limit)
    return [_sub(r) for r in rows]


async def update_subscription(conn: Executor, sub_id: int, *, url: str, kinds: Sequence[str], active: bool,
                              description: str, public_only: bool, now: datetime) -> Subscription:
    r = await conn.fetchrow(
        f"""UPDATE webhook_subscriptions SET url = $2, kinds = $3, active = $4, description = $5, updated_at = $6,
                   public_only = $7
            WHERE id = $1 RETURNING {_SUB_COLS}""",
        sub_id, url, list(kinds), active, description, now, public_only)
    return _sub(r)


async def rotate_secret(conn: Executor, sub_id: int, secret: str, previous_until: datetime,
                        now: datetime) -> Subscription:
    r = await conn.fetchrow(
        f"""UPDATE webhook_subscriptions
            SET previous_secret = secret, previous_secret_until = $3, secret = $2, updated_at = $4
            WHERE id = $1 RETURNING {_SUB_COLS}""",
        sub_id, secret, previous_until, now)
    return _sub(r)


async def delete_subscription(conn: Executor, sub_id: int, now: datetime) -> None:
    """Soft: the deliveries and attempts stay readable; what was still pending is dead-lettered."""
    await conn.execute(
        "UPDATE webhook_subscriptions SET deleted_at = $2, active = false, updated_at = $2 WHERE id = $1",
        sub_id, now)
    await dead_letter_deleted(conn, sub_id, now)


async def dead_letter_deleted(conn: Executor, sub_id: int, now: datetime) -> int:
    """The pending deliveries of a deleted subscription are dead (also those a publisher's fan-out
    wrote while the delete committed: the lane job finds them). Answers how many."""
    done = await conn.execute(
        """UPDATE webhook_deliveries SET state = 'DEAD', dead_at = $2, last_error = 'subscription deleted'
           WHERE subscription_id = $1 AND state = 'PENDING'""", sub_id, now)
    return int(done.split()[-1])


async def pending_lanes(conn: Executor, sub_id: int) -> list[Lane]:
    rows = await conn.fetch(
        """SELECT subscription_id, contract_id, min(id) AS first_id FROM webhook_deliveries
           WHERE subscription_id = $1 AND state = 'PENDING' GROUP BY 1, 2""", sub_id)
    return [Lane(r["subscription_id"], r["contract_id"], r["first_id"]) for r in rows]


async def extend_pending(conn: Executor, sub_id: int, give_up_at: datetime, now: datetime) -> None:
    """A resumed subscription: its held deliveries get a full retry budget from now."""
    await conn.execute(
        """UPDATE webhook_deliveries SET give_up_at = greatest(give_up_at, $2), next_attempt_at = $3
           WHERE subscription_id = $1 AND state = 'PENDING'""", sub_id, give_up_at, now)


# ------------------------------------------------------------------ fan-out


_FAN_OUT = """
WITH ins AS (
    INSERT INTO webhook_deliveries (subscription_id, event_id, contract_id, seq, kind, next_attempt_at,
                                    give_up_at, created_at)
    SELECT s.id, e.id, e.contract_id, e.seq, e.kind, $2, $3, $2
    FROM events e
    JOIN contracts c ON c.id = e.contract_id
    JOIN webhook_subscriptions s
      ON s.deleted_at IS NULL AND e.id > s.after_event_id
     AND (s.agency_id IS NULL OR s.agency_id = c.agency_id)
     AND (cardinality(s.kinds) = 0 OR e.kind = any(s.kinds))
    WHERE e.id = any($1::bigint[])
    ORDER BY e.contract_id, e.seq, s.id
    ON CONFLICT (subscription_id, event_id) DO NOTHING
    RETURNING id, subscription_id, contract_id
), lanes AS (
    INSERT INTO webhook_lanes (subscription_id, contract_id)
    SELECT DISTINCT subscription_id, contract_id FROM ins
    ON CONFLICT DO NOTHING
)
SELECT subscription_id, contract_id, min(id) AS first_id FROM ins GROUP BY 1, 2"""


async def fan_out(conn: Executor, event_ids: Sequence[int], now: datetime, give_up_at: datetime) -> list[Lane]:
    """One delivery per (matching subscription, event); answer the lanes that got new ones."""
    if not event_ids:
        return []
    rows = await conn.fetch(_FAN_OUT, list(event_ids), now, give_up_at)
    return [Lane(r["subscription_id"], r["contract_id"], r["first_id"]) for r in rows]


async def add_notifications(conn: Executor, event_ids: Sequence[int], kinds: Sequence[str],
                            texts: Mapping[int, tuple[str, str]], now: datetime) -> int:
    """Webhook notifications of the deliveries of these events whose kind is notified."""
    done = await conn.execute(
        """INSERT INTO notifications (contract_id, event_id, kind, channel, recipient, state, delivery_id,
                                      subject, body, created_at)
           SELECT d.contract_id, d.event_id, d.kind, 'WEBHOOK', 'webhook subscription ' || s.id, 'PENDING', d.id, t.subject, t.body, $5
           FROM webhook_deliveries d
           JOIN webhook_subscriptions s ON s.id = d.subscription_id
           JOIN unnest($3::bigint[], $4::text[], $6::text[]) AS t(event_id, subject, body) ON t.event_id = d.event_id
           WHERE d.event_id = any($1::bigint[]) AND d.kind = any($2::text[])
           ON CONFLICT (event_id, channel, recipient) DO NOTHING""",
        list(event_ids), list(kinds), list(texts), [t[0] for t in texts.values()], now,
        [t[1] for t in texts.values()])
    return int(done.split()[-1])


async def add_email_notifications(conn: Executor, rows: Sequence[tuple[int, int, str, str, str, str]],
                                  now: datetime) -> list[int]:
    """(contract_id, event_id, kind, recipient, subject, body) rows; answer the new ids."""
    if not rows:
        return []
    recs = await conn.fetch(
        """INSERT INTO notifications (contract_id, event_id, kind, channel, recipient, state, subject, body,
                                      created_at)
           SELECT c, e, k, 'EMAIL', r, 'PENDING', s, b, $7
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
                AS t(c, e, k, r, s, b)
           ON CONFLICT (event_id, channel, recipient) DO NOTHING RETURNING id""",
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
        [r[4] for r in rows], [r[5] for r in rows], now)
    return [r["id"] for r in recs]


# ------------------------------------------------------------------ the lane job


async def lock_lane(conn: Executor, sub_id: int, contract_id: int) -> bool:
    r = await conn.fetchval(
        "SELECT 1 FROM webhook_lanes WHERE subscription_id = $1 AND contract_id = $2 FOR UPDATE",
        sub_id, contract_id)
    return r is not None


async def lane_head(conn: Executor, sub_id: int, contract_id: int) -> tuple[Delivery, bool] | None:
    """The oldest pending delivery of the lane, and whether an earlier event is still unpublished."""
    r = await conn.fetchrow(
        f"""SELECT {_DEL_COLS},
                   EXISTS (SELECT 1 FROM events e WHERE e.contract_id = d.contract_id AND e.seq < d.seq
                           AND e.published_at IS NULL) AS blocked
            FROM webhook_deliveries d
            WHERE subscription_id = $1 AND contract_id = $2 AND state = 'PENDING'
            ORDER BY seq LIMIT 1""",
        sub_id, contract_id)
    return None if r is None else (_delivery(r), bool(r["blocked"]))


async def record_attempt(conn: Executor, a: Attempt) -> None:
    await conn.execute(
        """INSERT INTO webhook_attempts (delivery_id, attempt, at, latency_ms, status, outcome, error)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        a.delivery_id, a.attempt, a.at, a.latency_ms, a.status, a.outcome, a.error)


async def settle(conn: Executor, delivery_id: int, *, state: str, attempts: int, status: int | None,
                 error: str | None, next_attempt_at: datetime | None, now: datetime) -> None:
    """After an attempt: DELIVERED, DEAD, or PENDING again at next_attempt_at; notifications follow."""
    await conn.execute(
        """UPDATE webhook_deliveries
           SET state = $2::text, attempts = $3, last_status = $4, last_error = $5,
               next_attempt_at = coalesce($6::timestamptz, next_attempt_at),
               delivered_at = CASE WHEN $2::text = 'DELIVERED' THEN $7::timestamptz ELSE delivered_at END,
               dead_at = CASE WHEN $2::text = 'DEAD' THEN $7::timestamptz ELSE dead_at END
           WHERE id = $1""",
        delivery_id, state, attempts, status, error, next_attempt_at, now)
    if state != "PENDING":
        await conn.execute(
            """UPDATE notifications SET state = $2::text,
                   sent_at = CASE WHEN $2::text = 'SENT' THEN $3::timestamptz END, last_error = $4
               WHERE delivery_id = $1""",
            delivery_id, "SENT" if state == "DELIVERED" else "FAILED", now, error)


async def redeliver(conn: Executor, delivery_id: int, now: datetime, give_up_at: datetime) -> Delivery | None:
    r = await conn.fetchrow(
        f"""UPDATE webhook_deliveries SET state = 'PENDING', next_attempt_at = $2, give_up_at = $3,
                   dead_at = NULL
            WHERE id = $1 RETURNING {_DEL_COLS}""",
        delivery_id, now, give_up_at)
    if r is not None:
        await conn.execute(
            "UPDATE notifications SET state = 'PENDING', last_error = NULL WHERE delivery_id = $1", delivery_id)
    return None if r is None else _delivery(r)


# ------------------------------------------------------------------ reads


async def get_delivery(conn: Executor, delivery_id: int) -> Delivery | None:
    r = await conn.fetchrow(f"SELECT {_DEL_COLS} FROM webhook_deliveries WHERE id = $1", delivery_id)
    return None if r is None else _delivery(r)


async def deliveries(conn: Executor, subscription_ids: Sequence[int], *, state: str | None,
                     contract_id: int | None = None, limit: int = 100) -> list[Delivery]:
    rows = await conn.fetch(
        f"""SELECT {_DEL_COLS} FROM webhook_deliveries
            WHERE subscription_id = any($1::bigint[]) AND ($2::text IS NULL OR state = $2)
              AND ($3::bigint IS NULL OR contract_id = $3)
            ORDER BY id DESC LIMIT $4""",
        list(subscription_ids), state, contract_id, limit)
    return [_delivery(r) for r in rows]


async def attempts_of(conn: Executor, delivery_ids: Sequence[int]) -> dict[int, list[Attempt]]:
    rows = await conn.fetch(
        """SELECT delivery_id, attempt, at, latency_ms, status, outcome, error FROM webhook_attempts
           WHERE delivery_id = any($1::bigint[]) ORDER BY delivery_id, id""", list(delivery_ids))
    out: dict[int, list[Attempt]] = {int(i): [] for i in delivery_ids}
    for r in rows:
        out[r["delivery_id"]].append(Attempt(*(r[k] for k in Attempt.__dataclass_fields__)))
    return out


async def notifications_of(conn: Executor, contract_ids: Sequence[int], *, last: int = 50) -> dict[int, list[Notification]]:
    rows = await conn.fetch(
        f"""SELECT n.* FROM unnest($1::bigint[]) AS c(id)
            CROSS JOIN LATERAL (SELECT {_NOTE_COLS} FROM notifications WHERE contract_id = c.id
                                ORDER BY id DESC LIMIT $2) n
            ORDER BY n.contract_id, n.id""",
        list(contract_ids), last)
    out: dict[int, list[Notification]] = {int(c): [] for c in contract_ids}
    for r in rows:
        out[r["contract_id"]].append(_note(r))
    return out


async def get_notification(conn: Executor, note_id: int, *, for_update: bool = False) -> Notification | None:
    r = await conn.fetchrow(f"SELECT {_NOTE_COLS} FROM notifications WHERE id = $1"
                            + (" FOR UPDATE" if for_update else ""), note_id)
    return None if r is None else _note(r)


async def settle_notification(conn: Executor, note_id: int, state: str, error: str | None, now: datetime) -> None:
    await conn.execute(
        """UPDATE notifications SET state = $2::text, last_error = $3,
                  sent_at = CASE WHEN $2::text = 'SENT' THEN $4::timestamptz END
           WHERE id = $1""", note_id, state, error, now)
