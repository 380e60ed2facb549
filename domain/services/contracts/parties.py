"""Registering parties (policyholders, named insureds, drivers) and vehicles.

Who a registered row belongs to decides who sees it later (domain/services/access.py): the
account (`account_party_id`, the policyholder whose book it is) and the agency. A policyholder
registers into their own account; an agent into their agency and an account they can see; staff
anywhere.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.calendar import YearMonth, add_months
from domain.lifecycle import Role
from domain.services.access import Actor
from domain.services.contracts.support import today, visible_parties
from domain.services.contracts.types import RegisterParty, RegisterVehicle
from domain.services.errors import not_found, refuse
from domain.store.party_repo import (
    NewParty,
    NewVehicle,
    Party,
    PartyKind,
    Vehicle,
    agencies_by_id,
    create_party,
    create_vehicle,
)
from domain.store.uow import UnitOfWork

MIN_LICENCE_AGE = 16  # youngest licence age in Japan (motorcycle, 道路交通法 88条); decision
MAX_AGE = 120
RATING_CLASS_GROUPS = frozenset({"BI", "PD", "INJURY", "VEHICLE"})
MAX_RATING_CLASS = 17  # 型式別料率クラス 1-17 (kei 1-7), 001 L799; 002b L4821


async def _owner(
    uow: UnitOfWork, actor: Actor, account_party_id: int | None, agency_id: int | None
) -> tuple[int | None, int | None]:
    """(account, agency) a new party or vehicle is registered under, as the actor may."""
    account = account_party_id
    if actor.role is Role.POLICYHOLDER:
        if actor.party_id is None or account not in (None, actor.party_id):
            raise not_found("party", "input.accountPartyId", account)
        account = actor.party_id
    agency = actor.agency_id if actor.role is Role.AGENT else agency_id
    if actor.role is Role.AGENT and agency_id not in (None, actor.agency_id):
        raise not_found("agency", "input.agencyId", agency_id)
    if account is not None:
        holder = (await visible_parties(uow, actor, [(account, "input.accountPartyId")]))[account]
        # A party of someone's book names that book: accounts do not nest.
        account = holder.account_party_id or holder.id
        if agency is None:
            agency = holder.agency_id
    if agency is not None and actor.sees_everything and agency not in await agencies_by_id(uow.conn, [agency]):
        raise not_found("agency", "input.agencyId", agency)
    return account, agency


def _check_person(req: RegisterParty, on: date) -> None:
    if not req.name_kanji.strip():
        raise refuse("NAME_REQUIRED", "input.nameKanji", "a name is required")
    if req.kind is PartyKind.CORPORATION:
        if req.birth_date is not None:
            raise refuse("INVALID_BIRTH_DATE", "input.birthDate", "a corporation has no birth date")
        if req.licence_colour is not None or req.licence_date is not None:
            raise refuse("INVALID_LICENCE", "input.licenceColour", "a corporation holds no licence")
        return
    birth = req.birth_date
    if birth is None:
        raise refuse("BIRTH_DATE_REQUIRED", "input.birthDate", "a person needs a birth date")
    if birth > on:
        raise refuse("INVALID_BIRTH_DATE", "input.birthDate", f"birth date {birth} is in the future")
    if birth < add_months(on, -12 * MAX_AGE):
        raise refuse("INVALID_BIRTH_DATE", "input.birthDate", f"birth date {birth} is over {MAX_AGE} years ago")
    if req.licence_date is not None:
        if req.licence_colour is None:
            raise refuse("LICENCE_COLOUR_REQUIRED", "input.licenceColour", "a licence date needs its colour")
        if req.licence_date > on:
            raise refuse("INVALID_LICENCE_DATE", "input.licenceDate", f"licence date {req.licence_date} is in the future")
        earliest = add_months(birth, 12 * MIN_LICENCE_AGE)
        if req.licence_date < earliest:
            raise refuse(
                "INVALID_LICENCE_DATE", "input.licenceDate",
                f"licence date {req.licence_date} is before age {MIN_LICENCE_AGE} ({earliest})",
            )


async def register_party(uow: UnitOfWork, actor: Actor, req: RegisterParty, now: datetime) -> Party:
    """The GraphQL `registerDriver` (and registering a policyholder: no account = their own)."""
    account, agency = await _owner(uow, actor, req.account_party_id, req.agency_id)
    _check_person(req, today(now))
    new = NewParty(
        req.kind, req.name_kanji.strip(), req.name_kana, req.name_en, req.birth_date, req.postal_code,
        req.address_ja, req.address_en, account, agency, req.licence_colour, req.licence_date,
    )
    return await create_party(uow, new)


def _check_vehicle(req: RegisterVehicle, on: date) -> None:
    this_month = YearMonth.of(on)
    fr, mr = req.first_registration, req.model_release
    if fr is not None and fr > this_month:
        raise refuse("FIRST_REGISTRATION_IN_FUTURE", "input.firstRegistration", f"first registration {fr} is in the future")
    if mr is not None and mr > this_month:
        raise refuse("MODEL_RELEASE_IN_FUTURE", "input.modelRelease", f"model release {mr} is in the future")
    if fr is not None and mr is not None and fr < mr:
        raise refuse("DATES_OUT_OF_ORDER", "input.firstRegistration", f"first registration {fr} is before the model release {mr}")
    if req.value_yen is not None and req.value_yen < 0:
        raise refuse("NEGATIVE_AMOUNT", "input.valueYen", "a vehicle value is never negative")
    seen: set[str] = set()
    top = 7 if req.use_type.is_kei else MAX_RATING_CLASS
    for i, (group, cls) in enumerate(req.rating_classes):
        field = f"input.ratingClasses[{i}]"
        if group not in RATING_CLASS_GROUPS or group in seen:
            raise refuse("INVALID_RATING_CLASS_GROUP", field, f"rating class groups are {sorted(RATING_CLASS_GROUPS)}, each once")
        if not 1 <= cls <= top:
            raise refuse("RATING_CLASS_OUT_OF_RANGE", field, f"rating classes run 1..{top}, got {cls}")
        seen.add(group)


async def register_vehicle(uow: UnitOfWork, actor: Actor, req: RegisterVehicle, now: datetime) -> Vehicle:
    account = req.account_party_id
    if req.owner_party_id is not None:
        owner = (await visible_parties(uow, actor, [(req.owner_party_id, "input.ownerPartyId")]))[req.owner_party_id]
        account = account or owner.account_party_id or owner.id
    account, agency = await _owner(uow, actor, account, req.agency_id)
    _check_vehicle(req, today(now))
    return await create_vehicle(
        uow,
        NewVehicle(
            req.use_type, req.registration_no, req.chassis_no, req.model_code,
            req.first_registration.first_day() if req.first_registration else None,
            req.model_release.first_day() if req.model_release else None,
            dict(req.rating_classes), req.aeb, req.fuel, req.welfare, req.value_yen,
            req.owner_party_id, account, agency,
        ),
    )
