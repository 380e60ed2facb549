"""Development tokens, as `autopolicy token` and the `dev` banner mint them.

Three things make a minted token useful rather than merely valid:
- its `iat`/`exp` come from the business clock (the one `autopolicy simulate` moves), because the
  API verifies tokens against that clock (api/auth.py): a wall-clock token would already be
  expired a year after a simulation;
- the party and agency are given as the API shows them (global ids, `Party:…`/`Agency:…`), or as
  the database integer;
- a role that is scoped to a party or an agency must name it: a policyholder token without a party
  would verify and then see nothing, which looks like an empty book rather than a wrong token.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from api.auth import Role, mint_token
from api.node import from_global_id
from domain.runtime.business_clock import read_offset
from domain.runtime.clock import SystemClock
from domain.runtime.settings import Settings

DEFAULT_ROLE = Role.STAFF  # GraphiQL's help says `autopolicy token` prints one: a staff token


class TokenRequestError(ValueError):
    """A token request the user can fix (printed as one line, exit status 2)."""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    role: Role
    subject: str
    party_id: int | None = None
    agency_id: int | None = None
    ttl: timedelta = timedelta(hours=12)


def parse_id(value: str | None, type_name: str, option: str) -> int | None:
    """A database id from a global id of `type_name` (what the API shows) or a plain integer."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    decoded = from_global_id(text)
    if decoded is None or decoded[0] != type_name:
        raise TokenRequestError(
            f"{option} {value!r} is neither {'an' if type_name[0] in 'AEIOU' else 'a'} {type_name} id as the API shows it "
            f"(e.g. `{type_name.lower()} {{ id }}`) nor a database integer")
    return decoded[1]


def token_request(role: Role, subject: str, *, party: str | None, agency: str | None,
                  hours: float) -> TokenRequest:
    """Check that the scope fits the role: a policyholder names a party, an agent an agency,
    and nobody names a scope their role does not use (it would be silently ignored)."""
    party_id = parse_id(party, "Party", "--party")
    agency_id = parse_id(agency, "Agency", "--agency")
    if role is Role.POLICYHOLDER and party_id is None:
        raise TokenRequestError("--role policyholder needs --party (the party's id, e.g. the contract's "
                                "`policyholder { id }`): without it the token would see nothing")
    if role is Role.AGENT and agency_id is None:
        raise TokenRequestError("--role agent needs --agency (the agency's id, e.g. the contract's "
                                "`agency { id }`): without it the token would see nothing")
    if party_id is not None and role is not Role.POLICYHOLDER:
        raise TokenRequestError(f"--party is for --role policyholder; a {role.value} token does not use it")
    if agency_id is not None and role is not Role.AGENT:
        raise TokenRequestError(f"--agency is for --role agent; a {role.value} token does not use it")
    if hours <= 0:
        raise TokenRequestError(f"--hours must be positive, got {hours}")
    return TokenRequest(role, subject, party_id, agency_id, timedelta(hours=hours))


async def business_now(settings: Settings, database_url: str | None) -> datetime:
    """Now by the business clock: the wall clock shifted by the offset `simulate` stored.

    Production never reads the offset (as the API and the workers); a database not migrated yet
    has no offset, so the wall clock is the business clock there.
    """
    if settings.is_production or not settings.allow_clock_override or not database_url:
        return SystemClock().now()
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        try:
            offset = await read_offset(conn)
        except asyncpg.UndefinedTableError:
            offset = timedelta(0)
    finally:
        await conn.close()
    return SystemClock(offset).now()


def mint_dev_token(settings: Settings, database_url: str | None, req: TokenRequest) -> str:
    now = asyncio.run(business_now(settings, database_url))
    return mint_token(settings, subject=req.subject, role=req.role, now=now, ttl=req.ttl,
                      party_id=req.party_id, agency_id=req.agency_id)
