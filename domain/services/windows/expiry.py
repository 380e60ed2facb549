"""Expiry of terms, set-based: one timer per expiry instant, not one per contract (ENGINEERING P6).

Every bound term asks for the timer of its expiry instant (`term.expiry`, subject and key
`expiry:<instant>`; scheduling is idempotent by key, so 100,000 terms ending at the same 16:00
share one row). Its handler takes every term ending at that instant whose contract still holds it
(status IN_FORCE or SCHEDULED) and sorts the contracts with a few statements:

- RENEWED (a later term exists): the old term becomes EXPIRED and the next one IN_FORCE; no event
  (the renewal announced itself).
- ENDED (cancelled, rescinded, lapsed, a quote): nothing; the ending already closed the contract.
- GRACE (a product with the forgotten-renewal rider, a term not itself renewed in grace, not
  DO_NOT_RENEW): a RENEWAL_GRACE window (unique per term), term EXPIRED, statuses
  {EXPIRED, IN_RENEWAL_GRACE} instead of IN_FORCE, two events (RENEWAL_GRACE_OPENED and the day-0
  RENEWAL_REMINDER) and the window's timers with exactly the kinds, subjects, keys and payloads of
  `domain.services.windows.timers.schedule_window_timers`. The day-0 reminder's timer is stored
  DONE: its effect is the event written here.
- AUTO_RENEW (a product with an auto-renew rider, tokio 004 L1449-1451, not DO_NOT_RENEW): one
  `contract.auto_renew` timer per contract, which renews as the SYSTEM (workers/kinds/grace.py).
- EXPIRE (everything else, and any DO_NOT_RENEW): term EXPIRED, status EXPIRED instead of
  IN_FORCE, a CONTRACT_EXPIRED event.

Windows of one product at one instant are identical, so `domain.windows.open_renewal_grace` runs
once per product in Python and the rows go in with INSERT ... SELECT.

Large instants fan out: when more than `CHUNK` contracts expire at once, the instant's job stores
one `term.expiry.chunk` timer per range of contract ids (keyset boundaries), each its own
transaction; several workers run them side by side. Every step is idempotent: a processed term is
no longer IN_FORCE, the window has a unique index per term, timers are keyed. So a job run twice,
or a chunk rerun after a killed worker, changes nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.calendar import JST
from domain.products import Product, default_catalog
from domain.runtime.clock import as_jst
from domain.services.reactions import TermBound
from domain.services.windows.timers import window_timer_kind
from domain.store import timers
from domain.store.uow import Executor, UnitOfWork
from domain.windows import WindowKind, days_left, due_actions, open_renewal_grace

EXPIRY_KIND = "term.expiry"
EXPIRY_CHUNK_KIND = "term.expiry.chunk"
AUTO_RENEW_KIND = "contract.auto_renew"
# Contracts one transaction handles; above it the instant fans out into chunk timers.
CHUNK = 5000
# The key (domain.windows.due_actions) of the reminder on the expiry day itself.
GRACE_DAY0_KEY = "REMIND:0"

# Statuses after which an expiring term needs nothing (the contract ended otherwise).
_ENDED = ("CANCELLED", "RESCINDED", "LAPSED", "QUOTED")


class ExpiryEvent(StrEnum):
    CONTRACT_EXPIRED = "CONTRACT_EXPIRED"
    RENEWAL_GRACE_OPENED = "RENEWAL_GRACE_OPENED"
    RENEWAL_REMINDER = "RENEWAL_REMINDER"
    CONTRACT_LAPSED = "CONTRACT_LAPSED"
    AUTO_RENEWAL_FAILED = "AUTO_RENEWAL_FAILED"


class Outcome(StrEnum):
    RENEWED = "RENEWED"
    ENDED = "ENDED"
    GRACE = "GRACE"
    AUTO_RENEW = "AUTO_RENEW"
    EXPIRE = "EXPIRE"


@dataclass
class ExpiryResult:
    """What one run did, per outcome (counts of contracts), and the chunks it fanned out."""

    counts: dict[Outcome, int] = field(default_factory=lambda: {o: 0 for o in Outcome})
    chunks: int = 0

    def add(self, other: ExpiryResult) -> None:
        for k, v in other.counts.items():
            self.counts[k] += v
        self.chunks += other.chunks


def expiry_subject(at: datetime) -> str:
    return f"expiry:{as_jst(at).isoformat()}"


def auto_renew_key(contract_id: int, term_id: int) -> str:
    return f"contract:{contract_id}:auto_renew:term:{term_id}"


async def on_term_bound(uow: UnitOfWork, event: TermBound, now: datetime) -> None:
    """Reaction to a bound term: the timer of its expiry instant."""
    await schedule_term_expiry(uow.conn, event.term.ends_at)


async def schedule_term_expiry(conn: Executor, ends_at: datetime) -> int:
    """The timer of the expiry instant `ends_at` (one row however many terms end then)."""
    subject = expiry_subject(ends_at)
    return await timers.schedule(conn, kind=EXPIRY_KIND, subject=subject, due_at=ends_at,  # type: ignore[arg-type]
                                 idempotency_key=subject, payload={"at": as_jst(ends_at).isoformat()})


# --------------------------------------------------------------------------- the instant's job

_CANDIDATE_IDS = """
SELECT t.contract_id FROM terms t
WHERE t.ends_at = $1 AND t.status IN ('IN_FORCE', 'SCHEDULED')
ORDER BY t.contract_id"""


async def run_expiry(conn: Executor, at: datetime, now: datetime, *, chunk: int | None = None) -> ExpiryResult:
    """The `term.expiry` job of instant `at`: process it inline, or fan out into chunk timers."""
    size = chunk or CHUNK
    ids = [int(r[0]) for r in await conn.fetch(_CANDIDATE_IDS, as_jst(at))]
    if len(ids) <= size:
        return await expire_range(conn, at, now, 0, None)
    out = ExpiryResult()
    subject = expiry_subject(at)
    for i in range(0, len(ids), size):
        lo, hi = ids[i], ids[min(i + size, len(ids)) - 1]
        await timers.schedule(
            conn, kind=EXPIRY_CHUNK_KIND, subject=subject, due_at=now,  # type: ignore[arg-type]
            idempotency_key=f"{subject}:chunk:{lo}",
            payload={"at": as_jst(at).isoformat(), "fromId": lo, "toId": hi},
        )
        out.chunks += 1
    return out


_LOCK = """
SELECT c.id FROM terms t JOIN contracts c ON c.id = t.contract_id
WHERE t.ends_at = $1 AND t.status IN ('IN_FORCE', 'SCHEDULED')
  AND c.id >= $2 AND ($3::bigint IS NULL OR c.id <= $3)
ORDER BY c.id
FOR UPDATE OF c"""

# Read after the locks, in a new statement (a new snapshot under READ COMMITTED): a renewal that
# committed while we waited for its contract's lock is seen here.
_CLASSIFY = """
SELECT t.id AS term_id, t.contract_id, c.product_id, c.statuses, t.renewed_in_grace,
       c.fleet_id IS NOT NULL AS fleet,
       EXISTS (SELECT 1 FROM terms n WHERE n.contract_id = t.contract_id AND n.term_no > t.term_no) AS renewed
FROM terms t JOIN contracts c ON c.id = t.contract_id
WHERE t.ends_at = $1 AND t.status IN ('IN_FORCE', 'SCHEDULED') AND t.contract_id = any($2::bigint[])
ORDER BY t.contract_id"""


@dataclass(frozen=True, slots=True)
class _Row:
    term_id: int
    contract_id: int
    product_id: str
    statuses: frozenset[str]
    renewed_in_grace: bool
    renewed: bool
    fleet: bool = False


def classify(row: _Row, product: Product | None) -> Outcome:
    """Which branch an expiring term takes (pure; see the module docstring)."""
    if row.renewed:
        return Outcome.RENEWED
    if row.statuses & set(_ENDED):
        return Outcome.ENDED
    declined = "DO_NOT_RENEW" in row.statuses
    if product is None or declined:
        return Outcome.EXPIRE
    # the forgotten-renewal rider is attached to non-fleet contracts only (002b L4156)
    if product.window(WindowKind.RENEWAL_GRACE.product_kind) is not None and not row.renewed_in_grace and not row.fleet:
        return Outcome.GRACE
    if product.renewal.auto_renew_rider is not None:
        return Outcome.AUTO_RENEW
    return Outcome.EXPIRE


async def expire_range(conn: Executor, at: datetime, now: datetime, from_id: int, to_id: int | None) -> ExpiryResult:
    """Process the terms ending at `at` of contracts with ids in [from_id, to_id] (one transaction)."""
    at, now = as_jst(at), as_jst(now)
    locked = [int(r[0]) for r in await conn.fetch(_LOCK, at, from_id, to_id)]
    out = ExpiryResult()
    if not locked:
        return out
    rows = [_Row(r["term_id"], r["contract_id"], r["product_id"], frozenset(r["statuses"]), r["renewed_in_grace"],
                 r["renewed"], r["fleet"]) for r in await conn.fetch(_CLASSIFY, at, locked)]
    catalog = default_catalog()
    groups: dict[tuple[Outcome, str], list[_Row]] = {}
    for row in rows:
        product = catalog.get(row.product_id)
        outcome = classify(row, product)
        groups.setdefault((outcome, row.product_id), []).append(row)
        out.counts[outcome] += 1
    for (outcome, product_id), members in groups.items():
        if outcome is Outcome.RENEWED:
            await _roll_over(conn, at, members)
        elif outcome is Outcome.GRACE:
            product = catalog.get(product_id)
            assert product is not None
            await _open_grace(conn, at, now, product, members)
        elif outcome is Outcome.AUTO_RENEW:
            await _schedule_auto_renew(conn, at, members)
        elif outcome is Outcome.EXPIRE:
            await expire_terms(conn, now, [m.term_id for m in members], reason="EXPIRED")
    return out


async def _roll_over(conn: Executor, at: datetime, members: Sequence[_Row]) -> None:
    await conn.execute(
        """WITH old AS (UPDATE terms SET status = 'EXPIRED' WHERE id = any($1::bigint[]) RETURNING contract_id)
           UPDATE terms n SET status = 'IN_FORCE' FROM old
           WHERE n.contract_id = old.contract_id AND n.starts_at = $2 AND n.status = 'SCHEDULED'""",
        [m.term_id for m in members], at,
    )


# Statuses as a sorted set, like contract_repo.set_statuses stores them.
def _statuses_sql(add: Sequence[str], remove: Sequence[str]) -> str:
    adds = ", ".join(f"'{s}'" for s in add)
    removes = ", ".join(f"'{s}'" for s in remove)
    return (f"ARRAY(SELECT DISTINCT s FROM unnest(c.statuses || ARRAY[{adds}]::text[]) AS s "
            f"WHERE s NOT IN ({removes}) ORDER BY s)")


async def expire_terms(conn: Executor, now: datetime, term_ids: Sequence[int], *, reason: str) -> int:
    """Terms EXPIRED, their contracts EXPIRED instead of IN_FORCE, one CONTRACT_EXPIRED event each.

    Only terms still IN_FORCE / SCHEDULED move (so a rerun does nothing). The caller holds the
    contracts' locks. Answers how many contracts expired.
    """
    return int(await conn.fetchval(
        f"""WITH t AS (
                UPDATE terms SET status = 'EXPIRED'
                WHERE id = any($1::bigint[]) AND status IN ('IN_FORCE', 'SCHEDULED')
                RETURNING id, contract_id, term_no, ends_at
            ), c AS (
                UPDATE contracts c
                SET statuses = {_statuses_sql(['EXPIRED'], ['IN_FORCE'])},
                    lock_version = c.lock_version + 1, event_seq = c.event_seq + 1
                FROM t WHERE c.id = t.contract_id
                RETURNING c.id, c.event_seq, c.policy_number, t.term_no, t.ends_at
            ), e AS (
                INSERT INTO events (contract_id, seq, kind, payload, at)
                SELECT c.id, c.event_seq, '{ExpiryEvent.CONTRACT_EXPIRED}',
                       jsonb_build_object('policyNumber', c.policy_number, 'termNo', c.term_no,
                                          'expiredAt', c.ends_at, 'reason', $3::text), $2
                FROM c RETURNING 1
            )
            SELECT count(*) FROM e""",
        list(term_ids), now, reason,
    ))


async def _open_grace(conn: Executor, at: datetime, now: datetime, product: Product, members: Sequence[_Row]) -> None:
    w = open_renewal_grace(at, product, previous_was_grace=False)
    actions = due_actions(w)
    expiry_on = at.astimezone(JST).date()
    left = days_left(w, expiry_on)
    # The window's timers, as window_timers.schedule_window_timers stores them; the day-0 reminder
    # is DONE (its effect is the RENEWAL_REMINDER event written by this statement).
    kinds = [window_timer_kind(a.action) for a in actions]
    keys = [a.key for a in actions]
    dues = [a.due_at for a in actions]
    notes = [a.note for a in actions]
    done = [a.key == GRACE_DAY0_KEY for a in actions]
    await conn.execute(
        f"""WITH t AS (
                UPDATE terms SET status = 'EXPIRED'
                WHERE id = any($1::bigint[]) AND status IN ('IN_FORCE', 'SCHEDULED')
                RETURNING id, contract_id
            ), w AS (
                INSERT INTO windows (contract_id, term_id, kind, state, product_id, opens_at, event_on,
                                     full_until, downgrade_until, gap_end, liability_codes, source,
                                     details, created_at, updated_at)
                SELECT t.contract_id, t.id, 'RENEWAL_GRACE', 'OPEN', $2, $3, $4, $5, NULL, $6, '{{}}', $7,
                       '{{}}'::jsonb, $8, $8
                FROM t
                ON CONFLICT (term_id) WHERE kind = 'RENEWAL_GRACE' DO NOTHING
                RETURNING id, contract_id
            ), c AS (
                UPDATE contracts c
                SET statuses = {_statuses_sql(['EXPIRED', 'IN_RENEWAL_GRACE'], ['IN_FORCE'])},
                    lock_version = c.lock_version + 1, event_seq = c.event_seq + 2
                FROM w WHERE c.id = w.contract_id
                RETURNING c.id, c.event_seq - 2 AS base, c.policy_number, w.id AS window_id
            ), e AS (
                INSERT INTO events (contract_id, seq, kind, payload, at)
                SELECT c.id, c.base + 1, '{ExpiryEvent.RENEWAL_GRACE_OPENED}',
                       jsonb_build_object('policyNumber', c.policy_number, 'windowId', c.window_id,
                                          'expiredAt', $3::timestamptz, 'fullUntil', $5::date), $8
                FROM c
                UNION ALL
                SELECT c.id, c.base + 2, '{ExpiryEvent.RENEWAL_REMINDER}',
                       jsonb_build_object('policyNumber', c.policy_number, 'windowId', c.window_id, 'day', 0,
                                          'daysLeft', $9::int, 'fullUntil', $5::date), $8
                FROM c
            )
            INSERT INTO timers (kind, subject, due_at, idempotency_key, payload, state, done_at)
            SELECT a.kind, 'window:' || w.id, a.due_at, 'window:' || w.id || ':' || a.key,
                   jsonb_build_object('windowId', w.id, 'note', a.note),
                   CASE WHEN a.done THEN 'DONE' ELSE 'PENDING' END, CASE WHEN a.done THEN $8 END
            FROM w CROSS JOIN unnest($10::text[], $11::text[], $12::timestamptz[], $13::text[], $14::bool[])
                 AS a(kind, key, due_at, note, done)
            ON CONFLICT (idempotency_key) DO NOTHING""",
        [m.term_id for m in members], product.id, w.opens_at, w.event_on, w.full_until, w.gap_end, w.source,
        now, left, kinds, keys, dues, notes, done,
    )


async def _schedule_auto_renew(conn: Executor, at: datetime, members: Sequence[_Row]) -> None:
    await conn.execute(
        """INSERT INTO timers (kind, subject, due_at, idempotency_key, payload)
           SELECT $1, 'contract:' || m.cid, $2, 'contract:' || m.cid || ':auto_renew:term:' || m.tid,
                  jsonb_build_object('contractId', m.cid, 'termId', m.tid)
           FROM unnest($3::bigint[], $4::bigint[]) AS m(cid, tid)
           ON CONFLICT (idempotency_key) DO NOTHING""",
        AUTO_RENEW_KIND, at, [m.contract_id for m in members], [m.term_id for m in members],
    )
