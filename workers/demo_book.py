"""Demo book for `make run` / `autopolicy seed`: about 200 contracts of the four products, built
through the use cases as of the business clock's today, the same story on every date.

The book is lived, not written: each contract's story (quote, issue, endorse, renew, cancel, a
claim, a window) is a sequence of acts at moments relative to today, reaching back about 13
months. The acts of all contracts run in time order, and before each one every timer due by then
runs, at its due time, through the worker's own `run_timer` (workers/simulate.py `run_due`): the
expiry that opens a grace window, the lapse at its end, the non-payment checks, the auto-renewal.
So after the seed nothing is overdue: a worker that starts right after finds the book exactly as
it is, and the demo customers (workers/kinds/demo.py) keep paying their instalments and renewing
while the clock moves on — through `make run` or `autopolicy simulate`.

Every state is there as of today: in force and paid (annual) or partly paid (monthly), one missed
debit (DELINQUENT) per ten stories, in the forgotten-renewal grace, lapsed, expired, cancelled,
reinstated, rescinded (non-payment and misrepresentation), quoted, with an open vehicle-swap and
driver-change window, and claims in every status.

Well-known rows for the README: the agency `AG-TOKYO-001`, the policyholder 山田 太郎 (Taro
Yamada) and the first contract (AP-RK-100001 on a fresh database), in force and endorsed once.
Loaded once: the `demo_book` row records it; a load that was interrupted is reported, not redone.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

import asyncpg

from domain.calendar import JST, YearMonth, add_months, age_on
from domain.claims.workflow import ClaimAction
from domain.grade_continuity import InterruptionReason
from domain.lifecycle import Role
from domain.products.model import MemberRank, UsePurpose
from domain.runtime.clock import ManualClock
from domain.runtime.settings import Settings
from domain.services.access import Actor
from domain.services.claims import handling as claims
from domain.services.claims import types as ct
from domain.services.contracts.cases import (
    CancelRequest,
    CertificateRequest,
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
from domain.services.contracts.support import lock_version_of, product_of
from domain.services.payments.premiums import instalments_of
from domain.services.renewals.recalc import ensure_nightly
from domain.services.windows import filings
from domain.services.windows.types import HouseholdEventReport, VehicleAcquisitionReport
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
from domain.windows import HouseholdEvent, OldCarFate
from workers.config import TimerTuning
from workers.kinds.demo import schedule_pay, schedule_renew
from workers.simulate import run_due
from workers.timer_job import CTX_KEY, TimerRuntime, run_timer

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

# One story per contract, cycled so every product meets most stories (some stories need a product:
# the grace window is aioi's rider, an expiry without renewal is rakuten's or kyosai's).
_STORIES = ["QUOTED", "IN_FORCE", "IN_FORCE", "IN_FORCE", "IN_FORCE", "IN_FORCE", "IN_FORCE", "ENDORSED",
            "ENDORSED", "RENEWED", "RENEWED", "CANCELLED", "REINSTATED", "RESCINDED", "DELINQUENT", "GRACE",
            "LAPSED", "EXPIRED", "CERTIFIED", "SWAP_WINDOW", "DRIVER_WINDOW", "QUOTED"]
# Claims on in-force contracts, one status each (the last is held on a window or the premium).
_CLAIM_ENDS = [None, ClaimAction.REVIEW, ClaimAction.APPROVE, ClaimAction.DENY, ClaimAction.PAY,
               ClaimAction.CLOSE, ClaimAction.WITHDRAW]
# Contracts whose customers accept the next renewal (the rest let it expire, lapse or auto-renew).
_RENEWS = {"IN_FORCE", "ENDORSED", "RENEWED", "SWAP_WINDOW", "DRIVER_WINDOW"}

T = TypeVar("T")
Act = AsyncIterator[datetime]  # a story: yields the moment of its next act, then does it


def _at(d: date, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour, 0), tzinfo=JST)


@dataclass(frozen=True, slots=True)
class _Plan:
    product: str
    story: str
    start: date
    claim: int | None = None  # index into _CLAIM_ENDS


def _year_before(d: date) -> date:
    return add_months(d, -12)


def plan(k: int, rnd: random.Random, today: date) -> _Plan:
    """Contract k's story and start, relative to today (pure: the same book on every date)."""
    if k == 0:  # the README's contract: rakuten through AG-TOKYO-001, endorsed in its first term and
        # renewed; the earliest rakuten quote of the book, so AP-RK-100001 on a fresh database.
        return _Plan(RK, "ENDORSED", today - timedelta(days=470))
    product = [RK, RK, AI, TK, RK, AI, KY, RK, TK, AI][k % 10]
    story = _STORIES[(k + k // 10 * 3) % len(_STORIES)]

    def ago(a: int, b: int) -> date:  # a day between a and b days before today
        return today - timedelta(days=rnd.randrange(b, a + 1))

    starts = {
        "QUOTED": today + timedelta(days=rnd.randrange(10, 81)),
        "RENEWED": _year_before(ago(35, 0)),     # renewed 25 days before an expiry up to 25 days ahead
        "GRACE": _year_before(ago(25, 3)),       # expired 3-25 days ago, inside the 30-day window
        "LAPSED": _year_before(ago(120, 40)),    # the window closed unrenewed
        "EXPIRED": _year_before(ago(90, 5)),
        "CERTIFIED": ago(330, 140),
        "DELINQUENT": ago(250, 70),
        "RESCINDED": ago(330, 110),
        "CANCELLED": ago(330, 80),
        "REINSTATED": ago(300, 40),
        "ENDORSED": ago(330, 60),  # endorsed 45 days in
        "SWAP_WINDOW": ago(300, 40),
        "DRIVER_WINDOW": ago(300, 40),
    }
    start = starts.get(story, ago(330, 15))
    if story in ("GRACE", "LAPSED", "SWAP_WINDOW"):
        product = AI
    elif story == "EXPIRED" and product not in (RK, KY):
        product = RK
    elif story == "DRIVER_WINDOW":
        product = RK  # an age condition that leaves out a newly licensed child (aioi trucks have none)
    if product == KY and story in ("DELINQUENT",):
        product = RK
    if start < _first_tariff(product):  # e.g. the group product's rates start 2026-01 (004 L1582)
        product = RK
    claim = None
    if story in ("IN_FORCE", "ENDORSED") and product != KY and k % 3 == 1:
        claim = (k // 3) % len(_CLAIM_ENDS)
    if story == "GRACE" and k % 2:
        claim = 0  # an accident in the gap: held until the renewal or the lapse
    return _Plan(product, story, start, claim)


def _first_tariff(product_id: str) -> date:
    return min(t.effective_from for t in product_of(product_id).tariffs)


class _Book:
    """The acts of every story, in time order, with the timers due between them."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, today: date, now: datetime,
                 agencies: dict[str, int]) -> None:
        self.pool, self.today, self.now, self.agencies = pool, today, now, agencies
        self.clock = ManualClock(now - timedelta(days=600))  # before the first act
        self.ctx: dict[str, Any] = {CTX_KEY: TimerRuntime(pool=pool, clock=self.clock, settings=settings,
                                                          tuning=TimerTuning())}
        self.max_attempts = settings.timer_max_attempts
        self.counts: dict[str, int] = {}
        self.stories: dict[str, int] = {}
        self.first_policy: str | None = None
        self.other_insurer = 0

    async def run_until(self, at: datetime) -> None:
        await run_due(self.pool, self.clock, at, lambda tid: run_timer(self.ctx, tid), max_attempts=self.max_attempts)
        self.clock.set(max(self.clock.now(), at))

    async def call(self, fn: Callable[[UnitOfWork, Actor, Any, datetime], Awaitable[T]], actor: Actor,
                   req: Any, now: datetime) -> T:
        async with UnitOfWork(self.pool) as uow:
            return await fn(uow, actor, req, now)

    async def lock(self, contract_id: int) -> int:
        async with UnitOfWork(self.pool) as uow:
            return await lock_version_of(uow, contract_id)

    async def play(self, stories: list[Act]) -> None:
        queue: list[tuple[datetime, int, Act]] = []

        async def step(i: int, story: Act) -> None:
            try:
                heapq.heappush(queue, (await anext(story), i, story))
            except StopAsyncIteration:
                pass

        for i, story in enumerate(stories):
            await step(i, story)
        while queue:
            at, i, story = heapq.heappop(queue)
            await self.run_until(at)
            await step(i, story)
        await self.run_until(self.now)

    # ------------------------------------------------------------------ parties and cars

    @staticmethod
    def _name(k: int) -> tuple[str, str, str]:
        s = _SURNAMES[k % len(_SURNAMES)]
        g = _GIVEN[(k // len(_SURNAMES)) % len(_GIVEN)]
        return f"{s[0]} {g[0]}", f"{s[1]} {g[1]}", f"{g[2]} {s[2]}"

    async def _person(self, rnd: random.Random, actor: Actor, name: tuple[str, str, str], birth: date,
                      account: int | None, now: datetime, address: tuple[str, str] | None = None,
                      licensed: date | None = None) -> Party:
        age = age_on(birth, now.date())
        colour = LicenceColour.GREEN if age < 21 or licensed else rnd.choice(
            [LicenceColour.GOLD, LicenceColour.GOLD, LicenceColour.BLUE])
        licence = licensed or min(add_months(birth, 12 * 18 + rnd.randrange(0, 24)), now.date() - timedelta(days=30))
        postal, addr = address or (None, None)
        return await self.call(register_party, actor, RegisterParty(
            PartyKind.PERSON, name[0], name[1], name[2], birth, postal, addr, None, colour, licence,
            account_party_id=account), now)

    async def _vehicle(self, office: Actor, product: str, owner: int, k: int, now: datetime,
                       suffix: str = "") -> tuple[int, UseType]:
        choices = {
            RK: [UseType.PRIVATE_STANDARD_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER, UseType.PRIVATE_KEI_PASSENGER,
                 UseType.PRIVATE_KEI_TRUCK],
            AI: [UseType.COMMERCIAL_SMALL_TRUCK, UseType.COMMERCIAL_STANDARD_TRUCK, UseType.PRIVATE_SMALL_TRUCK,
                 UseType.PRIVATE_STANDARD_PASSENGER, UseType.COMMERCIAL_KEI_TRUCK],
            TK: [UseType.PRIVATE_STANDARD_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER, UseType.PRIVATE_KEI_PASSENGER],
            KY: [UseType.PRIVATE_KEI_PASSENGER, UseType.PRIVATE_SMALL_PASSENGER, UseType.PRIVATE_LARGE_TRUCK],
        }[product]
        use = choices[(k + k // 10) % len(choices)]
        top = 3 if use.is_kei else 17  # rakuten rates kei cars in classes 1-3 (001 L799-801)
        released = YearMonth(2014 + k % 11, 1 + k % 12)
        first = min(released.plus_months(k % 9), YearMonth.of(now.date()))
        classes = tuple((g, 1 + (k * n) % top) for n, g in enumerate(("BI", "PD", "INJURY", "VEHICLE"), start=3))
        plate = 1000 + k if not suffix else 5000 + k
        v = await self.call(register_vehicle, office, RegisterVehicle(
            use, f"品川 {300 + k % 200} あ {plate:04d}", f"DEMO{k:06d}{suffix}", f"DBA-M{k % 50:03d}", first, released,
            classes, aeb=k % 2 == 0, fuel=[Fuel.PETROL, Fuel.HYBRID, Fuel.EV, Fuel.DIESEL][k % 4],
            welfare=k % 23 == 0, value_yen=800_000 + (k % 30) * 100_000, owner_party_id=owner), now)
        return v.id, use

    async def _births(self, ids: list[int]) -> list[date]:
        rows = await self.pool.fetch("SELECT birth_date FROM parties WHERE id = any($1::bigint[])", ids)
        return [r["birth_date"] for r in rows if r["birth_date"] is not None]

    # ------------------------------------------------------------------ one contract's story

    async def story(self, k: int, p: _Plan, rnd: random.Random) -> Act:
        quote_at = _at(self.today - timedelta(days=rnd.randrange(0, 4))) if p.story == "QUOTED" \
            else _at(p.start - timedelta(days=rnd.randrange(3, 15)))
        yield quote_at
        now = quote_at
        channel = {RK: Channel.INTERNET if k % 4 == 0 and k else Channel.AGENT,
                   AI: Channel.GROUP if k % 5 == 0 else Channel.AGENT, TK: Channel.GROUP, KY: Channel.AGENT}[p.product]
        if p.story == "DELINQUENT" and channel is Channel.INTERNET:
            channel = Channel.AGENT  # monthly instalments are not sold on the internet channel
        agency = None
        if channel is Channel.AGENT:
            agency = self.agencies[MARKER_AGENCY if k % 3 or k == 0 else "AG-OSAKA-002"]
        elif channel is Channel.GROUP:
            agency = self.agencies["AG-HITACHI-GRP"]
        office = Actor(f"demo-agent-{agency}", Role.AGENT, agency_id=agency) if agency else SYSTEM_STAFF

        corporate = p.product == AI and k % 3 == 0 and p.story != "SWAP_WINDOW"
        city = _CITIES[k % len(_CITIES)]
        birth = date(1985, 5, 5) if k == 0 else date(rnd.randrange(1950, 2004), rnd.randrange(1, 13), rnd.randrange(1, 29))
        if p.story == "DRIVER_WINDOW":
            birth = date(rnd.randrange(1960, 1980), rnd.randrange(1, 13), rnd.randrange(1, 29))
        if corporate:
            holder = await self.call(register_party, office, RegisterParty(
                PartyKind.CORPORATION, f"株式会社{_SURNAMES[k % 10][0]}運輸", None, f"{_SURNAMES[k % 10][2]} Transport Co., Ltd.",
                postal_code=city[0], address_ja=city[1]), now)
            driver = await self._person(rnd, office, self._name(k + 7), date(1975 + k % 20, 4, 1), holder.id, now)
            drivers = [DriverInput(driver.id, Relationship.EMPLOYEE)]
        else:
            holder = await self._person(rnd, office, self._name(k) if k else ("山田 太郎", "ヤマダ タロウ", "Taro Yamada"),
                                        birth, None, now, city)
            drivers = [DriverInput(holder.id, Relationship.SELF)]
            if k % 4 == 1:
                spouse = await self._person(rnd, office, self._name(k + 3), birth + timedelta(days=700), holder.id, now)
                drivers.append(DriverInput(spouse.id, Relationship.SPOUSE))
            if k % 6 == 2 and birth.year < 1975 and p.story != "DRIVER_WINDOW":
                child = await self._person(rnd, office, self._name(k + 5), date(2002 + k % 5, 7, 7), holder.id, now)
                drivers.append(DriverInput(child.id, Relationship.COHABITING_RELATIVE))
        vehicle, use = await self._vehicle(office, p.product, holder.id, k, now)
        youngest = min(age_on(b, p.start) for b in await self._births([d.party_id for d in drivers] + [holder.id]))
        monthly = p.story == "DELINQUENT" or (channel is not Channel.INTERNET and k % 3 == 1)
        req = QuoteRequest(
            product_id=p.product, start_date=p.start, policyholder_id=holder.id, named_insured_id=holder.id,
            vehicle_id=vehicle, coverages=self._coverages(p.product, k, corporate), drivers=tuple(drivers),
            channel=channel, agency_id=agency if office.role is not Role.AGENT else None,
            riders=("VEHICLE_ACCIDENT", "PROPERTY_DAMAGE", "ROAD_SERVICE") if p.product == KY and k % 2 else (),
            age_condition=self._age_condition(p.product, youngest, use),
            driver_restriction=DriverRestriction.NONE,
            use_purpose=rnd.choice(list(UsePurpose)) if p.product in (RK, TK) else None,
            mileage_class=rnd.randrange(1, 9) if p.product == RK else None,
            payment_method=PaymentMethod.MONTHLY if monthly else PaymentMethod.ANNUAL,
            discounts=DiscountInput(multi_car_count=1 + k % 3 if not corporate else 1 + k % 7,
                                    member_rank=MemberRank.DIAMOND if channel is Channel.INTERNET and k % 8 == 0 else None),
            **self._grade(k, p, use.is_private_eight, corporate),
        )
        q = await self.call(create_quote, office, req, now)
        if k == 0:
            self.first_policy = q.policy_number
        self.counts[p.product] = self.counts.get(p.product, 0) + 1
        self.stories[p.story] = self.stories.get(p.story, 0) + 1
        if p.story == "QUOTED":
            return
        c = await self.call(issue_contract, office, IssueRequest(q.contract_id, q.lock_version), now)
        cid = c.contract_id
        async with UnitOfWork(self.pool) as uow:
            if p.story != "RESCINDED" or k % 2 == 0:  # the odd rescinded ones never pay: rescinded for it
                await schedule_pay(uow.conn, cid, _at(p.start, 9), await self._skipped(uow, cid, p))
            if p.story in _RENEWS and p.product != TK and k % 4 != 3:  # tokio renews itself unless declined
                await schedule_renew(uow.conn, cid, datetime.combine(add_months(p.start, 12), time(16), tzinfo=JST))
        end = add_months(p.start, 12)

        if p.story == "ENDORSED":
            eff = p.start + timedelta(days=45)
            yield _at(eff, 11)
            household = all(d.relationship in (Relationship.SELF, Relationship.SPOUSE) for d in drivers)
            if p.product in (RK, TK) and household:
                changes = EndorseChanges(driver_restriction=DriverRestriction.NAMED_INSURED_AND_SPOUSE)
            else:
                changes = self._option_change(p.product, k)
            await self.call(endorse_contract, office, EndorseRequest(cid, await self.lock(cid), eff, changes,
                                                                     reason="demo endorsement"), _at(eff, 11))
        elif p.story in ("CANCELLED", "REINSTATED", "CERTIFIED"):
            eff = {"CANCELLED": p.start + timedelta(days=30 + k % 40), "REINSTATED": self.today - timedelta(days=12),
                   "CERTIFIED": p.start + timedelta(days=120)}[p.story]
            yield _at(eff, 9)
            reason = "car scrapped" if p.story == "CERTIFIED" else "vehicle sold"
            await self.call(cancel_contract, office, CancelRequest(cid, await self.lock(cid), eff, reason), _at(eff, 9))
            if p.story == "REINSTATED":
                yield _at(self.today - timedelta(days=6))
                await self.call(reinstate_contract, SYSTEM_STAFF, ReinstateRequest(
                    cid, await self.lock(cid), "cancelled by mistake"), _at(self.today - timedelta(days=6)))
            elif p.story == "CERTIFIED" and c.grade is not None and c.grade.grade >= 7:
                yield _at(eff, 15)
                await self.call(issue_interruption_certificate, office, CertificateRequest(
                    cid, await self.lock(cid), InterruptionReason.SCRAPPED, eff), _at(eff, 15))
        elif p.story == "RESCINDED" and k % 2 == 0:
            eff = p.start + timedelta(days=75)
            yield _at(eff, 12)
            await self.call(rescind_contract, SYSTEM_STAFF, RescindRequest(
                cid, await self.lock(cid), RescissionReason.MISREPRESENTATION, eff), _at(eff, 12))
        elif p.story == "SWAP_WINDOW":
            acquired = self.today - timedelta(days=10)
            yield _at(self.today - timedelta(days=8))
            new_car, _ = await self._vehicle(office, p.product, holder.id, k, _at(acquired), suffix="N")
            await self.call(filings.report_vehicle_acquisition, office, VehicleAcquisitionReport(
                cid, new_car, acquired, vehicle, OldCarFate.SCRAPPED, Relationship.SELF), _at(self.today - timedelta(days=8)))
        elif p.story == "DRIVER_WINDOW":
            licensed = self.today - timedelta(days=6)
            yield _at(self.today - timedelta(days=4))
            when = _at(self.today - timedelta(days=4))
            child = await self._person(rnd, office, self._name(k + 5), add_months(licensed, -12 * 18 - 2), holder.id,
                                       when, licensed=licensed)
            await self.call(filings.report_household_event, office, HouseholdEventReport(
                cid, HouseholdEvent.NEWLY_LICENSED, licensed, child.id), when)
        if p.claim is not None:
            async for at in self._claim(k, p, cid, vehicle, drivers[0].party_id, end):
                yield at

    async def _skipped(self, uow: UnitOfWork, cid: int, p: _Plan) -> tuple[int, int] | None:
        """The missed debit of a DELINQUENT story: the last instalment due before today (its
        rescission deadline, the end of the next month, is still ahead)."""
        if p.story != "DELINQUENT":
            return None
        due = [i for i in (await instalments_of(uow.conn, [cid]))[cid] if i.due_on < self.today]
        last = max(due, key=lambda i: i.due_on)
        return (last.term_no, last.number)

    async def _claim(self, k: int, p: _Plan, cid: int, vehicle: int, driver: int, end: date) -> Act:
        """An accident and its handling up to the status the story wants, all before today."""
        if p.story == "GRACE":
            accident = end + timedelta(days=1)
        else:
            accident = max(p.start + timedelta(days=5), self.today - timedelta(days=40 + k % 20))
        target = _CLAIM_ENDS[p.claim or 0]
        reported = _at(accident + timedelta(days=1), 11)
        yield reported
        r = await self.call(claims.report_accident, SYSTEM_STAFF, ct.ReportAccident(
            cid, _at(accident, 8 + k % 10), _CITIES[k % len(_CITIES)][1], vehicle, "追突事故 (rear-end collision at a signal)",
            driver_party_id=driver, other_parties=(ct.OtherParty("相手方 (other driver)", fault_percent=100 - k % 3 * 20),),
            coverages_claimed=("PD",), amount_claimed_yen=150_000 + k * 1000), reported)
        path = {None: [], ClaimAction.REVIEW: [ClaimAction.REVIEW],
                ClaimAction.APPROVE: [ClaimAction.REVIEW, ClaimAction.APPROVE],
                ClaimAction.DENY: [ClaimAction.REVIEW, ClaimAction.DENY],
                ClaimAction.PAY: [ClaimAction.REVIEW, ClaimAction.APPROVE, ClaimAction.PAY],
                ClaimAction.CLOSE: [ClaimAction.REVIEW, ClaimAction.APPROVE, ClaimAction.PAY, ClaimAction.CLOSE],
                ClaimAction.WITHDRAW: [ClaimAction.WITHDRAW]}[target]
        for n, action in enumerate(path, start=1):
            at = _at(accident + timedelta(days=1 + 3 * n), 14)
            yield at
            if action is ClaimAction.PAY:
                await self.call(claims.record_claim_payment, SYSTEM_STAFF, ct.RecordPayment(
                    r.claim_id, "PD", amount_yen=120_000 + k * 1000, paid_on=at.date()), at)
            else:
                await self.call(claims.transition_claim, SYSTEM_STAFF, ct.TransitionClaim(
                    r.claim_id, action, "demo" if action is not ClaimAction.DENY else "damage predates the contract"), at)

    # ------------------------------------------------------------------ quote inputs

    @staticmethod
    def _age_condition(product: str, youngest: int, use: UseType) -> AgeCondition:
        # aioi: an age condition only for a private passenger car (002b L4626-4627)
        passenger = use.name.startswith("PRIVATE_") and use.name.endswith("_PASSENGER")
        if product == KY or youngest < 21 or (product == AI and not passenger):
            return AgeCondition.ANY
        if youngest < 26:
            return AgeCondition.AGE_21
        if youngest < 35 or product == AI:
            return AgeCondition.AGE_26
        return AgeCondition.AGE_35

    @staticmethod
    def _coverages(product: str, k: int, corporate: bool = False) -> tuple[CoverageInput, ...]:
        vehicle = (CoverageInput("VEHICLE"),) if k % 3 else ()
        if product == AI and corporate:  # a company must set a PD deductible (002a L2813-2814)
            pd = "UNLIMITED_DED_100000" if k % 2 else "UNLIMITED_DED_50000"
            return (CoverageInput("BI"), CoverageInput("PD", pd), CoverageInput("PI"), *vehicle)
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
        gap = k % 5
        return {"grade_origin": GradeOrigin.OTHER_INSURER,
                "previous_contract": PreviousContract(previous, period, p.start - timedelta(days=gap), accidents)}

    @staticmethod
    def _option_change(product: str, k: int) -> EndorseChanges:
        """A premium-changing endorsement each product offers."""
        if product == RK:
            return EndorseChanges(coverages=(CoverageChange("PASSENGER"),))
        if product == KY:
            if k % 2:  # the quote took all three riders
                return EndorseChanges(riders_remove=("ROAD_SERVICE",))
            return EndorseChanges(riders_add=("VEHICLE_ACCIDENT",))
        return EndorseChanges(coverages=(CoverageChange("PI", "UNLIMITED"),))


async def load_demo_data(pool: asyncpg.Pool, settings: Settings, now: datetime) -> str:
    """Load the book as of `now` (the business clock's), once."""
    loaded = await pool.fetchrow("SELECT as_of, summary FROM demo_book WHERE id")
    if loaded is not None:
        n = await pool.fetchval("SELECT count(*) FROM contracts")
        return f"demo data: already loaded as of {loaded['as_of']:%Y-%m-%d} ({n} contracts in the database)"
    if await pool.fetchval("SELECT 1 FROM agencies WHERE code = $1", MARKER_AGENCY):
        raise DemoBookIncomplete("demo data: an earlier load was interrupted; start from an empty database "
                                 "(make clean-data, or drop and recreate it)")
    today = now.astimezone(JST).date()
    rnd = random.Random(20260401)
    async with UnitOfWork(pool) as uow:
        agencies = {}
        for code, ja, en in ((MARKER_AGENCY, "東京中央保険代理店", "Tokyo Central Insurance Agency"),
                             ("AG-OSAKA-002", "大阪梅田保険サービス", "Osaka Umeda Insurance Services"),
                             ("AG-HITACHI-GRP", "日立保険サービス(団体扱)", "Hitachi Insurance Services (group)")):
            agencies[code] = (await create_agency(uow, code, ja, en)).id
    book = _Book(pool, settings, today, now, agencies)
    async with pool.acquire() as conn:
        await ensure_nightly(conn, now - timedelta(days=2))  # offers for the renewals now due
    plans = [plan(k, rnd, today) for k in range(CONTRACTS)]
    await book.play([book.story(k, p, random.Random(k)) for k, p in enumerate(plans)])
    by_product = ", ".join(f"{pid} {n}" for pid, n in sorted(book.counts.items()))
    summary = (f"demo data: {sum(book.counts.values())} contracts ({by_product}) as of {today:%Y-%m-%d}; agency "
               f"{MARKER_AGENCY}, policyholder 山田 太郎 (Taro Yamada), contract {book.first_policy}")
    await pool.execute("INSERT INTO demo_book (id, as_of, loaded_at, summary) VALUES (true, $1, $2, $3)",
                       today, now, summary)
    return summary


class DemoBookIncomplete(RuntimeError):
    """The marker agency exists without the demo_book row: a load stopped half-way."""
