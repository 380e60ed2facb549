"""The public product catalog as GraphQL types: read-only views of `domain.products` dataclasses.

Every closed-set value (kind, use type, rider mode, window kind, refund method) is a `Label`
`{code ja en}`, so clients show Japanese or English without a lookup table of their own.
"""

from __future__ import annotations

import datetime
from typing import TypeVar

import strawberry

from domain.calendar import RuleError
from domain.connected_plan import monthly_driving_premium
from domain.products import Product as DomainProduct
from domain.products import Tariff as DomainTariff
from domain.products.model import ConnectedPlan as DomainConnectedPlan
from domain.products.model import Coverage as DomainCoverage
from domain.products.model import Rider as DomainRider
from domain.products.model import Window as DomainWindow
from domain.products.payout import Cap as DomainCap
from domain.products.payout import PayoutRule as DomainPayoutRule
from domain.vocab import Labelled


@strawberry.type(description="A machine code with its Japanese and English labels.")
class Label:
    code: str = strawberry.field(description="Stable code (what inputs take and the database stores).")
    ja: str
    en: str

    @classmethod
    def of(cls, member: Labelled) -> Label:
        return cls(code=member.value, ja=member.ja, en=member.en)


@strawberry.type(description="A coverage a product offers.")
class ProductCoverage:
    code: str
    ja: str
    en: str
    mandatory: bool
    limit_options: list[Label] = strawberry.field(description="Limit or deductible choices.")
    default_option: str = strawberry.field(description="Code of the option used when none is chosen.")
    source: str = strawberry.field(description="Pamphlet line reference.")
    payout: PayoutRuleInfo | None = strawberry.field(description="A pay-out rule of the coverage (caps by cause, "
                                                                 "tiers); null: its limits only.")

    @classmethod
    def of(cls, c: DomainCoverage) -> ProductCoverage:
        return cls(code=c.code, ja=c.ja, en=c.en, mandatory=c.mandatory,
                   limit_options=[Label(code=o.code, ja=o.ja, en=o.en) for o in c.options],
                   default_option=c.default_option, source=c.source, payout=PayoutRuleInfo.of(c.payout))


@strawberry.type(description="A cap of a pay-out rule (docs/rider_rules.md).")
class PayoutRuleCap:
    basis: Label
    amount_yen: int | None = strawberry.field(description="Null: a multiple of the sum insured.")
    sum_insured_times: str | None
    conditional: bool = strawberry.field(description="True: applies only when the rule's conditions on it hold.")
    label: str
    source: str
    plus_yen: int = strawberry.field(default=0, description="Added to the sum-insured or per-day cap (SI + ¥1,000,000).")
    per_day_yen: int | None = strawberry.field(default=None, description="Yen × the days stated (+ plusYen).")
    of_fact: str | None = strawberry.field(default=None, description="A cap at a stated yen fact × factTimes.")
    fact_times: str | None = None
    parts: list[str] = strawberry.field(default_factory=list,
                                        description="A rule-level cap on these parts only (empty: all).")


@strawberry.type(description="A part of a pay-out rule: how one amount is computed.")
class PayoutRulePart:
    code: str
    ja: str
    en: str
    kind: Label
    amount_yen: int | None = strawberry.field(description="FIXED: yen per count; PER_DAY: yen a day.")
    max_days: int | None
    deductible_yen: int
    caps: list[PayoutRuleCap]
    source: str
    minimum_yen: int | None = strawberry.field(default=None, description="At least this much (before the caps).")
    percent: str | None = strawberry.field(default=None, description="A fraction of the sum insured or the cost.")


@strawberry.type(description="What a rider or coverage pays for a stated loss, as its product file says "
                             "(evaluated by riderAssessment).")
class PayoutRuleInfo:
    source: str
    pick: Label
    times_per_year: int | None
    demonstration: str = strawberry.field(description="Non-empty: which amounts are not the pamphlet's, and why.")
    note: str
    parts: list[PayoutRulePart]
    caps: list[PayoutRuleCap]

    @classmethod
    def of(cls, r: DomainPayoutRule | None) -> PayoutRuleInfo | None:
        if r is None:
            return None

        def caps(cs: tuple[DomainCap, ...]) -> list[PayoutRuleCap]:
            return [PayoutRuleCap(basis=Label.of(c.basis), amount_yen=c.amount,
                              sum_insured_times=None if c.sum_insured_times is None else str(c.sum_insured_times),
                              conditional=bool(c.when), label=c.label, source=c.source, plus_yen=c.plus,
                              per_day_yen=c.per_day, of_fact=None if c.of_fact is None else c.of_fact.value,
                              fact_times=None if c.of_fact is None else str(c.fact_times), parts=list(c.parts))
                    for c in cs]

        return cls(source=r.source, pick=Label.of(r.pick), times_per_year=r.times_per_year,
                   demonstration=r.demonstration, note=r.note, caps=caps(r.caps),
                   parts=[PayoutRulePart(code=p.code, ja=p.ja, en=p.en, kind=Label.of(p.kind), amount_yen=p.amount,
                                     max_days=p.max_days, deductible_yen=p.deductible, caps=caps(p.caps),
                                     source=p.source, minimum_yen=p.minimum,
                                     percent=None if p.percent is None else str(p.percent)) for p in r.parts])


@strawberry.type(description="A rider (特約) a product offers.")
class ProductRider:
    code: str
    ja: str
    en: str
    mode: Label
    requires: list[str] = strawberry.field(description="Coverage or rider codes that must all be present.")
    requires_any: list[str] = strawberry.field(description="At least one of these coverage or rider codes.")
    excludes: list[str] = strawberry.field(description="Rider codes that may not be present together.")
    source: str = strawberry.field(description="Pamphlet line reference.")
    mode_note: str = strawberry.field(description="Why automatic / optional, when the pamphlet does not say.")
    payout: PayoutRuleInfo | None = strawberry.field(description="Null: the rider pays nothing of its own.")

    @classmethod
    def of(cls, r: DomainRider) -> ProductRider:
        return cls(code=r.code, ja=r.ja, en=r.en, mode=Label.of(r.mode), requires=list(r.requires),
                   requires_any=list(r.requires_any), excludes=list(r.excludes), source=r.source,
                   mode_note=r.mode_note, payout=PayoutRuleInfo.of(r.payout))


@strawberry.type(description="A grace window the product grants (e.g. 30 days to report a change).")
class ProductWindow:
    kind: Label
    days: int
    automatic: bool
    source: str = strawberry.field(description="Pamphlet line reference.")
    liability_set: list[str] = strawberry.field(description="Coverage and rider codes a late filing still pays.")

    @classmethod
    def of(cls, w: DomainWindow) -> ProductWindow:
        return cls(kind=Label.of(w.kind), days=w.days, automatic=w.automatic, source=w.source,
                   liability_set=list(w.liability_set))


@strawberry.type(description="A dated tariff version. Demonstration tariffs are not the insurer's prices.")
class Tariff:
    version: str
    effective_from: datetime.date
    effective_to: datetime.date | None = strawberry.field(description="Last day in force (inclusive); null = open.")
    demonstration: bool
    note: str

    @classmethod
    def of(cls, t: DomainTariff) -> Tariff:
        return cls(version=t.version, effective_from=t.effective_from, effective_to=t.effective_to,
                   demonstration=t.demonstration, note=t.note)


@strawberry.type(description="One month's driving premium of the connected-car plan (aioi つながるプラン).")
class DrivingPremium:
    km_driven: int
    km_charged: int = strawberry.field(description="After the annual km cap (002 L1624-1628).")
    gross_yen: int = strawberry.field(description="km charged × the unit rate, rounded down.")
    discount: str = strawberry.field(description="The month's safety-score discount (0.80 = 80%, 002 L1840-1850).")
    amount_yen: int
    explanation: list[str]


@strawberry.type(description="The connected-car plan: base premium + monthly driving premium (002 L1685-1696).")
class ConnectedPlanInfo:
    model: strawberry.Private[DomainConnectedPlan]

    @strawberry.field(description="Yen per km; the pamphlet does not print it (see demonstration).")
    def unit_rate_yen_per_km(self) -> str:
        return str(self.model.unit_rate_yen_per_km)

    @strawberry.field(description="True: the unit rate is a DEMONSTRATION value.")
    def demonstration(self) -> bool:
        return self.model.unit_rate_demonstration

    @strawberry.field(description="No driving premium above this many km a policy year.")
    def annual_km_cap(self) -> int:
        return self.model.annual_km_cap

    @strawberry.field
    def source(self) -> str:
        return self.model.source

    @strawberry.field(description="The driving premium of one month: km driven, the month's safety score, and the km "
                                  "already driven earlier in the policy year.")
    def driving_premium(self, km: int, score: int, km_before_in_year: int = 0) -> DrivingPremium | None:
        """Null for a negative km or a score outside 0..100."""
        try:
            d = monthly_driving_premium(self.model, km=km, score=score, km_before_in_year=km_before_in_year)
        except RuleError:
            return None
        return DrivingPremium(km_driven=d.km_driven, km_charged=d.km_charged, gross_yen=d.gross_yen,
                              discount=str(d.discount), amount_yen=d.amount_yen, explanation=list(d.explanation))


@strawberry.type(description="An insurance product of the catalog (public, no login needed).")
class Product:
    # kept so field resolvers can answer from the frozen model without reloading the catalog
    model: strawberry.Private[DomainProduct]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.model.id)

    @strawberry.field(description="Product name in Japanese.")
    def ja(self) -> str:
        return self.model.ja

    @strawberry.field(description="Product name in English.")
    def en(self) -> str:
        return self.model.en

    @strawberry.field
    def insurer_ja(self) -> str:
        return self.model.insurer_ja

    @strawberry.field
    def insurer_en(self) -> str:
        return self.model.insurer_en

    @strawberry.field
    def kind(self) -> Label:
        return Label.of(self.model.kind)

    @strawberry.field(description="Vehicle use types (用途車種) the product insures.")
    def use_types(self) -> list[Label]:
        return [Label.of(u) for u in _sorted_labels(self.model.use_types)]

    @strawberry.field
    def coverages(self) -> list[ProductCoverage]:
        return [ProductCoverage.of(c) for c in self.model.coverages]

    @strawberry.field
    def riders(self) -> list[ProductRider]:
        return [ProductRider.of(r) for r in self.model.riders]

    @strawberry.field
    def windows(self) -> list[ProductWindow]:
        return [ProductWindow.of(w) for w in self.model.windows]

    @strawberry.field(description="aioi つながるプラン's driving premium; null for other products.")
    def connected_plan(self) -> ConnectedPlanInfo | None:
        plan = self.model.connected_plan
        return None if plan is None else ConnectedPlanInfo(model=plan)

    @strawberry.field(description="How a mid-term cancellation refund is computed.")
    def refund_method(self) -> Label:
        return Label.of(self.model.refund_method)

    @strawberry.field(description="Every tariff version, oldest first.")
    def tariffs(self) -> list[Tariff]:
        return [Tariff.of(t) for t in sorted(self.model.tariffs, key=lambda t: t.effective_from)]

    @strawberry.field(description="The tariff version in force on a date; null when none is.")
    def tariff_on(self, date: datetime.date) -> Tariff | None:
        t = self.model.tariff_on(date)
        return None if t is None else Tariff.of(t)


L = TypeVar("L", bound=Labelled)


def _sorted_labels(members: frozenset[L]) -> list[L]:
    # frozensets have no order; follow the enum's declaration order so answers are stable
    order = {m: i for i, m in enumerate(type(next(iter(members))))} if members else {}
    return sorted(members, key=order.__getitem__)
