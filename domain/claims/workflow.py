"""Claim workflow (SPEC §4.8): statuses, who may do what, and the only allowed transitions.

Pure. `REPORTED → UNDER_REVIEW → APPROVED / DENIED → PAID → CLOSED`, reopen allowed.
Coverage is a separate axis (`CoverageState`): a claim can be under review while its coverage
is still pending on a window or a first premium; it cannot be approved or paid until covered.
Policyholders (and agents for their customers) report and withdraw; staff do the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.calendar import RuleError
from domain.vocab import Labelled


class ClaimStatus(Labelled):
    REPORTED = ("REPORTED", "事故受付", "Reported")
    UNDER_REVIEW = ("UNDER_REVIEW", "審査中", "Under review")
    APPROVED = ("APPROVED", "支払承認", "Approved")
    DENIED = ("DENIED", "不払決定", "Denied")
    PAID = ("PAID", "支払済", "Paid")
    CLOSED = ("CLOSED", "完了", "Closed")
    # The policyholder withdrew the claim (and paid back anything received): it does not count
    # for the grade (SPEC §4.2, §4.8).
    WITHDRAWN = ("WITHDRAWN", "取下げ", "Withdrawn")


class CoverageState(Labelled):
    COVERED = ("COVERED", "補償対象", "Covered")
    NOT_COVERED = ("NOT_COVERED", "補償対象外", "Not covered")
    COVERAGE_PENDING = ("COVERAGE_PENDING", "補償判定保留", "Coverage pending")


class ClaimAction(Labelled):
    REVIEW = ("REVIEW", "審査開始", "Start review")
    APPROVE = ("APPROVE", "支払承認", "Approve")
    DENY = ("DENY", "不払決定", "Deny")
    PAY = ("PAY", "支払", "Pay")
    CLOSE = ("CLOSE", "完了", "Close")
    REOPEN = ("REOPEN", "再開", "Reopen")
    WITHDRAW = ("WITHDRAW", "取下げ", "Withdraw")


class ActorRole(Labelled):
    """Mirrors the API roles (api/auth.py Role); the pure domain cannot import the API."""

    POLICYHOLDER = ("POLICYHOLDER", "契約者", "Policyholder")
    AGENT = ("AGENT", "代理店", "Agent")
    STAFF = ("STAFF", "社員(損害担当)", "Staff")
    ADMIN = ("ADMIN", "管理者", "Administrator")

    @classmethod
    def parse(cls, value: str) -> ActorRole:
        try:
            return cls(value.upper())
        except ValueError:
            raise RuleError("UNKNOWN_ROLE", "role", f"unknown role {value!r}") from None

    @property
    def is_staff(self) -> bool:
        return self in (ActorRole.STAFF, ActorRole.ADMIN)


# Who may report a claim (FNOL): issue 6 item 1.
REPORTERS: frozenset[ActorRole] = frozenset(ActorRole)

_S = ClaimStatus
_A = ClaimAction

# (from, action) → to. Anything not here is refused.
_TRANSITIONS: dict[tuple[ClaimStatus, ClaimAction], ClaimStatus] = {
    (_S.REPORTED, _A.REVIEW): _S.UNDER_REVIEW,
    (_S.REPORTED, _A.DENY): _S.DENIED,            # e.g. accident before the contract
    (_S.UNDER_REVIEW, _A.APPROVE): _S.APPROVED,
    (_S.UNDER_REVIEW, _A.DENY): _S.DENIED,
    (_S.APPROVED, _A.PAY): _S.PAID,
    (_S.PAID, _A.PAY): _S.PAID,                   # further payments on the same claim
    (_S.APPROVED, _A.DENY): _S.DENIED,            # approval withdrawn before any payment
    (_S.PAID, _A.CLOSE): _S.CLOSED,
    (_S.DENIED, _A.CLOSE): _S.CLOSED,
    (_S.APPROVED, _A.CLOSE): _S.CLOSED,           # approved, settled at nil (e.g. below deductible)
    (_S.CLOSED, _A.REOPEN): _S.UNDER_REVIEW,
    (_S.DENIED, _A.REOPEN): _S.UNDER_REVIEW,
    (_S.REPORTED, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.UNDER_REVIEW, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.APPROVED, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.PAID, _A.WITHDRAW): _S.WITHDRAWN,         # the policyholder pays the money back
    (_S.CLOSED, _A.WITHDRAW): _S.WITHDRAWN,
}

_CUSTOMER_ACTIONS = frozenset({_A.WITHDRAW})
_STAFF_ACTIONS = frozenset(set(ClaimAction) - {_A.WITHDRAW})
# Staff may record a withdrawal the customer asked for on the phone.
_ALLOWED: dict[ActorRole, frozenset[ClaimAction]] = {
    ActorRole.POLICYHOLDER: _CUSTOMER_ACTIONS,
    ActorRole.AGENT: _CUSTOMER_ACTIONS,
    ActorRole.STAFF: frozenset(ClaimAction),
    ActorRole.ADMIN: frozenset(ClaimAction),
}

# Actions that need a written reason (the audit trail of issue 6 item 2 keeps it).
REASON_REQUIRED: frozenset[ClaimAction] = frozenset({_A.DENY, _A.REOPEN, _A.WITHDRAW})


@dataclass(frozen=True, slots=True)
class ClaimState:
    status: ClaimStatus
    coverage: CoverageState


@dataclass(frozen=True, slots=True)
class Transition:
    """An accepted transition; the caller stores it as an event with actor, time and reason."""

    action: ClaimAction
    before: ClaimState
    after: ClaimState
    role: ActorRole
    reason: str
    # Withdrawing after money went out: the policyholder must pay it back before renewal for
    # the claim to stop counting (SPEC §4.2).
    repayment_due: bool = False


def initial_state(coverage: CoverageState, role: ActorRole) -> ClaimState:
    """State of a claim at first notice of loss."""
    if role not in REPORTERS:
        raise RuleError("ACTION_NOT_ALLOWED", "role", f"{role.value} may not report a claim")
    return ClaimState(ClaimStatus.REPORTED, coverage)


def _refusal(state: ClaimState, action: ClaimAction, role: ActorRole) -> RuleError | None:
    if action not in _ALLOWED[role]:
        return RuleError(
            "ACTION_NOT_ALLOWED", "action", f"{role.en} may not {action.en.lower()} a claim"
        )
    if action is _A.PAY and state.status is _S.DENIED:
        return RuleError("CLAIM_DENIED", "action", "a denied claim cannot be paid")
    if (state.status, action) not in _TRANSITIONS:
        return RuleError(
            "INVALID_TRANSITION",
            "action",
            f"cannot {action.en.lower()} a claim that is {state.status.en.lower()}",
        )
    if action in (_A.APPROVE, _A.PAY) and state.coverage is not CoverageState.COVERED:
        code = (
            "COVERAGE_PENDING"
            if state.coverage is CoverageState.COVERAGE_PENDING
            else "NOT_COVERED"
        )
        return RuleError(
            code, "action", f"cannot {action.en.lower()}: coverage is {state.coverage.en.lower()}"
        )
    return None


def transition(
    state: ClaimState, action: ClaimAction, role: ActorRole, *, reason: str = "", paid_total: int = 0
) -> Transition:
    """Apply `action` by `role` or raise RuleError (ACTION_NOT_ALLOWED, INVALID_TRANSITION,
    CLAIM_DENIED, COVERAGE_PENDING, NOT_COVERED, REASON_REQUIRED)."""
    err = _refusal(state, action, role)
    if err is not None:
        raise err
    if action in REASON_REQUIRED and not reason.strip():
        raise RuleError("REASON_REQUIRED", "reason", f"{action.en} needs a reason")
    after = ClaimState(_TRANSITIONS[(state.status, action)], state.coverage)
    return Transition(
        action=action,
        before=state,
        after=after,
        role=role,
        reason=reason.strip(),
        repayment_due=action is _A.WITHDRAW and paid_total > 0,
    )


def available_actions(state: ClaimState, role: ActorRole) -> tuple[ClaimAction, ...]:
    """What `role` may do now, in a stable order (for the API's availableActions)."""
    return tuple(a for a in ClaimAction if _refusal(state, a, role) is None)


def with_coverage(state: ClaimState, coverage: CoverageState) -> ClaimState:
    """A re-decided coverage (a window confirmed, downgraded or voided; the first premium paid).

    Coverage cannot be taken away from a claim that was already paid: that is a staff matter
    (close, reopen, recover), not a worker's.
    """
    if state.status is _S.PAID and coverage is not CoverageState.COVERED:
        raise RuleError(
            "CLAIM_ALREADY_PAID",
            "coverage",
            "the claim was already paid; a staff member must review it to change its coverage",
        )
    return ClaimState(state.status, coverage)
