"""Claim mutations: GraphQL inputs mapped to the use cases of domain.services.claims.handling.

Same conventions as api/mutations.py: one `input` with `idempotencyKey` and `dryRun`, a payload with
the claim and `userErrors`; global ids decoded here (a wrong or malformed id answers *_NOT_FOUND).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types import Info

from api.claims.rider_types import RiderLossInput
from api.claims.types import Claim
from api.context import Context
from api.mutation_support import (
    AccidentClassEnum,
    RelationshipEnum,
    UserError,
    errors_of,
    required_id,
    run_use_case,
)
from api.node import db_id_of
from domain.calendar import RuleError
from domain.claims.documents import ClaimType, Document
from domain.claims.kyosai import VehiclePeril
from domain.claims.workflow import ClaimAction
from domain.grade_accidents import NoFault, VehicleCause
from domain.services.access import Actor
from domain.services.claims import handling as claims
from domain.services.claims import reads as claims_reads
from domain.services.claims import types as t
from domain.services.errors import refuse
from domain.services.mutation_runner import Outcome
from domain.store.uow import UnitOfWork

ClaimActionEnum = strawberry.enum(ClaimAction, name="ClaimAction")
VehicleCauseEnum = strawberry.enum(VehicleCause, name="VehicleCause")
NoFaultEnum = strawberry.enum(NoFault, name="NoFault")
ClaimDocumentEnum = strawberry.enum(Document, name="ClaimDocument")
ClaimTypeEnum = strawberry.enum(ClaimType, name="ClaimType")
VehiclePerilEnum = strawberry.enum(VehiclePeril, name="VehiclePeril")


@strawberry.type(description="Answer of every claim mutation.")
class ClaimPayload:
    user_errors: list[UserError]
    dry_run: bool = strawberry.field(description="True: nothing was stored.")
    replayed: bool = strawberry.field(description="True: the idempotency key was seen; this is the first answer.")
    claim_number: str | None
    paid_yen: int = strawberry.field(description="recordClaimPayment: the amount this call paid.")
    claim_id: strawberry.Private[int | None]

    @strawberry.field(description="The claim after the change (null when refused, or for a dry-run report).")
    async def claim(self, info: Info[Context, None]) -> Claim | None:
        ctx = info.context
        if self.claim_id is None or ctx.actor is None:
            return None
        d = (await claims_reads.claims_by_id(ctx.pool, ctx.actor, [self.claim_id])).get(self.claim_id)
        return None if d is None else Claim.of(d, ctx.actor)


async def _claim(info: Info[Context, None], operation: str, input: Any, build: Callable[[], Any],
                 call: Callable[[UnitOfWork, Actor, Any, dt.datetime], Awaitable[t.ClaimResult]]) -> ClaimPayload:
    o: Outcome[t.ClaimResult] = await run_use_case(info, operation, build, call, t.ClaimResult, input.idempotency_key,
                                           input.dry_run)
    r = o.result
    return ClaimPayload(user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed,
                        claim_number=None if r is None else r.claim_number, paid_yen=0 if r is None else r.paid_yen,
                        claim_id=None if r is None else r.claim_id)


def _claim_id(gid: strawberry.ID) -> int:
    return required_id(gid, "Claim", "input.claimId")


# --- inputs ----------------------------------------------------------------------------------------


@strawberry.input
class OtherPartyInput:
    name: str
    vehicle_registration_no: str | None = None
    insurer: str | None = None
    contact: str | None = None
    fault_percent: int | None = None


@strawberry.input
class InjuryInput:
    person: str
    description: str
    hospitalised: bool = False
    deceased: bool = False


@strawberry.input(description="First notice of loss (事故受付).")
class ReportAccidentInput:
    contract_id: strawberry.ID
    accident_at: dt.datetime = strawberry.field(description="With a time zone offset, e.g. 2026-06-01T10:30:00+09:00.")
    place: str
    vehicle_id: strawberry.ID = strawberry.field(description="The insured car, or a newly acquired one in a swap window.")
    description: str
    driver_id: strawberry.ID | None = strawberry.field(default=None, description="Null: nobody drove (parked, theft).")
    driver_relationship: RelationshipEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="For a driver the contract does not list: relationship to the named insured.")
    other_parties: list[OtherPartyInput] = strawberry.field(default_factory=list)
    police_report_no: str | None = None
    injuries: list[InjuryInput] = strawberry.field(default_factory=list)
    coverages_claimed: list[str] = strawberry.field(default_factory=list)
    claim_types: list[ClaimTypeEnum] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    vehicle_cause: VehicleCauseEnum | None = None  # type: ignore[valid-type]
    amount_claimed_yen: int = 0
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class TransitionClaimInput:
    claim_id: strawberry.ID
    action: ClaimActionEnum  # type: ignore[valid-type]
    reason: str = ""
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class SetClaimReserveInput:
    claim_id: strawberry.ID
    coverage: str
    reserve_yen: int
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input(description="Excess-repair rider facts (対物超過修理費用, 001 L272).")
class ExcessRepairInput:
    repair_cost_yen: int
    market_value_yen: int
    fault_percent: int
    repaired_on: dt.date | None = None


@strawberry.input(description="Exactly one of amountYen, lossYen (settled: deductible, total loss, limits), excessRepair "
                              "and riderLoss (what the line's pay-out rule gives for the stated loss: riderAssessment).")
class RecordClaimPaymentInput:
    claim_id: strawberry.ID
    coverage: str
    amount_yen: int | None = None
    loss_yen: int | None = None
    total_loss: bool = False
    excess_repair: ExcessRepairInput | None = None
    rider_loss: RiderLossInput | None = None
    person: str | None = strawberry.field(default=None, description="Victim / injured person (per-person limits).")
    vehicle: str | None = strawberry.field(default=None, description="Damaged vehicle (per-vehicle limits).")
    paid_on: dt.date | None = None
    note: str = ""
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input(description="Staff: how the car was damaged, the no-fault case, and an optional override with a reason.")
class ClassifyClaimInput:
    claim_id: strawberry.ID
    vehicle_cause: VehicleCauseEnum | None = None  # type: ignore[valid-type]
    no_fault: NoFaultEnum | None = None  # type: ignore[valid-type]
    override: bool = strawberry.field(default=False, description="Set (or, with neither class nor notCounted, clear) an override.")
    override_class: AccidentClassEnum | None = None  # type: ignore[valid-type]
    not_counted: bool = False
    reason: str = ""
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class ReceiveClaimDocumentsInput:
    claim_id: strawberry.ID
    documents: list[ClaimDocumentEnum]  # type: ignore[valid-type]
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class AddClaimNoteInput:
    claim_id: strawberry.ID
    note: str
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class KyosaiTreatmentInput:
    person: str
    hospital_days: list[dt.date] = strawberry.field(default_factory=list)
    outpatient_days: list[dt.date] = strawberry.field(default_factory=list)


@strawberry.input
class KyosaiDeathInput:
    person: str
    death_date: dt.date


@strawberry.input
class KyosaiAfterEffectsInput:
    person: str
    grade: int


@strawberry.input
class KyosaiVehicleInput:
    peril: VehiclePerilEnum  # type: ignore[valid-type]
    own_cost_yen: int


@strawberry.input
class KyosaiPropertyInput:
    at_fault: bool
    damage_to_others_yen: int
    own_cost_yen: int


@strawberry.input
class KyosaiOtherSideInput:
    member_at_fault: bool
    pays_other_side: bool
    deaths: int = 0
    treatment_days: list[int] = strawberry.field(default_factory=list)


@strawberry.input(description="Kyosai (003): the facts its fixed benefits are computed from.")
class AssessKyosaiBenefitsInput:
    claim_id: strawberry.ID
    treatments: list[KyosaiTreatmentInput] = strawberry.field(default_factory=list)
    deaths: list[KyosaiDeathInput] = strawberry.field(default_factory=list)
    after_effects: list[KyosaiAfterEffectsInput] = strawberry.field(default_factory=list)
    vehicle: KyosaiVehicleInput | None = None
    property: KyosaiPropertyInput | None = None
    other_side: KyosaiOtherSideInput | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


def _report(i: ReportAccidentInput) -> t.ReportAccident:
    return t.ReportAccident(
        contract_id=required_id(i.contract_id, "Contract", "input.contractId"), accident_at=i.accident_at,
        place=i.place, vehicle_id=required_id(i.vehicle_id, "Vehicle", "input.vehicleId"), description=i.description,
        driver_party_id=_driver_id(i.driver_id),
        driver_relationship=i.driver_relationship,
        other_parties=tuple(t.OtherParty(o.name, o.vehicle_registration_no, o.insurer, o.contact, o.fault_percent)
                            for o in i.other_parties),
        police_report_no=i.police_report_no,
        injuries=tuple(t.Injury(x.person, x.description, x.hospitalised, x.deceased) for x in i.injuries),
        coverages_claimed=tuple(i.coverages_claimed), claim_types=tuple(i.claim_types),
        vehicle_cause=i.vehicle_cause, amount_claimed_yen=i.amount_claimed_yen,
    )


def _driver_id(gid: strawberry.ID | None) -> int | None:
    """A driver is a Party; an unknown or malformed id is DRIVER_NOT_FOUND (like a missing one)."""
    if gid is None:
        return None
    db_id = db_id_of(gid, "Party")
    if db_id is None:
        raise refuse("DRIVER_NOT_FOUND", "input.driverId", f"no driver {gid}")
    return db_id


def _kyosai(i: AssessKyosaiBenefitsInput) -> t.AssessKyosai:
    return t.AssessKyosai(
        claim_id=_claim_id(i.claim_id),
        treatments=tuple(t.TreatmentFacts(x.person, tuple(x.hospital_days), tuple(x.outpatient_days))
                         for x in i.treatments),
        deaths=tuple(t.DeathFacts(x.person, x.death_date) for x in i.deaths),
        after_effects=tuple(t.AfterEffectsFacts(x.person, x.grade) for x in i.after_effects),
        vehicle=None if i.vehicle is None else t.VehicleBenefitFacts(i.vehicle.peril, i.vehicle.own_cost_yen),
        property=None if i.property is None else t.PropertyBenefitFacts(
            i.property.at_fault, i.property.damage_to_others_yen, i.property.own_cost_yen),
        other_side=None if i.other_side is None else t.OtherSideFacts(
            i.other_side.member_at_fault, i.other_side.pays_other_side, i.other_side.deaths,
            tuple(i.other_side.treatment_days)),
    )


@strawberry.type
class ClaimMutations:
    @strawberry.mutation(description="Report an accident (FNOL): decides coverage at the accident moment.")
    async def report_accident(self, info: Info[Context, None], input: ReportAccidentInput) -> ClaimPayload:
        return await _claim(info, "reportAccident", input, lambda: _report(input), claims.report_accident)

    @strawberry.mutation(description="Move a claim along its workflow (review, approve, deny, close, reopen, withdraw).")
    async def transition_claim(self, info: Info[Context, None], input: TransitionClaimInput) -> ClaimPayload:
        return await _claim(info, "transitionClaim", input,
                            lambda: t.TransitionClaim(_claim_id(input.claim_id), input.action, input.reason),
                            claims.transition_claim)

    @strawberry.mutation(description="Staff: set the reserve of a claim line (opens the line for an applicable coverage).")
    async def set_claim_reserve(self, info: Info[Context, None], input: SetClaimReserveInput) -> ClaimPayload:
        return await _claim(info, "setClaimReserve", input,
                            lambda: t.SetReserve(_claim_id(input.claim_id), input.coverage, input.reserve_yen),
                            claims.set_claim_reserve)

    @strawberry.mutation(description="Staff: pay on a claim line within its limits (an approved claim becomes PAID).")
    async def record_claim_payment(self, info: Info[Context, None], input: RecordClaimPaymentInput) -> ClaimPayload:
        def build() -> t.RecordPayment:
            er = input.excess_repair
            try:
                loss = None if input.rider_loss is None else input.rider_loss.facts()
            except RuleError as e:
                raise refuse(e.code, f"input.riderLoss.{e.field}", e.message) from None
            return t.RecordPayment(
                _claim_id(input.claim_id), input.coverage, input.amount_yen, input.loss_yen, input.total_loss,
                None if er is None else t.ExcessRepairFacts(er.repair_cost_yen, er.market_value_yen,
                                                            er.fault_percent, er.repaired_on),
                loss, input.person, input.vehicle, input.paid_on, input.note)

        return await _claim(info, "recordClaimPayment", input, build, claims.record_claim_payment)

    @strawberry.mutation(description="Staff: vehicle cause, no-fault case and an override of the grade class (with a reason).")
    async def classify_claim(self, info: Info[Context, None], input: ClassifyClaimInput) -> ClaimPayload:
        return await _claim(info, "classifyClaim", input, lambda: t.ClassifyClaim(
            _claim_id(input.claim_id), input.vehicle_cause, input.no_fault, input.override, input.override_class,
            input.not_counted, input.reason), claims.classify_claim)

    @strawberry.mutation(description="Agent or staff: record documents received from the claimant.")
    async def receive_claim_documents(self, info: Info[Context, None], input: ReceiveClaimDocumentsInput) -> ClaimPayload:
        return await _claim(info, "receiveClaimDocuments", input,
                            lambda: t.ReceiveDocuments(_claim_id(input.claim_id), tuple(input.documents)),
                            claims.receive_documents)

    @strawberry.mutation(description="Staff: add an internal note (never shown to the policyholder).")
    async def add_claim_note(self, info: Info[Context, None], input: AddClaimNoteInput) -> ClaimPayload:
        return await _claim(info, "addClaimNote", input, lambda: t.AddNote(_claim_id(input.claim_id), input.note),
                            claims.add_note)

    @strawberry.mutation(description="Staff, kyosai: compute the fixed benefits (003) and set the lines' limits and reserves.")
    async def assess_kyosai_benefits(self, info: Info[Context, None], input: AssessKyosaiBenefitsInput) -> ClaimPayload:
        return await _claim(info, "assessKyosaiBenefits", input, lambda: _kyosai(input), claims.assess_kyosai)
