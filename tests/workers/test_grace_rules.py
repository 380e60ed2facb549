"""The pure parts of expiry and grace: which branch an expiring term takes, and what a renewal in
the window must keep (no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.products import default_catalog
from domain.services.windows.expiry import Outcome, _Row, classify, expiry_subject
from domain.services.windows.grace import cover_of, reminder_day
from domain.store.version_repo import VersionData
from tests.factories import GRADE_10, rakuten_quote, version_from_quote
from tests.workers.test_grace import EXPIRY, START

CATALOG = default_catalog()


def row(product: str, *statuses: str, renewed_in_grace: bool = False, renewed: bool = False) -> _Row:
    return _Row(1, 1, product, frozenset(statuses or ("IN_FORCE",)), renewed_in_grace, renewed)


@pytest.mark.parametrize(("r", "expected"), [
    (row("aioi-tough-biz"), Outcome.GRACE),                                      # 002b L4153-4160
    (row("aioi-tough-biz", renewed_in_grace=True), Outcome.EXPIRE),              # 002b L4158: not twice in a row
    (row("aioi-tough-biz", "IN_FORCE", "DO_NOT_RENEW"), Outcome.EXPIRE),
    (row("aioi-tough-biz", renewed=True), Outcome.RENEWED),
    (row("tokio-total-assist-group"), Outcome.AUTO_RENEW),                      # 004 L1449-1451
    (row("tokio-total-assist-group", "IN_FORCE", "DO_NOT_RENEW"), Outcome.EXPIRE),
    (row("rakuten-drive-assist"), Outcome.EXPIRE),
    (row("kyosai-accident-expense"), Outcome.EXPIRE),
    (row("rakuten-drive-assist", "CANCELLED"), Outcome.ENDED),
    (row("aioi-tough-biz", "RESCINDED"), Outcome.ENDED),
])
def test_classify(r: _Row, expected: Outcome) -> None:
    assert classify(r, CATALOG.get(r.product_id)) is expected


def test_instant_subject_and_reminder_day() -> None:
    assert expiry_subject(EXPIRY) == "expiry:2027-04-10T16:00:00+09:00"
    assert reminder_day("window:12:REMIND:23") == 23


def _version() -> VersionData:
    return version_from_quote(rakuten_quote(START, START.replace(year=1980), GRADE_10), 1, 2, ())


def test_a_renewal_in_grace_keeps_the_cover_but_may_change_price_and_grade() -> None:
    v = _version()
    assert cover_of(replace(v, premium_yen=v.premium_yen + 1000)) == cover_of(v)
    q = rakuten_quote(START, START.replace(year=1980), GRADE_10)
    raised = version_from_quote(replace(q, coverages=q.coverages[:-1]), 1, 2, ())
    assert cover_of(raised) != cover_of(v)
    assert cover_of(replace(v, vehicle_id=9)) != cover_of(v)
