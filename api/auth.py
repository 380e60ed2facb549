"""Bearer JWTs: minting dev tokens and verifying incoming ones.

HS256 with a shared secret in development and tests; RS256 with a public key in production
(the private key then never sits on the API host). `exp`, `aud` and `iss` are required and
checked, and only the one configured algorithm is accepted, so `alg: none` and algorithm
confusion (an HS256 token signed with the RS256 public key) are refused.

Expiry is a matter of the business clock (domain/runtime/clock.py): tokens are minted with `iat`
and `exp` from it and verified against it, so a token minted after `autopolicy simulate` moved
the clock ahead works, and one that has expired in business time is refused even if the wall
clock says otherwise. In production the business clock is the wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jwt

from domain.runtime.settings import Settings


class Role(str, Enum):
    POLICYHOLDER = "policyholder"
    AGENT = "agent"
    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    party_id: int | None = None   # policyholder: whose contracts
    agency_id: int | None = None  # agent: which agency
    # the token's exp (unix seconds): a long-lived subscription ends when its token does
    expires_at: float | None = field(default=None, compare=False)


class AuthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def algorithm(settings: Settings) -> str:
    return "RS256" if settings.jwt_public_key else "HS256"


def mint_token(settings: Settings, *, subject: str, role: Role, now: datetime,
               ttl: timedelta = timedelta(hours=12), party_id: int | None = None,
               agency_id: int | None = None) -> str:
    alg = algorithm(settings)
    key = settings.jwt_private_key if alg == "RS256" else settings.jwt_secret
    if not key:
        raise AuthError("NO_SIGNING_KEY", "RS256 is configured but no private key is available here")
    claims: dict[str, object] = {
        "sub": subject,
        "role": role.value,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if party_id is not None:
        claims["party_id"] = party_id
    if agency_id is not None:
        claims["agency_id"] = agency_id
    return jwt.encode(claims, key, algorithm=alg)


def verify_token(settings: Settings, token: str, now: datetime) -> Principal:
    """The principal of a token whose signature, audience and issuer hold and that has not
    expired at `now` (the business clock's now: PyJWT's own time checks read the wall clock, so
    they are off and `exp`/`nbf` are compared here)."""
    alg = algorithm(settings)
    key = (settings.jwt_public_key if alg == "RS256" else settings.jwt_secret) or ""
    try:
        claims = _signed_claims(token, key, alg, settings.jwt_audience, settings.jwt_issuer)
    except jwt.InvalidTokenError as exc:
        raise AuthError("TOKEN_INVALID", f"the token is not valid: {exc}") from exc
    at = now.timestamp()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, (int, float)) or not _is_number(exp) or (nbf is not None and not _is_number(nbf)):
        raise AuthError("TOKEN_INVALID", "the token's exp/nbf must be numbers (NumericDate)")
    if exp <= at:
        raise AuthError("TOKEN_EXPIRED", "the token has expired (by the business clock)")
    if nbf is not None and nbf > at:
        raise AuthError("TOKEN_INVALID", "the token is not valid yet (nbf)")
    try:
        role = Role(claims.get("role"))
    except ValueError as exc:
        raise AuthError("TOKEN_INVALID", "the token names no known role") from exc
    return Principal(str(claims["sub"]), role, claims.get("party_id"), claims.get("agency_id"), float(exp))


@lru_cache(maxsize=4096)
def _signed_claims(token: str, key: str, alg: str, audience: str, issuer: str) -> Mapping[str, Any]:
    """The claims of a token whose signature, audience and issuer hold; the time checks are not
    made here. A client sends the same token on every request, and the answer for the same bytes
    under the same key cannot change, so it is remembered (a refused token raises and is not);
    the caller still compares `exp`/`nbf` with its clock on every request. Read-only."""
    return MappingProxyType(jwt.decode(
        token, key, algorithms=[alg], audience=audience, issuer=issuer,
        options={"require": ["exp", "aud", "iss", "sub"], "verify_exp": False, "verify_iat": False,
                 "verify_nbf": False},
    ))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
