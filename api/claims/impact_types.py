"""The claim-or-pay-yourself advisor's answer as GraphQL types (SPEC §4.8; issue 6 item 5)."""

from __future__ import annotations

import datetime as dt

import strawberry

from api.products.pricing import Explanation, ExplanationStep, Grade
from api.products.types import Label
from domain.claims.advisor import PathTerm, TermImpact
from domain.explanation import StepKind
from domain.rating_codec import explanation_to_json
from domain.services.claims.impact import ClaimImpactEstimate as DomainEstimate


def explanation_of(path: PathTerm) -> Explanation:
    e = explanation_to_json(path.explanation)
    return Explanation(
        product_id=e["productId"], tariff_version=e["tariffVersion"], demonstration=e["demonstration"],
        total_yen=e["totalYen"],
        steps=[ExplanationStep(line=s["line"], kind=Label.of(StepKind(s["kind"])), factor=s["factor"], ja=s["ja"],
                               en=s["en"], value=s["value"], rate=s["rate"], rule=s["rule"], before=s["before"],
                               after=s["after"], delta=s["delta"]) for s in e["steps"]],
    )


@strawberry.type(description="One renewal on one path (with or without the claim).")
class ClaimImpactPath:
    model: strawberry.Private[PathTerm]

    @strawberry.field(description="Grade record of this term: grade, marker and with-accident period.")
    def grade(self) -> Grade:
        return Grade(model=self.model.record)

    @strawberry.field(description="事故有係数適用期間 (years); 0 = no-accident coefficients.")
    def with_accident_period(self) -> int:
        return self.model.record.period

    @strawberry.field(description="Grade 1 repeat surcharge applies (1等級連続事故).")
    def repeat_surcharge(self) -> bool:
        return self.model.repeat_surcharge

    @strawberry.field
    def premium_yen(self) -> int:
        return self.model.premium

    @strawberry.field(description="How the grade moved at this renewal.")
    def grade_steps(self) -> list[str]:
        return list(self.model.grade_steps)

    @strawberry.field(description="The premium's steps, tariff in force at the start date.")
    def explanation(self) -> Explanation:
        return explanation_of(self.model)


@strawberry.type(description="One of the next terms: premiums with and without claiming.")
class ClaimImpactTerm:
    model: strawberry.Private[TermImpact]

    @strawberry.field(description="1 = the renewal right after the accident's term.")
    def index(self) -> int:
        return self.model.index

    @strawberry.field
    def start_date(self) -> dt.date:
        return self.model.start_date

    @strawberry.field
    def with_claim(self) -> ClaimImpactPath:
        return ClaimImpactPath(model=self.model.with_claim)

    @strawberry.field
    def without_claim(self) -> ClaimImpactPath:
        return ClaimImpactPath(model=self.model.without_claim)

    @strawberry.field(description="with − without, yen.")
    def difference_yen(self) -> int:
        return self.model.difference


@strawberry.type(description="Claim or pay yourself: the next terms' premiums with and without claiming.")
class ClaimImpactEstimate:
    model: strawberry.Private[DomainEstimate]

    @strawberry.field
    def policy_number(self) -> str:
        return self.model.policy_number

    @strawberry.field
    def product_id(self) -> str:
        return self.model.product_id

    @strawberry.field(description="The term the accident fell in.")
    def term_no(self) -> int:
        return self.model.term_no

    @strawberry.field(description="That term's grade record, where both paths start.")
    def current_grade(self) -> Grade:
        return Grade(model=self.model.current)

    @strawberry.field
    def accident_class(self) -> Label:
        return Label.of(self.model.accident_class)

    @strawberry.field(description="The payout compared with the extra premiums.")
    def amount_yen(self) -> int:
        return self.model.amount_yen

    @strawberry.field(description="The term's other counted claims, on both paths.")
    def other_accidents(self) -> list[Label]:
        return [Label.of(a) for a in self.model.other_accidents]

    @strawberry.field
    def terms(self) -> list[ClaimImpactTerm]:
        return [ClaimImpactTerm(model=t) for t in self.model.impact.terms]

    @strawberry.field(description="Σ (with − without) over the terms.")
    def extra_premium_yen(self) -> int:
        return self.model.impact.extra_premium

    @strawberry.field(description="Claiming pays off only for a payout above this (= extraPremiumYen).")
    def break_even_yen(self) -> int:
        return self.model.impact.break_even

    @strawberry.field
    def advice(self) -> Label:
        return Label.of(self.model.impact.advice)
