"""Story 2: the vehicle swap (ご契約のお車の入替自動補償特約), SPEC §4.6.2, 002b L4140-4152.

Three aioi customers, each insured from 10 April 2026, scrap their car and buy a new one on 1 May
2026 (day 1 of the window is 2 May, day 30 is 31 May, 002b L4142). Each crashes the new car on day
5, before any paperwork: the claim waits (COVERAGE_PENDING) for the window.
- Ito files on day 30: the new car is the insured car from its acquisition (002b L4142-4143) and
  the claim is covered, vehicle damage included.
- Kato files on day 31, after the worker downgraded the window at 00:00 of day 31: only the
  liability set (002b L4149-4151): the claim's bodily-injury and property-damage lines pay, its
  vehicle damage does not.
- Mori never files before the last day (30 days after the day after the expiry, 002b L4151-4152):
  the worker voids the window, the claim is not covered, and a filing after that is refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.scenarios.conftest import Scenario
from tests.scenarios.stories import (
    FILE_SWAP,
    PAY_CLAIM,
    RENEW,
    REPORT_ACCIDENT,
    REPORT_SWAP,
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
    pay_premium,
    refused,
    register_car,
    settle,
)

ACQUIRED = "2026-05-01"
CRASH = "2026-05-06T10:00:00+09:00"        # day 5 of the window
EXPIRY_PLUS_30 = date(2027, 5, 10)         # expiry 10 Apr 2027; day 1 is 11 Apr; day 30 is 10 May


async def swap_reported(s: Scenario, c: Customer) -> tuple[str, str]:
    """The customer buys a new car on 1 May, scraps the old one, and tells the agent on 3 May."""
    # A dearer car (vehicle rating class 9 against the old car's 7).
    new_car = await register_car(s, c.agent, c.party, value_yen=3_000_000, vehicle_class=9)
    r = await ok(s, REPORT_SWAP, {"contractId": c.cid, "vehicleId": new_car, "acquiredOn": ACQUIRED,
                                  "replacedVehicleId": c.car, "oldCar": "SCRAPPED", "ownerRelationship": "SELF"},
                 c.agent)
    w = r["window"]
    assert (w["state"]["code"], w["fullUntil"], w["downgradeUntil"]) == ("OPEN", "2026-05-31", "2027-05-10")
    assert "SWAP_PENDING" in codes(r["contract"]["statuses"])
    return w["id"], new_car


async def crash_new_car(s: Scenario, c: Customer, new_car: str) -> str:
    """Day 5: the new car is hit at a crossing; the policyholder reports it the same day."""
    cl = (await ok(s, REPORT_ACCIDENT, accident(c, CRASH, vehicle=new_car), c.holder))["claim"]
    assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD", "VEHICLE"], ["VEHICLE_SWAP_WINDOW_PENDING"])
    await ok(s, TRANSITION, {"claimId": cl["id"], "action": "REVIEW"}, c.staff)
    return str(cl["id"])


async def window_of(s: Scenario, c: Customer) -> dict[str, Any]:
    (w,) = (await c.read(s))["windows"]
    return w  # type: ignore[no-any-return]


async def test_three_swaps_full_liability_set_and_nothing(scenario: Scenario) -> None:
    s = await clean_book(scenario)
    ito, kato, mori = [await issued(s) for _ in range(3)]
    s.clock.set(jst(2026, 5, 3, 10))
    windows = {c.cid: await swap_reported(s, c) for c in (ito, kato, mori)}
    s.clock.set(jst(2026, 5, 6, 18))
    claims = {c.cid: await crash_new_car(s, c, windows[c.cid][1]) for c in (ito, kato, mori)}

    # --- Ito files on day 30 (31 May, 20:00): FULL, from the acquisition day (002b L4142-4143).
    await s.run_until(jst(2026, 5, 31, 20))
    assert (await window_of(s, ito))["daysLeft"] == 1
    filed = await ok(s, FILE_SWAP, {"windowId": windows[ito.cid][0], "valueYen": 2_800_000,
                                    "registrationNo": "品川300ま1234"}, ito.holder)
    ch = filed["change"]
    assert (ch["state"]["code"], ch["outcome"]["code"], ch["filingDay"]) == ("CONFIRMED", "FULL", 30)
    assert ch["effectiveAt"] == "2026-05-01T00:00:00+09:00" and ch["premiumDeltaYen"] > 0
    cl = await claim(s, claims[ito.cid], ito.staff)
    # ... on condition that the extra premium from the acquisition is paid (002b L4143).
    assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD", "VEHICLE"], ["VEHICLE_SWAP_WINDOW_PREMIUM_UNPAID"])
    charged = await pay_premium(s, ito, term_no=1, number=2, on=date(2026, 5, 31))
    assert charged["change"]["instalmentState"]["code"] == "PAID"
    cl = await claim(s, claims[ito.cid], ito.staff)
    assert coverage(cl) == ("COVERED", ["BI", "PD", "VEHICLE"], [])
    # The swap's new versions run from the acquisition day: the new car simply is the insured car.
    assert "VEHICLE_INSURED" in [r["code"] for r in cl["coverage"]["reasons"] if r["ok"]]
    await ok(s, TRANSITION, {"claimId": claims[ito.cid], "action": "APPROVE"}, ito.staff)
    paid = await ok(s, PAY_CLAIM, {"claimId": claims[ito.cid], "coverage": "VEHICLE", "lossYen": 400_000,
                                   "vehicle": "new-car"}, ito.staff)
    # Vehicle cover on the new car at its value at acquisition (002b L4145), less the ¥50,000
    # deductible of the contract's vehicle option.
    (vehicle,) = [ln for ln in paid["claim"]["lines"] if ln["coverage"] == "VEHICLE"]
    assert vehicle["limits"] == [{"basis": {"code": "PER_VEHICLE"}, "amountYen": 2_800_000}]
    assert (paid["paidYen"], vehicle["deductibleYen"]) == (350_000, 50_000)

    # --- 00:00 of day 31: the worker downgrades the unfiled windows (SPEC §5).
    await s.run_until(jst(2026, 6, 1, 0, 0))
    for c in (kato, mori):
        w = await window_of(s, c)
        # From day 31 a filing gives the liability set up to expiry + 30 (10 May 2027): 344 days left.
        assert (w["state"]["code"], w["outcome"], w["daysLeft"]) == ("DOWNGRADED", None, 344)
        # The claim still waits, but a filing can now bring at most the liability set.
        cl = await claim(s, claims[c.cid], c.staff)
        assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD"], ["VEHICLE_SWAP_WINDOW_PENDING"])
        assert cl["coverage"]["liabilityOnly"] is True
    assert (await window_of(s, ito))["state"]["code"] == "CONFIRMED"   # a filed window is left alone

    # --- Kato files on day 31 (1 June, 10:00): the liability set only (002b L4149-4151).
    await s.run_until(jst(2026, 6, 1, 10))
    filed = await ok(s, FILE_SWAP, {"windowId": windows[kato.cid][0], "valueYen": 2_800_000}, kato.agent)
    assert (filed["change"]["outcome"]["code"], filed["change"]["filingDay"]) == ("LIABILITY_ONLY", 31)
    cl = await claim(s, claims[kato.cid], kato.staff)
    state, applicable, waiting = coverage(cl)
    assert (state, applicable, waiting, cl["coverage"]["liabilityOnly"]) == ("COVERED", ["BI", "PD"], [], True)
    # The vehicle line opened while the claim waited stays on the claim, but pays nothing.
    assert {ln["coverage"]: ln["paidYen"] for ln in cl["lines"]} == {"BI": 0, "PD": 0, "VEHICLE": 0}
    await ok(s, TRANSITION, {"claimId": claims[kato.cid], "action": "APPROVE"}, kato.staff)
    assert await refused(s, PAY_CLAIM, {"claimId": claims[kato.cid], "coverage": "VEHICLE", "lossYen": 400_000,
                                        "vehicle": "new-car"}, kato.staff) == ["COVERAGE_NOT_APPLICABLE"]
    paid = await ok(s, PAY_CLAIM, {"claimId": claims[kato.cid], "coverage": "PD", "amountYen": 250_000,
                                   "vehicle": "other-car"}, kato.staff)
    assert paid["paidYen"] == 250_000
    await pay_premium(s, kato, term_no=1, number=2, on=date(2026, 6, 1))  # the extra premium from day 31 on

    # --- Mori renews normally in March (the swap is still unfiled) and pays the new term.
    s.clock.set(jst(2027, 3, 20, 10))
    m = await mori.read(s)
    renewed = await ok(s, RENEW, {"contractId": mori.cid, "expectedVersion": m["lockVersion"]}, mori.agent)
    assert renewed["change"]["termNo"] == 2
    await pay_premium(s, mori, term_no=2, number=1, on=date(2027, 3, 20))

    # The last day a filing still gives the liability set is expiry + 30; the worker voids the window
    # at its end, and the claim it held is not covered (002b L4151-4152).
    await s.run_until(jst(2027, EXPIRY_PLUS_30.month, EXPIRY_PLUS_30.day, 12))
    assert (await window_of(s, mori))["state"]["code"] == "DOWNGRADED"
    assert (await window_of(s, mori))["daysLeft"] == 1
    await s.run_until(end_of(EXPIRY_PLUS_30))
    w = await window_of(s, mori)
    assert (w["state"]["code"], w["daysLeft"], w["outcome"]) == ("VOID", 0, None)
    cl = await claim(s, claims[mori.cid], mori.staff)
    assert coverage(cl) == ("NOT_COVERED", [], [])
    assert "VEHICLE_SWAP_WINDOW_NONE" in [r["code"] for r in cl["coverage"]["reasons"] if not r["ok"]]
    assert await refused(s, TRANSITION, {"claimId": claims[mori.cid], "action": "APPROVE"}, mori.staff) == [
        "NOT_COVERED"]
    m = await mori.read(s)
    assert "SWAP_PENDING" not in codes(m["statuses"])

    s.clock.set(jst(2027, 5, 11, 10))
    # 11 May 2027: more than 30 days after the day after the expiry, the filing achieves nothing.
    assert await refused(s, FILE_SWAP, {"windowId": windows[mori.cid][0], "valueYen": 2_800_000},
                         mori.holder) == ["WINDOW_EXPIRED"]
    assert codes((await mori.read(s))["statuses"]) == ["IN_FORCE"]
    await settle(s)
