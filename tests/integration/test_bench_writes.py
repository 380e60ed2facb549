"""bench/writes.py at tiny sizes (issue 16): it starts our server, calibrates, runs every operation
through ours and through the floor without a refusal, and the floor writes the same rows as ours.
No timing is asserted."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

from bench.writes import main
from domain.runtime.services import Services


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bench_writes_runs_small(services: Services, database_url: str, redis_url: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    name = urlsplit(database_url).path.lstrip("/") + f"_writes_bench_{os.getpid()}"
    code = main(["--contracts", "300", "--ops", "6", "--rounds", "1", "--concurrency", "3",
                 "--db-name", name, "--admin-url", services.database_url, "--redis-url", redis_url,
                 "--our-port", str(_free_port())])
    out = capsys.readouterr().out
    assert code == 0, out
    for op in ("createQuote", "endorseContract", "reportAccident"):
        assert f"{op}: floor writes the same rows" in out, out
        assert f"| {op} |" in out
    assert "WARNING" not in out, out
