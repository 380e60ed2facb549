"""The outbox publisher: an arq cron (beside the timer sweep) that fans events out to webhooks.

Each batch is one transaction (domain.services.notifications.delivery.publish_events); several
workers run it at once and share the events (SKIP LOCKED). When it published anything it runs the
timer sweep at once, so the new lanes' timers go to arq now rather than at the next sweep.
"""

from __future__ import annotations

from typing import Any

from domain.services.notifications.delivery import publish_events
from domain.store.uow import UnitOfWork
from workers.timer_job import CTX_KEY, TimerRuntime, sweep_timers

PUBLISH = "publish_events"


async def publish_outbox(ctx: dict[str, Any]) -> int:
    rt: TimerRuntime = ctx[CTX_KEY]
    batch = rt.settings.webhook_publish_batch
    total = 0
    while True:
        async with UnitOfWork(rt.pool) as uow:
            n = await publish_events(uow, rt.clock.now(), rt.settings, limit=batch)
        total += n
        if n < batch:
            break
    if total:
        await sweep_timers(ctx)
    return total
