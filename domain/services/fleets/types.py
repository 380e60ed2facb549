"""Requests and answers of the fleets part."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.fleet import Period
from domain.services.contracts.types import ContractChange, QuoteRequest
from domain.store.fleet_repo import Fleet, FleetChange, StoredReview


@dataclass(frozen=True, slots=True)
class CreateFleet:
    product_id: str
    policyholder_id: int
    ten_car_date: date
    all_vehicle_rider: bool
    start_date: date | None = None      # with the all-vehicle rider: the certificate's start
    agency_id: int | None = None


@dataclass(frozen=True, slots=True)
class AddFleetVehicle:
    """A car joins the fleet: the quote's product, policyholder, channel and agency are the fleet's.
    With the all-vehicle rider the car's cover ends at the certificate's expiry (pro rata)."""

    fleet_id: int
    quote: QuoteRequest
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveFleetVehicle:
    fleet_id: int
    contract_id: int
    expected_version: int
    effective_date: date
    reason: str


@dataclass(frozen=True, slots=True)
class FleetView:
    fleet: Fleet
    review_dates: tuple[date, ...]           # the first three, for planning
    experience: Period                       # of the next review
    reviews: tuple[StoredReview, ...]
    current_rate_percent: int | None         # the rate a car starting today gets (None: grades)
    current_rate_source: str


@dataclass(frozen=True, slots=True)
class FleetVehicleChange:
    fleet: Fleet
    change: FleetChange
    contract: ContractChange
