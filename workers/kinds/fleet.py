"""`fleet.review` (subject fleet:<id>, key fleet:<id>:REVIEW:<n>): decide the fleet's review n when its
experience period has ended (domain/services/fleets/cases.py); it stores the next review's timer."""

from __future__ import annotations

import asyncpg

from domain.runtime.clock import Clock
from domain.services.fleets.cases import review_fleet
from domain.store.timers import TimerRow
from domain.store.uow import JobUnitOfWork
from workers.registry import timer_kind


@timer_kind("fleet.review")
async def fleet_review(conn: asyncpg.Connection, timer: TimerRow, clock: Clock) -> None:
    await review_fleet(JobUnitOfWork(conn), int(timer.payload["fleetId"]), int(timer.payload["reviewNo"]), clock.now())
