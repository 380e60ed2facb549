"""Policy storage entry point: creating a contract (with its first term and version), transactions
and grade records; re-exports the contract and version repositories so callers import one module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import asyncpg

from domain.grade import GradeMarker, GradeRecord
from domain.lifecycle import Role as ActorRole  # the caller roles, SYSTEM for workers
from domain.store.contract_repo import (
    CONTRACT_COLS,
    TERM_COLS,
    Contract,
    ContractNotFound,
    ContractStatus,
    NewContract,
    NoVersionAt,
    PolicyNumberTaken,
    StoreError,
    Term,
    TermStatus,
    VersionConflict,
    add_term,
    aware,
    contract_from_row,
    get_contract,
    get_contract_for_update,
    lock_contract,
    set_statuses,
    set_term_status,
    term_from_row,
    terms,
)
from domain.store.uow import Executor, UnitOfWork
from domain.store.version_repo import (
    AppendedVersion,
    ContractVersion,
    DriverEntry,
    Json,
    VersionData,
    append_version,
    insert_version,
    version_as_of,
    versions,
)


class TransactionKind(StrEnum):
    """Stored as plain text (no CHECK): services may add kinds without a migration."""

    QUOTE = "QUOTE"
    ISSUE = "ISSUE"
    ENDORSE = "ENDORSE"
    RENEW = "RENEW"
    DECLINE_RENEWAL = "DECLINE_RENEWAL"
    CANCEL = "CANCEL"
    LAPSE = "LAPSE"
    REINSTATE = "REINSTATE"
    RESCIND = "RESCIND"
    ISSUE_INTERRUPTION_CERTIFICATE = "ISSUE_INTERRUPTION_CERTIFICATE"
    RECALCULATE = "RECALCULATE"


class GradeSource(StrEnum):
    """Where a term's grade came from. Plain text in the database."""

    NEW = "NEW"  # 6(S)
    SECOND_CAR = "SECOND_CAR"  # 7(S)
    RENEWAL = "RENEWAL"  # computed from this contract's previous term
    OTHER_INSURER = "OTHER_INSURER"  # declared previous contract elsewhere
    INTERRUPTION_CERTIFICATE = "INTERRUPTION_CERTIFICATE"  # 中断証明書
    RECALCULATION = "RECALCULATION"


@dataclass(frozen=True, slots=True)
class CreatedContract:
    contract: Contract
    term: Term
    version: ContractVersion
    transaction_id: int | None


@dataclass(frozen=True, slots=True)
class NewTransaction:
    kind: TransactionKind | str
    actor_subject: str
    actor_role: ActorRole
    at: datetime
    effective_at: datetime | None = None
    reason: str | None = None
    idempotency_key: str | None = None
    premium_delta_yen: int = 0
    explanation: Json = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredGrade:
    id: int
    contract_id: int
    term_id: int | None
    grade: GradeRecord
    source: GradeSource | str
    recorded_at: datetime


# --- contracts ----------------------------------------------------------------------------------


async def create_contract(
    uow: UnitOfWork,
    new: NewContract,
    *,
    starts_at: datetime,
    ends_at: datetime,
    term_status: TermStatus,
    first_version: VersionData,
    at: datetime,
    transaction: NewTransaction | None = None,
    version_valid_until: datetime | None = None,
) -> CreatedContract:
    """A contract with its first term and first version (valid from the term start, open-ended
    unless `version_valid_until`), recorded at `at`; `transaction`, when given, is recorded too and
    the version points at it."""
    aware(starts_at, "starts_at"), aware(ends_at, "ends_at"), aware(at, "at")
    if ends_at <= starts_at:
        raise ValueError("a term ends after it starts")
    conn = uow.conn
    try:
        row = await conn.fetchrow(
            f"""INSERT INTO contracts AS c (policy_number, product_id, policyholder_id, agency_id, channel,
                                           statuses, created_at, fleet_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {CONTRACT_COLS}""",
            new.policy_number, new.product_id, new.policyholder_id, new.agency_id, new.channel.value,
            sorted(s.value for s in new.statuses), at, new.fleet_id,
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "contracts_policy_number_key":
            raise PolicyNumberTaken(f"policy number {new.policy_number} is already used") from exc
        raise
    contract = contract_from_row(row)
    term_row = await conn.fetchrow(
        f"""INSERT INTO terms (contract_id, term_no, starts_at, ends_at, status, created_at)
            VALUES ($1, 1, $2, $3, $4, $5) RETURNING {TERM_COLS}""",
        contract.id, starts_at, ends_at, term_status.value, at,
    )
    tx_id = await record_transaction(uow, contract.id, transaction) if transaction else None
    version = await insert_version(
        conn, contract.id, starts_at, version_valid_until, first_version,
        recorded_at=at, transaction_id=tx_id, derived_from_id=None,
    )
    return CreatedContract(contract, term_from_row(term_row), version, tx_id)


# --- transactions and grades --------------------------------------------------------------------


async def record_transaction(uow: UnitOfWork, contract_id: int, tx: NewTransaction) -> int:
    """A transaction row; dry runs roll back with the unit of work, so none is ever stored."""
    aware(tx.at, "at")
    return int(
        await uow.conn.fetchval(
            """INSERT INTO transactions (contract_id, kind, actor_subject, actor_role, at, effective_at,
                                         reason, idempotency_key, premium_delta_yen, explanation)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""",
            contract_id, str(tx.kind), tx.actor_subject, ActorRole(tx.actor_role).value, tx.at,
            tx.effective_at, tx.reason, tx.idempotency_key, tx.premium_delta_yen, tx.explanation,
        )
    )


async def record_grade(
    uow: UnitOfWork,
    contract_id: int,
    term_id: int | None,
    grade: GradeRecord,
    source: GradeSource | str,
    *,
    recorded_at: datetime,
) -> StoredGrade:
    gid = await uow.conn.fetchval(
        """INSERT INTO grade_records (contract_id, term_id, grade, marker, period, source, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
        contract_id, term_id, grade.grade, grade.marker.value, grade.period, str(source), recorded_at,
    )
    return StoredGrade(gid, contract_id, term_id, grade, source, recorded_at)


def grade_source(value: str) -> GradeSource | str:
    try:
        return GradeSource(value)
    except ValueError:
        return value


async def grades(conn: Executor, contract_id: int) -> list[StoredGrade]:
    rows = await conn.fetch(
        """SELECT id, contract_id, term_id, grade, marker, period, source, recorded_at
           FROM grade_records WHERE contract_id = $1 ORDER BY id""",
        contract_id,
    )
    return [
        StoredGrade(r["id"], r["contract_id"], r["term_id"],
                    GradeRecord(r["grade"], GradeMarker(r["marker"]), r["period"]),
                    grade_source(r["source"]), r["recorded_at"])
        for r in rows
    ]


__all__ = [
    "CONTRACT_COLS", "TERM_COLS", "ActorRole", "AppendedVersion", "Contract", "ContractNotFound",
    "ContractStatus", "ContractVersion", "CreatedContract", "DriverEntry", "GradeSource", "Json",
    "NewContract", "NewTransaction", "NoVersionAt", "PolicyNumberTaken", "StoreError", "StoredGrade",
    "Term", "TermStatus", "TransactionKind", "VersionConflict", "VersionData", "add_term",
    "append_version", "contract_from_row", "create_contract", "get_contract", "get_contract_for_update", "grade_source", "grades",
    "lock_contract", "record_grade", "record_transaction", "set_statuses", "set_term_status",
    "term_from_row", "terms", "version_as_of", "versions",
]
