"""A 3-year aioi contract through GraphQL across its terms (002a L2216-2262, L2303-2305, L2317-2330): one
grade for the whole term, each policy year rated at its anniversary, the renewal after three years by
the long-term formula (13 with a 3-down accident → 12 with a 2-year period), the next term 3 years again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import asyncpg
import httpx
import pytest

from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.api.test_contract_mutations import ISSUE, agent, quote_input, setup_customer

QUOTE = """mutation($i: CreateQuoteInput!) { createQuote(input: $i) {
  contract { id lockVersion premium { totalYen termMonths explanation { steps { factor value } } } }
  change { grade { label period } }
  userErrors { field code message } } }"""
RENEW = """mutation($i: RenewContractInput!) { renewContract(input: $i) {
  userErrors { field code message }
  change { grade { label period } premium { termMonths totalYen } }
  contract { terms { startsAt endsAt } } } }"""


@pytest.fixture
def moved(clock: ManualClock) -> Iterator[ManualClock]:
    before = clock.now()
    yield clock
    clock.set(before)


async def test_a_three_year_contract_across_its_terms(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                      settings: Settings, moved: ManualClock) -> None:
    moved.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))
    h = await agent(pool, settings)
    party, vehicle = await setup_customer(client, h)
    q = (await gql(client, QUOTE, {"i": quote_input(
        party, vehicle, termMonths=36, gradeOrigin="OTHER_INSURER",
        previousContract={"grade": 12, "period": 0, "endDate": "2026-04-10"})}, h))["data"]["createQuote"]
    assert q["userErrors"] == [], q
    premium = q["contract"]["premium"]
    assert premium["termMonths"] == 36
    assert q["change"]["grade"] == {"label": "13", "period": 0}          # one grade for the term (002a L2303-2305)
    years = [s["factor"] for s in premium["explanation"]["steps"] if s["factor"].startswith("POLICY_YEAR_")]
    assert {"POLICY_YEAR_2", "POLICY_YEAR_3"} <= set(years)            # each year rated at its anniversary
    issued = (await gql(client, ISSUE, {"i": {"contractId": q["contract"]["id"],
                                              "expectedVersion": q["contract"]["lockVersion"]}}, h))["data"]["issueContract"]
    assert issued["userErrors"] == [], issued

    moved.set(datetime(2029, 3, 1, 9, 0, tzinfo=JST))                   # within 90 days of the 2029-04-10 expiry
    r = (await gql(client, RENEW, {"i": {"contractId": q["contract"]["id"], "expectedVersion": issued["change"]["lockVersion"],
                                         "accidents": ["THREE_DOWN"]}}, h))["data"]["renewContract"]
    assert r["userErrors"] == [], r
    assert r["change"]["grade"] == {"label": "12", "period": 2}          # rule 14 (002a L2317-2330)
    assert r["change"]["premium"]["termMonths"] == 36
    assert r["contract"]["terms"][-1]["endsAt"].startswith("2032-04-10T16:00")
