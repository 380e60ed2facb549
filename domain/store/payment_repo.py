"""Rows of `instalments` and `payment_records` (migrations/0007_payments.sql).

The instalment rows of a term are its `domain.payments.Schedule` plus what happened to each
instalment; `schedule_of` turns them back into the pure schedule (with an accelerated
instalment due on its acceleration day) and `paid_of` into the {number: paid on} map the pure
rules take. Callers hold the contract's row lock when they change anything here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.payments import Instalment, Schedule
from domain.runtime.clock import as_jst
from domain.store.uow import Executor
from domain.vocab import Labelled, PaymentMethod


class InstalmentState(Labelled):
    DUE = ("DUE", "払込期日前", "Due (its due day has not ended)")
    OVERDUE = ("OVERDUE", "未払", "Overdue: its due day ended unpaid")
    PAID = ("PAID", "払込済", "Paid")
    VOID = ("VOID", "無効", "Void: the contract was rescinded")


class PaidBy(Labelled):
    BANK_DEBIT = ("BANK_DEBIT", "口座振替", "Bank debit")
    CARD = ("CARD", "クレジットカード", "Credit card")
    TRANSFER = ("TRANSFER", "振込・窓口", "Bank transfer or counter")


class RecordKind(Labelled):
    PAID = ("PAID", "入金", "Paid")
    DEBIT_FAILED = ("DEBIT_FAILED", "口座振替不能", "Debit failed")


@dataclass(frozen=True, slots=True)
class StoredInstalment:
    id: int
    contract_id: int
    term_id: int
    term_no: int
    number: int
    plan: PaymentMethod
    due_on: date
    amount_yen: int
    state: InstalmentState
    paid_on: date | None
    paid_by: PaidBy | None
    debit_failed_on: date | None
    not_at_fault: bool
    accelerated_on: date | None
    transaction_id: int | None = None  # an extra premium charged by this transaction (a window filing)

    @property
    def effective_due_on(self) -> date:
        """When it is due now: its own day, or earlier when the rest fell due at once."""
        return min(self.due_on, self.accelerated_on) if self.accelerated_on else self.due_on

    @property
    def subject(self) -> str:
        """The subject of its timers."""
        return f"instalment:{self.id}"


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    instalment_id: int
    kind: RecordKind
    on_date: date
    amount_yen: int
    paid_by: PaidBy | None
    not_at_fault: bool
    actor_subject: str
    actor_role: str
    recorded_at: datetime


_COLS = """i.id, i.contract_id, i.term_id, t.term_no, i.number, i.plan, i.due_on, i.amount_yen, i.state,
           i.paid_on, i.paid_by, i.debit_failed_on, i.not_at_fault, i.accelerated_on, i.transaction_id"""
_FROM = "instalments i JOIN terms t ON t.id = i.term_id"


def _row(r: Mapping[str, Any]) -> StoredInstalment:
    return StoredInstalment(
        id=r["id"], contract_id=r["contract_id"], term_id=r["term_id"], term_no=r["term_no"], number=r["number"],
        plan=PaymentMethod(r["plan"]), due_on=r["due_on"], amount_yen=int(r["amount_yen"]),
        state=InstalmentState(r["state"]), paid_on=r["paid_on"],
        paid_by=PaidBy(r["paid_by"]) if r["paid_by"] else None, debit_failed_on=r["debit_failed_on"],
        not_at_fault=r["not_at_fault"], accelerated_on=r["accelerated_on"], transaction_id=r["transaction_id"],
    )


def schedule_of(rows: Sequence[StoredInstalment]) -> Schedule:
    """The pure schedule of one term's rows (numbers 1..n in order)."""
    ordered = sorted(rows, key=lambda r: r.number)
    return Schedule(
        ordered[0].plan, sum(r.amount_yen for r in ordered),
        tuple(Instalment(r.number, r.effective_due_on, r.amount_yen) for r in ordered),
    )


def paid_of(rows: Iterable[StoredInstalment], *, upto: date, clamp: bool = False) -> dict[int, date]:
    """{number: paid on} of the paid rows: those paid by `upto`, or (clamp) every paid row with
    a later date read as `upto` (it is paid; when does not matter to the reader)."""
    out: dict[int, date] = {}
    for r in rows:
        if r.paid_on is None:
            continue
        if r.paid_on <= upto:
            out[r.number] = r.paid_on
        elif clamp:
            out[r.number] = upto
    return out


async def insert_schedule(conn: Executor, contract_id: int, term_id: int, schedule: Schedule, *,
                          now: datetime) -> list[StoredInstalment]:
    """Store a term's schedule once: a second call for the same term stores nothing and answers
    the rows already there."""
    inst = schedule.instalments
    await conn.execute(
        """INSERT INTO instalments (contract_id, term_id, number, plan, due_on, amount_yen, created_at, updated_at)
           SELECT $1, $2, n, $3, d, a, $6, $6 FROM unnest($4::int[], $5::date[], $7::bigint[]) AS x(n, d, a)
           ON CONFLICT (term_id, number) DO NOTHING""",
        contract_id, term_id, schedule.method.value, [i.number for i in inst], [i.due_on for i in inst],
        as_jst(now), [i.amount for i in inst],
    )
    return [r for r in await of_contract(conn, contract_id) if r.term_id == term_id]


async def insert_extra(conn: Executor, contract_id: int, term_id: int, plan: PaymentMethod, due_on: date,
                       amount_yen: int, transaction_id: int, *, now: datetime) -> StoredInstalment:
    """Add the transaction's extra premium to its term as the next instalment (once per transaction)."""
    await conn.execute(
        """INSERT INTO instalments (contract_id, term_id, number, plan, due_on, amount_yen, transaction_id,
                                     created_at, updated_at)
           SELECT $1, $2, coalesce(max(number), 0) + 1, $3, $4, $5, $6, $7, $7 FROM instalments WHERE term_id = $2
           ON CONFLICT (transaction_id) WHERE transaction_id IS NOT NULL DO NOTHING""",
        contract_id, term_id, plan.value, due_on, amount_yen, transaction_id, as_jst(now),
    )
    return next(r for r in await of_contract(conn, contract_id) if r.transaction_id == transaction_id)


async def of_contract(conn: Executor, contract_id: int) -> list[StoredInstalment]:
    return (await of_contracts(conn, [contract_id]))[contract_id]


async def of_contracts(conn: Executor, contract_ids: Sequence[int]) -> dict[int, list[StoredInstalment]]:
    """Instalments per contract, in term and number order; one statement for any number."""
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM {_FROM} WHERE i.contract_id = ANY($1::bigint[]) ORDER BY i.contract_id, t.term_no, i.number",
        list(contract_ids),
    )
    out: dict[int, list[StoredInstalment]] = {cid: [] for cid in contract_ids}
    for r in rows:
        out[r["contract_id"]].append(_row(r))
    return out


async def find(conn: Executor, contract_id: int, term_no: int, number: int) -> StoredInstalment | None:
    r = await conn.fetchrow(
        f"SELECT {_COLS} FROM {_FROM} WHERE i.contract_id = $1 AND t.term_no = $2 AND i.number = $3 FOR UPDATE OF i",
        contract_id, term_no, number,
    )
    return _row(r) if r else None


async def mark_paid(conn: Executor, instalment_id: int, paid_on: date, paid_by: PaidBy, *, now: datetime) -> None:
    await conn.execute(
        "UPDATE instalments SET state = 'PAID', paid_on = $2, paid_by = $3, updated_at = $4 WHERE id = $1",
        instalment_id, paid_on, paid_by.value, as_jst(now),
    )


async def mark_debit_failed(conn: Executor, instalment_id: int, on: date, not_at_fault: bool, *,
                            now: datetime) -> None:
    await conn.execute(
        "UPDATE instalments SET debit_failed_on = $2, not_at_fault = $3, updated_at = $4 WHERE id = $1",
        instalment_id, on, not_at_fault, as_jst(now),
    )


async def mark_overdue(conn: Executor, contract_id: int, today: date, *, now: datetime) -> int:
    """DUE rows whose (effective) due day ended before `today` become OVERDUE; answer how many."""
    done = await conn.execute(
        """UPDATE instalments SET state = 'OVERDUE', updated_at = $3
           WHERE contract_id = $1 AND state = 'DUE' AND least(due_on, coalesce(accelerated_on, due_on)) < $2""",
        contract_id, today, as_jst(now),
    )
    return int(done.split()[-1])


async def accelerate(conn: Executor, instalment_ids: Sequence[int], on: date, *, now: datetime) -> None:
    await conn.execute(
        "UPDATE instalments SET accelerated_on = $2, updated_at = $3 WHERE id = ANY($1::bigint[])",
        list(instalment_ids), on, as_jst(now),
    )


async def void_unpaid(conn: Executor, contract_id: int, *, now: datetime) -> list[int]:
    """The contract was rescinded: its unpaid instalments are never collected. Answers their ids."""
    rows = await conn.fetch(
        """UPDATE instalments SET state = 'VOID', updated_at = $2
           WHERE contract_id = $1 AND state IN ('DUE', 'OVERDUE') RETURNING id""",
        contract_id, as_jst(now),
    )
    return [int(r["id"]) for r in rows]


async def log(conn: Executor, instalment_id: int, kind: RecordKind, on: date, amount_yen: int, *,
              paid_by: PaidBy | None, not_at_fault: bool, actor_subject: str, actor_role: str,
              now: datetime) -> None:
    await conn.execute(
        """INSERT INTO payment_records (instalment_id, kind, on_date, amount_yen, paid_by, not_at_fault,
                                        actor_subject, actor_role, recorded_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        instalment_id, kind.value, on, amount_yen, paid_by.value if paid_by else None, not_at_fault,
        actor_subject, actor_role, as_jst(now),
    )


async def records_of(conn: Executor, instalment_id: int) -> list[PaymentRecord]:
    rows = await conn.fetch(
        """SELECT id, instalment_id, kind, on_date, amount_yen, paid_by, not_at_fault, actor_subject, actor_role,
                  recorded_at FROM payment_records WHERE instalment_id = $1 ORDER BY id""",
        instalment_id,
    )
    return [PaymentRecord(r["id"], r["instalment_id"], RecordKind(r["kind"]), r["on_date"], int(r["amount_yen"]),
                          PaidBy(r["paid_by"]) if r["paid_by"] else None, r["not_at_fault"], r["actor_subject"],
                          r["actor_role"], as_jst(r["recorded_at"])) for r in rows]
