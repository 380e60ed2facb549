"""Renewal offers, the documents of offers written before offers kept their source, and the
recalculation runs (migrations 0006, 0026).

Everything here works on lists (one statement for a page of contracts), so the nightly batch and
the single-contract recalculation share the same SQL. JSON goes over the wire as text and is cast
in SQL, so any connection works whatever codecs it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from domain.store.uow import Executor
from domain.vocab import LicenceColour


class OfferState:
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    SUPERSEDED = "SUPERSEDED"


OFFER_EVENT = "RENEWAL_OFFERED"

# Contracts with one of these statuses get no offer (they will not renew, or cannot).
_NO_OFFER = ["CANCELLED", "RESCINDED", "LAPSED", "DO_NOT_RENEW", "CANCEL_PENDING", "EXPIRED"]


@dataclass(frozen=True, slots=True)
class LiveOffer:
    id: int
    contract_id: int
    term_id: int
    fingerprint: str
    premium_yen: int
    state: str


@dataclass(frozen=True, slots=True)
class OfferSubject:
    """A contract's latest term with the version in force at its end: what an offer is computed from.

    `input_hash` is md5 of the stored rating input's canonical jsonb text, kept by PostgreSQL
    (contract_versions.rating_input_md5, migration 0028), so a page of contracts is fingerprinted
    without sending their inputs to Python.
    """

    contract_id: int
    policy_number: str
    product_id: str
    term_id: int
    term_starts_at: datetime
    term_ends_at: datetime
    version_id: int
    input_hash: str
    licence_colour: LicenceColour | None   # the named insured's licence now (None: none registered)
    premium_yen: int                       # the version's premium: the current term's, as sold
    # the version's stored rating input (JSON text), read with the page when the term had no live
    # offer, so the offer is to be computed (else it is read only if the fingerprint moved)
    rating_input: str | None = None


def _subject_sql(*, page: bool) -> str:
    # page: $1 after id, $2 upto id, $3 products, $4 their offer days, $5 as-of date, $6 limit,
    # $7 statuses without offers. one: $1 contract id, $2 statuses without offers.
    window = "JOIN unnest($3::text[], $4::int[]) w(product_id, days) ON w.product_id = c.product_id" if page else ""
    where = "c.id > $1 AND c.id <= $2" if page else "c.id = $1"
    no_offer = "$7" if page else "$2"
    due = ("""
      AND (t.ends_at AT TIME ZONE 'Asia/Tokyo')::date > $5::date
      AND (t.ends_at AT TIME ZONE 'Asia/Tokyo')::date - w.days <= $5::date""" if page else "")
    tail = "ORDER BY c.id LIMIT $6 FOR UPDATE OF c" if page else "FOR UPDATE OF c"
    return f"""
    SELECT c.id AS contract_id, c.policy_number, c.product_id, t.id AS term_id, t.starts_at, t.ends_at,
           v.id AS version_id, v.rating_input_md5 AS input_hash, p.licence_colour, v.premium_yen,
           CASE WHEN o.id IS NULL THEN v.rating_input::text END AS rating_input
    FROM contracts c
    {window}
    CROSS JOIN LATERAL (SELECT id, starts_at, ends_at, status FROM terms
                        WHERE contract_id = c.id ORDER BY term_no DESC LIMIT 1) t
    CROSS JOIN LATERAL (SELECT id, rating_input_md5, rating_input, named_insured_id, valid, premium_yen
                        FROM contract_versions
                        WHERE contract_id = c.id AND superseded_at IS NULL AND lower(valid) < t.ends_at
                        ORDER BY lower(valid) DESC LIMIT 1) v
    JOIN parties p ON p.id = v.named_insured_id
    LEFT JOIN renewal_offers o ON o.term_id = t.id AND o.state IN ('OFFERED', 'ACCEPTED')
    WHERE {where}
      AND NOT (c.statuses && {no_offer}::text[])
      AND t.status IN ('IN_FORCE', 'SCHEDULED')
      AND (upper(v.valid) IS NULL OR upper(v.valid) >= t.ends_at){due}
    {tail}"""


_PAGE_SQL = _subject_sql(page=True)
_ONE_SQL = _subject_sql(page=False)


def _subject(r: Mapping[str, Any]) -> OfferSubject:
    colour = r["licence_colour"]
    return OfferSubject(r["contract_id"], r["policy_number"], r["product_id"], r["term_id"], r["starts_at"],
                        r["ends_at"], r["version_id"], r["input_hash"],
                        LicenceColour(colour) if colour else None, r["premium_yen"], r["rating_input"])


async def due_subjects(conn: Executor, *, after_id: int, upto_id: int, as_of: date,
                       offer_days: Mapping[str, int], limit: int) -> list[OfferSubject]:
    """The next page (by contract id, after `after_id`, at most `upto_id`) of contracts whose offer
    is due on `as_of`: the latest term ends after `as_of` and within its product's offer window,
    still covered to its end. The contract rows are locked until the transaction ends, so what is
    read here is what the page writes against."""
    products = sorted(offer_days)
    # A prepared statement turns generic after five runs, and the generic plan of this keyset page
    # (no LIMIT or id bounds known) scans far more than one page; JIT costs more than the page.
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off")
    rows = await conn.fetch(_PAGE_SQL, after_id, upto_id, products, [offer_days[p] for p in products], as_of,
                            limit, _NO_OFFER)
    return [_subject(r) for r in rows]


async def subject_of(conn: Executor, contract_id: int) -> OfferSubject | None:
    """The contract's latest term as an offer subject, whatever the date (locks the contract)."""
    row = await conn.fetchrow(_ONE_SQL, contract_id, _NO_OFFER)
    return _subject(row) if row else None


async def rating_inputs(conn: Executor, version_ids: Sequence[int]) -> dict[int, str | None]:
    """The versions' stored rating inputs as JSON text (None: a version without one)."""
    rows = await conn.fetch(
        "SELECT id, rating_input::text AS q FROM contract_versions WHERE id = any($1::bigint[])", list(version_ids))
    return {r["id"]: r["q"] for r in rows}


# --- offers -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredOffer:
    id: int
    contract_id: int
    term_id: int
    next_start: date
    fingerprint: str
    premium_yen: int
    current_premium_yen: int
    state: str
    reason: str
    computed_at: datetime
    tariff_version: str | None  # of the next start (None: written before offers kept it)
    source_input: str | None    # the rating input it was computed from (its source version's), as text
    source_facts: str | None    # offers.OfferFacts as text
    legacy_doc: str | None      # the document of an offer written before offers kept their source


async def live_offers(conn: Executor, term_ids: Sequence[int]) -> dict[int, LiveOffer]:
    rows = await conn.fetch(
        """SELECT id, contract_id, term_id, fingerprint, premium_yen, state FROM renewal_offers
           WHERE term_id = any($1::bigint[]) AND state IN ('OFFERED', 'ACCEPTED')""", list(term_ids))
    return {r["term_id"]: LiveOffer(r["id"], r["contract_id"], r["term_id"], r["fingerprint"], r["premium_yen"],
                                    r["state"]) for r in rows}


_STORED = """SELECT o.id, o.contract_id, o.term_id, o.next_start, o.fingerprint, o.premium_yen,
                    o.current_premium_yen, o.state, o.reason, o.computed_at, o.tariff_version,
                    v.rating_input::text AS source_input,
                    o.source_facts, d.offer AS legacy_doc
             FROM renewal_offers o
             LEFT JOIN contract_versions v ON v.id = o.source_version_id
             LEFT JOIN renewal_offer_docs d ON o.source_version_id IS NULL AND d.fingerprint = o.fingerprint"""


def _stored(r: Mapping[str, Any]) -> StoredOffer:
    return StoredOffer(r["id"], r["contract_id"], r["term_id"], r["next_start"], r["fingerprint"], r["premium_yen"],
                       r["current_premium_yen"], r["state"], r["reason"], r["computed_at"], r["tariff_version"],
                       r["source_input"],
                       r["source_facts"], r["legacy_doc"])


async def current_offers(conn: Executor, contract_ids: Sequence[int]) -> dict[int, StoredOffer]:
    """The live offer of each contract's latest term (OFFERED, or ACCEPTED until the next term's own)."""
    rows = await conn.fetch(
        f"""{_STORED}
            WHERE o.contract_id = any($1::bigint[]) AND o.state = 'OFFERED'
              AND o.term_id = (SELECT max(id) FROM terms t WHERE t.contract_id = o.contract_id)""",
        list(contract_ids))
    return {r["contract_id"]: _stored(r) for r in rows}


async def offer_by_id(conn: Executor, offer_id: int) -> StoredOffer | None:
    row = await conn.fetchrow(f"{_STORED} WHERE o.id = $1", offer_id)
    return _stored(row) if row else None


@dataclass(frozen=True, slots=True)
class NewOffer:
    contract_id: int
    term_id: int
    next_start: date
    fingerprint: str
    premium_yen: int
    current_premium_yen: int
    tariff_version: str         # in force on the next start
    source_version_id: int      # the version whose rating input it was computed from
    source_facts: str           # offers.OfferFacts as text


async def supersede(conn: Executor, offer_ids: Sequence[int], at: datetime) -> None:
    if offer_ids:
        await conn.execute(
            """UPDATE renewal_offers SET state = 'SUPERSEDED', superseded_at = $2
               WHERE id = any($1::bigint[]) AND state = 'OFFERED'""", list(offer_ids), at)


async def insert_offers(conn: Executor, offers: Sequence[NewOffer], *, reason: str, run_id: int | None,
                        at: datetime) -> list[int]:
    if not offers:
        return []
    rows = await conn.fetch(
        """INSERT INTO renewal_offers (contract_id, term_id, next_start, fingerprint, premium_yen,
                                       current_premium_yen, tariff_version, source_version_id, source_facts, state,
                                       reason, run_id, computed_at)
           SELECT c, t, n, f, y, p, tv, v, s, 'OFFERED', $10, $11, $12
           FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
                       $8::bigint[], $9::text[])
                WITH ORDINALITY x(c, t, n, f, y, p, tv, v, s, ord)
           ORDER BY ord
           RETURNING id""",
        [o.contract_id for o in offers], [o.term_id for o in offers], [o.next_start for o in offers],
        [o.fingerprint for o in offers], [o.premium_yen for o in offers], [o.current_premium_yen for o in offers],
        [o.tariff_version for o in offers], [o.source_version_id for o in offers], [o.source_facts for o in offers],
        reason, run_id, at)
    return [r["id"] for r in rows]


async def accept(conn: Executor, offer_id: int, at: datetime) -> None:
    await conn.execute(
        "UPDATE renewal_offers SET state = 'ACCEPTED', accepted_at = $2 WHERE id = $1 AND state = 'OFFERED'",
        offer_id, at)


async def append_offer_events(conn: Executor, items: Sequence[tuple[int, Mapping[str, Any]]], at: datetime) -> None:
    """One RENEWAL_OFFERED event per (contract id, payload), numbered from each contract's event_seq
    in one statement (the caller holds the contracts' row locks; one item per contract)."""
    if not items:
        return
    await conn.execute(
        """WITH x AS (SELECT * FROM unnest($1::bigint[], $2::text[]) x(cid, payload)),
                s AS (UPDATE contracts c SET event_seq = c.event_seq + 1 FROM x WHERE c.id = x.cid
                      RETURNING c.id, c.event_seq)
           INSERT INTO events (contract_id, seq, kind, payload, at)
           SELECT s.id, s.event_seq, $3, x.payload::jsonb, $4 FROM s JOIN x ON x.cid = s.id""",
        [cid for cid, _ in items], [orjson.dumps(p).decode() for _, p in items],
        OFFER_EVENT, at)


# --- runs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunPart:
    run_id: int
    part_no: int
    lo: int
    hi: int
    cursor: int
    done: bool
    scanned: int
    offered: int
    changed: int
    unchanged: int
    failed: int


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    as_of: date
    source: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    parts: tuple[RunPart, ...]

    @property
    def total(self) -> dict[str, int]:
        keys = ("scanned", "offered", "changed", "unchanged", "failed")
        return {k: sum(getattr(p, k) for p in self.parts) for k in keys}


_PART_COLS = "run_id, part_no, lo, hi, cursor, done, scanned, offered, changed, unchanged, failed"


async def create_run(conn: Executor, *, as_of: date, source: str, parts: int, at: datetime) -> Run | None:
    """A run over the contracts that exist now, split into `parts` id ranges. A second NIGHTLY run
    for the same date answers None (the unique index keeps one)."""
    run_id = await conn.fetchval(
        """INSERT INTO recalc_runs (as_of, source, state, started_at) VALUES ($1, $2, 'RUNNING', $3)
           ON CONFLICT (as_of) WHERE source = 'NIGHTLY' DO NOTHING RETURNING id""", as_of, source, at)
    if run_id is None:
        return None
    lo, hi = await conn.fetchrow("SELECT coalesce(min(id), 1) - 1, coalesce(max(id), 0) FROM contracts")
    n = max(1, parts)
    bounds = [lo + (hi - lo) * k // n for k in range(n + 1)]
    await conn.execute(
        f"""INSERT INTO recalc_run_parts ({_PART_COLS}, updated_at)
            SELECT $1, k - 1, a, b, a, false, 0, 0, 0, 0, 0, $4
            FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY x(a, b, k)""",
        run_id, bounds[:-1], bounds[1:], at)
    run = await get_run(conn, run_id)
    assert run is not None
    return run


async def get_run(conn: Executor, run_id: int) -> Run | None:
    r = await conn.fetchrow("SELECT id, as_of, source, state, started_at, finished_at FROM recalc_runs WHERE id = $1",
                            run_id)
    if r is None:
        return None
    parts = await conn.fetch(f"SELECT {_PART_COLS} FROM recalc_run_parts WHERE run_id = $1 ORDER BY part_no", run_id)
    return Run(r["id"], r["as_of"], r["source"], r["state"], r["started_at"], r["finished_at"],
               tuple(RunPart(*p) for p in parts))


async def latest_unfinished_run(conn: Executor, *, as_of: date | None) -> Run | None:
    run_id = await conn.fetchval(
        """SELECT id FROM recalc_runs WHERE state = 'RUNNING' AND ($1::date IS NULL OR as_of = $1)
           ORDER BY id DESC LIMIT 1""", as_of)
    return None if run_id is None else await get_run(conn, run_id)


async def lock_part(conn: Executor, run_id: int, part_no: int) -> RunPart | None:
    r = await conn.fetchrow(
        f"SELECT {_PART_COLS} FROM recalc_run_parts WHERE run_id = $1 AND part_no = $2 FOR UPDATE", run_id, part_no)
    return RunPart(*r) if r else None


async def advance_part(conn: Executor, part: RunPart, *, cursor: int, done: bool, counts: Mapping[str, int],
                       at: datetime) -> None:
    await conn.execute(
        """UPDATE recalc_run_parts SET cursor = $3, done = $4, scanned = scanned + $5, offered = offered + $6,
                  changed = changed + $7, unchanged = unchanged + $8, failed = failed + $9, updated_at = $10
           WHERE run_id = $1 AND part_no = $2""",
        part.run_id, part.part_no, cursor, done, counts.get("scanned", 0), counts.get("offered", 0),
        counts.get("changed", 0), counts.get("unchanged", 0), counts.get("failed", 0), at)
    if done:
        # Parts finishing at the same time must not each see the other unfinished: the run row's
        # lock orders them, and the check below is a new statement, so under READ COMMITTED it
        # sees the part that committed while this one waited.
        await conn.execute("SELECT 1 FROM recalc_runs WHERE id = $1 FOR UPDATE", part.run_id)
        await conn.execute(
            """UPDATE recalc_runs SET state = 'DONE', finished_at = $2
               WHERE id = $1 AND state = 'RUNNING'
                 AND NOT EXISTS (SELECT 1 FROM recalc_run_parts WHERE run_id = $1 AND NOT done)""",
            part.run_id, at)
