"""Contract use cases against real PostgreSQL: quote → issue → endorse → renew → cancel → reinstate,
rescission, interruption certificates; refusals change nothing; access; dry runs.

Each test registers its own parties and vehicles, so tests do not see each other's rows.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any, TypeVar

import asyncpg
import pytest

from domain.calendar import JST, YearMonth, cover_moment
from domain.grade import GradeMarker, GradeRecord
from domain.grade_continuity import InterruptionReason
from domain.jsoncodec import from_json, to_json
from domain.lifecycle import Role
from domain.products.model import UsePurpose
from domain.services.access import Actor
from domain.services.contracts.cases import (
    AddressChange,
    CancelRequest,
    CertificateRequest,
    ContractChange,
    CoverageChange,
    CoverageInput,
    DriverAction,
    DriverChange,
    DriverInput,
    EndorseChanges,
    EndorseRequest,
    GradeOrigin,
    IssueRequest,
    PreviousContract,
    QuoteRequest,
    RegisterParty,
    RegisterVehicle,
    ReinstateRequest,
    RenewRequest,
    RescindRequest,
    RescissionReason,
    cancel_contract,
    create_quote,
    endorse_contract,
    issue_contract,
    issue_interruption_certificate,
    register_party,
    register_vehicle,
    reinstate_contract,
    rescind_contract,
)
from domain.services.errors import Refused
from domain.services.renewals.renew import renew_contract
from domain.store.party_repo import PartyKind, create_agency
from domain.store.policy_repo import VersionConflict, grades, terms, version_as_of, versions
from domain.store.uow import UnitOfWork
from domain.vocab import (
    AccidentClass,
    AgeCondition,
    Channel,
    ContractStatus,
    LicenceColour,
    Relationship,
    UseType,
)

S = ContractStatus
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
START = date(2026, 4, 10)
STAFF = Actor("staff-1", Role.STAFF)
_RUN = secrets.token_hex(3)
_n = itertools.count(1)
TABLES = ("parties", "vehicles", "agencies", "contracts", "terms", "contract_versions", "version_drivers",
          "grade_records", "transactions", "events")

T = TypeVar("T")
UseCase = Callable[[UnitOfWork, Actor, Any, datetime], Awaitable[T]]


async def run(pool: asyncpg.Pool, fn: UseCase[T], actor: Actor, req: Any, now: datetime = NOW,
              *, dry_run: bool = False) -> T:
    async with UnitOfWork(pool, dry_run=dry_run) as uow:
        return await fn(uow, actor, req, now)


async def refused(pool: asyncpg.Pool, fn: UseCase[Any], actor: Actor, req: Any, now: datetime = NOW) -> str:
    """The refusal code, after checking the database is byte-for-byte unchanged."""
    before = await snapshot(pool)
    with pytest.raises((Refused, VersionConflict)) as info:
        await run(pool, fn, actor, req, now)
    assert await snapshot(pool) == before
    exc = info.value
    if isinstance(exc, Refused):
        return exc.errors[0].code
    assert isinstance(exc, VersionConflict)
    return exc.code


async def snapshot(pool: asyncpg.Pool) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    async with pool.acquire() as conn:
        for t in TABLES:
            out[t] = await conn.fetchval(f"SELECT md5(string_agg(t::text, '' ORDER BY t::text)) FROM {t} t")
    return out


@dataclass(frozen=True)
class Book:
    agency_id: int
    holder: int
    child: int  # cohabiting child, 20 on START
    friend: int  # 19, not family
    vehicle: int
    holder_actor: Actor
    agent: Actor


async def book(pool: asyncpg.Pool) -> Book:
    """A policyholder (born 1980, gold licence), two more drivers and a car, under a fresh agency."""
    async with UnitOfWork(pool) as uow:
        agency = await create_agency(uow, f"AG-{_RUN}-{next(_n)}", "テスト代理店", "Test agency")
    agent = Actor(f"agent-{agency.id}", Role.AGENT, agency_id=agency.id)
    holder = await run(pool, register_party, agent, RegisterParty(
        PartyKind.PERSON, "山田 太郎", "ヤマダ タロウ", "Taro Yamada", date(1980, 6, 1), "100-0001",
        "東京都千代田区千代田1-1", None, LicenceColour.GOLD, date(2000, 7, 1)))
    child = await run(pool, register_party, agent, RegisterParty(
        PartyKind.PERSON, "山田 一郎", birth_date=date(2005, 5, 1), licence_colour=LicenceColour.GREEN,
        licence_date=date(2024, 6, 1), account_party_id=holder.id))
    friend = await run(pool, register_party, agent, RegisterParty(
        PartyKind.PERSON, "佐藤 花子", birth_date=date(2006, 9, 1), licence_colour=LicenceColour.GREEN,
        licence_date=date(2025, 1, 10), account_party_id=holder.id))
    car = await run(pool, register_vehicle, agent, RegisterVehicle(
        # a plate per book: a number is on one live contract at a time (migration 0018)
        UseType.PRIVATE_STANDARD_PASSENGER, f"品川 300 あ {_RUN}-{next(_n)}", "ZRR80-0001", "DBA-ZRR80W",
        YearMonth(2019, 5), YearMonth(2019, 1), (("BI", 5), ("PD", 6), ("INJURY", 4), ("VEHICLE", 7)),
        owner_party_id=holder.id))
    return Book(agency.id, holder.id, child.id, friend.id, car.id,
                Actor(f"holder-{holder.id}", Role.POLICYHOLDER, party_id=holder.id), agent)


def quote_req(b: Book, **changes: Any) -> QuoteRequest:
    q = QuoteRequest(
        product_id="rakuten-drive-assist", start_date=START, policyholder_id=b.holder,
        named_insured_id=b.holder, vehicle_id=b.vehicle,
        coverages=(CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PIP"), CoverageInput("VEHICLE")),
        drivers=(DriverInput(b.holder, Relationship.SELF),), channel=Channel.AGENT,
        age_condition=AgeCondition.AGE_26, use_purpose=UsePurpose.DAILY_LEISURE, mileage_class=5,
    )
    return dataclasses.replace(q, **changes)


async def issued(pool: asyncpg.Pool, b: Book, **changes: Any) -> ContractChange:
    q = await run(pool, create_quote, b.agent, quote_req(b, **changes))
    return await run(pool, issue_contract, b.agent, IssueRequest(q.contract_id, q.lock_version))


# --- parties and vehicles -------------------------------------------------------------------------


async def test_register_party_and_vehicle_belong_to_the_account_and_agency(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT account_party_id, agency_id, licence_colour FROM parties WHERE id = $1", b.child)
        car = await conn.fetchrow("SELECT account_party_id, agency_id, first_registration FROM vehicles WHERE id = $1", b.vehicle)
    assert (row["account_party_id"], row["agency_id"], row["licence_colour"]) == (b.holder, b.agency_id, "GREEN")
    assert (car["account_party_id"], car["agency_id"], car["first_registration"]) == (b.holder, b.agency_id, date(2019, 5, 1))
    # a policyholder registers a driver into their own book, whatever account they name
    spouse = await run(pool, register_party, b.holder_actor, RegisterParty(
        PartyKind.PERSON, "山田 花子", birth_date=date(1982, 2, 2), licence_colour=LicenceColour.BLUE))
    assert (spouse.account_party_id, spouse.agency_id) == (b.holder, b.agency_id)


async def test_register_refusals(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    other = await book(pool)
    future = RegisterParty(PartyKind.PERSON, "未来 太郎", birth_date=date(2026, 5, 1))
    assert await refused(pool, register_party, b.agent, future) == "INVALID_BIRTH_DATE"
    young = RegisterParty(PartyKind.PERSON, "若葉 次郎", birth_date=date(2000, 1, 1),
                          licence_colour=LicenceColour.GREEN, licence_date=date(2015, 12, 31))
    assert await refused(pool, register_party, b.agent, young) == "INVALID_LICENCE_DATE"
    corp = RegisterParty(PartyKind.CORPORATION, "株式会社テスト", birth_date=date(2000, 1, 1))
    assert await refused(pool, register_party, b.agent, corp) == "INVALID_BIRTH_DATE"
    # another book's account: the same answer as a missing party
    into_other = RegisterParty(PartyKind.PERSON, "他人", birth_date=date(1990, 1, 1), account_party_id=other.holder)
    assert await refused(pool, register_party, b.holder_actor, into_other) == "PARTY_NOT_FOUND"
    assert await refused(pool, register_party, b.agent, into_other) == "PARTY_NOT_FOUND"
    car = RegisterVehicle(UseType.PRIVATE_KEI_PASSENGER, first_registration=YearMonth(2026, 5))
    assert await refused(pool, register_vehicle, b.agent, car) == "FIRST_REGISTRATION_IN_FUTURE"
    kei = RegisterVehicle(UseType.PRIVATE_KEI_PASSENGER, rating_classes=(("BI", 9),))
    assert await refused(pool, register_vehicle, b.agent, kei) == "RATING_CLASS_OUT_OF_RANGE"
    stranger_car = RegisterVehicle(UseType.PRIVATE_KEI_PASSENGER, owner_party_id=other.holder)
    assert await refused(pool, register_vehicle, b.agent, stranger_car) == "PARTY_NOT_FOUND"


# --- quote and issue ------------------------------------------------------------------------------


async def test_quote_stores_contract_version_grade_transaction_event(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    q = await run(pool, create_quote, b.agent, quote_req(b))
    assert q.policy_number.startswith("AP-RK-")
    assert q.statuses == (S.QUOTED,) and q.transaction_kind == "QUOTE" and q.premium_delta_yen == 0
    assert q.grade == GradeRecord(6, GradeMarker.S, 0)  # new contract 6(S) (002b L4405)
    assert q.effective_at == cover_moment(START) == datetime(2026, 4, 10, 16, 0, tzinfo=JST)  # 002b L5239
    async with pool.acquire() as conn:
        (term,) = await terms(conn, q.contract_id)
        (v,) = await versions(conn, q.contract_id)
        (g,) = await grades(conn, q.contract_id)
        kinds = await conn.fetch("SELECT kind FROM events WHERE contract_id = $1 ORDER BY seq", q.contract_id)
        tx = await conn.fetchrow("SELECT kind, actor_subject, actor_role FROM transactions WHERE id = $1", q.transaction_id)
    assert (term.status.value, term.starts_at, term.ends_at) == ("QUOTED", cover_moment(START), cover_moment(date(2027, 4, 10)))
    assert v.data.premium_yen == q.premium_after_yen > 0 and v.transaction_id == q.transaction_id
    assert v.data.rating_input["grade"] == {"grade": 6, "marker": "S", "period": 0}
    assert v.data.drivers[0].licence_colour is LicenceColour.GOLD  # taken from the party
    assert (g.grade.label, g.source) == ("6(S)", "NEW")
    assert [r["kind"] for r in kinds] == ["QUOTE_CREATED"]
    assert dict(tx) == {"kind": "QUOTE", "actor_subject": b.agent.subject, "actor_role": "agent"}


async def test_issue_binds_the_quote(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    q = await run(pool, create_quote, b.agent, quote_req(b))
    i = await run(pool, issue_contract, b.agent, IssueRequest(q.contract_id, q.lock_version))
    assert i.statuses == (S.IN_FORCE,) and i.premium_delta_yen == q.premium_after_yen
    assert i.lock_version == q.lock_version + 1
    async with pool.acquire() as conn:
        (term,) = await terms(conn, q.contract_id)
    assert term.status.value == "SCHEDULED"  # starts 2026-04-10 16:00, after NOW
    assert await refused(pool, issue_contract, b.agent, IssueRequest(q.contract_id, i.lock_version)) == "NOT_ALLOWED_IN_STATE"


async def test_other_insurer_grade_carries_within_seven_days(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    prev = PreviousContract(grade=11, period=0, end_date=date(2026, 4, 3))  # START is day 7 (004 L1264)
    q = await run(pool, create_quote, b.agent, quote_req(b, grade_origin=GradeOrigin.OTHER_INSURER, previous_contract=prev))
    assert q.grade == GradeRecord(12, GradeMarker.NONE, 0)  # 11 renewed without accident → 12
    late = PreviousContract(grade=11, period=0, end_date=date(2026, 4, 2))  # START is day 8
    q2 = await run(pool, create_quote, b.agent, quote_req(b, grade_origin=GradeOrigin.OTHER_INSURER, previous_contract=late))
    assert q2.grade == GradeRecord(6, GradeMarker.S, 0)


async def test_quote_refusals_change_nothing(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    too_young = quote_req(b, drivers=(DriverInput(b.holder, Relationship.SELF),
                                      DriverInput(b.child, Relationship.COHABITING_RELATIVE)))
    assert await refused(pool, create_quote, b.agent, too_young) == "DRIVER_TOO_YOUNG"
    # the age condition does not bind a friend: 19 and covered under 26+ (001 L617-622)
    friend = quote_req(b, drivers=(DriverInput(b.holder, Relationship.SELF), DriverInput(b.friend, Relationship.OTHER)))
    assert (await run(pool, create_quote, b.agent, friend)).premium_after_yen > 0
    past = quote_req(b, start_date=date(2026, 3, 31))
    assert await refused(pool, create_quote, b.agent, past) == "START_DATE_IN_PAST"
    bike = await run(pool, register_vehicle, b.agent, RegisterVehicle(UseType.MOTORCYCLE, owner_party_id=b.holder))
    assert await refused(pool, create_quote, b.agent, quote_req(b, vehicle_id=bike.id)) == "USE_TYPE_NOT_INSURED"
    assert await refused(pool, create_quote, b.agent, quote_req(b, vehicle_id=10**12)) == "VEHICLE_NOT_FOUND"
    other = await book(pool)
    assert await refused(pool, create_quote, b.agent, quote_req(b, vehicle_id=other.vehicle)) == "VEHICLE_NOT_FOUND"
    assert await refused(pool, create_quote, b.holder_actor, quote_req(b)) == "CHANNEL_NOT_ALLOWED"
    theirs = quote_req(b, channel=Channel.INTERNET, policyholder_id=other.holder)
    assert await refused(pool, create_quote, b.holder_actor, theirs) == "PARTY_NOT_FOUND"
    no_cover = quote_req(b, coverages=(CoverageInput("BI"), CoverageInput("NOPE")))
    assert await refused(pool, create_quote, b.agent, no_cover) == "UNKNOWN_COVERAGE"


async def test_policyholder_quotes_and_issues_online(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    q = await run(pool, create_quote, b.holder_actor, quote_req(b, channel=Channel.INTERNET))
    i = await run(pool, issue_contract, b.holder_actor, IssueRequest(q.contract_id, q.lock_version))
    assert i.statuses == (S.IN_FORCE,)


# --- endorse --------------------------------------------------------------------------------------


async def test_endorse_pro_rata_by_day(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    req = EndorseRequest(i.contract_id, i.lock_version, date(2026, 10, 10),
                         EndorseChanges(age_condition=AgeCondition.AGE_21), reason="son drives")
    e = await run(pool, endorse_contract, b.agent, req)
    old, new = e.premium_before_yen, e.premium_after_yen
    assert old == i.premium_after_yen and new > old  # 21+ costs more than 26+
    # SPEC §4.3: by day from the effective date to the term end (no pamphlet method: notes/001.md L1061);
    # 2026-10-10 → 2027-04-10 is 182 of 365 days, truncated toward zero.
    assert e.premium_delta_yen == int(Decimal(new - old) * 182 / 365)
    assert [(c.field, c.before, c.after) for c in e.changes] == [("ageCondition", "AGE_26", "AGE_21")]
    assert e.effective_at == datetime(2026, 10, 10, 16, 0, tzinfo=JST)
    async with pool.acquire() as conn:
        before = await version_as_of(conn, i.contract_id, datetime(2026, 10, 10, 15, 59, tzinfo=JST))
        after = await version_as_of(conn, i.contract_id, e.effective_at)
        tx = await conn.fetchrow("SELECT premium_delta_yen, explanation FROM transactions WHERE id = $1", e.transaction_id)
    assert before is not None and after is not None
    assert (before.data.age_condition, after.data.age_condition) == (AgeCondition.AGE_26, AgeCondition.AGE_21)
    assert tx["premium_delta_yen"] == e.premium_delta_yen
    assert [s["value"] for s in tx["explanation"]["steps"]][:4] == [str(old), str(new), "182", "365"]


async def test_endorse_drivers_coverages_and_address(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    changes = EndorseChanges(
        drivers=(DriverChange(DriverAction.ADD, b.friend, Relationship.OTHER),),
        coverages=(CoverageChange("VEHICLE", remove=True),),
        address=AddressChange("530-0001", "大阪府大阪市北区梅田1-1"),
    )
    e = await run(pool, endorse_contract, b.agent, EndorseRequest(i.contract_id, i.lock_version, date(2026, 4, 10), changes))
    assert {c.field for c in e.changes} == {f"drivers.{b.friend}", "coverages.VEHICLE", "policyholder.address"}
    assert e.premium_after_yen < e.premium_before_yen and e.premium_delta_yen < 0
    # effective on the start date: the whole term's difference (365/365)
    assert e.premium_delta_yen == e.premium_after_yen - e.premium_before_yen
    async with pool.acquire() as conn:
        addr = await conn.fetchval("SELECT address_ja FROM parties WHERE id = $1", b.holder)
        current = await versions(conn, i.contract_id)
    assert addr == "大阪府大阪市北区梅田1-1"
    assert len(current) == 1 and {d.party_id for d in current[0].data.drivers} == {b.holder, b.friend}


async def test_endorse_refusals_change_nothing(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    ch = EndorseChanges(age_condition=AgeCondition.AGE_21)
    outside = EndorseRequest(i.contract_id, i.lock_version, date(2027, 4, 10), ch)
    assert await refused(pool, endorse_contract, b.agent, outside) == "EFFECTIVE_DATE_OUTSIDE_TERM"
    before_start = EndorseRequest(i.contract_id, i.lock_version, date(2026, 4, 9), ch)
    assert await refused(pool, endorse_contract, b.agent, before_start) == "EFFECTIVE_DATE_OUTSIDE_TERM"
    same = EndorseRequest(i.contract_id, i.lock_version, date(2026, 5, 1), EndorseChanges(age_condition=AgeCondition.AGE_26))
    assert await refused(pool, endorse_contract, b.agent, same) == "NO_CHANGE"
    stale = EndorseRequest(i.contract_id, i.lock_version - 1, date(2026, 5, 1), ch)
    assert await refused(pool, endorse_contract, b.agent, stale) == "VERSION_CONFLICT"
    young = EndorseRequest(i.contract_id, i.lock_version, date(2026, 5, 1), EndorseChanges(
        drivers=(DriverChange(DriverAction.ADD, b.child, Relationship.COHABITING_RELATIVE),)))
    assert await refused(pool, endorse_contract, b.agent, young) == "DRIVER_TOO_YOUNG"
    c = await run(pool, cancel_contract, b.agent, CancelRequest(i.contract_id, i.lock_version, date(2026, 6, 1), "sold"))
    cancelled = EndorseRequest(i.contract_id, c.lock_version, date(2026, 7, 1), ch)
    assert await refused(pool, endorse_contract, b.agent, cancelled) == "NOT_ALLOWED_IN_STATE"


# --- renew ----------------------------------------------------------------------------------------


async def test_renew_next_term_grade_up_and_once_only(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    later = datetime(2027, 3, 1, 10, 0, tzinfo=JST)
    early = RenewRequest(i.contract_id, i.lock_version)
    assert await refused(pool, renew_contract, b.agent, early, NOW) == "RENEWAL_TOO_EARLY"
    r = await run(pool, renew_contract, b.agent, early, later)
    assert r.term_no == 2 and r.effective_at == cover_moment(date(2027, 4, 10))
    assert r.grade == GradeRecord(7, GradeMarker.F, 0)  # 6(S) + 1, no accident (SPEC §4.2)
    assert r.premium_delta_yen == r.premium_after_yen
    async with pool.acquire() as conn:
        ts = await terms(conn, i.contract_id)
        v2 = await version_as_of(conn, i.contract_id, r.effective_at)
        v1 = await version_as_of(conn, i.contract_id, r.effective_at - timedelta(seconds=1))
    assert [(t.term_no, t.status.value) for t in ts] == [(1, "SCHEDULED"), (2, "SCHEDULED")]
    assert ts[1].ends_at == cover_moment(date(2028, 4, 10))
    assert v1 is not None and v2 is not None and v2.data.grade.label == "7(F)" and v1.data.grade.label == "6(S)"
    assert v2.data.rating_input["discounts"]["renewal"] is True
    again = RenewRequest(i.contract_id, r.lock_version)
    assert await refused(pool, renew_contract, b.agent, again, later) == "ALREADY_RENEWED"


async def test_renew_after_a_three_down_accident(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    prev = PreviousContract(grade=15, period=0, end_date=date(2026, 4, 10))
    i = await issued(pool, b, grade_origin=GradeOrigin.OTHER_INSURER, previous_contract=prev)
    assert i.grade == GradeRecord(16, GradeMarker.NONE, 0)
    r = await run(pool, renew_contract, b.agent, RenewRequest(i.contract_id, i.lock_version, (AccidentClass.THREE_DOWN,)),
                  datetime(2027, 3, 1, tzinfo=JST))
    assert r.grade == GradeRecord(13, GradeMarker.NONE, 3)  # 16 → 13, period 0 → 3 (SPEC §4.2 worked example)



async def test_a_three_year_aioi_contract_keeps_its_grade_and_renews_by_the_long_term_formula(pool: asyncpg.Pool) -> None:
    """002a L2216-2262: one term of 3 years at one grade; the renewal takes rule 14 (002a L2317-2330):
    13(0y) with a 3-down accident in the term → 12 (2y) for the next 3-year term."""
    b = await book(pool)
    prev = PreviousContract(grade=12, period=0, end_date=START)
    aioi = {"product_id": "aioi-tough-biz", "term_months": 36, "use_purpose": None, "mileage_class": None,
            "coverages": (CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PI"), CoverageInput("VEHICLE")),
            "grade_origin": GradeOrigin.OTHER_INSURER, "previous_contract": prev}
    i = await issued(pool, b, **aioi)
    assert i.grade == GradeRecord(13, GradeMarker.NONE, 0)
    async with pool.acquire() as conn:
        ts = await terms(conn, i.contract_id)
    assert [(t.starts_at, t.ends_at) for t in ts] == [(cover_moment(START), cover_moment(date(2029, 4, 10)))]
    r = await run(pool, renew_contract, b.agent, RenewRequest(i.contract_id, i.lock_version, (AccidentClass.THREE_DOWN,)),
                  datetime(2029, 3, 1, tzinfo=JST))
    assert r.grade == GradeRecord(12, GradeMarker.NONE, 2)
    async with pool.acquire() as conn:
        ts = await terms(conn, i.contract_id)
    assert ts[-1].ends_at == cover_moment(date(2032, 4, 10))

# --- cancel, reinstate, rescind, certificate ------------------------------------------------------


async def test_cancel_refund_monthly_unexpired_and_cover_ends(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    now = datetime(2026, 10, 15, 9, 0, tzinfo=JST)
    c = await run(pool, cancel_contract, b.agent, CancelRequest(i.contract_id, i.lock_version, date(2026, 10, 15), "car sold"), now)
    paid = i.premium_after_yen
    # 004 L1421-1425 / 002b L5218-5224: earned = started months from the start date to the cancel
    # date inclusive (2026-04-10..2026-10-15 → 7 of 12), rounded up; refund = paid − earned.
    earned = int((Decimal(paid) * 7 / 12).to_integral_value(rounding=ROUND_CEILING))
    assert c.premium_delta_yen == -(paid - earned)
    assert c.statuses == (S.CANCELLED,)
    async with pool.acquire() as conn:
        gone = await version_as_of(conn, i.contract_id, datetime(2026, 10, 15, 16, 0, tzinfo=JST))
        kept = await version_as_of(conn, i.contract_id, datetime(2026, 10, 15, 15, 59, tzinfo=JST))
        (term,) = await terms(conn, i.contract_id)
    assert gone is None and kept is not None and term.status.value == "CANCELLED"


async def test_cancel_before_start_and_quote_withdrawal(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    c = await run(pool, cancel_contract, b.agent, CancelRequest(i.contract_id, i.lock_version, date(2026, 4, 5), "changed mind"))
    assert c.premium_delta_yen == -i.premium_after_yen  # nothing was covered: all back
    q = await run(pool, create_quote, b.agent, quote_req(b))
    w = await run(pool, cancel_contract, b.agent, CancelRequest(q.contract_id, q.lock_version, date(2026, 4, 5), "not needed"))
    assert (w.statuses, w.premium_delta_yen) == ((S.CANCELLED,), 0)
    assert await refused(pool, reinstate_contract, STAFF, ReinstateRequest(q.contract_id, w.lock_version, "x")) == "NOT_REINSTATABLE"


async def test_reinstate_restores_cover_and_charges_back(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    now = datetime(2026, 6, 1, 9, 0, tzinfo=JST)
    c = await run(pool, cancel_contract, b.agent, CancelRequest(i.contract_id, i.lock_version, date(2026, 6, 1), "x"), now)
    req = ReinstateRequest(i.contract_id, c.lock_version, "customer changed their mind")
    assert await refused(pool, reinstate_contract, b.agent, req, now) == "FORBIDDEN"
    assert await refused(pool, reinstate_contract, STAFF, req, now + timedelta(days=31)) == "REINSTATEMENT_PERIOD_OVER"
    r = await run(pool, reinstate_contract, STAFF, req, now + timedelta(days=30))
    assert r.statuses == (S.IN_FORCE,) and r.premium_delta_yen == -c.premium_delta_yen > 0
    async with pool.acquire() as conn:
        v = await version_as_of(conn, i.contract_id, datetime(2026, 12, 1, tzinfo=JST))
        (term,) = await terms(conn, i.contract_id)
    assert v is not None and term.status.value == "IN_FORCE"
    # and it can be endorsed again
    e = await run(pool, endorse_contract, b.agent, EndorseRequest(
        i.contract_id, r.lock_version, date(2026, 8, 1), EndorseChanges(age_condition=AgeCondition.AGE_35)),
        now + timedelta(days=30))
    assert e.premium_delta_yen < 0


async def test_rescind_loses_the_grade(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    i = await issued(pool, b)
    now = datetime(2026, 7, 1, 9, 0, tzinfo=JST)
    req = RescindRequest(i.contract_id, i.lock_version, RescissionReason.NON_PAYMENT, date(2026, 7, 1))
    assert await refused(pool, rescind_contract, b.agent, req, now) == "FORBIDDEN"
    r = await run(pool, rescind_contract, STAFF, req, now)
    assert r.statuses == (S.RESCINDED,) and r.premium_delta_yen == 0
    async with pool.acquire() as conn:
        history = await grades(conn, i.contract_id)
    assert [g.source for g in history] == ["NEW", "RESCINDED"]
    after = EndorseRequest(i.contract_id, r.lock_version, date(2026, 8, 1), EndorseChanges(age_condition=AgeCondition.AGE_21))
    assert await refused(pool, endorse_contract, b.agent, after, now) == "NOT_ALLOWED_IN_STATE"


async def test_interruption_certificate(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    prev = PreviousContract(grade=11, period=0, end_date=date(2026, 4, 10))
    i = await issued(pool, b, grade_origin=GradeOrigin.OTHER_INSURER, previous_contract=prev)
    now = datetime(2026, 9, 1, 9, 0, tzinfo=JST)
    c = await run(pool, cancel_contract, b.agent, CancelRequest(i.contract_id, i.lock_version, date(2026, 9, 1), "scrapped"), now)
    wrong = CertificateRequest(i.contract_id, c.lock_version, InterruptionReason.SCRAPPED, date(2026, 9, 2))
    assert await refused(pool, issue_interruption_certificate, b.agent, wrong, now) == "INTERRUPTION_DATE_MISMATCH"
    req = CertificateRequest(i.contract_id, c.lock_version, InterruptionReason.SCRAPPED, date(2026, 9, 1))
    cert = await run(pool, issue_interruption_certificate, b.agent, req, now)
    assert cert.certificate is not None
    assert cert.certificate.grade == GradeRecord(12, GradeMarker.NONE, 0)  # mid-term: no progression
    assert cert.certificate.request_deadline == date(2031, 9, 1)  # 5 years (004 L1431)
    again = CertificateRequest(i.contract_id, cert.lock_version, InterruptionReason.SCRAPPED, date(2026, 9, 1))
    assert await refused(pool, issue_interruption_certificate, b.agent, again, now) == "CERTIFICATE_ALREADY_ISSUED"
    # a 6(S) contract carries without a certificate (grade below 7, 004 L1264)
    j = await issued(pool, b)
    cj = await run(pool, cancel_contract, b.agent, CancelRequest(j.contract_id, j.lock_version, date(2026, 9, 1), "x"), now)
    low = CertificateRequest(j.contract_id, cj.lock_version, InterruptionReason.SCRAPPED, date(2026, 9, 1))
    assert await refused(pool, issue_interruption_certificate, b.agent, low, now) == "CERTIFICATE_NOT_ELIGIBLE"



async def test_a_new_contract_starts_from_an_interruption_certificate(pool: asyncpg.Pool) -> None:
    """004 L1427-1437: the new contract takes the frozen grade and period; rakuten's no-accident 5%
    is lost when a certificate is used (001 L722); once, for the same named insured, within its
    validity; refused before anything is stored."""
    b = await book(pool)
    prev = PreviousContract(grade=11, period=2, end_date=date(2026, 4, 10), accidents=(AccidentClass.ONE_DOWN,))
    i = await issued(pool, b, grade_origin=GradeOrigin.OTHER_INSURER, previous_contract=prev)
    ended = datetime(2026, 9, 1, 9, 0, tzinfo=JST)
    c = await run(pool, cancel_contract, b.agent, CancelRequest(i.contract_id, i.lock_version, date(2026, 9, 1), "scrapped"), ended)
    cert = await run(pool, issue_interruption_certificate, b.agent, CertificateRequest(
        i.contract_id, c.lock_version, InterruptionReason.SCRAPPED, date(2026, 9, 1)), ended)
    assert cert.certificate is not None
    frozen = cert.certificate.grade
    assert frozen.period > 0  # an accident-coefficient period is carried too

    later = datetime(2027, 3, 1, 9, 0, tzinfo=JST)  # back from abroad, a new car
    new_car = await run(pool, register_vehicle, b.agent, RegisterVehicle(
        UseType.PRIVATE_STANDARD_PASSENGER, f"品川 300 あ {_RUN}-{next(_n)}", "ZRR80-0002", "DBA-ZRR80W",
        YearMonth(2019, 5), YearMonth(2019, 1), (("BI", 5), ("PD", 6), ("INJURY", 4), ("VEHICLE", 7)),
        owner_party_id=b.holder), later)
    use = {"grade_origin": GradeOrigin.INTERRUPTION_CERTIFICATE, "certificate_contract_id": i.contract_id,
           "start_date": date(2027, 3, 10), "vehicle_id": new_car.id}
    other = await issued(pool, b)  # a contract without a certificate
    before = await snapshot(pool)
    friend_ni = quote_req(b, named_insured_id=b.friend, drivers=(DriverInput(b.friend, Relationship.SELF),),
                          age_condition=AgeCondition.ANY, **use)
    assert await refused(pool, create_quote, b.agent, friend_ni, later) == "CERTIFICATE_OTHER_NAMED_INSURED"
    no_cert = quote_req(b, grade_origin=GradeOrigin.INTERRUPTION_CERTIFICATE, certificate_contract_id=None,
                        start_date=date(2027, 3, 10), vehicle_id=new_car.id)
    assert await refused(pool, create_quote, b.agent, no_cert, later) == "CERTIFICATE_REQUIRED"
    none = quote_req(b, **{**use, "certificate_contract_id": other.contract_id})
    assert await refused(pool, create_quote, b.agent, none, later) == "CERTIFICATE_NOT_FOUND"
    expired = quote_req(b, **{**use, "start_date": date(2036, 9, 2)})  # valid for a start by 2036-09-01
    assert await refused(pool, create_quote, b.agent, expired, datetime(2036, 8, 1, 9, 0, tzinfo=JST)) == "CERTIFICATE_EXPIRED"
    assert await snapshot(pool) == before

    q1 = await run(pool, create_quote, b.agent, quote_req(b, **use), later)
    q2 = await run(pool, create_quote, b.agent, quote_req(b, **use), later)  # quoting twice to compare is fine
    assert q1.grade == frozen and q2.grade == frozen
    async with pool.acquire() as conn:
        history = await grades(conn, q1.contract_id)
    assert [g.source for g in history] == ["INTERRUPTION_CERTIFICATE"]
    assert q1.premium is not None
    assert "NO_ACCIDENT" not in q1.premium.discounts
    await run(pool, issue_contract, b.agent, IssueRequest(q1.contract_id, q1.lock_version), later)
    assert await refused(pool, issue_contract, b.agent, IssueRequest(q2.contract_id, q2.lock_version), later) \
        == "CERTIFICATE_ALREADY_USED"
    assert await refused(pool, create_quote, b.agent, quote_req(b, **use), later) == "CERTIFICATE_ALREADY_USED"

# --- access and dry runs --------------------------------------------------------------------------


async def test_a_policyholder_cannot_touch_anothers_contract(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    other = await book(pool)
    i = await issued(pool, other)
    ch = EndorseChanges(age_condition=AgeCondition.AGE_21)
    for actor in (b.holder_actor, b.agent):
        theirs = EndorseRequest(i.contract_id, i.lock_version, date(2026, 5, 1), ch)
        missing = EndorseRequest(10**12, 1, date(2026, 5, 1), ch)
        assert await refused(pool, endorse_contract, actor, theirs) == "CONTRACT_NOT_FOUND"
        assert await refused(pool, endorse_contract, actor, missing) == "CONTRACT_NOT_FOUND"
        cancel = CancelRequest(i.contract_id, i.lock_version, date(2026, 5, 1), "x")
        assert await refused(pool, cancel_contract, actor, cancel) == "CONTRACT_NOT_FOUND"
    mine = await run(pool, endorse_contract, other.holder_actor, EndorseRequest(i.contract_id, i.lock_version, date(2026, 5, 1), ch))
    assert mine.premium_delta_yen > 0


def _comparable(c: ContractChange) -> dict[str, Any]:
    out = to_json(c)
    for k in ("contract_id", "policy_number", "transaction_id", "version_id"):
        out.pop(k)
    return out


async def test_dry_run_answers_the_same_and_stores_nothing(pool: asyncpg.Pool) -> None:
    b = await book(pool)
    before = await snapshot(pool)
    dry = await run(pool, create_quote, b.agent, quote_req(b), dry_run=True)
    assert await snapshot(pool) == before
    real = await run(pool, create_quote, b.agent, quote_req(b))
    assert _comparable(dry) == _comparable(real)
    i = await run(pool, issue_contract, b.agent, IssueRequest(real.contract_id, real.lock_version))
    req = EndorseRequest(i.contract_id, i.lock_version, date(2026, 9, 1), EndorseChanges(age_condition=AgeCondition.AGE_35))
    before = await snapshot(pool)
    dry_e = await run(pool, endorse_contract, b.agent, req, dry_run=True)
    assert await snapshot(pool) == before
    real_e = await run(pool, endorse_contract, b.agent, req)
    assert _comparable(dry_e) == _comparable(real_e)
    # results round-trip through JSON for idempotent replay
    assert from_json(ContractChange, to_json(real_e)) == real_e


# --- eligibility on every path (issue 13, h-newcar) ----------------------------------------------


async def test_an_aioi_company_must_set_a_pd_deductible_on_quote_and_endorsement(pool: asyncpg.Pool) -> None:
    """002a L2813-2814: refused by rating, so the quote and the endorsement store nothing."""
    b = await book(pool)
    corp = await run(pool, register_party, b.agent, RegisterParty(PartyKind.CORPORATION, "株式会社テスト運輸"))
    staff = await run(pool, register_party, b.agent, RegisterParty(
        PartyKind.PERSON, "鈴木 次郎", birth_date=date(1975, 4, 1), licence_colour=LicenceColour.BLUE,
        licence_date=date(1995, 5, 1), account_party_id=corp.id))
    car = await run(pool, register_vehicle, b.agent, RegisterVehicle(
        UseType.PRIVATE_SMALL_TRUCK, "品川 400 あ 56-78", "TRK-0001", None,
        YearMonth(2018, 5), YearMonth(2018, 1), (), owner_party_id=corp.id))
    req = QuoteRequest(
        product_id="aioi-tough-biz", start_date=START, policyholder_id=corp.id, named_insured_id=corp.id,
        vehicle_id=car.id, coverages=(CoverageInput("BI"), CoverageInput("PD")),
        drivers=(DriverInput(staff.id, Relationship.EMPLOYEE),), channel=Channel.AGENT,
    )
    assert await refused(pool, create_quote, b.agent, req) == "NOT_ELIGIBLE_DEDUCTIBLE_REQUIRED"
    ok = dataclasses.replace(req, coverages=(CoverageInput("BI"), CoverageInput("PD", "UNLIMITED_DED_50000")))
    q = await run(pool, create_quote, b.agent, ok)
    i = await run(pool, issue_contract, b.agent, IssueRequest(q.contract_id, q.lock_version))
    drop = EndorseRequest(i.contract_id, i.lock_version, date(2026, 5, 1),
                          EndorseChanges(coverages=(CoverageChange("PD", "UNLIMITED"),)))
    assert await refused(pool, endorse_contract, b.agent, drop) == "NOT_ELIGIBLE_DEDUCTIBLE_REQUIRED"


async def test_tokio_cooling_off_on_a_three_year_contract(pool: asyncpg.Pool) -> None:
    """004 L1374-1390: cooling-off for terms over one year, within 8 days of the application. Before the
    start all that was paid comes back (L1376); after it, the days from the start date to the
    cancellation date are charged by day (L1379); an accident already reported voids it (L1378);
    a one-year term has no cooling-off."""
    from domain.services.claims.handling import report_accident
    from domain.services.claims.types import ReportAccident

    tokio = {"product_id": "tokio-total-assist-group", "term_months": 36, "channel": Channel.GROUP, "mileage_class": None,
             "coverages": (CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PI"), CoverageInput("VEHICLE"))}
    # applied 2026-04-01 (NOW), cover from 2026-04-03; notice on 2026-04-06, day 6 of 8
    b = await book(pool)
    i = await issued(pool, b, start_date=date(2026, 4, 3), **tokio)
    notice = datetime(2026, 4, 6, 9, 0, tzinfo=JST)
    c = await run(pool, cancel_contract, b.holder_actor,
                  CancelRequest(i.contract_id, i.lock_version, date(2026, 4, 6), "cooling-off", cooling_off=True), notice)
    paid = i.premium_after_yen
    days = (date(2029, 4, 3) - date(2026, 4, 3)).days                       # 1096: the whole 3-year term
    earned = int((Decimal(paid) * 4 / days).to_integral_value(rounding=ROUND_CEILING))   # 04-03..04-06 inclusive
    assert c.premium_delta_yen == -(paid - earned)
    assert any("004 L1376, L1379" in s.rule for s in c.delta_steps)

    # withdrawn before cover starts: everything back (L1376)
    b2 = await book(pool)
    j = await issued(pool, b2, **tokio)                                    # starts 2026-04-10
    w = await run(pool, cancel_contract, b2.holder_actor,
                  CancelRequest(j.contract_id, j.lock_version, date(2026, 4, 5), "cooling-off", cooling_off=True),
                  datetime(2026, 4, 5, 9, 0, tzinfo=JST))
    assert w.premium_delta_yen == -j.premium_after_yen

    # an accident already reported: the notice has no effect (L1378), nothing changes
    b3 = await book(pool)
    k = await issued(pool, b3, start_date=date(2026, 4, 3), **tokio)
    await run(pool, report_accident, b3.agent, ReportAccident(
        k.contract_id, datetime(2026, 4, 4, 10, 0, tzinfo=JST), "東京都港区", b3.vehicle, "追突",
        driver_party_id=b3.holder), notice)
    lock = await pool.fetchval("SELECT lock_version FROM contracts WHERE id = $1", k.contract_id)
    assert await refused(pool, cancel_contract, b3.holder_actor,
                         CancelRequest(k.contract_id, lock, date(2026, 4, 6), "cooling-off", cooling_off=True),
                         notice) == "COOLING_OFF_INSURED_EVENT"

    # a one-year term has no cooling-off (L1385-1386)
    b4 = await book(pool)
    one = await issued(pool, b4, **{**tokio, "term_months": 12})
    assert await refused(pool, cancel_contract, b4.holder_actor,
                         CancelRequest(one.contract_id, one.lock_version, date(2026, 4, 5), "cooling-off",
                                       cooling_off=True), datetime(2026, 4, 5, 9, 0, tzinfo=JST)) == \
        "COOLING_OFF_NOT_AVAILABLE"


async def test_an_accident_free_long_term_instalment_contract_gets_its_no_claims_refund(pool: asyncpg.Pool) -> None:
    """無事故祝金 (002a L2264-2277): the timer stored at binding decides at expiry; paid in full and
    no accident → 10% of the first policy year's annual premium; an accident → nothing."""
    import workers.kinds  # noqa: F401
    from domain.products import default_catalog
    from domain.rating import rate
    from domain.rating_codec import quote_from_json
    from domain.services.claims.handling import report_accident
    from domain.services.claims.types import ReportAccident
    from domain.services.payments.no_claims import decide_refund, refunds_of
    from domain.vocab import PaymentMethod
    from tests.factories import pay_all_instalments

    aioi = {"product_id": "aioi-tough-biz", "term_months": 36, "use_purpose": None, "mileage_class": None,
            "payment_method": PaymentMethod.MONTHLY, "riders": ("NO_CLAIMS_REFUND_LONG",),
            "coverages": (CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PI"), CoverageInput("VEHICLE"))}
    expiry = datetime(2029, 4, 10, 16, 0, tzinfo=JST)
    results = []
    for with_claim in (False, True):
        b = await book(pool)
        i = await issued(pool, b, **aioi)
        async with pool.acquire() as conn:
            (term,) = await terms(conn, i.contract_id)
            due = await conn.fetchval("SELECT due_at FROM timers WHERE kind = 'payments.no_claims_refund' "
                                      "AND subject = $1", f"contract:{i.contract_id}")
        assert due == term.ends_at == expiry
        assert await pay_all_instalments(pool, i.contract_id, datetime(2026, 4, 10, 9, 0, tzinfo=JST)) == 36
        if with_claim:
            await run(pool, report_accident, b.agent, ReportAccident(
                i.contract_id, datetime(2027, 6, 1, 10, 0, tzinfo=JST), "東京都港区", b.vehicle, "追突",
                driver_party_id=b.holder), datetime(2027, 6, 2, 9, 0, tzinfo=JST))
        async with UnitOfWork(pool) as uow:
            d = await decide_refund(uow, i.contract_id, term.id, expiry)
        async with UnitOfWork(pool) as uow:
            assert await decide_refund(uow, i.contract_id, term.id, expiry) is None     # decided once
        async with pool.acquire() as conn:
            stored = await refunds_of(conn, STAFF, i.contract_id)
            v = await version_as_of(conn, i.contract_id, term.starts_at)
        assert d is not None and [s.refund for s in stored] == [d]
        results.append((d, v))
    (free, v), (claimed, _) = results
    q = quote_from_json(v.data.rating_input)   # type: ignore[union-attr]
    product = default_catalog().get("aioi-tough-biz")
    first_year = rate(product, dataclasses.replace(q, term_months=12, riders=()), on=q.start_date).total  # type: ignore[arg-type]
    assert free.payable and free.amount_yen == first_year // 10 and free.pay_on == date(2029, 5, 27)
    assert not claimed.payable and claimed.amount_yen == 0
