"""Contract reads compiled to one SQL statement that builds the answer's JSON in PostgreSQL.

The API turns a GraphQL selection into a tree of `Sel` (response key, field, children); this
module turns that tree into `json_build_object(...)` expressions over the contract tables, so a
detail or a page of 100 contracts with nested versions, vehicles and drivers is one statement
and PostgreSQL hands back JSON the API passes through (no object per row, no await per field).

Only the fields listed in the tables below compile; `Unsupported` tells the caller to use the
general path instead. Every expression here must answer exactly what api/types/contracts.py
answers for the same field (tests/api/test_compiled_reads.py compares the two on a corpus).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import asyncpg

from domain.explanation import StepKind
from domain.grade import GradeMarker
from domain.store.contract_repo import TermStatus
from domain.store.party_repo import PartyKind
from domain.vocab import (
    AgeCondition,
    Channel,
    ContractStatus,
    DriverRestriction,
    Fuel,
    Labelled,
    LicenceColour,
    PaymentMethod,
    Relationship,
    UseType,
)


class Unsupported(Exception):
    """The selection asks for something this compiler does not build; use the general path."""


@dataclass(frozen=True, slots=True)
class Sel:
    key: str  # response key (alias or field name)
    name: str  # schema field name
    children: tuple[Sel, ...] = ()
    type_name: str = ""  # for __typename
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.key, self.name, self.children, self.type_name)))

    def __hash__(self) -> int:
        # A selection is the statement cache's key on every request; the generated hash would walk
        # the whole tree each time (issue 16's profile), this one is computed once, bottom up.
        return self._hash


@dataclass(frozen=True, slots=True)
class ContractScopeSql:
    policyholder_id: int | None = None
    agency_id: int | None = None


class _Args:
    """Positional parameters of the statement being built."""

    def __init__(self) -> None:
        self.values: list[object] = []

    def add(self, value: object) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _label_map(labels: Mapping[str, tuple[str, str]]) -> str:
    return _lit(json.dumps({k: {"ja": ja, "en": en} for k, (ja, en) in labels.items()}, ensure_ascii=False)) + "::jsonb"


def _enum_map(enum: type[Labelled]) -> Mapping[str, tuple[str, str]]:
    return {m.value: (m.ja, m.en) for m in enum}


_MAPS: dict[str, str] = {}


def _map_sql(name: str, labels: Mapping[str, tuple[str, str]]) -> str:
    if name not in _MAPS:
        _MAPS[name] = _label_map(labels)
    return _MAPS[name]


def _label(sels: tuple[Sel, ...], code_sql: str, map_name: str, labels: Mapping[str, tuple[str, str]]) -> str:
    """A `Label {code ja en}` of a text expression; NULL when the code is NULL."""
    m = _map_sql(map_name, labels)
    parts: list[str] = []
    for s in sels:
        if s.name == "code":
            parts.append(f"{_lit(s.key)}, {code_sql}")
        elif s.name in ("ja", "en"):
            parts.append(f"{_lit(s.key)}, {m} -> ({code_sql}) ->> {_lit(s.name)}")
        elif s.name == "__typename":
            parts.append(f"{_lit(s.key)}, 'Label'")
        else:
            raise Unsupported(f"Label.{s.name}")
    return f"CASE WHEN ({code_sql}) IS NULL THEN NULL ELSE {_obj(parts)} END"


def _obj(parts: list[str]) -> str:
    if len(parts) > 50:  # json_build_object takes at most 100 arguments
        raise Unsupported("selection too wide")
    return "json_build_object(" + ", ".join(parts) + ")" if parts else "json_build_object()"


Compiler = Callable[[Sel, str, _Args], str]


@dataclass
class _Type:
    """Field name → SQL expression builder, given the row alias of the object."""

    name: str
    fields: dict[str, Compiler] = field(default_factory=dict)

    def build(self, sels: tuple[Sel, ...], alias: str, args: _Args) -> str:
        parts: list[str] = []
        for s in sels:
            if s.name == "__typename":
                parts.append(f"{_lit(s.key)}, {_lit(self.name)}")
                continue
            compile_field = self.fields.get(s.name)
            if compile_field is None:
                raise Unsupported(f"{self.name}.{s.name}")
            parts.append(f"{_lit(s.key)}, {compile_field(s, alias, args)}")
        return _obj(parts)


def col(expr: str) -> Compiler:
    return lambda s, a, _args: expr.format(a=a)


def label_col(expr: str, map_name: str, labels: Mapping[str, tuple[str, str]]) -> Compiler:
    return lambda s, a, _args: _label(s.children, expr.format(a=a), map_name, labels)


def gid(type_name: str, id_expr: str = "{a}.id") -> Compiler:
    return lambda s, a, _args: (
        f"encode(convert_to({_lit(type_name + ':')} || ({id_expr.format(a=a)})::text, 'UTF8'), 'base64')"
    )


_n = iter(range(1, 1_000_000_000))


def _alias(prefix: str) -> str:
    return f"{prefix}{next(_n)}"


# --- types ---------------------------------------------------------------------------------------

PARTY = _Type("Party", {
    "id": gid("Party"),
    "databaseId": col("{a}.id"),
    "kind": label_col("{a}.kind", "party_kind", _enum_map(PartyKind)),
    "nameKanji": col("{a}.name_kanji"),
    "nameKana": col("{a}.name_kana"),
    "nameEn": col("{a}.name_en"),
    "birthDate": col("{a}.birth_date"),
    "postalCode": col("{a}.postal_code"),
    "addressJa": col("{a}.address_ja"),
    "addressEn": col("{a}.address_en"),
    "licenceColour": label_col("{a}.licence_colour", "licence_colour", _enum_map(LicenceColour)),
    "licenceDate": col("{a}.licence_date"),
})


def _rating_classes(s: Sel, a: str, args: _Args) -> str:
    r = _alias("rc")
    parts = []
    for c in s.children:
        if c.name == "group":
            parts.append(f"{_lit(c.key)}, {r}.k")
        elif c.name == "class":
            parts.append(f"{_lit(c.key)}, ({r}.val)::int")
        elif c.name == "__typename":
            parts.append(f"{_lit(c.key)}, 'RatingClass'")
        else:
            raise Unsupported(f"RatingClass.{c.name}")
    return (f"(SELECT coalesce(json_agg({_obj(parts)} ORDER BY {r}.k), '[]'::json) "
            f"FROM jsonb_each_text({a}.rating_classes) AS {r}(k, val))")


VEHICLE = _Type("Vehicle", {
    "id": gid("Vehicle"),
    "databaseId": col("{a}.id"),
    "useType": label_col("{a}.use_type", "use_type", _enum_map(UseType)),
    "registrationNo": col("{a}.registration_no"),
    "chassisNo": col("{a}.chassis_no"),
    "modelCode": col("{a}.model_code"),
    "firstRegistration": col("to_char({a}.first_registration, 'YYYY-MM')"),
    "modelRelease": col("to_char({a}.model_release, 'YYYY-MM')"),
    "ratingClasses": _rating_classes,
    "aeb": col("{a}.aeb"),
    "fuel": label_col("{a}.fuel", "fuel", _enum_map(Fuel)),
    "welfare": col("{a}.welfare"),
    "valueYen": col("{a}.value_yen"),
})

TERM = _Type("Term", {
    "termNo": col("{a}.term_no"),
    "startsAt": col("{a}.starts_at"),
    "endsAt": col("{a}.ends_at"),
    "status": label_col("{a}.status", "term_status", _enum_map(TermStatus)),
})


def _grade_type(grade: str, marker: str, period: str) -> _Type:
    return _Type("Grade", {
        "grade": col(grade),
        "marker": label_col(marker, "grade_marker", _enum_map(GradeMarker)),
        "period": col(period),
        "label": col(f"CASE WHEN {marker} = 'NONE' THEN ({grade})::text "
                     f"ELSE ({grade})::text || '(' || {marker} || ')' END"),
    })


GRADE_RECORD = _grade_type("{a}.grade", "{a}.marker", "{a}.period")
VERSION_GRADE = _grade_type("{a}.grade", "{a}.grade_marker", "{a}.grade_period")


def _related(t: _Type, table: str, where: str) -> Compiler:
    """A to-one relation: a correlated subquery building the related object."""
    def compile_field(s: Sel, a: str, args: _Args) -> str:
        r = _alias("r")
        return f"(SELECT {t.build(s.children, r, args)} FROM {table} {r} WHERE {where.format(a=a, r=r)})"
    return compile_field


# JSON-backed objects (premium and explanation stored on the version): fields read keys of a jsonb.
def _json_obj(type_name: str, spec: Mapping[str, Any]) -> Callable[[tuple[Sel, ...], str, _Args], str]:
    def build(sels: tuple[Sel, ...], src: str, args: _Args) -> str:
        parts: list[str] = []
        for s in sels:
            if s.name == "__typename":
                parts.append(f"{_lit(s.key)}, {_lit(type_name)}")
                continue
            kind = spec.get(s.name)
            if kind is None:
                raise Unsupported(f"{type_name}.{s.name}")
            parts.append(f"{_lit(s.key)}, {kind(s, src, args)}")
        return _obj(parts)
    return build


def jkey(key: str) -> Compiler:
    return lambda s, src, _args: f"({src} -> {_lit(key)})"


def jlabel(key: str, map_name: str, labels: Mapping[str, tuple[str, str]]) -> Compiler:
    return lambda s, src, _args: _label(s.children, f"({src} ->> {_lit(key)})", map_name, labels)


def jlist(key: str, item: Callable[[tuple[Sel, ...], str, _Args], str]) -> Compiler:
    def compile_field(s: Sel, src: str, args: _Args) -> str:
        e = _alias("e")
        return (f"(SELECT coalesce(json_agg({item(s.children, f'{e}.x', args)} ORDER BY {e}.n), '[]'::json) "
                f"FROM jsonb_array_elements({src} -> {_lit(key)}) WITH ORDINALITY AS {e}(x, n))")
    return compile_field


STEP = _json_obj("ExplanationStep", {
    "line": jkey("line"), "kind": jlabel("kind", "step_kind", _enum_map(StepKind)), "factor": jkey("factor"),
    "ja": jkey("ja"), "en": jkey("en"), "value": jkey("value"), "rate": jkey("rate"), "rule": jkey("rule"),
    "before": jkey("before"), "after": jkey("after"), "delta": jkey("delta"),
})
EXPLANATION = _json_obj("Explanation", {
    "productId": jkey("productId"), "tariffVersion": jkey("tariffVersion"),
    "demonstration": jkey("demonstration"), "totalYen": jkey("totalYen"), "steps": jlist("steps", STEP),
})
PREMIUM_LINE = _json_obj("PremiumLine", {
    "code": jkey("code"), "rider": jkey("rider"), "ja": jkey("ja"), "en": jkey("en"), "amountYen": jkey("amountYen"),
})


def _premium_of(version_alias: str) -> Callable[[tuple[Sel, ...], str, _Args], str]:
    def explanation(s: Sel, src: str, args: _Args) -> str:
        e = f"{version_alias}.explanation"
        return f"CASE WHEN {e} = '{{}}'::jsonb THEN NULL ELSE {EXPLANATION(s.children, e, args)} END"

    return _json_obj("Premium", {
        "totalYen": jkey("totalYen"), "tariffVersion": jkey("tariffVersion"), "demonstration": jkey("demonstration"),
        "startDate": jkey("startDate"), "termMonths": jkey("termMonths"),
        "paymentMethod": jlabel("paymentMethod", "payment_method", _enum_map(PaymentMethod)),
        "instalmentsYen": jkey("instalmentsYen"), "riders": jkey("riders"), "discounts": jkey("discounts"),
        "lines": jlist("lines", PREMIUM_LINE), "explanation": explanation,
    })


def _premium(s: Sel, v: str, args: _Args) -> str:
    return f"CASE WHEN {v}.premium = '{{}}'::jsonb THEN NULL ELSE {_premium_of(v)(s.children, f'{v}.premium', args)} END"


CHOSEN_COVERAGE = _json_obj("ChosenCoverage", {
    "code": jkey("code"), "option": jkey("option"),
    "amountYen": lambda s, src, _a: f"coalesce({src} -> 'amountYen', '0'::jsonb)",
})


def _drivers(s: Sel, v: str, args: _Args) -> str:
    d, p = _alias("d"), _alias("dp")
    parts: list[str] = []
    for c in s.children:
        if c.name == "party":
            parts.append(f"{_lit(c.key)}, {PARTY.build(c.children, p, args)}")
        elif c.name == "relationship":
            parts.append(f"{_lit(c.key)}, {_label(c.children, f'{d}.relationship', 'relationship', _enum_map(Relationship))}")
        elif c.name == "licenceColour":
            parts.append(f"{_lit(c.key)}, {_label(c.children, f'{d}.licence_colour', 'licence_colour', _enum_map(LicenceColour))}")
        elif c.name == "licenceDate":
            parts.append(f"{_lit(c.key)}, {d}.licence_date")
        elif c.name == "age":
            on = "($1::timestamptz AT TIME ZONE 'Asia/Tokyo')::date"
            parts.append(f"{_lit(c.key)}, CASE WHEN {p}.birth_date IS NULL OR {p}.birth_date > {on} THEN NULL "
                         f"ELSE extract(year FROM age({on}::timestamp, {p}.birth_date::timestamp))::int END")
        elif c.name == "__typename":
            parts.append(f"{_lit(c.key)}, 'Driver'")
        else:
            raise Unsupported(f"Driver.{c.name}")
    return (f"(SELECT coalesce(json_agg({_obj(parts)} ORDER BY {d}.party_id), '[]'::json) "
            f"FROM version_drivers {d} JOIN parties {p} ON {p}.id = {d}.party_id WHERE {d}.version_id = {v}.id)")


def _discounts(s: Sel, v: str, args: _Args) -> str:
    e = _alias("q")
    return (f"(SELECT coalesce(json_agg({e}.x #>> '{{}}' ORDER BY {e}.n), '[]'::json) "
            f"FROM jsonb_array_elements({v}.discounts) WITH ORDINALITY AS {e}(x, n))")


VERSION = _Type("ContractVersion", {
    "databaseId": col("{a}.id"),
    "validFrom": col("lower({a}.valid)"),
    "validTo": col("upper({a}.valid)"),
    "recordedAt": col("{a}.recorded_at"),
    "supersededAt": col("{a}.superseded_at"),
    "ageCondition": label_col("{a}.age_condition", "age_condition", _enum_map(AgeCondition)),
    "driverRestriction": label_col("{a}.driver_restriction", "driver_restriction", _enum_map(DriverRestriction)),
    "premiumYen": col("{a}.premium_yen"),
    "grade": lambda s, a, args: VERSION_GRADE.build(s.children, a, args),
    "vehicle": _related(VEHICLE, "vehicles", "{r}.id = {a}.vehicle_id"),
    "namedInsured": _related(PARTY, "parties", "{r}.id = {a}.named_insured_id"),
    "drivers": _drivers,
    "coverages": lambda s, a, args: jlist("coverages", CHOSEN_COVERAGE)(s, f"jsonb_build_object('coverages', {a}.coverages)", args),
    "discounts": _discounts,
    "premium": _premium,
})

# The version in force at $1, or the first to come when cover has not started (as the read repo).
_VERSION_AT = ("{r}.contract_id = {a}.id AND {r}.superseded_at IS NULL "
               "AND ({r}.valid @> $1::timestamptz OR lower({r}.valid) > $1::timestamptz) "
               "ORDER BY lower({r}.valid) LIMIT 1")


def _version_at(s: Sel, c: str, args: _Args) -> str:
    v = _alias("v")
    return f"(SELECT {VERSION.build(s.children, v, args)} FROM contract_versions {v} WHERE {_VERSION_AT.format(a=c, r=v)})"


def _contract_premium(s: Sel, c: str, args: _Args) -> str:
    v = _alias("v")
    return f"(SELECT {_premium(s, v, args)} FROM contract_versions {v} WHERE {_VERSION_AT.format(a=c, r=v)})"


def _grade(s: Sel, c: str, args: _Args) -> str:
    g = _alias("g")
    return (f"(SELECT {GRADE_RECORD.build(s.children, g, args)} FROM grade_records {g} "
            f"WHERE {g}.contract_id = {c}.id ORDER BY {g}.id DESC LIMIT 1)")


def _terms(s: Sel, c: str, args: _Args) -> str:
    t = _alias("t")
    return (f"(SELECT coalesce(json_agg({TERM.build(s.children, t, args)} ORDER BY {t}.term_no), '[]'::json) "
            f"FROM terms {t} WHERE {t}.contract_id = {c}.id)")


_STATUS_ORDER = {m.value: i for i, m in enumerate(ContractStatus)}


def _statuses(s: Sel, c: str, args: _Args) -> str:
    x = _alias("st")
    order = "CASE " + " ".join(f"WHEN {x}.code = {_lit(k)} THEN {i}" for k, i in _STATUS_ORDER.items()) + " END"
    item = _label(s.children, f"{x}.code", "contract_status", _enum_map(ContractStatus))
    return f"(SELECT coalesce(json_agg({item} ORDER BY {order}), '[]'::json) FROM unnest({c}.statuses) AS {x}(code))"


CONTRACT = _Type("Contract", {
    "id": gid("Contract"),
    "databaseId": col("{a}.id"),
    "policyNumber": col("{a}.policy_number"),
    "productId": col("{a}.product_id"),
    "channel": label_col("{a}.channel", "channel", _enum_map(Channel)),
    "statuses": _statuses,
    "lockVersion": col("{a}.lock_version"),
    "createdAt": col("{a}.created_at"),
    "asOf": col("$1::timestamptz"),
    "policyholder": _related(PARTY, "parties", "{r}.id = {a}.policyholder_id"),
    "terms": _terms,
    "version": _version_at,
    "grade": _grade,
    "premium": _contract_premium,
})


@dataclass(frozen=True, slots=True)
class CompiledContracts:
    sql: str
    args: tuple[object, ...]


def compile_contracts(
    sels: tuple[Sel, ...], as_of: datetime, scope: ContractScopeSql, *,
    ids: Sequence[int] | None = None, policy_number: str | None = None,
) -> CompiledContracts:
    """One statement answering (id, json) rows of the contracts among `ids` (or with
    `policy_number`) that `scope` allows. Raises Unsupported for a selection it cannot build."""
    if ids is None and policy_number is None:
        raise ValueError("compile_contracts needs ids or a policy number")
    sql = _statement(sels, ids is not None, policy_number is not None,
                     scope.policyholder_id is not None, scope.agency_id is not None)
    args: list[object] = [as_of]
    if ids is not None:
        args.append(list(ids))
    if policy_number is not None:
        args.append(policy_number)
    if scope.policyholder_id is not None:
        args.append(scope.policyholder_id)
    if scope.agency_id is not None:
        args.append(scope.agency_id)
    return CompiledContracts(sql, tuple(args))


@lru_cache(maxsize=512)
def _statement(sels: tuple[Sel, ...], by_ids: bool, by_number: bool, by_holder: bool, by_agency: bool) -> str:
    """The SQL text depends only on the selection and which filters apply (values are parameters),
    so a repeated query shape is compiled once."""
    args = _Args()
    args.add(None)  # $1: the as-of instant, used by version-at and age expressions
    body = CONTRACT.build(sels, "c", args)
    where: list[str] = ["$1::timestamptz IS NOT NULL"]  # types $1 when the selection does not use it
    if by_ids:
        where.append(f"c.id = any({args.add(None)}::bigint[])")
    if by_number:
        where.append(f"c.policy_number = {args.add(None)}")
    if by_holder:
        where.append(f"c.policyholder_id = {args.add(None)}")
    if by_agency:
        where.append(f"c.agency_id = {args.add(None)}")
    # ::text: the document stays the JSON text PostgreSQL wrote (the API may embed it as is)
    return f"SELECT c.id, ({body})::text AS doc FROM contracts c WHERE {' AND '.join(where)}"


async def fetch_compiled(conn: asyncpg.Connection | asyncpg.Pool, q: CompiledContracts) -> dict[int, str]:
    """Each contract's answer document as JSON text."""
    rows = await conn.fetch(q.sql, *q.args)
    return {r["id"]: r["doc"] for r in rows}
