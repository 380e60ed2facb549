"""Agencies as use cases: staff register them; each caller reads the agencies they deal with.

Who sees which agency: staff, admin and the workers every one; an agent their own agency only; a
policyholder the agencies of the contracts they hold; an anonymous caller none. An agency outside
that answers "not found", like any other row a caller may not see.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.lifecycle import Role
from domain.services.access import Actor
from domain.services.errors import refuse
from domain.store.party_repo import (
    Agency,
    agencies_by_id,
    agencies_of_policyholder,
    agency_by_code,
    agency_page,
)
from domain.store.party_repo import create_agency as insert_agency
from domain.store.uow import Executor, UnitOfWork

# Upper-case letters, digits and inner hyphens, 2-32 long: "AG-TOKYO-001". Codes go on
# certificates and in the agency's own systems, so they stay plain ASCII.
AGENCY_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,30}[A-Z0-9]$")
MAX_NAME = 200
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class CreateAgency:
    code: str
    name_ja: str
    name_en: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class AgencyPage:
    agencies: tuple[Agency, ...]
    has_next: bool


async def create_agency(uow: UnitOfWork, actor: Actor, req: CreateAgency, now: datetime) -> Agency:
    """The GraphQL `createAgency`: staff only; the code is unique (compared upper-cased)."""
    del now  # an agency has no dates of its own; created_at is the row's
    if not actor.sees_everything:
        raise refuse("FORBIDDEN", "input", "only insurer staff register an agency")
    code = req.code.strip().upper()
    if not AGENCY_CODE.match(code):
        raise refuse("INVALID_AGENCY_CODE", "input.code",
                     f"{req.code!r}: an agency code is 2-32 letters, digits and inner hyphens (e.g. AG-TOKYO-001)")
    name_ja, name_en = req.name_ja.strip(), (req.name_en or "").strip() or None
    if not name_ja:
        raise refuse("NAME_REQUIRED", "input.nameJa", "an agency needs its Japanese name")
    if len(name_ja) > MAX_NAME or len(name_en or "") > MAX_NAME:
        raise refuse("NAME_TOO_LONG", "input.nameJa" if len(name_ja) > MAX_NAME else "input.nameEn",
                     f"an agency name is at most {MAX_NAME} characters")
    # the lock makes two concurrent registrations of one code answer the refusal, not a crash
    await uow.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('agency:' || $1, 0))", code)
    if await agency_by_code(uow.conn, code) is not None:
        raise refuse("DUPLICATE_AGENCY_CODE", "input.code", f"agency code {code} is already registered")
    return await insert_agency(uow, code, name_ja, name_en)


async def _readable(pool: Executor, actor: Actor | None) -> Sequence[int] | None:
    """The agency ids the actor may read; None: every one."""
    if actor is None:
        return ()
    if actor.sees_everything:
        return None
    if actor.role is Role.AGENT:
        return () if actor.agency_id is None else (actor.agency_id,)
    if actor.role is Role.POLICYHOLDER and actor.party_id is not None:
        return await agencies_of_policyholder(pool, actor.party_id)
    return ()


async def agencies_visible(pool: Executor, actor: Actor | None, ids: Sequence[int]) -> dict[int, Agency]:
    if actor is None or not ids:
        return {}
    readable = await _readable(pool, actor)
    wanted = list(ids) if readable is None else [i for i in ids if i in set(readable)]
    return await agencies_by_id(pool, wanted) if wanted else {}


async def agencies_page(pool: Executor, actor: Actor | None, *, first: int, after_id: int | None) -> AgencyPage:
    """The agencies the actor may read, oldest first (keyset pages)."""
    if not 1 <= first <= MAX_PAGE:
        raise ValueError(f"first must be 1..{MAX_PAGE}")
    readable = await _readable(pool, actor)
    if readable is not None and not readable:
        return AgencyPage((), False)
    found, more = await agency_page(pool, first=first, after_id=after_id, only=readable)
    return AgencyPage(tuple(found), more)


__all__ = ["AGENCY_CODE", "AgencyPage", "CreateAgency", "agencies_page", "agencies_visible", "create_agency"]
