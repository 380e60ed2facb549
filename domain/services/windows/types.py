"""Requests and results of the window use cases (SPEC §4.6.2-3): plain frozen dataclasses, so
`domain.jsoncodec` stores a result for idempotent replay and brings it back unchanged.

Window mutations take no `expectedVersion`: the window is what they refer to, its contract is
locked for the whole use case, and every change raises the contract's lock version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.vocab import ContractStatus, Relationship
from domain.windows import FilingOutcome, HouseholdEvent, OldCarFate, WindowKind, WindowState


@dataclass(frozen=True, slots=True)
class VehicleAcquisitionReport:
    """A newly acquired car replacing an insured one (入替自動補償, 002b L4140-4152).

    `owner_relationship`: the new car's owner to the named insured (SELF also when the named
    insured is a company owning it). `fleet`: the contract is a fleet contract (declared, or the
    contract is a car of a fleet: contracts.fleet_id); with a corporate owner the rider does not apply (002b L4147).
    """

    contract_id: int
    vehicle_id: int
    acquired_on: date
    replaced_vehicle_id: int
    old_car: OldCarFate
    owner_relationship: Relationship
    fleet: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class InspectionCertificate:
    """What the new car's 車検証 (vehicle inspection certificate) says, as filed."""

    registration_no: str | None = None
    chassis_no: str | None = None
    model_code: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleSwapFiling:
    window_id: int
    certificate: InspectionCertificate
    value_yen: int  # the new car's value at the time and place of acquisition (002b L4145)
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleSwapApproval:
    window_id: int
    note: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class HouseholdEventReport:
    """A family member newly licensed, newly in the household, or a new spouse (002b L4127-4134).

    `relationship` of the party to the named insured; None takes the event's usual one
    (MARRIAGE: SPOUSE, otherwise COHABITING_RELATIVE).
    """

    contract_id: int
    event: HouseholdEvent
    event_on: date
    party_id: int
    relationship: Relationship | None = None
    de_facto_partner: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class WindowChange:
    """What a window use case did (or, in a dry run, would do)."""

    window_id: int
    contract_id: int
    kind: WindowKind
    state: WindowState
    transaction_id: int
    lock_version: int
    statuses: tuple[ContractStatus, ...]
    outcome: FilingOutcome | None = None
    filing_day: int | None = None  # 1 = the day after the event / acquisition
    reason: str = ""
    effective_at: datetime | None = None  # where the filed swap's new versions start
    premium_delta_yen: int = 0
    version_ids: tuple[int, ...] = ()
