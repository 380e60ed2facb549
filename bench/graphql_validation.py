"""Validation stays cached: a normal query through the real schema's extensions vs the same limits
constructed per request (what strawberry's docs show), which makes new rule classes each time and
so misses ValidationCache on every request (ENGINEERING §1).

Prints median µs per execution and the ratio, plus the validation cache hit/miss counts.
Run: .venv/bin/python bench/graphql_validation.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.validation_cache import _get_validate_cache

from api import limits
from api.schema import Query as RealQuery

QUERY = """
query Probe {
  a: system { apiVersion environment }
  b: system { apiVersion }
}
"""


class _Ctx:
    class clock:
        @staticmethod
        def now():  # type: ignore[no-untyped-def]
            from datetime import datetime

            from domain.runtime.clock import JST
            return datetime(2026, 4, 1, tzinfo=JST)

    class settings:
        environment = "bench"


ours = strawberry.Schema(query=RealQuery, extensions=limits.limit_extensions())
naive = strawberry.Schema(query=RealQuery, extensions=[
    lambda: MaxTokensLimiter(max_token_count=limits.MAX_TOKENS),
    lambda: ParserCache(maxsize=512),
    lambda: QueryDepthLimiter(max_depth=limits.MAX_DEPTH),
    lambda: MaxAliasesLimiter(max_alias_count=limits.MAX_ALIASES),
    lambda: ValidationCache(maxsize=512),
])


async def per_call_us(schema: strawberry.Schema, n: int) -> float:
    for _ in range(50):
        await schema.execute(QUERY, context_value=_Ctx)
    start = time.perf_counter()
    for _ in range(n):
        r = await schema.execute(QUERY, context_value=_Ctx)
        assert r.errors is None, r.errors
    return (time.perf_counter() - start) / n * 1e6


async def main() -> None:
    n, rounds = 2000, 5
    cache = _get_validate_cache(512)
    before = cache.cache_info()
    ours_us = statistics.median([await per_call_us(ours, n) for _ in range(rounds)])
    mid = cache.cache_info()
    naive_us = statistics.median([await per_call_us(naive, n) for _ in range(rounds)])
    after = cache.cache_info()
    print(f"{'schema extensions':<34}{'median µs/query':>16}")
    print(f"{'limits built once (ours)':<34}{ours_us:>16.1f}   validation cache: +{mid.hits - before.hits} hits, +{mid.misses - before.misses} misses")
    print(f"{'limits built per request (naive)':<34}{naive_us:>16.1f}   validation cache: +{after.hits - mid.hits} hits, +{after.misses - mid.misses} misses")
    print(f"ratio naive/ours: {naive_us / ours_us:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
