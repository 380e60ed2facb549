"""Redeeming an interruption certificate (中断証明書, 004 L1427-1437): a new contract starts from
the frozen grade and accident-coefficient period of the interrupted one.

The certificate is the interrupted contract's ISSUE_INTERRUPTION_CERTIFICATE transaction (see
endings.issue_certificate). A new contract redeems it with `grade_origin = INTERRUPTION_CERTIFICATE`
and `certificate_contract_id`; the quote transaction records which certificate it redeems, so
"already used" is a question PostgreSQL answers. Rules (decisions in docs/decisions.md):

- the certificate exists and the caller may see its contract (otherwise "not found");
- it belongs to the same named insured (the frozen grade is that person's record);
- the new contract starts after the interruption date and by `validUntil` (10 years);
- it is used once: a contract that was issued with it (and not rescinded) uses it up; a quote
  alone does not, so quoting twice to compare is allowed, and issuing re-checks under a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.grade import GradeMarker, GradeRecord
from domain.grade_continuity import (
    InterruptionCertificate,
    InterruptionReason,
    record_from_certificate,
)
from domain.services.access import Actor
from domain.services.contracts.support import visible_contract
from domain.services.errors import refuse
from domain.store.uow import UnitOfWork

FIELD = "input.certificateContractId"


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A certificate a new contract may start from."""

    contract_id: int
    policy_number: str
    record: GradeRecord  # the frozen record as the new contract takes it
    interruption_date: date
    valid_until: date


async def _certificate(uow: UnitOfWork, contract_id: int) -> tuple[InterruptionCertificate, date] | None:
    row = await uow.conn.fetchrow(
        """SELECT explanation -> 'certificate' AS cert FROM transactions
           WHERE contract_id = $1 AND kind = 'ISSUE_INTERRUPTION_CERTIFICATE' ORDER BY id DESC LIMIT 1""",
        contract_id)
    if row is None or row["cert"] is None:
        return None
    p = row["cert"]
    record = GradeRecord(int(p["grade"]), GradeMarker(p["marker"]), int(p["period"]))
    cert = InterruptionCertificate(record, InterruptionReason(p["reason"]), date.fromisoformat(p["interruptionDate"]),
                                   date.fromisoformat(p["issuedOn"]))
    return cert, date.fromisoformat(p["validUntil"])


async def used_by(uow: UnitOfWork, certificate_contract_id: int, *, other_than: int | None = None) -> str | None:
    """The policy number of the contract that used the certificate up (issued, not rescinded)."""
    number: str | None = await uow.conn.fetchval(
        """SELECT c.policy_number FROM transactions q JOIN contracts c ON c.id = q.contract_id
           WHERE q.kind = 'QUOTE' AND (q.explanation ->> 'certificateContractId')::bigint = $1
             AND c.id IS DISTINCT FROM $2 AND NOT c.statuses && ARRAY['QUOTED', 'RESCINDED']
           ORDER BY c.id LIMIT 1""",
        certificate_contract_id, other_than)
    return number


async def redeem(uow: UnitOfWork, actor: Actor, certificate_contract_id: int | None, *, named_insured_id: int,
                 start: date, contract_id: int | None = None) -> Redeemed:
    """Check that a new contract starting on `start` may use the certificate; its frozen record."""
    if certificate_contract_id is None:
        raise refuse("CERTIFICATE_REQUIRED", FIELD, "name the interrupted contract whose certificate is used")
    # Locked (visible_contract reads FOR UPDATE): two contracts issued at once cannot both use it.
    interrupted = await visible_contract(uow, actor, certificate_contract_id)
    found = await _certificate(uow, interrupted.id)
    if found is None:
        raise refuse("CERTIFICATE_NOT_FOUND", FIELD,
                     f"{interrupted.policy_number} has no interruption certificate (004 L1427-1431)")
    cert, valid_until = found
    holder = await uow.conn.fetchval(
        """SELECT named_insured_id FROM contract_versions WHERE contract_id = $1 AND superseded_at IS NULL
           ORDER BY lower(valid) DESC LIMIT 1""", interrupted.id)
    if holder != named_insured_id:
        raise refuse("CERTIFICATE_OTHER_NAMED_INSURED", FIELD,
                     f"the certificate of {interrupted.policy_number} carries its named insured's grade; "
                     "the new contract must name the same person")
    if start <= cert.interruption_date:
        raise refuse("CERTIFICATE_NOT_YET_USABLE", "input.startDate",
                     f"the new contract must start after the interruption date {cert.interruption_date}")
    if start > valid_until:
        raise refuse("CERTIFICATE_EXPIRED", "input.startDate",
                     f"the certificate of {interrupted.policy_number} was valid for a start by {valid_until}")
    other = await used_by(uow, interrupted.id, other_than=contract_id)
    if other is not None:
        raise refuse("CERTIFICATE_ALREADY_USED", FIELD,
                     f"the certificate of {interrupted.policy_number} was used by {other}")
    return Redeemed(interrupted.id, interrupted.policy_number, record_from_certificate(cert),
                    cert.interruption_date, valid_until)
