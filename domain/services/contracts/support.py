"""Shared steps of the contract use cases: visible lookups, rating, transactions and events.

Private to domain.services (the use-case modules import it; the API does not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from domain.calendar import JST, RuleError
from domain.lifecycle import Action, check
from domain.products import Product, default_catalog
from domain.rating import Premium, QuoteInput, RatingError, rate
from domain.rating_codec import (
    coverages_to_json,
    explanation_to_json,
    premium_to_json,
    quote_to_json,
)
from domain.services.access import Actor, can_read_contract, can_read_party, can_read_vehicle
from domain.services.contracts.types import ContractChange, MoneyStep
from domain.services.errors import Refused, not_found, refuse
from domain.store.outbox import append_events
from domain.store.party_repo import Party, Vehicle, parties_by_id, vehicles_by_id
from domain.store.policy_repo import (
    Contract,
    NewTransaction,
    Term,
    TermStatus,
    TransactionKind,
    VersionConflict,
    VersionData,
    get_contract_for_update,
    record_transaction,
)
from domain.store.uow import UnitOfWork
from domain.store.version_repo import Json

# Policy numbers: AP-<product prefix>-<policy_number_seq>; quotes keep their number when issued.
POLICY_PREFIX: Mapping[str, str] = {
    "rakuten-drive-assist": "RK",
    "aioi-tough-biz": "AI",
    "tokio-total-assist-group": "TK",
    "kyosai-accident-expense": "KY",
}

# Terms that still carry cover (or will): the ones a change or an ending applies to.
LIVE_TERMS = frozenset({TermStatus.SCHEDULED, TermStatus.IN_FORCE, TermStatus.QUOTED})


class EventKind:
    QUOTE_CREATED = "QUOTE_CREATED"
    QUOTE_WITHDRAWN = "QUOTE_WITHDRAWN"
    CONTRACT_ISSUED = "CONTRACT_ISSUED"
    CONTRACT_ENDORSED = "CONTRACT_ENDORSED"
    CONTRACT_RENEWED = "CONTRACT_RENEWED"
    CONTRACT_CANCELLED = "CONTRACT_CANCELLED"
    CONTRACT_REINSTATED = "CONTRACT_REINSTATED"
    CONTRACT_RESCINDED = "CONTRACT_RESCINDED"
    INTERRUPTION_CERTIFICATE_ISSUED = "INTERRUPTION_CERTIFICATE_ISSUED"


def today(now: datetime) -> date:
    """The JST calendar date of `now` (every day count of the product is in Japan time)."""
    if now.tzinfo is None:
        raise ValueError("now: naive datetime")
    return now.astimezone(JST).date()


def product_of(product_id: str, field: str = "input.productId") -> Product:
    p = default_catalog().get(product_id)
    if p is None:
        raise refuse("UNKNOWN_PRODUCT", field, f"no product {product_id!r}")
    return p


# --- visibility ---------------------------------------------------------------------------------


async def visible_contract(uow: UnitOfWork, actor: Actor, contract_id: int) -> Contract:
    # Locked from the first read: everything the use case reads afterwards is the latest state,
    # so of concurrent writers expecting one version exactly one passes `expect_version`.
    c = await get_contract_for_update(uow.conn, contract_id)
    if c is None or not can_read_contract(actor, c):
        raise not_found("contract", "input.contractId", contract_id)
    return c


def expect_version(c: Contract, expected: int) -> None:
    """Fail fast on a stale version; the store re-checks it under the row lock when writing."""
    if c.lock_version != expected:
        raise VersionConflict(c.id, expected, c.lock_version)


def allowed(action: Action, c: Contract, actor: Actor) -> None:
    try:
        check(action, c.statuses, actor.role)
    except RuleError as e:
        raise refuse(e.code, "input.contractId", e.message) from None


async def visible_parties(
    uow: UnitOfWork, actor: Actor, refs: Sequence[tuple[int, str]]
) -> dict[int, Party]:
    """Parties by id, each (id, input field) visible to the actor, else PARTY_NOT_FOUND."""
    found = await parties_by_id(uow.conn, [i for i, _ in refs])
    for pid, field in refs:
        p = found.get(pid)
        if p is None or not can_read_party(actor, p):
            raise not_found("party", field, pid)
    return found


async def visible_vehicle(uow: UnitOfWork, actor: Actor, vehicle_id: int, field: str) -> Vehicle:
    v = (await vehicles_by_id(uow.conn, [vehicle_id])).get(vehicle_id)
    if v is None or not can_read_vehicle(actor, v):
        raise not_found("vehicle", field, vehicle_id)
    return v


# --- rating -------------------------------------------------------------------------------------

# Rating fields name QuoteInput paths; the caller gave ids for the vehicle and the named insured.
_FIELD_MAP = (("vehicle.", "input.vehicleId"), ("namedInsured.", "input.namedInsuredId"))


def rated(product: Product, q: QuoteInput) -> Premium:
    """`rate` with its refusals as userErrors (same code; field as an input path)."""
    try:
        return rate(product, q)
    except RatingError as e:
        field = next((to for frm, to in _FIELD_MAP if e.field.startswith(frm)), None)
        raise refuse(e.code, field or f"input.{e.field}", e.message) from None


def version_data(
    base: VersionData | None,
    q: QuoteInput,
    p: Premium,
    **fields: Any,
) -> VersionData:
    """A version snapshot of a rated quote; `fields` give vehicle, named insured, drivers, grade."""
    values: dict[str, Any] = {
        "age_condition": q.age_condition,
        "driver_restriction": q.driver_restriction,
        "premium_yen": p.total,
        "coverages": coverages_to_json(q, p),
        "discounts": list(p.discounts),
        "explanation": explanation_to_json(p.explanation),
        "rating_input": quote_to_json(q),
        "premium": premium_to_json(p),
    }
    if base is not None:
        for name in ("vehicle_id", "named_insured_id", "grade", "drivers"):
            values.setdefault(name, getattr(base, name))
    values.update(fields)
    return VersionData(**values)


# --- writing ------------------------------------------------------------------------------------


async def record(
    uow: UnitOfWork,
    actor: Actor,
    contract_id: int,
    kind: TransactionKind,
    now: datetime,
    *,
    effective_at: datetime | None,
    reason: str | None,
    idempotency_key: str | None,
    delta: int = 0,
    explanation: Json | None = None,
) -> int:
    return await record_transaction(
        uow, contract_id,
        NewTransaction(kind, actor.subject, actor.role, now, effective_at, reason, idempotency_key,
                       delta, explanation or {}),
    )


async def emit(
    uow: UnitOfWork, c: Contract, kind: str, payload: Mapping[str, Any], now: datetime, tx_id: int
) -> None:
    body = {"policyNumber": c.policy_number, "transactionId": tx_id, **payload}
    await append_events(uow, c.id, [(kind, body)], at=now, transaction_id=tx_id)


async def lock_version_of(uow: UnitOfWork, contract_id: int) -> int:
    return int(await uow.conn.fetchval("SELECT lock_version FROM contracts WHERE id = $1", contract_id))


async def charged_in_term(uow: UnitOfWork, contract_id: int, term: Term) -> int:
    """Net premium charged for a term so far: issue/renewal premium, endorsement deltas, refunds."""
    return int(
        await uow.conn.fetchval(
            """SELECT coalesce(sum(premium_delta_yen), 0) FROM transactions
               WHERE contract_id = $1 AND effective_at >= $2 AND effective_at < $3""",
            contract_id, term.starts_at, term.ends_at,
        )
    )


async def end_versions_at(
    uow: UnitOfWork, contract_id: int, at: datetime, recorded_at: datetime, transaction_id: int
) -> list[int]:
    """Nothing is insured from `at`: supersede every current version reaching past it and keep a
    copy of the one containing it over [start, at). One statement (the caller holds the lock);
    answers the superseded ids, which a reinstatement puts back.

    The copy is inserted from the UPDATE's RETURNING rows, i.e. after its source row is
    superseded, so the no-overlap constraint never sees both current.
    """
    rows = await uow.conn.fetch(
        f"""WITH closed AS (
               UPDATE contract_versions SET superseded_at = $3
               WHERE contract_id = $1 AND superseded_at IS NULL
                 AND (upper_inf(valid) OR upper(valid) > $2)
               RETURNING *
           ), kept AS (
               INSERT INTO contract_versions ({_VERSION_INSERT_COLS})
               SELECT contract_id, tstzrange(lower(valid), $2, '[)'), $3, $4, id, {_VERSION_DATA_COLS}
               FROM closed WHERE lower(valid) < $2
               RETURNING id, derived_from_id
           ), drivers AS (
               INSERT INTO version_drivers (version_id, party_id, relationship, licence_colour, licence_date)
               SELECT kept.id, d.party_id, d.relationship, d.licence_colour, d.licence_date
               FROM kept JOIN version_drivers d ON d.version_id = kept.derived_from_id
           )
           SELECT id FROM closed ORDER BY lower(valid)""",
        contract_id, at, recorded_at, transaction_id,
    )
    return [int(r["id"]) for r in rows]


async def restore_versions(
    uow: UnitOfWork, version_ids: Sequence[int], at: datetime, recorded_at: datetime, transaction_id: int
) -> None:
    """Put superseded versions back in force from `at` on (reinstatement). One statement."""
    await uow.conn.execute(
        f"""WITH restored AS (
               INSERT INTO contract_versions ({_VERSION_INSERT_COLS})
               SELECT contract_id, tstzrange(greatest(lower(valid), $2), upper(valid), '[)'), $3, $4, id,
                   {_VERSION_DATA_COLS}
               FROM contract_versions WHERE id = any($1::bigint[])
               RETURNING id, derived_from_id
           )
           INSERT INTO version_drivers (version_id, party_id, relationship, licence_colour, licence_date)
           SELECT restored.id, d.party_id, d.relationship, d.licence_colour, d.licence_date
           FROM restored JOIN version_drivers d ON d.version_id = restored.derived_from_id""",
        list(version_ids), at, recorded_at, transaction_id,
    )


_VERSION_INSERT_COLS = """contract_id, valid, recorded_at, transaction_id, derived_from_id, vehicle_id,
    named_insured_id, age_condition, driver_restriction, premium_yen, grade, grade_marker, grade_period,
    coverages, discounts, explanation, rating_input, premium"""
_VERSION_DATA_COLS = """vehicle_id, named_insured_id, age_condition, driver_restriction, premium_yen, grade,
    grade_marker, grade_period, coverages, discounts, explanation, rating_input, premium"""


def change(
    c: Contract,
    tx_id: int,
    kind: TransactionKind,
    statuses: Sequence[Any],
    lock_version: int,
    term_no: int,
    effective_at: datetime,
    before: int,
    after: int,
    delta: int,
    **extra: Any,
) -> ContractChange:
    return ContractChange(
        contract_id=c.id, policy_number=c.policy_number, transaction_id=tx_id,
        transaction_kind=kind.value, statuses=tuple(sorted(statuses, key=lambda s: s.value)),
        lock_version=lock_version, term_no=term_no, effective_at=effective_at,
        premium_before_yen=before, premium_after_yen=after, premium_delta_yen=delta, **extra,
    )


def steps(*items: tuple[str, object, str]) -> tuple[MoneyStep, ...]:
    return tuple(MoneyStep(name, str(value), rule) for name, value, rule in items)


__all__ = [
    "LIVE_TERMS",
    "POLICY_PREFIX",
    "EventKind",
    "Refused",
    "allowed",
    "change",
    "charged_in_term",
    "emit",
    "end_versions_at",
    "expect_version",
    "lock_version_of",
    "product_of",
    "rated",
    "record",
    "restore_versions",
    "steps",
    "today",
    "version_data",
    "visible_contract",
    "visible_parties",
    "visible_vehicle",
]
