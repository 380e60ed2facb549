"""Bitemporal contract versions: effective-dated, append-only snapshots of what is insured.

An endorsement effective at t inside the current version V never edits V: V is marked superseded,
and two rows replace it — V' (V's data over [V.start, t)) and V'' (the new data over [t, V.end)).
The database refuses overlapping current versions of one contract (exclusion constraint
`contract_versions_no_overlap`), so a bug here cannot produce two answers to "what was insured at
t". Drivers belong to a version (table version_drivers) and are copied with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg

from domain.grade import GradeMarker, GradeRecord
from domain.store.contract_repo import NoVersionAt, aware, lock_contract
from domain.store.uow import Executor, UnitOfWork
from domain.vocab import AgeCondition, DriverRestriction, LicenceColour, Relationship

Json = Any  # whatever json.dumps accepts; the shape of coverages/discounts/explanation is rating's


@dataclass(frozen=True, slots=True)
class DriverEntry:
    party_id: int
    relationship: Relationship
    licence_colour: LicenceColour
    licence_date: date | None = None


@dataclass(frozen=True, slots=True)
class VersionData:
    """What one version snapshots; `ContractVersion.data` can be edited with `replace` and appended."""

    vehicle_id: int
    named_insured_id: int
    age_condition: AgeCondition
    driver_restriction: DriverRestriction
    premium_yen: int
    grade: GradeRecord
    coverages: Json = field(default_factory=list)
    discounts: Json = field(default_factory=list)
    explanation: Json = field(default_factory=dict)
    drivers: tuple[DriverEntry, ...] = ()
    rating_input: Json = field(default_factory=dict)  # domain.rating_codec.quote_to_json
    premium: Json = field(default_factory=dict)  # domain.rating_codec.premium_to_json

    def __post_init__(self) -> None:
        if self.premium_yen < 0:
            raise ValueError("premium_yen is never negative")
        parties = [d.party_id for d in self.drivers]
        if len(set(parties)) != len(parties):
            raise ValueError("a party is listed twice among the drivers")


@dataclass(frozen=True, slots=True)
class ContractVersion:
    id: int
    contract_id: int
    valid_from: datetime
    valid_to: datetime | None  # None: open-ended
    recorded_at: datetime
    superseded_at: datetime | None
    transaction_id: int | None
    derived_from_id: int | None  # the superseded version this one was split from
    data: VersionData

    def in_force_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_to is None or at < self.valid_to)


@dataclass(frozen=True, slots=True)
class AppendedVersion:
    lock_version: int  # the contract's lock version after this change
    superseded_id: int | None  # V, when the new data split it
    before_id: int | None  # V' = V's data over [V.start, t); None when t == V.start
    after: ContractVersion  # V'' = the new data from t


# Drivers come along as parallel arrays in the same statement: typed, and one round trip.
VERSION_COLS = """v.id AS v_id, v.contract_id AS v_contract_id, lower(v.valid) AS v_valid_from,
    upper(v.valid) AS v_valid_to, v.recorded_at AS v_recorded_at, v.superseded_at AS v_superseded_at,
    v.transaction_id AS v_transaction_id, v.derived_from_id AS v_derived_from_id,
    v.vehicle_id AS v_vehicle_id, v.named_insured_id AS v_named_insured_id,
    v.age_condition AS v_age_condition, v.driver_restriction AS v_driver_restriction,
    v.premium_yen AS v_premium_yen, v.grade AS v_grade, v.grade_marker AS v_grade_marker,
    v.grade_period AS v_grade_period, v.coverages AS v_coverages, v.discounts AS v_discounts,
    v.explanation AS v_explanation, v.rating_input AS v_rating_input, v.premium AS v_premium,
    vd.party_ids AS v_d_party_ids,
    vd.relationships AS v_d_relationships, vd.colours AS v_d_colours, vd.licence_dates AS v_d_licence_dates"""

VERSION_DRIVERS_LATERAL = """CROSS JOIN LATERAL (
        SELECT array_agg(d.party_id ORDER BY d.party_id) AS party_ids,
               array_agg(d.relationship ORDER BY d.party_id) AS relationships,
               array_agg(d.licence_colour ORDER BY d.party_id) AS colours,
               array_agg(d.licence_date ORDER BY d.party_id) AS licence_dates
        FROM version_drivers d WHERE d.version_id = v.id) vd"""


def version_from_row(r: Mapping[str, Any]) -> ContractVersion:
    party_ids = r["v_d_party_ids"] or []
    drivers = tuple(
        DriverEntry(pid, Relationship(rel), LicenceColour(col), ld)
        for pid, rel, col, ld in zip(
            party_ids, r["v_d_relationships"] or [], r["v_d_colours"] or [], r["v_d_licence_dates"] or []
        )
    )
    data = VersionData(
        vehicle_id=r["v_vehicle_id"],
        named_insured_id=r["v_named_insured_id"],
        age_condition=AgeCondition(r["v_age_condition"]),
        driver_restriction=DriverRestriction(r["v_driver_restriction"]),
        premium_yen=r["v_premium_yen"],
        grade=GradeRecord(r["v_grade"], GradeMarker(r["v_grade_marker"]), r["v_grade_period"]),
        coverages=r["v_coverages"],
        discounts=r["v_discounts"],
        explanation=r["v_explanation"],
        drivers=drivers,
        rating_input=r["v_rating_input"],
        premium=r["v_premium"],
    )
    return ContractVersion(
        id=r["v_id"],
        contract_id=r["v_contract_id"],
        valid_from=r["v_valid_from"],
        valid_to=r["v_valid_to"],
        recorded_at=r["v_recorded_at"],
        superseded_at=r["v_superseded_at"],
        transaction_id=r["v_transaction_id"],
        derived_from_id=r["v_derived_from_id"],
        data=data,
    )


# One statement inserts the version and its drivers (unnest of parallel arrays).
_INSERT_VERSION = """
WITH v AS (
    INSERT INTO contract_versions (contract_id, valid, recorded_at, transaction_id, derived_from_id,
        vehicle_id, named_insured_id, age_condition, driver_restriction, premium_yen, grade,
        grade_marker, grade_period, coverages, discounts, explanation, rating_input, premium)
    VALUES ($1, tstzrange($2, $3, '[)'), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $22, $23)
    RETURNING id
), d AS (
    INSERT INTO version_drivers (version_id, party_id, relationship, licence_colour, licence_date)
    SELECT v.id, x.party_id, x.relationship, x.colour, x.licence_date
    FROM v, unnest($18::bigint[], $19::text[], $20::text[], $21::date[])
            AS x(party_id, relationship, colour, licence_date)
)
SELECT id FROM v"""


async def insert_version(
    conn: asyncpg.Connection,
    contract_id: int,
    valid_from: datetime,
    valid_to: datetime | None,
    data: VersionData,
    *,
    recorded_at: datetime,
    transaction_id: int | None,
    derived_from_id: int | None,
) -> ContractVersion:
    g = data.grade
    drivers = data.drivers
    version_id = await conn.fetchval(
        _INSERT_VERSION,
        contract_id, valid_from, valid_to, recorded_at, transaction_id, derived_from_id,
        data.vehicle_id, data.named_insured_id, data.age_condition.value, data.driver_restriction.value,
        data.premium_yen, g.grade, g.marker.value, g.period, data.coverages, data.discounts,
        data.explanation,
        [d.party_id for d in drivers], [d.relationship.value for d in drivers],
        [d.licence_colour.value for d in drivers], [d.licence_date for d in drivers],
        data.rating_input, data.premium,
    )
    return ContractVersion(
        id=version_id, contract_id=contract_id, valid_from=valid_from, valid_to=valid_to,
        recorded_at=recorded_at, superseded_at=None, transaction_id=transaction_id,
        derived_from_id=derived_from_id, data=data,
    )


# V' is V's row and drivers copied over a shorter range, in SQL so nothing round-trips.
_COPY_VERSION = """
WITH v AS (
    INSERT INTO contract_versions (contract_id, valid, recorded_at, transaction_id, derived_from_id,
        vehicle_id, named_insured_id, age_condition, driver_restriction, premium_yen, grade,
        grade_marker, grade_period, coverages, discounts, explanation, rating_input, premium)
    SELECT contract_id, tstzrange(lower(valid), $2, '[)'), $3, $4, id,
        vehicle_id, named_insured_id, age_condition, driver_restriction, premium_yen, grade,
        grade_marker, grade_period, coverages, discounts, explanation, rating_input, premium
    FROM contract_versions WHERE id = $1
    RETURNING id
), d AS (
    INSERT INTO version_drivers (version_id, party_id, relationship, licence_colour, licence_date)
    SELECT v.id, d.party_id, d.relationship, d.licence_colour, d.licence_date
    FROM v, version_drivers d WHERE d.version_id = $1
)
SELECT id FROM v"""


async def append_version(
    uow: UnitOfWork,
    contract_id: int,
    expected_lock_version: int,
    effective_at: datetime,
    data: VersionData,
    *,
    recorded_at: datetime,
    transaction_id: int | None = None,
    valid_until: datetime | None = None,
) -> AppendedVersion:
    """Put `data` in force from `effective_at`, recorded at `recorded_at`.

    Inside a current version V: V is superseded, V' = V's data over [V.start, t) (skipped when
    t == V.start) and V'' = data over [t, V.end). Versions after V are left as they are. When no
    current version contains t but t is at or after the end of the last one (a bounded chain),
    the new version continues the chain over [t, valid_until). Before the first version:
    `NoVersionAt`. A stale `expected_lock_version`: `VersionConflict`, nothing written.
    """
    aware(effective_at, "effective_at"), aware(recorded_at, "recorded_at")
    conn = uow.conn
    new_lock = await lock_contract(uow, contract_id, expected_lock_version)
    closed = await conn.fetchrow(
        """UPDATE contract_versions SET superseded_at = $3
           WHERE contract_id = $1 AND superseded_at IS NULL AND valid @> $2::timestamptz
           RETURNING id, lower(valid) AS valid_from, upper(valid) AS valid_to""",
        contract_id, effective_at, recorded_at,
    )
    if closed is not None:
        if valid_until is not None and valid_until != closed["valid_to"]:
            raise ValueError("valid_until applies only when continuing a chain; a split keeps V's end")
        before_id = None
        if closed["valid_from"] < effective_at:
            before_id = await conn.fetchval(
                _COPY_VERSION, closed["id"], effective_at, recorded_at, transaction_id
            )
        after = await insert_version(
            conn, contract_id, effective_at, closed["valid_to"], data,
            recorded_at=recorded_at, transaction_id=transaction_id, derived_from_id=closed["id"],
        )
        return AppendedVersion(new_lock, closed["id"], before_id, after)

    last_end = await conn.fetchrow(
        """SELECT upper(valid) AS valid_to FROM contract_versions
           WHERE contract_id = $1 AND superseded_at IS NULL ORDER BY lower(valid) DESC LIMIT 1""",
        contract_id,
    )
    if last_end is None or last_end["valid_to"] is None or effective_at < last_end["valid_to"]:
        raise NoVersionAt(contract_id, effective_at)
    after = await insert_version(
        conn, contract_id, effective_at, valid_until, data,
        recorded_at=recorded_at, transaction_id=transaction_id, derived_from_id=None,
    )
    return AppendedVersion(new_lock, None, None, after)


async def version_as_of(
    conn: Executor, contract_id: int, at: datetime, *, known_at: datetime | None = None
) -> ContractVersion | None:
    """The version in force at `at`, as we know it now — or as we knew it at `known_at`."""
    aware(at, "at")
    args: tuple[object, ...]
    if known_at is None:
        knowledge, args = "v.superseded_at IS NULL", (contract_id, at)
    else:
        knowledge = "v.recorded_at <= $3 AND (v.superseded_at IS NULL OR v.superseded_at > $3)"
        args = (contract_id, at, aware(known_at, "known_at"))
    row = await conn.fetchrow(
        f"""SELECT {VERSION_COLS} FROM contract_versions v {VERSION_DRIVERS_LATERAL}
            WHERE v.contract_id = $1 AND v.valid @> $2::timestamptz AND {knowledge}""",
        *args,
    )
    return version_from_row(row) if row else None


async def versions(
    conn: Executor, contract_id: int, *, include_superseded: bool = False
) -> list[ContractVersion]:
    """Current versions in valid-time order; with `include_superseded`, the whole history."""
    where = "" if include_superseded else "AND v.superseded_at IS NULL"
    rows = await conn.fetch(
        f"""SELECT {VERSION_COLS} FROM contract_versions v {VERSION_DRIVERS_LATERAL}
            WHERE v.contract_id = $1 {where} ORDER BY lower(v.valid), v.recorded_at, v.id""",
        contract_id,
    )
    return [version_from_row(r) for r in rows]


async def versions_of(
    conn: Executor, contract_ids: Sequence[int], *, include_superseded: bool = False
) -> dict[int, list[ContractVersion]]:
    """`versions` of many contracts in one statement."""
    where = "" if include_superseded else "AND v.superseded_at IS NULL"
    rows = await conn.fetch(
        f"""SELECT {VERSION_COLS} FROM contract_versions v {VERSION_DRIVERS_LATERAL}
            WHERE v.contract_id = any($1::bigint[]) {where}
            ORDER BY v.contract_id, lower(v.valid), v.recorded_at, v.id""",
        list(contract_ids),
    )
    out: dict[int, list[ContractVersion]] = {int(c): [] for c in contract_ids}
    for r in rows:
        out[r["v_contract_id"]].append(version_from_row(r))
    return out
