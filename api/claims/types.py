"""Claims as GraphQL types (general path only; the compiled contract path refuses `claims`).

A claim wraps the `ClaimDetail` the read service loaded (claim, contract, lines with payments,
history) and the caller's actor. Internal fields — reserves, staff notes, internal history entries
and who did what — answer null (or are left out) unless the caller is insurer staff.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from api.claims.rider_types import RiderAssessment
from api.node import Node, to_global_id
from api.products.types import Label
from domain.claims.documents import ClaimType, Document, missing_documents
from domain.claims.kyosai import Benefit
from domain.claims.workflow import ClaimState, available_actions
from domain.services.access import Actor
from domain.services.claims.handling import required, role_of
from domain.services.claims.reads import ClaimDetail
from domain.store import claim_repo as repo
from domain.vocab import AccidentClass, Relationship


@strawberry.type(description="One reason of a coverage decision (code, met or not, JP/EN, the rule it comes from).")
class CoverageReason:
    code: str
    ok: bool
    ja: str
    en: str
    rule_ref: str


@strawberry.type(description="Coverage at the accident moment, with its reasons (SPEC §4.8).")
class ClaimCoverage:
    state: Label
    reasons: list[CoverageReason]
    applicable: list[str] = strawberry.field(description="Coverage codes that may pay (COVERED or tentatively, PENDING).")
    liability_only: bool = strawberry.field(description="A late-filed window: only the liability set pays.")
    waiting_for: list[str] = strawberry.field(description="What a COVERAGE_PENDING decision waits for.")
    decided_at: dt.datetime


@strawberry.type(description="A limit of a claim line; amountYen null = unlimited.")
class ClaimLimit:
    basis: Label
    amount_yen: int | None
    source: str


@strawberry.type(description="A payment on a claim line.")
class ClaimPayment:
    amount_yen: int
    paid_on: dt.date
    person: str | None
    vehicle: str | None
    note: str
    assessment: RiderAssessment | None = strawberry.field(
        description="A payment computed by the line's pay-out rule (riderLoss, excessRepair): its explanation.")


@strawberry.type(description="One line per coverage involved: limits, deductible, reserve and payments.")
class ClaimLine:
    model: strawberry.Private[repo.StoredLine]
    staff: strawberry.Private[bool]

    @strawberry.field
    def coverage(self) -> str:
        return self.model.coverage

    @strawberry.field
    def limits(self) -> list[ClaimLimit]:
        return [ClaimLimit(basis=Label.of(x.basis), amount_yen=x.amount, source=x.source) for x in self.model.terms.limits]

    @strawberry.field
    def deductible_yen(self) -> int:
        return self.model.terms.deductible

    @strawberry.field(description="Outstanding reserve (支払備金). Insurer staff only: null for others.")
    def reserve_yen(self) -> int | None:
        return self.model.reserve_yen if self.staff else None

    @strawberry.field
    def paid_yen(self) -> int:
        return self.model.paid_yen

    @strawberry.field
    def payments(self) -> list[ClaimPayment]:
        return [ClaimPayment(amount_yen=p.amount_yen, paid_on=p.paid_on, person=p.person, vehicle=p.vehicle,
                             note=p.note, assessment=None if p.assessment is None else RiderAssessment.of(p.assessment))
                for p in self.model.payments]


@strawberry.type(description="What the claim does to the next renewal's grade.")
class ClaimGradeImpact:
    accident_class: Label | None = strawberry.field(description="3-down, 1-down, no-count; null: does not count.")
    counts: bool
    overridden: bool
    reason: str


@strawberry.type(description="A document the claimant must send, and where the requirement comes from.")
class RequiredDocument:
    document: Label
    source: str


@strawberry.type(description="A kyosai fixed benefit (pamphlet 003) as assessed.")
class KyosaiBenefit:
    benefit: Label
    amount_yen: int
    person: str | None
    reason: str
    source: str


@strawberry.type(description="Another party of the accident.")
class ClaimOtherParty:
    name: str
    vehicle_registration_no: str | None
    insurer: str | None
    contact: str | None
    fault_percent: int | None


@strawberry.type(description="An injured person as reported.")
class ClaimInjury:
    person: str
    description: str
    hospitalised: bool
    deceased: bool


@strawberry.type(description="An entry of the claim's history: who did what, when and why.")
class ClaimEvent:
    model: strawberry.Private[repo.ClaimEvent]
    staff: strawberry.Private[bool]

    @strawberry.field(description="1, 2, 3, ... per claim.")
    def seq(self) -> int:
        return self.model.seq

    @strawberry.field
    def kind(self) -> str:
        return self.model.kind

    @strawberry.field
    def from_status(self) -> str | None:
        return self.model.from_status

    @strawberry.field
    def to_status(self) -> str | None:
        return self.model.to_status

    @strawberry.field
    def actor_role(self) -> str:
        return self.model.actor_role

    @strawberry.field(description="Who did it. Insurer staff only: null for others.")
    def actor_subject(self) -> str | None:
        return self.model.actor_subject if self.staff else None

    @strawberry.field
    def reason(self) -> str | None:
        return self.model.reason

    @strawberry.field
    def at(self) -> dt.datetime:
        return self.model.at

    @strawberry.field
    def payload(self) -> JSON:
        return JSON(dict(self.model.payload))


@strawberry.type(description="A claim (事故): first notice of loss to payment, with its coverage decision and grade impact.")
class Claim(Node):
    detail: strawberry.Private[ClaimDetail]
    actor: strawberry.Private[Actor]

    @classmethod
    def of(cls, d: ClaimDetail, actor: Actor) -> Claim:
        return cls(id=to_global_id("Claim", d.claim.id), detail=d, actor=actor)

    @property
    def _c(self) -> repo.StoredClaim:
        return self.detail.claim

    @property
    def _staff(self) -> bool:
        return self.actor.sees_everything

    @strawberry.field
    def database_id(self) -> int:
        return self._c.id

    @strawberry.field
    def claim_number(self) -> str:
        return self._c.claim_number

    @strawberry.field(description="The contract's global id.")
    def contract_id(self) -> strawberry.ID:
        return to_global_id("Contract", self._c.contract_id)

    @strawberry.field
    def policy_number(self) -> str:
        return self.detail.contract.policy_number

    @strawberry.field
    def accident_at(self) -> dt.datetime:
        return self._c.accident_at

    @strawberry.field
    def place(self) -> str:
        return self._c.place

    @strawberry.field(description="The vehicle's global id.")
    def vehicle_id(self) -> strawberry.ID:
        return to_global_id("Vehicle", self._c.vehicle_id)

    @strawberry.field(description="The driver's global id; null when nobody drove.")
    def driver_id(self) -> strawberry.ID | None:
        return None if self._c.driver_party_id is None else to_global_id("Party", self._c.driver_party_id)

    @strawberry.field(description="The driver's relationship to the named insured at the accident.")
    def driver_relationship(self) -> Label | None:
        r = self._c.driver_relationship
        return None if r is None else Label.of(Relationship(r))

    @strawberry.field
    def description(self) -> str:
        return self._c.description

    @strawberry.field
    def other_parties(self) -> list[ClaimOtherParty]:
        return [ClaimOtherParty(name=o["name"], vehicle_registration_no=o.get("vehicleRegistrationNo"),
                                insurer=o.get("insurer"), contact=o.get("contact"),
                                fault_percent=o.get("faultPercent")) for o in self._c.other_parties]

    @strawberry.field
    def police_report_no(self) -> str | None:
        return self._c.police_report_no

    @strawberry.field
    def injuries(self) -> list[ClaimInjury]:
        return [ClaimInjury(person=i["person"], description=i["description"], hospitalised=i["hospitalised"],
                            deceased=i["deceased"]) for i in self._c.injuries]

    @strawberry.field
    def coverages_claimed(self) -> list[str]:
        return list(self._c.claimed_coverages)

    @strawberry.field
    def claim_types(self) -> list[Label]:
        return [Label.of(ClaimType(x)) for x in self._c.claim_types]

    @strawberry.field
    def status(self) -> Label:
        return Label.of(self._c.status)

    @strawberry.field
    def coverage(self) -> ClaimCoverage:
        d = self._c.decision
        return ClaimCoverage(
            state=Label.of(d.state),
            reasons=[CoverageReason(code=r["code"], ok=r["ok"], ja=r["ja"], en=r["en"], rule_ref=r["ruleRef"])
                     for r in d.reasons],
            applicable=list(d.applicable), liability_only=d.liability_only, waiting_for=list(d.waiting_for),
            decided_at=d.decided_at)

    @strawberry.field
    def lines(self) -> list[ClaimLine]:
        return [ClaimLine(model=ln, staff=self._staff) for ln in self.detail.lines]

    @strawberry.field(description="Outstanding reserve over the lines. Insurer staff only: null for others.")
    def reserve_yen(self) -> int | None:
        return sum(ln.reserve_yen for ln in self.detail.lines) if self._staff else None

    @strawberry.field
    def paid_yen(self) -> int:
        return sum(ln.paid_yen for ln in self.detail.lines)

    @strawberry.field
    def grade_impact(self) -> ClaimGradeImpact:
        c = self._c
        cls = c.grade_class
        return ClaimGradeImpact(accident_class=None if cls is None else Label.of(cls),
                                counts=cls in (AccidentClass.THREE_DOWN, AccidentClass.ONE_DOWN),
                                overridden=c.grade_overridden,
                                reason=c.grade_reason or "nothing paid yet: not an accident for the grade (002b L4837)")

    @strawberry.field
    def withdrawn_at(self) -> dt.datetime | None:
        return self._c.withdrawn_at

    @strawberry.field(description="Paid out before a withdrawal: what the policyholder pays back.")
    def repayment_due_yen(self) -> int:
        return self._c.repayment_due_yen

    @strawberry.field
    def required_documents(self) -> list[RequiredDocument]:
        return [RequiredDocument(document=Label.of(r.document), source=r.source) for r in required(self._c)]

    @strawberry.field(description="What the claimant still has to send.")
    def missing_documents(self) -> list[RequiredDocument]:
        got = [Document(x) for x in self._c.documents_received]
        return [RequiredDocument(document=Label.of(r.document), source=r.source)
                for r in missing_documents(required(self._c), got)]

    @strawberry.field
    def documents_received(self) -> list[Label]:
        return [Label.of(Document(x)) for x in self._c.documents_received]

    @strawberry.field(description="Kyosai: the fixed benefits as assessed (empty for indemnity products).")
    def kyosai_benefits(self) -> list[KyosaiBenefit]:
        return [KyosaiBenefit(benefit=Label.of(Benefit(b["benefit"])), amount_yen=b["amountYen"], person=b["person"],
                              reason=b["reason"], source=b["source"]) for b in self._c.kyosai_benefits]

    @strawberry.field(description="Insurer staff only: null for others.")
    def staff_notes(self) -> str | None:
        return self._c.staff_notes if self._staff else None

    @strawberry.field(description="The claim's history, oldest first (internal entries for insurer staff only).")
    def events(self) -> list[ClaimEvent]:
        return [ClaimEvent(model=e, staff=self._staff) for e in self.detail.events if self._staff or not e.internal]

    @strawberry.field(description="What the caller may do with this claim now.")
    def available_actions(self) -> list[Label]:
        state = ClaimState(self._c.status, self._c.coverage)
        return [Label.of(a) for a in available_actions(state, role_of(self.actor))]

    @strawberry.field
    def reported_at(self) -> dt.datetime:
        return self._c.created_at


__all__ = ["Claim", "ClaimCoverage", "ClaimEvent", "ClaimLine"]
