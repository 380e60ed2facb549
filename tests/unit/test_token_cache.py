"""A verified token's signature is remembered (api/auth.py, issue 16), its time never: the same
token is refused once the clock passes its `exp`, and a tampered one is refused every time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.auth import AuthError, Role, mint_token, verify_token
from domain.runtime.clock import JST
from domain.runtime.settings import Settings

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


def test_a_remembered_token_still_expires_by_the_clock() -> None:
    settings = Settings(environment="test", database_url="unused://", redis_url="unused://")
    token = mint_token(settings, subject="s-1", role=Role.STAFF, now=T0, ttl=timedelta(hours=1))
    assert verify_token(settings, token, T0).subject == "s-1"
    assert verify_token(settings, token, T0 + timedelta(minutes=59)).role is Role.STAFF   # remembered
    with pytest.raises(AuthError) as e:
        verify_token(settings, token, T0 + timedelta(hours=1))
    assert e.value.code == "TOKEN_EXPIRED"


def test_a_tampered_token_is_refused_every_time() -> None:
    settings = Settings(environment="test", database_url="unused://", redis_url="unused://")
    token = mint_token(settings, subject="s-2", role=Role.STAFF, now=T0)
    assert verify_token(settings, token, T0).subject == "s-2"
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for _ in range(2):
        with pytest.raises(AuthError) as e:
            verify_token(settings, tampered, T0)
        assert e.value.code == "TOKEN_INVALID"
    other = Settings(environment="test", database_url="unused://", redis_url="unused://",
                     jwt_secret="another-secret-of-enough-length-0123456789")
    with pytest.raises(AuthError):
        verify_token(other, token, T0)   # another key: not the remembered answer
