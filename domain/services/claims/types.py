"""Requests and results of the claim use cases (the contract between GraphQL and domain.services.claims.handling).

Frozen dataclasses of plain values, so `domain.jsoncodec` stores a result for idempotent replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.claims.documents import ClaimType, Document
from domain.claims.kyosai import VehiclePeril
from domain.claims.rider_payout import LossFacts
from domain.claims.workflow import ClaimAction
from domain.grade_accidents import NoFault, VehicleCause
from domain.vocab import AccidentClass, Relationship


@dataclass(frozen=True, slots=True)
class OtherParty:
    name: str
    vehicle_registration_no: str | None = None
    insurer: str | None = None
    contact: str | None = None
    fault_percent: int | None = None


@dataclass(frozen=True, slots=True)
class Injury:
    person: str
    description: str
    hospitalised: bool = False
    deceased: bool = False


@dataclass(frozen=True, slots=True)
class ReportAccident:
    contract_id: int
    accident_at: datetime
    place: str
    vehicle_id: int
    description: str
    driver_party_id: int | None = None           # None: nobody drove (parked car, theft)
    driver_relationship: Relationship | None = None   # for a driver the version does not list
    other_parties: tuple[OtherParty, ...] = ()
    police_report_no: str | None = None
    injuries: tuple[Injury, ...] = ()
    coverages_claimed: tuple[str, ...] = ()
    claim_types: tuple[ClaimType, ...] = ()      # empty: derived from the coverages claimed
    vehicle_cause: VehicleCause | None = None
    amount_claimed_yen: int = 0


@dataclass(frozen=True, slots=True)
class TransitionClaim:
    claim_id: int
    action: ClaimAction
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetReserve:
    claim_id: int
    coverage: str
    reserve_yen: int


@dataclass(frozen=True, slots=True)
class ExcessRepairFacts:
    repair_cost_yen: int
    market_value_yen: int
    fault_percent: int
    repaired_on: date | None


@dataclass(frozen=True, slots=True)
class RecordPayment:
    """`amount_yen` pays that amount; `loss_yen` pays what the line settles for the loss (deductible,
    total-loss waiver, limits); `excess_repair` and `rider_loss` pay what the line's pay-out rule gives for
    the stated loss (domain/claims/rider_payout.py)."""

    claim_id: int
    coverage: str
    amount_yen: int | None = None
    loss_yen: int | None = None
    total_loss: bool = False
    excess_repair: ExcessRepairFacts | None = None
    rider_loss: LossFacts | None = None          # pays what the line's pay-out rule gives for this loss
    person: str | None = None
    vehicle: str | None = None
    paid_on: date | None = None                  # None: today
    note: str = ""


@dataclass(frozen=True, slots=True)
class AssessRider:
    """riderAssessment: the stated loss of one person / vehicle / the accident on one line."""

    claim_id: int
    rider: str
    loss: LossFacts
    person: str | None = None
    vehicle: str | None = None


@dataclass(frozen=True, slots=True)
class ClassifyClaim:
    """Staff: how the car was damaged, the no-fault case, and an optional override of the class.
    `override` with `not_counted` False and `override_class` None clears an override."""

    claim_id: int
    vehicle_cause: VehicleCause | None = None
    no_fault: NoFault | None = None
    override: bool = False
    override_class: AccidentClass | None = None
    not_counted: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ReceiveDocuments:
    claim_id: int
    documents: tuple[Document, ...]


@dataclass(frozen=True, slots=True)
class AddNote:
    claim_id: int
    note: str


@dataclass(frozen=True, slots=True)
class TreatmentFacts:
    person: str
    hospital_days: tuple[date, ...] = ()
    outpatient_days: tuple[date, ...] = ()


@dataclass(frozen=True, slots=True)
class DeathFacts:
    person: str
    death_date: date


@dataclass(frozen=True, slots=True)
class AfterEffectsFacts:
    person: str
    grade: int


@dataclass(frozen=True, slots=True)
class VehicleBenefitFacts:
    peril: VehiclePeril
    own_cost_yen: int


@dataclass(frozen=True, slots=True)
class PropertyBenefitFacts:
    at_fault: bool
    damage_to_others_yen: int
    own_cost_yen: int


@dataclass(frozen=True, slots=True)
class OtherSideFacts:
    member_at_fault: bool
    pays_other_side: bool
    deaths: int = 0
    treatment_days: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class AssessKyosai:
    claim_id: int
    treatments: tuple[TreatmentFacts, ...] = ()
    deaths: tuple[DeathFacts, ...] = ()
    after_effects: tuple[AfterEffectsFacts, ...] = ()
    vehicle: VehicleBenefitFacts | None = None
    property: PropertyBenefitFacts | None = None
    other_side: OtherSideFacts | None = None


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What a claim mutation did; the API reloads the claim itself by id."""

    claim_id: int
    claim_number: str
    status: str
    coverage_state: str
    paid_yen: int = 0           # recordClaimPayment: the amount paid by this call
