"""Payments over GraphQL: `recordPayment`, `recordDebitResult` and `Contract.payments` (SPEC §4.7):
codes for bad input that change nothing, who may record money, idempotency and dry runs, and the
read path (general only: the compiled reader declines `payments`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import parse

from api.auth import Role
from api.compiled import answer
from api.context import Context
from api.node import to_global_id
from api.principal import Principal
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.api.test_contract_mutations import (
    ISSUE,
    QUOTE,
    agent,
    bearer,
    quote_input,
    setup_customer,
)
from tests.factories import unique

TABLES = ("contracts", "terms", "contract_versions", "transactions", "events", "grade_records", "instalments",
          "payment_records", "timers", "idempotency_records")

PAYMENTS = """query($id: ID!) { contract(id: $id) { lockVersion statuses { code }
  payments { termNo plan { code } on totalYen paidYen amountDueNowYen state { code } claims { code }
    delinquentSince rescissionDeadline notAtFault firstPremiumUnpaid noCoverFromStart missedDebitRuns
    accelerated acceleratedOn reasons
    instalments { number dueOn acceleratedOn amountYen state { code ja en } paidOn paidBy { code } debitFailedOn notAtFault } } } }"""
PAY = """mutation($i: RecordPaymentInput!) { recordPayment(input: $i) {
  change { policyNumber termNo number instalmentState { code } statuses { code } lockVersion delinquent accelerated
           amountDueNowYen }
  contract { statuses { code } payments { state { code } paidYen } }
  userErrors { field code message } dryRun replayed } }"""
DEBIT = """mutation($i: RecordDebitResultInput!) { recordDebitResult(input: $i) {
  change { instalmentState { code } statuses { code } delinquent }
  contract { payments { rescissionDeadline notAtFault state { code } } }
  userErrors { field code message } } }"""
RESCIND = """mutation($i: RescindContractInput!) { rescindContract(input: $i) {
  change { lockVersion } userErrors { code } } }"""


@pytest.fixture(autouse=True)
def business_day(clock: ManualClock) -> None:
    clock.set(datetime(2026, 4, 1, 9, 0, tzinfo=JST))


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    out = {}
    async with pool.acquire() as conn:
        for t in TABLES:
            out[t] = await conn.fetchval(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out


async def monthly_contract(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    party, vehicle = await setup_customer(client, h)
    q = (await gql(client, QUOTE, {"i": quote_input(party, vehicle, paymentMethod="MONTHLY")}, h))["data"]["createQuote"]
    assert q["userErrors"] == [], q
    issued = (await gql(client, ISSUE, {"i": {"contractId": q["contract"]["id"],
                                              "expectedVersion": q["contract"]["lockVersion"]}}, h))["data"]["issueContract"]
    assert issued["userErrors"] == [], issued
    return {**issued["contract"], "holder": party}


async def read(client: httpx.AsyncClient, cid: str, h: dict[str, str]) -> dict[str, Any]:
    r = await gql(client, PAYMENTS, {"id": cid}, h)
    assert "errors" not in r, r
    return r["data"]["contract"]  # type: ignore[no-any-return]


async def test_payment_story(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                             clock: ManualClock) -> None:
    h = await agent(pool, settings)
    staff = bearer(settings, Role.STAFF)
    c = await monthly_contract(client, h)
    p = (await read(client, c["id"], h))["payments"]
    assert (p["termNo"], p["plan"]["code"], len(p["instalments"])) == (1, "MONTHLY", 12)
    # before the first premium is paid a claim waits for it (SPEC §4.7)
    assert (p["state"]["code"], p["claims"]["code"], p["firstPremiumUnpaid"]) == ("CURRENT", "HELD", True)
    first, second = p["instalments"][0], p["instalments"][1]
    assert (first["dueOn"], second["dueOn"]) == ("2026-04-10", "2026-05-27")  # 001 L823, L827
    assert first["state"] == {"code": "DUE", "ja": "払込期日前", "en": "Due (its due day has not ended)"}

    r = (await gql(client, PAY, {"i": {"contractId": c["id"], "termNo": 1, "number": 1, "amountYen": first["amountYen"],
                                       "paidOn": "2026-04-01", "paidBy": "CARD"}}, staff))["data"]["recordPayment"]
    assert r["userErrors"] == [], r
    assert r["change"]["instalmentState"]["code"] == "PAID" and r["change"]["delinquent"] is False
    assert r["contract"]["payments"] == {"state": {"code": "CURRENT"}, "paidYen": first["amountYen"]}

    # May 28: instalment 2 (due 27 May) is unpaid; the bank reports a failed debit, not at fault
    clock.set(datetime(2026, 5, 28, 10, 0, tzinfo=JST))
    d = (await gql(client, DEBIT, {"i": {"contractId": c["id"], "termNo": 1, "number": 2, "result": "FAILED",
                                         "on": "2026-05-27", "notAtFault": True}}, staff))["data"]["recordDebitResult"]
    assert d["userErrors"] == [], d
    assert d["change"]["delinquent"] is True and {"code": "DELINQUENT"} in d["change"]["statuses"]
    # end of M+2 instead of M+1 (001 L833; 002b L5131)
    assert d["contract"]["payments"] == {"rescissionDeadline": "2026-07-31", "notAtFault": True,
                                         "state": {"code": "DELINQUENT"}}
    now = await read(client, c["id"], staff)
    assert now["payments"]["delinquentSince"] == "2026-05-27"
    assert now["payments"]["instalments"][1]["state"]["code"] == "OVERDUE"
    assert now["payments"]["instalments"][1]["debitFailedOn"] == "2026-05-27"
    assert now["payments"]["amountDueNowYen"] == second["amountYen"]

    # paid in June: cured
    clock.set(datetime(2026, 6, 10, 10, 0, tzinfo=JST))
    r = (await gql(client, PAY, {"i": {"contractId": c["id"], "termNo": 1, "number": 2, "amountYen": second["amountYen"],
                                       "paidOn": "2026-06-10"}}, staff))["data"]["recordPayment"]
    assert r["userErrors"] == [] and r["change"]["delinquent"] is False, r
    assert [s["code"] for s in r["contract"]["statuses"]] == ["IN_FORCE"]
    # an as-of read before the payment still shows it unpaid
    r = await gql(client, """query($id: ID!) { contract(id: $id, asOf: "2026-06-01T00:00:00+09:00") {
      payments { state { code } instalments { number state { code } paidOn } } } }""", {"id": c["id"]}, staff)
    old = r["data"]["contract"]["payments"]
    assert old["state"]["code"] == "DELINQUENT"
    assert old["instalments"][1] == {"number": 2, "state": {"code": "OVERDUE"}, "paidOn": None}


async def test_bad_input_gets_codes_and_changes_nothing(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                        settings: Settings) -> None:
    h = await agent(pool, settings)
    staff = bearer(settings, Role.STAFF)
    c = await monthly_contract(client, h)
    amount = (await read(client, c["id"], h))["payments"]["instalments"][0]["amountYen"]
    ok = {"contractId": c["id"], "termNo": 1, "number": 1, "amountYen": amount, "paidOn": "2026-04-01"}
    cases = [
        ({**ok, "amountYen": -5}, staff, "NEGATIVE_AMOUNT", "input.amountYen"),
        ({**ok, "amountYen": amount + 1}, staff, "AMOUNT_MISMATCH", "input.amountYen"),
        ({**ok, "number": 13}, staff, "INSTALMENT_NOT_FOUND", "input.number"),
        ({**ok, "termNo": 2}, staff, "INSTALMENT_NOT_FOUND", "input.number"),
        ({**ok, "paidOn": "2026-04-02"}, staff, "PAYMENT_IN_FUTURE", "input.paidOn"),
        ({**ok, "contractId": "garbage"}, staff, "CONTRACT_NOT_FOUND", "input.contractId"),
        ({**ok, "contractId": to_global_id("Contract", 9_000_000_000)}, staff, "CONTRACT_NOT_FOUND", "input.contractId"),
        (ok, h, "FORBIDDEN", "input.contractId"),  # the agent sees the contract but does not record money
    ]
    before = await snapshot(pool)
    for i, who, code, field in cases:
        r = await gql(client, PAY, {"i": i}, who)
        assert "errors" not in r, r
        errs = r["data"]["recordPayment"]["userErrors"]
        assert [(e["code"], e["field"]) for e in errs] == [(code, field)], (code, errs)
        assert r["data"]["recordPayment"]["change"] is None
    assert await snapshot(pool) == before

    assert (await gql(client, PAY, {"i": ok}, staff))["data"]["recordPayment"]["userErrors"] == []
    before = await snapshot(pool)
    again = (await gql(client, PAY, {"i": ok}, staff))["data"]["recordPayment"]["userErrors"]
    assert [e["code"] for e in again] == ["ALREADY_PAID"]
    assert await snapshot(pool) == before

    # a rescinded contract takes no money
    lock = (await read(client, c["id"], staff))["lockVersion"]
    r = await gql(client, RESCIND, {"i": {"contractId": c["id"], "expectedVersion": lock, "reason": "NON_PAYMENT",
                                          "effectiveDate": "2026-04-10"}}, staff)
    assert r["data"]["rescindContract"]["userErrors"] == [], r
    before = await snapshot(pool)
    second = (await read(client, c["id"], staff))["payments"]["instalments"][1]["amountYen"]
    r = await gql(client, PAY, {"i": {**ok, "number": 2, "amountYen": second}}, staff)
    assert [e["code"] for e in r["data"]["recordPayment"]["userErrors"]] == ["CONTRACT_RESCINDED"]
    r = await gql(client, DEBIT, {"i": {"contractId": c["id"], "termNo": 1, "number": 2, "result": "PAID",
                                        "on": "2026-04-01"}}, staff)
    assert [e["code"] for e in r["data"]["recordDebitResult"]["userErrors"]] == ["CONTRACT_RESCINDED"]
    assert await snapshot(pool) == before


async def test_a_policyholder_neither_sees_nor_pays_anothers(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                             settings: Settings) -> None:
    h = await agent(pool, settings)
    c = await monthly_contract(client, h)
    stranger = bearer(settings, Role.POLICYHOLDER, party_id=1)
    assert (await gql(client, PAYMENTS, {"id": c["id"]}, stranger))["data"]["contract"] is None
    ok = {"contractId": c["id"], "termNo": 1, "number": 1, "amountYen": 1, "paidOn": "2026-04-01"}
    before = await snapshot(pool)
    r = await gql(client, PAY, {"i": ok}, stranger)
    assert [e["code"] for e in r["data"]["recordPayment"]["userErrors"]] == ["CONTRACT_NOT_FOUND"]
    r = await gql(client, DEBIT, {"i": {**{k: ok[k] for k in ("contractId", "termNo", "number")},
                                        "result": "FAILED", "on": "2026-04-01"}}, stranger)
    assert [e["code"] for e in r["data"]["recordDebitResult"]["userErrors"]] == ["CONTRACT_NOT_FOUND"]
    # the contract's own policyholder sees its payments but does not record money
    holder = bearer(settings, Role.POLICYHOLDER, party_id=int(
        __import__("base64").b64decode(c["holder"]).decode().split(":")[1]))
    assert (await read(client, c["id"], holder))["payments"]["termNo"] == 1
    r = await gql(client, PAY, {"i": ok}, holder)
    assert [e["code"] for e in r["data"]["recordPayment"]["userErrors"]] == ["FORBIDDEN"]
    assert await snapshot(pool) == before


async def test_idempotency_and_dry_run(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    h = await agent(pool, settings)
    staff = bearer(settings, Role.STAFF)
    c = await monthly_contract(client, h)
    amount = (await read(client, c["id"], h))["payments"]["instalments"][0]["amountYen"]
    i = {"contractId": c["id"], "termNo": 1, "number": 1, "amountYen": amount, "paidOn": "2026-04-01"}
    before = await snapshot(pool)
    dry = (await gql(client, PAY, {"i": {**i, "dryRun": True}}, staff))["data"]["recordPayment"]
    assert dry["userErrors"] == [] and dry["dryRun"] is True and dry["contract"] is None
    assert dry["change"]["instalmentState"]["code"] == "PAID"
    assert await snapshot(pool) == before
    key = unique("pay")
    first = (await gql(client, PAY, {"i": {**i, "idempotencyKey": key}}, staff))["data"]["recordPayment"]
    assert first["userErrors"] == [] and first["replayed"] is False
    before = await snapshot(pool)
    second = (await gql(client, PAY, {"i": {**i, "idempotencyKey": key}}, staff))["data"]["recordPayment"]
    assert second["replayed"] is True and second["change"] == first["change"]
    assert await snapshot(pool) == before  # one effect, not ALREADY_PAID
    other = (await gql(client, PAY, {"i": {**i, "paidOn": "2026-03-31", "idempotencyKey": key}}, staff))
    assert [e["code"] for e in other["data"]["recordPayment"]["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]


async def test_payments_take_the_general_path(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                              settings: Settings) -> None:
    h = await agent(pool, settings)
    c = await monthly_contract(client, h)
    ctx = Context(request=None, response=None, pool=pool, clock=ManualClock(), settings=settings, request_id="t",
                  principal=Principal("staff-1", Role.STAFF), compiled=True)
    assert await answer(parse(PAYMENTS), None, {"id": c["id"]}, ctx) is None  # declined: general path
    without = PAYMENTS.replace("payments {", "x: payments {", 1).split("x: payments")[0] + "} }"
    assert await answer(parse(without), None, {"id": c["id"]}, ctx) is not None
    assert (await read(client, c["id"], h))["payments"]["plan"]["code"] == "MONTHLY"
