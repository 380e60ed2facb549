"""Claims rules (issue 6), pure: workflow, coverage at the accident moment, lines and payments,
kyosai benefits, grade impact, the claim-or-pay advisor, assistance limits and documents.

Import from the submodules (`domain.claims.workflow`, `.coverage`, `.lines`, `.kyosai`,
`.impact`, `.advisor`, `.assistance`, `.documents`); the names below are the main entry points.
"""

from domain.claims.advisor import Advice, ClaimImpact, claim_impact
from domain.claims.assistance import (
    AssistanceDecision,
    AssistanceRequest,
    AssistanceUse,
    ContractContext,
    request_assistance,
)
from domain.claims.coverage import (
    AccidentFacts,
    CoverageDecision,
    PremiumStatus,
    Term,
    VersionFacts,
    WindowFacts,
    WindowOutcome,
    decide_coverage,
    fnol_refusal,
)
from domain.claims.documents import ClaimType, Document, missing_documents, required_documents
from domain.claims.impact import ClaimGradeImpact, GradeOverride, claim_grade_impact
from domain.claims.lines import (
    ClaimLine,
    LineTerms,
    Payment,
    open_line,
    record_payment,
    settle,
    terms_for,
)
from domain.claims.workflow import (
    ActorRole,
    ClaimAction,
    ClaimState,
    ClaimStatus,
    CoverageState,
    available_actions,
    initial_state,
    transition,
)

__all__ = [
    "AccidentFacts", "ActorRole", "Advice", "AssistanceDecision", "AssistanceRequest",
    "AssistanceUse", "ClaimAction", "ClaimGradeImpact", "ClaimImpact", "ClaimLine", "ClaimState",
    "ClaimStatus", "ClaimType", "ContractContext", "CoverageDecision", "CoverageState", "Document",
    "GradeOverride", "LineTerms", "Payment", "PremiumStatus", "Term", "VersionFacts", "WindowFacts",
    "WindowOutcome", "available_actions", "claim_grade_impact", "claim_impact", "decide_coverage",
    "fnol_refusal", "initial_state", "missing_documents", "open_line",
    "record_payment", "request_assistance", "required_documents", "settle", "terms_for",
    "transition",
]
