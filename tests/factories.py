"""Rated contracts written straight through the store, for read-path and API tests.

These bypass the lifecycle use cases on purpose: read tests must not depend on them, and a book of
any shape (states, several versions, many drivers) can be built in a few statements.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from domain.calendar import YearMonth, cover_moment
from domain.grade import GradeMarker, GradeRecord
from domain.products import default_catalog
from domain.rating import CoverageChoice, NamedInsured, QuoteInput, UsePurpose, VehicleFacts, rate
from domain.rating_codec import (
    coverages_to_json,
    explanation_to_json,
    premium_to_json,
    quote_to_json,
)
from domain.runtime.clock import JST
from domain.store.outbox import append_events
from domain.store.party_repo import (
    NewParty,
    NewVehicle,
    Party,
    PartyKind,
    Vehicle,
    create_agency,
    create_party,
    create_vehicle,
)
from domain.store.policy_repo import (
    ActorRole,
    CreatedContract,
    DriverEntry,
    GradeSource,
    NewContract,
    NewTransaction,
    TermStatus,
    TransactionKind,
    VersionData,
    append_version,
    create_contract,
    record_grade,
)
from domain.store.uow import UnitOfWork
from domain.vocab import AgeCondition, Channel, ContractStatus, LicenceColour, Relationship, UseType

RAKUTEN = "rakuten-drive-assist"
_RUN = secrets.token_hex(3)
_seq = itertools.count(1)
RECORDED = datetime(2026, 3, 20, 10, 0, tzinfo=JST)
GRADE_10 = GradeRecord(10, GradeMarker.NONE, 0)


def unique(prefix: str) -> str:
    return f"{prefix}-{_RUN}-{next(_seq):06d}"


@dataclass(frozen=True, slots=True)
class Book:
    """What `rated_contract` made, for assertions."""

    created: CreatedContract
    policyholder: Party
    vehicle: Vehicle
    drivers: tuple[Party, ...]
    agency_id: int | None


def rakuten_quote(start: date, birth: date, grade: GradeRecord) -> QuoteInput:
    return QuoteInput(
        product_id=RAKUTEN, start_date=start,
        vehicle=VehicleFacts(UseType.PRIVATE_STANDARD_PASSENGER, first_registration=YearMonth(2015, 1),
                             model_release=YearMonth(2014, 6),
                             rating_classes={"BI": 5, "PD": 6, "INJURY": 4, "VEHICLE": 7}),
        named_insured=NamedInsured(birth, LicenceColour.GOLD),
        coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PIP"), CoverageChoice("VEHICLE")),
        channel=Channel.AGENT, age_condition=AgeCondition.AGE_26, use_purpose=UsePurpose.DAILY_LEISURE,
        mileage_class=5, grade=grade,
    )


def version_from_quote(q: QuoteInput, vehicle_id: int, named_insured_id: int,
                       drivers: tuple[DriverEntry, ...]) -> VersionData:
    product = default_catalog().get(q.product_id)
    assert product is not None
    p = rate(product, q)
    assert q.grade is not None
    return VersionData(
        vehicle_id=vehicle_id, named_insured_id=named_insured_id, age_condition=q.age_condition,
        driver_restriction=q.driver_restriction, premium_yen=p.total, grade=q.grade,
        coverages=coverages_to_json(q, p), discounts=list(p.discounts),
        explanation=explanation_to_json(p.explanation), drivers=drivers,
        rating_input=quote_to_json(q), premium=premium_to_json(p),
    )


async def rated_contract(
    pool: asyncpg.Pool,
    *,
    policyholder: Party | None = None,
    agency_id: int | None | bool = True,
    statuses: frozenset[ContractStatus] = frozenset({ContractStatus.IN_FORCE}),
    start: date = date(2026, 4, 1),
    extra_drivers: int = 1,
    endorse_on: date | None = None,
    grade: GradeRecord = GRADE_10,
) -> Book:
    """An in-force rakuten contract with a rated version; `endorse_on` splits it (age condition)."""
    async with UnitOfWork(pool) as uow:
        if agency_id is True:
            agency_id = (await create_agency(uow, unique("AG"), "テスト代理店", "Test agency")).id
        elif agency_id is False:
            agency_id = None
        assert agency_id is None or isinstance(agency_id, int)
        holder = policyholder or await create_party(uow, NewParty(
            PartyKind.PERSON, "山田 太郎", "ヤマダ タロウ", "Taro Yamada", date(1980, 6, 1), "100-0001",
            "東京都千代田区千代田1-1", "1-1 Chiyoda, Tokyo", agency_id=agency_id,
            licence_colour=LicenceColour.GOLD, licence_date=date(2000, 5, 1)))
        car = await create_vehicle(uow, NewVehicle(
            UseType.PRIVATE_STANDARD_PASSENGER, registration_no=unique("品川300あ"), chassis_no=unique("CH"),
            model_code="DBA-ABC1", first_registration=date(2015, 1, 1), model_release=date(2014, 6, 1),
            rating_classes={"BI": 5, "PD": 6, "INJURY": 4, "VEHICLE": 7}, value_yen=1_800_000,
            owner_party_id=holder.id, account_party_id=holder.id, agency_id=agency_id))
        drivers = [holder]
        for i in range(extra_drivers):
            drivers.append(await create_party(uow, NewParty(
                PartyKind.PERSON, f"山田 {i}子", None, f"Family {i}", date(1990 + i, 1, 1),
                account_party_id=holder.id, agency_id=agency_id, licence_colour=LicenceColour.BLUE)))
        entries = tuple(
            DriverEntry(p.id, Relationship.SELF if p.id == holder.id else Relationship.COHABITING_RELATIVE,
                        p.licence_colour or LicenceColour.BLUE, None) for p in drivers)
        q = rakuten_quote(start, holder.birth_date or date(1980, 6, 1), grade)
        created = await create_contract(
            uow, NewContract(unique("AP-T"), RAKUTEN, holder.id, Channel.AGENT, statuses, agency_id),
            starts_at=cover_moment(start), ends_at=cover_moment(start.replace(year=start.year + 1)),
            term_status=TermStatus.IN_FORCE, first_version=version_from_quote(q, car.id, holder.id, entries),
            at=RECORDED, transaction=NewTransaction(TransactionKind.ISSUE, "test", ActorRole.STAFF, RECORDED),
            version_valid_until=cover_moment(start.replace(year=start.year + 1)),
        )
        await record_grade(uow, created.contract.id, created.term.id, grade, GradeSource.RENEWAL,
                           recorded_at=RECORDED)
        await append_events(uow, created.contract.id, [("CONTRACT_ISSUED", {"by": "test"})], at=RECORDED)
        if endorse_on is not None:
            q2 = dataclasses.replace(q, age_condition=AgeCondition.AGE_35)
            await append_version(uow, created.contract.id, created.contract.lock_version,
                                 cover_moment(endorse_on), version_from_quote(q2, car.id, holder.id, entries),
                                 recorded_at=RECORDED + timedelta(days=1))
            await append_events(uow, created.contract.id, [("CONTRACT_ENDORSED", {})], at=RECORDED)
    return Book(created, holder, car, tuple(drivers), agency_id)


async def pay_all_instalments(pool: asyncpg.Pool, contract_id: int, now: datetime) -> int:
    """Record every unpaid instalment of the contract as paid today (by card), through the payment
    use case, so stories about other rules are not ended by the non-payment timers. Answers how many."""
    from domain.services.access import SYSTEM
    from domain.services.payments.premiums import PaymentRequest, instalments_of, record_payment
    from domain.store.payment_repo import PaidBy

    paid = 0
    for inst in (await instalments_of(pool, [contract_id])).get(contract_id, []):
        if inst.paid_on is not None:
            continue
        async with UnitOfWork(pool) as uow:
            await record_payment(uow, SYSTEM, PaymentRequest(contract_id, inst.term_no, inst.number, inst.amount_yen,
                                                             now.astimezone(JST).date(), PaidBy.CARD), now)
        paid += 1
    return paid
