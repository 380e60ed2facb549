"""Requests and answers of the notifications part (webhooks, notifications), and the sender port."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CreateSubscription:
    url: str
    kinds: tuple[str, ...] = ()
    agency_id: int | None = None
    active: bool = True
    description: str = ""


@dataclass(frozen=True, slots=True)
class UpdateSubscription:
    subscription_id: int
    url: str | None = None
    kinds: tuple[str, ...] | None = None
    active: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription as the API shows it: never its secret."""

    id: int
    url: str
    kinds: tuple[str, ...]
    agency_id: int | None
    active: bool
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    secret_overlap_until: datetime | None


@dataclass(frozen=True, slots=True)
class SubscriptionWithSecret:
    """The answer of create and rotate: the only times the secret is shown."""

    subscription: SubscriptionView
    secret: str

    def for_replay(self) -> SubscriptionWithSecret:
        # shown once: an idempotent replay (or the stored record) never carries it again
        return replace(self, secret="")


@dataclass(frozen=True, slots=True)
class Deleted:
    subscription_id: int


@dataclass(frozen=True, slots=True)
class Redelivered:
    delivery_id: int


@dataclass(frozen=True, slots=True)
class SendResult:
    """One POST: status None when no HTTP answer came (timeout, refused connection)."""

    status: int | None
    outcome: str          # DELIVERED, HTTP_ERROR, TIMEOUT, CONNECTION_ERROR
    latency_ms: float
    error: str | None = None


# url, headers, body -> result. The worker's is httpx; it never raises for a failed delivery.
# (url, headers, body, public_only: refuse a name resolving to a non-public address)
Sender = Callable[[str, Mapping[str, str], bytes, bool], Awaitable[SendResult]]


@dataclass(frozen=True, slots=True)
class LaneRun:
    """What one lane job did."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    next_at: datetime | None = None   # when the lane's next job is due (None: lane drained or idle)
