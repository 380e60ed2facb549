"""Fleet mutations: createFleet, addFleetVehicle, removeFleetVehicle, reviewFleet (staff or the agency)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from api.context import Context
from api.contracts.mutations import (
    AgeConditionEnum,
    ContractChange,
    CoverageInput,
    DiscountInput,
    DriverInput,
    DriverRestrictionEnum,
    GradeOriginEnum,
    PaymentMethodEnum,
    PreviousContractInput,
    SecondCarInput,
    UsePurposeEnum,
    car_quote,
)
from api.contracts.types import Contract
from api.fleets.queries import fleet_node
from api.fleets.types import Fleet, FleetChange, FleetReview
from api.mutation_support import UserError, errors_of, id_of, required_id, run_use_case
from domain.services.contracts import reads as contract_reads
from domain.services.contracts import types as ct
from domain.services.fleets import cases as fleets
from domain.services.fleets.types import (
    AddFleetVehicle,
    CreateFleet,
    FleetVehicleChange,
    RemoveFleetVehicle,
)
from domain.services.mutation_runner import Outcome
from domain.store.fleet_repo import Fleet as StoredFleet
from domain.store.fleet_repo import StoredReview
from domain.vocab import AgeCondition, Channel, DriverRestriction, PaymentMethod


@strawberry.input
class CreateFleetInput:
    product_id: str
    policyholder_id: strawberry.ID
    ten_car_date: dt.date = strawberry.field(description="10台到達日: the day the owner's insured cars reached 10.")
    all_vehicle_rider: bool = strawberry.field(description="全車両一括特約: one certificate for every car.")
    start_date: dt.date | None = strawberry.field(default=None, description="With the all-vehicle rider: its start.")
    agency_id: strawberry.ID | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class AddFleetVehicleInput:
    fleet_id: strawberry.ID
    start_date: dt.date
    named_insured_id: strawberry.ID
    vehicle_id: strawberry.ID
    coverages: list[CoverageInput]
    drivers: list[DriverInput] = strawberry.field(default_factory=list)
    riders: list[str] = strawberry.field(default_factory=list)
    age_condition: AgeConditionEnum = AgeCondition.ANY  # type: ignore[valid-type]
    driver_restriction: DriverRestrictionEnum = DriverRestriction.NONE  # type: ignore[valid-type]
    use_purpose: UsePurposeEnum | None = None  # type: ignore[valid-type]
    mileage_class: int | None = None
    payment_method: PaymentMethodEnum = PaymentMethod.ANNUAL  # type: ignore[valid-type]
    grade_origin: GradeOriginEnum = ct.GradeOrigin.NEW  # type: ignore[valid-type]
    previous_contract: PreviousContractInput | None = None
    second_car: SecondCarInput | None = None
    discounts: DiscountInput | None = None
    repairability_percent: int = 0
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class RemoveFleetVehicleInput:
    fleet_id: strawberry.ID
    contract_id: strawberry.ID
    expected_version: int
    effective_date: dt.date
    reason: str
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class ReviewFleetInput:
    fleet_id: strawberry.ID
    review_no: int
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.type(description="Answer of createFleet and reviewFleet.")
class FleetPayload:
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    review: FleetReview | None = strawberry.field(description="reviewFleet: the decision.")
    fleet_id: strawberry.Private[int | None]

    @strawberry.field(description="The fleet after the change (null when refused or a dry run).")
    async def fleet(self, info: Info[Context, None]) -> Fleet | None:
        return None if self.fleet_id is None else await fleet_node(info.context, self.fleet_id)


@strawberry.type(description="Answer of addFleetVehicle and removeFleetVehicle.")
class FleetVehiclePayload:
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    change: FleetChange | None
    contract_change: ContractChange | None = strawberry.field(description="The car contract's transaction.")
    fleet_id: strawberry.Private[int | None]
    contract_id: strawberry.Private[int | None]

    @strawberry.field
    async def fleet(self, info: Info[Context, None]) -> Fleet | None:
        return None if self.fleet_id is None else await fleet_node(info.context, self.fleet_id)

    @strawberry.field(description="The car's contract after the change.")
    async def contract(self, info: Info[Context, None]) -> Contract | None:
        if self.contract_id is None:
            return None
        ctx = info.context
        at = ctx.clock.now()
        d = (await contract_reads.contracts_by_id(ctx.pool, ctx.actor, [self.contract_id], at)).get(self.contract_id)
        return None if d is None else Contract.of(d, at)


def _fleet_id(gid: strawberry.ID) -> int:
    return required_id(gid, "Fleet", "input.fleetId")


def _vehicle_quote(i: AddFleetVehicleInput) -> ct.QuoteRequest:
    # add_vehicle puts the fleet's product, policyholder, channel and agency in place of these
    return car_quote(i, product_id="", policyholder_id=0, term_months=12, channel=Channel.AGENT, agency_id=None)


def _vehicle_payload(o: Outcome[FleetVehicleChange]) -> FleetVehiclePayload:
    r = o.result
    stored = r is not None and not o.dry_run
    return FleetVehiclePayload(
        user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
        change=None if r is None else FleetChange.of(r.change),
        contract_change=None if r is None else ContractChange.of(r.contract),
        fleet_id=r.fleet.id if stored and r is not None else None,
        contract_id=r.contract.contract_id if stored and r is not None else None)


@strawberry.type
class FleetMutations:
    @strawberry.mutation(description="Create a fleet contract (10 or more cars, 002b L4998-5025).")
    async def create_fleet(self, info: Info[Context, None], input: CreateFleetInput) -> FleetPayload:
        def build() -> CreateFleet:
            return CreateFleet(input.product_id, required_id(input.policyholder_id, "Party", "input.policyholderId"),
                               input.ten_car_date, input.all_vehicle_rider, input.start_date,
                               id_of(input.agency_id, "Agency", "input.agencyId", required=False))

        o = await run_use_case(info, "createFleet", build, fleets.create_fleet, StoredFleet,
                               input.idempotency_key, input.dry_run)
        return FleetPayload(user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed, review=None,
                            fleet_id=o.result.id if o.result is not None and not o.dry_run else None)

    @strawberry.mutation(description="Add a car: its contract is quoted and bound at the rate its start date gets.")
    async def add_fleet_vehicle(self, info: Info[Context, None], input: AddFleetVehicleInput) -> FleetVehiclePayload:
        def build() -> AddFleetVehicle:
            return AddFleetVehicle(_fleet_id(input.fleet_id), _vehicle_quote(input), input.idempotency_key)

        return _vehicle_payload(await run_use_case(info, "addFleetVehicle", build, fleets.add_vehicle,
                                                   FleetVehicleChange, input.idempotency_key, input.dry_run))

    @strawberry.mutation(description="Remove a car: its contract is cancelled from the date, with its refund.")
    async def remove_fleet_vehicle(self, info: Info[Context, None], input: RemoveFleetVehicleInput) -> FleetVehiclePayload:
        def build() -> RemoveFleetVehicle:
            return RemoveFleetVehicle(_fleet_id(input.fleet_id), required_id(input.contract_id, "Contract", "input.contractId"),
                                      input.expected_version, input.effective_date, input.reason)

        return _vehicle_payload(await run_use_case(info, "removeFleetVehicle", build, fleets.remove_vehicle,
                                                   FleetVehicleChange, input.idempotency_key, input.dry_run))

    @strawberry.mutation(description="Decide a review now (staff); the worker decides each when its experience period ends.")
    async def review_fleet(self, info: Info[Context, None], input: ReviewFleetInput) -> FleetPayload:
        def build() -> tuple[int, int]:
            return _fleet_id(input.fleet_id), input.review_no

        o = await run_use_case(info, "reviewFleet", build, fleets.review_fleet_now, StoredReview, input.idempotency_key, input.dry_run)
        r = o.result
        return FleetPayload(user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
                            review=None if r is None else FleetReview.of(r),
                            fleet_id=r.fleet_id if r is not None and not o.dry_run else None)
