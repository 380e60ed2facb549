"""Who is calling: the bearer token of a request, verified once, before any GraphQL execution.

No Authorization header means an anonymous caller (principal None); public reads such as the
product catalog need nothing more. A header that is present but does not verify is refused with
HTTP 401 for the whole request rather than silently downgraded to anonymous, so a client with a
broken token finds out at once instead of seeing an empty, "unauthorised-looking" result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

import strawberry
from starlette.exceptions import HTTPException
from strawberry.extensions import SchemaExtension

from api.auth import AuthError, Principal, Role, verify_token
from domain.runtime.settings import Settings

_SCHEME = "bearer"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when the header is absent.

    Raises AuthError when a header is present but is not a usable bearer credential.
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != _SCHEME or not token:
        raise AuthError("TOKEN_INVALID", "the Authorization header must be `Bearer <token>`")
    return token


def resolve_principal(settings: Settings, headers: Mapping[str, str], now: datetime) -> Principal | None:
    """The verified caller of a request at `now` (the business clock), None when anonymous;
    AuthError on a bad credential."""
    token = bearer_token(headers.get("authorization"))
    return None if token is None else verify_token(settings, token, now)


def unauthorized(error: AuthError) -> HTTPException:
    """An HTTP 401 carrying a GraphQL-shaped JSON body.

    Starlette's default HTTPException handler writes `detail` as the body and keeps the headers
    given here, so setting the content type makes it a proper JSON answer without a custom
    exception handler.
    """
    body = {"errors": [{"message": str(error), "extensions": {"code": error.code}}]}
    return HTTPException(
        status_code=401,
        detail=json.dumps(body, ensure_ascii=False),
        headers={
            "content-type": "application/json",
            # RFC 6750 §3: tell the client which scheme and why
            "www-authenticate": f'Bearer error="invalid_token", error_description="{error.code}"',
        },
    )


# the one GraphQL enum for roles; registering it here keeps api/auth.py free of strawberry
strawberry.enum(Role, name="Role", description="What a caller may do.")


@strawberry.type(description="The authenticated caller, as read from the bearer token.")
class Viewer:
    subject: str = strawberry.field(description="The token's `sub` claim.")
    role: Role
    party_id: int | None = strawberry.field(description="Policyholder: the party whose contracts they reach.")
    agency_id: int | None = strawberry.field(description="Agent: the agency whose contracts they reach.")

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        return cls(subject=principal.subject, role=principal.role,
                   party_id=principal.party_id, agency_id=principal.agency_id)


NO_TOKEN_HINT = (
    "no bearer token was sent: contracts, parties, vehicles, agencies, windows and claims are visible "
    "only to a caller who sends `Authorization: Bearer <token>` (`autopolicy token` prints a staff one), "
    "so what they would have answered is null or empty here"
)


class NoTokenHint(SchemaExtension):
    """Tell an anonymous caller why a scoped read came back null or empty.

    Access rules answer "not found" to everyone who may not see a row (a caller cannot learn that
    an id exists), and for an anonymous caller that is every row: without a word, the README's
    Detail query answers `contract: null` as if the contract did not exist. The hint goes to
    `extensions` (code NO_TOKEN), which every GraphQL client shows and none treats as a failure,
    so the data's shape is what it would be anyway. Public reads (products, system) get no hint.
    """

    def get_results(self) -> dict[str, object]:
        ctx = self.execution_context.context
        if getattr(ctx, "principal", True) is None and getattr(ctx, "scoped_read_without_token", False):
            return {"code": "NO_TOKEN", "hint": NO_TOKEN_HINT}
        return {}
