"""Claim documents per claim type and what is still missing."""

from __future__ import annotations

import pytest

from domain.calendar import RuleError
from domain.claims.documents import (
    ClaimType,
    Document,
    documents_for,
    missing_documents,
    required_documents,
)


def docs(t: ClaimType, **kw: int) -> set[Document]:
    return {r.document for r in required_documents(t, **kw)}


# 003 L56: ¥50,000 or less → declaration, receipts and patient card, no medical certificate
def test_kyosai_small_injury_claim_needs_no_medical_certificate() -> None:
    small = docs(ClaimType.KYOSAI_INJURY, amount_claimed=50_000)
    assert {Document.TREATMENT_DECLARATION, Document.RECEIPTS, Document.PATIENT_CARD} <= small
    assert Document.MEDICAL_CERTIFICATE not in small
    assert Document.MEDICAL_CERTIFICATE in docs(ClaimType.KYOSAI_INJURY, amount_claimed=50_001)


# 003 L54: accident certificate, death certificate, estimates, receipts, report on the benefit's use
def test_kyosai_lists() -> None:
    assert {Document.ACCIDENT_CERTIFICATE, Document.DEATH_CERTIFICATE} <= docs(ClaimType.KYOSAI_DEATH)
    assert Document.BENEFIT_USE_REPORT in docs(ClaimType.KYOSAI_VEHICLE)


# 004 L1503-1506: identity, other insurance breakdown, inspection certificate, consent form
def test_tokio_extra_documents() -> None:
    assert Document.IDENTITY in docs(ClaimType.DEATH)
    assert Document.VEHICLE_INSPECTION_CERTIFICATE in docs(ClaimType.VEHICLE_THEFT)
    assert Document.CONSENT_FORM in docs(ClaimType.OWN_INJURY)


# 003 L179-181: road-service costs: receipts and the special claim form
def test_road_assistance_reimbursement() -> None:
    assert docs(ClaimType.ROAD_ASSISTANCE) == {Document.ROAD_SERVICE_CLAIM_FORM, Document.RECEIPTS}


def test_every_claim_type_has_a_list_with_sources() -> None:
    for t in ClaimType:
        reqs = required_documents(t, amount_claimed=100_000)
        assert reqs and all(r.source for r in reqs)


def test_missing_and_union() -> None:
    need = documents_for([ClaimType.PROPERTY_DAMAGE_LIABILITY, ClaimType.VEHICLE_DAMAGE])
    assert len({r.document for r in need}) == len(need)              # each document once
    left = missing_documents(need, [Document.CLAIM_FORM, Document.PHOTOS])
    assert Document.CLAIM_FORM not in {r.document for r in left}
    assert Document.REPAIR_ESTIMATE in {r.document for r in left}
    assert missing_documents(need, [r.document for r in need]) == ()
    with pytest.raises(RuleError):
        required_documents(ClaimType.OWN_INJURY, amount_claimed=-1)
