"""arq worker settings: the timer job, the sweep on a cron, one asyncpg pool per worker process.

`arq workers.settings.WorkerSettings` and `python -m workers` run a worker from the environment
(DATABASE_URL, REDIS_URL, TIMER_*); tests and tools build their own with `worker_settings(...)`
and pass an injected Clock.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import asyncpg
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func, get_kwargs
from redis.exceptions import RedisError

import workers.kinds  # noqa: F401  (registers every timer kind)
from domain.runtime import bulk, stop_signals
from domain.runtime.business_clock import follow, follows_offset, read_offset
from domain.runtime.clock import Clock, SystemClock
from domain.runtime.settings import Settings, get_settings
from domain.services.renewals.recalc import ensure_nightly
from domain.services.wiring import install as install_reactions
from domain.store.db import create_pool
from domain.store.migrate import migrate
from workers.config import TimerTuning
from workers.kinds import webhooks
from workers.publish import PUBLISH, publish_outbox
from workers.timer_job import CTX_KEY, RUN_TIMER, SWEEP, TimerRuntime, run_timer, sweep_timers

# arq's own retries only cover a cancelled job (worker shutdown); timer failures are retried by
# the timer row (attempts, backoff), and a job arq gives up on is handed over again by the lease.
ARQ_MAX_TRIES = 3

log = logging.getLogger("autopolicy.worker")


def _sweep_schedule(every_seconds: int) -> dict[str, Any]:
    if every_seconds < 60:
        return {"second": set(range(0, 60, every_seconds))}
    return {"second": 0, "minute": set(range(0, 60, max(1, every_seconds // 60)))}


def worker_settings(settings: Settings, clock: Clock | None = None, tuning: TimerTuning | None = None,
                    *, pool: asyncpg.Pool | None = None, sweep: bool = True) -> type:
    """A WorkerSettings class for arq (`Worker(**...)`, `run_worker`, `create_worker`).

    `pool`: use this pool instead of creating (and closing) one. `sweep=False` leaves the cron out,
    for burst workers in tests that call `sweep_timers` themselves.
    """
    clock = clock or SystemClock()
    tuning = tuning or TimerTuning()
    install_reactions()
    database_url = settings.database_url

    # A wall clock follows the business clock (outside production); an injected one is the caller's.
    following = clock if isinstance(clock, SystemClock) and follows_offset(settings) else None

    async def on_startup(ctx: dict[str, Any]) -> None:
        own = pool
        if own is None:
            if not database_url:
                raise RuntimeError("DATABASE_URL is not set: the worker needs PostgreSQL")
            own = await create_pool(database_url, min_size=1, max_size=tuning.max_jobs + 2)
            ctx["_own_pool"] = own  # at once: a stop during the migration below still closes it
            async with own.acquire() as conn:
                await migrate(conn)  # no-op when up to date; the advisory lock serialises starters
                if following is not None:
                    # Before anything reads it: the follower's first poll would come too late
                    # for the nightly below (it would be scheduled for the wall clock's date).
                    following.offset = await read_offset(conn)
                # The nightly recalculation chain: each night schedules the next; this starts it
                # (idempotent, one timer per date) in case it was never started or was lost.
                await ensure_nightly(conn, clock.now(), parts=settings.recalc_parts)
        ctx[CTX_KEY] = TimerRuntime(pool=own, clock=clock, settings=settings, tuning=tuning)
        await webhooks.start(settings)
        if following is not None:
            ctx["_clock_follower"] = asyncio.create_task(follow(following, own))

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        await webhooks.stop()
        follower: asyncio.Task[None] | None = ctx.pop("_clock_follower", None)
        if follower is not None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)  # it may hold a connection
        own: asyncpg.Pool | None = ctx.pop("_own_pool", None)
        if own is not None:
            await own.close()

    cron_jobs = []
    if sweep:
        cron_jobs.append(cron(
            sweep_timers, name=SWEEP, run_at_startup=True, unique=True, max_tries=1,
            timeout=tuning.job_timeout_seconds, **_sweep_schedule(settings.timer_sweep_seconds),
        ))
        # The outbox publisher on the same schedule (workers/publish.py).
        cron_jobs.append(cron(
            publish_outbox, name=PUBLISH, run_at_startup=True, unique=True, max_tries=1,
            timeout=tuning.job_timeout_seconds, **_sweep_schedule(settings.timer_sweep_seconds),
        ))
    attrs: dict[str, Any] = {
        "functions": [func(run_timer, name=RUN_TIMER, timeout=tuning.job_timeout_seconds,
                           keep_result=tuning.keep_result_seconds)],
        "cron_jobs": cron_jobs,
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url) if settings.redis_url else RedisSettings(),
        "queue_name": settings.arq_queue,
        "max_jobs": tuning.max_jobs,
        "job_timeout": tuning.job_timeout_seconds,
        "keep_result": tuning.keep_result_seconds,
        "max_tries": ARQ_MAX_TRIES,
        "poll_delay": tuning.poll_delay_seconds,
        "health_check_interval": 30,
    }
    return type("WorkerSettings", (), attrs)


class TimerWorker(Worker):
    """arq's Worker with a stop that always finishes cleanly: SIGTERM at any moment exits 0.

    arq's `close` gathers the job tasks its signal handler has just cancelled, so a job caught
    mid-flight by SIGTERM re-raises `CancelledError` out of `close` and the process exits 1 (seen
    under load). A cancelled job is not lost (its transaction rolls back and its timer row's lease
    hands it over again), so the stop waits for every task to settle and treats a cancellation as
    the normal outcome. A signal during start-up cancels `on_startup` wherever it is (connecting,
    migrating): whatever that raises on the way out is the stop, not a failure. The stop also
    waits (a little) for the job results arq writes under `asyncio.shield`, so they are not cut
    off by closing Redis under them.
    """

    SETTLE_SECONDS = 5.0

    _stop_signal: signal.Signals | None = None

    def handle_sig(self, signum: signal.Signals) -> None:
        self._stop_signal = signal.Signals(signum)
        super().handle_sig(signum)

    def run(self) -> None:
        self.main_task = self.loop.create_task(self.main())
        try:
            self.loop.run_until_complete(self.main_task)
        except asyncio.CancelledError:
            pass  # the stop
        except Exception:
            if self._stop_signal is None:
                raise  # a real failure (PostgreSQL unreachable at start, ...): exit 1 as before
            log.info("start-up interrupted by %s", self._stop_signal.name, exc_info=True)
        finally:
            self.loop.run_until_complete(self.close())

    async def close(self) -> None:
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        # arq's shielded result writes outlive a cancelled job task; they need Redis open.
        writes = [t for t in asyncio.all_tasks()
                  if not t.done() and getattr(t.get_coro(), "__qualname__", "") == "Worker.finish_job"]
        if writes:
            await asyncio.wait(writes, timeout=self.SETTLE_SECONDS)
        try:
            await self.pool.delete(self.health_check_key)
        except (OSError, RedisError) as exc:  # the key expires by itself
            log.warning("health-check key not removed: %s", exc)
        await self.pool.close(close_connection_pool=True)
        self._pool = None


def create_worker(settings_cls: type, **overrides: Any) -> TimerWorker:
    """A TimerWorker from a `worker_settings(...)` class (arq's `create_worker`, with the clean stop)."""
    return TimerWorker(**{**get_kwargs(settings_cls), **overrides})


def run_worker(settings: Settings, clock: Clock | None = None, tuning: TimerTuning | None = None) -> None:
    """Run a worker until SIGINT/SIGTERM (blocking); a stop noted before it started ends it here."""
    tuning = tuning or TimerTuning()
    if tuning.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(tuning.metrics_port)
    bulk.use_uvloop()     # before arq makes its loop (Worker.__init__)
    worker = create_worker(worker_settings(settings, clock, tuning))
    bulk.prepare()
    # arq's loop handlers are installed now (Worker.__init__): a later signal reaches them; one
    # that came during the imports or the start of the services was noted (stop_signals.defer).
    early = stop_signals.requested()
    if early is not None:
        log.info("stop requested (%s) before the worker started: not starting", early.name)
        return
    worker.run()


WorkerSettings = worker_settings(get_settings())
