"""Mutations: requestRoadAssistance and requestAccidentSiteAttendance (SPEC §4.8; 001 §7.4, 003,
004 §7.3, 000).

Same conventions as api/mutations.py: one `input` with idempotencyKey and dryRun, a payload with
userErrors; a refused request (a second fuel delivery in the period, over a cap, a contract not in
force, another's contract) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from api.claims.assistance_types import AssistanceRequest, RoadAssistanceKind, RoadKind
from api.context import Context
from api.mutation_support import UserError, errors_of, required_id, run_use_case
from domain.products.model import AssistanceKind
from domain.services.claims import assistance
from domain.services.mutation_runner import Outcome
from domain.store.assistance_repo import StoredAssistance


@strawberry.input(description="A person's cost (transport home, lodging), paid up to the per-person cap.")
class AssistancePersonInput:
    person: str = strawberry.field(description="Who (a name or a seat); one entry per person.")
    amount_yen: int


@strawberry.input(description="Road assistance; give the facts the kind needs (distance, people, litres, nights).")
class RequestRoadAssistanceInput:
    contract_id: strawberry.ID
    kind: RoadAssistanceKind  # type: ignore[valid-type]
    incident: str = strawberry.field(
        description="Your key for the accident or breakdown; requests with the same key share per-incident caps.")
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="When help was needed; null = now.")
    accident: bool = strawberry.field(default=False, description="An accident (true) or a breakdown (false).")
    immobile: bool = strawberry.field(default=False, description="The car cannot (or may not) be driven.")
    stolen: bool = False
    at_home: bool = strawberry.field(default=False, description="At the home, company or contracted car park.")
    distance_from_home_km: int | None = strawberry.field(default=None, description="Straight line, km.")
    amount_yen: int = strawberry.field(default=0, description="Incident-level cost: towing bill, pet hotel, ...")
    persons: list[AssistancePersonInput] = strawberry.field(default_factory=list)
    vehicle_amount_yen: int = strawberry.field(default=0, description="One shared taxi or rental car.")
    litres: int = 0
    nights: int = 0
    tow_km: int = 0
    drop_m: int = strawberry.field(default=0, description="Height of a wheel drop, metres (rounded up).")
    pet: str | None = strawberry.field(default=None, description="DOG or CAT for pet lodging.")
    place: str | None = None
    via_jaf: bool = strawberry.field(
        default=False, description="A JAF member served by JAF through the insurer's desk: JAF's extra "
                                   "allowances (aioi ¥4,000 once; tokio ¥4,000 parts once, fuel twice).")
    pre_approved: bool = strawberry.field(
        default=False, description="Arranged through the desk / destination approved by the insurer in advance: "
                                   "the towing cap does not apply where the pamphlet says so (004 L776; 002 L3741).")
    extra_yen: int = strawberry.field(
        default=0, description="Parts, consumables and other cost beyond the free service; the customer's "
                               "unless a JAF allowance takes it.")
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input(description="Dispatch a guard to an accident scene (pamphlet 000).")
class RequestAccidentSiteAttendanceInput:
    contract_id: strawberry.ID
    incident: str
    place: str = strawberry.field(description="Where the accident is.")
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="When; null = now.")
    accident: bool = strawberry.field(
        default=True, description="False (a breakdown only) is refused: road assistance serves it (000 L34-37).")
    immobile: bool = strawberry.field(default=False, description="The guard then also requests road assistance.")
    in_dispatch_area: bool = strawberry.field(
        default=True, description="The call centre's check that the place can be served (000 L12-14, L28).")
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.type(description="Answer of the assistance mutations.")
class AssistancePayload:
    request: AssistanceRequest | None = strawberry.field(description="Null when refused.")
    user_errors: list[UserError]
    dry_run: bool = strawberry.field(description="True: nothing was stored; `request` shows what would happen.")
    replayed: bool


def _payload(o: Outcome[StoredAssistance]) -> AssistancePayload:
    return AssistancePayload(request=None if o.result is None else AssistanceRequest(model=o.result),
                             user_errors=errors_of(o), dry_run=o.dry_run, replayed=o.replayed)


def _road(i: RequestRoadAssistanceInput) -> assistance.AssistanceInput:
    return assistance.AssistanceInput(
        contract_id=required_id(i.contract_id, "Contract", "input.contractId"),
        kind=AssistanceKind(RoadKind(i.kind).value), incident=i.incident, occurred_at=i.occurred_at, accident=i.accident,
        immobile=i.immobile, stolen=i.stolen, at_home=i.at_home, distance_from_home_km=i.distance_from_home_km,
        amount_yen=i.amount_yen, persons=tuple(assistance.PersonInput(p.person, p.amount_yen) for p in i.persons),
        vehicle_amount_yen=i.vehicle_amount_yen, litres=i.litres, nights=i.nights, tow_km=i.tow_km,
        drop_m=i.drop_m, pet=i.pet, place=i.place, via_jaf=i.via_jaf, pre_approved=i.pre_approved,
        extra_yen=i.extra_yen,
    )


def _site(i: RequestAccidentSiteAttendanceInput) -> assistance.AssistanceInput:
    return assistance.AssistanceInput(
        contract_id=required_id(i.contract_id, "Contract", "input.contractId"), kind=AssistanceKind.SITE_ATTENDANCE,
        incident=i.incident, occurred_at=i.occurred_at, accident=i.accident, immobile=i.immobile,
        place=i.place, in_dispatch_area=i.in_dispatch_area,
    )


@strawberry.type
class AssistanceMutations:
    @strawberry.mutation(description="Ask for road assistance, counted against the product's limits "
                                     "(a used-up limit answers ASSISTANCE_LIMIT_USED_UP). Never changes the grade.")
    async def request_road_assistance(self, info: Info[Context, None],
                                      input: RequestRoadAssistanceInput) -> AssistancePayload:
        return _payload(await run_use_case(info, "requestRoadAssistance", lambda: _road(input),
                                   assistance.request_road_assistance, StoredAssistance,
                                   input.idempotency_key, input.dry_run))

    @strawberry.mutation(description="Dispatch a guard to secure an accident scene, photograph it and report "
                                     "(あんしん事故現場かけつけサービス, pamphlet 000). Free; never changes the grade.")
    async def request_accident_site_attendance(self, info: Info[Context, None],
                                               input: RequestAccidentSiteAttendanceInput) -> AssistancePayload:
        return _payload(await run_use_case(info, "requestAccidentSiteAttendance", lambda: _site(input),
                                   assistance.request_site_attendance, StoredAssistance,
                                   input.idempotency_key, input.dry_run))


__all__: list[Any] = ["AssistanceMutations"]
