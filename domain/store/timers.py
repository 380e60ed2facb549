"""Durable timers: every deadline of the product is a row of `timers`; arq only executes them.

Life of a row (see migrations/0001_timers.sql):

    PENDING --claim (due_at <= now)--> ENQUEUED --job commits effect--> DONE
       ^                                  |  \\--handler failed, attempts left--> PENDING (later due_at)
       |                                  |  \\--handler failed, no attempts left--> FAILED
       +--------- lease expired ----------+      (re-claimed in place: ENQUEUED again, new job id)
    PENDING/ENQUEUED --cancel--> CANCELLED

`attempts` counts hand-overs to a worker (it is raised by every claim, also by a re-claim after a
lost job). So a timer whose job kills its worker every time, or is lost again and again, runs out of
attempts like one whose handler raises, instead of looping for ever.

Callers schedule and cancel inside their own transaction, so a timer exists exactly when the
change that needs it was committed. Every instant is an aware datetime; "now" is always a parameter
(the injected Clock's time), never the database's clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import asyncpg

from domain.runtime.clock import as_jst

# Long error texts (tracebacks of a broken handler) would bloat the row; the head says enough.
_MAX_ERROR_CHARS = 2000


class TimerState(StrEnum):
    PENDING = "PENDING"
    ENQUEUED = "ENQUEUED"
    DONE = "DONE"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


LIVE_STATES = (TimerState.PENDING, TimerState.ENQUEUED)


class TimerConflict(ValueError):
    """An idempotency key is already used by a timer of another kind or subject."""


@dataclass(frozen=True, slots=True)
class TimerRow:
    id: int
    kind: str
    subject: str
    due_at: datetime
    state: TimerState
    attempts: int
    last_error: str | None
    idempotency_key: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    enqueued_at: datetime | None = None
    done_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed row: `attempt` is the row's attempts after this claim (1 for the first)."""

    timer_id: int
    attempt: int

    @property
    def job_id(self) -> str:
        return job_id(self.timer_id, self.attempt)


def job_id(timer_id: int, attempt: int) -> str:
    """The arq job id of one hand-over of a timer; see workers/timer_job.py for why it has the attempt."""
    return f"timer:{timer_id}:{attempt}"


# Payload goes through text so the functions work on connections with or without the pool's jsonb codec.
_COLUMNS = """id, kind, subject, due_at, state, attempts, last_error, idempotency_key,
              payload::text AS payload, enqueued_at, done_at"""


def _row(rec: asyncpg.Record) -> TimerRow:
    return TimerRow(
        id=rec["id"],
        kind=rec["kind"],
        subject=rec["subject"],
        due_at=as_jst(rec["due_at"]),
        state=TimerState(rec["state"]),
        attempts=rec["attempts"],
        last_error=rec["last_error"],
        idempotency_key=rec["idempotency_key"],
        payload=json.loads(rec["payload"]),
        enqueued_at=as_jst(rec["enqueued_at"]) if rec["enqueued_at"] else None,
        done_at=as_jst(rec["done_at"]) if rec["done_at"] else None,
    )


async def schedule(
    conn: asyncpg.Connection,
    *,
    kind: str,
    subject: str,
    due_at: datetime,
    idempotency_key: str,
    payload: Mapping[str, Any] | None = None,
) -> int:
    """Create the timer unless its idempotency key exists; answer its id either way.

    A replay with the same key answers the first row untouched (its due_at and payload stay): to
    move a deadline, cancel the timer and schedule another with a new key. A key reused by another
    kind or subject is a bug in the caller and raises TimerConflict.
    """
    due_at = as_jst(due_at)
    if not kind or not subject or not idempotency_key:
        raise ValueError("kind, subject and idempotency_key must be non-empty")
    for _ in range(3):
        new_id = await conn.fetchval(
            """INSERT INTO timers (kind, subject, due_at, idempotency_key, payload)
               VALUES ($1, $2, $3, $4, $5::text::jsonb)
               ON CONFLICT (idempotency_key) DO NOTHING
               RETURNING id""",
            kind, subject, due_at, idempotency_key, json.dumps(dict(payload or {})),
        )
        if new_id is not None:
            return int(new_id)
        existing = await conn.fetchrow(
            "SELECT id, kind, subject FROM timers WHERE idempotency_key = $1", idempotency_key
        )
        if existing is None:  # the row we collided with was deleted meanwhile: insert again
            continue
        if existing["kind"] != kind or existing["subject"] != subject:
            raise TimerConflict(
                f"idempotency key {idempotency_key!r} belongs to timer {existing['id']} "
                f"({existing['kind']} for {existing['subject']})"
            )
        return int(existing["id"])
    raise RuntimeError(f"timer key {idempotency_key!r} neither inserted nor found")


async def schedule_many(conn: asyncpg.Connection, *, kind: str,
                        rows: list[tuple[str, datetime, str, Mapping[str, Any]]]) -> int:
    """Many `schedule`s of one kind in one statement: (subject, due_at, idempotency_key, payload).

    A key that exists already is left as it is (the replay rule of `schedule`, without its check
    that the key belongs to the same subject); answers how many rows were inserted.
    """
    if not rows:
        return 0
    done = await conn.execute(
        """INSERT INTO timers (kind, subject, due_at, idempotency_key, payload)
           SELECT $1, s, d, k, p::jsonb
           FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[]) AS t(s, d, k, p)
           ON CONFLICT (idempotency_key) DO NOTHING""",
        kind, [r[0] for r in rows], [as_jst(r[1]) for r in rows], [r[2] for r in rows],
        [json.dumps(dict(r[3])) for r in rows],
    )
    return int(done.split()[-1])


async def cancel(conn: asyncpg.Connection, *, subject: str, kind: str | None = None) -> int:
    """Cancel the live timers of a subject (of one kind, or all kinds); answer how many.

    A timer whose job is running right now holds its row lock: this waits for the job, then leaves
    the row alone when the job has finished it (DONE is not undone).
    """
    result = await conn.execute(
        """UPDATE timers SET state = 'CANCELLED', updated_at = now()
           WHERE subject = $1 AND ($2::text IS NULL OR kind = $2)
             AND state IN ('PENDING', 'ENQUEUED')""",
        subject, kind,
    )
    return int(result.split()[-1])


async def claim_due(conn: asyncpg.Connection, now: datetime, limit: int, lease: timedelta,
                    *, max_attempts: int | None = None) -> list[int]:
    """Claim due rows for hand-over to arq; answer their ids. See claim_due_jobs."""
    return [c.timer_id for c in await claim_due_jobs(conn, now, limit, lease, max_attempts=max_attempts)]


async def claim_due_jobs(conn: asyncpg.Connection, now: datetime, limit: int, lease: timedelta,
                         *, max_attempts: int | None = None) -> list[Claim]:
    """Mark up to `limit` rows ENQUEUED and answer them in due order, each with its new attempt.

    Claimed are PENDING rows with due_at <= now, and ENQUEUED rows whose hand-over is older than
    `lease` (their job vanished: Redis lost it or the worker died before the job committed). Rows
    locked by a running job are skipped (SKIP LOCKED), so a slow job is never handed over twice
    while it runs. When `max_attempts` is given, lease-expired rows that used all their attempts
    become FAILED instead of being claimed again.

    Commit the claim before enqueueing the jobs: a job that starts before the commit would find its
    row still PENDING and do nothing.
    """
    now = as_jst(now)
    if limit <= 0:
        return []
    if max_attempts is not None:
        await conn.execute(
            """UPDATE timers t
               SET state = 'FAILED', updated_at = now(),
                   last_error = format('job lost: no result within the %s lease after attempt %s',
                                       $2::interval, t.attempts)
               FROM (SELECT id FROM timers
                     WHERE state = 'ENQUEUED' AND due_at <= $1 AND enqueued_at <= $1 - $2::interval
                       AND attempts >= $3
                     FOR UPDATE SKIP LOCKED) lost
               WHERE t.id = lost.id""",
            now, lease, max_attempts,
        )
    rows = await conn.fetch(
        """WITH due AS (
               SELECT id FROM timers
               WHERE due_at <= $1 AND state IN ('PENDING', 'ENQUEUED')
                 AND (state = 'PENDING' OR enqueued_at <= $1 - $3::interval)
               ORDER BY due_at, id
               LIMIT $2
               FOR UPDATE SKIP LOCKED)
           UPDATE timers t
           SET state = 'ENQUEUED', attempts = t.attempts + 1, enqueued_at = $1, updated_at = now(),
               last_error = CASE WHEN t.state = 'ENQUEUED'
                                 THEN format('job lost: re-enqueued after the %s lease (attempt %s)',
                                             $3::interval, t.attempts)
                                 ELSE t.last_error END
           FROM due WHERE t.id = due.id
           RETURNING t.id, t.attempts, t.due_at""",
        now, limit, lease,
    )
    rows = sorted(rows, key=lambda r: (r["due_at"], r["id"]))
    return [Claim(r["id"], r["attempts"]) for r in rows]


async def lock_for_run(conn: asyncpg.Connection, timer_id: int) -> TimerRow | None:
    """Lock the row for the rest of the caller's transaction (waits for another job holding it)."""
    rec = await conn.fetchrow(f"SELECT {_COLUMNS} FROM timers WHERE id = $1 FOR UPDATE", timer_id)
    return _row(rec) if rec else None


async def mark_done(conn: asyncpg.Connection, timer_id: int, now: datetime) -> None:
    await conn.execute(
        "UPDATE timers SET state = 'DONE', done_at = $2, updated_at = now() WHERE id = $1",
        timer_id, as_jst(now),
    )


async def record_failure(conn: asyncpg.Connection, timer_id: int, error: str,
                         retry_at: datetime | None) -> TimerState:
    """After a failed attempt: back to PENDING due at `retry_at`, or FAILED when it is None."""
    state = TimerState.FAILED if retry_at is None else TimerState.PENDING
    await conn.execute(
        """UPDATE timers
           SET state = $2, last_error = $3, due_at = coalesce($4, due_at), updated_at = now()
           WHERE id = $1""",
        timer_id, state.value, error[:_MAX_ERROR_CHARS], as_jst(retry_at) if retry_at else None,
    )
    return state


async def get(conn: asyncpg.Connection, timer_id: int) -> TimerRow | None:
    rec = await conn.fetchrow(f"SELECT {_COLUMNS} FROM timers WHERE id = $1", timer_id)
    return _row(rec) if rec else None


async def for_subject(conn: asyncpg.Connection, subject: str) -> list[TimerRow]:
    recs = await conn.fetch(f"SELECT {_COLUMNS} FROM timers WHERE subject = $1 ORDER BY due_at, id", subject)
    return [_row(r) for r in recs]
