"""Refusals a use case answers as `userErrors`, and the translation of lower-level refusals.

A use case raises `Refused` (one or more `UserError`s); the unit of work rolls back, so a refused
mutation changes nothing. Pure-domain `RuleError`/`RatingError` and store `StoreError` become
`UserError`s through `as_user_errors`, keeping their codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from domain.calendar import RuleError
from domain.rating import RatingError
from domain.store.contract_repo import StoreError
from domain.store.registration_repo import REGISTRATION_CONSTRAINT


@dataclass(frozen=True, slots=True)
class UserError:
    field: str  # the input path (camelCase, dotted: "input.changes.drivers[1].partyId"); "" = whole input
    code: str  # stable UPPER_SNAKE code
    message: str


class Refused(Exception):
    def __init__(self, *errors: UserError) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.errors = errors


def refuse(code: str, field: str, message: str) -> Refused:
    return Refused(UserError(field, code, message))


def not_found(kind: str, field: str, ref: object) -> Refused:
    """The same answer for a missing id and one the caller may not see (no existence oracle)."""
    return refuse(f"{kind.upper()}_NOT_FOUND", field, f"no {kind.lower()} {ref}")


def as_user_errors(exc: Exception) -> tuple[UserError, ...] | None:
    """The userErrors for a known refusal; None for anything else (a bug: masked, logged)."""
    if isinstance(exc, Refused):
        return exc.errors
    if isinstance(exc, RuleError | RatingError):
        return (UserError(getattr(exc, "field", "") or "", exc.code, str(getattr(exc, "message", exc))),)
    if isinstance(exc, StoreError):
        return (UserError("", exc.code, str(exc)),)
    if isinstance(exc, asyncpg.ExclusionViolationError) and exc.constraint_name == REGISTRATION_CONSTRAINT:
        # a concurrent transaction took the car between our check and our write (migration 0018)
        return (UserError("", DUPLICATE_REGISTRATION,
                          "the registration number was just put on another live contract; nothing was changed"),)
    return None


DUPLICATE_REGISTRATION = "DUPLICATE_REGISTRATION"
