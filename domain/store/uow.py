"""Unit of work: one pooled connection and one transaction per use case.

    async with UnitOfWork(pool) as uow:
        await append_version(uow, ...)
        await append_event(uow, ...)
    # committed here; rolled back instead if the block raised

`UnitOfWork(pool, dry_run=True)` runs the same code and always rolls back, so a `dryRun` mutation
computes exactly what the real one would (constraints, conflicts and all) and stores nothing.
"""

from __future__ import annotations

from types import TracebackType
from typing import Literal, Self

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction

Isolation = Literal["read_committed", "repeatable_read", "serializable"]

# Where a read needs no transaction of its own: a connection, `uow.conn`, or a pool (one statement).
Executor = asyncpg.Connection | asyncpg.Pool


class UnitOfWork:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        dry_run: bool = False,
        isolation: Isolation = "read_committed",
    ) -> None:
        self._pool = pool
        self.dry_run = dry_run
        self._isolation = isolation
        self._conn: PoolConnectionProxy | None = None
        self._tx: Transaction | None = None
        self.committed = False

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside its `async with` block")
        return self._conn  # type: ignore[return-value]

    async def __aenter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("a UnitOfWork is entered once")
        conn = await self._pool.acquire()
        try:
            tx = conn.transaction(isolation=self._isolation)
            await tx.start()
        except BaseException:
            await self._pool.release(conn)
            raise
        self._conn, self._tx = conn, tx
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None and self._tx is not None
        try:
            if exc_type is None and not self.dry_run:
                await self._tx.commit()
                self.committed = True
            else:
                await self._tx.rollback()
        finally:
            conn, self._conn, self._tx = self._conn, None, None
            # The pool resets a connection whose transaction is still open (a failed commit), so
            # releasing is always safe.
            await self._pool.release(conn)


class JobUnitOfWork(UnitOfWork):
    """A timer job's open transaction seen as a use case's unit of work.

    The job (workers/timer_job.py) begins and commits that transaction together with the timer
    row's DONE mark; a use case run inside it only writes through `conn`. Never entered.
    """

    def __init__(self, conn: asyncpg.Connection) -> None:  # no pool: nothing to acquire
        self.dry_run = False
        self.committed = False
        self._conn = conn  # type: ignore[assignment]
        self._tx = None

    async def __aenter__(self) -> Self:
        raise RuntimeError("the timer job owns this transaction")
