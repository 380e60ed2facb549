"""The recalculation run against real PostgreSQL: pages commit with their cursor, a stopped run
resumes to the state an uninterrupted one gives, the nightly timer starts one run per date, and
`autopolicy recalc` drives a run with progress (issue 5 item 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import asyncpg

from domain.calendar import JST
from domain.runtime.clock import ManualClock
from domain.services.renewals import recalc
from domain.store import offer_repo
from domain.store.offer_repo import OFFER_EVENT
from domain.store.uow import UnitOfWork
from tests.factories import rated_contract

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2027, 2, 15, 1, 0, tzinfo=JST)
AS_OF = date(2027, 2, 15)


async def _state(pool: asyncpg.Pool, ids: list[int]) -> list[tuple[object, ...]]:
    """Offers and their events, without ids and instants (what two runs must agree on)."""
    offers = await pool.fetch(
        """SELECT contract_id, term_id, next_start, fingerprint, premium_yen, current_premium_yen, state
           FROM renewal_offers WHERE contract_id = any($1::bigint[]) ORDER BY contract_id, id""", ids)
    events = await pool.fetch(
        """SELECT contract_id, seq, payload->>'premiumYen' AS y FROM events
           WHERE kind = $2 AND contract_id = any($1::bigint[]) ORDER BY contract_id, seq""", ids, OFFER_EVENT)
    return [tuple(r) for r in offers] + [tuple(r) for r in events]


async def _reset(pool: asyncpg.Pool, ids: list[int]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM renewal_offers WHERE contract_id = any($1::bigint[])", ids)
        await conn.execute("DELETE FROM events WHERE kind = $2 AND contract_id = any($1::bigint[])", ids, OFFER_EVENT)
        await conn.execute("""UPDATE contracts c SET event_seq = (SELECT coalesce(max(seq), 0) FROM events e
                                                                  WHERE e.contract_id = c.id)
                              WHERE id = any($1::bigint[])""", ids)


async def _book(pool: asyncpg.Pool, n: int) -> list[int]:
    return [(await rated_contract(pool)).created.contract.id for _ in range(n)]


async def _run_all(pool: asyncpg.Pool, run: offer_repo.Run, page: int) -> offer_repo.Run:
    for p in run.parts:
        await recalc.run_part(pool, run.id, p.part_no, ManualClock(NOW), page=page)
    got = await offer_repo.get_run(pool, run.id)
    assert got is not None
    return got


async def test_run_offers_every_due_contract_and_a_rerun_changes_nothing(pool: asyncpg.Pool) -> None:
    ids = await _book(pool, 7)
    run = await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=2, source="CLI", now=NOW)
    assert len(run.parts) == 2 and run.parts[0].hi == run.parts[1].lo
    done = await _run_all(pool, run, page=3)
    assert done.state == "DONE" and all(p.done and p.cursor == p.hi for p in done.parts)
    assert recalc.progress_of(done) == 1.0
    state = await _state(pool, ids)
    assert sum(1 for r in state if r[-1] == "OFFERED") == 7
    assert done.total["scanned"] >= 7

    rerun = await _run_all(pool, await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=1,
                                                             source="CLI", now=NOW), page=3)
    assert rerun.total["offered"] == rerun.total["changed"] == 0
    assert await _state(pool, ids) == state     # idempotent: same rows, no new events


async def test_a_stopped_run_resumes_to_the_uninterrupted_state(pool: asyncpg.Pool) -> None:
    ids = await _book(pool, 6)
    run = await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=1, source="CLI", now=NOW)
    await _run_all(pool, run, page=2)
    uninterrupted = await _state(pool, ids)
    await _reset(pool, ids)

    run = await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=1, source="CLI", now=NOW)
    async with UnitOfWork(pool) as uow:          # one page commits ...
        out = await recalc.process_page(uow, run.id, 0, NOW, page=2)
    assert out is not None and not out.done
    try:                                          # ... the next one dies before committing
        async with UnitOfWork(pool) as uow:
            await recalc.process_page(uow, run.id, 0, NOW, page=2)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    resumed = await recalc.start_or_resume(pool, as_of=AS_OF, resume=True, parts=1, source="CLI", now=NOW)
    assert resumed.id == run.id and resumed.parts[0].cursor == out.cursor
    await _run_all(pool, resumed, page=2)
    assert await _state(pool, ids) == uninterrupted


async def test_nightly_timer_starts_one_run_per_date_and_schedules_the_next_night(pool: asyncpg.Pool) -> None:
    day = date(2031, 3, 3)    # a date no other test uses
    async with pool.acquire() as conn, conn.transaction():
        first = await recalc.start_nightly(conn, day, NOW, parts=2)
        again = await recalc.start_nightly(conn, day, NOW, parts=2)
    assert first is not None and again is None
    batches = await pool.fetch("SELECT idempotency_key FROM timers WHERE kind = $1 AND subject LIKE $2",
                               recalc.BATCH_KIND, f"recalc:{first.id}:%")
    assert len(batches) == 2
    nights = await pool.fetch("SELECT due_at FROM timers WHERE kind = $1 AND idempotency_key = $2",
                              recalc.NIGHTLY_KIND, f"{recalc.NIGHTLY_KIND}:2031-03-04")
    assert [r["due_at"] for r in nights] == [datetime(2031, 3, 4, 1, 0, tzinfo=JST)]
    async with pool.acquire() as conn:
        assert await recalc.ensure_nightly(conn, datetime(2031, 3, 4, 0, 30, tzinfo=JST)) == \
            await recalc.ensure_nightly(conn, datetime(2031, 3, 4, 0, 59, tzinfo=JST))


def test_cli_recalc_runs_with_progress_and_resumes(database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("REDIS_URL", None)
    r = subprocess.run([sys.executable, "-m", "api.cli", "recalc", "--as-of", "2027-02-16", "--parts", "2"],
                       env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert "recalc run" in r.stdout and "done" in r.stdout
    assert "100.0%" in r.stderr and "Traceback" not in r.stderr
    again = subprocess.run([sys.executable, "-m", "api.cli", "recalc", "--as-of", "2027-02-16", "--resume"],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    assert "new 0," in again.stdout and "changed 0," in again.stdout


async def test_parts_finishing_together_still_finish_the_run(pool: asyncpg.Pool) -> None:
    import asyncio

    await _book(pool, 2)
    run = await recalc.start_or_resume(pool, as_of=date(2032, 1, 1), resume=False, parts=2, source="CLI", now=NOW)
    gate = asyncio.Event()

    async def finish(part_no: int) -> None:
        async with UnitOfWork(pool) as uow:
            out = await recalc.process_page(uow, run.id, part_no, NOW, page=10)   # nothing due in 2032
            assert out is not None and out.done
            await gate.wait()          # both parts commit only after both have written "done"

    tasks = [asyncio.create_task(finish(0)), asyncio.create_task(finish(1))]
    await asyncio.sleep(0.3)
    gate.set()
    await asyncio.gather(*tasks)
    got = await offer_repo.get_run(pool, run.id)
    assert got is not None and got.state == "DONE"


async def test_a_page_that_waited_for_a_contract_sees_the_offer_written_meanwhile(pool: asyncpg.Pool) -> None:
    """The page statement locks its contracts; an offer committed while it waited for one is read
    after the lock (a statement sees other tables as of its start), so the page keeps it instead of
    writing a second live offer."""
    import asyncio

    from domain.services.renewals.offers import as_uow, refresh_contract

    [cid] = await _book(pool, 1)
    run = await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=1, source="CLI", now=NOW)
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        first = await refresh_contract(as_uow(conn), cid, NOW, reason="test", only_if_due=False)
        assert first.offered == 1
        page = asyncio.create_task(_run_all(pool, run, page=1000))
        await asyncio.sleep(0.5)              # the page is now waiting for the contract's lock
        assert not page.done()
        await tx.commit()
    done = await page
    assert done.state == "DONE"
    live = await pool.fetchval(
        "SELECT count(*) FROM renewal_offers WHERE contract_id = $1 AND state IN ('OFFERED', 'ACCEPTED')", cid)
    assert live == 1
