"""Demo book for `make run` / `autopolicy seed`: about 200 contracts of the four products, built
through the contract use cases, the same on every run and loaded once.

Time travels inside the book: each contract is quoted and issued a few days before its start,
endorsed, renewed, cancelled or rescinded at the moment that story needs, all at or before
`DEMO_NOW` (2026-04-01 09:00 JST). Afterwards a housekeeping step does what the workers will do
on their own (terms in force / expired as of `DEMO_NOW`).

Well-known rows for the README: the agency `AG-TOKYO-001`, the policyholder 山田 太郎 (Taro
Yamada) and the first contract (AP-RK-100001 on a fresh database; the summary line names it).
Idempotent: when the marker agency exists nothing is written.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast

import asyncpg

from domain.calendar import JST, YearMonth, add_months, age_on
from domain.grade_continuity import InterruptionReason
from domain.lifecycle import Role
from domain.products.model import MemberRank, UsePurpose
from domain.services.access import Actor
from domain.services.contracts.cases import (
    CancelRequest,
    CertificateRequest,
    ContractChange,
    CoverageChange,
    CoverageInput,
    DiscountInput,
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
    SecondCarDeclaration,
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
from domain.services.renewals.renew import renew_contract
from domain.store.party_repo import Party, PartyKind, create_agency
from domain.store.uow import UnitOfWork
from domain.vocab import (
    AccidentClass,
    AgeCondition,
    Channel,
    DriverRestriction,
    Fuel,
    LicenceColour,
    PaymentMethod,
    Relationship,
    UseType,
)

DEMO_NOW = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
MARKER_AGENCY = "AG-TOKYO-001"
CONTRACTS = 200
SYSTEM_STAFF = Actor("demo-seed", Role.STAFF)

RK, AI, TK, KY = "rakuten-drive-assist", "aioi-tough-biz", "tokio-total-assist-group", "kyosai-accident-expense"
_SURNAMES = [("山田", "ヤマダ", "Yamada"), ("佐藤", "サトウ", "Sato"), ("鈴木", "スズキ", "Suzuki"),
             ("高橋", "タカハシ", "Takahashi"), ("田中", "タナカ", "Tanaka"), ("伊藤", "イトウ", "Ito"),
             ("渡辺", "ワタナベ", "Watanabe"), ("中村", "ナカムラ", "Nakamura"), ("小林", "コバヤシ", "Kobayashi"),
             ("加藤", "カトウ", "Kato")]
_GIVEN = [("太郎", "タロウ", "Taro"), ("花子", "ハナコ", "Hanako"), ("健一", "ケンイチ", "Kenichi"),
          ("美咲", "ミサキ", "Misaki"), ("翔", "ショウ", "Sho"), ("陽子", "ヨウコ", "Yoko"),
          ("大輔", "ダイスケ", "Daisuke"), ("結衣", "ユイ", "Yui")]
_CITIES = [("100-0001", "東京都千代田区千代田1-1"), ("530-0001", "大阪府大阪市北区梅田2-2"),
           ("460-0008", "愛知県名古屋市中区栄3-3"), ("810-0001", "福岡県福岡市中央区天神4-4"),
           ("060-0001", "北海道札幌市中央区北一条西5-5"), ("317-0073", "茨城県日立市幸町6-6")]

T = TypeVar("T")


class _OneConnection:
    """Just enough of a pool for a UnitOfWork over the connection `seed` hands us."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def acquire(self) -> asyncpg.Connection:
        return self._conn

    async def release(self, conn: asyncpg.Connection) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _Plan:
    product: str
    story: str  # QUOTED, IN_FORCE, ENDORSED, RENEWED, CANCELLED, REINSTATED, RESCINDED, EXPIRED, CERTIFIED
    start: date


_STORIES = ["QUOTED", "QUOTED", "IN_FORCE", "IN_FORCE", "IN_FORCE", "IN_FORCE", "IN_FORCE", "IN_FORCE",
            "IN_FORCE", "ENDORSED", "ENDORSED", "ENDORSED", "RENEWED", "RENEWED", "CANCELLED", "CANCELLED",
            "REINSTATED", "RESCINDED", "EXPIRED", "CERTIFIED"]


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour, 0), tzinfo=JST)


def _plan(k: int, rnd: random.Random) -> _Plan:
    if k == 0:  # the README's contract: rakuten through AG-TOKYO-001, in force and endorsed once
        return _Plan(RK, "ENDORSED", date(2025, 10, 1))
    product = [RK, RK, AI, TK, RK, AI, KY, RK, TK, AI][k % 10]
    story = _STORIES[(k + k // 10 * 3) % len(_STORIES)]  # every product meets every story
    today = DEMO_NOW.date()

    def between(a: date, b: date) -> date:
        return a + timedelta(days=rnd.randrange((b - a).days + 1))

    if story == "QUOTED":
        start = between(today + timedelta(days=10), today + timedelta(days=80))
    elif story == "RENEWED":
        start = between(date(2025, 4, 5), date(2025, 6, 25))  # expiry within the renewal window
    elif story in ("EXPIRED", "CERTIFIED"):
        start = between(date(2025, 1, 10), date(2025, 3, 25))  # ended before DEMO_NOW
    else:
        start = between(date(2025, 4, 5), date(2026, 3, 20))
    if product == TK and story in ("RENEWED", "EXPIRED", "CERTIFIED"):
        product = RK  # the group product's rates start 2026-01 (004 L1582): no term has ended yet
    elif product == TK and story != "QUOTED":
        start = max(start, between(date(2026, 1, 5), date(2026, 3, 20)))
    return _Plan(product, story, start)


class _Loader:
    def __init__(self, uow: UnitOfWork, rnd: random.Random, agencies: dict[str, int]) -> None:
        self.uow, self.rnd, self.agencies = uow, rnd, agencies
        self.counts: dict[str, int] = {}
        self.first_policy: str | None = None
        self.other_insurer = 0

    async def call(self, fn: Callable[[UnitOfWork, Actor, Any, datetime], Awaitable[T]], actor: Actor,
                   req: Any, now: datetime) -> T:
        return await fn(self.uow, actor, req, now)

    def _name(self, k: int) -> tuple[str, str, str]:
        s = _SURNAMES[k % len(_SURNAMES)]
        g = _GIVEN[(k // len(_SURNAMES)) % len(_GIVEN)]
        return f"{s[0]} {g[0]}", f"{s[1]} {g[1]}", f"{g[2]} {s[2]}"

    async def _person(self, actor: Actor, name: tuple[str, str, str], birth: date, account: int | None,
                      now: datetime, address: tuple[str, str] | None = None) -> Party:
        age = age_on(birth, now.date())
        colour = LicenceColour.GREEN if age < 21 else self.rnd.choice(
            [LicenceColour.GOLD, LicenceColour.GOLD, LicenceColour.BLUE])
        licence = add_months(birth, 12 * 18 + self.rnd.randrange(0, 24))
        licence = min(licence, now.date() - timedelta(days=30))
        postal, addr = address or (None, None)
        return await self.call(register_party, actor, RegisterParty(
            PartyKind.PERSON, name[0], name[1], name[2], birth, postal, addr, None, colour, licence,
            account_party_id=account), now)

    async def contract(self, k: int, p: _Plan) -> None:
        rnd = self.rnd
        issue_now = _at(p.start - timedelta(days=rnd.randrange(3, 15)))
        now = DEMO_NOW if p.story == "QUOTED" else issue_now
        channel = {RK: Channel.INTERNET if k % 4 == 0 and k else Channel.AGENT, AI: Channel.GROUP if k % 5 == 0 else Channel.AGENT,
                   TK: Channel.GROUP, KY: Channel.AGENT}[p.product]
        agency = None
        if channel is Channel.AGENT:
            agency = self.agencies[MARKER_AGENCY if k % 3 or k == 0 else "AG-OSAKA-002"]
        elif channel is Channel.GROUP:
            agency = self.agencies["AG-HITACHI-GRP"]
        office = Actor(f"demo-agent-{agency}", Role.AGENT, agency_id=agency) if agency else SYSTEM_STAFF

        corporate = p.product == AI and k % 3 == 0
        city = _CITIES[k % len(_CITIES)]
        if k == 0:
            birth = date(1985, 5, 5)
        else:
            birth = date(rnd.randrange(1950, 2004), rnd.randrange(1, 13), rnd.randrange(1, 29))
        if corporate:
            holder = await self.call(register_party, office, RegisterParty(
                PartyKind.CORPORATION, f"株式会社{_SURNAMES[k % 10][0]}運輸", None, f"{_SURNAMES[k % 10][2]} Transport Co., Ltd.",
                postal_code=city[0], address_ja=city[1]), now)
            driver_party = await self._person(office, self._name(k + 7), date(1975 + k % 20, 4, 1), holder.id, now)
            drivers = [DriverInput(driver_party.id, Relationship.EMPLOYEE)]
            ni = holder
        else:
            holder = await self._person(office, self._name(k) if k else ("山田 太郎", "ヤマダ タロウ", "Taro Yamada"),
                                        birth, None, now, city)
            ni = holder
            drivers = [DriverInput(holder.id, Relationship.SELF)]
            if k % 4 == 1:
                spouse = await self._person(office, self._name(k + 3), birth + timedelta(days=700), holder.id, now)
                drivers.append(DriverInput(spouse.id, Relationship.SPOUSE))
            if k % 6 == 2 and birth.year < 1975:
                child_birth = date(2002 + k % 5, 7, 7)
                child = await self._person(office, self._name(k + 5), child_birth, holder.id, now)
                drivers.append(DriverInput(child.id, Relationship.COHABITING_RELATIVE))
        vehicle = await self._vehicle(office, p, holder.id, k, now)
        youngest = min(age_on(b, p.start) for b in await self._births(drivers, ni))
        age_cond = self._age_condition(p.product, youngest, vehicle[2])
        req = QuoteRequest(
            product_id=p.product, start_date=p.start, policyholder_id=holder.id, named_insured_id=ni.id,
            vehicle_id=vehicle[0], coverages=self._coverages(p.product, k), drivers=tuple(drivers),
            channel=channel, agency_id=agency if office.role is not Role.AGENT else None,
            riders=("VEHICLE_ACCIDENT", "PROPERTY_DAMAGE", "ROAD_SERVICE") if p.product == KY and k % 2 else (),
            age_condition=age_cond,
            driver_restriction=DriverRestriction.NONE,
            use_purpose=rnd.choice(list(UsePurpose)) if p.product in (RK, TK) else None,
            mileage_class=rnd.randrange(1, 9) if p.product == RK else None,
            payment_method=PaymentMethod.MONTHLY if channel is not Channel.INTERNET and k % 3 == 1 else PaymentMethod.ANNUAL,
            discounts=DiscountInput(multi_car_count=1 + k % 3 if not corporate else 1 + k % 7,
                                    member_rank=MemberRank.DIAMOND if channel is Channel.INTERNET and k % 8 == 0 else None),
            **self._grade(k, p, vehicle[1], corporate),
        )
        q = await self.call(create_quote, office, req, now)
        if k == 0:
            self.first_policy = q.policy_number
        self.counts[p.product] = self.counts.get(p.product, 0) + 1
        if p.story == "QUOTED":
            return
        c = await self.call(issue_contract, office, IssueRequest(q.contract_id, q.lock_version), issue_now)
        await self._story(k, p, office, c, drivers, ni)

    async def _births(self, drivers: list[DriverInput], ni: Party) -> list[date]:
        rows = await self.uow.conn.fetch("SELECT birth_date FROM parties WHERE id = any($1::bigint[])",
                                         [d.party_id for d in drivers] + [ni.id])
        return [r["birth_date"] for r in rows if r["birth_date"] is not None]

    def _age_condition(self, product: str, youngest: int, use: UseType) -> AgeCondition:
        if product == KY or youngest < 21 or (product == AI and not use.name.endswith("_PASSENGER")):
            return AgeCondition.ANY
        if youngest < 26:
            return AgeCondition.AGE_21
        if youngest < 35 or product == AI:
            return AgeCondition.AGE_26
        return AgeCondition.AGE_35

    def _coverages(self, product: str, k: int) -> tuple[CoverageInput, ...]:
        vehicle = (CoverageInput("VEHICLE"),) if k % 3 else ()
        if product == RK:
            return (CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PIP", "SI_30M" if k % 2 else None), *vehicle)
        if product in (AI, TK):
            return (CoverageInput("BI"), CoverageInput("PD"), CoverageInput("PI"), *vehicle)
        return (CoverageInput("ACCIDENT_EXPENSE"),)

    def _grade(self, k: int, p: _Plan, private_eight: bool, corporate: bool) -> dict[str, Any]:
        if p.product == KY:
            return {}
        roll = k % 10
        if roll in (0, 3) or k == 0:
            return {"grade_origin": GradeOrigin.NEW}
        if roll == 5 and private_eight and not corporate:
            return {"grade_origin": GradeOrigin.SECOND_CAR,
                    "second_car": SecondCarDeclaration(first_car_grade=11 + k % 10)}
        # Declared previous grades cycle through 1..20, so every grade 1..20 appears; every other
        # cycle brings a 3-down accident at grade 4 (→ 1) and accident-coefficient periods.
        i, self.other_insurer = self.other_insurer, self.other_insurer + 1
        previous, cycle = 1 + i % 20, i // 20
        accidents = (AccidentClass.THREE_DOWN,) if previous == 4 and cycle % 2 else ()
        period = 0 if previous >= 14 or cycle % 2 == 0 else min(6, cycle + previous % 3)
        gap = self.rnd.randrange(0, 5)
        return {"grade_origin": GradeOrigin.OTHER_INSURER,
                "previous_contract": PreviousContract(previous, period, p.start - timedelta(days=gap), accidents)}

    async def _vehicle(self, office: Actor, p: _Plan, owner: int, k: int, now: datetime) -> tuple[int, bool, UseType]:
        choices = {
            RK: [UseType.PRIVATE_STANDARD_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER, UseType.PRIVATE_KEI_PASSENGER,
                 UseType.PRIVATE_KEI_TRUCK],
            AI: [UseType.COMMERCIAL_SMALL_TRUCK, UseType.COMMERCIAL_STANDARD_TRUCK, UseType.PRIVATE_SMALL_TRUCK,
                 UseType.PRIVATE_STANDARD_PASSENGER, UseType.COMMERCIAL_KEI_TRUCK],
            TK: [UseType.PRIVATE_STANDARD_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER, UseType.PRIVATE_KEI_PASSENGER],
            KY: [UseType.PRIVATE_KEI_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER, UseType.PRIVATE_LARGE_TRUCK],
        }[p.product]
        use = choices[(k + k // 10) % len(choices)]
        top = 3 if use.is_kei else 17  # rakuten rates kei cars in classes 1-3 (001 L799-801)
        released = YearMonth(2014 + k % 11, 1 + k % 12)
        first = min(released.plus_months(k % 9), YearMonth.of(now.date()))
        classes = tuple((g, 1 + (k * n) % top) for n, g in enumerate(("BI", "PD", "INJURY", "VEHICLE"), start=3))
        v = await self.call(register_vehicle, office, RegisterVehicle(
            use, f"品川 {300 + k % 200} あ {1000 + k:04d}", f"DEMO{k:06d}", f"DBA-M{k % 50:03d}", first, released,
            classes, aeb=k % 2 == 0, fuel=[Fuel.PETROL, Fuel.HYBRID, Fuel.EV, Fuel.DIESEL][k % 4],
            welfare=k % 23 == 0, value_yen=800_000 + (k % 30) * 100_000, owner_party_id=owner), now)
        return v.id, use.is_private_eight, use

    async def _story(self, k: int, p: _Plan, office: Actor, c: ContractChange, drivers: list[DriverInput],
                     ni: Party) -> None:
        end = add_months(p.start, 12)
        today = DEMO_NOW.date()
        lock = c.lock_version
        if p.story == "ENDORSED":
            eff = min(p.start + timedelta(days=45), end - timedelta(days=10))
            when = _at(eff, 11) if eff <= today else DEMO_NOW
            household = all(d.relationship in (Relationship.SELF, Relationship.SPOUSE) for d in drivers)
            if p.product in (RK, TK) and household:
                changes = EndorseChanges(driver_restriction=DriverRestriction.NAMED_INSURED_AND_SPOUSE)
            else:
                changes = self._option_change(p.product, k)
            await self.call(endorse_contract, office, EndorseRequest(c.contract_id, lock, eff, changes,
                                                                     reason="demo endorsement"), when)
        elif p.story == "RENEWED":
            when = min(_at(end - timedelta(days=40)), DEMO_NOW)
            await self.call(renew_contract, office, RenewRequest(c.contract_id, lock), when)
        elif p.story in ("CANCELLED", "REINSTATED"):
            eff = min(p.start + timedelta(days=60 + k % 90), today)
            done = await self.call(cancel_contract, office, CancelRequest(c.contract_id, lock, eff, "vehicle sold"), _at(eff, 9))
            if p.story == "REINSTATED" and eff + timedelta(days=30) >= today:
                await self.call(reinstate_contract, SYSTEM_STAFF,
                                ReinstateRequest(c.contract_id, done.lock_version, "cancelled by mistake"), DEMO_NOW)
        elif p.story == "RESCINDED":
            eff = min(p.start + timedelta(days=75), today)
            reason = RescissionReason.NON_PAYMENT if k % 2 else RescissionReason.MISREPRESENTATION
            await self.call(rescind_contract, SYSTEM_STAFF, RescindRequest(c.contract_id, lock, reason, eff), _at(eff, 12))
        elif p.story == "CERTIFIED":
            eff = p.start + timedelta(days=120)
            done = await self.call(cancel_contract, office, CancelRequest(c.contract_id, lock, eff, "car scrapped"), _at(eff, 9))
            if c.grade is not None and c.grade.grade >= 7:
                await self.call(issue_interruption_certificate, office, CertificateRequest(
                    c.contract_id, done.lock_version, InterruptionReason.SCRAPPED, eff), _at(eff, 15))

    def _option_change(self, product: str, k: int) -> EndorseChanges:
        """A premium-changing endorsement each product offers."""
        if product == RK:
            return EndorseChanges(coverages=(CoverageChange("PASSENGER"),))
        if product == KY:
            if k % 2:  # the quote took all three riders
                return EndorseChanges(riders_remove=("ROAD_SERVICE",))
            return EndorseChanges(riders_add=("VEHICLE_ACCIDENT",))
        return EndorseChanges(coverages=(CoverageChange("PI", "UNLIMITED"),))


async def load_demo_data(conn: asyncpg.Connection) -> str:
    if await conn.fetchval("SELECT 1 FROM agencies WHERE code = $1", MARKER_AGENCY):
        n = await conn.fetchval("SELECT count(*) FROM contracts")
        return f"demo data: already loaded ({n} contracts in the database)"
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    rnd = random.Random(20260401)
    async with UnitOfWork(cast(asyncpg.Pool, _OneConnection(conn))) as uow:
        agencies = {}
        for code, ja, en in ((MARKER_AGENCY, "東京中央保険代理店", "Tokyo Central Insurance Agency"),
                             ("AG-OSAKA-002", "大阪梅田保険サービス", "Osaka Umeda Insurance Services"),
                             ("AG-HITACHI-GRP", "日立保険サービス(団体扱)", "Hitachi Insurance Services (group)")):
            agencies[code] = (await create_agency(uow, code, ja, en)).id
        loader = _Loader(uow, rnd, agencies)
        for k in range(CONTRACTS):
            await loader.contract(k, _plan(k, rnd))
        # What the workers do as time passes: terms in force or expired as of DEMO_NOW.
        await uow.conn.execute(
            """UPDATE terms SET status = CASE WHEN ends_at <= $1 THEN 'EXPIRED' ELSE 'IN_FORCE' END
               WHERE status IN ('SCHEDULED', 'IN_FORCE') AND starts_at <= $1""", DEMO_NOW)
        await uow.conn.execute(
            """UPDATE contracts c SET statuses = ARRAY['EXPIRED'], lock_version = lock_version + 1
               WHERE statuses = ARRAY['IN_FORCE'] AND NOT EXISTS (
                   SELECT 1 FROM terms t WHERE t.contract_id = c.id AND t.ends_at > $1)""", DEMO_NOW)
    by_product = ", ".join(f"{pid} {n}" for pid, n in sorted(loader.counts.items()))
    return (f"demo data: {sum(loader.counts.values())} contracts ({by_product}); agency {MARKER_AGENCY}, "
            f"policyholder 山田 太郎 (Taro Yamada), contract {loader.first_policy}")
