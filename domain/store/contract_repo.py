"""Contracts and their terms; the contract row is the lock of the whole aggregate.

Every change of a contract goes through its row: `lock_contract` raises `lock_version` with
`UPDATE ... WHERE lock_version = expected`, which both detects a stale writer (`VersionConflict`)
and serialises the writers of one contract until commit. Functions that change a contract without
an expected lock version (`set_statuses`, `add_term`) assume the caller already holds that lock in
the same unit of work.

Instants are parameters (`at`, `recorded_at`): the injected clock's time, never the database's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.store.uow import Executor, UnitOfWork
from domain.vocab import Channel, ContractStatus, Labelled


class TermStatus(Labelled):
    QUOTED = ("QUOTED", "見積", "Quoted")
    SCHEDULED = ("SCHEDULED", "開始前", "Scheduled")
    IN_FORCE = ("IN_FORCE", "有効", "In force")
    EXPIRED = ("EXPIRED", "満期", "Expired")
    CANCELLED = ("CANCELLED", "解約", "Cancelled")
    LAPSED = ("LAPSED", "失効", "Lapsed")
    RESCINDED = ("RESCINDED", "解除", "Rescinded")


class StoreError(Exception):
    """A refusal the caller can show as a userError; `code` is the stable machine code."""

    code = "STORE_ERROR"


class ContractNotFound(StoreError):
    code = "CONTRACT_NOT_FOUND"

    def __init__(self, contract_id: int) -> None:
        super().__init__(f"no contract {contract_id}")
        self.contract_id = contract_id


class VersionConflict(StoreError):
    code = "VERSION_CONFLICT"

    def __init__(self, contract_id: int, expected: int, actual: int) -> None:
        super().__init__(
            f"contract {contract_id} is at lock version {actual}, not {expected}: reload and retry"
        )
        self.contract_id = contract_id
        self.expected = expected
        self.actual = actual


class NoVersionAt(StoreError):
    code = "NO_VERSION_AT"

    def __init__(self, contract_id: int, at: datetime) -> None:
        super().__init__(f"contract {contract_id} has no version in force at {at.isoformat()}")
        self.contract_id = contract_id
        self.at = at


class PolicyNumberTaken(StoreError):
    code = "POLICY_NUMBER_TAKEN"


# --- rows and mapping ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewContract:
    policy_number: str
    product_id: str
    policyholder_id: int
    channel: Channel
    statuses: frozenset[ContractStatus] = frozenset()
    agency_id: int | None = None
    fleet_id: int | None = None


@dataclass(frozen=True, slots=True)
class Contract:
    id: int
    policy_number: str
    product_id: str
    policyholder_id: int
    agency_id: int | None
    channel: Channel
    statuses: frozenset[ContractStatus]
    lock_version: int
    event_count: int  # = the last event seq, because the sequence has no gaps
    created_at: datetime
    fleet_id: int | None = None   # a car of a fleet contract (fleets table)


@dataclass(frozen=True, slots=True)
class Term:
    id: int
    contract_id: int
    term_no: int
    starts_at: datetime
    ends_at: datetime
    status: TermStatus


CONTRACT_COLS = (
    "c.id, c.policy_number, c.product_id, c.policyholder_id, c.agency_id, c.channel, c.statuses, "
    "c.lock_version, c.event_seq, c.created_at, c.fleet_id"
)

TERM_COLS = "id, contract_id, term_no, starts_at, ends_at, status"


def contract_from_row(r: Mapping[str, Any]) -> Contract:
    return Contract(
        id=r["id"],
        policy_number=r["policy_number"],
        product_id=r["product_id"],
        policyholder_id=r["policyholder_id"],
        agency_id=r["agency_id"],
        channel=Channel(r["channel"]),
        statuses=frozenset(ContractStatus(s) for s in r["statuses"]),
        lock_version=r["lock_version"],
        event_count=r["event_seq"],
        created_at=r["created_at"],
        fleet_id=r.get("fleet_id"),
    )


def term_from_row(r: Mapping[str, Any]) -> Term:
    return Term(r["id"], r["contract_id"], r["term_no"], r["starts_at"], r["ends_at"], TermStatus(r["status"]))


def aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"{name}: naive datetime; every instant must carry a time zone")
    return at


# --- contracts and terms ------------------------------------------------------------------------


async def get_contract(conn: Executor, contract_id: int) -> Contract | None:
    row = await conn.fetchrow(f"SELECT {CONTRACT_COLS} FROM contracts c WHERE c.id = $1", contract_id)
    return contract_from_row(row) if row else None


async def get_contract_for_update(conn: Executor, contract_id: int) -> Contract | None:
    """The contract with its row lock held until the transaction ends: a use case that reads
    before it writes sees the latest committed state, and concurrent writers queue here."""
    row = await conn.fetchrow(f"SELECT {CONTRACT_COLS} FROM contracts c WHERE c.id = $1 FOR UPDATE", contract_id)
    return contract_from_row(row) if row else None


async def lock_contract(uow: UnitOfWork, contract_id: int, expected_lock_version: int | None) -> int:
    """Raise the lock version and hold the contract's row lock until the unit of work ends.

    With `expected_lock_version` the change is refused (`VersionConflict`) unless the contract is
    still at that version; None (workers, system changes) takes the lock whatever the version.
    """
    conn = uow.conn
    if expected_lock_version is None:
        new = await conn.fetchval(
            "UPDATE contracts SET lock_version = lock_version + 1 WHERE id = $1 RETURNING lock_version",
            contract_id,
        )
    else:
        # Under READ COMMITTED a writer that waited for another's commit re-checks the WHERE on the
        # committed row, so of N writers expecting the same version exactly one matches.
        new = await conn.fetchval(
            """UPDATE contracts SET lock_version = lock_version + 1
               WHERE id = $1 AND lock_version = $2 RETURNING lock_version""",
            contract_id, expected_lock_version,
        )
    if new is not None:
        return int(new)
    actual = await conn.fetchval("SELECT lock_version FROM contracts WHERE id = $1", contract_id)
    if actual is None:
        raise ContractNotFound(contract_id)
    assert expected_lock_version is not None
    raise VersionConflict(contract_id, expected_lock_version, actual)


async def set_statuses(uow: UnitOfWork, contract_id: int, statuses: Iterable[ContractStatus]) -> None:
    """Replace the status set. The caller holds the contract lock (`lock_contract`/`append_version`)."""
    done = await uow.conn.execute(
        "UPDATE contracts SET statuses = $2 WHERE id = $1",
        contract_id, sorted({ContractStatus(s).value for s in statuses}),
    )
    if done == "UPDATE 0":
        raise ContractNotFound(contract_id)


async def add_term(
    uow: UnitOfWork, contract_id: int, *, starts_at: datetime, ends_at: datetime, status: TermStatus,
    at: datetime,
) -> Term:
    """The next term (renewal). The caller holds the contract lock."""
    aware(starts_at, "starts_at"), aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ValueError("a term ends after it starts")
    row = await uow.conn.fetchrow(
        f"""INSERT INTO terms (contract_id, term_no, starts_at, ends_at, status, created_at)
            SELECT $1, coalesce(max(term_no), 0) + 1, $2, $3, $4, $5 FROM terms WHERE contract_id = $1
            RETURNING {TERM_COLS}""",
        contract_id, starts_at, ends_at, status.value, at,
    )
    return term_from_row(row)


async def set_term_status(uow: UnitOfWork, term_id: int, status: TermStatus) -> None:
    await uow.conn.execute("UPDATE terms SET status = $2 WHERE id = $1", term_id, status.value)


async def terms(conn: Executor, contract_id: int) -> list[Term]:
    rows = await conn.fetch(
        f"SELECT {TERM_COLS} FROM terms WHERE contract_id = $1 ORDER BY term_no", contract_id
    )
    return [term_from_row(r) for r in rows]
