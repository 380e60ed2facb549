"""Documents a claimant must send, per claim type, and what is still missing.

Pure. The pamphlets give lists only in part: kyosai 003 L54-56 (accident certificate, death
certificate, medical certificate, estimates, receipts, report on the use of the benefit; for
¥50,000 or less a treatment declaration, receipts and the patient card instead of a medical
certificate), tokio 004 L1499-1506 (identity, other insurance's payment breakdown, vehicle
inspection certificate, consent form) and road service 003 L179-181 (receipts and the special
claim form). Rakuten says nothing (001 §9.20). The rest is the usual Japanese claim file,
recorded as a decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.calendar import RuleError
from domain.claims.kyosai import medical_certificate_needed
from domain.vocab import Labelled


class Document(Labelled):
    CLAIM_FORM = ("CLAIM_FORM", "保険金・共済金請求書", "Claim form")
    ACCIDENT_CERTIFICATE = ("ACCIDENT_CERTIFICATE", "交通事故証明書", "Traffic accident certificate")
    ACCIDENT_REPORT = ("ACCIDENT_REPORT", "事故状況説明書", "Accident circumstances report")
    DEATH_CERTIFICATE = ("DEATH_CERTIFICATE", "死亡診断書(死体検案書)", "Death certificate")
    MEDICAL_CERTIFICATE = ("MEDICAL_CERTIFICATE", "診断書・医療証明書", "Medical certificate")
    TREATMENT_DECLARATION = ("TREATMENT_DECLARATION", "入通院申告書", "Hospital / outpatient declaration")
    PATIENT_CARD = ("PATIENT_CARD", "診察券(写)", "Patient card (copy)")
    RECEIPTS = ("RECEIPTS", "領収書", "Receipts")
    REPAIR_ESTIMATE = ("REPAIR_ESTIMATE", "修理見積書", "Repair estimate")
    REPAIR_INVOICE = ("REPAIR_INVOICE", "修理完了を確認できる書類", "Repair invoice (repair done)")
    PHOTOS = ("PHOTOS", "損害状況の写真", "Photos of the damage")
    BENEFIT_USE_REPORT = ("BENEFIT_USE_REPORT", "共済金使途に関する報告書", "Report on the use of the benefit")
    THEFT_REPORT = ("THEFT_REPORT", "盗難届出受理番号", "Police theft report number")
    IDENTITY = ("IDENTITY", "印鑑証明書・住民票・戸籍謄本", "Seal, residence or family register certificate")
    OTHER_INSURANCE_BREAKDOWN = ("OTHER_INSURANCE_BREAKDOWN", "他の保険等の支払内容",
                                 "Payments by other insurance (breakdown)")
    VEHICLE_INSPECTION_CERTIFICATE = ("VEHICLE_INSPECTION_CERTIFICATE", "車検証",
                                      "Vehicle inspection certificate")
    CONSENT_FORM = ("CONSENT_FORM", "同意書", "Consent form")
    LOST_INCOME_PROOF = ("LOST_INCOME_PROOF", "休業損害証明書", "Proof of lost income")
    DAMAGE_CLAIM_FROM_OTHER_PARTY = ("DAMAGE_CLAIM_FROM_OTHER_PARTY", "相手方の損害額を確認できる書類",
                                     "The other party's damage claim")
    ROAD_SERVICE_CLAIM_FORM = ("ROAD_SERVICE_CLAIM_FORM", "専用費用請求書", "Road-service expense claim form")


class ClaimType(Labelled):
    BODILY_INJURY_LIABILITY = ("BODILY_INJURY_LIABILITY", "対人賠償", "Injury to others")
    PROPERTY_DAMAGE_LIABILITY = ("PROPERTY_DAMAGE_LIABILITY", "対物賠償", "Damage to others' property")
    OWN_INJURY = ("OWN_INJURY", "人身傷害・搭乗者傷害", "Own / passenger injury")
    DEATH = ("DEATH", "死亡", "Death")
    VEHICLE_DAMAGE = ("VEHICLE_DAMAGE", "車両損害", "Damage to the insured car")
    VEHICLE_THEFT = ("VEHICLE_THEFT", "車両盗難", "Theft of the insured car")
    ROAD_ASSISTANCE = ("ROAD_ASSISTANCE", "ロードサービス費用", "Road-assistance costs (reimbursed)")
    KYOSAI_INJURY = ("KYOSAI_INJURY", "共済 入通院", "Mutual aid: hospital / outpatient")
    KYOSAI_DEATH = ("KYOSAI_DEATH", "共済 死亡", "Mutual aid: death")
    KYOSAI_VEHICLE = ("KYOSAI_VEHICLE", "共済 車両事故", "Mutual aid: vehicle accident")
    KYOSAI_PROPERTY = ("KYOSAI_PROPERTY", "共済 対物事故", "Mutual aid: property damage")


@dataclass(frozen=True, slots=True)
class Requirement:
    document: Document
    source: str                      # pamphlet line, or "decision"


_D = Document
_T = ClaimType
_DEC = "decision (docs/decisions: claim documents)"

_BASE: dict[ClaimType, tuple[tuple[Document, str], ...]] = {
    _T.BODILY_INJURY_LIABILITY: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, _DEC),
                                 (_D.ACCIDENT_REPORT, _DEC), (_D.MEDICAL_CERTIFICATE, _DEC),
                                 (_D.RECEIPTS, _DEC), (_D.LOST_INCOME_PROOF, _DEC),
                                 (_D.OTHER_INSURANCE_BREAKDOWN, "004 L1504"),
                                 (_D.CONSENT_FORM, "004 L1506")),
    _T.PROPERTY_DAMAGE_LIABILITY: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, _DEC),
                                   (_D.ACCIDENT_REPORT, _DEC), (_D.REPAIR_ESTIMATE, _DEC),
                                   (_D.PHOTOS, _DEC), (_D.DAMAGE_CLAIM_FROM_OTHER_PARTY, _DEC)),
    _T.OWN_INJURY: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, _DEC),
                    (_D.MEDICAL_CERTIFICATE, _DEC), (_D.RECEIPTS, _DEC),
                    (_D.OTHER_INSURANCE_BREAKDOWN, "004 L1504"), (_D.CONSENT_FORM, "004 L1506")),
    _T.DEATH: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, _DEC),
               (_D.DEATH_CERTIFICATE, _DEC), (_D.IDENTITY, "004 L1503"),
               (_D.OTHER_INSURANCE_BREAKDOWN, "004 L1504")),
    _T.VEHICLE_DAMAGE: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_REPORT, _DEC),
                        (_D.REPAIR_ESTIMATE, _DEC), (_D.PHOTOS, _DEC),
                        (_D.VEHICLE_INSPECTION_CERTIFICATE, "004 L1505")),
    _T.VEHICLE_THEFT: ((_D.CLAIM_FORM, _DEC), (_D.THEFT_REPORT, _DEC),
                       (_D.VEHICLE_INSPECTION_CERTIFICATE, "004 L1505"), (_D.IDENTITY, "004 L1503")),
    _T.ROAD_ASSISTANCE: ((_D.ROAD_SERVICE_CLAIM_FORM, "003 L179-181"), (_D.RECEIPTS, "003 L179-181; 001 L990")),
    _T.KYOSAI_DEATH: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, "003 L54"),
                      (_D.DEATH_CERTIFICATE, "003 L54")),
    _T.KYOSAI_VEHICLE: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, "003 L54"),
                        (_D.REPAIR_ESTIMATE, "003 L54"), (_D.RECEIPTS, "003 L54"),
                        (_D.BENEFIT_USE_REPORT, "003 L54")),
    _T.KYOSAI_PROPERTY: ((_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, "003 L54"),
                         (_D.REPAIR_ESTIMATE, "003 L54"), (_D.RECEIPTS, "003 L54"),
                         (_D.BENEFIT_USE_REPORT, "003 L54")),
}


def required_documents(claim_type: ClaimType, *, amount_claimed: int = 0) -> tuple[Requirement, ...]:
    """What the claimant must send for a claim of this type. For kyosai injury claims the amount
    decides: ¥50,000 or less needs a treatment declaration, receipts and the patient card
    (copies) instead of a medical certificate (003 L56)."""
    if amount_claimed < 0:
        raise RuleError("NEGATIVE_AMOUNT", "amountClaimed", "cannot be negative")
    if claim_type is _T.KYOSAI_INJURY:
        base = [(_D.CLAIM_FORM, _DEC), (_D.ACCIDENT_CERTIFICATE, "003 L54")]
        if medical_certificate_needed(amount_claimed):
            base += [(_D.MEDICAL_CERTIFICATE, "003 L54"), (_D.RECEIPTS, "003 L54")]
        else:
            base += [(_D.TREATMENT_DECLARATION, "003 L56"), (_D.RECEIPTS, "003 L56"),
                     (_D.PATIENT_CARD, "003 L56")]
        return tuple(Requirement(d, s) for d, s in base)
    return tuple(Requirement(d, s) for d, s in _BASE[claim_type])


def documents_for(claim_types: Iterable[ClaimType], *, amount_claimed: int = 0) -> tuple[Requirement, ...]:
    """The union for a claim with several types, each document once (first source kept)."""
    seen: dict[Document, Requirement] = {}
    for t in claim_types:
        for req in required_documents(t, amount_claimed=amount_claimed):
            seen.setdefault(req.document, req)
    return tuple(seen.values())


def missing_documents(required: Iterable[Requirement], received: Iterable[Document]) -> tuple[Requirement, ...]:
    got = frozenset(received)
    return tuple(r for r in required if r.document not in got)
