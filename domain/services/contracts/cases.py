"""The contract use cases (SPEC §3, §4.1–§4.4): one import for the API and the workers.

Renewal is the renewals part's (`domain.services.renewals.renew`): it prices through the offer.

Every use case is `async def name(uow, actor, request, now) -> result`: it checks access first
(an id the actor may not see is "not found", like a missing one), then the expected lock version,
then `domain.lifecycle.check`, then the rules; it writes the transaction row, the versions, the
grade records and the outbox events in the caller's unit of work and never commits (a dry run
is the same call in a unit of work that rolls back). `now` comes from the caller's clock.
Refusals are `domain.services.errors.Refused` (or a store `VersionConflict`), all with codes.
"""

from __future__ import annotations

from domain.services.contracts.changes import endorse_contract
from domain.services.contracts.endings import (
    cancel_contract,
    reinstate_contract,
    rescind_contract,
)
from domain.services.contracts.endings import (
    issue_certificate as issue_interruption_certificate,
)
from domain.services.contracts.parties import register_party, register_vehicle
from domain.services.contracts.quote import create_quote, issue_contract
from domain.services.contracts.support import EventKind
from domain.services.contracts.types import (
    AddressChange,
    CancelRequest,
    Certificate,
    CertificateRequest,
    ContractChange,
    CoverageChange,
    CoverageInput,
    DiscountInput,
    DriverAction,
    DriverChange,
    DriverInput,
    EndorseChanges,
    EndorseRequest,
    FieldChange,
    GradeOrigin,
    IssueRequest,
    MoneyStep,
    PreviousContract,
    QuoteRequest,
    RegisterParty,
    RegisterVehicle,
    ReinstateRequest,
    RenewRequest,
    RescindRequest,
    RescissionReason,
    SecondCarDeclaration,
)

__all__ = [
    "AddressChange", "CancelRequest", "Certificate", "CertificateRequest", "ContractChange",
    "CoverageChange", "CoverageInput", "DiscountInput", "DriverAction", "DriverChange", "DriverInput",
    "EndorseChanges", "EndorseRequest", "EventKind", "FieldChange", "GradeOrigin", "IssueRequest",
    "MoneyStep", "PreviousContract", "QuoteRequest", "RegisterParty", "RegisterVehicle",
    "ReinstateRequest", "RenewRequest", "RescindRequest", "RescissionReason", "SecondCarDeclaration",
    "cancel_contract", "create_quote", "endorse_contract", "issue_contract",
    "issue_interruption_certificate", "register_party", "register_vehicle", "reinstate_contract",
    "rescind_contract",
]
