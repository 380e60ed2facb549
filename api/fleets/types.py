"""GraphQL types of fleet contracts (フリート契約)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from strawberry.types import Info

from api.context import Context
from api.contracts.types import Contract
from api.node import Node, to_global_id
from domain.services.contracts import reads as contract_reads
from domain.services.fleets.types import FleetView
from domain.store import fleet_repo


@strawberry.type(description="One review date's decision: loss ratio of the experience period and the rate (002b L5015-5056).")
class FleetReview:
    review_no: int
    review_date: dt.date
    experience_from: dt.date
    experience_to: dt.date = strawberry.field(description="Exclusive: the period ends the day before.")
    paid_yen: int
    outstanding_end_yen: int
    outstanding_previous_end_yen: int
    premium_yen: int = strawberry.field(description="The period's premium before the fleet rate (002b L5034).")
    car_count: int
    loss_ratio_percent: str | None = strawberry.field(description="Null when the period earned no premium.")
    prior_rate_percent: int | None
    rate_percent: int | None = strawberry.field(
        description="Discount (−) or surcharge (+) from the review date; null: non-fleet grades again (002b L5020-5023).")
    reasons: list[str]
    decided_at: dt.datetime

    @classmethod
    def of(cls, r: fleet_repo.StoredReview) -> FleetReview:
        lr = None if r.loss_ratio is None else format(Decimal(r.loss_ratio), "f")
        return cls(review_no=r.review_no, review_date=r.review_date, experience_from=r.experience.start,
                   experience_to=r.experience.end, paid_yen=r.paid_yen, outstanding_end_yen=r.outstanding_end_yen,
                   outstanding_previous_end_yen=r.outstanding_prev_end_yen, premium_yen=r.premium_yen,
                   car_count=r.car_count, loss_ratio_percent=lr, prior_rate_percent=r.prior_rate_percent,
                   rate_percent=r.rate_percent, reasons=list(r.reasons), decided_at=r.decided_at)


@strawberry.type(description="A car added to or removed from the fleet, with what it charged or returned.")
class FleetChange:
    kind: str
    contract_id: strawberry.ID
    effective_at: dt.datetime
    premium_delta_yen: int
    at: dt.datetime

    @classmethod
    def of(cls, c: fleet_repo.FleetChange) -> FleetChange:
        return cls(kind=c.kind, contract_id=to_global_id("Contract", c.contract_id), effective_at=c.effective_at,
                   premium_delta_yen=c.premium_delta_yen, at=c.at)


@strawberry.type(description="A fleet contract (フリート契約): one fleet policyholder's cars, rated together.")
class Fleet(Node):
    fleet_number: str
    product_id: str
    policyholder_id: strawberry.ID
    agency_id: strawberry.ID | None
    all_vehicle_rider: bool = strawberry.field(description="全車両一括特約: one certificate, one expiry (002b L5089-5092).")
    ten_car_date: dt.date = strawberry.field(description="10台到達日 (002b L5084-5087).")
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    review_dates: list[dt.date] = strawberry.field(description="The first three review dates (002b L5007-5013).")
    next_experience_from: dt.date
    next_experience_to: dt.date
    current_rate_percent: int | None = strawberry.field(
        description="The rate a car starting today gets; null: each car's non-fleet grade.")
    current_rate_source: str
    reviews: list[FleetReview]
    db_id: strawberry.Private[int]

    @classmethod
    def of(cls, v: FleetView) -> Fleet:
        f = v.fleet
        return cls(
            id=to_global_id("Fleet", f.id), fleet_number=f.fleet_number, product_id=f.product_id,
            policyholder_id=to_global_id("Party", f.policyholder_id),
            agency_id=None if f.agency_id is None else to_global_id("Agency", f.agency_id),
            all_vehicle_rider=f.all_vehicle_rider, ten_car_date=f.ten_car_date, starts_at=f.starts_at,
            ends_at=f.ends_at, review_dates=list(v.review_dates), next_experience_from=v.experience.start,
            next_experience_to=v.experience.end, current_rate_percent=v.current_rate_percent,
            current_rate_source=v.current_rate_source, reviews=[FleetReview.of(r) for r in v.reviews], db_id=f.id)

    @strawberry.field(description="Cars added and removed, oldest first.")
    async def changes(self, info: Info[Context, None]) -> list[FleetChange]:
        async with info.context.pool.acquire() as conn:
            return [FleetChange.of(c) for c in await fleet_repo.changes_of(conn, self.db_id)]

    @strawberry.field(description="The fleet's car contracts (one statement for the whole fleet).")
    async def contracts(self, info: Info[Context, None]) -> list[Contract]:
        ctx = info.context
        at = ctx.clock.now()
        async with ctx.pool.acquire() as conn:
            ids = await fleet_repo.member_ids(conn, self.db_id)
        found = await contract_reads.contracts_by_id(ctx.pool, ctx.actor, ids, at)
        return [Contract.of(found[i], at) for i in ids if i in found]
