"""What every resolver can reach: the pool, the clock, settings, the request id and the caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from api.auth import Principal
from domain.lifecycle import Role as LifecycleRole
from domain.runtime.clock import Clock
from domain.runtime.settings import Settings
from domain.services.access import Actor


@dataclass
class Context:
    request: Any
    response: Any
    pool: asyncpg.Pool
    clock: Clock
    settings: Settings
    request_id: str
    principal: Principal | None = None   # None: anonymous (no Authorization header)
    # per-request caches of the read path (api/types/contracts.py): loaded once per request
    loaders: dict[str, Any] = field(default_factory=dict)
    # False forces the general path (tests compare both; see api/compiled.py)
    compiled: bool = True
    # True over HTTP: compiled documents stay JSON text until the response is written
    raw_json: bool = False
    # True once an anonymous caller asked for something the access rules scope (a contract, a
    # party, a claim...): the answer then carries the NO_TOKEN hint (api/principal.py)
    scoped_read_without_token: bool = False
    # graphql-transport-ws: the connection_init payload (strawberry sets it; api/app.py reads the token)
    connection_params: dict[str, Any] | None = None

    @property
    def actor(self) -> Actor | None:
        # every scoped read and change goes through here, so this is where "hidden" is noticed
        if self.principal is None:
            self.scoped_read_without_token = True
        return actor_of(self.principal)


def actor_of(principal: Principal | None) -> Actor | None:
    """The service layer's view of the caller (None: anonymous)."""
    if principal is None:
        return None
    return Actor(principal.subject, LifecycleRole(principal.role.value), principal.party_id, principal.agency_id)
