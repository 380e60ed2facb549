"""Webhook rules without I/O: the signature, the retry schedule, which events a subscription takes.

Signature (the convention of Stripe's webhooks; GitHub's `X-Hub-Signature-256` is the same HMAC
without the timestamp): the header

    Autopolicy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

A receiver recomputes the HMAC over the raw body it got, compares in constant time, and refuses a
`t` older than its tolerance (5 minutes in `verify`), so a captured request cannot be replayed
later. During a secret rotation the header carries one `v1=` per valid secret.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

SIGNATURE_HEADER = "Autopolicy-Signature"
EVENT_ID_HEADER = "Autopolicy-Event-Id"
EVENT_KIND_HEADER = "Autopolicy-Event-Kind"
DELIVERY_ID_HEADER = "Autopolicy-Delivery-Id"
ATTEMPT_HEADER = "Autopolicy-Delivery-Attempt"
USER_AGENT = "autopolicy-webhooks/1"
DEFAULT_TOLERANCE_SECONDS = 300

_KIND = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def verify(header: str, secret: str, body: bytes, now_unix: float,
           tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: a v1 signature matches and `t` is within the tolerance of now."""
    fields = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in fields if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    t = int(stamps[0])
    if abs(now_unix - t) > tolerance_seconds:
        return False
    expected = sign(secret, t, body)
    return any(hmac.compare_digest(expected, v.strip()) for k, v in fields if k.strip() == "v1")


def valid_kind(kind: str) -> bool:
    return bool(_KIND.match(kind))


def takes(kinds: Sequence[str], kind: str) -> bool:
    """An empty list takes every kind."""
    return not kinds or kind in kinds


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in time and in attempts.

    The n-th failure waits base * 2**(n-1), at most cap, times a jitter factor in [1 - jitter, 1]
    (so receivers coming back from an outage are not hit by every sender at the same instant).
    A delivery whose next attempt would fall after its give-up time, or that used max_attempts,
    is dead-lettered.
    """

    base: timedelta = timedelta(seconds=10)
    cap: timedelta = timedelta(hours=1)
    max_age: timedelta = timedelta(hours=24)
    max_attempts: int = 25
    jitter: float = 0.5

    def delay(self, failures: int, rand: float) -> timedelta:
        """`rand` in [0, 1): the caller's random draw (kept out so the rule stays pure)."""
        n = max(failures, 1)
        raw = min(self.base.total_seconds() * (2 ** min(n - 1, 40)), self.cap.total_seconds())
        return timedelta(seconds=raw * (1 - self.jitter * rand))

    def next_attempt(self, failures: int, now: datetime, give_up_at: datetime,
                     rand: float) -> datetime | None:
        """When to try again after `failures` failed attempts; None: dead-letter now."""
        if failures >= self.max_attempts:
            return None
        at = now + self.delay(failures, rand)
        return None if at > give_up_at else at


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names by itself, in every form the system resolver accepts: besides the
    usual ones, the legacy IPv4 forms (2130706433, 127.1, 0x7f.0.0.1, 0) reach 127.0.0.1 too."""
    h = host.strip("[]")
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(h))
    except OSError:
        return None


def internal_host(host: str) -> bool:
    """A host an agency's webhook must not name: localhost, or an address that is not globally
    routable (loopback, private, link-local such as cloud metadata, shared 100.64/10, reserved)."""
    h = host.lower().rstrip(".")
    if h in ("localhost", "localhost.localdomain") or h.endswith(".localhost"):
        return True
    ip = literal_address(h)
    return ip is not None and not ip.is_global
