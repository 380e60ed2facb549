"""claimImpactEstimate over GraphQL: grade paths with their pamphlet lines (001 L775, L779-784,
L789), premiums priced from the stored rating input and the tariff in force, the break-even, and
refusals as userErrors; scope like every contract read; nothing is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import to_global_id
from domain.claims.advisor import claim_impact
from domain.products import default_catalog
from domain.rating_codec import quote_from_json
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from domain.vocab import AccidentClass, Channel
from tests.api.conftest import gql
from tests.api.test_assistance_api import snapshot
from tests.api.test_contract_mutations import bearer
from tests.factories import rated_contract
from tests.integration.test_assistance_service import store_contract
from tests.unit.test_rating_support import KYOSAI, base_quote

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def mid_term(clock: ManualClock) -> None:
    clock.set(NOW)


ESTIMATE = """query($id: ID!, $c: AccidentClass!, $a: Int!, $n: Int!) {
  claimImpactEstimate(contractId: $id, accidentClass: $c, amountYen: $a, terms: $n) {
    estimate { policyNumber termNo currentGrade { label } accidentClass { code } amountYen
      terms { index startDate differenceYen
        withClaim { grade { grade label period } withAccidentPeriod repeatSurcharge premiumYen gradeSteps
                    explanation { tariffVersion totalYen steps { factor rule } } }
        withoutClaim { grade { grade label period } withAccidentPeriod premiumYen explanation { totalYen } } }
      extraPremiumYen breakEvenYen advice { code en } }
    userErrors { field code message } } }"""


async def estimate(client: httpx.AsyncClient, h: dict[str, str], cid: int | str, cls: str = "THREE_DOWN",
                   amount: int = 100_000, n: int = 3) -> dict[str, Any]:
    gid = cid if isinstance(cid, str) else to_global_id("Contract", cid)
    r = await gql(client, ESTIMATE, {"id": gid, "c": cls, "a": amount, "n": n}, h)
    assert "errors" not in r, r
    return r["data"]["claimImpactEstimate"]  # type: ignore[no-any-return]


async def test_three_down_paths_and_break_even(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                               settings: Settings) -> None:
    book = await rated_contract(pool)                 # rakuten, grade 10, 2026-04-01..2027-04-01
    h = bearer(settings, Role.POLICYHOLDER, party_id=book.policyholder.id)
    before = await snapshot(pool)
    r = await estimate(client, h, book.created.contract.id, amount=10_000, n=4)
    assert r["userErrors"] == [], r
    e = r["estimate"]
    assert e["termNo"] == 1 and e["currentGrade"]["label"] == "10" and len(e["terms"]) == 4
    grades = [(t["withClaim"]["grade"]["grade"], t["withClaim"]["withAccidentPeriod"],
               t["withoutClaim"]["grade"]["grade"], t["withoutClaim"]["withAccidentPeriod"]) for t in e["terms"]]
    # 001 L775: down 3 per accident, up 1 per claim-free year; L789: period = grades dropped, −1 a year
    assert grades == [(7, 3, 11, 0), (8, 2, 12, 0), (9, 1, 13, 0), (10, 0, 14, 0)]
    assert [t["startDate"] for t in e["terms"]] == ["2027-04-01", "2028-04-01", "2029-04-01", "2030-04-01"]
    for t in e["terms"]:
        w, wo = t["withClaim"], t["withoutClaim"]
        assert t["differenceYen"] == w["premiumYen"] - wo["premiumYen"] > 0     # accident rates (001 L779-784)
        assert Decimal(w["explanation"]["totalYen"]) == w["premiumYen"]           # explanation re-adds to it
        assert w["explanation"]["tariffVersion"] == "rakuten-drive-assist/DEMO-2026-01"   # in force then
    extra = sum(t["differenceYen"] for t in e["terms"])
    assert e["extraPremiumYen"] == e["breakEvenYen"] == extra
    assert e["advice"]["code"] == "PAY_YOURSELF"                                # ¥10,000 < extra premiums
    # the oracle: the pure advisor over the stored rating input with the renewal start date
    q = quote_from_json(await pool.fetchval(
        "SELECT rating_input FROM contract_versions WHERE contract_id = $1", book.created.contract.id))
    product = default_catalog().get(q.product_id)
    assert product is not None
    pure = claim_impact(product, replace(q, start_date=date(2027, 4, 1)), current=q.grade or book.created.version.data.grade,
                        claim_class=AccidentClass.THREE_DOWN, terms=4, expected_payout=10_000)
    assert pure.extra_premium == extra
    big = (await estimate(client, h, book.created.contract.id, amount=extra + 1, n=4))["estimate"]
    assert big["advice"]["code"] == "CLAIM"
    assert await snapshot(pool) == before                                       # read only


async def test_one_down_and_no_count(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    book = await rated_contract(pool)
    h = bearer(settings, Role.AGENT, agency_id=book.agency_id)
    one = (await estimate(client, h, book.created.contract.id, "ONE_DOWN", n=6))["estimate"]
    assert len(one["terms"]) == 6
    assert (one["terms"][0]["withClaim"]["grade"]["grade"], one["terms"][0]["withClaim"]["withAccidentPeriod"]) == (9, 1)
    assert one["terms"][1]["withClaim"]["withAccidentPeriod"] == 0
    none = (await estimate(client, h, book.created.contract.id, "NO_COUNT"))["estimate"]
    assert none["extraPremiumYen"] == 0 and none["advice"]["code"] == "NO_DIFFERENCE"   # 001 L1070 kinds


async def test_bad_arguments_and_scope_answer_user_errors(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                          settings: Settings) -> None:
    mine = await rated_contract(pool)
    theirs = await rated_contract(pool)
    cid = mine.created.contract.id
    staff = bearer(settings, Role.STAFF)
    kyosai, _, _ = await store_contract(pool, base_quote(KYOSAI, start_date=date(2026, 4, 1)), Channel.AGENT)
    before = await snapshot(pool)
    cases: list[tuple[dict[str, str], Any, dict[str, Any], str, str]] = [
        (staff, cid, {"n": 2}, "INVALID_TERM_COUNT", "terms"),
        (staff, cid, {"n": 7}, "INVALID_TERM_COUNT", "terms"),
        (staff, cid, {"amount": -1}, "NEGATIVE_AMOUNT", "amountYen"),
        (staff, 9_000_000_000, {}, "CONTRACT_NOT_FOUND", "contractId"),
        (staff, "garbage", {}, "CONTRACT_NOT_FOUND", "contractId"),
        (staff, kyosai, {}, "PRODUCT_NOT_GRADED", "contractId"),                    # 003: no grades
        (bearer(settings, Role.POLICYHOLDER, party_id=theirs.policyholder.id), cid, {}, "CONTRACT_NOT_FOUND",
         "contractId"),
        (bearer(settings, Role.AGENT, agency_id=theirs.agency_id), cid, {}, "CONTRACT_NOT_FOUND", "contractId"),
        ({}, cid, {}, "CONTRACT_NOT_FOUND", "contractId"),
    ]
    for h, ref, kw, expected, field in cases:
        r = await estimate(client, h, ref, **kw)
        assert r["estimate"] is None and r["userErrors"][0]["code"] == expected, (expected, r)
        assert r["userErrors"][0]["field"] == field
    assert await snapshot(pool) == before


async def test_no_term_at_the_moment(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                     clock: ManualClock) -> None:
    book = await rated_contract(pool)
    clock.set(datetime(2027, 6, 1, 10, tzinfo=JST))      # after the only term ended, never renewed
    r = await estimate(client, bearer(settings, Role.STAFF), book.created.contract.id)
    assert r["userErrors"][0]["code"] == "CONTRACT_NOT_IN_FORCE"
