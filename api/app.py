"""Starlette app factory: /graphql, /healthz, /readyz, /metrics, offline GraphiQL assets."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import orjson
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from api import metrics
from api.context import Context
from api.schema import build_schema
from domain.runtime.clock import Clock, SystemClock
from domain.runtime.logs import get_logger, request_id_var
from domain.runtime.settings import Settings, get_settings
from domain.services.wiring import install as install_reactions
from domain.store.db import create_pool
from domain.store.event_listener import EventHub

log = get_logger("api")
_RID_OK = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Pure ASGI: binds a request id (client's X-Request-ID if sane) and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _RID_OK.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            route = path if path in _KNOWN_ROUTES else "other"
            metrics.HTTP_REQUESTS.labels(route, str(status)).inc()
            if path not in ("/healthz", "/metrics"):
                log.info("http_request", method=scope.get("method"), path=path, status=status,
                         ms=round((time.perf_counter() - started) * 1000, 2))
            request_id_var.reset(token)


_KNOWN_ROUTES = {"/graphql", "/healthz", "/readyz", "/metrics"}


class TextWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames: `encode_json` (orjson) answers bytes, which
    strawberry would send as binary frames that browser clients (GraphiQL's graphql-ws) refuse."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLApp(GraphQL[Context, None]):
    websocket_adapter_class = TextWebSocketAdapter  # type: ignore[assignment]

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        production = settings.is_production
        super().__init__(
            build_schema(production),
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # a front end watches a few contracts or claims; a connection that never says hello
            # is dropped soon (each open one costs a task and, once subscribed, a watcher)
            max_subscriptions_per_connection=20,
            connection_init_wait_timeout=timedelta(seconds=10),
            **kwargs,
        )
        self.settings = settings

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        from api.auth import AuthError
        from api.principal import resolve_principal, unauthorized

        state = request.app.state
        websocket = request.scope["type"] == "websocket"
        try:
            principal = resolve_principal(self.settings, request.headers, state.clock.now())
        except AuthError as exc:
            if websocket:
                principal = None  # on_ws_connect refuses the connection (a 4403 close), not a 401
            else:
                # before any execution: a bad credential is refused, never treated as anonymous
                raise unauthorized(exc) from exc
        return Context(
            request=request,
            response=response,
            pool=state.pool,
            clock=state.clock,
            settings=self.settings,
            request_id=request_id_var.get() or "-",
            principal=principal,
            raw_json=not websocket,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:  # type: ignore[override]
        """The token of a websocket: the connection_init payload's Authorization (browsers cannot set
        headers on a websocket; GraphiQL sends its Headers tab there), else the handshake's header."""
        from api.auth import AuthError
        from api.principal import resolve_principal

        params = context.connection_params or {}
        auth = next((v for k, v in params.items() if k.lower() == "authorization" and isinstance(v, str)), None)
        headers = context.request.headers if auth is None else {"authorization": auth}
        try:
            context.principal = resolve_principal(self.settings, headers, context.clock.now())
        except AuthError as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": str(exc)}) from exc
        return UNSET

    def encode_json(self, data: object) -> bytes:
        # orjson writes compiled documents (orjson.Fragment) without parsing them again
        return orjson.dumps(data)

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        from api.graphiql import graphiql_html

        return HTMLResponse(graphiql_html("/graphql"))


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    install_reactions()
    database_url, redis_url = settings.database_url, settings.redis_url
    if not database_url or not redis_url:
        raise ValueError("create_app needs DATABASE_URL and REDIS_URL (the CLI starts embedded servers)")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # min_size=0: the API starts and answers /readyz 503 while PostgreSQL is away, and
        # reconnects by itself when it is back (no restart needed).
        # session_free: the API leaves no session state (domain/store/db.py; tests/integration/
        # test_session_free_pool.py), so a released connection needs no reset round trip
        app.state.pool = await create_pool(database_url, min_size=0, max_size=settings.pool_max, session_free=True)
        app.state.redis = aioredis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        app.state.clock = clock
        # LISTEN/NOTIFY for subscriptions: connects at the first subscriber (none: no connection)
        app.state.hub = EventHub(database_url, app.state.pool)
        follower = _follow_business_clock(settings, clock, app.state.pool)
        try:
            yield
        finally:
            if follower is not None:
                follower.cancel()
            await app.state.hub.close()
            await app.state.redis.aclose()
            await app.state.pool.close()

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks = await _readiness(request.app.state.pool, request.app.state.redis)
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                            status_code=200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        try:
            await metrics.refresh_timer_gauges(request.app.state.pool, request.app.state.clock.now())
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            log.warning("metrics_timer_gauges_unavailable", error=str(exc))
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    graphql = GraphQLApp(settings)
    routes: list[Any] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),   # subscriptions (graphql-transport-ws)
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ]
    if not settings.is_production:
        from api.graphiql import graphiql_routes

        routes.extend(graphiql_routes())

    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(RequestIdMiddleware)])


def _follow_business_clock(settings: Settings, clock: Clock, pool: asyncpg.Pool) -> asyncio.Task[None] | None:
    """Outside production, a wall clock follows the offset `autopolicy simulate` stores."""
    if settings.is_production or not settings.allow_clock_override or not isinstance(clock, SystemClock):
        return None
    from domain.runtime.business_clock import follow

    return asyncio.create_task(follow(clock, pool))


async def _readiness(pool: asyncpg.Pool, redis: aioredis.Redis) -> dict[str, str]:
    async def pg() -> str:
        try:
            async with pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
            return f"error: {type(exc).__name__}"

    async def rd() -> str:
        try:
            await asyncio.wait_for(redis.ping(), 2)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - reported as not ready
            return f"error: {type(exc).__name__}"

    pg_status, redis_status = await asyncio.gather(pg(), rd())
    return {"postgres": pg_status, "redis": redis_status}
