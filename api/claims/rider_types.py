"""Rider pay-outs as GraphQL: the stated loss (`RiderLossInput`) and the explained answer.

The input mirrors `domain.claims.rider_payout.LossFacts` field by field (docs/rider_rules.md lists
what each fact means); the answer is the engine's `Assessment` with every step.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from api.products.types import Label
from domain.claims.rider_payout import Assessment, LossFacts
from domain.products.payout import BrokenPart, InjuryClass, LossCause, Outcome

LossOutcomeEnum = strawberry.enum(Outcome, name="LossOutcome")
InjuryClassEnum = strawberry.enum(InjuryClass, name="InjuryClass")
LossCauseEnum = strawberry.enum(LossCause, name="LossCause")
BrokenPartEnum = strawberry.enum(BrokenPart, name="BrokenPart")


@strawberry.input(description="A stated loss of one person, one vehicle or the accident (docs/rider_rules.md). "
                              "Amounts in yen; a fact left out is 'not stated'.")
class RiderLossInput:
    loss_yen: int = strawberry.field(default=0, description="The loss or cost: damages, repair cost, fees, rental "
                                                            "cost, belongings.")
    consultation_yen: int = 0
    market_value_yen: int = strawberry.field(default=0, description="Market value of the damaged car (excess repair).")
    paid_by_others_yen: int = strawberry.field(default=0, description="Paid by 自賠責, workers' compensation or the "
                                                                      "other side.")
    own_cost_yen: int = 0
    damage_to_others_yen: int = 0
    fault_percent: int | None = None
    days: int = strawberry.field(default=0, description="Rental days; hospital + outpatient days within 180 days.")
    dependants: int = 0
    disability_grade: int = strawberry.field(default=0, description="After-effects grade 1 (worst) .. 14; 0: none.")
    outcome: LossOutcomeEnum | None = None  # type: ignore[valid-type]
    injury_class: InjuryClassEnum | None = None  # type: ignore[valid-type]
    cause: LossCauseEnum | None = None  # type: ignore[valid-type]
    total_loss: bool | None = None
    towed: bool | None = None
    at_fault: bool | None = None
    liable: bool | None = None
    no_fault: bool | None = None
    other_party_identified: bool | None = None
    confirmed_objectively: bool | None = None
    abroad: bool | None = None
    borrowed_car_eligible: bool | None = None
    repaired_on: dt.date | None = None
    distance_km: int | None = strawberry.field(default=None, description="From the insured's home to the victim's "
                                                                         "home or hospital (aioi distant victim).")
    outpatient_only: bool | None = None
    major_damage: bool | None = strawberry.field(default=None, description="Unrepairable, repair ≥ the vehicle SI, or "
                                                                           "repair ≥ 50% of the new-car value.")
    replaced: bool | None = strawberry.field(default=None, description="The car was replaced (a new one bought).")
    new_car_value_yen: int = strawberry.field(default=0, description="New-car sum insured / agreed new value.")
    extra_yen: int = strawberry.field(default=0, description="Further costs: debris removal, a hospital transfer, "
                                                             "travel and lodging.")
    months: int = strawberry.field(default=0, description="Rehabilitation months within the window.")
    criminal_yen: int = strawberry.field(default=0, description="Lawyer fees in criminal proceedings (tokio).")
    broken_part: BrokenPartEnum | None = None  # type: ignore[valid-type]
    equipment_yen: int = strawberry.field(default=0, description="Welfare equipment bought (aioi PI expenses).")

    def facts(self) -> LossFacts:
        """The domain facts (raises RuleError for a negative amount or a fault ratio over 100)."""
        return LossFacts(
            loss_yen=self.loss_yen, consultation_yen=self.consultation_yen, market_value_yen=self.market_value_yen,
            paid_by_others_yen=self.paid_by_others_yen, own_cost_yen=self.own_cost_yen,
            damage_to_others_yen=self.damage_to_others_yen, fault_percent=self.fault_percent, days=self.days,
            dependants=self.dependants, disability_grade=self.disability_grade,
            outcome=None if self.outcome is None else Outcome(self.outcome),
            injury_class=None if self.injury_class is None else InjuryClass(self.injury_class),
            cause=None if self.cause is None else LossCause(self.cause),
            total_loss=self.total_loss, towed=self.towed, at_fault=self.at_fault, liable=self.liable,
            no_fault=self.no_fault, other_party_identified=self.other_party_identified,
            confirmed_objectively=self.confirmed_objectively, abroad=self.abroad,
            borrowed_car_eligible=self.borrowed_car_eligible, repaired_on=self.repaired_on,
            distance_km=self.distance_km, outpatient_only=self.outpatient_only, major_damage=self.major_damage,
            replaced=self.replaced, new_car_value_yen=self.new_car_value_yen, extra_yen=self.extra_yen,
            months=self.months, criminal_yen=self.criminal_yen,
            broken_part=None if self.broken_part is None else BrokenPart(self.broken_part),
            equipment_yen=self.equipment_yen,
        )


@strawberry.type(description="One step of a pay-out: a condition, a part's formula, a deductible or a cap, with "
                             "the amount before and after it and the pamphlet line.")
class PayoutStep:
    part: str = strawberry.field(description="The part's code; empty for the rule as a whole.")
    kind: Label
    en: str
    rule: str
    before_yen: int
    after_yen: int


@strawberry.type(description="An amount a part of the rule gave, after its own caps.")
class PayoutPart:
    code: str
    ja: str
    en: str
    amount_yen: int


@strawberry.type(description="What a rider (or a coverage with a pay-out rule) pays for a stated loss.")
class RiderAssessment:
    rider: str
    entitlement_yen: int = strawberry.field(description="For the whole stated loss, after every cap.")
    already_paid_yen: int = strawberry.field(description="Paid by this claim line for the same person / vehicle / "
                                                         "accident.")
    payable_yen: int = strawberry.field(description="What a payment with this loss pays now.")
    source: str
    demonstration: str = strawberry.field(description="Non-empty: which amounts are not the pamphlet's, and why.")
    parts: list[PayoutPart]
    steps: list[PayoutStep]

    @staticmethod
    def of(a: Assessment) -> RiderAssessment:
        return RiderAssessment(
            rider=a.line, entitlement_yen=a.entitlement, already_paid_yen=a.already_paid, payable_yen=a.payable,
            source=a.source, demonstration=a.demonstration,
            parts=[PayoutPart(code=p.code, ja=p.ja, en=p.en, amount_yen=p.amount) for p in a.parts],
            steps=[PayoutStep(part=s.part, kind=Label.of(s.kind), en=s.en, rule=s.rule, before_yen=s.before,
                              after_yen=s.after) for s in a.steps],
        )
