"""`webhook.lane` (subject webhook:<subscription>:<contract>): deliver one lane's due webhooks in order;
`notification.email` (subject notification:<id>): mail one reminder or deadline (SMTP, off by default).

The HTTP client lives for the worker process (connections are reused across lanes); the worker's
start-up opens it with the process settings (`start`) and its shutdown closes it (`stop`). The job
runs domain.services.notifications.delivery.deliver_lane in its own transaction with the timer row
locked: the attempts it records commit with the timer DONE, or a killed worker commits nothing and
the lease hands the timer over again (the same deliveries go out again: at least once).
"""

from __future__ import annotations

import asyncio
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import asyncpg
import httpx

from domain.runtime.clock import Clock
from domain.runtime.settings import Settings
from domain.services.notifications.delivery import EMAIL_KIND, deliver_lane, send_email_notification
from domain.services.notifications.subscriptions import LANE_KIND
from domain.services.notifications.types import SendResult
from domain.store.timers import TimerRow
from domain.webhooks import internal_host
from workers.registry import timer_kind

# Receivers answer with a short acknowledgement; a longer reply is not read past this.
_MAX_REPLY_BYTES = 64 * 1024
_MAX_CONNECTIONS = 100


async def _non_public(url: str) -> str | None:
    """Why an agency's URL may not be posted to now: its name resolves to an address that is not
    globally routable (the check at creation sees only the name; DNS can point it anywhere)."""
    parts = httpx.URL(url)
    infos = await asyncio.get_running_loop().getaddrinfo(parts.host, parts.port or (443 if parts.scheme == "https" else 80))
    bad = sorted({str(i[4][0]) for i in infos if internal_host(str(i[4][0]))})
    return f"{parts.host} resolves to a non-public address ({', '.join(bad)})" if bad else None


@dataclass
class WebhookRuntime:
    settings: Settings
    client: httpx.AsyncClient

    async def send(self, url: str, headers: Mapping[str, str], body: bytes, public_only: bool) -> SendResult:
        """One POST, answered within the timeout as a whole (a receiver trickling its reply does
        not hold the lane); any failure is an attempt's outcome, never an exception of the job."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                if public_only and (why := await _non_public(url)) is not None:
                    return SendResult(None, "CONNECTION_ERROR", _ms(started), why)
                async with self.client.stream("POST", url, content=body, headers=dict(headers)) as r:
                    read = 0
                    async for chunk in r.aiter_raw():
                        read += len(chunk)
                        if read >= _MAX_REPLY_BYTES:
                            break
        except (httpx.TimeoutException, TimeoutError) as exc:
            return SendResult(None, "TIMEOUT", _ms(started), f"timeout: {type(exc).__name__}")
        except Exception as exc:  # noqa: BLE001 - refused, reset, DNS, a name httpx cannot encode: a failed attempt
            return SendResult(None, "CONNECTION_ERROR", _ms(started), f"{type(exc).__name__}: {exc}"[:500])
        ok = 200 <= r.status_code < 300
        return SendResult(r.status_code, "DELIVERED" if ok else "HTTP_ERROR", _ms(started),
                          None if ok else f"HTTP {r.status_code}")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


_runtime: WebhookRuntime | None = None
_users = 0   # workers of this process using it (tests run several burst workers in one process)


def client_for(settings: Settings) -> httpx.AsyncClient:
    # No redirects: a receiver that moved is a failed delivery, visible in the attempts, not a
    # POST to wherever a 3xx points.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout_seconds), follow_redirects=False,
        limits=httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS))


async def start(settings: Settings) -> WebhookRuntime:
    """Open the process's client (or take the open one, with these settings); pair with `stop`."""
    global _runtime, _users
    _users += 1
    if _runtime is None:
        _runtime = WebhookRuntime(settings, client_for(settings))
    else:
        _runtime.settings = settings
    return _runtime


async def stop() -> None:
    """The last user's stop closes the client."""
    global _runtime, _users
    _users = max(_users - 1, 0)
    if _users == 0 and _runtime is not None:
        rt, _runtime = _runtime, None
        await rt.client.aclose()


@timer_kind(LANE_KIND)
async def webhook_lane(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    if _runtime is None:
        raise RuntimeError("the webhook client is not started in this worker")
    await deliver_lane(conn, int(timer.payload["subscriptionId"]), int(timer.payload["contractId"]),
                       clock=clock.now, settings=_runtime.settings, send=_runtime.send)


def _send_mail_sync(settings: Settings, subject: str, body: str, to: str, event_id: str) -> None:
    url = urlsplit(settings.smtp_url or "")
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.notification_email_from, to, subject
    msg["Autopolicy-Event-Id"] = event_id
    msg.set_content(body)
    implicit_tls = url.scheme == "smtps"
    cls = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
    port = url.port or (465 if implicit_tls else 25)
    with cls(url.hostname or "localhost", port, timeout=settings.webhook_timeout_seconds) as smtp:
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(msg)


@timer_kind(EMAIL_KIND)
async def notification_email(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    if _runtime is None:
        raise RuntimeError("the notification runtime is not started in this worker")
    settings = _runtime.settings

    async def send(subject: str, body: str, to: str, event_id: str) -> None:
        # smtplib is blocking: a thread keeps the worker's loop free (mail is rare: reminders only)
        await asyncio.to_thread(_send_mail_sync, settings, subject, body, to, event_id)

    await send_email_notification(conn, int(timer.payload["notificationId"]), clock.now(), send,
                                  last_attempt=timer.attempts >= settings.timer_max_attempts)
