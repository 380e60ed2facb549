"""bench/recalc.py at small scale: the bulk book is consistent and every contract is due, the cold
run writes one offer and one event per contract (identical inputs share a document), the warm run
writes nothing, and the numbers it reports add up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bench.recalc import bench
from domain.runtime.services import Services
from tests.support import fresh_database


@pytest.fixture
def bench_url(services: Services, database_url: str) -> Iterator[str]:
    name = urlsplit(database_url).path.lstrip("/") + f"_recalc_bench_{os.getpid()}"
    with fresh_database(services.database_url, name) as url:
        yield url


async def test_bench_recalc_small_book(bench_url: str) -> None:
    r = await bench(bench_url, 600, templates=20, start_days=3, parts=2, page=50, repeat=2, quiet=True)
    assert r["contracts"] == r["scanned"] == r["written"] == 600      # every contract due, every offer new
    assert r["offers"] == r["events"] == 600
    assert r["docs"] == 60                                            # 20 templates × 3 start dates
    assert r["cold_s"] > 0 and r["warm_s"] > 0 and r["floor_s"] > 0
    assert r["child_rss_mb"] < 512


async def test_bench_recalc_distinct_book_prices_every_contract_for_real(bench_url: str) -> None:
    """--distinct: no two contracts share a rating input, so every offer is its own computation and
    its own stored document (the fingerprint cache has nothing to collapse)."""
    r = await bench(bench_url, 400, templates=0, start_days=0, parts=2, page=50, repeat=1, quiet=True,
                    distinct=True)
    assert r["inputs"] == r["contracts"] == r["scanned"] == r["written"] == 400
    assert r["failed"] == 0
    assert r["docs"] == r["offers"] == r["events"] == 400
