"""A claim held for the premium is re-decided when the premium is paid (SPEC §4.7: "a claim before
the first premium is paid waits for that payment"; 001 L833). Found by the scenario story
tests/scenarios/test_non_payment.py: nothing re-decided such claims, so they stayed
COVERAGE_PENDING after the payment (and after a rescission)."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx

from api.auth import Role
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.claim_support import CLAIM, REPORT, ok
from tests.api.conftest import gql
from tests.api.test_contract_mutations import agent, bearer
from tests.api.test_payment_mutations import PAY, monthly_contract, read


async def test_a_claim_waiting_for_the_premium_is_covered_once_it_is_paid(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock) -> None:
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))
    h = await agent(pool, settings)
    staff = bearer(settings, Role.STAFF)
    c = await monthly_contract(client, h)        # from 10 April 2026, nothing paid yet
    first, second, third = (await read(client, c["id"], staff))["payments"]["instalments"][:3]
    clock.set(datetime(2026, 4, 12, 10, 0, tzinfo=JST))
    report = {"contractId": c["id"], "accidentAt": "2026-04-11T10:00:00+09:00", "place": "東京都港区",
              "vehicleId": (await gql(client, """query($id: ID!) { contract(id: $id) { version { vehicle { id } } } }""",
                                      {"id": c["id"]}, staff))["data"]["contract"]["version"]["vehicle"]["id"],
              "driverId": c["holder"], "description": "collision", "coveragesClaimed": ["VEHICLE"],
              "vehicleCause": "COLLISION"}
    held = (await ok(client, REPORT, report, staff))["claim"]
    assert held["coverage"]["state"]["code"] == "COVERAGE_PENDING"
    assert held["coverage"]["waitingFor"] == ["FIRST_PREMIUM_UNPAID"]

    r = (await gql(client, PAY, {"i": {"contractId": c["id"], "termNo": 1, "number": 1,
                                       "amountYen": first["amountYen"], "paidOn": "2026-04-12"}}, staff))
    assert r["data"]["recordPayment"]["userErrors"] == [], r
    after = (await gql(client, CLAIM, {"id": held["id"]}, staff))["data"]["claim"]
    assert (after["coverage"]["state"]["code"], after["coverage"]["waitingFor"]) == ("COVERED", [])
    assert [e["kind"] for e in after["events"]].count("COVERAGE_REDECIDED") == 1

    # 29 June: May's and June's instalments are overdue (still inside May's M+1); a claim waits
    # (PREMIUM_OVERDUE). Paying only June's leaves May's overdue: the same decision, nothing stored
    # again, no event. Paying May's too covers it.
    clock.set(datetime(2026, 6, 29, 10, 0, tzinfo=JST))
    overdue = (await ok(client, REPORT, {**report, "accidentAt": "2026-06-28T10:00:00+09:00"}, staff))["claim"]
    assert overdue["coverage"]["waitingFor"] == ["PREMIUM_OVERDUE"]
    r = (await gql(client, PAY, {"i": {"contractId": c["id"], "termNo": 1, "number": 3,
                                       "amountYen": third["amountYen"], "paidOn": "2026-06-29"}}, staff))
    assert r["data"]["recordPayment"]["userErrors"] == [], r
    still = (await gql(client, CLAIM, {"id": overdue["id"]}, staff))["data"]["claim"]
    assert still["coverage"]["state"]["code"] == "COVERAGE_PENDING"
    assert "COVERAGE_REDECIDED" not in [e["kind"] for e in still["events"]]
    r = (await gql(client, PAY, {"i": {"contractId": c["id"], "termNo": 1, "number": 2,
                                       "amountYen": second["amountYen"], "paidOn": "2026-06-29"}}, staff))
    assert r["data"]["recordPayment"]["userErrors"] == [], r
    cured = (await gql(client, CLAIM, {"id": overdue["id"]}, staff))["data"]["claim"]
    assert cured["coverage"]["state"]["code"] == "COVERED"
