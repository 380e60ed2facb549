"""What every resolver can reach: the pool, the clock, settings, the request id and the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from api.auth import Principal
from domain.runtime.clock import Clock
from domain.runtime.settings import Settings


@dataclass
class Context:
    request: Any
    response: Any
    pool: asyncpg.Pool
    clock: Clock
    settings: Settings
    request_id: str
    principal: Principal | None = None   # None: anonymous (no Authorization header)
