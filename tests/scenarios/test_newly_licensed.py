"""Story 3: the newly licensed teenager (運転者限定・年令条件うっかり), SPEC §4.6.3,
002b L4106-4134, 001 L851-881.

Two aioi families insure their car for drivers aged 26 and over (SPEC §4.5: the age condition
binds cohabiting relatives). In each, a 19-year-old son living at home gets his licence on 1 May
2026 (002b L4130-4131: a cohabiting relative newly licensed); day 1 of the window is 2 May, day 30
is 31 May (002b L4110; 001 L867-869). Both parents report it the next day (reportHouseholdEvent).
- The Tanakas' son crashes on day 10; the claim waits. On day 20 the agent files the endorsement
  that brings him into scope (age condition: any age): filed within 30 days, the change covers from
  the event (002b L4110-4111) and the claim is covered, the car's own damage included.
- The Watanabes do nothing. At 00:00 of day 31 the worker downgrades their window. Their son
  crashes on day 40; the claim waits for the filing, which can now only bring the liability set
  (002b L4120-4122; 001 L879-881): filed on day 41, bodily injury and property damage pay, the
  car's own damage does not.
"""

from __future__ import annotations

from datetime import date

from tests.scenarios.conftest import Scenario
from tests.scenarios.stories import (
    ENDORSE,
    HOUSEHOLD,
    PAY_CLAIM,
    REPORT_ACCIDENT,
    TRANSITION,
    Customer,
    accident,
    claim,
    clean_book,
    coverage,
    issued,
    jst,
    ok,
    pay_premium,
    refused,
    register_person,
    settle,
)


async def son_licensed(s: Scenario, c: Customer) -> tuple[str, str]:
    """The son (born 2 Feb 2007, 19) gets his licence on 1 May; the parents report it on 2 May."""
    son = await register_person(s, c.agent, "息子 三郎", "2007-02-02", account=c.party, colour="GREEN",
                                licensed="2026-05-01")
    r = await ok(s, HOUSEHOLD, {"contractId": c.cid, "event": "NEWLY_LICENSED", "eventOn": "2026-05-01",
                                "partyId": son}, c.holder)
    w = r["window"]
    assert (w["kind"]["code"], w["state"]["code"], w["fullUntil"], w["downgradeUntil"], w["daysLeft"]) == (
        "DRIVER_CHANGE", "OPEN", "2026-05-31", "2027-05-10", 30)
    return son, w["id"]


async def son_crashes(s: Scenario, c: Customer, son: str, at: str) -> str:
    """The son drives the family car into another at a crossing; his mother reports it."""
    cl = (await ok(s, REPORT_ACCIDENT, accident(c, at, driver=son), c.holder))["claim"]
    await ok(s, TRANSITION, {"claimId": cl["id"], "action": "REVIEW"}, c.staff)
    return str(cl["id"])


async def bring_into_scope(s: Scenario, c: Customer, son: str, effective: str) -> None:
    """The endorsement the window waits for: any age, the son listed as a cohabiting relative."""
    lock = (await c.read(s))["lockVersion"]
    await ok(s, ENDORSE, {"contractId": c.cid, "expectedVersion": lock, "effectiveDate": effective,
                          "changes": {"ageCondition": "ANY", "drivers": [
                              {"action": "ADD", "partyId": son, "relationship": "COHABITING_RELATIVE"}]}}, c.agent)


async def test_endorsement_in_time_covers_late_only_the_liability_set(scenario: Scenario) -> None:
    s = await clean_book(scenario)
    tanaka, watanabe = await issued(s), await issued(s)
    s.clock.set(jst(2026, 5, 2, 10))
    t_son, _ = await son_licensed(s, tanaka)
    w_son, _ = await son_licensed(s, watanabe)

    # --- Tanaka: crash on day 10, before anything was filed: the claim waits (SPEC §4.5, §4.6).
    await s.run_until(jst(2026, 5, 11, 18))
    t_claim = await son_crashes(s, tanaka, t_son, "2026-05-11T10:00:00+09:00")
    cl = await claim(s, t_claim, tanaka.staff)
    assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD", "VEHICLE"], ["DRIVER_CHANGE_WINDOW_PENDING"])
    # The report left the relationship out; the household event told the insurer who he is.
    assert cl["driverRelationship"]["code"] == "COHABITING_RELATIVE"
    assert [r["code"] for r in cl["coverage"]["reasons"] if not r["ok"]] == ["DRIVER_CHANGE_WINDOW_PENDING"]
    assert await refused(s, TRANSITION, {"claimId": t_claim, "action": "APPROVE"}, tanaka.staff) == [
        "COVERAGE_PENDING"]

    # Day 20: the endorsement is filed in time: the change covers from the event (002b L4110-4111).
    await s.run_until(jst(2026, 5, 21, 10))
    await bring_into_scope(s, tanaka, t_son, "2026-05-21")
    (w,) = (await tanaka.read(s))["windows"]
    assert (w["state"]["code"], w["outcome"]["code"], w["filedOn"], w["daysLeft"]) == (
        "CONFIRMED", "FULL", "2026-05-21", 0)
    # ... once its extra premium is paid: until then the changed cover is not applied (002b L4111-4112).
    cl = await claim(s, t_claim, tanaka.staff)
    assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD", "VEHICLE"], ["DRIVER_CHANGE_WINDOW_PREMIUM_UNPAID"])
    await pay_premium(s, tanaka, term_no=1, number=2, on=date(2026, 5, 21))  # the term's next instalment
    cl = await claim(s, t_claim, tanaka.staff)
    assert coverage(cl) == ("COVERED", ["BI", "PD", "VEHICLE"], [])
    assert "DRIVER_CHANGE_WINDOW_FULL" in [r["code"] for r in cl["coverage"]["reasons"] if r["ok"]]
    await ok(s, TRANSITION, {"claimId": t_claim, "action": "APPROVE"}, tanaka.staff)
    paid = await ok(s, PAY_CLAIM, {"claimId": t_claim, "coverage": "VEHICLE", "lossYen": 300_000,
                                   "vehicle": "insured-car"}, tanaka.staff)
    assert paid["claim"]["status"]["code"] == "PAID"

    # --- Watanabe: nothing filed; at 00:00 of day 31 the worker downgrades the window (SPEC §5).
    await s.run_until(jst(2026, 6, 1, 0, 0))
    (w,) = (await watanabe.read(s))["windows"]
    # A filing from day 31 still brings the liability set, up to 30 days after the day after the
    # expiry (10 Apr 2027 → 10 May 2027: 344 days left, 002b L4120-4123).
    assert (w["state"]["code"], w["outcome"], w["daysLeft"]) == ("DOWNGRADED", None, 344)
    assert (await tanaka.read(s))["windows"][0]["state"]["code"] == "CONFIRMED"

    # Day 40: the son crashes. At best the liability set can still come of it.
    await s.run_until(jst(2026, 6, 10, 18))
    w_claim = await son_crashes(s, watanabe, w_son, "2026-06-10T10:00:00+09:00")
    cl = await claim(s, w_claim, watanabe.staff)
    assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD"], ["DRIVER_CHANGE_WINDOW_PENDING"])
    assert cl["coverage"]["liabilityOnly"] is True

    # Day 41: the endorsement is filed late: the liability set only (002b L4120-4122; 001 L879-881).
    await s.run_until(jst(2026, 6, 11, 10))
    await bring_into_scope(s, watanabe, w_son, "2026-06-11")
    (w,) = (await watanabe.read(s))["windows"]
    assert (w["state"]["code"], w["outcome"]["code"], w["filedOn"]) == ("DOWNGRADED", "LIABILITY_ONLY", "2026-06-11")
    cl = await claim(s, w_claim, watanabe.staff)
    assert coverage(cl) == ("COVERED", ["BI", "PD"], [])  # the liability set does not wait for the premium
    assert cl["coverage"]["liabilityOnly"] is True
    await pay_premium(s, watanabe, term_no=1, number=2, on=date(2026, 6, 11))  # the extra premium, all the same
    await ok(s, TRANSITION, {"claimId": w_claim, "action": "APPROVE"}, watanabe.staff)
    assert await refused(s, PAY_CLAIM, {"claimId": w_claim, "coverage": "VEHICLE", "lossYen": 300_000,
                                        "vehicle": "insured-car"}, watanabe.staff) == ["COVERAGE_NOT_APPLICABLE"]
    paid = await ok(s, PAY_CLAIM, {"claimId": w_claim, "coverage": "PD", "amountYen": 180_000,
                                   "vehicle": "other-car"}, watanabe.staff)
    assert paid["paidYen"] == 180_000

    # The rest of the term: nothing further happens to either window.
    await s.run_until(jst(2026, 12, 1, 10))
    assert [w["state"]["code"] for w in (await watanabe.read(s))["windows"]] == ["DOWNGRADED"]
    assert [w["state"]["code"] for w in (await tanaka.read(s))["windows"]] == ["CONFIRMED"]
    await settle(s)
