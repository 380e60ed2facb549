"""The `autopolicy` command: clear one-line errors on bad input, and `dev` (what `make run` calls)
starting everything from nothing and stopping it all on Ctrl-C with no orphan processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from domain.runtime.clock import JST

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "api.cli"]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    full_env.update(env or {})
    return subprocess.run([*CLI, *args], check=False, env=full_env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url", [
    "postgresql://postgres@127.0.0.1:1/nothing",
    "not-a-url",
])
def test_wrong_database_url_is_one_clear_line(url: str) -> None:
    r = run_cli("migrate", env={"DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1"})
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "PostgreSQL" in r.stderr


def test_unreachable_redis_is_one_clear_line(database_url: str) -> None:
    r = run_cli("worker", env={"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "Redis" in r.stderr


def test_port_in_use_is_one_clear_line(database_url: str, redis_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run_cli("serve", env={"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PORT": str(port)})
    assert r.returncode == 2
    assert f"port {port}" in r.stderr and "Traceback" not in r.stderr


def test_token_is_a_verifiable_jwt(database_url: str) -> None:
    from api.auth import Role, verify_token
    from domain.runtime.settings import Settings

    r = run_cli("token", "--role", "agent", "--agency", "7", env={"DATABASE_URL": database_url})
    assert r.returncode == 0, r.stderr
    principal = verify_token(Settings(), r.stdout.strip(), datetime.now(JST))
    assert principal.role is Role.AGENT and principal.agency_id == 7


def _claims(token: str) -> dict:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


def test_token_without_a_role_is_a_staff_token(database_url: str) -> None:
    """GraphiQL's help says `autopolicy token` prints one (api/static/graphiql/graphiql-init.js)."""
    assert "(`autopolicy token` prints one)" in (ROOT / "api/static/graphiql/graphiql-init.js").read_text()
    r = run_cli("token", env={"DATABASE_URL": database_url})
    assert r.returncode == 0, r.stderr
    assert _claims(r.stdout.strip())["role"] == "staff" and r.stdout.count("\n") == 1


def test_token_takes_the_ids_the_api_shows(database_url: str) -> None:
    from api.node import to_global_id

    env = {"DATABASE_URL": database_url}
    ph = run_cli("token", "--role", "policyholder", "--party", str(to_global_id("Party", 42)), env=env)
    ag = run_cli("token", "--role", "agent", "--agency", str(to_global_id("Agency", 9)), env=env)
    ph_int = run_cli("token", "--role", "policyholder", "--party", "42", env=env)
    assert (ph.returncode, ag.returncode, ph_int.returncode) == (0, 0, 0), (ph.stderr, ag.stderr, ph_int.stderr)
    assert _claims(ph.stdout.strip())["party_id"] == 42 == _claims(ph_int.stdout.strip())["party_id"]
    assert _claims(ag.stdout.strip())["agency_id"] == 9


@pytest.mark.parametrize(("args", "says"), [
    (("--role", "policyholder"), "--role policyholder needs --party"),
    (("--role", "agent"), "--role agent needs --agency"),
    (("--role", "policyholder", "--party", "QWdlbmN5Ojk="), "--party 'QWdlbmN5Ojk=' is neither a Party id"),  # Agency:9
    (("--role", "agent", "--agency", "nine"), "--agency 'nine' is neither an Agency id"),
    (("--role", "staff", "--party", "42"), "--party is for --role policyholder"),
    (("--role", "policyholder", "--party", "42", "--agency", "9"), "--agency is for --role agent"),
])
def test_token_that_would_see_nothing_is_refused(args: tuple[str, ...], says: str) -> None:
    # refused before any service is started: no DATABASE_URL needed
    r = run_cli("token", *args)
    assert r.returncode == 2 and r.stdout == ""
    assert says in r.stderr and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


@pytest.fixture
def moved_clock_url(services, database_url: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A database of its own whose business clock `simulate` moved 400 days ahead."""
    from urllib.parse import urlsplit

    from tests.support import moved_clock_database

    name = urlsplit(database_url).path.lstrip("/") + "_token_clock"
    with moved_clock_database(services.database_url, name, 400 * 86400.0) as url:
        yield url


def test_token_is_minted_on_the_business_clock(moved_clock_url: str) -> None:
    from api.auth import verify_token
    from domain.runtime.settings import Settings

    r = run_cli("token", env={"DATABASE_URL": moved_clock_url})
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    ahead = datetime.now(JST) + timedelta(days=400)
    assert abs(_claims(token)["iat"] - ahead.timestamp()) < 120
    assert verify_token(Settings(), token, ahead).role.value == "staff"   # what the API (moved clock) checks


def _processes_using(path: Path) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmd:
            found.append(f"{pid}: {cmd}")
    return found


@pytest.mark.slow
def test_dev_starts_everything_embedded_and_ctrl_c_leaves_no_orphans(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"DATA_DIR": str(data), "PORT": str(port)})
    proc = subprocess.Popen([*CLI, "dev"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out: list[str] = []
    try:
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(out)
        assert f"http://127.0.0.1:{port}/graphql" in text, text
        assert "business clock: " in text and "(the wall clock; `autopolicy simulate" in text, text
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": "{ __typename }"}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.loads(r.read()) == {"data": {"__typename": "Query"}}
        assert _processes_using(data), "embedded servers should be running"
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        proc.wait(60)
    rest = proc.stdout.read() if proc.stdout else ""
    assert "autopolicy stopped." in rest, "".join(out) + rest
    time.sleep(0.5)
    assert _processes_using(data) == []
    assert (data / "postgres" / "pg" / "PG_VERSION").exists(), "data is kept under DATA_DIR between runs"
