"""Parties (people and corporations), agencies and vehicles: created once, referenced by contracts.

Functions taking `conn` accept anything with asyncpg's fetch methods (a connection, `uow.conn`, or a
pool for a single statement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.store.uow import Executor, UnitOfWork
from domain.vocab import Fuel, Labelled, LicenceColour, UseType


class PartyKind(Labelled):
    PERSON = ("PERSON", "個人", "Person")
    CORPORATION = ("CORPORATION", "法人", "Corporation")


@dataclass(frozen=True, slots=True)
class NewParty:
    kind: PartyKind
    name_kanji: str
    name_kana: str | None = None
    name_en: str | None = None
    birth_date: date | None = None
    postal_code: str | None = None
    address_ja: str | None = None
    address_en: str | None = None
    account_party_id: int | None = None  # whose book this person belongs to (None: their own)
    agency_id: int | None = None  # the agency that registered them
    licence_colour: LicenceColour | None = None
    licence_date: date | None = None


@dataclass(frozen=True, slots=True)
class Party:
    id: int
    kind: PartyKind
    name_kanji: str
    name_kana: str | None
    name_en: str | None
    birth_date: date | None
    postal_code: str | None
    address_ja: str | None
    address_en: str | None
    account_party_id: int | None = None
    agency_id: int | None = None
    licence_colour: LicenceColour | None = None
    licence_date: date | None = None


@dataclass(frozen=True, slots=True)
class Agency:
    id: int
    code: str
    name_ja: str
    name_en: str | None


@dataclass(frozen=True, slots=True)
class NewVehicle:
    use_type: UseType
    registration_no: str | None = None
    chassis_no: str | None = None
    model_code: str | None = None
    first_registration: date | None = None  # first day of the year-month
    model_release: date | None = None  # first day of the year-month
    rating_classes: Mapping[str, int] = field(default_factory=dict)  # coverage code -> 型式別料率クラス
    aeb: bool = False
    fuel: Fuel | None = None
    welfare: bool = False
    value_yen: int | None = None
    owner_party_id: int | None = None
    account_party_id: int | None = None
    agency_id: int | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: int
    use_type: UseType
    registration_no: str | None
    chassis_no: str | None
    model_code: str | None
    first_registration: date | None
    model_release: date | None
    rating_classes: Mapping[str, int]
    aeb: bool
    fuel: Fuel | None
    welfare: bool
    value_yen: int | None
    owner_party_id: int | None
    account_party_id: int | None = None
    agency_id: int | None = None


PARTY_COLS = (
    "id, kind, name_kanji, name_kana, name_en, birth_date, postal_code, address_ja, address_en, "
    "account_party_id, agency_id, licence_colour, licence_date"
)
VEHICLE_COLS = (
    "id, use_type, registration_no, chassis_no, model_code, first_registration, model_release, "
    "rating_classes, aeb, fuel, welfare, value_yen, owner_party_id, account_party_id, agency_id"
)


def party_from_row(r: Mapping[str, Any], prefix: str = "") -> Party:
    return Party(
        id=r[f"{prefix}id"],
        kind=PartyKind(r[f"{prefix}kind"]),
        name_kanji=r[f"{prefix}name_kanji"],
        name_kana=r[f"{prefix}name_kana"],
        name_en=r[f"{prefix}name_en"],
        birth_date=r[f"{prefix}birth_date"],
        postal_code=r[f"{prefix}postal_code"],
        address_ja=r[f"{prefix}address_ja"],
        address_en=r[f"{prefix}address_en"],
        account_party_id=r[f"{prefix}account_party_id"],
        agency_id=r[f"{prefix}agency_id"],
        licence_colour=LicenceColour(r[f"{prefix}licence_colour"]) if r[f"{prefix}licence_colour"] else None,
        licence_date=r[f"{prefix}licence_date"],
    )


def vehicle_from_row(r: Mapping[str, Any], prefix: str = "") -> Vehicle:
    fuel = r[f"{prefix}fuel"]
    return Vehicle(
        id=r[f"{prefix}id"],
        use_type=UseType(r[f"{prefix}use_type"]),
        registration_no=r[f"{prefix}registration_no"],
        chassis_no=r[f"{prefix}chassis_no"],
        model_code=r[f"{prefix}model_code"],
        first_registration=r[f"{prefix}first_registration"],
        model_release=r[f"{prefix}model_release"],
        rating_classes=r[f"{prefix}rating_classes"],
        aeb=r[f"{prefix}aeb"],
        fuel=Fuel(fuel) if fuel is not None else None,
        welfare=r[f"{prefix}welfare"],
        value_yen=r[f"{prefix}value_yen"],
        owner_party_id=r[f"{prefix}owner_party_id"],
        account_party_id=r[f"{prefix}account_party_id"],
        agency_id=r[f"{prefix}agency_id"],
    )


async def create_party(uow: UnitOfWork, p: NewParty) -> Party:
    if p.kind is PartyKind.CORPORATION and p.birth_date is not None:
        raise ValueError("a corporation has no birth date")
    row = await uow.conn.fetchrow(
        f"""INSERT INTO parties (kind, name_kanji, name_kana, name_en, birth_date, postal_code,
                                 address_ja, address_en, account_party_id, agency_id, licence_colour,
                                 licence_date)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {PARTY_COLS}""",
        p.kind.value, p.name_kanji, p.name_kana, p.name_en, p.birth_date, p.postal_code,
        p.address_ja, p.address_en, p.account_party_id, p.agency_id,
        p.licence_colour.value if p.licence_colour else None, p.licence_date,
    )
    return party_from_row(row)


async def create_agency(uow: UnitOfWork, code: str, name_ja: str, name_en: str | None = None) -> Agency:
    row = await uow.conn.fetchrow(
        "INSERT INTO agencies (code, name_ja, name_en) VALUES ($1, $2, $3) RETURNING id, code, name_ja, name_en",
        code, name_ja, name_en,
    )
    return Agency(row["id"], row["code"], row["name_ja"], row["name_en"])


async def create_vehicle(uow: UnitOfWork, v: NewVehicle) -> Vehicle:
    if v.value_yen is not None and v.value_yen < 0:
        raise ValueError("a vehicle value is never negative")
    row = await uow.conn.fetchrow(
        f"""INSERT INTO vehicles (use_type, registration_no, chassis_no, model_code, first_registration,
                                  model_release, rating_classes, aeb, fuel, welfare, value_yen,
                                  owner_party_id, account_party_id, agency_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING {VEHICLE_COLS}""",
        v.use_type.value, v.registration_no, v.chassis_no, v.model_code, v.first_registration,
        v.model_release, dict(v.rating_classes), v.aeb, v.fuel.value if v.fuel else None, v.welfare,
        v.value_yen, v.owner_party_id, v.account_party_id, v.agency_id,
    )
    return vehicle_from_row(row)


async def parties_by_id(conn: Executor, ids: Sequence[int]) -> dict[int, Party]:
    rows = await conn.fetch(f"SELECT {PARTY_COLS} FROM parties WHERE id = any($1::bigint[])", list(ids))
    return {r["id"]: party_from_row(r) for r in rows}


async def vehicles_by_id(conn: Executor, ids: Sequence[int]) -> dict[int, Vehicle]:
    rows = await conn.fetch(f"SELECT {VEHICLE_COLS} FROM vehicles WHERE id = any($1::bigint[])", list(ids))
    return {r["id"]: vehicle_from_row(r) for r in rows}


async def agencies_by_id(conn: Executor, ids: Sequence[int]) -> dict[int, Agency]:
    rows = await conn.fetch(
        "SELECT id, code, name_ja, name_en FROM agencies WHERE id = any($1::bigint[])", list(ids)
    )
    return {r["id"]: Agency(r["id"], r["code"], r["name_ja"], r["name_en"]) for r in rows}


async def agency_by_code(conn: Executor, code: str) -> Agency | None:
    r = await conn.fetchrow("SELECT id, code, name_ja, name_en FROM agencies WHERE code = $1", code)
    return None if r is None else Agency(r["id"], r["code"], r["name_ja"], r["name_en"])


async def agency_page(conn: Executor, *, first: int, after_id: int | None,
                      only: Sequence[int] | None) -> tuple[list[Agency], bool]:
    """Agencies by id (keyset), `first` of them after `after_id`, within `only` when given;
    and whether more follow."""
    rows = await conn.fetch(
        """SELECT id, code, name_ja, name_en FROM agencies
            WHERE id > coalesce($1::bigint, 0) AND ($2::bigint[] IS NULL OR id = any($2::bigint[]))
            ORDER BY id LIMIT $3""",
        after_id, None if only is None else list(only), first + 1,
    )
    found = [Agency(r["id"], r["code"], r["name_ja"], r["name_en"]) for r in rows]
    return found[:first], len(found) > first


async def agencies_of_policyholder(conn: Executor, party_id: int) -> list[int]:
    """The agencies of the contracts a policyholder holds (what they may read of agencies)."""
    rows = await conn.fetch(
        "SELECT DISTINCT agency_id FROM contracts WHERE policyholder_id = $1 AND agency_id IS NOT NULL", party_id)
    return [r["agency_id"] for r in rows]


__all__ = [
    "PARTY_COLS", "VEHICLE_COLS", "Agency", "NewParty", "NewVehicle", "Party", "PartyKind", "Vehicle", "agencies_by_id",
    "agencies_of_policyholder", "agency_by_code", "agency_page", "create_agency", "create_party", "create_vehicle",
    "parties_by_id", "vehicles_by_id",
]
