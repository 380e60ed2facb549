"""Who may reach what: the one place the service layer asks before reading or changing anything.

A policyholder reaches the contracts they hold and the parties and vehicles of their account; an
agent those of their agency; staff, admin and the workers everything. Reads filter with
`ContractScope` inside the SQL (so lists, pages and filters obey it), single lookups that fall
outside it answer "not found", never "forbidden": a caller cannot learn that an id exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.lifecycle import Role
from domain.store.contract_repo import Contract
from domain.store.party_repo import Party, Vehicle


@dataclass(frozen=True, slots=True)
class Actor:
    subject: str
    role: Role
    party_id: int | None = None  # policyholder: their party
    agency_id: int | None = None  # agent: their agency

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN, Role.SYSTEM)


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class ContractScope:
    """A filter every contract read adds to its SQL; all None = everything, `nothing` = no rows."""

    policyholder_id: int | None = None
    agency_id: int | None = None
    nothing: bool = False


def contract_scope(actor: Actor | None) -> ContractScope:
    if actor is None:
        return ContractScope(nothing=True)
    if actor.sees_everything:
        return ContractScope()
    if actor.role is Role.POLICYHOLDER:
        return ContractScope(policyholder_id=actor.party_id) if actor.party_id else ContractScope(nothing=True)
    if actor.role is Role.AGENT:
        return ContractScope(agency_id=actor.agency_id) if actor.agency_id else ContractScope(nothing=True)
    return ContractScope(nothing=True)


def can_read_contract(actor: Actor | None, c: Contract) -> bool:
    return can_read_contract_of(actor, c.policyholder_id, c.agency_id)


def can_read_contract_of(actor: Actor | None, policyholder_id: int, agency_id: int | None) -> bool:
    """`can_read_contract` from the two fields it looks at (for a contract not loaded whole)."""
    scope = contract_scope(actor)
    if scope.nothing:
        return False
    if scope.policyholder_id is not None and policyholder_id != scope.policyholder_id:
        return False
    return scope.agency_id is None or agency_id == scope.agency_id


def can_read_party(actor: Actor | None, p: Party) -> bool:
    if actor is None:
        return False
    if actor.sees_everything:
        return True
    if actor.role is Role.POLICYHOLDER:
        return actor.party_id is not None and actor.party_id in (p.id, p.account_party_id)
    if actor.role is Role.AGENT:
        return actor.agency_id is not None and p.agency_id == actor.agency_id
    return False


def can_read_vehicle(actor: Actor | None, v: Vehicle) -> bool:
    if actor is None:
        return False
    if actor.sees_everything:
        return True
    if actor.role is Role.POLICYHOLDER:
        return actor.party_id is not None and v.account_party_id == actor.party_id
    if actor.role is Role.AGENT:
        return actor.agency_id is not None and v.agency_id == actor.agency_id
    return False
