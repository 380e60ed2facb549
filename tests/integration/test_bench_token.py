"""bench/api.py mints its staff token on the clock our server reads (issue 16): a server outside
production follows the business clock `simulate` moved, and the token must not be expired there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import jwt
import pytest

from api.auth import verify_token
from bench.api import staff_token
from domain.runtime.clock import JST
from domain.runtime.services import Services
from domain.runtime.settings import Settings
from tests.support import moved_clock_database

AHEAD = timedelta(days=400)


@pytest.fixture
def moved_clock_url(services: Services, database_url: str) -> Iterator[str]:
    name = urlsplit(database_url).path.lstrip("/") + "_bench_clock"
    with moved_clock_database(services.database_url, name, AHEAD.total_seconds()) as url:
        yield url


def _iat(token: str) -> float:
    return float(jwt.decode(token, options={"verify_signature": False})["iat"])


def test_the_staff_token_is_minted_on_a_moved_business_clock(moved_clock_url: str, redis_url: str) -> None:
    token = staff_token(moved_clock_url, redis_url, environment="development")
    ahead = datetime.now(JST) + AHEAD
    assert abs(_iat(token) - ahead.timestamp()) < 120
    assert verify_token(Settings(), token, ahead).role.value == "staff"   # what the moved server checks


def test_production_servers_read_the_wall_clock(moved_clock_url: str, redis_url: str) -> None:
    token = staff_token(moved_clock_url, redis_url)   # production: the server ignores the offset
    assert abs(_iat(token) - datetime.now(JST).timestamp()) < 120
