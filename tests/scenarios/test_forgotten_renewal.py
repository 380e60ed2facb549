"""Story 1: the forgotten renewal (継続手続忘れサポート特約), SPEC §4.6.1, 002b L4153-4164.

Suzuki's aioi contract runs from 10 April 2026 16:00 to 10 April 2027 16:00. Nobody renews it. At
the expiry it enters IN_RENEWAL_GRACE for 30 days counting from the day after the expiry
(002b L4161); reminders go out on the expiry, day 7 and day 23 (SPEC §4.6.1). On day 10 he has an
accident: the claim waits (COVERAGE_PENDING). On day 29 he renews and pays: the new term starts at
the old expiry (cover continuous, "renewed with the same cover", 002b L4161-4162) and the gap claim
becomes covered. In the variant nobody renews: day 31 is too late, the worker lapses the contract
as of the expiry and the gap claim is not covered. A rakuten contract (no such rider) simply
expires.
"""

from __future__ import annotations

from datetime import date, datetime

from tests.scenarios.conftest import Scenario
from tests.scenarios.stories import (
    AIOI,
    PAY_CLAIM,
    RAKUTEN,
    RENEW,
    REPORT_ACCIDENT,
    TRANSITION,
    Customer,
    accident,
    claim,
    clean_book,
    codes,
    coverage,
    end_of,
    issued,
    jst,
    ok,
    refused,
    settle,
)

EXPIRY = jst(2027, 4, 10, 16)       # cover ends 16:00 on the expiry date (SPEC §4.1; 002b L5239)
GAP_ACCIDENT = "2027-04-20T10:00:00+09:00"   # day 10 of the window: no term covers it


def reminders(c: dict) -> list[tuple[int, int]]:
    return [(e["payload"]["day"], e["payload"]["daysLeft"]) for e in c["events"] if e["kind"] == "RENEWAL_REMINDER"]


async def expire_unrenewed(s: Scenario) -> tuple[Customer, Customer]:
    """Issue the aioi and the rakuten contract, let a year pass, and cross the expiry."""
    aioi = await issued(s, product=AIOI)
    rakuten = await issued(s, product=RAKUTEN)
    await s.run_until(jst(2027, 4, 10, 15, 59))
    for c in (aioi, rakuten):
        assert codes((await c.read(s))["statuses"]) == ["IN_FORCE"]

    await s.run_until(EXPIRY)
    a = await aioi.read(s)
    # SPEC §4.6.1: expired unrenewed → IN_RENEWAL_GRACE; the reminder of day 0 goes out at once.
    assert set(codes(a["statuses"])) == {"EXPIRED", "IN_RENEWAL_GRACE"}
    (w,) = a["windows"]
    # 002b L4161: 30 days counting from the day after the expiry: day 30 is 10 May 2027.
    assert (w["kind"]["code"], w["state"]["code"], w["eventOn"], w["fullUntil"], w["daysLeft"]) == (
        "RENEWAL_GRACE", "OPEN", "2027-04-10", "2027-05-10", 31)
    assert reminders(a) == [(0, 31)]
    assert [t["status"]["code"] for t in a["terms"]] == ["EXPIRED"]

    # rakuten has no forgotten-renewal rider: it simply expires (SPEC §4.6.1).
    r = await rakuten.read(s)
    assert codes(r["statuses"]) == ["EXPIRED"]
    assert r["windows"] == [] and "CONTRACT_EXPIRED" in [e["kind"] for e in r["events"]]

    await s.run_until(jst(2027, 4, 17, 12))   # day 7, after the 09:00 reminder
    assert reminders(await aioi.read(s)) == [(0, 31), (7, 24)]
    # An accident after rakuten's expiry is no claim on it at all.
    assert await refused(s, REPORT_ACCIDENT, accident(rakuten, "2027-04-15T10:00:00+09:00"), rakuten.holder) == [
        "ACCIDENT_AFTER_CONTRACT"]
    return aioi, rakuten


async def report_gap_accident(s: Scenario, c: Customer) -> str:
    """Day 11: Suzuki reports the day-10 accident himself; it waits for the window."""
    s.clock.set(jst(2027, 4, 21, 9))
    reported = await ok(s, REPORT_ACCIDENT, accident(c, GAP_ACCIDENT), c.holder)
    cl = reported["claim"]
    state, applicable, waiting = coverage(cl)
    assert (state, waiting) == ("COVERAGE_PENDING", ["FORGOTTEN_RENEWAL_WINDOW_PENDING"])
    assert applicable == ["BI", "PD", "VEHICLE"]   # tentatively: the expired term's cover
    # The handler takes it up, but cannot approve a claim whose cover is not decided.
    await ok(s, TRANSITION, {"claimId": cl["id"], "action": "REVIEW"}, c.staff)
    assert await refused(s, TRANSITION, {"claimId": cl["id"], "action": "APPROVE"}, c.staff) == ["COVERAGE_PENDING"]
    return str(cl["id"])


async def test_renewed_on_day_29_with_the_premium_paid(scenario: Scenario) -> None:
    s = await clean_book(scenario)
    aioi, _ = await expire_unrenewed(s)
    claim_id = await report_gap_accident(s, aioi)

    await s.run_until(jst(2027, 5, 9, 10))    # day 29
    a = await aioi.read(s)
    assert reminders(a) == [(0, 31), (7, 24), (23, 8)]      # expiry, day 7, day 23 (SPEC §4.6.1)
    assert a["windows"][0]["daysLeft"] == 2

    # The renewal must come with its premium (SPEC §4.6.1 "and its premium paid").
    renew = {"contractId": aioi.cid, "expectedVersion": a["lockVersion"]}
    assert await refused(s, RENEW, renew, aioi.agent) == ["PREMIUM_NOT_PAID"]
    done = await ok(s, RENEW, {**renew, "premiumPaid": True}, aioi.agent)
    # 002b L4161-4162: renewed with the same cover; the new term starts at the old expiry.
    assert done["change"]["termNo"] == 2
    assert datetime.fromisoformat(done["change"]["effectiveAt"]) == EXPIRY
    assert codes(done["contract"]["statuses"]) == ["IN_FORCE"]

    a = await aioi.read(s)
    # The premium confirmed with the renewal is recorded as the new term's first instalment.
    assert (a["payments"]["termNo"], a["payments"]["state"]["code"], a["payments"]["claims"]["code"]) == (
        2, "CURRENT", "PAYABLE")
    assert [(i["number"], i["state"]["code"], i["paidOn"]) for i in a["payments"]["instalments"]] == [
        (1, "PAID", "2027-05-09")]
    (w,) = a["windows"]
    assert (w["state"]["code"], w["filedOn"], w["outcome"]["code"], w["daysLeft"]) == (
        "CONFIRMED", "2027-05-09", "FULL", 0)
    assert [(t["termNo"], t["startsAt"]) for t in a["terms"]] == [
        (1, "2026-04-10T16:00:00+09:00"), (2, "2027-04-10T16:00:00+09:00")]
    assert "RENEWAL_GRACE_CONFIRMED" in [e["kind"] for e in a["events"]]

    # SPEC §4.6.1: the gap claim, held COVERAGE_PENDING, becomes covered.
    cl = await claim(s, claim_id, aioi.staff)
    assert coverage(cl) == ("COVERED", ["BI", "PD", "VEHICLE"], [])
    assert sorted(ln["coverage"] for ln in cl["lines"]) == ["BI", "PD", "VEHICLE"]
    await ok(s, TRANSITION, {"claimId": claim_id, "action": "APPROVE"}, aioi.staff)
    paid = await ok(s, PAY_CLAIM, {"claimId": claim_id, "coverage": "VEHICLE", "lossYen": 300_000,
                                   "vehicle": "insured-car"}, aioi.staff)
    assert paid["claim"]["status"]["code"] == "PAID"

    # The lapse at the end of day 30 was cancelled: past it nothing changes the renewed contract.
    await s.run_until(end_of(date(2027, 5, 10)))
    await s.run_until(jst(2027, 5, 12, 10))
    a = await aioi.read(s)
    assert codes(a["statuses"]) == ["IN_FORCE"]
    assert a["windows"][0]["state"]["code"] == "CONFIRMED"
    assert reminders(a) == [(0, 31), (7, 24), (23, 8)]
    await settle(s)


async def test_nobody_renews_the_contract_lapses_as_of_the_expiry(scenario: Scenario) -> None:
    s = await clean_book(scenario)
    aioi, _ = await expire_unrenewed(s)
    claim_id = await report_gap_accident(s, aioi)
    await s.run_until(jst(2027, 5, 10, 23, 59))    # the last minute of day 30: still in the window
    a = await aioi.read(s)
    assert set(codes(a["statuses"])) == {"EXPIRED", "IN_RENEWAL_GRACE"}
    version = a["lockVersion"]

    # Day 31, the worker not yet through: the renewal is already too late (002b L4161).
    s.clock.set(jst(2027, 5, 11, 0, 30))
    renew = {"contractId": aioi.cid, "expectedVersion": version, "premiumPaid": True}
    assert await refused(s, RENEW, renew, aioi.agent) == ["CONTRACT_LAPSED"]

    # The lapse timer (end of day 30) runs: LAPSED as of the expiry (SPEC §4.6.1).
    await s.run_until(jst(2027, 5, 11, 10))
    a = await aioi.read(s)
    assert set(codes(a["statuses"])) == {"EXPIRED", "LAPSED"}
    assert a["windows"][0]["state"]["code"] == "VOID" and a["windows"][0]["daysLeft"] == 0
    assert [t["status"]["code"] for t in a["terms"]] == ["LAPSED"]
    (lapsed,) = [e for e in a["events"] if e["kind"] == "CONTRACT_LAPSED"]
    assert datetime.fromisoformat(lapsed["payload"]["lapsedAsOf"]) == EXPIRY
    renew["expectedVersion"] = a["lockVersion"]
    assert await refused(s, RENEW, renew, aioi.agent) == ["CONTRACT_LAPSED"]

    # The gap claim is declined: nothing covered the accident.
    cl = await claim(s, claim_id, aioi.staff)
    state, applicable, waiting = coverage(cl)
    assert (state, applicable, waiting) == ("NOT_COVERED", [], [])
    assert "FORGOTTEN_RENEWAL_WINDOW_NONE" in [r["code"] for r in cl["coverage"]["reasons"] if not r["ok"]]
    assert await refused(s, TRANSITION, {"claimId": claim_id, "action": "APPROVE"}, aioi.staff) == ["NOT_COVERED"]
    await settle(s)
