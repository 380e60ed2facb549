"""Process settings, read once from the environment (prefix-free names, as twelve-factor tools expect)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Literal["development", "test", "staging", "production"] = "development"
    # Unset means: start the embedded server under data_dir (development and tests only).
    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = ROOT / ".data"

    host: str = "127.0.0.1"
    port: int = 8000

    # Auth: HS256 with a dev secret unless a public key is configured (production: RS256).
    jwt_secret: str = "autopolicy-dev-secret-change-me-0123456789"
    jwt_public_key: str | None = None
    jwt_private_key: str | None = None
    jwt_audience: str = "autopolicy"
    jwt_issuer: str = "autopolicy-dev"

    # GraphQL limits (ENGINEERING S3): built once at import, see api/limits.py.
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 2000

    # Workers
    timer_sweep_seconds: int = Field(default=2, ge=1)
    timer_batch: int = Field(default=500, ge=1)
    timer_max_attempts: int = Field(default=8, ge=1)
    arq_queue: str = "autopolicy"
    # Parts of the nightly recalculation run: each part is a chain of page jobs that any worker may
    # take, one page at a time (docs/operations.md, "Recalculation across workers"). At least the
    # number of worker processes, so every worker has a part to run.
    recalc_parts: int = Field(default=2, ge=1)

    # Webhooks (docs/decisions.md "Webhooks"): per-request timeout; retries back off from base to
    # cap with jitter and end in the dead letter after max_age or max_attempts.
    webhook_timeout_seconds: float = Field(default=10, gt=0)
    webhook_retry_base_seconds: float = Field(default=10, ge=0)
    webhook_retry_cap_seconds: float = Field(default=3600, ge=0)
    webhook_max_age_seconds: float = Field(default=86400, gt=0)
    webhook_max_attempts: int = Field(default=25, ge=1)
    # One lane job sends at most this many, for at most this long, then hands over to a new job
    # (its transaction, holding the attempts it records, stays short).
    webhook_lane_batch: int = Field(default=50, ge=1)
    webhook_lane_budget_seconds: float = Field(default=15, gt=0)
    # After a rotation the previous secret still signs (a second v1=) for this long.
    webhook_secret_overlap_seconds: float = Field(default=86400, ge=0)
    webhook_publish_batch: int = Field(default=500, ge=1)
    # Email notifications of reminders and deadlines: off unless both are set. The book holds no
    # policyholder email addresses, so mail goes to one mailbox (the operations desk that posts the
    # letters); smtp_url is smtp://[user:password@]host[:port] (smtps:// for implicit TLS).
    smtp_url: str | None = None
    notification_email_to: str | None = None
    notification_email_from: str = "autopolicy@localhost"

    @property
    def email_on(self) -> bool:
        return bool(self.smtp_url and self.notification_email_to)

    # Clock: only non-production environments may read a moved clock from the database.
    allow_clock_override: bool = True

    pool_min: int = 1
    pool_max: int = 10

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
