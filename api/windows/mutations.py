"""Mutations of the §4.6 windows: vehicle swap (report, file, approve) and household events.

Same conventions as api/mutations.py: one `input` with `idempotencyKey` and `dryRun`, a payload
with `userErrors`; global ids decoded here (a malformed or foreign id is `*_NOT_FOUND`), all rules
in domain.services.windows.filings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from api.context import Context
from api.contracts.types import Contract
from api.mutation_support import RelationshipEnum, UserError, errors_of, required_id, run_use_case
from api.node import to_global_id
from api.products.types import Label
from api.windows.types import Window
from domain.services.contracts import reads as contract_reads
from domain.services.mutation_runner import Outcome
from domain.services.windows import filings as services
from domain.services.windows.types import (
    HouseholdEventReport,
    InspectionCertificate,
    VehicleAcquisitionReport,
    VehicleSwapApproval,
    VehicleSwapFiling,
)
from domain.services.windows.types import WindowChange as DomainWindowChange
from domain.windows import HouseholdEvent, OldCarFate

OldCarFateEnum = strawberry.enum(OldCarFate, name="OldCarFate")
HouseholdEventEnum = strawberry.enum(HouseholdEvent, name="HouseholdEvent")


@strawberry.type(description="What a window mutation did (or, in a dry run, would do).")
class WindowChange:
    window_id: strawberry.ID
    kind: Label
    state: Label
    outcome: Label | None = strawberry.field(description="FULL or LIABILITY_ONLY once filed.")
    filing_day: int | None = strawberry.field(description="Day of the window the filing fell on (1 = the day after the event).")
    reason: str
    effective_at: dt.datetime | None = strawberry.field(description="Where a filed swap's new versions start.")
    premium_delta_yen: int = strawberry.field(description="Extra (+) or returned (−) premium of a filed swap.")
    statuses: list[Label]
    lock_version: int

    @classmethod
    def of(cls, r: DomainWindowChange) -> WindowChange:
        return cls(
            window_id=to_global_id("Window", r.window_id), kind=Label.of(r.kind), state=Label.of(r.state),
            outcome=None if r.outcome is None else Label.of(r.outcome), filing_day=r.filing_day, reason=r.reason,
            effective_at=r.effective_at, premium_delta_yen=r.premium_delta_yen,
            statuses=[Label.of(s) for s in r.statuses], lock_version=r.lock_version,
        )


@strawberry.type(description="Answer of every window mutation.")
class WindowPayload:
    change: WindowChange | None = strawberry.field(description="Null when refused.")
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
    result: strawberry.Private[DomainWindowChange | None]

    @strawberry.field(description="The window as stored now (null when refused, or a dry run that would open it).")
    async def window(self, info: Info[Context, None]) -> Window | None:
        if self.result is None:
            return None
        ctx = info.context
        sw = await services.window_visible(ctx.pool, ctx.actor, self.result.window_id)
        return None if sw is None else Window.of(sw)

    @strawberry.field(description="The contract as stored now (null when refused).")
    async def contract(self, info: Info[Context, None]) -> Contract | None:
        if self.result is None:
            return None
        ctx = info.context
        at = ctx.clock.now()
        d = (await contract_reads.contracts_by_id(ctx.pool, ctx.actor, [self.result.contract_id], at)).get(
            self.result.contract_id)
        return None if d is None else Contract.of(d, at)


def _payload(o: Outcome[DomainWindowChange]) -> WindowPayload:
    r = o.result
    return WindowPayload(change=None if r is None else WindowChange.of(r), user_errors=errors_of(o),
                         dry_run=o.dry_run, replayed=o.replayed, result=r)


@strawberry.input(description="A newly acquired car that replaces an insured car (入替自動補償).")
class ReportVehicleAcquisitionInput:
    contract_id: strawberry.ID
    vehicle_id: strawberry.ID = strawberry.field(description="The new car, registered with registerVehicle.")
    acquired_on: dt.date
    replaced_vehicle_id: strawberry.ID = strawberry.field(description="The insured car it replaces.")
    old_car: OldCarFateEnum = strawberry.field(description="What happened to the replaced car.")  # type: ignore[valid-type]
    owner_relationship: RelationshipEnum = strawberry.field(  # type: ignore[valid-type]
        description="The new car's owner to the named insured.")
    fleet: bool = strawberry.field(default=False, description="A fleet contract (with a corporate owner: no swap cover).")
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input(description="The swap procedure: the new car's inspection certificate (車検証) and value.")
class FileVehicleSwapInput:
    window_id: strawberry.ID
    value_yen: int = strawberry.field(description="The new car's value at the time and place of acquisition.")
    registration_no: str | None = None
    chassis_no: str | None = None
    model_code: str | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class ApproveVehicleSwapInput:
    window_id: strawberry.ID
    note: str | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input(description="A household event that may need a driver / age condition change.")
class ReportHouseholdEventInput:
    contract_id: strawberry.ID
    event: HouseholdEventEnum  # type: ignore[valid-type]
    event_on: dt.date
    party_id: strawberry.ID = strawberry.field(description="The family member (a registered person).")
    relationship: RelationshipEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="To the named insured; default SPOUSE for a marriage, else COHABITING_RELATIVE.")
    de_facto_partner: bool = strawberry.field(default=False, description="A marriage to a de-facto or same-sex partner.")
    idempotency_key: str | None = None
    dry_run: bool = False


async def _window_mutation(info: Info[Context, None], operation: str, input: Any, build: Any, call: Any) -> WindowPayload:
    o: Outcome[DomainWindowChange] = await run_use_case(info, operation, build, call, DomainWindowChange,
                                                input.idempotency_key, input.dry_run)
    return _payload(o)


@strawberry.type
class WindowMutations:
    @strawberry.mutation(description="Report a newly acquired car replacing an insured one: opens a vehicle-swap window.")
    async def report_vehicle_acquisition(self, info: Info[Context, None],
                                         input: ReportVehicleAcquisitionInput) -> WindowPayload:
        def build() -> VehicleAcquisitionReport:
            return VehicleAcquisitionReport(
                contract_id=required_id(input.contract_id, "Contract", "input.contractId"),
                vehicle_id=required_id(input.vehicle_id, "Vehicle", "input.vehicleId"),
                acquired_on=input.acquired_on,
                replaced_vehicle_id=required_id(input.replaced_vehicle_id, "Vehicle", "input.replacedVehicleId"),
                old_car=input.old_car, owner_relationship=input.owner_relationship, fleet=input.fleet,
                idempotency_key=input.idempotency_key,
            )

        return await _window_mutation(info, "reportVehicleAcquisition", input, build,
                                      services.report_vehicle_acquisition)

    @strawberry.mutation(description="File the vehicle swap: full cover from the acquisition within 30 days, else the liability set.")
    async def file_vehicle_swap(self, info: Info[Context, None], input: FileVehicleSwapInput) -> WindowPayload:
        def build() -> VehicleSwapFiling:
            return VehicleSwapFiling(
                window_id=required_id(input.window_id, "Window", "input.windowId"),
                certificate=InspectionCertificate(input.registration_no, input.chassis_no, input.model_code),
                value_yen=input.value_yen, idempotency_key=input.idempotency_key,
            )

        return await _window_mutation(info, "fileVehicleSwap", input, build, services.file_vehicle_swap)

    @strawberry.mutation(description="Approve a filed vehicle swap (insurer staff).")
    async def approve_vehicle_swap(self, info: Info[Context, None], input: ApproveVehicleSwapInput) -> WindowPayload:
        def build() -> VehicleSwapApproval:
            return VehicleSwapApproval(window_id=required_id(input.window_id, "Window", "input.windowId"),
                                       note=input.note, idempotency_key=input.idempotency_key)

        return await _window_mutation(info, "approveVehicleSwap", input, build, services.approve_vehicle_swap)

    @strawberry.mutation(description="Report a household event (newly licensed, new member, marriage): opens a driver-change window.")
    async def report_household_event(self, info: Info[Context, None], input: ReportHouseholdEventInput) -> WindowPayload:
        def build() -> HouseholdEventReport:
            return HouseholdEventReport(
                contract_id=required_id(input.contract_id, "Contract", "input.contractId"), event=input.event,
                event_on=input.event_on, party_id=required_id(input.party_id, "Party", "input.partyId"),
                relationship=input.relationship, de_facto_partner=input.de_facto_partner,
                idempotency_key=input.idempotency_key,
            )

        return await _window_mutation(info, "reportHouseholdEvent", input, build, services.report_household_event)
