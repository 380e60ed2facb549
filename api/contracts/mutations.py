"""Mutations: GraphQL inputs mapped to the use cases of domain.services.contracts.

Each mutation takes one `input` (with `idempotencyKey` and `dryRun`) and answers a payload with
the result and `userErrors {field code message}`; domain refusals never become top-level errors.
Global ids are decoded here; an id of the wrong type or a malformed one answers the same
`*_NOT_FOUND` as a missing one. Everything else (access, rules, idempotency, the transaction)
happens in the service layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import strawberry
from strawberry.types import Info

from api.context import Context
from api.contracts.types import Contract, Party, Vehicle
from api.mutation_support import (
    AccidentClassEnum,
    RelationshipEnum,
    UserError,
    errors_of,
    id_of,
    required_id,
    run_use_case,
)
from api.products.pricing import Grade, Premium
from api.products.types import Label
from api.renewals.types import offer_db_id
from domain.calendar import YearMonth
from domain.grade_continuity import InterruptionReason
from domain.products.model import MemberRank, UsePurpose
from domain.rating_codec import explanation_to_json, premium_to_json
from domain.services.access import Actor
from domain.services.contracts import cases as contracts
from domain.services.contracts import reads as contract_reads
from domain.services.contracts import types as ct
from domain.services.errors import refuse
from domain.services.mutation_runner import Outcome
from domain.services.renewals import renew
from domain.services.windows import grace
from domain.store.party_repo import Party as DomainParty
from domain.store.party_repo import PartyKind
from domain.store.party_repo import Vehicle as DomainVehicle
from domain.store.uow import UnitOfWork
from domain.vocab import (
    AgeCondition,
    Channel,
    DriverRestriction,
    Fuel,
    LicenceColour,
    PaymentMethod,
    Relationship,
    UseType,
)

# GraphQL enums for inputs (answers carry Label {code ja en} instead).
AgeConditionEnum = strawberry.enum(AgeCondition, name="AgeCondition")
DriverRestrictionEnum = strawberry.enum(DriverRestriction, name="DriverRestriction")
ChannelEnum = strawberry.enum(Channel, name="Channel")
PaymentMethodEnum = strawberry.enum(PaymentMethod, name="PaymentMethod")
LicenceColourEnum = strawberry.enum(LicenceColour, name="LicenceColour")
UseTypeEnum = strawberry.enum(UseType, name="UseType")
FuelEnum = strawberry.enum(Fuel, name="Fuel")
UsePurposeEnum = strawberry.enum(UsePurpose, name="UsePurpose")
MemberRankEnum = strawberry.enum(MemberRank, name="MemberRank")
InterruptionReasonEnum = strawberry.enum(InterruptionReason, name="InterruptionReason")
PartyKindEnum = strawberry.enum(PartyKind, name="PartyKind")
GradeOriginEnum = strawberry.enum(ct.GradeOrigin, name="GradeOrigin")
DriverActionEnum = strawberry.enum(ct.DriverAction, name="DriverAction")
RescissionReasonEnum = strawberry.enum(ct.RescissionReason, name="RescissionReason")


def _offer_id(gid: strawberry.ID | None) -> int | None:
    if gid is None:
        return None
    db_id = offer_db_id(gid)
    if db_id is None:
        raise refuse("RENEWALOFFER_NOT_FOUND", "input.offerId", f"no renewal offer {gid}")
    return db_id


def _ym(text: str | None, field: str) -> YearMonth | None:
    if text is None:
        return None
    try:
        return YearMonth.parse(text)
    except ValueError as exc:
        raise refuse("INVALID_YEAR_MONTH", field, f"{field}: expected YYYY-MM, got {text!r}") from exc


# --- payload parts --------------------------------------------------------------------------------


@strawberry.type(description="A changed field of a contract (what a dry run shows).")
class FieldChange:
    field: str
    before: str | None
    after: str | None


@strawberry.type(description="One line of a premium-delta or refund computation.")
class MoneyStep:
    name: str
    value: str
    rule: str


@strawberry.type(description="An interruption certificate (中断証明書).")
class InterruptionCertificate:
    grade: Grade
    reason: Label
    interruption_date: dt.date
    issued_on: dt.date
    request_deadline: dt.date
    valid_until: dt.date


@strawberry.type(description="What a contract transaction did (or, in a dry run, would do).")
class ContractChange:
    transaction_kind: str
    policy_number: str
    statuses: list[Label]
    lock_version: int = strawberry.field(description="The contract's lock version after the change.")
    term_no: int
    effective_at: dt.datetime
    premium_before_yen: int
    premium_after_yen: int
    premium_delta_yen: int = strawberry.field(description="Charged (+) or returned (−) now.")
    delta_steps: list[MoneyStep]
    changes: list[FieldChange]
    grade: Grade | None
    tariff_version: str | None
    certificate: InterruptionCertificate | None
    premium: Premium | None = strawberry.field(description=(
        "The price of the version this change wrote, with its explanation (quote, issue, endorsement, "
        "renewal; also for a dry run, where no contract is stored); null when no price was written."))

    @classmethod
    def of(cls, c: ct.ContractChange) -> ContractChange:
        cert = c.certificate
        p = c.premium
        return cls(
            transaction_kind=c.transaction_kind, policy_number=c.policy_number,
            statuses=[Label.of(s) for s in c.statuses], lock_version=c.lock_version, term_no=c.term_no,
            effective_at=c.effective_at, premium_before_yen=c.premium_before_yen,
            premium_after_yen=c.premium_after_yen, premium_delta_yen=c.premium_delta_yen,
            delta_steps=[MoneyStep(name=s.name, value=s.value, rule=s.rule) for s in c.delta_steps],
            changes=[FieldChange(field=f.field, before=f.before, after=f.after) for f in c.changes],
            grade=None if c.grade is None else Grade(model=c.grade), tariff_version=c.tariff_version,
            certificate=None if cert is None else InterruptionCertificate(
                grade=Grade(model=cert.grade), reason=Label.of(cert.reason),
                interruption_date=cert.interruption_date, issued_on=cert.issued_on,
                request_deadline=cert.request_deadline, valid_until=cert.valid_until),
            premium=None if p is None else Premium.from_json(premium_to_json(p), explanation_to_json(p.explanation)),
        )


@strawberry.type(description="Answer of every contract mutation.")
class ContractPayload:
    change: ContractChange | None = strawberry.field(description="Null when refused.")
    user_errors: list[UserError]
    dry_run: bool = strawberry.field(description="True: nothing was stored; `change` shows what would happen.")
    replayed: bool = strawberry.field(description="True: the idempotency key was seen; this is the first answer.")
    contract_id: strawberry.Private[int | None]

    @strawberry.field(description="The contract after the change (null for a refused or dry-run quote).")
    async def contract(self, info: Info[Context, None]) -> Contract | None:
        if self.contract_id is None:
            return None
        ctx = info.context
        at = ctx.clock.now()
        found = await contract_reads.contracts_by_id(ctx.pool, ctx.actor, [self.contract_id], at)
        d = found.get(self.contract_id)
        return None if d is None else Contract.of(d, at)


@strawberry.type(description="Answer of registerDriver.")
class PartyPayload:
    party: Party | None
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool


@strawberry.type(description="Answer of registerVehicle.")
class VehiclePayload:
    vehicle: Vehicle | None
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool


def _contract_payload(o: Outcome[ct.ContractChange]) -> ContractPayload:
    r = o.result
    return ContractPayload(
        change=None if r is None else ContractChange.of(r), user_errors=errors_of(o), dry_run=o.dry_run,
        replayed=o.replayed, contract_id=None if r is None or o.dry_run and r.transaction_kind == "QUOTE"
        else r.contract_id,
    )


async def _change(info: Info[Context, None], operation: str, input: Any, build: Callable[[], Any],
                  call: Callable[[UnitOfWork, Actor, Any, dt.datetime], Awaitable[ct.ContractChange]]) -> ContractPayload:
    """A contract mutation: decode the input, run the use case, answer the shared payload."""
    return _contract_payload(await run_use_case(info, operation, build, call, ct.ContractChange,
                                        input.idempotency_key, input.dry_run))


# --- inputs ---------------------------------------------------------------------------------------


@strawberry.input
class RegisterDriverInput:
    kind: PartyKindEnum = PartyKind.PERSON  # type: ignore[valid-type]
    name_kanji: str
    name_kana: str | None = None
    name_en: str | None = None
    birth_date: dt.date | None = None
    postal_code: str | None = None
    address_ja: str | None = None
    address_en: str | None = None
    licence_colour: LicenceColourEnum | None = None  # type: ignore[valid-type]
    licence_date: dt.date | None = None
    account_party_id: strawberry.ID | None = strawberry.field(
        default=None, description="The policyholder whose book this person joins; null registers a policyholder.")
    agency_id: strawberry.ID | None = strawberry.field(default=None, description="Staff only.")
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class RatingClassInput:
    group: str
    rating_class: int = strawberry.field(name="class")


@strawberry.input
class RegisterVehicleInput:
    use_type: UseTypeEnum  # type: ignore[valid-type]
    registration_no: str | None = None
    chassis_no: str | None = None
    model_code: str | None = None
    first_registration: str | None = strawberry.field(default=None, description="YYYY-MM")
    model_release: str | None = strawberry.field(default=None, description="YYYY-MM")
    rating_classes: list[RatingClassInput] = strawberry.field(default_factory=list)
    aeb: bool = False
    fuel: FuelEnum | None = None  # type: ignore[valid-type]
    welfare: bool = False
    value_yen: int | None = None
    owner_party_id: strawberry.ID | None = None
    account_party_id: strawberry.ID | None = None
    agency_id: strawberry.ID | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class DriverInput:
    party_id: strawberry.ID
    relationship: RelationshipEnum  # type: ignore[valid-type]


@strawberry.input
class CoverageInput:
    code: str
    option: str | None = strawberry.field(default=None, description="Limit option code; null = the default.")


@strawberry.input
class PreviousContractInput:
    grade: int
    period: int
    end_date: dt.date
    accidents: list[AccidentClassEnum] = strawberry.field(default_factory=list)  # type: ignore[valid-type]
    rescinded: bool = False
    term_at_least_one_year: bool = True


@strawberry.input
class SecondCarInput:
    first_car_grade: int
    first_car_term_years: int = 1
    first_car_in_force_on_start: bool = True
    first_car_private_eight: bool = True
    named_insured_relationship: RelationshipEnum = Relationship.SELF  # type: ignore[valid-type]
    owner_relationship: RelationshipEnum = Relationship.SELF  # type: ignore[valid-type]
    owner_is_first_car_owner: bool = True


@strawberry.input
class DiscountInput:
    multi_car_count: int = 1
    member_rank: MemberRankEnum | None = None  # type: ignore[valid-type]
    telematics_plan: bool = False
    telematics_first_time: bool = False
    telematics_score: int | None = None
    one_day_policy_count: int = 0
    partner_plan: bool = False
    large_instalment: bool = False


@strawberry.input
class CreateQuoteInput:
    product_id: str
    start_date: dt.date
    policyholder_id: strawberry.ID
    named_insured_id: strawberry.ID
    vehicle_id: strawberry.ID
    coverages: list[CoverageInput]
    drivers: list[DriverInput] = strawberry.field(default_factory=list)
    term_months: int = 12
    channel: ChannelEnum = Channel.AGENT  # type: ignore[valid-type]
    agency_id: strawberry.ID | None = None
    riders: list[str] = strawberry.field(default_factory=list)
    age_condition: AgeConditionEnum = AgeCondition.ANY  # type: ignore[valid-type]
    driver_restriction: DriverRestrictionEnum = DriverRestriction.NONE  # type: ignore[valid-type]
    use_purpose: UsePurposeEnum | None = None  # type: ignore[valid-type]
    mileage_class: int | None = None
    payment_method: PaymentMethodEnum = PaymentMethod.ANNUAL  # type: ignore[valid-type]
    grade_origin: GradeOriginEnum = ct.GradeOrigin.NEW  # type: ignore[valid-type]
    previous_contract: PreviousContractInput | None = None
    second_car: SecondCarInput | None = None
    certificate_contract_id: strawberry.ID | None = strawberry.field(
        default=None, description="gradeOrigin INTERRUPTION_CERTIFICATE: the interrupted contract whose 中断証明書 is used")
    discounts: DiscountInput | None = None
    repairability_percent: int = 0
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class ContractRefInput:
    contract_id: strawberry.ID
    expected_version: int = strawberry.field(description="The contract's lockVersion you read.")
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.input
class DriverChangeInput:
    action: DriverActionEnum  # type: ignore[valid-type]
    party_id: strawberry.ID
    relationship: RelationshipEnum | None = None  # type: ignore[valid-type]


@strawberry.input
class CoverageChangeInput:
    code: str
    option: str | None = None
    remove: bool = False


@strawberry.input
class AddressInput:
    postal_code: str | None
    address_ja: str
    address_en: str | None = None


@strawberry.input(description="Any subset; omitted = unchanged.")
class EndorseChangesInput:
    address: AddressInput | None = None
    named_insured_id: strawberry.ID | None = None
    drivers: list[DriverChangeInput] = strawberry.field(default_factory=list)
    age_condition: AgeConditionEnum | None = None  # type: ignore[valid-type]
    driver_restriction: DriverRestrictionEnum | None = None  # type: ignore[valid-type]
    coverages: list[CoverageChangeInput] = strawberry.field(default_factory=list)
    riders_add: list[str] = strawberry.field(default_factory=list)
    riders_remove: list[str] = strawberry.field(default_factory=list)
    use_purpose: UsePurposeEnum | None = None  # type: ignore[valid-type]
    mileage_class: int | None = None


@strawberry.input
class EndorseContractInput(ContractRefInput):
    effective_date: dt.date = strawberry.field(description="In force from 16:00 JST of this date.")
    changes: EndorseChangesInput
    reason: str | None = None


@strawberry.input
class RenewContractInput(ContractRefInput):
    accidents: list[AccidentClassEnum] = strawberry.field(  # type: ignore[valid-type]
        default_factory=list,
        description="Grade classes of the expiring term's counted accidents; empty: the term's classified claims.")
    offer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The renewal offer to accept: priced exactly as offered, OFFER_OUTDATED if its "
                                  "inputs changed. Null: the current offer when still valid, else priced afresh.")
    premium_paid: bool = strawberry.field(
        default=False, description="The renewal premium is paid: required for a renewal inside the "
                                   "forgotten-renewal window (IN_RENEWAL_GRACE), else PREMIUM_NOT_PAID.")


@strawberry.input
class DeclineRenewalInput(ContractRefInput):
    reason: str | None = None


@strawberry.input
class CancelContractInput(ContractRefInput):
    effective_date: dt.date
    reason: str
    cooling_off: bool = False


@strawberry.input
class ReinstateContractInput(ContractRefInput):
    reason: str


@strawberry.input
class RescindContractInput(ContractRefInput):
    reason: RescissionReasonEnum  # type: ignore[valid-type]
    effective_date: dt.date
    note: str | None = None


@strawberry.input
class IssueInterruptionCertificateInput(ContractRefInput):
    reason: InterruptionReasonEnum  # type: ignore[valid-type]
    interruption_date: dt.date
    departure_date: dt.date | None = None


def _cid(i: ContractRefInput) -> int:
    return required_id(i.contract_id, "Contract", "input.contractId")


def _changes(c: EndorseChangesInput) -> ct.EndorseChanges:
    return ct.EndorseChanges(
        address=None if c.address is None else ct.AddressChange(c.address.postal_code, c.address.address_ja,
                                                                 c.address.address_en),
        named_insured_id=id_of(c.named_insured_id, "Party", "input.changes.namedInsuredId", required=False),
        drivers=tuple(ct.DriverChange(d.action, required_id(d.party_id, "Party", f"input.changes.drivers[{i}].partyId"),
                                      d.relationship) for i, d in enumerate(c.drivers)),
        age_condition=c.age_condition, driver_restriction=c.driver_restriction,
        coverages=tuple(ct.CoverageChange(x.code, x.option, x.remove) for x in c.coverages),
        riders_add=tuple(c.riders_add), riders_remove=tuple(c.riders_remove),
        use_purpose=c.use_purpose, mileage_class=c.mileage_class,
    )


class CarQuoteFields(Protocol):
    """The car's part of a quote, shared by createQuote and addFleetVehicle (whose fleet gives the rest)."""

    start_date: dt.date
    named_insured_id: strawberry.ID
    vehicle_id: strawberry.ID
    coverages: list[CoverageInput]
    drivers: list[DriverInput]
    riders: list[str]
    # the GraphQL enum fields are typed through strawberry's enum wrappers, which mypy cannot follow
    age_condition: Any
    driver_restriction: Any
    use_purpose: Any
    mileage_class: int | None
    payment_method: Any
    grade_origin: Any
    previous_contract: PreviousContractInput | None
    second_car: SecondCarInput | None
    discounts: DiscountInput | None
    repairability_percent: int
    idempotency_key: str | None
    dry_run: bool


def car_quote(i: CarQuoteFields, *, product_id: str, policyholder_id: int, term_months: int, channel: Channel,
              agency_id: int | None, certificate_contract_id: int | None = None) -> ct.QuoteRequest:
    d = i.discounts or DiscountInput()
    p, s = i.previous_contract, i.second_car
    return ct.QuoteRequest(
        product_id=product_id, start_date=i.start_date, policyholder_id=policyholder_id,
        named_insured_id=required_id(i.named_insured_id, "Party", "input.namedInsuredId"),
        vehicle_id=required_id(i.vehicle_id, "Vehicle", "input.vehicleId"),
        coverages=tuple(ct.CoverageInput(c.code, c.option) for c in i.coverages),
        drivers=tuple(ct.DriverInput(required_id(x.party_id, "Party", f"input.drivers[{n}].partyId"), x.relationship)
                      for n, x in enumerate(i.drivers)),
        term_months=term_months, channel=channel, agency_id=agency_id,
        riders=tuple(i.riders), age_condition=i.age_condition, driver_restriction=i.driver_restriction,
        use_purpose=i.use_purpose, mileage_class=i.mileage_class, payment_method=i.payment_method,
        grade_origin=i.grade_origin,
        previous_contract=None if p is None else ct.PreviousContract(
            p.grade, p.period, p.end_date, tuple(p.accidents), p.rescinded, p.term_at_least_one_year),
        second_car=None if s is None else ct.SecondCarDeclaration(
            s.first_car_grade, s.first_car_term_years, s.first_car_in_force_on_start, s.first_car_private_eight,
            s.named_insured_relationship, s.owner_relationship, s.owner_is_first_car_owner),
        certificate_contract_id=certificate_contract_id,
        discounts=ct.DiscountInput(d.multi_car_count, d.member_rank, d.telematics_plan, d.telematics_first_time,
                                   d.telematics_score, d.one_day_policy_count, d.partner_plan, d.large_instalment),
        repairability_percent=i.repairability_percent, idempotency_key=i.idempotency_key,
        pricing_only=i.dry_run,
    )


def _quote(i: CreateQuoteInput) -> ct.QuoteRequest:
    return car_quote(
        i, product_id=i.product_id, policyholder_id=required_id(i.policyholder_id, "Party", "input.policyholderId"),
        term_months=i.term_months, channel=i.channel,
        agency_id=id_of(i.agency_id, "Agency", "input.agencyId", required=False),
        certificate_contract_id=id_of(i.certificate_contract_id, "Contract", "input.certificateContractId",
                                      required=False))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Register a person or corporation (policyholder, named insured, driver).")
    async def register_driver(self, info: Info[Context, None], input: RegisterDriverInput) -> PartyPayload:
        def build() -> ct.RegisterParty:
            return ct.RegisterParty(
                kind=input.kind, name_kanji=input.name_kanji, name_kana=input.name_kana, name_en=input.name_en,
                birth_date=input.birth_date, postal_code=input.postal_code, address_ja=input.address_ja,
                address_en=input.address_en, licence_colour=input.licence_colour, licence_date=input.licence_date,
                account_party_id=id_of(input.account_party_id, "Party", "input.accountPartyId", required=False),
                agency_id=id_of(input.agency_id, "Agency", "input.agencyId", required=False),
            )

        o = await run_use_case(info, "registerDriver", build, contracts.register_party, DomainParty,
                       input.idempotency_key, input.dry_run)
        return PartyPayload(party=None if o.result is None else Party.of(o.result), user_errors=errors_of(o),
                            dry_run=o.dry_run, replayed=o.replayed)

    @strawberry.mutation(description="Register a vehicle (car inspection certificate data).")
    async def register_vehicle(self, info: Info[Context, None], input: RegisterVehicleInput) -> VehiclePayload:
        def build() -> ct.RegisterVehicle:
            return ct.RegisterVehicle(
                use_type=input.use_type, registration_no=input.registration_no, chassis_no=input.chassis_no,
                model_code=input.model_code,
                first_registration=_ym(input.first_registration, "input.firstRegistration"),
                model_release=_ym(input.model_release, "input.modelRelease"),
                rating_classes=tuple((r.group, r.rating_class) for r in input.rating_classes),
                aeb=input.aeb, fuel=input.fuel, welfare=input.welfare, value_yen=input.value_yen,
                owner_party_id=id_of(input.owner_party_id, "Party", "input.ownerPartyId", required=False),
                account_party_id=id_of(input.account_party_id, "Party", "input.accountPartyId", required=False),
                agency_id=id_of(input.agency_id, "Agency", "input.agencyId", required=False),
            )

        o = await run_use_case(info, "registerVehicle", build, contracts.register_vehicle, DomainVehicle,
                       input.idempotency_key, input.dry_run)
        return VehiclePayload(vehicle=None if o.result is None else Vehicle.of(o.result), user_errors=errors_of(o),
                              dry_run=o.dry_run, replayed=o.replayed)

    @strawberry.mutation(description="Price a contract and store it as a quote (status QUOTED).")
    async def create_quote(self, info: Info[Context, None], input: CreateQuoteInput) -> ContractPayload:
        return await _change(info, "createQuote", input, lambda: _quote(input), contracts.create_quote)

    @strawberry.mutation(description="Issue a quoted contract (QUOTED → IN_FORCE).")
    async def issue_contract(self, info: Info[Context, None], input: ContractRefInput) -> ContractPayload:
        return await _change(
            info, "issueContract", input,
            lambda: ct.IssueRequest(_cid(input), input.expected_version, input.idempotency_key),
            contracts.issue_contract)

    @strawberry.mutation(description="Change a contract from a date inside its term; answers the pro-rata delta.")
    async def endorse_contract(self, info: Info[Context, None], input: EndorseContractInput) -> ContractPayload:
        return await _change(
            info, "endorseContract", input,
            lambda: ct.EndorseRequest(_cid(input), input.expected_version, input.effective_date,
                                      _changes(input.changes), input.reason, input.idempotency_key),
            contracts.endorse_contract)

    @strawberry.mutation(description="Renew for the next term (grade from the term's accidents, tariff in force then).")
    async def renew_contract(self, info: Info[Context, None], input: RenewContractInput) -> ContractPayload:
        return await _change(
            info, "renewContract", input,
            lambda: ct.RenewRequest(_cid(input), input.expected_version, tuple(input.accidents),
                                    input.idempotency_key, input.premium_paid,
                                    _offer_id(input.offer_id)),
            renew.renew_contract)

    @strawberry.mutation(description="Do not renew at the expiry (DO_NOT_RENEW): no auto-renewal, no grace window.")
    async def decline_renewal(self, info: Info[Context, None], input: DeclineRenewalInput) -> ContractPayload:
        return await _change(
            info, "declineRenewal", input,
            lambda: grace.DeclineRenewalRequest(_cid(input), input.expected_version, input.reason,
                                                input.idempotency_key),
            grace.decline_renewal)

    @strawberry.mutation(description="Cancel from a date; refund by the product's method (cooling-off: all before the start, the days covered charged by day after it, 004 L1376-1379).")
    async def cancel_contract(self, info: Info[Context, None], input: CancelContractInput) -> ContractPayload:
        return await _change(
            info, "cancelContract", input,
            lambda: ct.CancelRequest(_cid(input), input.expected_version, input.effective_date, input.reason,
                                     input.cooling_off, input.idempotency_key),
            contracts.cancel_contract)

    @strawberry.mutation(description="Reinstate a cancelled or lapsed contract (staff).")
    async def reinstate_contract(self, info: Info[Context, None], input: ReinstateContractInput) -> ContractPayload:
        return await _change(
            info, "reinstateContract", input,
            lambda: ct.ReinstateRequest(_cid(input), input.expected_version, input.reason, input.idempotency_key),
            contracts.reinstate_contract)

    @strawberry.mutation(description="Rescind a contract (non-payment, misrepresentation); the grade is not carried.")
    async def rescind_contract(self, info: Info[Context, None], input: RescindContractInput) -> ContractPayload:
        return await _change(
            info, "rescindContract", input,
            lambda: ct.RescindRequest(_cid(input), input.expected_version, input.reason, input.effective_date,
                                      input.note, input.idempotency_key),
            contracts.rescind_contract)

    @strawberry.mutation(description="Issue an interruption certificate (中断証明書) freezing the grade for later use.")
    async def issue_interruption_certificate(
        self, info: Info[Context, None], input: IssueInterruptionCertificateInput
    ) -> ContractPayload:
        return await _change(
            info, "issueInterruptionCertificate", input,
            lambda: ct.CertificateRequest(_cid(input), input.expected_version, input.reason,
                                          input.interruption_date, input.departure_date, input.idempotency_key),
            contracts.issue_interruption_certificate)
