"""LISTEN for committed events (migration 0022's NOTIFY) and wake whoever watches those contracts.

Every API process holds one dedicated connection that LISTENs on `autopolicy_events` (PostgreSQL
sends a notification only when the writing transaction commits, to every listening process). A
notification names the id range one statement wrote; the hub asks which watched contracts have
events in it and sets their watchers' wake-up flags. Watchers then read the outbox after the last
seq they gave out, so what they yield comes from the table, in seq order, without gaps or
doubles, whatever the notifications did. After a lost connection the hub reconnects and wakes
every watcher (they catch up from the table).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

CHANNEL = "autopolicy_events"
log = logging.getLogger("autopolicy.events")


class EventHub:
    def __init__(self, dsn: str, pool: asyncpg.Pool) -> None:
        self._dsn = dsn
        self._pool = pool
        self._watchers: dict[int, set[asyncio.Event]] = {}
        self._ranges: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue()
        self._conn: asyncpg.Connection | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started = asyncio.Lock()
        self._closed = False
        self.connected = asyncio.Event()

    async def _ensure(self) -> None:
        async with self._started:
            if self._tasks or self._closed:
                return
            self._tasks = [asyncio.create_task(self._connect_loop()), asyncio.create_task(self._dispatch())]
        # A watcher that starts before the first LISTEN would miss what commits in between; its
        # first read of the table covers what came before, the LISTEN what comes after.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), 5)

    async def _connect_loop(self) -> None:
        delay = 0.2
        while not self._closed:
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(self._dsn, timeout=5)
                conn.add_termination_listener(lambda _c, flag=lost: flag.set())
                await conn.add_listener(CHANNEL, self._on_notify)
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("event listener: cannot connect (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._conn, delay = conn, 0.2
            self.connected.set()
            self._wake_all()   # whatever committed while no one listened is read from the table
            await lost.wait()
            self.connected.clear()
            self._conn = None
            log.warning("event listener: connection lost; reconnecting")

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            doc = json.loads(payload)
            self._ranges.put_nowait((int(doc["min"]), int(doc["max"])))
        except (ValueError, KeyError, TypeError):
            log.warning("event listener: unreadable notification %r", payload)

    async def _dispatch(self) -> None:
        while True:
            item = await self._ranges.get()
            if item is None:
                return
            watched = list(self._watchers)
            if not watched:
                continue
            lo, hi = item
            try:
                rows = await self._pool.fetch(
                    """SELECT DISTINCT contract_id FROM events
                       WHERE id BETWEEN $1 AND $2 AND contract_id = any($3::bigint[])""", lo, hi, watched)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("event listener: range %s-%s unread (%s); waking every watcher", lo, hi, exc)
                self._wake_all()
                continue
            for r in rows:
                for flag in self._watchers.get(r["contract_id"], ()):
                    flag.set()

    def _wake_all(self) -> None:
        for flags in self._watchers.values():
            for flag in flags:
                flag.set()

    @contextlib.asynccontextmanager
    async def watch(self, contract_id: int) -> AsyncIterator[asyncio.Event]:
        """A flag set whenever the contract may have new events (set once at the start)."""
        await self._ensure()
        flag = asyncio.Event()
        flag.set()
        self._watchers.setdefault(contract_id, set()).add(flag)
        try:
            yield flag
        finally:
            flags = self._watchers.get(contract_id)
            if flags is not None:
                flags.discard(flag)
                if not flags:
                    del self._watchers[contract_id]

    async def close(self) -> None:
        self._closed = True
        self._ranges.put_nowait(None)
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)
