"""`python -m workers` as a real process: the cron sweep runs it, SIGKILL mid-job loses nothing.

The process uses the system clock, so timers here are due in real time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from arq.connections import RedisSettings
from arq.connections import create_pool as create_arq_pool
from arq.jobs import Job

from domain.runtime.clock import JST
from domain.services.renewals.recalc import NIGHTLY_KIND
from domain.store import timers
from domain.store.timers import TimerState
from tests.workers.conftest import flush_redis

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "timers-process-test"
JOB_TIMEOUT = 2  # arq keeps a crashed job "in progress" for this + 10 s before running it again


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)

    def kill(self, sig: signal.Signals) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(15)
        finally:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(workers_database_url: str, workers_redis_url: str,
                 tmp_path: Path) -> Iterator[Callable[[], WorkerProcess]]:
    started: list[WorkerProcess] = []
    env = {
        **os.environ,
        "DATABASE_URL": workers_database_url,
        "REDIS_URL": workers_redis_url,
        "ARQ_QUEUE": QUEUE,
        "ENVIRONMENT": "test",
        "TIMER_SWEEP_SECONDS": "1",
        "TIMER_LEASE_SECONDS": "1",
        "TIMER_JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT),
        "TIMER_POLL_DELAY_SECONDS": "0.05",
        "TIMER_MAX_ATTEMPTS": "5",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }

    def start() -> WorkerProcess:
        w = WorkerProcess(env, tmp_path / f"worker{len(started)}.log")
        started.append(w)
        return w

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.kill(signal.SIGKILL)


@pytest.fixture
async def fresh(wpool: asyncpg.Pool, workers_redis_url: str) -> asyncpg.Pool:
    async with wpool.acquire() as conn:
        await conn.execute("TRUNCATE timers, timer_ping_effects RESTART IDENTITY")
    flush_redis(workers_redis_url)
    return wpool


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, what: str,
                 worker: WorkerProcess | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        if worker is not None and worker.proc.poll() is not None:
            pytest.fail(f"worker exited ({worker.proc.returncode}) waiting for {what}:\n{worker.log()[-3000:]}")
        await asyncio.sleep(0.02)
    log = worker.log()[-3000:] if worker else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{log}")


async def _effects(pool: asyncpg.Pool, tid: int) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM timer_ping_effects WHERE timer_id = $1", tid))


async def _schedule_now(pool: asyncpg.Pool, key: str, payload: dict[str, object] | None = None) -> int:
    async with pool.acquire() as conn:
        return await timers.schedule(conn, kind="ping", subject=key, idempotency_key=key,
                                     due_at=datetime.now(JST) - timedelta(seconds=1), payload=payload)


async def test_worker_process_sweeps_and_runs_due_timers(fresh: asyncpg.Pool,
                                                        start_worker: Callable[[], WorkerProcess]) -> None:
    tid = await _schedule_now(fresh, "proc:a")
    worker = start_worker()

    async def done() -> bool:
        return await _effects(fresh, tid) == 1

    await _until(done, 15, "the due timer's effect", worker)
    # One scheduled while the worker runs is picked up by a later sweep.
    later = await _schedule_now(fresh, "proc:b")

    async def later_done() -> bool:
        return await _effects(fresh, later) == 1

    await _until(later_done, 5, "the second timer's effect", worker)
    assert worker.kill(signal.SIGTERM) == 0  # graceful stop


def _catches_sigterm(pid: int) -> bool:
    """The process has a SIGTERM handler (Linux: bit 15 of SigCgt in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    caught = next(int(line.split()[1], 16) for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(caught & (1 << (signal.SIGTERM - 1)))


async def test_sigterm_during_start_up_exits_cleanly(fresh: asyncpg.Pool,
                                                     start_worker: Callable[[], WorkerProcess]) -> None:
    """A SIGTERM while the worker imports, while it connects and migrates, and as its first sweep
    hands out a timer: each time exit 0 and no traceback; the timer then runs exactly once."""
    tid = await _schedule_now(fresh, "proc:start-up")

    # 1. During the imports: the first line of `python -m workers` has noted-not-fatal handlers in
    #    place (the interpreter's own start, before any line of ours runs, is the one gap left).
    importing = start_worker()
    deadline = time.monotonic() + 10
    while not _catches_sigterm(importing.proc.pid):
        assert time.monotonic() < deadline and importing.proc.poll() is None, importing.log()
        await asyncio.sleep(0.001)
    assert importing.kill(signal.SIGTERM) == 0, importing.log()
    assert "before the worker started: not starting" in importing.log()

    # 2. While arq starts: connecting to Redis and PostgreSQL, migrating (on_startup).
    starting = start_worker()

    async def arq_started() -> bool:
        return "Starting worker" in starting.log()

    await _until(arq_started, 15, "arq to start", starting)
    assert starting.kill(signal.SIGTERM) == 0, starting.log()

    # 3. As the first sweep hands the due timer to a job.
    sweeping = start_worker()

    async def handed_out() -> bool:
        return (await _row(fresh, tid)).state is not TimerState.PENDING

    await _until(handed_out, 15, "the first sweep", sweeping)
    assert sweeping.kill(signal.SIGTERM) == 0, sweeping.log()

    for w in (importing, starting, sweeping):
        assert "Traceback" not in w.log() and "CancelledError" not in w.log(), w.log()
    assert await _effects(fresh, tid) <= 1

    # Nothing lost: a worker that is let run does the timer, once.
    last = start_worker()

    async def done() -> bool:
        return (await _row(fresh, tid)).state is TimerState.DONE

    await _until(done, 15, "the timer to be done", last)
    assert await _effects(fresh, tid) == 1
    assert last.kill(signal.SIGTERM) == 0, last.log()


async def test_the_worker_starts_on_the_business_clock(fresh: asyncpg.Pool,
                                                      start_worker: Callable[[], WorkerProcess]) -> None:
    """Moved by `simulate` 400 days ahead: the nightly chain the worker starts is for the business
    date, not the wall clock's (its clock reads the offset before it schedules anything)."""
    ahead = timedelta(days=400)
    await fresh.execute("UPDATE business_clock SET offset_seconds = $1", ahead.total_seconds())
    try:
        worker = start_worker()

        async def nightly() -> bool:
            return bool(await fresh.fetchval("SELECT count(*) FROM timers WHERE kind = $1", NIGHTLY_KIND))

        await _until(nightly, 15, "the nightly timer", worker)
        assert worker.kill(signal.SIGTERM) == 0, worker.log()
        keys = [r["idempotency_key"] for r in
                await fresh.fetch("SELECT idempotency_key FROM timers WHERE kind = $1", NIGHTLY_KIND)]
        business = (datetime.now(JST) + ahead).date()
        assert keys and set(keys) <= {f"{NIGHTLY_KIND}:{business}", f"{NIGHTLY_KIND}:{business + timedelta(days=1)}"}, keys
    finally:
        await fresh.execute("UPDATE business_clock SET offset_seconds = 0")


async def test_sigkill_mid_job_takes_effect_exactly_once_after_restart(
        fresh: asyncpg.Pool, workers_redis_url: str, workers_database_url: str,
        start_worker: Callable[[], WorkerProcess]) -> None:
    pool = fresh
    dbname = workers_database_url.split("?")[0].rsplit("/", 1)[1]
    # The ping writes its effect, then holds the transaction open for 1 s.
    tid = await _schedule_now(pool, "proc:kill", {"sleep": 1.0})
    first = start_worker()

    async def mid_job() -> bool:
        n = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'idle in transaction' "
            "AND query LIKE 'INSERT INTO timer_ping_effects%'", dbname)
        return bool(n)

    await _until(mid_job, 15, "the job to write its uncommitted effect", first)
    first.kill(signal.SIGKILL)
    assert first.proc.returncode == -signal.SIGKILL

    async def connection_gone() -> bool:
        return not await mid_job()

    await _until(connection_gone, 5, "PostgreSQL to drop the killed worker's transaction")
    row = await _row(pool, tid)
    assert (row.state, row.attempts) == (TimerState.ENQUEUED, 1)
    assert await _effects(pool, tid) == 0  # rolled back with the connection
    stale = timers.job_id(tid, 1)
    arq = await create_arq_pool(RedisSettings.from_dsn(workers_redis_url), default_queue_name=QUEUE)
    try:
        assert await arq.zscore(QUEUE, stale) is not None  # arq still holds the killed job

        second = start_worker()

        async def done() -> bool:
            return (await _row(pool, tid)).state is TimerState.DONE

        # The lease hands the row over again (attempt 2) without waiting for arq.
        await _until(done, 10, "the re-handed timer to be DONE", second)
        assert await _effects(pool, tid) == 1
        assert (await _row(pool, tid)).attempts == 2

        # arq re-runs the killed job once its in-progress key expires: the row is DONE, so it is a no-op.
        async def stale_job_ran() -> bool:
            return await arq.zscore(QUEUE, stale) is None

        await _until(stale_job_ran, JOB_TIMEOUT + 10 + 8, "arq to re-run the killed job", second)
        info = await Job(stale, arq, _queue_name=QUEUE).result_info()
        assert info is not None and info.success and info.result == "skipped"
        assert await _effects(pool, tid) == 1
        assert second.kill(signal.SIGTERM) == 0
    finally:
        await arq.aclose(close_connection_pool=True)
    assert await _effects(pool, tid) == 1


async def _row(pool: asyncpg.Pool, tid: int) -> timers.TimerRow:
    async with pool.acquire() as conn:
        row = await timers.get(conn, tid)
    assert row is not None
    return row
