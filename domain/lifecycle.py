"""Which contract transactions are possible now, for whom (SPEC §4.4). Pure.

The same table answers `availableActions` on a contract and refuses a mutation, so a front end
that shows only the offered buttons never meets a refusal it could not have predicted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.calendar import RuleError
from domain.vocab import ContractStatus, Labelled

S = ContractStatus


class Role(Labelled):
    """The caller's role; SYSTEM is the workers."""

    POLICYHOLDER = ("policyholder", "契約者", "Policyholder")
    AGENT = ("agent", "代理店", "Agent")
    STAFF = ("staff", "保険会社担当者", "Insurer staff")
    ADMIN = ("admin", "管理者", "Administrator")
    SYSTEM = ("system", "システム", "System")


class Action(Labelled):
    ISSUE = ("ISSUE", "契約締結", "Issue the contract")
    ENDORSE = ("ENDORSE", "契約内容変更", "Endorse (change the contract)")
    RENEW = ("RENEW", "更新", "Renew")
    CANCEL = ("CANCEL", "解約", "Cancel")
    REINSTATE = ("REINSTATE", "復活", "Reinstate")
    RESCIND = ("RESCIND", "解除", "Rescind")
    DECLINE_RENEWAL = ("DECLINE_RENEWAL", "更新しない旨の申出", "Decline the renewal (do not renew)")
    ISSUE_INTERRUPTION_CERTIFICATE = ("ISSUE_INTERRUPTION_CERTIFICATE", "中断証明書発行",
                                      "Issue an interruption certificate")
    # The §4.6 windows (domain/services/windows.py).
    REPORT_VEHICLE_ACQUISITION = ("REPORT_VEHICLE_ACQUISITION", "新規取得自動車の通知", "Report a newly acquired car")
    FILE_VEHICLE_SWAP = ("FILE_VEHICLE_SWAP", "車両入替の手続", "File the vehicle swap")
    APPROVE_VEHICLE_SWAP = ("APPROVE_VEHICLE_SWAP", "車両入替の承認", "Approve the vehicle swap")
    REPORT_HOUSEHOLD_EVENT = ("REPORT_HOUSEHOLD_EVENT", "家族の異動の通知",
                              "Report a household event (licence, new member, marriage)")


@dataclass(frozen=True, slots=True)
class _Rule:
    roles: frozenset[Role]
    needs_any: frozenset[ContractStatus]  # at least one of these statuses
    refuses: frozenset[ContractStatus]  # none of these


_EVERYONE = frozenset({Role.POLICYHOLDER, Role.AGENT, Role.STAFF, Role.ADMIN, Role.SYSTEM})
_OFFICE = frozenset({Role.AGENT, Role.STAFF, Role.ADMIN, Role.SYSTEM})
_INSURER = frozenset({Role.STAFF, Role.ADMIN, Role.SYSTEM})
_ENDED = frozenset({S.CANCELLED, S.LAPSED, S.RESCINDED})

RULES: dict[Action, _Rule] = {
    # A policyholder issues their own quote only on the internet channel (checked by the service).
    Action.ISSUE: _Rule(_EVERYONE, frozenset({S.QUOTED}), _ENDED),
    Action.ENDORSE: _Rule(_EVERYONE, frozenset({S.IN_FORCE}), _ENDED | {S.QUOTED}),
    # Renewal from an in-force term or inside the forgotten-renewal grace (§4.6.1).
    Action.RENEW: _Rule(_EVERYONE, frozenset({S.IN_FORCE, S.IN_RENEWAL_GRACE}),
                        _ENDED | {S.QUOTED, S.DO_NOT_RENEW}),
    # Saying "do not renew" ahead of the expiry: no auto-renewal (tokio 004 L1449-1451) and no
    # forgotten-renewal window at the expiry.
    Action.DECLINE_RENEWAL: _Rule(_EVERYONE, frozenset({S.IN_FORCE}), _ENDED | {S.QUOTED, S.DO_NOT_RENEW}),
    Action.CANCEL: _Rule(_EVERYONE, frozenset({S.IN_FORCE, S.QUOTED}), _ENDED),
    Action.REINSTATE: _Rule(_INSURER, frozenset({S.CANCELLED, S.LAPSED}), frozenset({S.RESCINDED})),
    Action.RESCIND: _Rule(_INSURER, frozenset({S.IN_FORCE, S.DELINQUENT, S.EXPIRED}),
                          frozenset({S.RESCINDED, S.QUOTED})),
    # Requested when the car is disposed of; the contract is cancelled or expired by then or
    # ends with the request (§4.2 interruption certificate).
    Action.ISSUE_INTERRUPTION_CERTIFICATE: _Rule(
        _OFFICE, frozenset({S.IN_FORCE, S.CANCELLED, S.EXPIRED}), frozenset({S.RESCINDED, S.QUOTED})
    ),
    # A car or household event is reported while the term runs, or after expiry for a late filing
    # (the liability set reaches expiry + 30, §4.6.2-3); a swap is filed and approved while pending.
    Action.REPORT_VEHICLE_ACQUISITION: _Rule(_EVERYONE, frozenset({S.IN_FORCE, S.EXPIRED}), _ENDED | {S.QUOTED}),
    Action.FILE_VEHICLE_SWAP: _Rule(_EVERYONE, frozenset({S.SWAP_PENDING}), frozenset({S.CANCELLED, S.RESCINDED})),
    Action.APPROVE_VEHICLE_SWAP: _Rule(_INSURER, frozenset({S.SWAP_PENDING}), frozenset({S.CANCELLED, S.RESCINDED})),
    Action.REPORT_HOUSEHOLD_EVENT: _Rule(_EVERYONE, frozenset({S.IN_FORCE, S.EXPIRED}), _ENDED | {S.QUOTED}),
}


def check(action: Action, statuses: Iterable[ContractStatus], role: Role) -> None:
    """Refuse with a RuleError unless `role` may take `action` on a contract in `statuses`."""
    rule = RULES[action]
    have = frozenset(statuses)
    if role not in rule.roles:
        raise RuleError("FORBIDDEN", "", f"{role.en} may not {action.en.lower()}")
    blocking = have & rule.refuses
    if blocking or not have & rule.needs_any:
        shown = ", ".join(sorted(s.value for s in have)) or "none"
        raise RuleError(
            "NOT_ALLOWED_IN_STATE", "",
            f"cannot {action.en.lower()} a contract in status {shown}",
        )


def available(statuses: Iterable[ContractStatus], role: Role) -> list[Action]:
    have = frozenset(statuses)
    out: list[Action] = []
    for action, rule in RULES.items():
        if role in rule.roles and have & rule.needs_any and not have & rule.refuses:
            out.append(action)
    return out
