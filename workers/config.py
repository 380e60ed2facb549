"""Tuning of the timer machinery that `Settings` does not carry (env prefix TIMER_).

TIMER_LEASE_SECONDS, TIMER_JOB_TIMEOUT_SECONDS, TIMER_BACKOFF_BASE_SECONDS, ... The sweep period,
batch size and attempt limit stay in domain.runtime.settings.Settings (TIMER_SWEEP_SECONDS,
TIMER_BATCH, TIMER_MAX_ATTEMPTS).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TimerTuning(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIMER_", env_file=None, extra="ignore",
                                      case_sensitive=False, frozen=True)

    # An ENQUEUED row without a result after this long is handed over again. It has to cover only
    # the wait in the Redis queue (a running job holds its row lock and is skipped), and the sweep
    # keeps that queue short (queue_high_water), so 30 s is generous.
    lease_seconds: float = Field(default=30, gt=0)
    # Longest a timer job may run; arq also keeps a job "in progress" for this + 10 s after a crash.
    job_timeout_seconds: float = Field(default=60, gt=0)
    # Retry after the n-th failed attempt: base * 2**(n-1), at most cap.
    backoff_base_seconds: float = Field(default=5, ge=0)
    backoff_cap_seconds: float = Field(default=3600, ge=0)
    # The sweep claims no more while this many jobs wait in the arq queue (back-pressure): rows stay
    # PENDING in PostgreSQL rather than pile up in Redis, where they would outlive their lease.
    queue_high_water: int = Field(default=2000, ge=1)
    max_jobs: int = Field(default=20, ge=1)
    poll_delay_seconds: float = Field(default=0.5, gt=0)
    # Seconds an arq result is kept (only to look at): job ids are unique per attempt, so nothing
    # needs them; kept short because a database reset to the same ids meets them again (the lease
    # then repairs it, 30 s later).
    keep_result_seconds: float = Field(default=10, ge=0)
    # Port for the worker's own /metrics (prometheus_client's HTTP server); unset: none.
    metrics_port: int | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def backoff(self, failed_attempts: int) -> timedelta:
        """Delay before the next attempt after `failed_attempts` failures (>= 1)."""
        n = max(failed_attempts, 1)
        # Bound the exponent so huge attempt counts cannot overflow the float.
        seconds = self.backoff_base_seconds * (2 ** min(n - 1, 40))
        return timedelta(seconds=min(seconds, self.backoff_cap_seconds))
