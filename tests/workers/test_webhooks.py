"""Webhooks end to end through a real arq worker and a real HTTP receiver (tests/receiver.py).

Events appended to the outbox are published by the worker's publisher, POSTed signed to the
receiver, retried on 500 and on timeouts with backoff (the ManualClock is moved past each retry),
dead-lettered after the attempt limit, kept in per-contract order per endpoint even with several
publishers and workers at once, and redelivered on demand with the same event id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from domain.lifecycle import Role
from domain.runtime.settings import Settings
from domain.services.access import Actor
from domain.services.notifications import subscriptions as subs
from domain.services.notifications.types import CreateSubscription, UpdateSubscription
from domain.store.outbox import append_events
from domain.store.uow import UnitOfWork
from domain.webhooks import SIGNATURE_HEADER, verify
from tests.factories import rated_contract
from tests.receiver import Receiver
from tests.workers.conftest import Harness
from workers.publish import publish_outbox

STAFF = Actor("staff-hooks", Role.STAFF)
WEBHOOK_TABLES = "webhook_attempts, notifications, webhook_deliveries, webhook_lanes, webhook_subscriptions"


@dataclass
class Hooks(Harness):
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        base: dict[str, Any] = {
            "database_url": self.database_url, "redis_url": self.redis_url, "arq_queue": self.queue,
            "timer_max_attempts": self.max_attempts, "timer_batch": 500, "environment": "test",
            "webhook_timeout_seconds": 10, "webhook_max_attempts": 5}
        return Settings(**{**base, **self.overrides})

    async def publish(self) -> int:
        return await publish_outbox(self.ctx())

    async def deliver(self, workers: int = 1) -> None:
        """Publish, then run burst workers until nothing is queued."""
        await self.publish()
        await asyncio.gather(*(self.work() for _ in range(workers)))

    async def later(self, delta: timedelta) -> None:
        self.clock.set(self.clock.now() + delta)
        await self.tick()


async def _clean(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {WEBHOOK_TABLES} RESTART IDENTITY")
        # Events other tests left: published now, so they neither go out nor hold a lane back.
        await conn.execute("UPDATE events SET published_at = now() WHERE published_at IS NULL")


@pytest.fixture
async def hooks(harness: Harness) -> AsyncIterator[Hooks]:
    await _clean(harness.pool)
    yield Hooks(harness.pool, harness.redis_url, harness.database_url, harness.arq, clock=harness.clock)
    await _clean(harness.pool)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


async def subscribe(h: Hooks, r: Receiver, path: str, **kw: Any) -> int:
    async with UnitOfWork(h.pool) as uow:
        made = await subs.create_subscription(uow, STAFF, CreateSubscription(r.url(path), **kw), h.clock.now())
    r.secrets.setdefault(path, []).append(made.secret)
    return made.subscription.id


async def emit(h: Hooks, contract_id: int, kinds: list[str]) -> None:
    async with UnitOfWork(h.pool) as uow:
        await append_events(uow, contract_id, [(k, {"n": i}) for i, k in enumerate(kinds)], at=h.clock.now())


async def deliveries(h: Hooks) -> list[asyncpg.Record]:
    return await h.pool.fetch("SELECT * FROM webhook_deliveries ORDER BY id")


async def test_events_are_posted_signed_with_a_stable_id_and_recorded(hooks: Hooks, receiver: Receiver) -> None:
    c = await rated_contract(hooks.pool)
    sid = await subscribe(hooks, receiver, "/a")
    await subscribe(hooks, receiver, "/only-claims", kinds=("CLAIM_REPORTED",))
    await emit(hooks, c.created.contract.id, ["CONTRACT_ENDORSED", "CLAIM_REPORTED"])
    await hooks.deliver()

    got = receiver.received("/a")
    assert [r.body["kind"] for r in got] == ["CONTRACT_ENDORSED", "CLAIM_REPORTED"]
    assert all(r.verified for r in receiver.received())
    assert [r.body["kind"] for r in receiver.received("/only-claims")] == ["CLAIM_REPORTED"]
    first = got[0]
    assert first.headers["autopolicy-event-id"] == first.body["id"]
    assert first.body["seq"] + 1 == got[1].body["seq"]
    assert first.body["data"] == {"n": 0}
    # a receiver refuses a signature with another secret, and an old timestamp (replay)
    raw = first.headers[SIGNATURE_HEADER.lower()]
    body = _raw(first)
    assert verify(raw, receiver.secrets["/a"][0], body, time.time())
    assert not verify(raw, "whsec_another", body, time.time())
    assert not verify(raw, receiver.secrets["/a"][0], body, time.time() + 3600)
    rows = await deliveries(hooks)
    assert {(r["subscription_id"], r["state"], r["attempts"]) for r in rows if r["subscription_id"] == sid} == {
        (sid, "DELIVERED", 1)}
    attempts = await hooks.pool.fetch("SELECT * FROM webhook_attempts ORDER BY id")
    assert [a["status"] for a in attempts] == [200, 200, 200]
    assert all(a["outcome"] == "DELIVERED" and a["latency_ms"] >= 0 for a in attempts)
    # published once: a second publisher run sends nothing new
    await hooks.deliver()
    assert len(receiver.received()) == 3


def _raw(r: Any) -> bytes:
    import json

    return json.dumps(r.body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


async def test_a_500_and_a_timeout_are_retried_with_backoff_and_hold_the_later_event(
        hooks: Hooks, receiver: Receiver) -> None:
    hooks.overrides = {"webhook_timeout_seconds": 2}
    # the first event: 500, then a timeout, then accepted; the second is accepted at once
    receiver.plan = lambda path, eid, seen: ((500, 0.0), (200, 5.0), (200, 0.0))[min(seen, 2)] \
        if eid == first_id[0] else (200, 0.0)
    first_id: list[str] = [""]
    c = await rated_contract(hooks.pool)
    await subscribe(hooks, receiver, "/r")
    await emit(hooks, c.created.contract.id, ["A", "B"])
    ev = await hooks.pool.fetchval("SELECT min(id) FROM events WHERE contract_id = $1 AND kind = 'A'", c.created.contract.id)
    first_id[0] = f"evt_{ev}"
    await hooks.deliver()
    # after the 500: B waits behind A
    assert [r.status for r in receiver.received()] == [500]
    row = (await deliveries(hooks))[0]
    assert row["state"] == "PENDING" and row["attempts"] == 1 and row["last_status"] == 500
    wait = row["next_attempt_at"] - hooks.clock.now()
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)      # base 10 s, jitter down to half
    await hooks.later(timedelta(seconds=11))
    row = (await deliveries(hooks))[0]
    assert row["attempts"] == 2 and row["last_status"] is None and "timeout" in row["last_error"]
    assert timedelta(seconds=10) <= row["next_attempt_at"] - hooks.clock.now() <= timedelta(seconds=20)
    await hooks.later(timedelta(seconds=21))
    got = receiver.received()
    assert [(r.body["kind"], r.headers["autopolicy-delivery-attempt"]) for r in got] == [
        ("A", "1"), ("A", "2"), ("A", "3"), ("B", "1")]
    assert len({r.event_id for r in got[:3]}) == 1
    assert [r["state"] for r in await deliveries(hooks)] == ["DELIVERED", "DELIVERED"]
    outcomes = [a["outcome"] for a in await hooks.pool.fetch("SELECT outcome FROM webhook_attempts ORDER BY id")]
    assert outcomes == ["HTTP_ERROR", "TIMEOUT", "DELIVERED", "DELIVERED"]


async def test_dead_letter_after_the_limit_then_the_lane_moves_on_and_redelivery(
        hooks: Hooks, receiver: Receiver) -> None:
    hooks.overrides = {"webhook_max_attempts": 3}
    broken = {"on": True}
    receiver.plan = lambda path, eid, seen: (503, 0.0) if broken["on"] else (200, 0.0)
    c = await rated_contract(hooks.pool)
    await subscribe(hooks, receiver, "/d")
    await emit(hooks, c.created.contract.id, ["A"])
    await hooks.deliver()
    for _ in range(3):
        await hooks.later(timedelta(minutes=5))
    (row,) = await deliveries(hooks)
    assert (row["state"], row["attempts"], row["last_status"]) == ("DEAD", 3, 503)
    assert len(receiver.received()) == 3
    # the endpoint is back: later events go out; the dead one only when staff redeliver it
    broken["on"] = False
    await emit(hooks, c.created.contract.id, ["B"])
    await hooks.deliver()
    assert [r.body["kind"] for r in receiver.received(ok_only=True)] == ["B"]
    async with UnitOfWork(hooks.pool) as uow:
        await subs.redeliver(uow, STAFF, row["id"], hooks.clock.now(), settings=hooks.settings)
    await hooks.tick()
    again = receiver.received(ok_only=True)
    assert [r.body["kind"] for r in again] == ["B", "A"]
    assert again[1].event_id == receiver.received()[0].event_id    # the same event id as the first try
    assert again[1].headers["autopolicy-delivery-attempt"] == "4"
    states = {r["id"]: r["state"] for r in await deliveries(hooks)}
    assert states[row["id"]] == "DELIVERED"
    # an agent cannot redeliver (not found: the subscription is staff's)
    agent = Actor("agent-x", Role.AGENT, agency_id=c.agency_id)
    from domain.services.errors import Refused

    with pytest.raises(Refused) as refused:
        async with UnitOfWork(hooks.pool) as uow:
            await subs.redeliver(uow, agent, row["id"], hooks.clock.now(), settings=hooks.settings)
    assert refused.value.errors[0].code == "WEBHOOK_DELIVERY_NOT_FOUND"


async def test_order_per_contract_and_endpoint_under_concurrency(hooks: Hooks, receiver: Receiver) -> None:
    # random-ish failures: every event's first try at /b fails
    receiver.plan = lambda path, eid, seen: (500, 0.0) if path == "/b" and seen == 0 else (200, 0.0)
    contracts = [(await rated_contract(hooks.pool)).created.contract.id for _ in range(3)]
    await subscribe(hooks, receiver, "/a")
    await subscribe(hooks, receiver, "/b")
    n = 15

    async def writer(cid: int) -> None:
        for i in range(n):
            await emit(hooks, cid, [f"K{i}"])

    async def publishers() -> None:
        for _ in range(6):
            await asyncio.gather(hooks.publish(), hooks.publish())
            await asyncio.gather(hooks.work(), hooks.work(), hooks.work())

    await asyncio.gather(*(writer(c) for c in contracts), publishers())
    for _ in range(3 * n + 5):
        pending = await hooks.pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state <> 'DELIVERED'")
        unpublished = await hooks.pool.fetchval(
            "SELECT count(*) FROM events WHERE published_at IS NULL AND contract_id = any($1::bigint[])", contracts)
        if pending == 0 and unpublished == 0:
            break
        await hooks.publish()
        await hooks.later(timedelta(minutes=2))
    assert pending == 0
    # no lane job failed (e.g. on a client closed by another worker of the process)
    assert await hooks.pool.fetchval(
        "SELECT count(*) FROM timers WHERE kind = 'webhook.lane' AND last_error IS NOT NULL") == 0
    for path in ("/a", "/b"):
        for cid in contracts:
            gid = _gid(cid)
            firsts: list[int] = []
            for r in receiver.received(path, ok_only=True):
                if r.body["contractId"] == gid and r.body["seq"] not in firsts:
                    firsts.append(r.body["seq"])
            assert firsts == sorted(firsts) and len(firsts) == n, (path, cid, firsts)
            # nothing reached the endpoint (even failing) before every earlier event was accepted
            tried = [r.body["seq"] for r in receiver.received(path) if r.body["contractId"] == gid]
            accepted: set[int] = set()
            for r in receiver.received(path):
                if r.body["contractId"] != gid:
                    continue
                assert all(s in accepted for s in firsts if s < r.body["seq"]), (path, tried)
                if r.status < 300:
                    accepted.add(r.body["seq"])


def _gid(cid: int) -> str:
    import base64

    return base64.b64encode(f"Contract:{cid}".encode()).decode()


async def test_pause_holds_deliveries_and_resume_sends_them_rotation_signs_with_both(
        hooks: Hooks, receiver: Receiver) -> None:
    c = await rated_contract(hooks.pool)
    sid = await subscribe(hooks, receiver, "/p")
    async with UnitOfWork(hooks.pool) as uow:
        await subs.update_subscription(uow, STAFF, UpdateSubscription(sid, active=False), hooks.clock.now(),
                                       settings=hooks.settings)
    await emit(hooks, c.created.contract.id, ["A"])
    await hooks.deliver()
    assert receiver.received() == []
    async with UnitOfWork(hooks.pool) as uow:
        rotated = await subs.rotate_secret(uow, STAFF, sid, hooks.clock.now(), settings=hooks.settings)
        await subs.update_subscription(uow, STAFF, UpdateSubscription(sid, active=True), hooks.clock.now(),
                                       settings=hooks.settings)
    old = receiver.secrets["/p"][0]
    receiver.secrets["/p"] = [rotated.secret]
    await hooks.tick()
    (got,) = receiver.received()
    assert got.verified and got.status == 200
    header = got.headers[SIGNATURE_HEADER.lower()]
    assert header.count("v1=") == 2 and verify(header, old, _raw(got), time.time())


# ------------------------------------------------------------------ reminders become notifications


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free local port; keeps what it got."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes

                outer.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        import socket

        with socket.socket() as probe:   # a free port (the controller checks it by connecting)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


async def test_forgotten_renewal_reminders_days_0_7_23_are_notifications_by_webhook_and_email(
        hooks: Hooks, receiver: Receiver) -> None:
    from tests.workers.test_grace import AIOI, CONTRACT_TABLES, EXPIRY, ISSUED_ON, day, issue

    async with hooks.pool.acquire() as conn:
        await conn.execute(f"TRUNCATE {', '.join(CONTRACT_TABLES)} RESTART IDENTITY CASCADE")
    mailbox = Mailbox()
    try:
        hooks.overrides = {"smtp_url": f"smtp://127.0.0.1:{mailbox.port}", "notification_email_to": "ops@insurer.example"}
        hooks.clock.set(ISSUED_ON)
        cid = await issue(hooks.pool, AIOI)
        await subscribe(hooks, receiver, "/reminders", kinds=("RENEWAL_REMINDER",))
        for when in (EXPIRY, day(7), day(23)):
            hooks.clock.set(when)
            for _ in range(3):
                await hooks.tick()
                await hooks.deliver()
        got = receiver.received("/reminders", ok_only=True)
        assert [r.body["data"]["day"] for r in got] == [0, 7, 23]
        notes = await hooks.pool.fetch(
            "SELECT kind, channel, recipient, state, subject FROM notifications WHERE contract_id = $1 ORDER BY id", cid)
        # by email every notified kind (the grace window's opening too); by webhook what it subscribed to
        assert sorted((n["kind"], n["channel"], n["state"]) for n in notes) == sorted(
            [("RENEWAL_GRACE_OPENED", "EMAIL", "SENT")] + [("RENEWAL_REMINDER", "EMAIL", "SENT")] * 3
            + [("RENEWAL_REMINDER", "WEBHOOK", "SENT")] * 3)
        assert {n["recipient"] for n in notes if n["channel"] == "EMAIL"} == {"ops@insurer.example"}
        subjects = sorted(str(m["Subject"]) for m in mailbox.messages)
        assert len(subjects) == 4 and sum("(day " in s for s in subjects) == 3
        assert {m["To"] for m in mailbox.messages} == {"ops@insurer.example"}
        assert all(m["Autopolicy-Event-Id"].startswith("evt_") for m in mailbox.messages)
        # running every timer again sends nothing twice
        async with hooks.pool.acquire() as conn:
            await conn.execute("UPDATE timers SET state = 'PENDING' WHERE state = 'DONE' AND kind = 'notification.email'")
        await hooks.tick()
        assert len(mailbox.messages) == 4
    finally:
        mailbox.stop()


async def test_an_email_that_cannot_be_sent_is_retried_then_failed(hooks: Hooks) -> None:
    import socket

    with socket.socket() as probe:   # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    hooks.max_attempts = 2
    hooks.overrides = {"smtp_url": f"smtp://127.0.0.1:{closed}", "notification_email_to": "ops@insurer.example"}
    c = await rated_contract(hooks.pool)
    await emit(hooks, c.created.contract.id, ["RENEWAL_REMINDER"])
    await hooks.deliver()
    (n,) = await hooks.pool.fetch("SELECT id, state FROM notifications WHERE contract_id = $1", c.created.contract.id)
    assert n["state"] == "PENDING"    # the first attempt failed: the timer retries later
    await hooks.later(timedelta(minutes=5))
    (n,) = await hooks.pool.fetch("SELECT state, last_error FROM notifications WHERE contract_id = $1",
                                  c.created.contract.id)
    assert n["state"] == "FAILED" and "Connection" in n["last_error"]


async def test_an_agency_subscription_receives_only_its_agencys_contracts(hooks: Hooks, receiver: Receiver) -> None:
    mine, other = await rated_contract(hooks.pool), await rated_contract(hooks.pool)
    assert mine.agency_id is not None
    agent = Actor(f"agent-{mine.agency_id}", Role.AGENT, agency_id=mine.agency_id)
    async with UnitOfWork(hooks.pool) as uow:
        made = await subs.create_subscription(uow, agent, CreateSubscription("https://agency.example/h"),
                                              hooks.clock.now())
        # the receiver runs on loopback, which an agency may not name: staff point it there
        await subs.update_subscription(uow, STAFF, UpdateSubscription(made.subscription.id, url=receiver.url("/ag")),
                                       hooks.clock.now(), settings=hooks.settings)
    receiver.secrets["/ag"] = [made.secret]
    await emit(hooks, mine.created.contract.id, ["MINE"])
    await emit(hooks, other.created.contract.id, ["OTHER"])
    await hooks.deliver()
    assert [(r.body["kind"], r.body["contractId"]) for r in receiver.received("/ag")] == [
        ("MINE", _gid(mine.created.contract.id))]
