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
