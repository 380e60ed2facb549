"""Prices and grades as GraphQL types: a premium with its lines and explanation, a grade.

Shared by every part that shows a price (contracts, renewal offers, the claim advisor), so it sits
with the products and their tariffs, below the parts that use it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from api.products.types import Label
from domain.explanation import StepKind
from domain.grade import GradeRecord, coefficient_percent
from domain.vocab import PaymentMethod


@strawberry.type(description="Non-fleet grade (ノンフリート等級) with its marker and accident-coefficient period.")
class Grade:
    model: strawberry.Private[GradeRecord]

    @strawberry.field(description="1..20")
    def grade(self) -> int:
        return self.model.grade

    @strawberry.field(description="S (new), F, or NONE")
    def marker(self) -> Label:
        return Label.of(self.model.marker)

    @strawberry.field(description="Accident-coefficient period (事故有係数適用期間), years 0..6.")
    def period(self) -> int:
        return self.model.period

    @strawberry.field(description='Display form: "6(S)", "7(F)", "13".')
    def label(self) -> str:
        return self.model.label

    @strawberry.field(description="Grade coefficient in percent (negative = discount).")
    def coefficient_percent(self) -> str:
        return str(coefficient_percent(self.model))


@strawberry.type(description="One priced line: a coverage or a priced rider.")
class PremiumLine:
    code: str
    rider: bool
    ja: str
    en: str
    amount_yen: int


@strawberry.type(description="One step of the explanation: a factor applied to one line (amounts exact, as strings).")
class ExplanationStep:
    line: str
    kind: Label
    factor: str
    ja: str
    en: str
    value: str
    rate: str | None = strawberry.field(description="Multiplier applied; null for BASE and ROUNDING.")
    rule: str = strawberry.field(description="Pamphlet line or tariff the rate comes from.")
    before: str
    after: str
    delta: str


@strawberry.type(description="The ordered steps that turn base premiums into the premium; deltas add up to it.")
class Explanation:
    product_id: str
    tariff_version: str
    demonstration: bool
    total_yen: str
    steps: list[ExplanationStep]


@strawberry.type(description="A premium with its lines and the explanation that re-adds to it.")
class Premium:
    total_yen: int
    tariff_version: str
    demonstration: bool = strawberry.field(description="True when the tariff is a demonstration, not the insurer's.")
    start_date: dt.date
    term_months: int
    payment_method: Label
    instalments_yen: list[int]
    riders: list[str] = strawberry.field(description="Effective rider codes, automatic ones included.")
    discounts: list[str] = strawberry.field(description="Discount codes applied to at least one line.")
    lines: list[PremiumLine]
    explanation: Explanation | None

    @classmethod
    def from_json(cls, p: dict[str, Any], e: dict[str, Any] | None) -> Premium | None:
        if not p:
            return None
        return cls(
            total_yen=p["totalYen"], tariff_version=p["tariffVersion"], demonstration=p["demonstration"],
            start_date=dt.date.fromisoformat(p["startDate"]), term_months=p["termMonths"],
            payment_method=Label.of(PaymentMethod(p["paymentMethod"])),
            instalments_yen=list(p["instalmentsYen"]), riders=list(p["riders"]),
            discounts=list(p["discounts"]),
            lines=[PremiumLine(code=ln["code"], rider=ln["rider"], ja=ln["ja"], en=ln["en"],
                               amount_yen=ln["amountYen"]) for ln in p["lines"]],
            explanation=None if not e else Explanation(
                product_id=e["productId"], tariff_version=e["tariffVersion"],
                demonstration=e["demonstration"], total_yen=e["totalYen"],
                steps=[ExplanationStep(
                    line=s["line"], kind=Label.of(StepKind(s["kind"])), factor=s["factor"], ja=s["ja"],
                    en=s["en"], value=s["value"], rate=s["rate"], rule=s["rule"], before=s["before"],
                    after=s["after"], delta=s["delta"]) for s in e["steps"]],
            ),
        )
