"""Story 4: a missed instalment (SPEC §4.7; 001 L823-833; 002b L5131).

Yamamoto and Kobayashi each pay their aioi premium monthly (the first instalment at contracting,
001 L823; the next ones on the 27th, 001 L827), from 10 April 2026. Both miss the instalment due
27 May (month M = May). At the end of its due day the worker marks both contracts DELINQUENT. Both
have an accident on 4 June: the claim is held, waiting for the premium (SPEC §4.7: claims are not
paid while it is unpaid). Kobayashi pays on 20 June, inside M+1: the contract is cured and the held
claim covered. Yamamoto never pays: at the end of M+1 (30 June, 001 L833) the worker rescinds the
contract for non-payment, and the held claim is not covered ("claims are not paid, even for
accidents that already happened", 001 L833).
"""

from __future__ import annotations

from datetime import date

from tests.scenarios.conftest import Scenario
from tests.scenarios.stories import (
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
    pay_premium,
    refused,
    settle,
)

CRASH = "2026-06-04T10:00:00+09:00"


def standing(c: dict) -> tuple[list[str], str, str, str | None, str | None]:
    p = c["payments"]
    return (sorted(codes(c["statuses"])), p["state"]["code"], p["claims"]["code"], p["delinquentSince"],
            p["rescissionDeadline"])


async def held_claim(s: Scenario, c: Customer) -> str:
    cl = (await ok(s, REPORT_ACCIDENT, accident(c, CRASH), c.holder))["claim"]
    assert coverage(cl) == ("COVERAGE_PENDING", ["BI", "PD", "VEHICLE"], ["PREMIUM_OVERDUE"])
    await ok(s, TRANSITION, {"claimId": cl["id"], "action": "REVIEW"}, c.staff)
    assert await refused(s, TRANSITION, {"claimId": cl["id"], "action": "APPROVE"}, c.staff) == ["COVERAGE_PENDING"]
    return str(cl["id"])


async def test_missed_instalment_rescinded_or_cured(scenario: Scenario) -> None:
    s = await clean_book(scenario)
    yamamoto = await issued(s, payment="MONTHLY")
    kobayashi = await issued(s, payment="MONTHLY")
    for c in (yamamoto, kobayashi):
        p = (await c.read(s))["payments"]
        assert [(i["number"], i["dueOn"], i["state"]["code"]) for i in p["instalments"][:3]] == [
            (1, "2026-04-10", "PAID"), (2, "2026-05-27", "DUE"), (3, "2026-06-27", "DUE")]   # 001 L823, L827

    # The 27th passes without the debit; still current until the due day has ended.
    await s.run_until(jst(2026, 5, 27, 23, 59))
    assert standing(await yamamoto.read(s)) == (["IN_FORCE"], "CURRENT", "PAYABLE", None, None)
    await s.run_until(end_of(date(2026, 5, 27)))
    for c in (yamamoto, kobayashi):
        r = await c.read(s)
        # DELINQUENT from the end of the due day; deadline the end of M+1 (001 L833).
        assert standing(r) == (["DELINQUENT", "IN_FORCE"], "DELINQUENT", "HELD", "2026-05-27", "2026-06-30")
        assert "PREMIUM_OVERDUE" in [e["kind"] for e in r["events"]]

    # 4 June: both crash; the claims wait for the premium (SPEC §4.7).
    await s.run_until(jst(2026, 6, 5, 10))
    y_claim, k_claim = await held_claim(s, yamamoto), await held_claim(s, kobayashi)

    # Kobayashi pays the missed instalment on 20 June, inside M+1: cured, and the claim is covered.
    await s.run_until(jst(2026, 6, 20, 10))
    paid = await pay_premium(s, kobayashi, term_no=1, number=2, on=date(2026, 6, 20))
    assert paid["change"]["delinquent"] is False
    r = await kobayashi.read(s)
    assert standing(r) == (["IN_FORCE"], "CURRENT", "PAYABLE", None, None)
    assert "PREMIUM_CURED" in [e["kind"] for e in r["events"]]
    cl = await claim(s, k_claim, kobayashi.staff)
    assert coverage(cl) == ("COVERED", ["BI", "PD", "VEHICLE"], [])
    await ok(s, TRANSITION, {"claimId": k_claim, "action": "APPROVE"}, kobayashi.staff)
    await s.run_until(jst(2026, 6, 27, 10))
    await pay_premium(s, kobayashi, term_no=1, number=3, on=date(2026, 6, 27))   # June's, on its day

    # Yamamoto never pays. The last minute of M+1: still delinquent, not yet rescinded.
    await s.run_until(jst(2026, 6, 30, 23, 59))
    r = await yamamoto.read(s)
    assert standing(r)[:3] == (["DELINQUENT", "IN_FORCE"], "DELINQUENT", "HELD")
    # The end of M+1: the worker rescinds for non-payment (001 L833; 002b L5131).
    await s.run_until(end_of(date(2026, 6, 30)))
    r = await yamamoto.read(s)
    assert "RESCINDED" in codes(r["statuses"]) and "IN_FORCE" not in codes(r["statuses"])
    assert [i["state"]["code"] for i in r["payments"]["instalments"][:4]] == ["PAID", "VOID", "VOID", "VOID"]
    # The held claim is not paid: the premium was never paid by its deadline.
    cl = await claim(s, y_claim, yamamoto.staff)
    state, applicable, waiting = coverage(cl)
    assert (state, applicable, waiting) == ("NOT_COVERED", [], [])
    assert await refused(s, TRANSITION, {"claimId": y_claim, "action": "APPROVE"}, yamamoto.staff) == ["NOT_COVERED"]

    # Two weeks on, Kobayashi's contract is simply in force.
    await s.run_until(jst(2026, 7, 15, 10))
    assert standing(await kobayashi.read(s)) == (["IN_FORCE"], "CURRENT", "PAYABLE", None, None)
    assert coverage(await claim(s, k_claim, kobayashi.staff))[0] == "COVERED"
    await settle(s)
