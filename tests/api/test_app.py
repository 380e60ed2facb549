"""The app factory's endpoints: health, readiness, metrics, request ids, masked errors."""

from __future__ import annotations

import json
from datetime import datetime

import httpx
import pytest

from api.app import create_app
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql


async def test_healthz(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_when_both_reachable(client: httpx.AsyncClient) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["checks"] == {"postgres": "ok", "redis": "ok"}


@pytest.mark.parametrize("broken", ["postgres", "redis"])
async def test_readyz_503_when_a_service_is_unreachable(settings: Settings, broken: str) -> None:
    bad = settings.model_copy(update={
        "database_url": "postgresql://postgres@127.0.0.1:1/none" if broken == "postgres" else settings.database_url,
        "redis_url": "redis://127.0.0.1:1/0" if broken == "redis" else settings.redis_url,
    })
    app = create_app(bad, clock=ManualClock())
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/readyz")
        assert (await c.get("/healthz")).status_code == 200  # the process itself is up
    assert r.status_code == 503
    checks = r.json()["checks"]
    assert checks[broken].startswith("error")
    assert checks["postgres" if broken == "redis" else "redis"] == "ok"


async def test_system_query_uses_injected_clock(client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.set(datetime(2026, 5, 2, 16, 0, tzinfo=JST))
    body = await gql(client, "{ system { apiVersion serverTime environment } }")
    assert body["data"]["system"]["serverTime"] == "2026-05-02T16:00:00+09:00"
    assert body["data"]["system"]["environment"] == "test"


async def test_request_id_is_returned_and_kept_when_sane(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"x-request-id": "abc12345-req"})
    assert r.headers["x-request-id"] == "abc12345-req"
    r2 = await client.get("/healthz", headers={"x-request-id": "bad id\n"})
    assert r2.headers["x-request-id"] != "bad id\n" and len(r2.headers["x-request-id"]) == 16


async def test_metrics_exposes_operations_and_timers(client: httpx.AsyncClient) -> None:
    await gql(client, "query SystemProbe { system { apiVersion } }")
    text = (await client.get("/metrics")).text
    assert 'autopolicy_graphql_requests_total{operation="SystemProbe",outcome="ok"}' in text
    assert "autopolicy_graphql_request_seconds_bucket" in text
    assert "autopolicy_timer_lag_seconds" in text


async def test_get_queries_are_refused(client: httpx.AsyncClient) -> None:
    # Mutations over GET would be CSRF-able; queries go by POST only.
    r = await client.get("/graphql", params={"query": "{ system { apiVersion } }"},
                         headers={"accept": "application/json"})
    assert r.status_code in (400, 405)


async def test_json_log_line_carries_request_id(client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]) -> None:
    from domain.runtime.logs import configure_logging

    configure_logging("INFO")
    await client.get("/readyz", headers={"x-request-id": "trace-me-123"})
    lines = [json.loads(l) for l in capsys.readouterr().out.splitlines() if l.startswith("{")]
    assert any(l.get("request_id") == "trace-me-123" and l.get("path") == "/readyz" for l in lines)
