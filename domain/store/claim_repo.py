"""Rows of `claims`, `claim_lines`, `claim_payments` and `claim_events` (migrations/0008_claims.sql).

The claim row is the lock of a claim: use cases read it `FOR UPDATE` first, so two handlers paying
one claim queue up and each sees the other's payment before checking a limit. Event numbers come
from `claims.event_seq`, raised by the statement that hands them out (no gaps, as the outbox).
Line terms are stored as JSON of `domain.claims.lines.LineTerms` (`terms_to_json`/`terms_from_json`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from domain.claims.lines import ClaimLine, Limit, LimitBasis, LineTerms, Payment
from domain.claims.rider_payout import Assessment, assessment_from_json, assessment_to_json
from domain.claims.workflow import ClaimStatus, CoverageState
from domain.runtime.clock import as_jst
from domain.store.uow import Executor
from domain.vocab import AccidentClass

Json = Any


@dataclass(frozen=True, slots=True)
class NewClaim:
    contract_id: int
    term_id: int | None
    version_id: int | None
    accident_at: datetime
    place: str
    vehicle_id: int
    driver_party_id: int | None
    driver_relationship: str | None
    description: str
    other_parties: Json
    police_report_no: str | None
    injuries: Json
    claimed_coverages: tuple[str, ...]
    claim_types: tuple[str, ...]
    vehicle_cause: str | None
    amount_claimed_yen: int
    reported_by: str
    reported_role: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The stored coverage decision of a claim."""

    state: CoverageState
    reasons: Json                      # [{code, ok, ja, en, ruleRef}]
    applicable: tuple[str, ...]
    liability_only: bool
    waiting_for: tuple[str, ...]
    window_ids: tuple[int, ...]
    version_id: int | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class StoredClaim:
    id: int
    claim_number: str
    contract_id: int
    term_id: int | None
    accident_at: datetime
    place: str
    vehicle_id: int
    driver_party_id: int | None
    driver_relationship: str | None
    description: str
    other_parties: Json
    police_report_no: str | None
    injuries: Json
    claimed_coverages: tuple[str, ...]
    claim_types: tuple[str, ...]
    status: ClaimStatus
    decision: Decision
    vehicle_cause: str | None
    no_fault: str
    grade_class: AccidentClass | None
    grade_reason: str | None
    grade_overridden: bool
    override_class: AccidentClass | None
    override_reason: str | None
    withdrawn_at: datetime | None
    repayment_due_yen: int
    documents_received: tuple[str, ...]
    amount_claimed_yen: int
    kyosai_benefits: Json
    staff_notes: str | None
    reported_by: str
    reported_role: str
    event_count: int
    created_at: datetime
    updated_at: datetime

    @property
    def coverage(self) -> CoverageState:
        return self.decision.state


@dataclass(frozen=True, slots=True)
class StoredLine:
    id: int
    claim_id: int
    coverage: str
    terms: LineTerms
    reserve_yen: int
    payments: tuple[StoredPayment, ...] = ()

    @property
    def paid_yen(self) -> int:
        return sum(p.amount_yen for p in self.payments)

    def as_line(self) -> ClaimLine:
        """The pure line (domain.claims.lines) this row holds, with its payments."""
        return ClaimLine(self.terms, self.reserve_yen,
                         tuple(Payment(p.amount_yen, p.paid_on, p.person, p.vehicle, p.note) for p in self.payments))


@dataclass(frozen=True, slots=True)
class StoredPayment:
    id: int
    claim_id: int
    line_id: int
    amount_yen: int
    paid_on: date
    person: str | None
    vehicle: str | None
    note: str
    actor_subject: str
    recorded_at: datetime
    assessment: Assessment | None = None    # a payment computed by a pay-out rule: its explanation


@dataclass(frozen=True, slots=True)
class ClaimEvent:
    id: int
    claim_id: int
    seq: int
    kind: str
    from_status: str | None
    to_status: str | None
    actor_subject: str
    actor_role: str
    reason: str | None
    payload: Json
    internal: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    kind: str
    actor_subject: str
    actor_role: str
    from_status: str | None = None
    to_status: str | None = None
    reason: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    internal: bool = False     # staff-only (reserves, notes): hidden from policyholders


# --- line terms as JSON --------------------------------------------------------------------------


def terms_to_json(t: LineTerms) -> Json:
    return {"coverage": t.coverage, "deductible": t.deductible,
            "totalLossWaivesDeductible": t.total_loss_waives_deductible,
            "limits": [{"basis": lim.basis.value, "amount": lim.amount, "source": lim.source} for lim in t.limits]}


def terms_from_json(j: Mapping[str, Any]) -> LineTerms:
    return LineTerms(
        j["coverage"],
        tuple(Limit(LimitBasis(x["basis"]), x["amount"], x["source"]) for x in j["limits"]),
        int(j["deductible"]),
        bool(j["totalLossWaivesDeductible"]),
    )


# --- claims --------------------------------------------------------------------------------------

_COLS = """id, claim_number, contract_id, term_id, version_id, accident_at, place, vehicle_id, driver_party_id,
    driver_relationship, description, other_parties, police_report_no, injuries, claimed_coverages, claim_types,
    status, coverage_state, coverage_reasons, applicable, liability_only, waiting_for, window_ids, decided_at,
    vehicle_cause, no_fault, grade_class, grade_reason, grade_overridden, override_class, override_reason,
    withdrawn_at, repayment_due_yen, documents_received, amount_claimed_yen, kyosai_benefits, staff_notes,
    reported_by, reported_role, event_seq, created_at, updated_at"""


def _cls(v: str | None) -> AccidentClass | None:
    return None if v is None else AccidentClass(v)


def claim_from_row(r: Mapping[str, Any]) -> StoredClaim:
    return StoredClaim(
        id=r["id"], claim_number=r["claim_number"], contract_id=r["contract_id"], term_id=r["term_id"],
        accident_at=as_jst(r["accident_at"]), place=r["place"], vehicle_id=r["vehicle_id"],
        driver_party_id=r["driver_party_id"], driver_relationship=r["driver_relationship"],
        description=r["description"], other_parties=r["other_parties"], police_report_no=r["police_report_no"],
        injuries=r["injuries"], claimed_coverages=tuple(r["claimed_coverages"]),
        claim_types=tuple(r["claim_types"]), status=ClaimStatus(r["status"]),
        decision=Decision(
            CoverageState(r["coverage_state"]), r["coverage_reasons"], tuple(r["applicable"]),
            r["liability_only"], tuple(r["waiting_for"]), tuple(r["window_ids"]), r["version_id"],
            as_jst(r["decided_at"])),
        vehicle_cause=r["vehicle_cause"], no_fault=r["no_fault"], grade_class=_cls(r["grade_class"]),
        grade_reason=r["grade_reason"], grade_overridden=r["grade_overridden"],
        override_class=_cls(r["override_class"]), override_reason=r["override_reason"],
        withdrawn_at=as_jst(r["withdrawn_at"]) if r["withdrawn_at"] else None,
        repayment_due_yen=r["repayment_due_yen"], documents_received=tuple(r["documents_received"]),
        amount_claimed_yen=r["amount_claimed_yen"], kyosai_benefits=r["kyosai_benefits"],
        staff_notes=r["staff_notes"], reported_by=r["reported_by"], reported_role=r["reported_role"],
        event_count=r["event_seq"], created_at=as_jst(r["created_at"]), updated_at=as_jst(r["updated_at"]),
    )


async def insert_claim(conn: Executor, c: NewClaim, d: Decision, *, now: datetime) -> StoredClaim:
    r = await conn.fetchrow(
        f"""INSERT INTO claims (claim_number, contract_id, term_id, version_id, accident_at, place, vehicle_id,
                driver_party_id, driver_relationship, description, other_parties, police_report_no, injuries,
                claimed_coverages, claim_types, status, coverage_state, coverage_reasons, applicable,
                liability_only, waiting_for, window_ids, decided_at, vehicle_cause, amount_claimed_yen,
                reported_by, reported_role, created_at, updated_at)
            VALUES ('CL-' || to_char($23::timestamptz, 'YYYYMMDD') || '-' || lpad(nextval('claim_number_seq')::text, 6, '0'),
                    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'REPORTED', $15, $16, $17, $18,
                    $19, $20, $23, $21, $22, $24, $25, $23, $23)
            RETURNING {_COLS}""",
        c.contract_id, c.term_id, d.version_id, c.accident_at, c.place, c.vehicle_id, c.driver_party_id,
        c.driver_relationship, c.description, c.other_parties, c.police_report_no, c.injuries,
        list(c.claimed_coverages), list(c.claim_types), d.state.value, d.reasons, list(d.applicable),
        d.liability_only, list(d.waiting_for), list(d.window_ids), c.vehicle_cause, c.amount_claimed_yen,
        as_jst(now), c.reported_by, c.reported_role,
    )
    return claim_from_row(r)


async def get_claim(conn: Executor, claim_id: int, *, for_update: bool = False) -> StoredClaim | None:
    lock = " FOR UPDATE" if for_update else ""
    r = await conn.fetchrow(f"SELECT {_COLS} FROM claims WHERE id = $1{lock}", claim_id)
    return claim_from_row(r) if r else None


async def claims_by_id(conn: Executor, claim_ids: Sequence[int]) -> dict[int, StoredClaim]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM claims WHERE id = any($1::bigint[])", list(claim_ids))
    return {r["id"]: claim_from_row(r) for r in rows}


async def claims_of_contracts(conn: Executor, contract_ids: Sequence[int]) -> dict[int, list[StoredClaim]]:
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM claims WHERE contract_id = any($1::bigint[]) ORDER BY contract_id, id",
        list(contract_ids))
    out: dict[int, list[StoredClaim]] = {int(c): [] for c in contract_ids}
    for r in rows:
        out[r["contract_id"]].append(claim_from_row(r))
    return out


async def claims_of_term(conn: Executor, term_id: int) -> list[StoredClaim]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM claims WHERE term_id = $1 ORDER BY accident_at, id", term_id)
    return [claim_from_row(r) for r in rows]


async def claims_of_terms(conn: Executor, term_ids: Sequence[int]) -> dict[int, list[StoredClaim]]:
    """`claims_of_term` for a page of terms in one statement (the nightly recalculation)."""
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM claims WHERE term_id = any($1::bigint[]) ORDER BY term_id, accident_at, id",
        list(term_ids))
    out: dict[int, list[StoredClaim]] = {}
    for r in rows:
        out.setdefault(r["term_id"], []).append(claim_from_row(r))
    return out


async def pending_claims_of_window(conn: Executor, window_id: int) -> list[StoredClaim]:
    """Claims a window holds COVERAGE_PENDING, locked for the caller's transaction, in id order."""
    rows = await conn.fetch(
        f"""SELECT {_COLS} FROM claims
            WHERE coverage_state = 'COVERAGE_PENDING' AND window_ids @> ARRAY[$1]::bigint[]
            ORDER BY id FOR UPDATE""",
        window_id)
    return [claim_from_row(r) for r in rows]


async def pending_claims_waiting_for(conn: Executor, contract_id: int, codes: Sequence[str]) -> list[StoredClaim]:
    """The contract's COVERAGE_PENDING claims that wait for any of `codes`, locked, in id order."""
    rows = await conn.fetch(
        f"""SELECT {_COLS} FROM claims
            WHERE contract_id = $1 AND coverage_state = 'COVERAGE_PENDING' AND waiting_for && $2::text[]
            ORDER BY id FOR UPDATE""",
        contract_id, list(codes))
    return [claim_from_row(r) for r in rows]


async def save_decision(conn: Executor, claim_id: int, d: Decision, term_id: int | None) -> None:
    await conn.execute(
        """UPDATE claims SET coverage_state = $2, coverage_reasons = $3, applicable = $4, liability_only = $5,
                             waiting_for = $6, window_ids = $7, version_id = $8, decided_at = $9, updated_at = $9,
                             term_id = $10
           WHERE id = $1""",
        claim_id, d.state.value, d.reasons, list(d.applicable), d.liability_only, list(d.waiting_for),
        list(d.window_ids), d.version_id, as_jst(d.decided_at), term_id)


async def save_status(conn: Executor, claim_id: int, status: ClaimStatus, *, now: datetime,
                      withdrawn_at: datetime | None = None, repayment_due_yen: int | None = None) -> None:
    await conn.execute(
        """UPDATE claims SET status = $2, updated_at = $3,
                             withdrawn_at = CASE WHEN $2 = 'WITHDRAWN' THEN coalesce(withdrawn_at, $4) END,
                             repayment_due_yen = coalesce($5, repayment_due_yen)
           WHERE id = $1""",
        claim_id, status.value, as_jst(now), withdrawn_at, repayment_due_yen)


@dataclass(frozen=True, slots=True)
class GradeFields:
    grade_class: AccidentClass | None
    grade_reason: str
    grade_overridden: bool
    override_class: AccidentClass | None
    override_reason: str | None
    vehicle_cause: str | None
    no_fault: str


async def save_grade(conn: Executor, claim_id: int, g: GradeFields, *, now: datetime) -> None:
    await conn.execute(
        """UPDATE claims SET grade_class = $2, grade_reason = $3, grade_overridden = $4, override_class = $5,
                             override_reason = $6, vehicle_cause = $7, no_fault = $8, updated_at = $9
           WHERE id = $1""",
        claim_id, g.grade_class.value if g.grade_class else None, g.grade_reason, g.grade_overridden,
        g.override_class.value if g.override_class else None, g.override_reason, g.vehicle_cause, g.no_fault,
        as_jst(now))


async def save_documents(conn: Executor, claim_id: int, received: Iterable[str], *, now: datetime) -> None:
    await conn.execute("UPDATE claims SET documents_received = $2, updated_at = $3 WHERE id = $1",
                       claim_id, sorted(set(received)), as_jst(now))


async def save_kyosai(conn: Executor, claim_id: int, benefits: Json, *, now: datetime) -> None:
    await conn.execute("UPDATE claims SET kyosai_benefits = $2, updated_at = $3 WHERE id = $1",
                       claim_id, benefits, as_jst(now))


async def save_notes(conn: Executor, claim_id: int, notes: str | None, *, now: datetime) -> None:
    await conn.execute("UPDATE claims SET staff_notes = $2, updated_at = $3 WHERE id = $1",
                       claim_id, notes, as_jst(now))


# --- lines and payments --------------------------------------------------------------------------

_LINE_COLS = "id, claim_id, coverage, terms, reserve_yen"
_PAY_COLS = "id, claim_id, line_id, amount_yen, paid_on, person, vehicle, note, actor_subject, recorded_at, assessment"


def _payment(r: Mapping[str, Any]) -> StoredPayment:
    return StoredPayment(r["id"], r["claim_id"], r["line_id"], r["amount_yen"], r["paid_on"], r["person"],
                         r["vehicle"], r["note"], r["actor_subject"], as_jst(r["recorded_at"]),
                         None if r["assessment"] is None else assessment_from_json(r["assessment"]))


async def lines_of(conn: Executor, claim_ids: Sequence[int]) -> dict[int, list[StoredLine]]:
    """Lines with their payments per claim: two statements for any number of claims."""
    ids = list(claim_ids)
    lines = await conn.fetch(
        f"SELECT {_LINE_COLS} FROM claim_lines WHERE claim_id = any($1::bigint[]) ORDER BY claim_id, id", ids)
    pays = await conn.fetch(
        f"SELECT {_PAY_COLS} FROM claim_payments WHERE claim_id = any($1::bigint[]) ORDER BY id", ids)
    by_line: dict[int, list[StoredPayment]] = {}
    for p in pays:
        by_line.setdefault(p["line_id"], []).append(_payment(p))
    out: dict[int, list[StoredLine]] = {int(c): [] for c in ids}
    for r in lines:
        out[r["claim_id"]].append(StoredLine(r["id"], r["claim_id"], r["coverage"], terms_from_json(r["terms"]),
                                             r["reserve_yen"], tuple(by_line.get(r["id"], ()))))
    return out


async def open_line(conn: Executor, claim_id: int, terms: LineTerms, reserve_yen: int, *, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO claim_lines (claim_id, coverage, terms, reserve_yen, created_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (claim_id, coverage) DO NOTHING""",
        claim_id, terms.coverage, terms_to_json(terms), reserve_yen, as_jst(now))


async def save_line(conn: Executor, line_id: int, *, reserve_yen: int, terms: LineTerms | None = None) -> None:
    if terms is None:
        await conn.execute("UPDATE claim_lines SET reserve_yen = $2 WHERE id = $1", line_id, reserve_yen)
    else:
        await conn.execute("UPDATE claim_lines SET reserve_yen = $2, terms = $3 WHERE id = $1",
                           line_id, reserve_yen, terms_to_json(terms))


async def insert_payment(conn: Executor, claim_id: int, line_id: int, p: Payment, *, actor_subject: str,
                         now: datetime, assessment: Assessment | None = None) -> StoredPayment:
    r = await conn.fetchrow(
        f"""INSERT INTO claim_payments (claim_id, line_id, amount_yen, paid_on, person, vehicle, note, actor_subject,
                                        recorded_at, assessment)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {_PAY_COLS}""",
        claim_id, line_id, p.amount, p.paid_on, p.person, p.vehicle, p.note, actor_subject, as_jst(now),
        None if assessment is None else assessment_to_json(assessment))
    return _payment(r)


async def paid_in_term_elsewhere(conn: Executor, term_id: int | None, claim_id: int, coverage: str) -> int:
    """What other live claims of the same term paid on `coverage` (per-year limits)."""
    if term_id is None:
        return 0
    return int(await conn.fetchval(
        """SELECT coalesce(sum(p.amount_yen), 0) FROM claim_payments p
           JOIN claim_lines l ON l.id = p.line_id JOIN claims c ON c.id = p.claim_id
           WHERE c.term_id = $1 AND c.id <> $2 AND l.coverage = $3 AND c.status <> 'WITHDRAWN'""",
        term_id, claim_id, coverage))


async def claims_paying_in_term(conn: Executor, term_id: int | None, claim_id: int, coverage: str) -> int:
    """How many other live claims of the same term paid something on `coverage` (once-a-year rules)."""
    if term_id is None:
        return 0
    return int(await conn.fetchval(
        """SELECT count(DISTINCT p.claim_id) FROM claim_payments p
           JOIN claim_lines l ON l.id = p.line_id JOIN claims c ON c.id = p.claim_id
           WHERE c.term_id = $1 AND c.id <> $2 AND l.coverage = $3 AND c.status <> 'WITHDRAWN'""",
        term_id, claim_id, coverage))


async def earlier_claims_paying(conn: Executor, term_id: int | None, claim_id: int, coverage: str,
                                before: datetime) -> int:
    """Live claims of the term with an earlier accident that opened a line on `coverage`."""
    if term_id is None:
        return 0
    return int(await conn.fetchval(
        """SELECT count(DISTINCT c.id) FROM claims c JOIN claim_lines l ON l.claim_id = c.id
           WHERE c.term_id = $1 AND c.id <> $2 AND l.coverage = $3 AND c.accident_at < $4
             AND c.status NOT IN ('WITHDRAWN', 'DENIED')""",
        term_id, claim_id, coverage, before))


# --- events --------------------------------------------------------------------------------------

_EVENT_COLS = "id, claim_id, seq, kind, from_status, to_status, actor_subject, actor_role, reason, payload, internal, at"


def _event(r: Mapping[str, Any]) -> ClaimEvent:
    return ClaimEvent(r["id"], r["claim_id"], r["seq"], r["kind"], r["from_status"], r["to_status"],
                      r["actor_subject"], r["actor_role"], r["reason"], r["payload"], r["internal"], as_jst(r["at"]))


async def append_claim_events(conn: Executor, claim_id: int, items: Sequence[NewEvent], *, at: datetime) -> None:
    """Append in order with consecutive seqs (one statement); the claim row is locked by the UPDATE."""
    if not items:
        return
    await conn.execute(
        """WITH s AS (
               UPDATE claims SET event_seq = event_seq + cardinality($2::text[])
               WHERE id = $1 RETURNING event_seq - cardinality($2::text[]) AS base
           )
           INSERT INTO claim_events (claim_id, seq, kind, from_status, to_status, actor_subject, actor_role, reason,
                                     payload, internal, at)
           SELECT $1, s.base + e.ord, e.kind, e.fs, e.ts, e.subj, e.role, e.reason, e.payload, e.internal, $10
           FROM s, unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[],
                          $9::boolean[]) WITH ORDINALITY AS e(kind, fs, ts, subj, role, reason, payload, internal, ord)
           """,
        claim_id, [e.kind for e in items], [e.from_status for e in items], [e.to_status for e in items],
        [e.actor_subject for e in items], [e.actor_role for e in items], [e.reason for e in items],
        [dict(e.payload) for e in items], [e.internal for e in items], as_jst(at),
    )


async def events_of_claims(conn: Executor, claim_ids: Sequence[int]) -> dict[int, list[ClaimEvent]]:
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLS} FROM claim_events WHERE claim_id = any($1::bigint[]) ORDER BY claim_id, seq",
        list(claim_ids))
    out: dict[int, list[ClaimEvent]] = {int(c): [] for c in claim_ids}
    for r in rows:
        out[r["claim_id"]].append(_event(r))
    return out
