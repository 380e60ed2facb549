"""Policy storage against real PostgreSQL: schema guards, bitemporal versions, unit of work, reads.

`make_contract` and the other builders here are reused by the outbox and idempotency tests.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from datetime import date, datetime, timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.grade import GradeMarker, GradeRecord
from domain.runtime.clock import JST
from domain.store.contract_read_repo import list_contract_ids, load_contracts
from domain.store.outbox import append_event
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
    ContractNotFound,
    ContractStatus,
    CreatedContract,
    DriverEntry,
    GradeSource,
    NewContract,
    NewTransaction,
    NoVersionAt,
    PolicyNumberTaken,
    TermStatus,
    TransactionKind,
    VersionConflict,
    VersionData,
    add_term,
    append_version,
    create_contract,
    get_contract,
    lock_contract,
    record_grade,
    set_statuses,
    terms,
    version_as_of,
    versions,
)
from domain.store.uow import UnitOfWork
from domain.vocab import (
    AgeCondition,
    Channel,
    DriverRestriction,
    Fuel,
    LicenceColour,
    Relationship,
    UseType,
)

START = datetime(2026, 4, 1, 16, 0, tzinfo=JST)  # cover starts 16:00 JST
END = datetime(2027, 4, 1, 16, 0, tzinfo=JST)
RECORDED = datetime(2026, 3, 20, 10, 0, tzinfo=JST)
_RUN = secrets.token_hex(3)
_numbers = itertools.count(1)


def policy_number() -> str:
    return f"T-{_RUN}-{next(_numbers):06d}"


def version_data(vehicle_id: int, named_insured_id: int, **changes: object) -> VersionData:
    base = VersionData(
        vehicle_id=vehicle_id,
        named_insured_id=named_insured_id,
        age_condition=AgeCondition.AGE_26,
        driver_restriction=DriverRestriction.NONE,
        premium_yen=58_320,
        grade=GradeRecord(6, GradeMarker.S, 0),
        coverages=[{"code": "BODILY_INJURY", "limit": "UNLIMITED", "premium_yen": 20_000}],
        discounts=[{"kind": "INTERNET", "yen": -10_000}],
        explanation={"tariff": "2026-01"},
        drivers=(DriverEntry(named_insured_id, Relationship.SELF, LicenceColour.GOLD, date(2015, 5, 1)),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def make_contract(
    pool: asyncpg.Pool,
    *,
    agency: bool = True,
    product_id: str = "rakuten-drive-assist",
    statuses: frozenset[ContractStatus] = frozenset({ContractStatus.IN_FORCE}),
    starts_at: datetime = START,
) -> CreatedContract:
    async with UnitOfWork(pool) as uow:
        holder = await create_party(
            uow,
            NewParty(PartyKind.PERSON, "山田 太郎", "ヤマダ タロウ", "Taro Yamada", date(1980, 6, 1),
                     "100-0001", "東京都千代田区千代田1-1", "1-1 Chiyoda, Tokyo"),
        )
        ag = await create_agency(uow, f"AG-{_RUN}-{next(_numbers)}", "テスト代理店", "Test agency") if agency else None
        car = await create_vehicle(
            uow,
            NewVehicle(UseType.PRIVATE_STANDARD_PASSENGER, f"品川 300 あ {_RUN}-{next(_numbers)}", "ABC-1234567",
                       "DBA-ZRR80W",
                       date(2020, 3, 1), date(2019, 1, 1), {"BODILY_INJURY": 5, "VEHICLE": 4}, True,
                       Fuel.HYBRID, False, 2_500_000, None),
        )
        return await create_contract(
            uow,
            NewContract(policy_number(), product_id, holder.id, Channel.AGENT if ag else Channel.INTERNET,
                        statuses, ag.id if ag else None),
            starts_at=starts_at,
            ends_at=starts_at + timedelta(days=365),
            term_status=TermStatus.IN_FORCE,
            first_version=version_data(car.id, holder.id),
            at=RECORDED,
            transaction=NewTransaction(TransactionKind.ISSUE, "staff-1", ActorRole.STAFF, RECORDED),
        )


# --- schema guards ------------------------------------------------------------------------------


async def test_exclusion_constraint_refuses_overlapping_current_version(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    v = c.version.data
    insert = """INSERT INTO contract_versions (contract_id, valid, recorded_at, vehicle_id, named_insured_id,
                    age_condition, driver_restriction, premium_yen, grade, grade_marker, grade_period)
                VALUES ($1, tstzrange($2, $3), $4, $5, $6, 'ANY', 'NONE', 1000, 6, 'S', 0)"""
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.exceptions.ExclusionViolationError):
            await conn.execute(insert, c.contract.id, START + timedelta(days=100), None, RECORDED,
                               v.vehicle_id, v.named_insured_id)
        # A superseded row may overlap: history is allowed to disagree with the present.
        await conn.execute(
            insert.replace("grade_period)", "grade_period, superseded_at)").replace(", 0)", ", 0, $4)"),
            c.contract.id, START, None, RECORDED, v.vehicle_id, v.named_insured_id,
        )
        # Another contract's versions never conflict with this one's.
        other = await make_contract(pool)
        assert other.version.valid_from == c.version.valid_from


async def test_check_constraints_refuse_bad_rows(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE contracts SET statuses = '{IN_FORCE,NOPE}' WHERE id = $1", c.contract.id)
        with pytest.raises(asyncpg.CheckViolationError):  # a set: no member twice
            await conn.execute("UPDATE contracts SET statuses = '{IN_FORCE,IN_FORCE}' WHERE id = $1", c.contract.id)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE contract_versions SET premium_yen = -1 WHERE id = $1", c.version.id)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE contract_versions SET grade = 21 WHERE id = $1", c.version.id)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE contract_versions SET grade_period = 7 WHERE id = $1", c.version.id)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE vehicles SET value_yen = -5 WHERE id = $1", c.version.data.vehicle_id)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE terms SET ends_at = starts_at WHERE id = $1", c.term.id)


async def test_policy_number_is_unique(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    with pytest.raises(PolicyNumberTaken):
        async with UnitOfWork(pool) as uow:
            await create_contract(
                uow,
                NewContract(c.contract.policy_number, "x", c.contract.policyholder_id, Channel.INTERNET),
                starts_at=START, ends_at=END, term_status=TermStatus.QUOTED,
                first_version=c.version.data, at=RECORDED,
            )


# --- create and read ----------------------------------------------------------------------------


async def test_create_contract_round_trips(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    assert c.contract.lock_version == 1 and c.contract.event_count == 0
    assert c.term.term_no == 1 and c.term.starts_at == START and c.term.status is TermStatus.IN_FORCE
    assert c.version.transaction_id == c.transaction_id is not None
    async with pool.acquire() as conn:
        stored = await get_contract(conn, c.contract.id)
        assert stored == c.contract
        (v,) = await versions(conn, c.contract.id)
        assert v == c.version
        assert v.valid_to is None and v.data.drivers[0].licence_colour is LicenceColour.GOLD
        assert v.data.coverages[0]["premium_yen"] == 20_000


# --- bitemporal versions ------------------------------------------------------------------------


async def test_endorsement_splits_version_and_as_of_reads_answer_each_side(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    cid = c.contract.id
    t = datetime(2026, 9, 10, 0, 0, tzinfo=JST)
    known = datetime(2026, 9, 5, 11, 0, tzinfo=JST)
    spouse_data = version_data(
        c.version.data.vehicle_id, c.version.data.named_insured_id,
        age_condition=AgeCondition.AGE_35, premium_yen=61_000,
        drivers=c.version.data.drivers,
    )
    async with UnitOfWork(pool) as uow:
        res = await append_version(uow, cid, 1, t, spouse_data, recorded_at=known)
    assert res.lock_version == 2 and res.superseded_id == c.version.id and res.before_id is not None
    assert res.after.valid_from == t and res.after.valid_to is None
    async with pool.acquire() as conn:
        current = await versions(conn, cid)
        assert [(v.valid_from, v.valid_to) for v in current] == [(START, t), (t, None)]
        before, after = current
        assert before.id == res.before_id and before.derived_from_id == c.version.id
        assert before.data == c.version.data  # V' is V's data, drivers included
        assert after.data == spouse_data
        history = await versions(conn, cid, include_superseded=True)
        assert len(history) == 3
        old = next(v for v in history if v.id == c.version.id)
        assert old.superseded_at == known and old.data == c.version.data

        assert (await version_as_of(conn, cid, t - timedelta(microseconds=1))).data.age_condition is AgeCondition.AGE_26
        assert (await version_as_of(conn, cid, t)).data.age_condition is AgeCondition.AGE_35
        assert (await version_as_of(conn, cid, END)).data.premium_yen == 61_000
        assert await version_as_of(conn, cid, START - timedelta(seconds=1)) is None
        # As we knew it before the endorsement was recorded: the old snapshot throughout.
        was = await version_as_of(conn, cid, t + timedelta(days=1), known_at=known - timedelta(seconds=1))
        assert was is not None and was.id == c.version.id
        now_known = await version_as_of(conn, cid, t + timedelta(days=1), known_at=known)
        assert now_known is not None and now_known.id == res.after.id
        contract = await get_contract(conn, cid)
        assert contract is not None and contract.lock_version == 2


async def test_split_inside_a_middle_version_keeps_later_versions(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    cid, d = c.contract.id, c.version.data
    t1 = START + timedelta(days=100)
    t2 = START + timedelta(days=200)
    t_mid = START + timedelta(days=150)
    async with UnitOfWork(pool) as uow:
        await append_version(uow, cid, 1, t1, dataclasses.replace(d, premium_yen=1), recorded_at=RECORDED)
        await append_version(uow, cid, 2, t2, dataclasses.replace(d, premium_yen=2), recorded_at=RECORDED)
        # A back-dated change inside [t1, t2) splits only that version.
        await append_version(uow, cid, 3, t_mid, dataclasses.replace(d, premium_yen=3), recorded_at=RECORDED)
    async with pool.acquire() as conn:
        current = await versions(conn, cid)
    assert [(v.valid_from, v.valid_to, v.data.premium_yen) for v in current] == [
        (START, t1, d.premium_yen), (t1, t_mid, 1), (t_mid, t2, 3), (t2, None, 2),
    ]


async def test_change_from_the_version_start_replaces_it_without_an_empty_piece(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    async with UnitOfWork(pool) as uow:
        res = await append_version(uow, c.contract.id, 1, START, dataclasses.replace(c.version.data, premium_yen=9),
                                   recorded_at=RECORDED)
    assert res.before_id is None and res.superseded_id == c.version.id
    async with pool.acquire() as conn:
        (only,) = await versions(conn, c.contract.id)
    assert only.valid_from == START and only.data.premium_yen == 9


async def test_bounded_chain_continues_and_refuses_before_start(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    cid, d = c.contract.id, c.version.data
    async with UnitOfWork(pool) as uow:
        # Bound the first version at the term end, then renew from there.
        await append_version(uow, cid, 1, END, d, recorded_at=RECORDED)
    async with pool.acquire() as conn:
        assert [(v.valid_from, v.valid_to) for v in await versions(conn, cid)] == [(START, END), (END, None)]
    with pytest.raises(NoVersionAt):
        async with UnitOfWork(pool) as uow:
            await append_version(uow, cid, 2, START - timedelta(days=1), d, recorded_at=RECORDED)

    # A chain built bounded: create with valid_until, continue at its end.
    async with UnitOfWork(pool) as uow:
        holder = c.contract.policyholder_id
        # its own car: a number is on one live contract at a time (migration 0018)
        car = await create_vehicle(uow, NewVehicle(UseType.PRIVATE_STANDARD_PASSENGER, f"品川 300 あ {_RUN}-{next(_numbers)}"))
        d = dataclasses.replace(d, vehicle_id=car.id)
        bounded = await create_contract(
            uow, NewContract(policy_number(), "p", holder, Channel.INTERNET, frozenset({ContractStatus.IN_FORCE})),
            starts_at=START, ends_at=END, term_status=TermStatus.IN_FORCE, first_version=d, at=RECORDED,
            version_valid_until=END,
        )
        renewed = await append_version(uow, bounded.contract.id, 1, END, dataclasses.replace(d, premium_yen=7),
                                       recorded_at=RECORDED, valid_until=END + timedelta(days=365))
        assert renewed.superseded_id is None and renewed.after.valid_to == END + timedelta(days=365)
        assert (await version_as_of(uow.conn, bounded.contract.id, END + timedelta(days=400))) is None


async def test_stale_lock_version_is_a_conflict_and_writes_nothing(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    with pytest.raises(VersionConflict) as info:
        async with UnitOfWork(pool) as uow:
            await append_version(uow, c.contract.id, 7, START + timedelta(days=1), c.version.data,
                                 recorded_at=RECORDED)
    assert info.value.actual == 1 and info.value.code == "VERSION_CONFLICT"
    with pytest.raises(ContractNotFound):
        async with UnitOfWork(pool) as uow:
            await lock_contract(uow, 987_654_321, 1)
    async with pool.acquire() as conn:
        assert len(await versions(conn, c.contract.id, include_superseded=True)) == 1


# --- unit of work -------------------------------------------------------------------------------


class Boom(Exception):
    pass


async def test_unit_of_work_rollback_leaves_nothing(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    cid = c.contract.id
    with pytest.raises(Boom):
        async with UnitOfWork(pool) as uow:
            await append_version(uow, cid, 1, START + timedelta(days=3), c.version.data, recorded_at=RECORDED)
            await append_event(uow, cid, "ENDORSED", {"x": 1}, at=RECORDED)
            await set_statuses(uow, cid, {ContractStatus.IN_FORCE, ContractStatus.CANCEL_PENDING})
            await create_party(uow, NewParty(PartyKind.CORPORATION, "消える株式会社"))
            raise Boom
    async with pool.acquire() as conn:
        contract = await get_contract(conn, cid)
        assert contract == c.contract  # lock version, statuses, event_seq untouched
        assert await versions(conn, cid, include_superseded=True) == [c.version]
        assert await conn.fetchval("SELECT count(*) FROM events WHERE contract_id = $1", cid) == 0
        assert await conn.fetchval("SELECT count(*) FROM parties WHERE name_kanji = '消える株式会社'") == 0


async def test_dry_run_runs_everything_and_stores_nothing(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    async with UnitOfWork(pool, dry_run=True) as uow:
        res = await append_version(uow, c.contract.id, 1, START + timedelta(days=3), c.version.data,
                                   recorded_at=RECORDED)
        assert res.lock_version == 2
        assert len(await versions(uow.conn, c.contract.id)) == 2  # visible inside the dry run
    assert not uow.committed
    async with pool.acquire() as conn:
        assert (await get_contract(conn, c.contract.id)).lock_version == 1  # type: ignore[union-attr]
        assert len(await versions(conn, c.contract.id)) == 1


async def test_unit_of_work_commits_and_outside_use_is_an_error(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    uow = UnitOfWork(pool)
    with pytest.raises(RuntimeError):
        uow.conn  # noqa: B018
    async with uow:
        await set_statuses(uow, c.contract.id, [ContractStatus.EXPIRED])
    assert uow.committed
    async with pool.acquire() as conn:
        assert (await get_contract(conn, c.contract.id)).statuses == {ContractStatus.EXPIRED}  # type: ignore[union-attr]


# --- read path ----------------------------------------------------------------------------------


async def _count_statements(conn: asyncpg.Connection, ids: list[int], as_of: datetime) -> tuple[int, dict]:
    seen: list[str] = []

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        seen.append(record.query)

    conn.add_query_logger(log)
    try:
        result = await load_contracts(conn, ids, as_of)
    finally:
        conn.remove_query_logger(log)
    return len(seen), result


async def test_load_contracts_statement_count_does_not_grow(pool: asyncpg.Pool) -> None:
    made = [await make_contract(pool) for _ in range(100)]
    # Give them some variety: an endorsement, drivers, grade records, events, a renewal term.
    first = made[0]
    spouse_id = None
    async with UnitOfWork(pool) as uow:
        spouse = await create_party(uow, NewParty(PartyKind.PERSON, "山田 花子", birth_date=date(1982, 2, 2)))
        spouse_id = spouse.id
        d = dataclasses.replace(
            first.version.data,
            drivers=first.version.data.drivers + (DriverEntry(spouse.id, Relationship.SPOUSE, LicenceColour.BLUE),),
        )
        await append_version(uow, first.contract.id, 1, START + timedelta(days=30), d, recorded_at=RECORDED)
        await record_grade(uow, first.contract.id, first.term.id, GradeRecord(6, GradeMarker.S, 0),
                           GradeSource.NEW, recorded_at=RECORDED)
        await record_grade(uow, first.contract.id, first.term.id, GradeRecord(7, GradeMarker.F, 0),
                           GradeSource.RECALCULATION, recorded_at=RECORDED)
        await append_event(uow, first.contract.id, "ISSUED", {}, at=RECORDED)
        await append_event(uow, first.contract.id, "ENDORSED", {}, at=RECORDED)
        await add_term(uow, first.contract.id, starts_at=END, ends_at=END + timedelta(days=365),
                       status=TermStatus.SCHEDULED, at=RECORDED)

    ids = [m.contract.id for m in made]
    as_of = START + timedelta(days=60)
    async with pool.acquire() as conn:
        n10, r10 = await _count_statements(conn, ids[:10], as_of)
        n100, r100 = await _count_statements(conn, ids, as_of)
    assert 3 <= n10 == n100 <= 5  # BEGIN, three reads, COMMIT (the logger may skip BEGIN)
    assert len(r10) == 10 and len(r100) == 100

    detail = r100[first.contract.id]
    assert detail.version is not None and detail.version_in_force
    assert detail.version.valid_from == START + timedelta(days=30)
    assert [dr.party.name_kanji for dr in detail.drivers] == ["山田 太郎", "山田 花子"]
    assert detail.drivers[1].party.id == spouse_id and detail.drivers[1].entry.relationship is Relationship.SPOUSE
    assert detail.vehicle is not None and detail.vehicle.rating_classes == {"BODILY_INJURY": 5, "VEHICLE": 4}
    assert detail.vehicle.fuel is Fuel.HYBRID and detail.vehicle.first_registration == date(2020, 3, 1)
    assert detail.grade == GradeRecord(7, GradeMarker.F, 0) and detail.grade_source is GradeSource.RECALCULATION
    assert detail.events_count == 2
    assert [t.term_no for t in detail.terms] == [1, 2]
    assert detail.policyholder.name_en == "Taro Yamada" and detail.named_insured == detail.policyholder
    plain = r100[made[1].contract.id]
    assert plain.grade is None and plain.events_count == 0 and len(plain.drivers) == 1

    # Before the start: the version to come, marked as not in force.
    async with pool.acquire() as conn:
        early = (await load_contracts(conn, [made[1].contract.id], START - timedelta(days=5)))[made[1].contract.id]
        assert early.version is not None and not early.version_in_force
        assert await load_contracts(conn, [], as_of) == {}
        assert await load_contracts(conn, [987_654_321], as_of) == {}


async def test_load_contracts_sees_uncommitted_writes_of_its_own_unit_of_work(pool: asyncpg.Pool) -> None:
    c = await make_contract(pool)
    async with UnitOfWork(pool, dry_run=True) as uow:
        await append_event(uow, c.contract.id, "X", {}, at=RECORDED)
        got = await load_contracts(uow.conn, [c.contract.id], START)
        assert got[c.contract.id].events_count == 1


async def test_list_contract_ids_filters_and_pages(pool: asyncpg.Pool) -> None:
    product = f"prod-{secrets.token_hex(3)}"
    made = [await make_contract(pool, product_id=product) for _ in range(5)]
    ids = [m.contract.id for m in made]
    async with pool.acquire() as conn:
        page1 = await list_contract_ids(conn, product_id=product, limit=2)
        page2 = await list_contract_ids(conn, product_id=product, limit=2, after_id=page1[-1])
        page3 = await list_contract_ids(conn, product_id=product, limit=2, after_id=page2[-1])
        assert page1 + page2 + page3 == sorted(ids)
        agency = made[2].contract.agency_id
        assert await list_contract_ids(conn, agency_id=agency) == [made[2].contract.id]
        holder = made[3].contract.policyholder_id
        assert await list_contract_ids(conn, policyholder_id=holder) == [made[3].contract.id]
        async with UnitOfWork(pool) as uow:
            await set_statuses(uow, made[4].contract.id, [ContractStatus.IN_FORCE, ContractStatus.DELINQUENT])
        assert await list_contract_ids(conn, product_id=product, status=ContractStatus.DELINQUENT) == [
            made[4].contract.id
        ]
        expiring = await list_contract_ids(conn, product_id=product, expiring_from=END - timedelta(days=1),
                                           expiring_before=END + timedelta(days=1))
        assert expiring == sorted(ids)
        assert await list_contract_ids(conn, product_id=product, expiring_before=END) == []
        with pytest.raises(ValueError):
            await list_contract_ids(conn, limit=102)
        assert [t.term_no for t in await terms(conn, ids[0])] == [1]


# --- property: the version chain matches a plain model -----------------------------------------

@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 999)), min_size=1, max_size=6))
async def test_any_endorsement_sequence_keeps_one_answer_per_instant(
    pool: asyncpg.Pool, changes: list[tuple[int, int]]
) -> None:
    """Endorsements at arbitrary days (back-dated, repeated, at the start): the current versions
    stay contiguous and every instant answers the premium a naive model of the split rule gives."""
    c = await make_contract(pool)
    cid = c.contract.id
    # model: list of [from_day, to_day or None, premium]
    model: list[list[int | None]] = [[0, None, c.version.data.premium_yen]]
    lock = 1
    for day, premium in changes:
        async with UnitOfWork(pool) as uow:
            res = await append_version(uow, cid, lock, START + timedelta(days=day),
                                       dataclasses.replace(c.version.data, premium_yen=premium),
                                       recorded_at=RECORDED)
        lock = res.lock_version
        i = next(k for k, (f, t, _) in enumerate(model) if f <= day and (t is None or day < t))  # type: ignore[operator]
        f, t, p = model[i]
        pieces = ([[f, day, p]] if f < day else []) + [[day, t, premium]]  # type: ignore[operator]
        model[i:i + 1] = pieces
    async with pool.acquire() as conn:
        current = await versions(conn, cid)
        assert [(v.valid_from, v.valid_to, v.data.premium_yen) for v in current] == [
            (START + timedelta(days=f), None if t is None else START + timedelta(days=t), p)  # type: ignore[arg-type]
            for f, t, p in model
        ]
        for day in {d for d, _ in changes} | {0, 401}:
            at = START + timedelta(days=day, hours=1)
            expected = next(p for f, t, p in model if f <= day and (t is None or day < t))  # type: ignore[operator]
            got = await version_as_of(conn, cid, at)
            assert got is not None and got.data.premium_yen == expected
