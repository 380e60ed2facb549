"""Demo data for `make run` / `autopolicy seed`. Idempotent: running it twice changes nothing.

The foundation ships the hook only; the product issues fill it (all four products, contracts in
every state, claims, open windows).
"""

from __future__ import annotations

import asyncpg


async def load_demo_data(conn: asyncpg.Connection) -> str:
    return "demo data: nothing to load yet"
