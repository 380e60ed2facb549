"""The demo book (`autopolicy seed`, `make run`) as of the real date and 400 days later: loads
through the use cases, covers the four products and every state, and is still true after the
worker has run everything due — then lives a year on under `simulate` (issue 12).

Each date gets a database of its own so its 200 contracts never meet the other tests' rows.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from domain.runtime.clock import JST, ManualClock, SystemClock
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from domain.store.db import create_pool
from tests.conftest import RUN_ID
from tests.support import fresh_database
from workers.config import TimerTuning
from workers.demo_book import load_demo_data
from workers.simulate import run_due, simulate
from workers.timer_job import CTX_KEY, TimerRuntime, run_timer

STATE_TABLES = ("parties", "vehicles", "agencies", "contracts", "terms", "contract_versions", "transactions",
                "events", "grade_records", "instalments", "windows", "claims", "timers")


async def _counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in STATE_TABLES}


async def _states(pool: asyncpg.Pool) -> Counter[str]:
    """Contracts by their status set, e.g. 'DELINQUENT+IN_FORCE'."""
    rows = await pool.fetch("SELECT array_to_string(statuses, '+') AS s, count(*) AS n FROM contracts GROUP BY 1")
    return Counter({r["s"]: r["n"] for r in rows})


async def _failed_timers(pool: asyncpg.Pool) -> list[str]:
    rows = await pool.fetch("SELECT kind, last_error FROM timers WHERE last_error IS NOT NULL OR state = 'FAILED'")
    return [f"{r['kind']}: {r['last_error']}" for r in rows]


async def _readme_contract(pool: asyncpg.Pool, now: datetime) -> asyncpg.Record:
    row = await pool.fetchrow(
        """SELECT c.statuses, a.code, v.premium_yen AS premium,
                  (SELECT count(*) FROM instalments i WHERE i.contract_id = c.id AND i.state = 'OVERDUE') AS overdue,
                  (SELECT count(*) FROM transactions x WHERE x.contract_id = c.id AND x.kind = 'ENDORSE') AS endorsed
           FROM contracts c JOIN agencies a ON a.id = c.agency_id
           JOIN contract_versions v ON v.contract_id = c.id AND v.valid @> $1::timestamptz
                AND v.superseded_at IS NULL
           WHERE c.policy_number = 'AP-RK-100001'""", now)
    assert row is not None
    return row


@pytest.fixture(params=[0, 400], ids=["today", "in-400-days"])
def demo_db(services: Services, request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    with fresh_database(services.database_url, f"autopolicy_demo_{RUN_ID}_{request.param}") as url:
        yield url, request.param


async def test_demo_book_is_true_today_and_after_the_worker(demo_db: tuple[str, int]) -> None:
    url, days_ahead = demo_db
    now = SystemClock().now() + timedelta(days=days_ahead)
    settings = Settings(database_url=url, environment="test")
    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        began = time.perf_counter()
        summary = await load_demo_data(pool, settings, now)
        took = time.perf_counter() - began
        assert took < 90, f"demo load took {took:.1f} s"
        assert "200 contracts" in summary and "AG-TOKYO-001" in summary and "AP-RK-100001" in summary
        assert f"as of {now.astimezone(JST):%Y-%m-%d}" in summary
        first = await _counts(pool)

        # A worker that starts now finds nothing due: the book was lived up to now.
        clock = ManualClock(now)
        ctx = {CTX_KEY: TimerRuntime(pool=pool, clock=clock, settings=settings, tuning=TimerTuning())}
        ran: list[int] = []

        async def run(tid: int) -> None:
            ran.append(tid)
            await run_timer(ctx, tid)

        await run_due(pool, clock, now, run, max_attempts=settings.timer_max_attempts)
        assert ran == []
        assert await _counts(pool) == first
        assert await _failed_timers(pool) == []

        states = await _states(pool)
        assert states["IN_FORCE"] >= 80, states
        for s in ("QUOTED", "CANCELLED", "RESCINDED", "EXPIRED", "DELINQUENT+IN_FORCE",
                  "EXPIRED+IN_RENEWAL_GRACE", "EXPIRED+LAPSED", "IN_FORCE+SWAP_PENDING"):
            assert states[s] >= 1, (s, states)
        assert sum(states.values()) == 200
        products = dict(await pool.fetch(
            "SELECT product_id, count(*) FROM contracts WHERE 'IN_FORCE' = any(statuses) GROUP BY 1"))
        assert set(products) == {"rakuten-drive-assist", "aioi-tough-biz", "tokio-total-assist-group",
                                 "kyosai-accident-expense"}
        windows = {(r[0], r[1]) for r in await pool.fetch("SELECT kind, state FROM windows")}
        assert {("RENEWAL_GRACE", "OPEN"), ("VEHICLE_SWAP", "OPEN"), ("DRIVER_CHANGE", "OPEN"),
                ("RENEWAL_GRACE", "VOID")} <= windows
        claims = {r[0] for r in await pool.fetch("SELECT DISTINCT status FROM claims")}
        assert claims == {"REPORTED", "UNDER_REVIEW", "APPROVED", "DENIED", "PAID", "CLOSED", "WITHDRAWN"}
        assert await pool.fetchval("SELECT count(*) FROM claims WHERE coverage_state = 'COVERAGE_PENDING'") >= 1
        # Monthly plans partly paid: paid instalments and instalments still to come in one term.
        partly = await pool.fetchval(
            """SELECT count(*) FROM (SELECT term_id FROM instalments GROUP BY term_id
               HAVING bool_or(state = 'PAID') AND bool_or(state = 'DUE')) t""")
        assert partly >= 10
        # Only the delinquent and the never-paying (rescinded) customers left anything overdue.
        overdue = await pool.fetchval(
            """SELECT count(DISTINCT contract_id) FROM instalments i JOIN contracts c ON c.id = i.contract_id
               WHERE i.state = 'OVERDUE' AND NOT 'DELINQUENT' = any(c.statuses)""")
        assert overdue == 0
        kinds = {r[0] for r in await pool.fetch("SELECT DISTINCT kind FROM transactions")}
        assert {"QUOTE", "ISSUE", "ENDORSE", "RENEW", "CANCEL", "REINSTATE", "RESCIND", "LAPSE",
                "ISSUE_INTERRUPTION_CERTIFICATE"} <= kinds
        graded = {r[0] for r in await pool.fetch("SELECT DISTINCT grade FROM grade_records")}
        assert graded == set(range(1, 21))
        channels = {r[0] for r in await pool.fetch("SELECT DISTINCT channel FROM contracts")}
        assert channels == {"INTERNET", "AGENT", "GROUP"}

        known = await _readme_contract(pool, now)
        assert list(known["statuses"]) == ["IN_FORCE"] and known["code"] == "AG-TOKYO-001"
        assert int(known["premium"]) > 0 and known["overdue"] == 0 and known["endorsed"] == 1

        again = await load_demo_data(pool, settings, now)
        assert "already loaded" in again
        assert await _counts(pool) == first

        if days_ahead == 0:
            await _a_year_on(pool, settings, now)
    finally:
        await pool.close()


async def _a_year_on(pool: asyncpg.Pool, settings: Settings, now: datetime) -> None:
    """`simulate` a year ahead: customers renew (some let it go), pay, the delinquent one is rescinded."""
    before = await _states(pool)
    renewed_before = await pool.fetchval("SELECT count(*) FROM transactions WHERE kind = 'RENEW'")
    sim = await simulate(pool, settings, now + timedelta(days=365), wall=ManualClock(now))
    assert sim.steps and await _failed_timers(pool) == []
    after = await _states(pool)
    renewed = await pool.fetchval("SELECT count(*) FROM transactions WHERE kind = 'RENEW'") - renewed_before
    assert renewed >= 50, renewed  # offers accepted (and tokio's automatic renewals)
    assert after["IN_FORCE"] >= 50, after
    assert after["EXPIRED"] + after["EXPIRED+LAPSED"] > before["EXPIRED"] + before["EXPIRED+LAPSED"]
    assert after["DELINQUENT+IN_FORCE"] == 0 and after["RESCINDED"] > before["RESCINDED"]
    known = await _readme_contract(pool, now + timedelta(days=365))
    assert list(known["statuses"]) == ["IN_FORCE"] and known["overdue"] == 0
