"""Requests and results of the contract use cases (the contract with the GraphQL layer).

Frozen dataclasses of plain values only (ints, str, dates, enums, tuples, nested dataclasses) so
`domain.jsoncodec.to_json` stores a result for idempotent replay and `from_json` brings it back.
Contract-changing requests carry `contract_id` and `expected_version` (the contract's
`lock_version`); a stale one is refused with VERSION_CONFLICT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import YearMonth
from domain.fleet import FleetFacts
from domain.grade import GradeRecord
from domain.grade_continuity import InterruptionReason
from domain.products.model import MemberRank, UsePurpose
from domain.rating import Premium
from domain.store.party_repo import PartyKind
from domain.vocab import (
    AccidentClass,
    AgeCondition,
    Channel,
    ContractStatus,
    DriverRestriction,
    Fuel,
    Labelled,
    LicenceColour,
    PaymentMethod,
    Relationship,
    UseType,
)

# --- parties and vehicles -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterParty:
    """A person (driver, named insured, policyholder) or a corporation (policyholder, owner).

    `account_party_id`: the policyholder whose book the party belongs to; None registers a
    policyholder (their own account). A policyholder caller registers into their own account
    (None means theirs); an agent registers into their agency.
    """

    kind: PartyKind
    name_kanji: str
    name_kana: str | None = None
    name_en: str | None = None
    birth_date: date | None = None
    postal_code: str | None = None
    address_ja: str | None = None
    address_en: str | None = None
    licence_colour: LicenceColour | None = None
    licence_date: date | None = None
    account_party_id: int | None = None
    agency_id: int | None = None  # staff only; an agent's own agency is taken from the actor


@dataclass(frozen=True, slots=True)
class RegisterVehicle:
    """`rating_classes` are keyed by rating-class group (BI, PD, INJURY, VEHICLE) → 1..17."""

    use_type: UseType
    registration_no: str | None = None
    chassis_no: str | None = None
    model_code: str | None = None
    first_registration: YearMonth | None = None
    model_release: YearMonth | None = None
    rating_classes: tuple[tuple[str, int], ...] = ()
    aeb: bool = False
    fuel: Fuel | None = None
    welfare: bool = False
    value_yen: int | None = None
    owner_party_id: int | None = None
    account_party_id: int | None = None
    agency_id: int | None = None  # staff only


# --- quotes -------------------------------------------------------------------------------------


class GradeOrigin(Labelled):
    """Where a new contract's non-fleet grade comes from (SPEC §4.2)."""

    NEW = ("NEW", "新規", "New contract: 6(S)")
    SECOND_CAR = ("SECOND_CAR", "複数所有新規", "Second car of a household: 7(S)")
    OTHER_INSURER = ("OTHER_INSURER", "他社からの切替", "Previous contract with another insurer")
    INTERRUPTION_CERTIFICATE = ("INTERRUPTION_CERTIFICATE", "中断証明書による新規", "New contract from an interruption certificate")


@dataclass(frozen=True, slots=True)
class DriverInput:
    """A driver: relationship to the named insured; licence colour and date come from the party."""

    party_id: int
    relationship: Relationship


@dataclass(frozen=True, slots=True)
class CoverageInput:
    code: str
    option: str | None = None  # None: the coverage's default option


@dataclass(frozen=True, slots=True)
class PreviousContract:
    """A declared previous contract (another insurer) for grade origin OTHER_INSURER.

    `grade`/`period` are that contract's own record; the new contract gets its renewal outcome
    over `accidents`, kept only if the gap rule allows (004 L1264).
    """

    grade: int
    period: int
    end_date: date  # expiry or cancellation date
    accidents: tuple[AccidentClass, ...] = ()
    rescinded: bool = False
    term_at_least_one_year: bool = True


@dataclass(frozen=True, slots=True)
class SecondCarDeclaration:
    """The household's first car (may be with another insurer, 002b L4400)."""

    first_car_grade: int
    first_car_term_years: int = 1
    first_car_in_force_on_start: bool = True
    first_car_private_eight: bool = True
    named_insured_relationship: Relationship = Relationship.SELF  # to the first car's named insured
    owner_relationship: Relationship = Relationship.SELF
    owner_is_first_car_owner: bool = True


@dataclass(frozen=True, slots=True)
class DiscountInput:
    multi_car_count: int = 1
    member_rank: MemberRank | None = None
    telematics_plan: bool = False
    telematics_first_time: bool = False
    telematics_score: int | None = None
    one_day_policy_count: int = 0
    partner_plan: bool = False
    large_instalment: bool = False


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    product_id: str
    start_date: date
    policyholder_id: int
    named_insured_id: int
    vehicle_id: int
    coverages: tuple[CoverageInput, ...]
    drivers: tuple[DriverInput, ...] = ()
    term_months: int = 12
    channel: Channel = Channel.AGENT
    agency_id: int | None = None  # staff; an agent's is their own, INTERNET has none
    riders: tuple[str, ...] = ()
    age_condition: AgeCondition = AgeCondition.ANY
    driver_restriction: DriverRestriction = DriverRestriction.NONE
    use_purpose: UsePurpose | None = None
    mileage_class: int | None = None
    payment_method: PaymentMethod = PaymentMethod.ANNUAL
    grade_origin: GradeOrigin = GradeOrigin.NEW
    previous_contract: PreviousContract | None = None  # OTHER_INSURER
    second_car: SecondCarDeclaration | None = None  # SECOND_CAR
    certificate_contract_id: int | None = None  # INTERRUPTION_CERTIFICATE: the interrupted contract
    discounts: DiscountInput = DiscountInput()
    repairability_percent: int = 0
    idempotency_key: str | None = None
    # A dry run (nothing is stored): staff may then price a start date that has passed, by the
    # tariff in force then (re-rating a back-dated application, answering a complaint).
    pricing_only: bool = False
    # A car joining a fleet (set by the fleets part only, never from createQuote's input).
    fleet: FleetFacts | None = None


# --- changes of a contract ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssueRequest:
    contract_id: int
    expected_version: int
    idempotency_key: str | None = None


class DriverAction(Labelled):
    ADD = ("ADD", "追加", "Add a driver")
    REMOVE = ("REMOVE", "削除", "Remove a driver")
    CHANGE = ("CHANGE", "変更", "Change a driver's relationship / licence")


@dataclass(frozen=True, slots=True)
class DriverChange:
    action: DriverAction
    party_id: int
    relationship: Relationship | None = None  # ADD and CHANGE


@dataclass(frozen=True, slots=True)
class CoverageChange:
    """Add a coverage (absent), change its option (present) or remove it."""

    code: str
    option: str | None = None
    remove: bool = False


@dataclass(frozen=True, slots=True)
class AddressChange:
    """The policyholder's address (and the named insured's when it is the same party)."""

    postal_code: str | None
    address_ja: str
    address_en: str | None = None


@dataclass(frozen=True, slots=True)
class EndorseChanges:
    """Any subset; None / empty = unchanged."""

    address: AddressChange | None = None
    named_insured_id: int | None = None
    drivers: tuple[DriverChange, ...] = ()
    age_condition: AgeCondition | None = None
    driver_restriction: DriverRestriction | None = None
    coverages: tuple[CoverageChange, ...] = ()
    riders_add: tuple[str, ...] = ()
    riders_remove: tuple[str, ...] = ()
    use_purpose: UsePurpose | None = None
    mileage_class: int | None = None


@dataclass(frozen=True, slots=True)
class EndorseRequest:
    contract_id: int
    expected_version: int
    effective_date: date  # in force from 16:00 JST of this date
    changes: EndorseChanges
    reason: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class RenewRequest:
    contract_id: int
    expected_version: int
    # Grade classes of the expiring term's counted accidents; empty: the term's claims (claims.handling.term_claims).
    accidents: tuple[AccidentClass, ...] = ()
    idempotency_key: str | None = None
    # A renewal inside the forgotten-renewal window counts only with its premium paid (SPEC §4.6.1).
    premium_paid: bool = False
    offer_id: int | None = None   # the renewal offer to accept (OFFER_OUTDATED when its inputs changed)


@dataclass(frozen=True, slots=True)
class CancelRequest:
    contract_id: int
    expected_version: int
    effective_date: date  # cover ends 16:00 JST of this date; on/before the start: full refund
    reason: str
    cooling_off: bool = False  # the policyholder invokes cooling-off (クーリングオフ)
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ReinstateRequest:
    contract_id: int
    expected_version: int
    reason: str
    idempotency_key: str | None = None


class RescissionReason(Labelled):
    NON_PAYMENT = ("NON_PAYMENT", "保険料不払", "Premium not paid")
    MISREPRESENTATION = ("MISREPRESENTATION", "告知義務違反", "Misrepresentation at application")


@dataclass(frozen=True, slots=True)
class RescindRequest:
    contract_id: int
    expected_version: int
    reason: RescissionReason
    effective_date: date
    note: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    contract_id: int
    expected_version: int
    reason: InterruptionReason
    interruption_date: date  # the contract's cancellation date or expiry date (004 L1431)
    departure_date: date | None = None  # OVERSEAS
    idempotency_key: str | None = None


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field of a dry-run diff: dotted path, values as display strings."""

    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class MoneyStep:
    """One line of a premium-delta or refund explanation that a person can re-add by hand."""

    name: str
    value: str
    rule: str


@dataclass(frozen=True, slots=True)
class Certificate:
    """An issued interruption certificate (中断証明書)."""

    grade: GradeRecord
    reason: InterruptionReason
    interruption_date: date
    issued_on: date
    request_deadline: date  # 5 years from the interruption date (004 L1431)
    valid_until: date  # a new contract must start by this date (decision: 10 years)


@dataclass(frozen=True, slots=True)
class ContractChange:
    """What every contract use case answers (quote, issue, endorse, renew, cancel, ...).

    `premium_before_yen`/`premium_after_yen` are term premiums of the version before and after;
    `premium_delta_yen` is what is charged (+) or returned (−) now, with `delta_steps`.
    """

    contract_id: int
    policy_number: str
    transaction_id: int
    transaction_kind: str
    statuses: tuple[ContractStatus, ...]
    lock_version: int
    term_no: int
    effective_at: datetime
    premium_before_yen: int
    premium_after_yen: int
    premium_delta_yen: int
    delta_steps: tuple[MoneyStep, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    version_id: int | None = None
    grade: GradeRecord | None = None
    tariff_version: str | None = None
    certificate: Certificate | None = None
    premium: Premium | None = None  # the price of the version written (quote, issue, endorse, renew)
