"""Road-assistance and accident-site attendance requests as GraphQL types (general path only)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from api.products.types import Label
from domain.services.claims.assistance import GuardTask
from domain.store.assistance_repo import StoredAssistance


class RoadKind(Enum):
    """Inputs of requestRoadAssistance take every AssistanceKind but the guard at the scene, which
    has its own mutation (tests check the two lists agree); answers carry AssistanceKind labels."""

    TOWING = "TOWING"
    WHEEL_DROP = "WHEEL_DROP"
    BATTERY = "BATTERY"
    LOCKOUT = "LOCKOUT"
    FUEL = "FUEL"
    TYRE = "TYRE"
    LODGING = "LODGING"
    TRANSPORT_HOME = "TRANSPORT_HOME"
    PET_LODGING = "PET_LODGING"
    POST_REPAIR_TRANSPORT = "POST_REPAIR_TRANSPORT"


RoadAssistanceKind = strawberry.enum(
    RoadKind, name="RoadAssistanceKind",
    description="What help is asked for (each product offers a subset: the road_assistance limits of its file).",
)


@strawberry.type(description="A person's part of a per-person amount (transport home, lodging).")
class AssistancePersonAmount:
    person: str
    requested_yen: int
    paid_yen: int = strawberry.field(description="Paid by the insurer after the per-person cap.")


@strawberry.type(description="An accepted road-assistance or accident-site attendance request. "
                             "Assistance never changes the grade (gradeClass is always NO_COUNT).")
class AssistanceRequest:
    model: strawberry.Private[StoredAssistance]

    @strawberry.field
    def database_id(self) -> int:
        return self.model.id

    @strawberry.field
    def kind(self) -> Label:
        return Label.of(self.model.kind)

    @strawberry.field(description="The term the request counts in.")
    def term_no(self) -> int:
        return self.model.term_no

    @strawberry.field(description="Groups the requests of one accident or breakdown (per-incident caps).")
    def incident(self) -> str:
        return self.model.incident

    @strawberry.field
    def occurred_at(self) -> dt.datetime:
        return self.model.occurred_at

    @strawberry.field
    def requested_at(self) -> dt.datetime:
        return self.model.requested_at

    @strawberry.field(description="ACCEPTED (a refused request is answered with userErrors and not stored).")
    def decision(self) -> str:
        return self.model.decision

    @strawberry.field
    def accident(self) -> bool:
        return self.model.accident

    @strawberry.field(description="The car cannot (or may not) be driven (自力走行不能).")
    def immobile(self) -> bool:
        return self.model.immobile

    @strawberry.field
    def stolen(self) -> bool:
        return self.model.stolen

    @strawberry.field
    def at_home(self) -> bool:
        return self.model.at_home

    @strawberry.field
    def distance_from_home_km(self) -> int | None:
        return self.model.distance_from_home_km

    @strawberry.field
    def litres(self) -> int:
        return self.model.litres

    @strawberry.field
    def nights(self) -> int:
        return self.model.nights

    @strawberry.field
    def tow_km(self) -> int:
        return self.model.tow_km

    @strawberry.field
    def drop_m(self) -> int:
        return self.model.drop_m

    @strawberry.field
    def pet(self) -> str | None:
        return self.model.pet

    @strawberry.field
    def place(self) -> str | None:
        return self.model.place

    @strawberry.field(description="Incident-level cost asked for (towing bill, pet hotel, ...).")
    def amount_yen(self) -> int:
        return self.model.amount_yen

    @strawberry.field(description="One shared taxi or rental car.")
    def vehicle_amount_yen(self) -> int:
        return self.model.vehicle_amount_yen

    @strawberry.field
    def persons(self) -> list[AssistancePersonAmount]:
        return [AssistancePersonAmount(person=p.person, requested_yen=p.requested_yen, paid_yen=p.paid_yen)
                for p in self.model.persons]

    @strawberry.field(description="Everything asked for, in yen.")
    def requested_yen(self) -> int:
        return self.model.requested_yen

    @strawberry.field(description="What the insurer pays, after the product's caps.")
    def payable_yen(self) -> int:
        return self.model.payable_yen

    @strawberry.field(description="What is above the caps: the customer's.")
    def customer_pays_yen(self) -> int:
        return self.model.customer_pays_yen

    @strawberry.field(description="Free fuel litres of a delivery.")
    def free_litres(self) -> int:
        return self.model.free_litres

    @strawberry.field(description="Towing kilometres above the free distance (charged).")
    def chargeable_km(self) -> int:
        return self.model.chargeable_km

    @strawberry.field(description="Codes of the product limits that applied.")
    def limits(self) -> list[str]:
        return list(self.model.limits)

    @strawberry.field(description="How the limits applied, with their pamphlet lines.")
    def notes(self) -> list[str]:
        return list(self.model.notes)

    @strawberry.field(description="Site attendance: what the dispatched guard does (000 L47-66).")
    def guard_tasks(self) -> list[Label]:
        return [Label.of(GuardTask(t)) for t in self.model.guard_tasks]

    @strawberry.field(description="Always NO_COUNT: assistance never changes the grade (001 L1070; 004 L1594).")
    def grade_class(self) -> Label:
        return Label.of(self.model.grade_class)
