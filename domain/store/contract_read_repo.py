"""The API's read path: everything a contract detail needs, for any number of contracts, in a fixed
number of statements (three, plus BEGIN/COMMIT when the caller is not in a transaction).

1. contracts ⋈ version at `as_of` (drivers as parallel arrays) ⋈ vehicle ⋈ latest grade record
2. terms of those contracts
3. parties named by them (policyholders, named insureds, drivers)

The three run in one REPEATABLE READ read-only transaction so they see one snapshot. Listing is
keyset pagination on contracts.id inside each filter (indexes `contracts_<filter> (…, id)`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from domain.grade import GradeMarker, GradeRecord
from domain.store.contract_repo import (
    CONTRACT_COLS,
    TERM_COLS,
    Contract,
    ContractStatus,
    Term,
    contract_from_row,
    term_from_row,
)
from domain.store.party_repo import PARTY_COLS, Party, Vehicle, party_from_row, vehicle_from_row
from domain.store.policy_repo import GradeSource, grade_source
from domain.store.version_repo import (
    VERSION_COLS,
    VERSION_DRIVERS_LATERAL,
    ContractVersion,
    DriverEntry,
    version_from_row,
)

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Driver:
    party: Party
    entry: DriverEntry


@dataclass(frozen=True, slots=True)
class ContractDetail:
    contract: Contract
    policyholder: Party
    # The version in force at as_of; when the contract has not started yet at as_of, the first one
    # to come (version_in_force False). None only for a chain that ended before as_of.
    version: ContractVersion | None
    version_in_force: bool
    named_insured: Party | None
    vehicle: Vehicle | None
    drivers: tuple[Driver, ...]
    terms: tuple[Term, ...]
    grade: GradeRecord | None  # the latest grade record of the contract
    grade_source: GradeSource | str | None
    events_count: int


_VEHICLE_SELECT = """veh.id AS veh_id, veh.use_type AS veh_use_type, veh.registration_no AS veh_registration_no,
    veh.chassis_no AS veh_chassis_no, veh.model_code AS veh_model_code,
    veh.first_registration AS veh_first_registration, veh.model_release AS veh_model_release,
    veh.rating_classes AS veh_rating_classes, veh.aeb AS veh_aeb, veh.fuel AS veh_fuel,
    veh.welfare AS veh_welfare, veh.value_yen AS veh_value_yen, veh.owner_party_id AS veh_owner_party_id,
    veh.account_party_id AS veh_account_party_id, veh.agency_id AS veh_agency_id"""

_MAIN = f"""
SELECT {CONTRACT_COLS}, cv.*, cv.v_valid_from <= $2 AS v_in_force, {_VEHICLE_SELECT},
       g.grade AS g_grade, g.marker AS g_marker, g.period AS g_period, g.source AS g_source
FROM contracts c
LEFT JOIN LATERAL (
    SELECT {VERSION_COLS} FROM contract_versions v {VERSION_DRIVERS_LATERAL}
    WHERE v.contract_id = c.id AND v.superseded_at IS NULL
      AND (v.valid @> $2::timestamptz OR lower(v.valid) > $2)
    ORDER BY lower(v.valid) LIMIT 1
) cv ON true
LEFT JOIN vehicles veh ON veh.id = cv.v_vehicle_id
LEFT JOIN LATERAL (
    SELECT grade, marker, period, source FROM grade_records gr
    WHERE gr.contract_id = c.id ORDER BY gr.id DESC LIMIT 1
) g ON true
WHERE c.id = any($1::bigint[])"""

_TERMS = f"SELECT {TERM_COLS} FROM terms WHERE contract_id = any($1::bigint[]) ORDER BY contract_id, term_no"

_PARTIES = f"SELECT {PARTY_COLS} FROM parties WHERE id = any($1::bigint[])"


async def load_contracts(
    conn: asyncpg.Connection, ids: Sequence[int], as_of: datetime
) -> dict[int, ContractDetail]:
    """Details of the contracts among `ids` that exist, keyed by id (callers keep their own order)."""
    if as_of.tzinfo is None:
        raise ValueError("as_of: naive datetime")
    id_list = list(dict.fromkeys(int(i) for i in ids))
    if not id_list:
        return {}
    if conn.is_in_transaction():
        return await _load(conn, id_list, as_of)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _load(conn, id_list, as_of)


async def _load(conn: asyncpg.Connection, ids: list[int], as_of: datetime) -> dict[int, ContractDetail]:
    rows = await conn.fetch(_MAIN, ids, as_of)
    found = [r["id"] for r in rows]
    term_rows = await conn.fetch(_TERMS, found)
    party_ids: set[int] = set()
    for r in rows:
        party_ids.add(r["policyholder_id"])
        if r["v_id"] is not None:
            party_ids.add(r["v_named_insured_id"])
            party_ids.update(r["v_d_party_ids"] or ())
    party_rows = await conn.fetch(_PARTIES, list(party_ids))
    parties = {p["id"]: party_from_row(p) for p in party_rows}
    terms_by: dict[int, list[Term]] = {}
    for t in term_rows:
        terms_by.setdefault(t["contract_id"], []).append(term_from_row(t))

    out: dict[int, ContractDetail] = {}
    for r in rows:
        version = version_from_row(r) if r["v_id"] is not None else None
        grade = (
            GradeRecord(r["g_grade"], GradeMarker(r["g_marker"]), r["g_period"])
            if r["g_grade"] is not None else None
        )
        out[r["id"]] = ContractDetail(
            contract=contract_from_row(r),
            policyholder=parties[r["policyholder_id"]],
            version=version,
            version_in_force=bool(r["v_in_force"]) if version else False,
            named_insured=parties[version.data.named_insured_id] if version else None,
            vehicle=vehicle_from_row(r, "veh_") if r["veh_id"] is not None else None,
            drivers=tuple(Driver(parties[d.party_id], d) for d in version.data.drivers) if version else (),
            terms=tuple(terms_by.get(r["id"], ())),
            grade=grade,
            grade_source=grade_source(r["g_source"]) if r["g_source"] is not None else None,
            events_count=r["event_seq"],
        )
    return out


async def list_contract_ids(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    agency_id: int | None = None,
    policyholder_id: int | None = None,
    product_id: str | None = None,
    status: ContractStatus | None = None,
    expiring_from: datetime | None = None,
    expiring_before: datetime | None = None,
    after_id: int | None = None,
    limit: int = MAX_PAGE,
) -> list[int]:
    """Ids of one page, ascending; the next page starts `after_id` = the last id of this one.

    Only the filters given appear in the SQL, so each shape gets a plan that uses its index.
    Expiry filters match contracts with a term ending in [expiring_from, expiring_before).
    """
    if not 1 <= limit <= MAX_PAGE + 1:  # +1: callers peek whether a next page exists
        raise ValueError(f"limit must be 1..{MAX_PAGE + 1}")
    where: list[str] = []
    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    if agency_id is not None:
        where.append(f"c.agency_id = {arg(agency_id)}")
    if policyholder_id is not None:
        where.append(f"c.policyholder_id = {arg(policyholder_id)}")
    if product_id is not None:
        where.append(f"c.product_id = {arg(product_id)}")
    if status is not None:
        where.append(f"c.statuses @> ARRAY[{arg(ContractStatus(status).value)}::text]")
    if expiring_from is not None or expiring_before is not None:
        cond = ["t.contract_id = c.id"]
        if expiring_from is not None:
            cond.append(f"t.ends_at >= {arg(expiring_from)}")
        if expiring_before is not None:
            cond.append(f"t.ends_at < {arg(expiring_before)}")
        where.append(f"EXISTS (SELECT 1 FROM terms t WHERE {' AND '.join(cond)})")
    if after_id is not None:
        where.append(f"c.id > {arg(after_id)}")
    sql = "SELECT c.id FROM contracts c"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY c.id LIMIT {arg(limit)}"
    return [r["id"] for r in await conn.fetch(sql, *args)]
