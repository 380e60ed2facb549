"""Prometheus metrics of one worker process (prometheus_client's default registry).

What the jobs of this process did; the API reports the durable view (counts by state, lag of the
oldest due row) from the timers table itself. Expose them with TIMER_METRICS_PORT.
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import REGISTRY, Counter, Histogram


class Outcome(StrEnum):
    DONE = "done"          # effect committed, timer DONE
    RETRY = "retry"        # handler failed, timer back to PENDING with a later due_at
    FAILED = "failed"      # handler failed on the last attempt, timer FAILED
    SKIPPED = "skipped"    # duplicate or stale job: the row was no longer ENQUEUED (no effect)
    ERROR = "error"        # the job itself broke (database gone...); the lease hands the timer over again


TIMER_JOBS = Counter(
    "autopolicy_worker_timer_jobs_total",
    "Timer jobs run by this worker process, by kind and outcome",
    ["kind", "outcome"],
)
TIMER_LAG = Histogram(
    "autopolicy_worker_timer_lag_seconds",
    "Time from a timer's due_at to the start of the attempt that ran it (injected clock)",
    ["kind"],
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, 24 * 3600),
)
SWEEP_CLAIMED = Counter(
    "autopolicy_worker_timer_claimed_total", "Timer rows claimed and handed to arq by the sweep",
)
SWEEP_ENQUEUE_REFUSED = Counter(
    "autopolicy_worker_timer_enqueue_refused_total",
    "Hand-overs arq refused because a job with that id was still queued or kept",
)
SWEEP_ENQUEUE_ERRORS = Counter(
    "autopolicy_worker_timer_enqueue_errors_total",
    "Hand-overs that failed to reach Redis (the lease hands the timer over again)",
)


def job_count(kind: str, outcome: Outcome) -> float:
    """Current counter value (tests and benchmarks read it)."""
    value = REGISTRY.get_sample_value(
        "autopolicy_worker_timer_jobs_total", {"kind": kind, "outcome": outcome.value}
    )
    return value or 0.0
