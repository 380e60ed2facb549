"""Fleets, their review decisions and their changes (migration 0020), and the figures a review reads."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from domain.calendar import JST, cover_moment
from domain.fleet import Period
from domain.store.uow import Executor


@dataclass(frozen=True, slots=True)
class Fleet:
    id: int
    fleet_number: str
    product_id: str
    policyholder_id: int
    agency_id: int | None
    all_vehicle_rider: bool
    ten_car_date: date
    starts_at: datetime | None     # the all-vehicle certificate's cover (None without the rider)
    ends_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewFleet:
    product_id: str
    policyholder_id: int
    agency_id: int | None
    all_vehicle_rider: bool
    ten_car_date: date
    starts_at: datetime | None
    ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredReview:
    fleet_id: int
    review_no: int
    review_date: date
    experience: Period
    paid_yen: int
    outstanding_end_yen: int
    outstanding_prev_end_yen: int
    premium_yen: int
    car_count: int
    loss_ratio: Decimal | None
    prior_rate_percent: int | None
    rate_percent: int | None
    reasons: tuple[str, ...]
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class FleetChange:
    id: int
    fleet_id: int
    kind: str                 # ADD_VEHICLE / REMOVE_VEHICLE
    contract_id: int
    effective_at: datetime
    premium_delta_yen: int
    actor_subject: str
    at: datetime


@dataclass(frozen=True, slots=True)
class EarningVersion:
    """A current version of a fleet car with its term, for the period's premium."""

    valid_from: datetime
    valid_to: datetime | None
    term_starts_at: datetime
    term_ends_at: datetime
    premium_yen: int
    rate_percent: int | None   # the fleet rate it was rated with (None: non-fleet grade)


_FLEET_COLS = ("id, fleet_number, product_id, policyholder_id, agency_id, all_vehicle_rider, ten_car_date, "
               "starts_at, ends_at, created_at")


def _fleet(r: Mapping[str, Any]) -> Fleet:
    return Fleet(r["id"], r["fleet_number"], r["product_id"], r["policyholder_id"], r["agency_id"],
                 r["all_vehicle_rider"], r["ten_car_date"], r["starts_at"], r["ends_at"], r["created_at"])


def _review(r: Mapping[str, Any]) -> StoredReview:
    return StoredReview(
        r["fleet_id"], r["review_no"], r["review_date"], Period(r["experience_from"], r["experience_to"]),
        r["paid_yen"], r["outstanding_end_yen"], r["outstanding_prev_end_yen"], r["premium_yen"], r["car_count"],
        r["loss_ratio"], r["prior_rate_percent"], r["rate_percent"], _reasons(r["reasons"]), r["decided_at"])


def _reasons(raw: Any) -> tuple[str, ...]:
    return tuple(json.loads(raw) if isinstance(raw, str) else raw)


async def insert_fleet(conn: Executor, new: NewFleet, *, prefix: str, at: datetime) -> Fleet:
    seq = int(await conn.fetchval("SELECT nextval('fleet_number_seq')"))
    row = await conn.fetchrow(
        f"""INSERT INTO fleets (fleet_number, product_id, policyholder_id, agency_id, all_vehicle_rider,
                                ten_car_date, starts_at, ends_at, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {_FLEET_COLS}""",
        f"{prefix}-{seq:06d}", new.product_id, new.policyholder_id, new.agency_id, new.all_vehicle_rider,
        new.ten_car_date, new.starts_at, new.ends_at, at)
    return _fleet(row)


async def get_fleet(conn: Executor, fleet_id: int, *, for_update: bool = False) -> Fleet | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_FLEET_COLS} FROM fleets WHERE id = $1{lock}", fleet_id)
    return None if row is None else _fleet(row)


async def fleets_page(conn: Executor, *, after: int, limit: int, agency_id: int | None,
                      policyholder_id: int | None) -> list[Fleet]:
    rows = await conn.fetch(
        f"""SELECT {_FLEET_COLS} FROM fleets
            WHERE id > $1 AND ($2::bigint IS NULL OR agency_id = $2) AND ($3::bigint IS NULL OR policyholder_id = $3)
            ORDER BY id LIMIT $4""", after, agency_id, policyholder_id, limit)
    return [_fleet(r) for r in rows]


async def reviews_of(conn: Executor, fleet_id: int) -> list[StoredReview]:
    rows = await conn.fetch("SELECT * FROM fleet_reviews WHERE fleet_id = $1 ORDER BY review_no", fleet_id)
    return [_review(r) for r in rows]


async def insert_review(conn: Executor, r: StoredReview) -> None:
    await conn.execute(
        """INSERT INTO fleet_reviews (fleet_id, review_no, review_date, experience_from, experience_to, paid_yen,
               outstanding_end_yen, outstanding_prev_end_yen, premium_yen, car_count, loss_ratio,
               prior_rate_percent, rate_percent, reasons, decided_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text::jsonb, $15)""",
        r.fleet_id, r.review_no, r.review_date, r.experience.start, r.experience.end, r.paid_yen,
        r.outstanding_end_yen, r.outstanding_prev_end_yen, r.premium_yen, r.car_count, r.loss_ratio,
        r.prior_rate_percent, r.rate_percent, json.dumps(list(r.reasons), ensure_ascii=False), r.decided_at)


async def insert_change(conn: Executor, *, fleet_id: int, kind: str, contract_id: int, effective_at: datetime,
                        delta_yen: int, actor_subject: str, at: datetime) -> FleetChange:
    row = await conn.fetchrow(
        """INSERT INTO fleet_changes (fleet_id, kind, contract_id, effective_at, premium_delta_yen, actor_subject, at)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        fleet_id, kind, contract_id, effective_at, delta_yen, actor_subject, at)
    return FleetChange(**dict(row))


async def changes_of(conn: Executor, fleet_id: int) -> list[FleetChange]:
    rows = await conn.fetch("SELECT * FROM fleet_changes WHERE fleet_id = $1 ORDER BY id", fleet_id)
    return [FleetChange(**dict(r)) for r in rows]


async def member_ids(conn: Executor, fleet_id: int) -> list[int]:
    rows = await conn.fetch("SELECT id FROM contracts WHERE fleet_id = $1 ORDER BY id", fleet_id)
    return [int(r["id"]) for r in rows]


# --- what a review reads -------------------------------------------------------------------------
# Contracts that started before the 10-car date are left out of the loss ratio (002b L5028).

_MEMBERS = """SELECT c.id FROM contracts c
              WHERE c.fleet_id = $1 AND NOT 'QUOTED' = ANY (c.statuses)
                AND (SELECT min(t.starts_at) FROM terms t WHERE t.contract_id = c.id) >= $2"""


async def paid_in(conn: Executor, fleet_id: int, ten_car_date: date, period: Period) -> int:
    return int(await conn.fetchval(
        f"""SELECT coalesce(sum(p.amount_yen), 0) FROM claim_payments p JOIN claims cl ON cl.id = p.claim_id
            WHERE cl.contract_id IN ({_MEMBERS}) AND p.paid_on >= $3 AND p.paid_on < $4""",
        fleet_id, cover_moment(ten_car_date), period.start, period.end))


async def outstanding_at(conn: Executor, fleet_id: int, ten_car_date: date, end: date) -> int:
    """Reserves still open on claims of accidents before `end` (the estimate of what is unpaid)."""
    return int(await conn.fetchval(
        f"""SELECT coalesce(sum(l.reserve_yen), 0) FROM claim_lines l JOIN claims cl ON cl.id = l.claim_id
            WHERE cl.contract_id IN ({_MEMBERS}) AND cl.accident_at < $3""",
        fleet_id, cover_moment(ten_car_date), datetime.combine(end, time(0), tzinfo=JST)))


async def earning_versions(conn: Executor, fleet_id: int, ten_car_date: date, period: Period) -> list[EarningVersion]:
    rows = await conn.fetch(
        f"""SELECT lower(v.valid) AS vf, upper(v.valid) AS vt, t.starts_at, t.ends_at, v.premium_yen,
                   (v.rating_input -> 'fleet' ->> 'rate_percent')::int AS rate
            FROM contract_versions v
            JOIN terms t ON t.contract_id = v.contract_id AND t.starts_at <= lower(v.valid)
                        AND lower(v.valid) < t.ends_at
            WHERE v.superseded_at IS NULL AND v.contract_id IN ({_MEMBERS})
              AND t.status NOT IN ('QUOTED', 'RESCINDED')
              AND lower(v.valid) < $4 AND (upper(v.valid) IS NULL OR upper(v.valid) > $3)""",
        fleet_id, cover_moment(ten_car_date), cover_moment(period.start), cover_moment(period.end))
    return [EarningVersion(r["vf"], r["vt"], r["starts_at"], r["ends_at"], r["premium_yen"], r["rate"]) for r in rows]


async def cars_at(conn: Executor, fleet_id: int, at: datetime) -> int:
    return int(await conn.fetchval(
        """SELECT count(DISTINCT v.contract_id) FROM contract_versions v JOIN contracts c ON c.id = v.contract_id
           WHERE c.fleet_id = $1 AND v.superseded_at IS NULL AND v.valid @> $2::timestamptz
             AND NOT 'QUOTED' = ANY (c.statuses) AND NOT 'RESCINDED' = ANY (c.statuses)""",
        fleet_id, at))


def decided_rates(reviews: Sequence[StoredReview]) -> dict[int, int | None]:
    return {r.review_no: r.rate_percent for r in reviews}
