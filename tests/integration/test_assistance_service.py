"""Assistance requests through the service layer against real PostgreSQL: limits counted across
stored requests, concurrency, events, the grade and lock version untouched (001 §7.4, 003,
004 §7.3, 000)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from domain.calendar import cover_moment
from domain.grade import GradeMarker, GradeRecord
from domain.lifecycle import Role
from domain.products import default_catalog
from domain.products.model import AssistanceKind
from domain.rating import QuoteInput, rate
from domain.rating_codec import (
    coverages_to_json,
    explanation_to_json,
    premium_to_json,
    quote_to_json,
)
from domain.runtime.clock import JST
from domain.services.access import Actor
from domain.services.claims.assistance import (
    AssistanceInput,
    PersonInput,
    _policy_year,
    request_road_assistance,
    request_site_attendance,
)
from domain.services.errors import Refused, as_user_errors
from domain.services.mutation_runner import run_mutation
from domain.store.assistance_repo import StoredAssistance, assistance_of
from domain.store.contract_repo import Term, TermStatus
from domain.store.party_repo import (
    NewParty,
    NewVehicle,
    PartyKind,
    create_agency,
    create_party,
    create_vehicle,
)
from domain.store.policy_repo import (
    ActorRole,
    DriverEntry,
    NewContract,
    NewTransaction,
    TransactionKind,
    VersionData,
    create_contract,
)
from domain.store.uow import UnitOfWork
from domain.vocab import Channel, ContractStatus, LicenceColour, Relationship, UseType
from tests.factories import rakuten_quote, unique

K = AssistanceKind
START = date(2026, 4, 1)
NOW = datetime(2026, 7, 1, 10, 0, tzinfo=JST)
STAFF = Actor("staff-assist", Role.STAFF)
TABLES = ("contracts", "terms", "contract_versions", "transactions", "events", "grade_records",
          "assistance_requests", "idempotency_records")


async def store_contract(pool: asyncpg.Pool, q: QuoteInput, channel: Channel, *, years: int = 1) -> tuple[int, int, int]:
    """An in-force contract of any product rated from `q`: (contract id, policyholder id, agency id)."""
    product = default_catalog().get(q.product_id)
    assert product is not None
    p = rate(product, q)
    async with UnitOfWork(pool) as uow:
        agency = await create_agency(uow, unique("AG"), "テスト代理店", "Test agency")
        holder = await create_party(uow, NewParty(
            PartyKind.PERSON, "佐藤 花子", None, "Hanako Sato", date(1980, 3, 3), agency_id=agency.id,
            licence_colour=LicenceColour.GOLD))
        car = await create_vehicle(uow, NewVehicle(
            UseType.PRIVATE_STANDARD_PASSENGER, registration_no=unique("品川300か"), chassis_no=unique("CH"),
            first_registration=date(2015, 1, 1), model_release=date(2014, 6, 1),
            rating_classes=dict(q.vehicle.rating_classes), owner_party_id=holder.id,
            account_party_id=holder.id, agency_id=agency.id))
        data = VersionData(
            vehicle_id=car.id, named_insured_id=holder.id, age_condition=q.age_condition,
            driver_restriction=q.driver_restriction, premium_yen=p.total,
            grade=q.grade or GradeRecord(6, GradeMarker.S, 0), coverages=coverages_to_json(q, p),
            discounts=list(p.discounts), explanation=explanation_to_json(p.explanation),
            drivers=(DriverEntry(holder.id, Relationship.SELF, LicenceColour.GOLD),),
            rating_input=quote_to_json(q), premium=premium_to_json(p))
        end = cover_moment(q.start_date.replace(year=q.start_date.year + years))
        created = await create_contract(
            uow, NewContract(unique("AP-A"), q.product_id, holder.id, channel, frozenset({ContractStatus.IN_FORCE}),
                             agency.id),
            starts_at=cover_moment(q.start_date), ends_at=end, term_status=TermStatus.IN_FORCE,
            first_version=data, at=datetime(2026, 3, 20, 10, tzinfo=JST),
            transaction=NewTransaction(TransactionKind.ISSUE, "test", ActorRole.STAFF,
                                       datetime(2026, 3, 20, 10, tzinfo=JST)),
            version_valid_until=end)
    return created.contract.id, holder.id, agency.id


async def rakuten(pool: asyncpg.Pool, channel: Channel = Channel.INTERNET) -> int:
    q = dataclasses.replace(rakuten_quote(START, date(1980, 6, 1), GradeRecord(10, GradeMarker.NONE, 0)),
                            channel=channel)
    return (await store_contract(pool, q, channel))[0]


async def ask(pool: asyncpg.Pool, contract_id: int, kind: AssistanceKind, *, now: datetime = NOW,
              actor: Actor = STAFF, **kw: Any) -> StoredAssistance:
    req = AssistanceInput(contract_id=contract_id, kind=kind, incident=kw.pop("incident", "i1"), **kw)
    call = request_site_attendance if kind is K.SITE_ATTENDANCE else request_road_assistance
    async with UnitOfWork(pool) as uow:
        return await call(uow, actor, req, now)


async def refused(pool: asyncpg.Pool, contract_id: int, kind: AssistanceKind, **kw: Any) -> str:
    with pytest.raises(Exception) as e:
        await ask(pool, contract_id, kind, **kw)
    errs = as_user_errors(e.value)
    assert errs, e.value
    return errs[0].code


async def digest(pool: asyncpg.Pool) -> dict[str, str]:
    async with pool.acquire() as conn:
        return {t: await conn.fetchval(
            f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x") for t in TABLES}


# ------------------------------------------------------------------ fuel: 001 L941-945, L961


async def test_internet_fuel_once_per_policy_year_second_refused_changes_nothing(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool, Channel.INTERNET)
    first = await ask(pool, cid, K.FUEL, litres=15)
    assert first.free_litres == 10                                  # 001 L941: 10 L free
    assert any("5 L charged" in n for n in first.notes)
    before = await digest(pool)
    code = await refused(pool, cid, K.FUEL, incident="i2", now=NOW + timedelta(days=40))   # 001 L945: once a year
    assert code == "ASSISTANCE_LIMIT_USED_UP"
    assert await digest(pool) == before


async def test_agent_fuel_twice_per_policy_year(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool, Channel.AGENT)
    await ask(pool, cid, K.FUEL, litres=5)
    await ask(pool, cid, K.FUEL, incident="i2", litres=5)             # 001 L961: twice (Road Assistance Plus)
    assert await refused(pool, cid, K.FUEL, incident="i3") == "ASSISTANCE_LIMIT_USED_UP"


async def test_concurrent_fuel_requests_one_wins(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool, Channel.INTERNET)
    results = await asyncio.gather(*[ask(pool, cid, K.FUEL, incident=f"c{i}") for i in range(6)],
                                   return_exceptions=True)
    won = [r for r in results if isinstance(r, StoredAssistance)]
    lost = [r for r in results if isinstance(r, Refused)]
    assert len(won) == 1 and len(lost) == 5, results
    assert all(r.errors[0].code == "ASSISTANCE_LIMIT_USED_UP" for r in lost)
    async with pool.acquire() as conn:
        assert len(await assistance_of(conn, cid)) == 1


# ------------------------------------------------------------------ towing: 001 L893


async def test_towing_cap_per_incident_shared_by_pickup_and_wheel_drop(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool, Channel.AGENT)
    tow = await ask(pool, cid, K.TOWING, immobile=True, amount_yen=150_000)
    assert (tow.payable_yen, tow.customer_pays_yen) == (150_000, 0)
    pick = await ask(pool, cid, K.POST_REPAIR_TRANSPORT, immobile=True, amount_yen=80_000)
    assert (pick.payable_yen, pick.customer_pays_yen, pick.requested_yen) == (50_000, 30_000, 80_000)
    assert await refused(pool, cid, K.WHEEL_DROP, amount_yen=10_000) == "ASSISTANCE_LIMIT_USED_UP"
    other = await ask(pool, cid, K.TOWING, incident="i2", immobile=True, amount_yen=250_000)
    assert (other.payable_yen, other.customer_pays_yen) == (200_000, 50_000)


# ------------------------------------------------------------------ people: 001 L1039-1048


async def test_lodging_per_person_and_pet_after_lodging(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool, Channel.AGENT)
    assert await refused(pool, cid, K.PET_LODGING, stolen=True, pet="DOG", amount_yen=5_000) == "PET_NEEDS_LODGING"
    lodging = await ask(pool, cid, K.LODGING, immobile=True, nights=1,
                        persons=(PersonInput("driver", 25_000), PersonInput("passenger", 8_000)))
    assert {p.person: p.paid_yen for p in lodging.persons} == {"driver": 20_000, "passenger": 8_000}  # 001 L1045
    assert lodging.customer_pays_yen == 5_000
    pet = await ask(pool, cid, K.PET_LODGING, immobile=True, pet="CAT", amount_yen=30_000)
    assert (pet.payable_yen, pet.customer_pays_yen) == (20_000, 10_000)                                # 001 L1048


# ------------------------------------------------------------------ in force, grade, events


async def test_not_in_force_outside_the_term_and_in_the_future(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool)
    before = await digest(pool)
    assert await refused(pool, cid, K.BATTERY, occurred_at=datetime(2026, 3, 31, 10, tzinfo=JST)) == "CONTRACT_NOT_IN_FORCE"
    assert await refused(pool, cid, K.BATTERY, occurred_at=NOW + timedelta(hours=1)) == "OCCURRED_IN_FUTURE"
    assert await refused(pool, 9_000_000_000, K.BATTERY) == "CONTRACT_NOT_FOUND"
    assert await refused(pool, cid, K.FUEL, litres=-1) == "NEGATIVE_AMOUNT"
    with pytest.raises(Refused) as e:               # the guard has its own mutation
        async with UnitOfWork(pool) as uow:
            await request_road_assistance(uow, STAFF, AssistanceInput(cid, K.SITE_ATTENDANCE, "s", accident=True), NOW)
    assert e.value.errors[0].code == "NOT_ROAD_ASSISTANCE"
    assert await digest(pool) == before


async def test_assistance_never_changes_grade_premium_or_lock_version(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool, Channel.AGENT)
    q = "SELECT lock_version, event_seq FROM contracts WHERE id = $1"
    lock_before, seq_before = await pool.fetchrow(q, cid)
    versions_before = await pool.fetchval("SELECT count(*) FROM contract_versions WHERE contract_id = $1", cid)
    grades_before = await pool.fetchval("SELECT count(*) FROM grade_records WHERE contract_id = $1", cid)
    stored = await ask(pool, cid, K.TOWING, immobile=True, accident=True, amount_yen=30_000)
    assert stored.grade_class.value == "NO_COUNT"                         # 001 L1070
    lock_after, seq_after = await pool.fetchrow(q, cid)
    assert lock_after == lock_before and seq_after == seq_before + 1
    assert await pool.fetchval("SELECT count(*) FROM contract_versions WHERE contract_id = $1", cid) == versions_before
    assert await pool.fetchval("SELECT count(*) FROM grade_records WHERE contract_id = $1", cid) == grades_before
    ev = await pool.fetchrow("SELECT kind, payload FROM events WHERE contract_id = $1 ORDER BY seq DESC LIMIT 1", cid)
    assert ev["kind"] == "ROAD_ASSISTANCE_REQUESTED"
    assert ev["payload"]["assistanceRequestId"] == stored.id and ev["payload"]["payableYen"] == 30_000
    with pytest.raises(asyncpg.CheckViolationError):                    # the table refuses a counted class
        await pool.execute("UPDATE assistance_requests SET grade_class = 'THREE_DOWN' WHERE id = $1", stored.id)


# ------------------------------------------------------------------ site attendance: 000


async def test_site_attendance_dispatches_a_guard(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool)
    s = await ask(pool, cid, K.SITE_ATTENDANCE, accident=True, immobile=True, place="国道1号 横浜市")
    # 000 L47-66: secure the scene, hear and report, photos; and road assistance when immobile (注1)
    assert s.guard_tasks == ("SECURE_SCENE", "HEAR_AND_REPORT", "RECORD_PHOTOS", "REQUEST_ROAD_ASSISTANCE")
    assert s.payable_yen == 0                                              # 000 L46: free of charge
    ev = await pool.fetchval("SELECT kind FROM events WHERE contract_id = $1 ORDER BY seq DESC LIMIT 1", cid)
    assert ev == "SITE_ATTENDANCE_DISPATCHED"
    before = await digest(pool)
    assert await refused(pool, cid, K.SITE_ATTENDANCE, incident="b", accident=False) == "NOT_AN_ACCIDENT"  # 000 L34-37
    assert await refused(pool, cid, K.SITE_ATTENDANCE, incident="c", accident=True,
                         in_dispatch_area=False) == "OUTSIDE_DISPATCH_AREA"                              # 000 L28
    assert await digest(pool) == before


async def test_dry_run_and_idempotency_through_the_runner(pool: asyncpg.Pool) -> None:
    cid = await rakuten(pool)
    req = AssistanceInput(contract_id=cid, kind=K.FUEL, incident="x", litres=10)
    before = await digest(pool)
    dry = await run_mutation(pool, STAFF, "requestRoadAssistance", req,
                             lambda uow, a: request_road_assistance(uow, a, req, NOW),
                             result_type=StoredAssistance, idempotency_key=None, dry_run=True)
    assert dry.result is not None and dry.result.free_litres == 10 and await digest(pool) == before
    key = unique("k")
    first = await run_mutation(pool, STAFF, "requestRoadAssistance", req,
                               lambda uow, a: request_road_assistance(uow, a, req, NOW),
                               result_type=StoredAssistance, idempotency_key=key, dry_run=False)
    again = await run_mutation(pool, STAFF, "requestRoadAssistance", req,
                               lambda uow, a: request_road_assistance(uow, a, req, NOW),
                               result_type=StoredAssistance, idempotency_key=key, dry_run=False)
    assert again.replayed and again.result == first.result            # no second use counted
    async with pool.acquire() as conn:
        assert len(await assistance_of(conn, cid)) == 1


# ------------------------------------------------------------------ policy years (002b L3759-3760)


def test_policy_year_of_a_long_term() -> None:
    start, end = cover_moment(date(2026, 4, 1)), cover_moment(date(2029, 4, 1))
    term = Term(1, 1, 1, start, end, TermStatus.IN_FORCE)
    assert _policy_year(term, datetime(2026, 5, 1, tzinfo=JST)) == (start, cover_moment(date(2027, 4, 1)))
    assert _policy_year(term, datetime(2028, 6, 1, tzinfo=JST)) == (cover_moment(date(2028, 4, 1)), end)


async def test_long_term_contract_gets_fuel_again_next_policy_year(pool: asyncpg.Pool) -> None:
    q = dataclasses.replace(rakuten_quote(START, date(1980, 6, 1), GradeRecord(10, GradeMarker.NONE, 0)),
                            channel=Channel.INTERNET)
    cid = (await store_contract(pool, q, Channel.INTERNET, years=3))[0]
    await ask(pool, cid, K.FUEL)
    assert await refused(pool, cid, K.FUEL, incident="i2", now=datetime(2027, 3, 1, tzinfo=JST)) == \
        "ASSISTANCE_LIMIT_USED_UP"
    second_year = await ask(pool, cid, K.FUEL, incident="i3", now=datetime(2027, 5, 1, tzinfo=JST))
    assert second_year.free_litres == 10
