"""The recalculation run: every contract whose renewal offer is due, page by page, resumable.

A run (offer_repo.create_run) splits the contracts that exist when it starts into parts by id
range. A part is walked by keyset (contract id > cursor, at most `page` contracts whose offer is
due); each page is ONE transaction that locks its contracts, writes their offers in bulk
(renewal_offers.refresh_subjects) and moves the part's cursor and counts. So a run killed
anywhere has committed whole pages only, and resuming continues from the cursors: the final state
is the one an uninterrupted run gives, and no event is written twice (a page that commits writes
its events once; a page that does not commit wrote nothing).

Who drives the pages:
- the nightly timer (workers/kinds/renewal.py): `renewal.nightly` creates the day's run and
  schedules one `renewal.batch` timer per part (RECALC_PARTS, at least one per worker process);
  each batch timer does one page in its job's transaction and schedules the next page's timer,
  keyed by the cursor, which is handed to arq as soon as the page commits (not at the next sweep).
  Any worker may take any page; a part's pages run one at a time (its row is locked by the page,
  and its chain has one timer per cursor), so each part, and each contract, is done once;
- `autopolicy recalc` and bench/recalc.py: `run_part` loops over pages with a UnitOfWork each,
  one OS process per part when there are several (disjoint id ranges never contend).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import asyncpg

from domain.calendar import JST
from domain.runtime.clock import Clock
from domain.services.reactions import RenewalInputsChanged
from domain.services.renewals.offers import PageResult, _Cache, offer_days, refresh_subjects
from domain.store import offer_repo, timers
from domain.store.offer_repo import Run
from domain.store.uow import UnitOfWork

PAGE = 1000
NIGHTLY_KIND = "renewal.nightly"
BATCH_KIND = "renewal.batch"
RECALC_KIND = "renewal.recalc"
NIGHTLY_AT = time(1, 0)            # 01:00 JST, after the day's changes and before the day's work
NIGHTLY_PARTS = 2                  # one per core of the reference machine


async def on_inputs_changed(uow: UnitOfWork, event: RenewalInputsChanged, now: datetime) -> None:
    """Reaction to a change the next term's price depends on."""
    await request_recalculation(uow, event.contract_id, event.reason, now)


async def request_recalculation(uow: UnitOfWork, contract_id: int, reason: str, now: datetime) -> None:
    """Something the next term's price depends on changed (a claim classified or withdrawn, a
    vehicle or driver changed): recompute the contract's renewal offer, idempotently.

    Schedules a `renewal.recalc` timer due now, unless one for the contract is still PENDING
    (requests collapse: the pending one will read the latest inputs when it runs). One that is
    already running may have read the old inputs, so it does not absorb this request. The job
    recomputes only when the offer is due or one exists; otherwise the nightly run creates it.
    """
    subject = f"contract:{contract_id}"
    pending = await uow.conn.fetchval(
        "SELECT 1 FROM timers WHERE kind = $1 AND subject = $2 AND state = 'PENDING' LIMIT 1", RECALC_KIND, subject)
    if pending:
        return
    await timers.schedule(uow.conn, kind=RECALC_KIND, subject=subject, due_at=now,
                          idempotency_key=f"{RECALC_KIND}:{contract_id}:{now.isoformat()}:{reason}",
                          payload={"contract": contract_id, "reason": reason})


@dataclass(frozen=True, slots=True)
class PageOutcome:
    result: PageResult
    cursor: int
    done: bool


async def process_page(uow: UnitOfWork, run_id: int, part_no: int, now: datetime, *, page: int = PAGE,
                       cache: _Cache | None = None) -> PageOutcome | None:
    """One page of a part inside the caller's transaction; None when the part is already done."""
    part = await offer_repo.lock_part(uow.conn, run_id, part_no)   # one runner per part at a time
    if part is None or part.done:
        return None
    run = await offer_repo.get_run(uow.conn, run_id)
    assert run is not None
    subjects = await offer_repo.due_subjects(uow.conn, after_id=part.cursor, upto_id=part.hi, as_of=run.as_of,
                                             offer_days=offer_days(), limit=page)
    res = await refresh_subjects(uow, subjects, now, reason="recalc", run_id=run_id, cache=cache)
    done = len(subjects) < page
    cursor = part.hi if done else subjects[-1].contract_id
    await offer_repo.advance_part(uow.conn, part, cursor=cursor, done=done, counts=res.counts(), at=now)
    return PageOutcome(res, cursor, done)


async def run_part(pool: asyncpg.Pool, run_id: int, part_no: int, clock: Clock, *, page: int = PAGE,
                   on_page: Callable[[PageOutcome], None] | None = None) -> None:
    """Walk one part to its end, a transaction per page (resumes from the stored cursor)."""
    cache = _Cache()
    while True:
        async with UnitOfWork(pool) as uow:
            out = await process_page(uow, run_id, part_no, clock.now(), page=page, cache=cache)
        if out is None:
            return
        if on_page is not None:
            on_page(out)
        if out.done:
            return


async def start_or_resume(pool: asyncpg.Pool, *, as_of: date, resume: bool, parts: int, source: str,
                          now: datetime) -> Run:
    """`resume`: the latest unfinished run for `as_of` if there is one; else a new run."""
    async with UnitOfWork(pool) as uow:
        if resume:
            run = await offer_repo.latest_unfinished_run(uow.conn, as_of=as_of)
            if run is not None:
                return run
        run = await offer_repo.create_run(uow.conn, as_of=as_of, source=source, parts=parts, at=now)
    assert run is not None
    return run


# --- the nightly chain of timers ------------------------------------------------------------------


def nightly_due(day: date) -> datetime:
    return datetime.combine(day, NIGHTLY_AT, tzinfo=JST)


async def ensure_nightly(conn: asyncpg.Connection, now: datetime, *, parts: int = NIGHTLY_PARTS) -> int:
    """Schedule the next nightly run (idempotent: one timer per date). Call at worker start-up."""
    today = now.astimezone(JST).date()
    day = today if now < nightly_due(today) else today + timedelta(days=1)
    return await schedule_nightly(conn, day, parts=parts)


async def schedule_nightly(conn: asyncpg.Connection, day: date, *, parts: int = NIGHTLY_PARTS,
                           page: int = PAGE) -> int:
    return await timers.schedule(conn, kind=NIGHTLY_KIND, subject="renewal:nightly", due_at=nightly_due(day),
                                 idempotency_key=f"{NIGHTLY_KIND}:{day.isoformat()}",
                                 payload={"asOf": day.isoformat(), "parts": parts, "page": page})


async def schedule_batch(conn: asyncpg.Connection, run_id: int, part_no: int, cursor: int, due_at: datetime,
                         *, page: int = PAGE) -> int:
    return await timers.schedule(conn, kind=BATCH_KIND, subject=f"recalc:{run_id}:{part_no}", due_at=due_at,
                                 idempotency_key=f"{BATCH_KIND}:{run_id}:{part_no}:{cursor}",
                                 payload={"run": run_id, "part": part_no, "page": page})


async def start_nightly(conn: asyncpg.Connection, as_of: date, now: datetime, *, parts: int = NIGHTLY_PARTS,
                        page: int = PAGE) -> Run | None:
    """The nightly timer's effect: the day's run (once), a batch timer per part, the next night's timer."""
    run = await offer_repo.create_run(conn, as_of=as_of, source="NIGHTLY", parts=parts, at=now)
    if run is not None:
        for p in run.parts:
            await schedule_batch(conn, run.id, p.part_no, p.cursor, now, page=page)
    await schedule_nightly(conn, as_of + timedelta(days=1), parts=parts, page=page)
    return run


# --- driving a run from a command (CLI, bench): a process per part ----------------------------------


def _part_process(dsn: str, run_id: int, part_no: int, page: int, clock_offset: timedelta) -> None:
    from domain.runtime import bulk
    from domain.runtime.clock import SystemClock
    from domain.store.db import create_pool

    async def go() -> None:
        pool = await create_pool(dsn, min_size=1, max_size=2)
        try:
            await run_part(pool, run_id, part_no, SystemClock(clock_offset), page=page)
        finally:
            await pool.close()

    bulk.run(go())


def progress_of(run: Run) -> float:
    span = sum(p.hi - p.lo for p in run.parts)
    return 1.0 if span <= 0 else sum(p.cursor - p.lo for p in run.parts) / span


async def drive(dsn: str, run: Run, *, page: int = PAGE, poll_seconds: float = 0.5,
                on_progress: Callable[[Run], None] | None = None,
                clock_offset: timedelta = timedelta(0)) -> Run:
    """Run every unfinished part of `run` to its end, one OS process per part (disjoint id ranges,
    so they never wait for each other), reporting progress from the parts' committed cursors.
    `clock_offset`: the business clock's offset, so the parts' "now" is the caller's."""
    import asyncio
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_part_process, args=(dsn, run.id, p.part_no, page, clock_offset), daemon=True)
             for p in run.parts if not p.done]
    for pr in procs:
        pr.start()
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            alive = any(pr.is_alive() for pr in procs)
            got = await offer_repo.get_run(conn, run.id)
            assert got is not None
            run = got
            if on_progress is not None:
                on_progress(run)
            if not alive:
                break
            await asyncio.sleep(poll_seconds)
    finally:
        await conn.close()
        for pr in procs:
            pr.join()
    failed = [pr.exitcode for pr in procs if pr.exitcode]
    if failed:
        raise RuntimeError(f"a recalculation process ended with exit code {failed[0]}; rerun with --resume")
    return run
