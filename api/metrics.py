"""Prometheus metrics: GraphQL requests by operation, and timers read from PostgreSQL at scrape.

Timer counts and lag come from the timers table (the truth) rather than from worker processes,
so the API can report them whatever number of workers runs, and a dead worker shows as lag.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from strawberry.extensions import SchemaExtension

REGISTRY = CollectorRegistry(auto_describe=True)

GRAPHQL_REQUESTS = Counter(
    "autopolicy_graphql_requests_total", "GraphQL operations executed",
    ["operation", "outcome"], registry=REGISTRY,
)
GRAPHQL_LATENCY = Histogram(
    "autopolicy_graphql_request_seconds", "GraphQL operation latency",
    ["operation"], registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HTTP_REQUESTS = Counter(
    "autopolicy_http_requests_total", "HTTP requests", ["route", "status"], registry=REGISTRY,
)
TIMERS = Gauge("autopolicy_timers", "Timers by kind and state", ["kind", "state"], registry=REGISTRY)
TIMER_LAG = Gauge(
    "autopolicy_timer_lag_seconds",
    "Age of the oldest due timer not yet done (0 when none is late)", registry=REGISTRY,
)
JOBS = Gauge(
    "autopolicy_timer_jobs_attempted", "Sum of attempts recorded on timers, by kind",
    ["kind"], registry=REGISTRY,
)

# Operation names are chosen by clients: keep the label set bounded.
_NAME_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_OPERATIONS = 200
_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    if not name or not _NAME_OK.match(name):
        return "anonymous"
    if name in _seen_operations:
        return name
    if len(_seen_operations) >= _MAX_OPERATIONS:
        return "other"
    _seen_operations.add(name)
    return name


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ctx = self.execution_context
        label = operation_label(ctx.operation_name)
        result = ctx.result
        outcome = "error" if (result is not None and getattr(result, "errors", None)) or ctx.pre_execution_errors else "ok"
        GRAPHQL_LATENCY.labels(label).observe(time.perf_counter() - started)
        GRAPHQL_REQUESTS.labels(label, outcome).inc()


async def refresh_timer_gauges(pool: asyncpg.Pool, now: datetime) -> None:
    async with pool.acquire(timeout=2) as conn:
        rows = await conn.fetch(
            "SELECT kind, state, count(*) AS n, sum(attempts) AS attempts FROM timers GROUP BY kind, state"
        )
        lag = await conn.fetchval(
            "SELECT extract(epoch FROM ($1::timestamptz - min(due_at))) FROM timers "
            "WHERE state IN ('PENDING', 'ENQUEUED') AND due_at <= $1",
            now,
        )
    TIMERS.clear()
    JOBS.clear()
    attempts: dict[str, int] = {}
    for r in rows:
        TIMERS.labels(r["kind"], r["state"]).set(r["n"])
        attempts[r["kind"]] = attempts.get(r["kind"], 0) + int(r["attempts"] or 0)
    for kind, n in attempts.items():
        JOBS.labels(kind).set(n)
    TIMER_LAG.set(float(lag or 0))


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
