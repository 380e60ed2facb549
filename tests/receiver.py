"""A real HTTP webhook receiver for the tests and the benchmark: uvicorn on a free port, in a thread.

It verifies every signature with the subscription's secret (as a receiver would), records what it
got, and answers what `plan` says for the n-th request of an event id: a status, or a delay first
(longer than the sender's timeout: a timeout).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.webhooks import EVENT_ID_HEADER, SIGNATURE_HEADER, verify


@dataclass(frozen=True)
class Received:
    path: str
    event_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    verified: bool
    status: int
    at: float


# (path, event id, how many times this event came to this path before) -> (status, delay seconds)
Plan = Callable[[str, str, int], tuple[int, float]]


def always_ok(path: str, event_id: str, seen: int) -> tuple[int, float]:
    return 200, 0.0


@dataclass
class Receiver:
    secrets: dict[str, list[str]] = field(default_factory=dict)   # path -> secrets that verify
    plan: Plan = always_ok
    got: list[Received] = field(default_factory=list)
    port: int = 0
    keep: bool = True   # False (benchmarks): only count, keep no copies
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    unverified: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        eid = request.headers.get(EVENT_ID_HEADER, "")
        header = request.headers.get(SIGNATURE_HEADER, "")
        verified = any(verify(header, s, body, time.time()) for s in self.secrets.get(path, []))
        with self._lock:
            seen = self.counts.get((path, eid), 0)
            self.counts[(path, eid)] = seen + 1
            self.unverified += not verified
            status, delay = self.plan(path, eid, seen) if verified else (400, 0.0)
            # recorded on arrival (in arrival order), also when the answer comes too late
            if self.keep:
                self.got.append(Received(path, eid, json.loads(body), dict(request.headers), verified, status,
                                         time.time()))
        if delay:
            await asyncio.sleep(delay)
        return Response(b"ok" if status < 300 else b"no", status_code=status)

    async def _counts(self, request: Request) -> Response:
        with self._lock:
            doc = {"requests": sum(self.counts.values()), "unverified": self.unverified}
        return Response(json.dumps(doc), media_type="application/json")

    def start(self) -> Receiver:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/_counts", self._counts, methods=["GET"]),
                                Route("/{path:path}", self._hook, methods=["POST"])])
        config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                timeout_keep_alive=30)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def received(self, path: str | None = None, *, ok_only: bool = False) -> list[Received]:
        with self._lock:
            return [r for r in self.got if (path is None or r.path == path) and (not ok_only or r.status < 300)]


def serve(port: int, secrets: dict[str, list[str]], ready: Any) -> None:
    """Run a counting receiver on `port` in this (child) process until killed; `ready` is set once up."""
    Receiver(secrets=secrets, keep=False, port=port).start()
    ready.set()
    while True:
        time.sleep(3600)
