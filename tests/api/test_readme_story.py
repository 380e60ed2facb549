"""The README's quote → issue → endorse → cancel story and its claim story run as written (ids
chained, dates taken relative to the business date as the README says), on the real current date
and 400 days later."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.auth import Role
from domain.calendar import add_months
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.factories import unique
from tests.tokens import long_token

README = Path(__file__).resolve().parents[2] / "README.md"
# The real current date, and the same 400 days later (past a renewal of anything sold today).
DAYS_AHEAD = pytest.mark.parametrize("days_ahead", [0, 400], ids=["today", "today+400"])


def business_day(clock: ManualClock, days_ahead: int) -> date:
    """Moves the clock to 10:00 JST on the real current date + `days_ahead`, as `simulate` would."""
    day = datetime.now(JST).date() + timedelta(days=days_ahead)
    clock.set(datetime.combine(day, time(10, 0), tzinfo=JST))
    return day


async def system_today(client: httpx.AsyncClient) -> date:
    """What the README tells a reader to ask first."""
    r = await gql(client, "{ system { today } }", {})
    return date.fromisoformat(r["data"]["system"]["today"])


def story_dates(today: date) -> tuple[date, date, date]:
    """start = today + 1 day, endorse on start + 3 months, cancel on start + 6 months (README)."""
    start = today + timedelta(days=1)
    return start, add_months(start, 3), add_months(start, 6)


def story_operations() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## Contracts: quote → issue → endorse → cancel", 1)[1]
    block = re.search(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert block is not None
    ops = re.split(r"\n(?=mutation )", block.group(1).strip())
    return {re.match(r"mutation (\w+)", op).group(1): op for op in ops}  # type: ignore[union-attr]


@DAYS_AHEAD
async def test_readme_story_runs(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                 clock: ManualClock, days_ahead: int) -> None:
    day = business_day(clock, days_ahead)
    assert await system_today(client) == day
    start, endorse_on, cancel_on = story_dates(day)
    ops = story_operations()
    assert list(ops) == ["Person", "Car", "Quote", "Issue", "Endorse", "Cancel"]
    agency_id = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, '代理店') RETURNING id", unique("AG"))
    token = long_token(settings, Role.STAFF, unique("readme"))
    h = {"authorization": f"Bearer {token}"}
    from api.node import to_global_id

    def ok(r: dict, name: str) -> dict:
        assert "errors" not in r, r
        assert r["data"][name]["userErrors"] == [], r
        return r["data"][name]

    party = ok(await gql(client, ops["Person"], {}, h), "registerDriver")["party"]["id"]
    car = ok(await gql(client, ops["Car"], {"party": party}, h), "registerVehicle")["vehicle"]["id"]
    quote = ok(await gql(client, ops["Quote"], {"party": party, "car": car, "start": start.isoformat(),
                                                "agency": to_global_id("Agency", agency_id)}, h), "createQuote")
    contract = quote["contract"]["id"]
    assert quote["contract"]["lockVersion"] == 1
    ok(await gql(client, ops["Issue"], {"contract": contract}, h), "issueContract")
    endorse = {"contract": contract, "on": endorse_on.isoformat()}
    dry = ok(await gql(client, ops["Endorse"], endorse, h), "endorseContract")
    assert dry["dryRun"] is True and dry["change"]["premiumDeltaYen"] > 0
    real = ok(await gql(client, ops["Endorse"].replace("dryRun: true", "dryRun: false"), endorse, h),
              "endorseContract")
    assert real["change"] == dry["change"]
    cancel = ok(await gql(client, ops["Cancel"], {"contract": contract, "on": cancel_on.isoformat()}, h),
                "cancelContract")
    assert [s["code"] for s in cancel["contract"]["statuses"]] == ["CANCELLED"]


def claim_operations() -> dict[str, str]:
    section = README.read_text().split("## Claims: report → coverage decision → payment", 1)[1]
    block = re.search(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert block is not None
    ops = re.split(r"\n(?=mutation |query )", block.group(1).strip())
    return {re.match(r"(?:mutation|query) (\w+)", op).group(1): op for op in ops}  # type: ignore[union-attr]


async def _run_recalc_timer(pool: asyncpg.Pool, settings: Settings, clock: ManualClock, contract_db_id: int) -> None:
    """What the worker does after a claim is classified: run the contract's `renewal.recalc` timer
    (only that one: the run's database holds other tests' timers)."""
    import workers.kinds  # noqa: F401  (registers the timer kinds, as a worker does)
    from workers.config import TimerTuning
    from workers.timer_job import CTX_KEY, TimerRuntime, run_timer

    tid = await pool.fetchval(
        "UPDATE timers SET state = 'ENQUEUED', attempts = attempts + 1 WHERE kind = 'renewal.recalc' AND subject = $1 "
        "AND state = 'PENDING' RETURNING id", f"contract:{contract_db_id}")
    assert tid is not None
    assert await run_timer({CTX_KEY: TimerRuntime(pool, clock, settings, TimerTuning())}, tid) == "done"


@DAYS_AHEAD
async def test_readme_claim_story_runs(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                       clock: ManualClock, days_ahead: int) -> None:
    from api.node import db_id_of, to_global_id

    day = business_day(clock, days_ahead)
    start, _, _ = story_dates(await system_today(client))
    ops, claims = story_operations(), claim_operations()
    assert list(claims) == ["PayPremium", "Report", "Review", "Reserve", "Approve", "PayClaim", "Impact", "Offer"]
    agency_id = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, '代理店') RETURNING id", unique("AG"))
    h = {"authorization": f"Bearer {long_token(settings, Role.STAFF, unique('readme'))}"}

    def ok(r: dict, name: str) -> dict:
        assert "errors" not in r, r
        assert r["data"][name]["userErrors"] == [], r
        return r["data"][name]

    party = ok(await gql(client, ops["Person"], {}, h), "registerDriver")["party"]["id"]
    car = ok(await gql(client, ops["Car"], {"party": party}, h), "registerVehicle")["vehicle"]["id"]
    quote = ok(await gql(client, ops["Quote"], {"party": party, "car": car, "start": start.isoformat(),
                                                "agency": to_global_id("Agency", agency_id)}, h), "createQuote")
    contract = quote["contract"]["id"]
    ok(await gql(client, ops["Issue"], {"contract": contract}, h), "issueContract")

    paid_on = business_day(clock, days_ahead + 3)             # start + 2 days
    ok(await gql(client, claims["PayPremium"], {"contract": contract, "amount": quote["contract"]["premium"]["totalYen"],
                                                "paidOn": paid_on.isoformat()}, h), "recordPayment")

    # the offer is due from 60 days before expiry (start + 12 months): start + 10 months + 4 days is inside
    offer_day = add_months(start, 10) + timedelta(days=4)
    business_day(clock, days_ahead + (offer_day - day).days)
    at = datetime.combine(offer_day - timedelta(days=15), time(8, 15), tzinfo=JST)
    reported = ok(await gql(client, claims["Report"], {"contract": contract, "car": car, "driver": party,
                                                       "at": at.isoformat()}, h), "reportAccident")["claim"]
    assert reported["coverage"]["state"]["code"] == "COVERED"
    claim = reported["id"]
    for name, field in (("Review", "transitionClaim"), ("Reserve", "setClaimReserve"), ("Approve", "transitionClaim")):
        ok(await gql(client, claims[name], {"claim": claim}, h), field)
    paid = ok(await gql(client, claims["PayClaim"], {"claim": claim}, h), "recordClaimPayment")
    assert paid["paidYen"] == 300_000 and paid["claim"]["status"]["code"] == "PAID"  # loss less the ¥50,000 deductible
    assert paid["claim"]["gradeImpact"]["accidentClass"]["code"] == "THREE_DOWN"  # 002b L4838

    impact = ok(await gql(client, claims["Impact"], {"claim": claim}, h), "claimImpact")["estimate"]
    assert impact["accidentClass"]["code"] == "THREE_DOWN" and impact["breakEvenYen"] > 0
    # from a new contract's 6: with the claim 3, 4, 5; without it 7, 8, 9 (002b L4289; 001 L775)
    grades = [(int(re.match(r"\d+", t["withClaim"]["grade"]["label"]).group()),  # type: ignore[union-attr]
               int(re.match(r"\d+", t["withoutClaim"]["grade"]["label"]).group()))  # type: ignore[union-attr]
              for t in impact["terms"]]
    assert grades == [(3, 7), (4, 8), (5, 9)], impact

    contract_db_id = db_id_of(contract, "Contract")
    assert contract_db_id is not None
    await _run_recalc_timer(pool, settings, clock, contract_db_id)
    offer = (await gql(client, claims["Offer"], {"contract": contract}, h))["data"]["contract"]["renewalOffer"]
    # a new contract starts at grade 6; one 3-down accident: grade 3 with a 3-year accident period (002b L4289)
    assert offer["grade"]["grade"] == 3 and offer["grade"]["period"] == 3, offer
    assert len(offer["countedClaims"]) == 1 and offer["changeYen"] > 0
