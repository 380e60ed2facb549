"""Benchmarks find their servers as `make run` does (bench/servers.py, issue 12): DATABASE_URL /
REDIS_URL when set, the embedded PostgreSQL and Redis otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import bench_services

ROOT = Path(__file__).resolve().parents[2]


def test_the_machines_servers_when_the_environment_names_them(monkeypatch: pytest.MonkeyPatch,
                                                              database_url: str, redis_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    with bench_services() as svc:
        assert (svc.database_url, svc.redis_url) == (database_url, redis_url)
        assert svc.embedded_postgres is None and svc.embedded_redis is None


@pytest.mark.slow
def test_a_bench_runs_on_the_embedded_servers_without_the_environment() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    r = subprocess.run([sys.executable, "bench/expiry.py", "--contracts", "20"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "embedded PostgreSQL" in r.stderr and "embedded Redis" in r.stderr
    assert "P6: " in r.stdout and "PASS" in r.stdout
