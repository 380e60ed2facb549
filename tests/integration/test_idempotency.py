"""R5: a replayed idempotency key returns the first response and has one effect; the same key with
another payload is refused; two concurrent first uses produce one effect."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.store import idempotency
from domain.store.idempotency import IdempotencyError, Outcome, begin, finish, request_hash
from domain.store.outbox import append_event, events
from domain.store.uow import UnitOfWork
from tests.integration.test_policy_store import RECORDED, make_contract


def new_key() -> str:
    return f"key-{secrets.token_hex(8)}"


class Boom(Exception):
    pass


async def mutate(
    pool: asyncpg.Pool, contract_id: int, scope: str, key: str, payload: dict[str, Any], *,
    dry_run: bool = False, hold: float = 0.0, fail: bool = False,
) -> tuple[Outcome, Any]:
    """A stand-in for a service use case: one effect (an event), guarded by the key."""
    async with UnitOfWork(pool, dry_run=dry_run) as uow:
        got = await begin(uow, scope, key, request_hash(payload))
        if got.outcome is not Outcome.NEW:
            return got.outcome, got.response
        event = await append_event(uow, contract_id, "NOTE", payload, at=RECORDED)
        await asyncio.sleep(hold)
        if fail:
            raise Boom
        response = {"seq": event.seq, "ok": True}
        await finish(uow, scope, key, response)
        return Outcome.NEW, response


def test_request_hash_ignores_key_order_and_sees_values() -> None:
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": [1, 2], "a": 1})
    assert request_hash({"a": 1}) != request_hash({"a": 2})


async def test_replay_returns_first_response_with_one_effect(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    key = new_key()
    first = await mutate(pool, c.contract.id, "user-1", key, {"note": "hello"})
    second = await mutate(pool, c.contract.id, "user-1", key, {"note": "hello"})
    assert first == (Outcome.NEW, {"seq": 1, "ok": True})
    assert second == (Outcome.REPLAY, {"seq": 1, "ok": True})
    async with pool.acquire() as conn:
        assert len(await events(conn, c.contract.id)) == 1


async def test_same_key_other_payload_is_refused_and_scopes_are_separate(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    key = new_key()
    await mutate(pool, c.contract.id, "user-1", key, {"note": "a"})
    assert await mutate(pool, c.contract.id, "user-1", key, {"note": "b"}) == (
        Outcome.REUSED_WITH_OTHER_PAYLOAD, None,
    )
    # The same key of another principal is another key.
    other = await mutate(pool, c.contract.id, "user-2", key, {"note": "b"})
    assert other[0] is Outcome.NEW
    async with pool.acquire() as conn:
        assert [e.payload["note"] for e in await events(conn, c.contract.id)] == ["a", "b"]


async def test_concurrent_first_uses_one_wins_the_other_waits_and_replays(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    key = new_key()
    results = await asyncio.gather(
        *(mutate(pool, c.contract.id, "user-1", key, {"note": "x"}, hold=0.1) for _ in range(5))
    )
    outcomes = sorted(o for o, _ in results)
    assert outcomes == [Outcome.NEW] + [Outcome.REPLAY] * 4
    assert all(r == {"seq": 1, "ok": True} for _, r in results)
    async with pool.acquire() as conn:
        assert len(await events(conn, c.contract.id)) == 1


async def test_a_failed_first_use_leaves_the_key_free(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    key = new_key()
    # The first holder rolls back while the second waits on its row: the second then runs for real.
    failing = asyncio.create_task(mutate(pool, c.contract.id, "u", key, {"n": 1}, hold=0.1, fail=True))
    await asyncio.sleep(0.03)
    retry = await mutate(pool, c.contract.id, "u", key, {"n": 1})
    with pytest.raises(Boom):
        await failing
    assert retry == (Outcome.NEW, {"seq": 1, "ok": True})
    assert await mutate(pool, c.contract.id, "u", key, {"n": 1}) == (Outcome.REPLAY, {"seq": 1, "ok": True})


async def test_dry_run_stores_no_key(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    key = new_key()
    assert (await mutate(pool, c.contract.id, "u", key, {"n": 1}, dry_run=True))[0] is Outcome.NEW
    assert (await mutate(pool, c.contract.id, "u", key, {"n": 1}))[0] is Outcome.NEW
    async with pool.acquire() as conn:
        assert len(await events(conn, c.contract.id)) == 1


async def test_protocol_misuse_is_an_error(pool: asyncpg.Pool) -> None:
    key = new_key()
    with pytest.raises(IdempotencyError):
        async with UnitOfWork(pool) as uow:
            await finish(uow, "u", key, {"ok": True})  # no begin
    with pytest.raises(IdempotencyError):
        async with UnitOfWork(pool) as uow:
            await begin(uow, "u", key, "h")
            await finish(uow, "u", key, None)
    # A key committed without a response (a caller that forgot finish) is reported, not replayed.
    async with UnitOfWork(pool) as uow:
        await begin(uow, "u", key, "h")
    with pytest.raises(IdempotencyError):
        async with UnitOfWork(pool) as uow:
            await begin(uow, "u", key, "h")


async def test_purge_forgets_old_keys(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    key = new_key()
    await mutate(pool, c.contract.id, "purge-user", key, {"n": 1})
    async with pool.acquire() as conn:
        assert await idempotency.purge(conn, datetime.now(UTC) - timedelta(days=1)) >= 0
        await conn.execute(
            "UPDATE idempotency_records SET created_at = created_at - interval '2 days' WHERE key = $1", key
        )
        assert await idempotency.purge(conn, datetime.now(UTC) - timedelta(days=1)) >= 1
    assert (await mutate(pool, c.contract.id, "purge-user", key, {"n": 1}))[0] is Outcome.NEW
