"""docker-compose.yml carries what production needs (issue 2 §11)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())


def test_services_present_with_healthchecks() -> None:
    services = COMPOSE["services"]
    assert set(services) >= {"postgres", "redis", "api", "worker"}
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name


def test_postgres_16_with_named_volume() -> None:
    pg = COMPOSE["services"]["postgres"]
    assert pg["image"].split(":")[1].startswith("16")
    volume = pg["volumes"][0].split(":")[0]
    assert volume in COMPOSE["volumes"]


def test_redis_7_appendonly_noeviction() -> None:
    rd = COMPOSE["services"]["redis"]
    assert rd["image"].split(":")[1].startswith("7")
    cmd = " ".join(rd["command"])
    assert "--appendonly yes" in cmd
    assert "--maxmemory-policy noeviction" in cmd


def test_app_services_wait_for_healthy_backends() -> None:
    for name in ("api", "worker"):
        deps = COMPOSE["services"][name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        env = COMPOSE["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://") and env["REDIS_URL"].startswith("redis://")


def test_worker_health_is_arqs_own_check() -> None:
    test = COMPOSE["services"]["worker"]["healthcheck"]["test"]
    assert test[1:3] == ["arq", "--check"] and test[3] == "workers.settings.WorkerSettings"


# --- Compose v1 and v2 (issue 12) -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# Top-level keys both read: docker-compose >= 1.27 (the Compose Specification, `version:`
# optional) rejects `name:`, which only v2 knows; extensions (x-...) are fine in both.
PORTABLE_TOP_LEVEL = {"services", "volumes", "networks", "configs", "secrets"}


def test_top_level_keys_are_the_ones_compose_v1_and_v2_both_accept() -> None:
    keys = {k for k in COMPOSE if not k.startswith("x-")}
    assert "name" not in keys and "version" not in keys  # v1 rejects name; v2 warns on version
    assert keys <= PORTABLE_TOP_LEVEL, keys - PORTABLE_TOP_LEVEL


def test_the_project_name_comes_from_the_committed_env_file() -> None:
    env = dict(line.split("=", 1) for line in (ROOT / ".env").read_text().splitlines()
               if line.strip() and not line.startswith("#"))
    assert env == {"COMPOSE_PROJECT_NAME": "autopolicy"}


def _compose_commands() -> list[list[str]]:
    found = []
    if shutil.which("docker-compose"):
        found.append(["docker-compose"])
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True,
                                                 check=False).returncode == 0:
        found.append(["docker", "compose"])
    return found


def test_every_installed_compose_accepts_the_file() -> None:
    """`config -q` validates without a Docker daemon; run with whichever Compose is installed
    (the structural tests above hold where none is)."""
    commands = _compose_commands()
    if not commands:
        pytest.skip("neither docker-compose (v1) nor docker compose (v2) is installed")
    for cmd in commands:
        r = subprocess.run([*cmd, "config", "-q"], cwd=ROOT, capture_output=True, text=True, check=False,
                           timeout=60)
        assert r.returncode == 0, f"{' '.join(cmd)}: {r.stderr}"


# --- several API processes and workers (issue 16) --------------------------------------------------


def _published_host_ports(service: dict[str, object]) -> list[str]:
    """Host ports a service publishes ("8000:8080" → "8000"; "8080" alone publishes an ephemeral one)."""
    out = []
    for p in service.get("ports", []) or []:  # type: ignore[attr-defined]
        text = str(p["published"]) if isinstance(p, dict) else str(p)
        parts = text.split(":")
        if len(parts) >= 2:
            out.append(parts[-2])
    return out


def test_scaling_api_and_worker_to_three_clashes_on_nothing() -> None:
    """`--scale api=3 --scale worker=3`: a replicated service may not publish a fixed host port or
    set a container name (the second replica could not start)."""
    services = COMPOSE["services"]
    for name in ("api", "worker"):
        assert not _published_host_ports(services[name]), name
        assert "container_name" not in services[name], name
    assert services["api"]["expose"] == ["8000"]
    published = [p for s in services.values() for p in _published_host_ports(s)]
    assert len(published) == len(set(published))                     # one owner per host port


def test_one_balancer_publishes_the_api_for_every_replica() -> None:
    lb = COMPOSE["services"]["lb"]
    assert _published_host_ports(lb) == ["8000"]
    assert lb["depends_on"]["api"]["condition"] == "service_healthy" and "healthcheck" in lb
    source = lb["volumes"][0].split(":")[0]
    conf = (ROOT / source).read_text()
    assert "resolver 127.0.0.11" in conf                              # Docker's DNS: every replica, re-resolved
    assert "set $api http://api:8000;" in conf and "proxy_pass $api;" in conf


def test_workers_split_the_nightly_recalculation_into_parts_enough_for_three() -> None:
    env = COMPOSE["services"]["worker"]["environment"]
    assert int(env["RECALC_PARTS"]) >= 3
