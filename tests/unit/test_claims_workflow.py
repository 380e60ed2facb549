"""Claim workflow: allowed transitions only, roles, coverage gate, reasons (SPEC §4.8)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import RuleError
from domain.claims.workflow import (
    ActorRole,
    ClaimAction,
    ClaimState,
    ClaimStatus,
    CoverageState,
    available_actions,
    initial_state,
    transition,
    with_coverage,
)

S, A, R, C = ClaimStatus, ClaimAction, ActorRole, CoverageState


def st_(status: ClaimStatus, coverage: CoverageState = C.COVERED) -> ClaimState:
    return ClaimState(status, coverage)


def _code(state: ClaimState, action: ClaimAction, role: ActorRole, **kw: object) -> str:
    with pytest.raises(RuleError) as e:
        transition(state, action, role, **kw)  # type: ignore[arg-type]
    return e.value.code


def test_happy_path_report_to_close() -> None:
    s = initial_state(C.COVERED, R.POLICYHOLDER)
    assert s.status is S.REPORTED
    for action, expected in [(A.REVIEW, S.UNDER_REVIEW), (A.APPROVE, S.APPROVED), (A.PAY, S.PAID),
                             (A.PAY, S.PAID), (A.CLOSE, S.CLOSED)]:
        s = transition(s, action, R.STAFF).after
        assert s.status is expected
    reopened = transition(s, A.REOPEN, R.STAFF, reason="new invoice from the repairer")
    assert reopened.after.status is S.UNDER_REVIEW
    assert reopened.reason == "new invoice from the repairer"


def test_every_role_may_report() -> None:
    for role in ActorRole:
        assert initial_state(C.COVERAGE_PENDING, role).coverage is C.COVERAGE_PENDING


def test_paying_a_denied_claim_is_refused() -> None:
    assert _code(st_(S.DENIED), A.PAY, R.STAFF) == "CLAIM_DENIED"


def test_policyholder_may_only_withdraw() -> None:
    state = st_(S.UNDER_REVIEW)
    assert available_actions(state, R.POLICYHOLDER) == (A.WITHDRAW,)
    assert _code(state, A.APPROVE, R.POLICYHOLDER) == "ACTION_NOT_ALLOWED"
    assert _code(state, A.APPROVE, R.AGENT) == "ACTION_NOT_ALLOWED"


def test_withdraw_needs_a_reason_and_flags_repayment_after_payment() -> None:
    assert _code(st_(S.PAID), A.WITHDRAW, R.POLICYHOLDER) == "REASON_REQUIRED"
    t = transition(st_(S.PAID), A.WITHDRAW, R.POLICYHOLDER, reason="paying the repair myself",
                   paid_total=120_000)
    assert t.after.status is S.WITHDRAWN and t.repayment_due
    early = transition(st_(S.REPORTED), A.WITHDRAW, R.POLICYHOLDER, reason="no damage after all")
    assert not early.repayment_due


def test_deny_needs_a_reason() -> None:
    assert _code(st_(S.UNDER_REVIEW), A.DENY, R.STAFF) == "REASON_REQUIRED"
    assert transition(st_(S.UNDER_REVIEW), A.DENY, R.STAFF, reason="before the contract").after.status is S.DENIED


def test_pending_coverage_blocks_approval_and_payment() -> None:
    pending = st_(S.UNDER_REVIEW, C.COVERAGE_PENDING)
    assert _code(pending, A.APPROVE, R.STAFF) == "COVERAGE_PENDING"
    assert A.APPROVE not in available_actions(pending, R.STAFF)
    assert A.DENY in available_actions(pending, R.STAFF)
    assert _code(st_(S.UNDER_REVIEW, C.NOT_COVERED), A.APPROVE, R.STAFF) == "NOT_COVERED"
    # the window confirms: the worker re-decides coverage, approval becomes possible
    covered = with_coverage(pending, C.COVERED)
    assert A.APPROVE in available_actions(covered, R.STAFF)


def test_coverage_cannot_be_removed_from_a_paid_claim() -> None:
    with pytest.raises(RuleError) as e:
        with_coverage(st_(S.PAID), C.NOT_COVERED)
    assert e.value.code == "CLAIM_ALREADY_PAID"


def test_invalid_transitions() -> None:
    assert _code(st_(S.REPORTED), A.PAY, R.STAFF) == "INVALID_TRANSITION"
    assert _code(st_(S.REPORTED), A.APPROVE, R.STAFF) == "INVALID_TRANSITION"
    assert _code(st_(S.WITHDRAWN), A.REOPEN, R.STAFF, reason="x") == "INVALID_TRANSITION"
    assert _code(st_(S.CLOSED), A.CLOSE, R.STAFF) == "INVALID_TRANSITION"


def test_role_parse() -> None:
    assert ActorRole.parse("policyholder") is R.POLICYHOLDER
    with pytest.raises(RuleError):
        ActorRole.parse("hacker")


def test_available_actions_agree_with_transition() -> None:
    for status, cov, role in itertools.product(ClaimStatus, CoverageState, ActorRole):
        state = ClaimState(status, cov)
        allowed = set(available_actions(state, role))
        for action in ClaimAction:
            try:
                transition(state, action, role, reason="because")
                ok = True
            except RuleError:
                ok = False
            assert ok == (action in allowed), (status, cov, role, action)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(ClaimAction)), st.sampled_from(list(ActorRole))),
                max_size=15))
def test_random_walks_never_pay_denied_or_uncovered(steps: list[tuple[ClaimAction, ActorRole]]) -> None:
    s = initial_state(C.COVERED, R.POLICYHOLDER)
    for action, role in steps:
        before = s
        try:
            s = transition(s, action, role, reason="r").after
        except RuleError:
            continue
        if action is A.PAY:
            assert before.status in (S.APPROVED, S.PAID) and before.coverage is C.COVERED
        if before.status is S.WITHDRAWN:
            pytest.fail("withdrawn is final")
