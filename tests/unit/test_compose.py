"""docker-compose.yml carries what production needs (issue 2 §11)."""

from __future__ import annotations

from pathlib import Path

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
