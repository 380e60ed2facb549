"""GraphQL subscriptions over a real websocket (graphql-transport-ws) to real uvicorn servers.

Two API servers (two apps, two LISTEN connections) both see an event committed through either;
the policyholder watches their contract and their claim; another policyholder is refused; a bad
token in connection_init closes the connection; `afterSeq` replays from the outbox in order.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
import websockets

from api.app import create_app
from api.auth import Role
from api.node import to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from domain.store.outbox import append_events
from domain.store.uow import UnitOfWork
from tests.api.claim_support import REPORT, TRANSITION, holder_of, report_input, staff
from tests.factories import rated_contract
from tests.tokens import long_token

PROTOCOL = "graphql-transport-ws"
EVENTS = "subscription($c: ID!, $a: Int) { contractEvents(contractId: $c, afterSeq: $a) { seq kind payload } }"
CLAIMS = """subscription($c: ID!, $a: Int) { claimUpdates(claimId: $c, afterSeq: $a) {
  event { seq kind } claim { status { code } } } }"""


class Server:
    def __init__(self, settings: Settings) -> None:
        self.clock = ManualClock(datetime(2026, 6, 10, 12, 0, tzinfo=JST))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = create_app(settings, clock=self.clock)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets-sansio"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "API server did not start"
            time.sleep(0.02)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture(scope="module")
def servers(settings: Settings) -> Iterator[tuple[Server, Server]]:
    a, b = Server(settings), Server(settings)
    yield a, b
    a.stop()
    b.stop()


class Sub:
    """One graphql-transport-ws connection running one subscription."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, headers: dict[str, str] | None, query: str, variables: dict[str, Any]) -> Sub:
        ws = await websockets.connect(url, subprotocols=[PROTOCOL])  # type: ignore[list-item]
        payload = {"Authorization": headers["authorization"]} if headers else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        frame = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(frame, str), frame
        ack = json.loads(frame)
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        return cls(ws)

    async def next(self, timeout: float = 15) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.ws.recv(), timeout)
            assert isinstance(frame, str), frame   # the protocol's messages are text frames
            msg = json.loads(frame)
            if msg["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return msg  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.ws.close()


async def seq_of(pool: asyncpg.Pool, contract_id: int) -> int:
    return int(await pool.fetchval("SELECT event_seq FROM contracts WHERE id = $1", contract_id))


async def post(url: str, query: str, variables: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient() as c:
        r = await c.post(url, json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_both_servers_see_every_committed_event_and_the_holder_follows_a_claim(
        servers: tuple[Server, Server], pool: asyncpg.Pool, settings: Settings) -> None:
    a, b = servers
    book = await rated_contract(pool)
    cid = to_global_id("Contract", book.created.contract.id)
    holder = holder_of(settings, book)
    # afterSeq = the seq now: however late a subscription starts, it misses nothing from here on
    now_seq = await seq_of(pool, book.created.contract.id)
    on_a = await Sub.open(a.ws_url, holder, EVENTS, {"c": cid, "a": now_seq})
    on_b = await Sub.open(b.ws_url, staff(settings), EVENTS, {"c": cid, "a": now_seq})
    try:
        async with UnitOfWork(pool) as uow:
            await append_events(uow, book.created.contract.id, [("NOTE_ONE", {"n": 1}), ("NOTE_TWO", {"n": 2})],
                                at=datetime(2026, 6, 10, 12, 0, tzinfo=JST))
        for sub in (on_a, on_b):
            got = [(await sub.next())["payload"]["data"]["contractEvents"] for _ in range(2)]
            assert [g["kind"] for g in got] == ["NOTE_ONE", "NOTE_TWO"]
            assert got[0]["seq"] + 1 == got[1]["seq"] and got[1]["payload"] == {"n": 2}

        # a claim reported through server b reaches the holder on server a, then its updates
        rep = await post(b.http_url, REPORT, {"i": report_input(book)}, holder)
        claim = rep["data"]["reportAccident"]["claim"]
        assert rep["data"]["reportAccident"]["userErrors"] == [], rep
        msg = (await on_a.next())["payload"]["data"]["contractEvents"]
        assert msg["kind"] == "CLAIM_REPORTED"
        follow = await Sub.open(a.ws_url, holder, CLAIMS,
                                {"c": claim["id"], "a": await seq_of(pool, book.created.contract.id)})
        try:
            moved = await post(a.http_url, TRANSITION, {"i": {"claimId": claim["id"], "action": "REVIEW"}},
                               staff(settings))
            assert moved["data"]["transitionClaim"]["userErrors"] == [], moved
            upd = (await follow.next())["payload"]["data"]["claimUpdates"]
            assert upd["claim"]["status"]["code"] == moved["data"]["transitionClaim"]["claim"]["status"]["code"]
        finally:
            await follow.close()
    finally:
        await on_a.close()
        await on_b.close()


async def test_after_seq_replays_in_order_and_another_policyholder_is_refused(
        servers: tuple[Server, Server], pool: asyncpg.Pool, settings: Settings) -> None:
    a, _ = servers
    mine, other = await rated_contract(pool), await rated_contract(pool)
    cid = to_global_id("Contract", mine.created.contract.id)
    async with UnitOfWork(pool) as uow:
        await append_events(uow, mine.created.contract.id, [(f"K{i}", {"i": i}) for i in range(5)],
                            at=datetime(2026, 6, 10, 12, 0, tzinfo=JST))
    replay = await Sub.open(a.ws_url, holder_of(settings, mine), EVENTS, {"c": cid, "a": 0})
    try:
        seqs = [(await replay.next())["payload"]["data"]["contractEvents"]["seq"] for _ in range(6)]
        assert seqs == [1, 2, 3, 4, 5, 6]     # CONTRACT_ISSUED, then K0..K4
    finally:
        await replay.close()

    refused = await Sub.open(a.ws_url, holder_of(settings, other), EVENTS, {"c": cid})
    try:
        msg = await refused.next()
        errors = msg["payload"]["errors"] if msg["type"] == "next" else msg["payload"]
        assert msg["type"] in ("next", "error") and errors[0]["extensions"]["code"] == "CONTRACT_NOT_FOUND", msg
        assert "data" not in msg["payload"] or msg["payload"]["data"] is None
    finally:
        await refused.close()
    anonymous = await Sub.open(a.ws_url, None, EVENTS, {"c": cid})
    try:
        msg = await anonymous.next()
        assert "CONTRACT_NOT_FOUND" in json.dumps(msg)
    finally:
        await anonymous.close()

    ws = await websockets.connect(a.ws_url, subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged.token.x"}}))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    token = long_token(settings, Role.POLICYHOLDER, "x", party_id=mine.policyholder.id)
    assert token   # a good one is accepted (the replay above)


async def test_a_subscription_ends_when_its_token_expires(
        servers: tuple[Server, Server], pool: asyncpg.Pool, settings: Settings) -> None:
    """A subscription never outlives the token that opened it: the next event after its expiry (by
    the server's business clock) ends the stream with TOKEN_EXPIRED instead of the event."""
    from datetime import timedelta

    from api.auth import mint_token

    a, _ = servers
    book = await rated_contract(pool)
    cid = to_global_id("Contract", book.created.contract.id)
    token = mint_token(settings, subject="short", role=Role.POLICYHOLDER, now=a.clock.now(),
                       ttl=timedelta(hours=1), party_id=book.policyholder.id)
    sub = await Sub.open(a.ws_url, {"authorization": f"Bearer {token}"}, EVENTS,
                         {"c": cid, "a": await seq_of(pool, book.created.contract.id)})
    start = a.clock.now()
    try:
        async with UnitOfWork(pool) as uow:
            await append_events(uow, book.created.contract.id, [("BEFORE_EXPIRY", {})], at=start)
        assert (await sub.next())["payload"]["data"]["contractEvents"]["kind"] == "BEFORE_EXPIRY"
        a.clock.set(start + timedelta(hours=2))
        async with UnitOfWork(pool) as uow:
            await append_events(uow, book.created.contract.id, [("AFTER_EXPIRY", {})], at=start)
        msg = await sub.next()
        assert "AFTER_EXPIRY" not in json.dumps(msg) and "TOKEN_EXPIRED" in json.dumps(msg), msg
    finally:
        a.clock.set(start)
        await sub.close()


async def test_a_subscription_sent_as_a_plain_post_is_refused(
        servers: tuple[Server, Server], settings: Settings) -> None:
    """Over HTTP a subscription has no stream to answer with: 400 and why, not a null field."""
    a, _ = servers
    async with httpx.AsyncClient() as c:
        r = await c.post(a.http_url, json={"query": EVENTS, "variables": {"c": "x"}}, headers=staff(settings))
    assert r.status_code == 400 and "subscriptions are not allowed" in r.text, r.text
