"""Vehicle-swap and driver-change windows as use cases against real PostgreSQL (SPEC §4.6.2-3).

The day counts are the pamphlet's: "within 30 days counting from the day after" the acquisition or
event — day 30 is in time, day 31 late (liability set only), after expiry + 30 nothing
(002b L4141-4152 for the swap, L4110-4123 for driver / age changes).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

import asyncpg
import pytest

from domain.calendar import JST, cover_moment
from domain.lifecycle import Role
from domain.refunds import pro_rata_delta
from domain.services.access import Actor
from domain.services.contracts.cases import (
    CoverageInput,
    DriverAction,
    DriverChange,
    DriverInput,
    EndorseChanges,
    EndorseRequest,
    IssueRequest,
    QuoteRequest,
    create_quote,
    endorse_contract,
    issue_contract,
)
from domain.services.errors import Refused
from domain.services.payments.premiums import instalments_of
from domain.services.windows.filings import (
    approve_vehicle_swap,
    file_vehicle_swap,
    report_household_event,
    report_vehicle_acquisition,
)
from domain.services.windows.types import (
    HouseholdEventReport,
    InspectionCertificate,
    VehicleAcquisitionReport,
    VehicleSwapApproval,
    VehicleSwapFiling,
    WindowChange,
)
from domain.store import timers, window_repo
from domain.store.outbox import events
from domain.store.party_repo import (
    NewParty,
    NewVehicle,
    PartyKind,
    create_agency,
    create_party,
    create_vehicle,
)
from domain.store.policy_repo import get_contract, version_as_of
from domain.store.uow import UnitOfWork
from domain.vocab import AgeCondition, Channel, ContractStatus, LicenceColour, Relationship, UseType
from domain.windows import FilingOutcome, HouseholdEvent, OldCarFate, WindowState
from tests.factories import pay_all_instalments

AIOI = "aioi-tough-biz"
STAFF = Actor("staff-windows", Role.STAFF)
_RUN = secrets.token_hex(3)
_seq = itertools.count(1)
R = TypeVar("R")


def at(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=JST)


def unique(prefix: str) -> str:
    return f"{prefix}-{_RUN}-{next(_seq):05d}"


@dataclass(frozen=True)
class Swappable:
    contract_id: int
    holder_id: int
    old_car_id: int
    new_car_id: int
    relative_id: int
    start: date


async def run(pool: asyncpg.Pool, call: Callable[[UnitOfWork], Awaitable[R]]) -> R:
    async with UnitOfWork(pool) as uow:
        return await call(uow)


QUOTED_AT = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


async def aioi_contract(pool: asyncpg.Pool, *, product: str = AIOI, start: date = date(2026, 4, 10),
                        quoted_at: datetime = QUOTED_AT, pay: bool = True) -> Swappable:
    """An issued one-year contract (named insured only, 26+) with a second car and a young relative
    registered in the holder's book."""
    async with UnitOfWork(pool) as uow:
        agency = await create_agency(uow, unique("AG"), "テスト代理店")
        holder = await create_party(uow, NewParty(
            PartyKind.PERSON, "佐藤 花子", birth_date=date(1980, 6, 1), agency_id=agency.id,
            licence_colour=LicenceColour.GOLD, licence_date=date(2000, 5, 1)))
        relative = await create_party(uow, NewParty(
            PartyKind.PERSON, "佐藤 次郎", birth_date=date(2007, 1, 15), account_party_id=holder.id,
            agency_id=agency.id, licence_colour=LicenceColour.GREEN, licence_date=date(2026, 5, 1)))
        cars = []
        for value, vehicle_class in ((2_000_000, 7), (3_500_000, 9)):  # the new car rates dearer
            cars.append(await create_vehicle(uow, NewVehicle(
                UseType.PRIVATE_STANDARD_PASSENGER, registration_no=unique("品川300た"), chassis_no=unique("CH"),
                model_code="DBA-XYZ1", first_registration=date(2019, 4, 1), model_release=date(2018, 10, 1),
                rating_classes={"BI": 5, "PD": 6, "INJURY": 4, "VEHICLE": vehicle_class}, value_yen=value,
                owner_party_id=holder.id, account_party_id=holder.id, agency_id=agency.id)))
    q = await run(pool, lambda uow: create_quote(uow, STAFF, QuoteRequest(
        product_id=product, start_date=start, policyholder_id=holder.id, named_insured_id=holder.id,
        vehicle_id=cars[0].id, coverages=(CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PI"),
                                          CoverageInput("VEHICLE")),
        drivers=(DriverInput(holder.id, Relationship.SELF),), channel=Channel.AGENT, agency_id=agency.id,
        age_condition=AgeCondition.AGE_26), quoted_at))
    await run(pool, lambda uow: issue_contract(uow, STAFF, IssueRequest(q.contract_id, q.lock_version), quoted_at))
    if pay:
        await pay_all_instalments(pool, q.contract_id, quoted_at)  # non-payment is another story
    return Swappable(q.contract_id, holder.id, cars[0].id, cars[1].id, relative.id, start)


async def report_swap(pool: asyncpg.Pool, s: Swappable, acquired: date, now: datetime) -> WindowChange:
    return await run(pool, lambda uow: report_vehicle_acquisition(uow, STAFF, VehicleAcquisitionReport(
        s.contract_id, s.new_car_id, acquired, s.old_car_id, OldCarFate.SCRAPPED, Relationship.SELF), now))


async def file_swap(pool: asyncpg.Pool, window_id: int, now: datetime, value: int = 3_000_000) -> WindowChange:
    return await run(pool, lambda uow: file_vehicle_swap(uow, STAFF, VehicleSwapFiling(
        window_id, InspectionCertificate("品川300た1", None, "DBA-XYZ1"), value), now))


async def car_at(pool: asyncpg.Pool, contract_id: int, when: datetime) -> int:
    v = await version_as_of(pool, contract_id, when)
    assert v is not None
    return v.data.vehicle_id


async def test_swap_filed_on_day_30_insures_the_new_car_from_its_acquisition(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    acquired = date(2026, 5, 1)
    opened = await report_swap(pool, s, acquired, at(date(2026, 5, 3)))
    assert opened.state is WindowState.OPEN and ContractStatus.SWAP_PENDING in opened.statuses
    stored = await window_repo.get_window(pool, opened.window_id)
    assert stored is not None
    # 002b L4142: within 30 days counting from the day after acquisition → day 30 = 31 May
    assert stored.window.full_until == date(2026, 5, 31)
    assert stored.window.downgrade_until == date(2027, 5, 10)  # expiry 10 Apr 2027 + 30 (L4151)
    subject = await timers.for_subject(pool, f"window:{opened.window_id}")
    assert sorted((t.kind, t.due_at) for t in subject) == [
        ("window.downgrade", datetime(2026, 6, 1, tzinfo=JST)), ("window.void", datetime(2027, 5, 11, tzinfo=JST))]

    before = await version_as_of(pool, s.contract_id, at(acquired))
    assert before is not None
    filed = await file_swap(pool, opened.window_id, at(date(2026, 5, 31), 18))  # day 30, evening
    assert (filed.outcome, filed.state, filed.filing_day) == (FilingOutcome.FULL, WindowState.CONFIRMED, 30)
    # The new car is the insured car from the start of its acquisition day, valued at acquisition (L4145).
    assert filed.effective_at == datetime(2026, 5, 1, tzinfo=JST)
    assert await car_at(pool, s.contract_id, datetime(2026, 5, 1, tzinfo=JST)) == s.new_car_id
    assert await car_at(pool, s.contract_id, datetime(2026, 4, 30, 23, 59, tzinfo=JST)) == s.old_car_id
    after = await version_as_of(pool, s.contract_id, at(date(2026, 6, 1)))
    assert after is not None and after.data.rating_input["vehicle"]["value"] == 3_000_000
    # Extra premium pro-rata by day from the acquisition date (L4143).
    assert filed.premium_delta_yen == pro_rata_delta(
        before.data.premium_yen, after.data.premium_yen, s.start, date(2027, 4, 10), acquired) > 0
    assert [t.state.value for t in await timers.for_subject(pool, f"window:{opened.window_id}")] == [
        "CANCELLED", "CANCELLED"]
    c = await get_contract(pool, s.contract_id)
    assert c is not None and ContractStatus.SWAP_PENDING in c.statuses  # until approved
    kinds = [e.kind for e in await events(pool, s.contract_id)]
    assert kinds[-3:] == ["WINDOW_OPENED", "WINDOW_FILED", "EXTRA_PREMIUM_CHARGED"]
    # the extra premium is the term's next instalment, due on the filing day (002b L4143)
    extra = [i for i in (await instalments_of(pool, [s.contract_id]))[s.contract_id] if i.transaction_id]
    assert [(i.due_on, i.amount_yen, i.state.value) for i in extra] == [
        (date(2026, 5, 31), filed.premium_delta_yen, "DUE")]


async def test_swap_filed_on_day_31_gives_the_liability_set_and_swaps_from_the_filing_day(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    opened = await report_swap(pool, s, date(2026, 5, 1), at(date(2026, 5, 3)))
    filed = await file_swap(pool, opened.window_id, at(date(2026, 6, 1)))  # day 31 (002b L4149-4151)
    assert (filed.outcome, filed.state, filed.filing_day) == (FilingOutcome.LIABILITY_ONLY, WindowState.DOWNGRADED, 31)
    assert filed.effective_at == datetime(2026, 6, 1, tzinfo=JST)
    assert await car_at(pool, s.contract_id, datetime(2026, 5, 31, 23, 0, tzinfo=JST)) == s.old_car_id
    assert await car_at(pool, s.contract_id, datetime(2026, 6, 1, tzinfo=JST)) == s.new_car_id
    stored = await window_repo.get_window(pool, opened.window_id)
    assert stored is not None and stored.window.liability_codes[:2] == ("BI", "TEMPORARY_BI_EXPENSE")


async def test_swap_filed_after_expiry_plus_30_is_refused_and_changes_nothing(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    opened = await report_swap(pool, s, date(2027, 3, 20), at(date(2027, 3, 22)))
    # Day 31 .. expiry + 30 (10 May 2027) still gives the liability set (002b L4151) ...
    async with UnitOfWork(pool, dry_run=True) as uow:
        late = await file_vehicle_swap(uow, STAFF, VehicleSwapFiling(
            opened.window_id, InspectionCertificate(), 3_000_000), at(date(2027, 5, 10)))
    assert late.outcome is FilingOutcome.LIABILITY_ONLY and late.version_ids == ()  # the term had ended
    # ... a day later nothing (002b L4151-4152).
    with pytest.raises(Refused) as e:
        await file_swap(pool, opened.window_id, at(date(2027, 5, 11)))
    assert e.value.errors[0].code == "WINDOW_EXPIRED"
    stored = await window_repo.get_window(pool, opened.window_id)
    assert stored is not None and stored.window.filed_on is None and stored.window.state is WindowState.OPEN


async def test_approval_once_after_filing_and_swap_pending_goes(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    opened = await report_swap(pool, s, date(2026, 5, 1), at(date(2026, 5, 3)))
    approve = VehicleSwapApproval(opened.window_id, "checked the certificate")
    with pytest.raises(Refused) as e:
        await run(pool, lambda uow: approve_vehicle_swap(uow, STAFF, approve, at(date(2026, 5, 4))))
    assert e.value.errors[0].code == "SWAP_NOT_FILED"
    await file_swap(pool, opened.window_id, at(date(2026, 5, 5)))
    holder = Actor("ph", Role.POLICYHOLDER, party_id=s.holder_id)
    with pytest.raises(Refused) as e:
        await run(pool, lambda uow: approve_vehicle_swap(uow, holder, approve, at(date(2026, 5, 6))))
    assert e.value.errors[0].code == "FORBIDDEN"
    done = await run(pool, lambda uow: approve_vehicle_swap(uow, STAFF, approve, at(date(2026, 5, 6))))
    assert ContractStatus.SWAP_PENDING not in done.statuses
    c = await get_contract(pool, s.contract_id)
    assert c is not None and ContractStatus.SWAP_PENDING not in c.statuses
    with pytest.raises(Refused) as e:
        await run(pool, lambda uow: approve_vehicle_swap(uow, STAFF, approve, at(date(2026, 5, 7))))
    assert e.value.errors[0].code == "SWAP_ALREADY_APPROVED"
    with pytest.raises(Refused) as e:
        await file_swap(pool, opened.window_id, at(date(2026, 5, 7)))
    assert e.value.errors[0].code == "WINDOW_ALREADY_FILED"


async def test_a_swap_reaches_every_later_version(pool: asyncpg.Pool) -> None:
    """An endorsement between acquisition and filing keeps its change, with the new car."""
    s = await aioi_contract(pool)
    opened = await report_swap(pool, s, date(2026, 5, 1), at(date(2026, 5, 3)))
    await run(pool, lambda uow: endorse_contract(uow, STAFF, EndorseRequest(
        s.contract_id, _lock(opened), date(2026, 5, 10), EndorseChanges(age_condition=AgeCondition.AGE_21)),
        at(date(2026, 5, 4))))
    filed = await file_swap(pool, opened.window_id, at(date(2026, 5, 20)))
    assert len(filed.version_ids) == 2
    late = await version_as_of(pool, s.contract_id, at(date(2026, 7, 1)))
    assert late is not None and late.data.vehicle_id == s.new_car_id
    assert late.data.age_condition is AgeCondition.AGE_21


def _lock(w: WindowChange) -> int:
    return w.lock_version


# ------------------------------------------------------------------------------ driver change


async def _licensed(pool: asyncpg.Pool, s: Swappable, on: date, now: datetime) -> WindowChange:
    return await run(pool, lambda uow: report_household_event(uow, STAFF, HouseholdEventReport(
        s.contract_id, HouseholdEvent.NEWLY_LICENSED, on, s.relative_id), now))


async def _add_young_driver(pool: asyncpg.Pool, s: Swappable, lock: int, now: datetime) -> None:
    today = now.astimezone(JST).date()
    await run(pool, lambda uow: endorse_contract(uow, STAFF, EndorseRequest(
        s.contract_id, lock, today, EndorseChanges(
            age_condition=AgeCondition.ANY,
            drivers=(DriverChange(DriverAction.ADD, s.relative_id, Relationship.COHABITING_RELATIVE),))), now))


async def test_driver_change_on_day_30_covers_from_the_event(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    opened = await _licensed(pool, s, date(2026, 5, 1), at(date(2026, 5, 2)))
    assert opened.state is WindowState.OPEN
    # An unrelated change leaves the window open.
    await run(pool, lambda uow: endorse_contract(uow, STAFF, EndorseRequest(
        s.contract_id, opened.lock_version, date(2026, 5, 10), EndorseChanges(mileage_class=None,
                                                                             age_condition=AgeCondition.AGE_21)),
        at(date(2026, 5, 10))))
    w = await window_repo.get_window(pool, opened.window_id)
    assert w is not None and w.window.state is WindowState.OPEN  # 19 is still under 21
    c = await get_contract(pool, s.contract_id)
    assert c is not None
    await _add_young_driver(pool, s, c.lock_version, at(date(2026, 5, 31)))  # day 30 (002b L4110-4111)
    w = await window_repo.get_window(pool, opened.window_id)
    assert w is not None
    assert (w.window.state, w.window.outcome, w.window.filed_on) == (
        WindowState.CONFIRMED, FilingOutcome.FULL, date(2026, 5, 31))
    assert w.window.opens_at == datetime(2026, 5, 1, tzinfo=JST)  # cover from the event
    assert [t.state.value for t in await timers.for_subject(pool, f"window:{opened.window_id}")] == [
        "CANCELLED", "CANCELLED"]


async def test_driver_change_on_day_31_gives_the_liability_set(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    opened = await _licensed(pool, s, date(2026, 5, 1), at(date(2026, 5, 2)))
    await _add_young_driver(pool, s, opened.lock_version, at(date(2026, 6, 1)))  # day 31 (002b L4120-4122)
    w = await window_repo.get_window(pool, opened.window_id)
    assert w is not None
    assert (w.window.state, w.window.outcome) == (WindowState.DOWNGRADED, FilingOutcome.LIABILITY_ONLY)


async def test_refused_window_use_cases_change_nothing(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool)
    c = await get_contract(pool, s.contract_id)
    with pytest.raises(Refused) as e:
        await run(pool, lambda uow: report_vehicle_acquisition(uow, STAFF, VehicleAcquisitionReport(
            s.contract_id, s.new_car_id, date(2026, 5, 1), s.old_car_id, OldCarFate.KEPT, Relationship.OTHER),
            at(date(2026, 5, 3))))
    assert {x.code for x in e.value.errors} == {"OLD_CAR_NOT_DISPOSED", "OWNER_NOT_ELIGIBLE"}
    assert await get_contract(pool, s.contract_id) == c
    assert await window_repo.windows_of(pool, s.contract_id) == []


def test_day_arithmetic_of_the_fixtures() -> None:
    assert cover_moment(date(2026, 4, 10)) + timedelta(days=365) == cover_moment(date(2027, 4, 10))
