"""Contracts, their versions, vehicles, drivers and parties as GraphQL types (the general path).

Objects wrap the frozen dataclasses the read service loaded for the whole request; fields are plain
synchronous lookups, so resolving a page costs no await per row. The few fields that need more data
(`versions`, `events`) batch over every contract of the request through a DataLoader: one statement
for all of them. Queries that only touch compilable fields skip this path entirely and are answered
by one SQL statement (api/compiled.py); both paths must give the same JSON (tests/api).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.scalars import JSON
from strawberry.types import Info

from api.agencies.types import Agency
from api.claims.assistance_types import AssistanceRequest
from api.claims.types import Claim
from api.context import Context
from api.node import Node, to_global_id
from api.notifications.types import Notification
from api.pages import PageInfo
from api.payments.types import TermPayments, payments_of
from api.products.pricing import Grade, Premium
from api.products.types import Label, Product
from api.renewals.types import RenewalOffer
from api.windows.types import Window
from domain import lifecycle
from domain.calendar import age_on
from domain.products import default_catalog
from domain.refunds import RefundMethod
from domain.runtime.clock import as_jst
from domain.services.agencies import cases as agency_services
from domain.services.claims import assistance
from domain.services.claims import reads as claims_reads
from domain.services.claims.reads import ClaimDetail
from domain.services.contracts import reads as contract_reads
from domain.services.notifications import subscriptions as notification_services
from domain.services.renewals.offers import offers_of
from domain.services.windows import filings as window_services
from domain.store import outbox
from domain.store.contract_read_repo import ContractDetail
from domain.store.contract_repo import Term as DomainTerm
from domain.store.party_repo import Agency as DomainAgency
from domain.store.party_repo import Party as DomainParty
from domain.store.party_repo import Vehicle as DomainVehicle
from domain.store.version_repo import ContractVersion as DomainVersion
from domain.store.version_repo import DriverEntry
from domain.store.window_repo import StoredWindow
from domain.vocab import Labelled


def lab(member: Labelled | None) -> Label | None:
    return None if member is None else Label.of(member)


def _year_month(d: dt.date | None) -> str | None:
    return None if d is None else f"{d.year:04d}-{d.month:02d}"


# --- parties, agencies, vehicles ------------------------------------------------------------------


@strawberry.type(description="A person or corporation: policyholder, named insured, owner or driver.")
class Party(Node):
    model: strawberry.Private[DomainParty]

    @classmethod
    def of(cls, p: DomainParty) -> Party:
        return cls(id=to_global_id("Party", p.id), model=p)

    @strawberry.field
    def database_id(self) -> int:
        return self.model.id

    @strawberry.field
    def kind(self) -> Label:
        return Label.of(self.model.kind)

    @strawberry.field(description="Name in kanji (漢字氏名).")
    def name_kanji(self) -> str:
        return self.model.name_kanji

    @strawberry.field(description="Name in kana (フリガナ).")
    def name_kana(self) -> str | None:
        return self.model.name_kana

    @strawberry.field
    def name_en(self) -> str | None:
        return self.model.name_en

    @strawberry.field
    def birth_date(self) -> dt.date | None:
        return self.model.birth_date

    @strawberry.field
    def postal_code(self) -> str | None:
        return self.model.postal_code

    @strawberry.field
    def address_ja(self) -> str | None:
        return self.model.address_ja

    @strawberry.field
    def address_en(self) -> str | None:
        return self.model.address_en

    @strawberry.field(description="Licence colour on record (gold/blue/green).")
    def licence_colour(self) -> Label | None:
        return lab(self.model.licence_colour)

    @strawberry.field
    def licence_date(self) -> dt.date | None:
        return self.model.licence_date


@strawberry.type(description="A rating class per coverage group (型式別料率クラス).")
class RatingClass:
    group: str
    rating_class: int = strawberry.field(name="class")


@strawberry.type(description="A vehicle (registered car).")
class Vehicle(Node):
    model: strawberry.Private[DomainVehicle]

    @classmethod
    def of(cls, v: DomainVehicle) -> Vehicle:
        return cls(id=to_global_id("Vehicle", v.id), model=v)

    @strawberry.field
    def database_id(self) -> int:
        return self.model.id

    @strawberry.field(description="Use type (用途車種).")
    def use_type(self) -> Label:
        return Label.of(self.model.use_type)

    @strawberry.field(description="Registration number (登録番号).")
    def registration_no(self) -> str | None:
        return self.model.registration_no

    @strawberry.field(description="Chassis number (車台番号).")
    def chassis_no(self) -> str | None:
        return self.model.chassis_no

    @strawberry.field(description="Model code (型式).")
    def model_code(self) -> str | None:
        return self.model.model_code

    @strawberry.field(description="First registration year-month (初度登録年月), YYYY-MM.")
    def first_registration(self) -> str | None:
        return _year_month(self.model.first_registration)

    @strawberry.field(description="Model release year-month (型式発売年月), YYYY-MM.")
    def model_release(self) -> str | None:
        return _year_month(self.model.model_release)

    @strawberry.field(description="Rating classes per coverage group, by group code.")
    def rating_classes(self) -> list[RatingClass]:
        return [RatingClass(group=g, rating_class=c) for g, c in sorted(self.model.rating_classes.items())]

    @strawberry.field(description="Automatic emergency braking fitted (ASV/AEB).")
    def aeb(self) -> bool:
        return self.model.aeb

    @strawberry.field
    def fuel(self) -> Label | None:
        return lab(self.model.fuel)

    @strawberry.field(description="Welfare vehicle (福祉車両).")
    def welfare(self) -> bool:
        return self.model.welfare

    @strawberry.field(description="Vehicle value in yen (basis of the vehicle sum insured).")
    def value_yen(self) -> int | None:
        return self.model.value_yen


# --- terms, grade, premium --------------------------------------------------------------------------


@strawberry.type(description="One insurance period (保険期間); cover runs 16:00 JST to 16:00 JST.")
class Term:
    model: strawberry.Private[DomainTerm]

    @strawberry.field
    def term_no(self) -> int:
        return self.model.term_no

    @strawberry.field
    def starts_at(self) -> dt.datetime:
        return self.model.starts_at

    @strawberry.field
    def ends_at(self) -> dt.datetime:
        return self.model.ends_at

    @strawberry.field
    def status(self) -> Label:
        return Label.of(self.model.status)


@strawberry.type(description="A coverage as chosen on a version (code, limit option) and its priced amount.")
class ChosenCoverage:
    code: str
    option: str | None
    amount_yen: int


# --- versions and drivers ---------------------------------------------------------------------------


@strawberry.type(description="A person allowed to drive under a version, with their relationship to the named insured.")
class Driver:
    entry: strawberry.Private[DriverEntry]
    person: strawberry.Private[DomainParty]
    as_of: strawberry.Private[dt.datetime]

    @strawberry.field
    def party(self) -> Party:
        return Party.of(self.person)

    @strawberry.field
    def relationship(self) -> Label:
        return Label.of(self.entry.relationship)

    @strawberry.field
    def licence_colour(self) -> Label:
        return Label.of(self.entry.licence_colour)

    @strawberry.field
    def licence_date(self) -> dt.date | None:
        return self.entry.licence_date

    @strawberry.field(description="Age at the read's asOf date; null when the birth date is unknown.")
    def age(self) -> int | None:
        b, on = self.person.birth_date, as_jst(self.as_of).date()
        return None if b is None or b > on else age_on(b, on)


@strawberry.type(description="An effective-dated snapshot of what is insured (append-only; bitemporal).")
class ContractVersion:
    model: strawberry.Private[DomainVersion]
    vehicle_model: strawberry.Private[DomainVehicle | None]
    named_insured_model: strawberry.Private[DomainParty | None]
    driver_models: strawberry.Private[tuple[tuple[DriverEntry, DomainParty], ...]]
    as_of: strawberry.Private[dt.datetime]

    @strawberry.field
    def database_id(self) -> int:
        return self.model.id

    @strawberry.field(description="In force from (inclusive).")
    def valid_from(self) -> dt.datetime:
        return self.model.valid_from

    @strawberry.field(description="In force until (exclusive); null = open-ended.")
    def valid_to(self) -> dt.datetime | None:
        return self.model.valid_to

    @strawberry.field(description="When this snapshot was recorded.")
    def recorded_at(self) -> dt.datetime:
        return self.model.recorded_at

    @strawberry.field(description="When it was replaced by a later recording; null = current.")
    def superseded_at(self) -> dt.datetime | None:
        return self.model.superseded_at

    @strawberry.field
    def age_condition(self) -> Label:
        return Label.of(self.model.data.age_condition)

    @strawberry.field
    def driver_restriction(self) -> Label:
        return Label.of(self.model.data.driver_restriction)

    @strawberry.field(description="Premium of this version for the whole term, in yen.")
    def premium_yen(self) -> int:
        return self.model.data.premium_yen

    @strawberry.field
    def grade(self) -> Grade:
        return Grade(model=self.model.data.grade)

    @strawberry.field
    def vehicle(self) -> Vehicle | None:
        return None if self.vehicle_model is None else Vehicle.of(self.vehicle_model)

    @strawberry.field
    def named_insured(self) -> Party | None:
        return None if self.named_insured_model is None else Party.of(self.named_insured_model)

    @strawberry.field
    def drivers(self) -> list[Driver]:
        return [Driver(entry=e, person=p, as_of=self.as_of) for e, p in self.driver_models]

    @strawberry.field
    def coverages(self) -> list[ChosenCoverage]:
        return [ChosenCoverage(code=c["code"], option=c.get("option"), amount_yen=c.get("amountYen", 0))
                for c in self.model.data.coverages or []]

    @strawberry.field
    def discounts(self) -> list[str]:
        return [str(d) for d in self.model.data.discounts or []]

    @strawberry.field(description="The premium of this version with its explanation.")
    def premium(self) -> Premium | None:
        return Premium.from_json(self.model.data.premium, self.model.data.explanation)


# --- events -----------------------------------------------------------------------------------------


@strawberry.type(description="An entry of the contract's ordered event log (outbox).")
class ContractEvent:
    model: strawberry.Private[outbox.Event]

    @strawberry.field(description="1, 2, 3, ... per contract, without gaps.")
    def seq(self) -> int:
        return self.model.seq

    @strawberry.field
    def kind(self) -> str:
        return self.model.kind

    @strawberry.field
    def at(self) -> dt.datetime:
        return self.model.at

    @strawberry.field
    def payload(self) -> JSON:
        return JSON(dict(self.model.payload))


# --- the contract -----------------------------------------------------------------------------------


def _version_view(d: ContractDetail, v: DomainVersion | None, as_of: dt.datetime) -> ContractVersion | None:
    if v is None:
        return None
    drivers = tuple((x.entry, x.party) for x in d.drivers)
    return ContractVersion(model=v, vehicle_model=d.vehicle, named_insured_model=d.named_insured,
                           driver_models=drivers, as_of=as_of)


def _loader(info: Info[Context, None], name: str, make: Any) -> DataLoader[Any, Any]:
    loaders = info.context.loaders
    if name not in loaders:
        loaders[name] = make()
    return loaders[name]  # type: ignore[no-any-return]


@strawberry.type(description="An insurance contract (契約): a chain of terms and effective-dated versions.")
class Contract(Node):
    detail: strawberry.Private[ContractDetail]
    read_as_of: strawberry.Private[dt.datetime]

    @classmethod
    def of(cls, d: ContractDetail, as_of: dt.datetime) -> Contract:
        return cls(id=to_global_id("Contract", d.contract.id), detail=d, read_as_of=as_of)

    @strawberry.field
    def database_id(self) -> int:
        return self.detail.contract.id

    @strawberry.field
    def policy_number(self) -> str:
        return self.detail.contract.policy_number

    @strawberry.field
    def product_id(self) -> str:
        return self.detail.contract.product_id

    @strawberry.field
    def product(self) -> Product | None:
        p = default_catalog().get(self.detail.contract.product_id)
        return None if p is None else Product(model=p)

    @strawberry.field
    def channel(self) -> Label:
        return Label.of(self.detail.contract.channel)

    @strawberry.field(description="The status set (a contract can be IN_FORCE and CANCEL_PENDING at once).")
    def statuses(self) -> list[Label]:
        order = {s: i for i, s in enumerate(type(next(iter(self.detail.contract.statuses))))} \
            if self.detail.contract.statuses else {}
        return [Label.of(s) for s in sorted(self.detail.contract.statuses, key=order.__getitem__)]

    @strawberry.field(description="Optimistic-concurrency token: pass it as `expectedVersion` to change the contract.")
    def lock_version(self) -> int:
        return self.detail.contract.lock_version

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.detail.contract.created_at

    @strawberry.field(description="The moment this read answers for.")
    def as_of(self) -> dt.datetime:
        return self.read_as_of

    @strawberry.field
    def policyholder(self) -> Party:
        return Party.of(self.detail.policyholder)

    @strawberry.field(description="The agency that sold and services the contract; null for direct business.")
    async def agency(self, info: Info[Context, None]) -> Agency | None:
        agency_id = self.detail.contract.agency_id
        if agency_id is None:
            return None

        async def load(ids: list[int]) -> list[DomainAgency | None]:
            found = await agency_services.agencies_visible(info.context.pool, info.context.actor, ids)
            return [found.get(i) for i in ids]

        loader = _loader(info, "agencies", lambda: DataLoader(load_fn=load))
        a = await loader.load(agency_id)
        return None if a is None else Agency.of(a)

    @strawberry.field
    def terms(self) -> list[Term]:
        return [Term(model=t) for t in self.detail.terms]

    @strawberry.field(description="The term containing asOf; the first term when asOf is before cover starts.")
    def current_term(self) -> Term | None:
        terms = self.detail.terms
        for t in terms:
            if t.starts_at <= self.read_as_of < t.ends_at:
                return Term(model=t)
        before = [t for t in terms if t.starts_at > self.read_as_of]
        return Term(model=before[0]) if before else None

    @strawberry.field(description="The version in force at asOf (or the first to come when cover has not started).")
    def version(self) -> ContractVersion | None:
        return _version_view(self.detail, self.detail.version, self.read_as_of)

    @strawberry.field(description="The contract's latest grade record.")
    def grade(self) -> Grade | None:
        return None if self.detail.grade is None else Grade(model=self.detail.grade)

    @strawberry.field(description="The premium of the version in force at asOf, with its explanation.")
    def premium(self) -> Premium | None:
        v = self.detail.version
        return None if v is None else Premium.from_json(v.data.premium, v.data.explanation)

    @strawberry.field(description="What the caller may do with this contract now.")
    def available_actions(self, info: Info[Context, None]) -> list[Label]:
        actor = info.context.actor
        if actor is None:
            return []
        c = self.detail.contract
        actions = lifecycle.available(c.statuses, actor.role)
        if actor.role is lifecycle.Role.POLICYHOLDER and c.channel.value != "INTERNET":
            # agency and group business is issued by the agent, not by the customer online
            actions = [a for a in actions if a is not lifecycle.Action.ISSUE]
        return [Label.of(a) for a in actions]

    @strawberry.field(description="Premium payment of the term at asOf (the next one before cover starts, the "
                                  "last one after it ended): instalments and standing; null when none is stored.")
    async def payments(self, info: Info[Context, None]) -> TermPayments | None:
        return await payments_of(info, self.detail, self.read_as_of)

    @strawberry.field(description="Refund method the product applies on cancellation.")
    def refund_method(self) -> Label | None:
        p = default_catalog().get(self.detail.contract.product_id)
        return None if p is None else Label.of(RefundMethod(p.refund_method.value))

    @strawberry.field(description="Every version: current ones in valid-time order; with includeSuperseded, the full history.")
    async def versions(self, info: Info[Context, None], include_superseded: bool = False) -> list[ContractVersion]:
        pool = info.context.pool

        async def load(keys: list[tuple[int, bool]]) -> list[list[ContractVersion]]:
            wanted = list({k[0] for k in keys})
            full = await contract_reads.version_history(pool, wanted, include_superseded=True)
            # vehicles and people of every version of the batch: two statements, not one per version
            vehicle_ids = {v.data.vehicle_id for vs in full.values() for v in vs}
            party_ids = {p for vs in full.values() for v in vs
                         for p in (v.data.named_insured_id, *(d.party_id for d in v.data.drivers))}
            parties, vehicles = await contract_reads.parties_and_vehicles(pool, party_ids, vehicle_ids)

            def view(v: DomainVersion) -> ContractVersion:
                return ContractVersion(
                    model=v, vehicle_model=vehicles.get(v.data.vehicle_id),
                    named_insured_model=parties.get(v.data.named_insured_id),
                    driver_models=tuple((d, parties[d.party_id]) for d in v.data.drivers),
                    as_of=self.read_as_of)

            return [[view(v) for v in full.get(cid, []) if with_old or v.superseded_at is None]
                    for cid, with_old in keys]

        loader = _loader(info, "versions", lambda: DataLoader(load_fn=load))
        return await loader.load((self.detail.contract.id, include_superseded))  # type: ignore[no-any-return]

    @strawberry.field(description="The contract's provisional-cover windows (SPEC §4.6), oldest first.")
    async def windows(self, info: Info[Context, None]) -> list[Window]:
        pool = info.context.pool

        async def load(ids: list[int]) -> list[list[StoredWindow]]:
            got = await window_services.windows_of_contracts(pool, list(ids))
            return [got.get(i, []) for i in ids]

        loader = _loader(info, "windows", lambda: DataLoader(load_fn=load))
        return [Window.of(w) for w in await loader.load(self.detail.contract.id)]

    @strawberry.field(description="The contract's claims, oldest first (general path only).")
    async def claims(self, info: Info[Context, None]) -> list[Claim]:
        ctx = info.context
        actor = ctx.actor
        if actor is None:
            return []

        async def load(ids: list[int]) -> list[list[ClaimDetail]]:
            got = await claims_reads.claims_of_contracts(ctx.pool, actor, ids)
            return [got.get(i, []) for i in ids]

        loader = _loader(info, "claims", lambda: DataLoader(load_fn=load))
        return [Claim.of(d, actor) for d in await loader.load(self.detail.contract.id)]

    @strawberry.field(description="The live renewal offer of the latest term (null before it is due).")
    async def renewal_offer(self, info: Info[Context, None]) -> RenewalOffer | None:
        pool = info.context.pool

        async def load(ids: list[int]) -> list[Any]:
            got = await offers_of(pool, ids)
            return [got.get(i) for i in ids]

        loader = _loader(info, "renewalOffers", lambda: DataLoader(load_fn=load))
        found = await loader.load(self.detail.contract.id)
        return None if found is None else RenewalOffer(model=found)

    @strawberry.field(description="The last events of the contract (oldest first), at most 100.")
    async def events(self, info: Info[Context, None], last: int = 20) -> list[ContractEvent]:
        pool = info.context.pool
        last = max(1, min(last, 100))

        async def load(keys: list[tuple[int, int]]) -> list[list[outbox.Event]]:
            n = max(k[1] for k in keys)
            got = await contract_reads.events_of(pool, list({k[0] for k in keys}), last=n)
            return [got.get(k[0], [])[-k[1]:] for k in keys]

        loader = _loader(info, "events", lambda: DataLoader(load_fn=load))
        return [ContractEvent(model=e) for e in await loader.load((self.detail.contract.id, last))]

    @strawberry.field(description="Reminders and deadlines told (renewal reminders days 0/7/23, window deadlines), oldest first.")
    async def notifications(self, info: Info[Context, None], last: int = 20) -> list[Notification]:
        pool = info.context.pool
        last = max(1, min(last, 100))
        actor = info.context.actor
        internal = actor is not None and actor.sees_everything

        async def load(keys: list[tuple[int, int]]) -> list[list[Notification]]:
            got = await notification_services.notifications_of(pool, list({k[0] for k in keys}),
                                                              last=max(k[1] for k in keys))
            return [[Notification.of(n, internal=internal) for n in got.get(k[0], [])[-k[1]:]] for k in keys]

        loader = _loader(info, "notifications", lambda: DataLoader(load_fn=load))
        return await loader.load((self.detail.contract.id, last))  # type: ignore[no-any-return]

    @strawberry.field(description="Road-assistance and accident-site attendance requests (accepted), oldest first.")
    async def assistance_requests(self, info: Info[Context, None]) -> list[AssistanceRequest]:
        pool = info.context.pool

        async def load(ids: list[int]) -> list[list[AssistanceRequest]]:
            got = await assistance.assistance_requests_of(pool, ids)
            return [[AssistanceRequest(model=a) for a in got.get(i, [])] for i in ids]

        loader = _loader(info, "assistance_requests", lambda: DataLoader(load_fn=load))
        return await loader.load(self.detail.contract.id)  # type: ignore[no-any-return]


@strawberry.type
class ContractEdge:
    cursor: str
    node: Contract


@strawberry.type(description="A page of contracts (keyset pagination, at most 100 per page).")
class ContractConnection:
    edges: list[ContractEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Contract]:
        return [e.node for e in self.edges]


__all__ = [
    "Agency",
    "ChosenCoverage",
    "Contract",
    "ContractConnection",
    "ContractEdge",
    "ContractEvent",
    "ContractVersion",
    "Driver",
    "PageInfo",
    "Party",
    "RatingClass",
    "Term",
    "Vehicle",
]
