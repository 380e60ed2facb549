"""What every resolver can reach: the pool, the clock, settings and the request id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

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
