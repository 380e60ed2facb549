"""Rows of `assistance_requests` (migrations/0009_assistance.sql): accepted road-assistance and
accident-site attendance requests, and the earlier uses a new request is counted against.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.claims.assistance import AssistanceUse
from domain.lifecycle import Role
from domain.products.model import AssistanceKind
from domain.runtime.clock import as_jst
from domain.store.uow import Executor
from domain.vocab import AccidentClass


@dataclass(frozen=True, slots=True)
class PersonAmount:
    person: str
    requested_yen: int
    paid_yen: int


@dataclass(frozen=True, slots=True)
class NewAssistance:
    contract_id: int
    term_id: int
    kind: AssistanceKind
    incident: str
    occurred_at: datetime
    requested_at: datetime
    requested_by: str
    requested_role: Role
    accident: bool
    immobile: bool
    stolen: bool
    at_home: bool
    distance_from_home_km: int | None
    litres: int
    nights: int
    tow_km: int
    drop_m: int
    pet: str | None
    place: str | None
    amount_yen: int
    vehicle_amount_yen: int
    persons: tuple[PersonAmount, ...]
    requested_yen: int
    payable_yen: int
    customer_pays_yen: int
    free_litres: int
    chargeable_km: int
    limits: tuple[str, ...]
    notes: tuple[str, ...]
    guard_tasks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredAssistance(NewAssistance):
    """An accepted request as stored (also the answer of the request mutations): the request plus
    its id, its term's number, the decision and the grade class (always NO_COUNT)."""

    id: int
    term_no: int
    decision: str
    grade_class: AccidentClass

    def as_use(self) -> AssistanceUse:
        return AssistanceUse(self.kind, self.incident, self.occurred_at, self.payable_yen,
                             {p.person: p.paid_yen for p in self.persons}, self.limits)


_COLS = """a.id, a.contract_id, a.term_id, t.term_no, a.kind, a.incident, a.occurred_at, a.requested_at,
           a.requested_by, a.requested_role, a.decision, a.accident, a.immobile, a.stolen, a.at_home, a.distance_from_home_km,
           a.litres, a.nights, a.tow_km, a.drop_m, a.pet, a.place, a.amount_yen, a.vehicle_amount_yen,
           a.persons::text AS persons, a.requested_yen, a.payable_yen, a.customer_pays_yen, a.free_litres,
           a.chargeable_km, a.limits, a.notes, a.guard_tasks, a.grade_class"""


def _from_row(r: Mapping[str, Any]) -> StoredAssistance:
    persons = tuple(PersonAmount(p["person"], int(p["requestedYen"]), int(p["paidYen"]))
                    for p in json.loads(r["persons"]))
    return StoredAssistance(
        id=r["id"], contract_id=r["contract_id"], term_id=r["term_id"], term_no=r["term_no"],
        kind=AssistanceKind(r["kind"]), incident=r["incident"], occurred_at=as_jst(r["occurred_at"]),
        requested_at=as_jst(r["requested_at"]), requested_by=r["requested_by"],
        requested_role=Role(r["requested_role"]), decision=r["decision"],
        accident=r["accident"], immobile=r["immobile"], stolen=r["stolen"], at_home=r["at_home"],
        distance_from_home_km=r["distance_from_home_km"], litres=r["litres"], nights=r["nights"],
        tow_km=r["tow_km"], drop_m=r["drop_m"], pet=r["pet"], place=r["place"], amount_yen=r["amount_yen"],
        vehicle_amount_yen=r["vehicle_amount_yen"], persons=persons, requested_yen=r["requested_yen"],
        payable_yen=r["payable_yen"], customer_pays_yen=r["customer_pays_yen"], free_litres=r["free_litres"],
        chargeable_km=r["chargeable_km"], limits=tuple(r["limits"]), notes=tuple(r["notes"]),
        guard_tasks=tuple(r["guard_tasks"]), grade_class=AccidentClass(r["grade_class"]),
    )


async def insert_assistance(conn: Executor, new: NewAssistance) -> StoredAssistance:
    persons = json.dumps([{"person": p.person, "requestedYen": p.requested_yen, "paidYen": p.paid_yen}
                          for p in new.persons], ensure_ascii=False)
    r = await conn.fetchrow(
        f"""WITH a AS (
               INSERT INTO assistance_requests (
                   contract_id, term_id, kind, incident, occurred_at, requested_at, requested_by,
                   requested_role, accident, immobile, stolen, at_home, distance_from_home_km, litres,
                   nights, tow_km, drop_m, pet, place, amount_yen, vehicle_amount_yen, persons,
                   requested_yen, payable_yen, customer_pays_yen, free_litres, chargeable_km, limits,
                   notes, guard_tasks)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                       $19, $20, $21, $22::text::jsonb, $23, $24, $25, $26, $27, $28, $29, $30)
               RETURNING *)
            SELECT {_COLS} FROM a JOIN terms t ON t.id = a.term_id""",
        new.contract_id, new.term_id, new.kind.value, new.incident, as_jst(new.occurred_at),
        as_jst(new.requested_at), new.requested_by, Role(new.requested_role).value, new.accident,
        new.immobile, new.stolen, new.at_home, new.distance_from_home_km, new.litres, new.nights,
        new.tow_km, new.drop_m, new.pet, new.place, new.amount_yen, new.vehicle_amount_yen, persons,
        new.requested_yen, new.payable_yen, new.customer_pays_yen, new.free_litres, new.chargeable_km,
        list(new.limits), list(new.notes), list(new.guard_tasks),
    )
    return _from_row(r)


async def assistance_of(conn: Executor, contract_id: int) -> list[StoredAssistance]:
    rows = await conn.fetch(
        f"""SELECT {_COLS} FROM assistance_requests a JOIN terms t ON t.id = a.term_id
            WHERE a.contract_id = $1 ORDER BY a.id""",
        contract_id,
    )
    return [_from_row(r) for r in rows]


async def assistance_of_contracts(conn: Executor, contract_ids: Sequence[int]) -> dict[int, list[StoredAssistance]]:
    """Requests per contract for a batch of contracts, in one statement (DataLoaders)."""
    rows = await conn.fetch(
        f"""SELECT {_COLS} FROM assistance_requests a JOIN terms t ON t.id = a.term_id
            WHERE a.contract_id = ANY($1::bigint[]) ORDER BY a.contract_id, a.id""",
        list(contract_ids),
    )
    out: dict[int, list[StoredAssistance]] = {int(c): [] for c in contract_ids}
    for r in rows:
        out[r["contract_id"]].append(_from_row(r))
    return out
