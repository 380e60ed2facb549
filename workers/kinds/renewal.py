"""Renewal offer timers (domain/services/recalc.py explains the run):

- `renewal.nightly` (subject renewal:nightly, one per date): start the day's recalculation run,
  schedule a `renewal.batch` per part and the next night's `renewal.nightly`.
- `renewal.batch` (payload run, part; key per cursor): one page of a part in this job's
  transaction, then the next page's timer, handed to arq as soon as this one commits (any
  worker may take it). Killed mid-page: nothing of the page committed and the timer is handed
  over again, so the page is redone once.
- `renewal.recalc` (subject contract:<id>): recompute one contract's offer now
  (recalc.request_recalculation schedules it, on a RenewalInputsChanged reaction).
"""

from __future__ import annotations

from datetime import date

import asyncpg

from domain.runtime.clock import Clock
from domain.services.renewals import recalc
from domain.services.renewals.offers import _Cache, as_uow, refresh_contract
from domain.store.timers import TimerRow
from workers.registry import timer_kind

# Parsed inputs and computed offers shared by the batch jobs of this process (documents are
# always inserted with ON CONFLICT DO NOTHING here: a job cannot know its own commit).
_cache = _Cache()


@timer_kind(recalc.NIGHTLY_KIND)
async def nightly(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    as_of = date.fromisoformat(str(timer.payload["asOf"]))
    await recalc.start_nightly(conn, as_of, clock.now(), parts=int(timer.payload.get("parts", recalc.NIGHTLY_PARTS)),
                               page=int(timer.payload.get("page", recalc.PAGE)))


@timer_kind(recalc.BATCH_KIND, hand_over_now=True)
async def batch(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    run_id, part_no = int(timer.payload["run"]), int(timer.payload["part"])
    page = int(timer.payload.get("page", recalc.PAGE))
    now = clock.now()
    out = await recalc.process_page(as_uow(conn), run_id, part_no, now, page=page, cache=_cache)
    if out is not None and not out.done:
        await recalc.schedule_batch(conn, run_id, part_no, out.cursor, now, page=page)


@timer_kind(recalc.RECALC_KIND)
async def recalc_contract(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    contract_id = int(timer.payload["contract"])
    await refresh_contract(as_uow(conn), contract_id, clock.now(), reason=str(timer.payload.get("reason", "")))
