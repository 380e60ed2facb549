"""Road assistance and accident-site attendance requests (SPEC §4.8; issue 6 item 6).

    stored = await request_assistance(uow, actor, AssistanceInput(...), now)

One request, one transaction: the contract is read FOR UPDATE (so two requests of one contract
queue up and a "once per period" limit cannot be used twice by racing), checked for scope and for
being in force at the moment the help was needed, then decided by the pure
`domain.claims.assistance.request_assistance` against the product's limits and the contract's
earlier accepted requests. An accepted request is stored with its decision and an outbox event;
a refused one raises (userErrors) and stores nothing. Assistance never changes the grade, the
premium or the contract's lock version: it is not an endorsement (001 L1070; 004 L1594).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import JST, RuleError, add_months, cover_moment
from domain.claims import assistance as rules
from domain.products.model import AssistanceKind, ContractTrait
from domain.rating_codec import quote_from_json
from domain.services.access import Actor
from domain.services.contracts.support import product_of, visible_contract
from domain.services.errors import refuse
from domain.store.assistance_repo import (
    NewAssistance,
    PersonAmount,
    StoredAssistance,
    assistance_of,
    assistance_of_contracts,
    insert_assistance,
)
from domain.store.contract_repo import Contract, ContractStatus, Term, TermStatus, terms
from domain.store.outbox import append_events
from domain.store.uow import Executor, UnitOfWork
from domain.store.version_repo import ContractVersion, version_as_of
from domain.vocab import Labelled

K = AssistanceKind
ROAD_KINDS = frozenset(K) - {K.SITE_ATTENDANCE}
# The attendance service exists for accidents on or after 2019-04-01 (000 L34).
SITE_ATTENDANCE_FROM = cover_moment(date(2019, 4, 1)).replace(hour=0)
# Terms whose cover was (or is) running; a moment inside one of these with a current version is
# "in force". A cancelled term's versions end at the cancellation, so its earlier days still count.
_COVERED_TERMS = frozenset({TermStatus.IN_FORCE, TermStatus.EXPIRED, TermStatus.CANCELLED, TermStatus.SCHEDULED})
MAX_TEXT = 100


class GuardTask(Labelled):
    """What the security company's guard does at the scene (000 L47-66)."""

    SECURE_SCENE = ("SECURE_SCENE", "現場の安全確保", "Secure the scene (warning triangle, flares)")
    HEAR_AND_REPORT = ("HEAR_AND_REPORT", "事故状況の聴取・報告", "Hear the circumstances and report them")
    RECORD_PHOTOS = ("RECORD_PHOTOS", "現場写真の記録", "Photograph the vehicles and the place")
    REQUEST_ROAD_ASSISTANCE = ("REQUEST_ROAD_ASSISTANCE", "ロードアシスタンスの手配",
                               "Request road assistance (the car cannot move)")


class AssistanceEvent:
    ROAD_ASSISTANCE_REQUESTED = "ROAD_ASSISTANCE_REQUESTED"
    SITE_ATTENDANCE_DISPATCHED = "SITE_ATTENDANCE_DISPATCHED"


@dataclass(frozen=True, slots=True)
class PersonInput:
    person: str
    amount_yen: int


@dataclass(frozen=True, slots=True)
class AssistanceInput:
    contract_id: int
    kind: AssistanceKind
    incident: str
    occurred_at: datetime | None = None       # None: now
    accident: bool = False
    immobile: bool = False
    stolen: bool = False
    at_home: bool = False
    distance_from_home_km: int | None = None
    amount_yen: int = 0
    persons: tuple[PersonInput, ...] = ()
    vehicle_amount_yen: int = 0
    litres: int = 0
    nights: int = 0
    tow_km: int = 0
    drop_m: int = 0
    pet: str | None = None
    place: str | None = None
    in_dispatch_area: bool = True             # site attendance: the centre checked the place (000 L12-14, L28)
    via_jaf: bool = False                     # a JAF member served by JAF through the desk (002 L3792-3802; 004 L814)
    pre_approved: bool = False                # arranged / destination approved in advance (002 L3741-3746; 004 L776)
    extra_yen: int = 0                        # parts, consumables beyond the free service (004 L790, L814)


def _check_input(req: AssistanceInput, now: datetime) -> datetime:
    """The moment the help was needed; refuses malformed input before anything is read."""
    if not req.incident.strip() or len(req.incident) > MAX_TEXT:
        raise refuse("INVALID_INCIDENT", "input.incident", f"incident is 1 to {MAX_TEXT} characters")
    at = req.occurred_at or now
    if at.tzinfo is None:
        raise refuse("NAIVE_DATETIME", "input.occurredAt", "occurredAt needs a time zone offset")
    if at > now:
        raise refuse("OCCURRED_IN_FUTURE", "input.occurredAt", "assistance is requested for what has happened")
    if req.nights < 0:
        raise refuse("NEGATIVE_AMOUNT", "input.nights", "nights cannot be negative")
    if req.extra_yen < 0:
        raise refuse("NEGATIVE_AMOUNT", "input.extraYen", "extraYen cannot be negative")
    names = [p.person.strip() for p in req.persons]
    if any(not n or len(n) > MAX_TEXT for n in names):
        raise refuse("INVALID_PERSON", "input.persons", f"each person is named with 1 to {MAX_TEXT} characters")
    if len(set(names)) != len(names):
        raise refuse("DUPLICATE_PERSON", "input.persons", "a person is listed once per request")
    for i, p in enumerate(req.persons):
        if p.amount_yen < 0:
            raise refuse("NEGATIVE_AMOUNT", f"input.persons[{i}].amountYen", "amounts cannot be negative")
    if req.place is not None and len(req.place) > 500:
        raise refuse("INVALID_PLACE", "input.place", "place is at most 500 characters")
    return at.astimezone(JST)


def _policy_year(term: Term, at: datetime) -> tuple[datetime, datetime]:
    """The policy year of a term containing `at`: uses "per policy period" count per year, so a
    long-term contract gets its allowance again each year (001 L945 "1年間に1回")."""
    start_day = term.starts_at.astimezone(JST).date()
    start, k = term.starts_at, 0
    while True:
        nxt = cover_moment(add_months(start_day, 12 * (k + 1)))
        if at < nxt or nxt >= term.ends_at:
            return start, min(nxt, term.ends_at)
        start, k = nxt, k + 1


async def _in_force_at(uow: UnitOfWork, c: Contract, at: datetime) -> tuple[Term, ContractVersion]:
    if ContractStatus.QUOTED in c.statuses or ContractStatus.RESCINDED in c.statuses:
        raise refuse("CONTRACT_NOT_IN_FORCE", "input.contractId", "the contract is not in force")
    term = next((t for t in await terms(uow.conn, c.id) if t.starts_at <= at < t.ends_at), None)
    version = await version_as_of(uow.conn, c.id, at) if term is not None else None
    if term is None or term.status not in _COVERED_TERMS or version is None:
        raise refuse("CONTRACT_NOT_IN_FORCE", "input.occurredAt",
                     f"the contract was not in force at {at.isoformat()} (001 L1074; 003 L73-75)")
    return term, version


def _coverages(v: ContractVersion) -> frozenset[str]:
    """Coverage and rider codes of the version: chosen coverages, chosen and automatic riders."""
    codes = {str(c["code"]) for c in v.data.coverages or []}
    codes |= {str(r) for r in (v.data.premium or {}).get("riders", [])}
    if v.data.rating_input:
        codes |= set(quote_from_json(v.data.rating_input).riders)
    return frozenset(codes)


def _traits(v: ContractVersion) -> tuple[frozenset[ContractTrait], int | None]:
    """Fleet / multi-car facts and the vehicle sum insured (with vehicle cover) of the version:
    aioi's free fuel has no count on fleet and multi-car contracts (002 L3759-3760), its
    self-arranged tow cap is 10% of the vehicle sum insured when higher (002 L3749)."""
    if not v.data.rating_input:
        return frozenset(), None
    q = quote_from_json(v.data.rating_input)
    traits = set()
    if q.fleet is not None:
        traits.add(ContractTrait.FLEET)
    elif q.discounts.multi_car_count >= 2:     # まとめて割引 from 2 cars (002 L2163-2167)
        traits.add(ContractTrait.MULTI_CAR_DISCOUNT)
    vehicle = q.vehicle.value if "VEHICLE" in _coverages(v) and q.vehicle.value > 0 else None
    return frozenset(traits), vehicle


def _guard_tasks(req: AssistanceInput) -> tuple[str, ...]:
    tasks = [GuardTask.SECURE_SCENE, GuardTask.HEAR_AND_REPORT, GuardTask.RECORD_PHOTOS]
    if req.immobile:
        tasks.append(GuardTask.REQUEST_ROAD_ASSISTANCE)     # 000 L59-64 (注1)
    return tuple(t.value for t in tasks)


async def request_assistance(uow: UnitOfWork, actor: Actor, req: AssistanceInput, now: datetime) -> StoredAssistance:
    """Decide and store one request; raises Refused/RuleError (userErrors) and stores nothing."""
    at = _check_input(req, now)
    c = await visible_contract(uow, actor, req.contract_id)
    if req.kind is K.SITE_ATTENDANCE:
        if not req.in_dispatch_area:
            raise refuse("OUTSIDE_DISPATCH_AREA", "input.inDispatchArea",
                         "the place is outside the guards' dispatch area (000 L12-14, L28)")
        if at < SITE_ATTENDANCE_FROM:
            raise refuse("BEFORE_SERVICE_START", "input.occurredAt",
                         "site attendance serves accidents on or after 2019-04-01 (000 L34)")
    term, version = await _in_force_at(uow, c, at)
    product = product_of(c.product_id, "input.contractId")
    period_start, period_end = _policy_year(term, at)
    traits, vehicle_si = _traits(version)
    ctx = rules.ContractContext(product, c.channel, _coverages(version), period_start, period_end,
                                traits, vehicle_si)
    earlier = await assistance_of(uow.conn, c.id)
    pure = rules.AssistanceRequest(
        kind=req.kind, incident=req.incident, at=at, accident=req.accident, immobile=req.immobile,
        stolen=req.stolen, at_home=req.at_home, distance_from_home_km=req.distance_from_home_km,
        amount=req.amount_yen, person_amounts={p.person.strip(): p.amount_yen for p in req.persons},
        vehicle_amount=req.vehicle_amount_yen, litres=req.litres, tow_km=req.tow_km, drop_m=req.drop_m,
        pet=req.pet, via_jaf=req.via_jaf, pre_approved=req.pre_approved, extra_amount=req.extra_yen,
    )
    try:
        d = rules.request_assistance(ctx, pure, [e.as_use() for e in earlier])
    except RuleError as e:
        raise refuse(e.code, _input_path(e.field), e.message) from None
    persons = tuple(PersonAmount(p.person.strip(), p.amount_yen, d.person_paid.get(p.person.strip(), 0))
                    for p in req.persons)
    stored = await insert_assistance(uow.conn, NewAssistance(
        contract_id=c.id, term_id=term.id, kind=req.kind, incident=req.incident, occurred_at=at,
        requested_at=now, requested_by=actor.subject, requested_role=actor.role, accident=req.accident,
        immobile=req.immobile, stolen=req.stolen, at_home=req.at_home,
        distance_from_home_km=req.distance_from_home_km, litres=req.litres, nights=req.nights,
        tow_km=req.tow_km, drop_m=req.drop_m, pet=req.pet, place=req.place, amount_yen=req.amount_yen,
        vehicle_amount_yen=req.vehicle_amount_yen, persons=persons,
        requested_yen=d.payable + d.customer_pays, payable_yen=d.payable, customer_pays_yen=d.customer_pays,
        free_litres=d.free_litres, chargeable_km=d.chargeable_km, limits=d.limits, notes=d.notes,
        guard_tasks=_guard_tasks(req) if req.kind is K.SITE_ATTENDANCE else (),
    ))
    kind = (AssistanceEvent.SITE_ATTENDANCE_DISPATCHED if req.kind is K.SITE_ATTENDANCE
            else AssistanceEvent.ROAD_ASSISTANCE_REQUESTED)
    await append_events(uow, c.id, [(kind, {
        "policyNumber": c.policy_number, "assistanceRequestId": stored.id, "kind": req.kind.value,
        "incident": req.incident, "termNo": term.term_no, "occurredAt": at.isoformat(),
        "payableYen": d.payable, "customerPaysYen": d.customer_pays, "gradeClass": stored.grade_class.value,
        **({"guardTasks": list(stored.guard_tasks)} if stored.guard_tasks else {}),
    })], at=now)
    return stored


# The pure module names its request's fields; the API input names some differently.
_FIELDS = {"amount": "amountYen", "personAmounts": "persons", "vehicleAmount": "vehicleAmountYen",
           "at": "occurredAt", "riders": "contractId", "extraAmount": "extraYen"}


def _input_path(field: str) -> str:
    return f"input.{_FIELDS.get(field, field)}" if field else "input"


async def request_road_assistance(uow: UnitOfWork, actor: Actor, req: AssistanceInput, now: datetime) -> StoredAssistance:
    """requestRoadAssistance: towing, battery, lock-out, fuel, tyre, lodging, transport home, pet
    lodging, post-repair transport, wheel drop."""
    if req.kind not in ROAD_KINDS:
        raise refuse("NOT_ROAD_ASSISTANCE", "input.kind", "use requestAccidentSiteAttendance for a guard at the scene")
    return await request_assistance(uow, actor, req, now)


async def request_site_attendance(uow: UnitOfWork, actor: Actor, req: AssistanceInput, now: datetime) -> StoredAssistance:
    """requestAccidentSiteAttendance: dispatch a guard to secure the scene, photograph and report (000)."""
    if req.kind is not K.SITE_ATTENDANCE:
        raise refuse("NOT_SITE_ATTENDANCE", "input.kind", "site attendance requests have kind SITE_ATTENDANCE")
    return await request_assistance(uow, actor, req, now)


async def assistance_requests_of(pool: Executor, contract_ids: Sequence[int]) -> dict[int, list[StoredAssistance]]:
    """The requests of contracts the caller already sees (the Contract field's DataLoader)."""
    return await assistance_of_contracts(pool, contract_ids)
