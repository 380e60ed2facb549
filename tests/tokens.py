"""Bearer tokens for tests that are not about expiry.

The API checks `exp` against its business clock (api/auth.py), and tests move that clock to any
date they need (a quote next spring, a renewal 400 days ahead). A 12-hour token minted on the
wall clock would expire under them, so these tokens are valid on every business date the tests
use. Expiry itself is tested in tests/api/test_auth.py with tokens minted on the test's clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from api.auth import Role, mint_token
from domain.runtime.clock import JST
from domain.runtime.settings import Settings

ISSUED = datetime(2020, 1, 1, tzinfo=JST)
LIFETIME = timedelta(days=365 * 40)  # to 2060


def long_token(settings: Settings, role: Role, subject: str, *, party_id: int | None = None,
               agency_id: int | None = None) -> str:
    return mint_token(settings, subject=subject, role=role, now=ISSUED, ttl=LIFETIME,
                      party_id=party_id, agency_id=agency_id)
