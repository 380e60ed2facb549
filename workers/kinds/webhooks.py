"""`webhook.lane` (subject webhook:<subscription>:<contract>): deliver one lane's due webhooks in order.

The HTTP client lives for the worker process (connections are reused across lanes); the worker's
start-up opens it with the process settings (`start`) and its shutdown closes it (`stop`). The job
runs domain.services.notifications.delivery.deliver_lane in its own transaction with the timer row
locked: the attempts it records commit with the timer DONE, or a killed worker commits nothing and
the lease hands the timer over again (the same deliveries go out again: at least once).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg
import httpx

from domain.runtime.clock import Clock
from domain.runtime.settings import Settings
from domain.services.notifications.delivery import deliver_lane
from domain.services.notifications.subscriptions import LANE_KIND
from domain.services.notifications.types import SendResult
from domain.store.timers import TimerRow
from workers.registry import timer_kind

# Receivers answer with a short acknowledgement; a long body is not read past this.
_MAX_CONNECTIONS = 100


@dataclass
class WebhookRuntime:
    settings: Settings
    client: httpx.AsyncClient

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> SendResult:
        started = time.perf_counter()
        try:
            r = await self.client.post(url, content=body, headers=dict(headers))
        except httpx.TimeoutException as exc:
            return SendResult(None, "TIMEOUT", _ms(started), f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return SendResult(None, "CONNECTION_ERROR", _ms(started), f"{type(exc).__name__}: {exc}"[:500])
        ok = 200 <= r.status_code < 300
        return SendResult(r.status_code, "DELIVERED" if ok else "HTTP_ERROR", _ms(started),
                          None if ok else f"HTTP {r.status_code}")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


_runtime: WebhookRuntime | None = None


def client_for(settings: Settings) -> httpx.AsyncClient:
    # No redirects: a receiver that moved is a failed delivery, visible in the attempts, not a
    # POST to wherever a 3xx points.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout_seconds), follow_redirects=False,
        limits=httpx.Limits(max_connections=_MAX_CONNECTIONS, max_keepalive_connections=_MAX_CONNECTIONS))


async def start(settings: Settings) -> WebhookRuntime:
    global _runtime
    await stop()
    _runtime = WebhookRuntime(settings, client_for(settings))
    return _runtime


async def stop() -> None:
    global _runtime
    if _runtime is not None:
        rt, _runtime = _runtime, None
        await rt.client.aclose()


@timer_kind(LANE_KIND)
async def webhook_lane(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    if _runtime is None:
        raise RuntimeError("the webhook client is not started in this worker")
    await deliver_lane(conn, int(timer.payload["subscriptionId"]), int(timer.payload["contractId"]),
                       clock=clock.now, settings=_runtime.settings, send=_runtime.send)
