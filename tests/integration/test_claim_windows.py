"""A claim in an open window waits COVERAGE_PENDING; the WindowResolved reaction re-decides it when the
window is confirmed, downgraded or voided (SPEC §4.6, §4.8; 001 L857-869, L873-881)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg
import pytest

from domain.claims.rider_payout import LossFacts
from domain.claims.workflow import ClaimAction
from domain.lifecycle import Role
from domain.products import default_catalog
from domain.products.payout import Outcome
from domain.runtime.clock import JST
from domain.services.access import Actor
from domain.services.claims import handling as claims
from domain.services.claims import types as t
from domain.services.errors import Refused
from domain.services.reactions import WindowResolved, publish
from domain.store import claim_repo
from domain.store import window_repo as wr
from domain.store.party_repo import NewParty, PartyKind, create_party
from domain.store.uow import UnitOfWork
from domain.vocab import LicenceColour, Relationship
from domain.windows import HouseholdEvent, Window, advance, file, open_driver_change
from domain.windows import Term as WindowTerm
from tests.factories import Book, rated_contract

STAFF = Actor("staff-claims", Role.STAFF)
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=JST)
LICENSED_ON = date(2026, 5, 20)            # the son gets his licence: day 1 is 21 May, day 30 is 19 June


async def _setup(pool: asyncpg.Pool, claimed: tuple[str, ...] = ("PD", "VEHICLE")) -> tuple[Book, int, int]:
    """A rakuten contract (age condition 26+), a 20-year-old son newly licensed, his open window,
    and a claim of his accident inside it."""
    b = await rated_contract(pool)
    product = default_catalog().get("rakuten-drive-assist")
    assert product is not None
    async with UnitOfWork(pool) as uow:
        son = await create_party(uow, NewParty(PartyKind.PERSON, "山田 三郎", birth_date=date(2006, 1, 10),
                                               account_party_id=b.policyholder.id, agency_id=b.agency_id,
                                               licence_colour=LicenceColour.GREEN))
        term = b.created.term
        w = open_driver_change(HouseholdEvent.NEWLY_LICENSED, LICENSED_ON, WindowTerm(term.starts_at, term.ends_at),
                               product, today=date(2026, 5, 25))
        sw = await wr.insert_window(uow.conn, b.created.contract.id, term.id, w, wr.WindowLinks(party_id=son.id),
                                    now=NOW - timedelta(days=10))
        r = await claims.report_accident(uow, STAFF, t.ReportAccident(
            contract_id=b.created.contract.id, accident_at=datetime(2026, 6, 1, 10, 0, tzinfo=JST),
            place="横浜市", vehicle_id=b.vehicle.id, description="son hit a parked car", driver_party_id=son.id,
            driver_relationship=Relationship.COHABITING_RELATIVE, coverages_claimed=claimed,
            vehicle_cause=None), NOW)
    return b, sw.id, r.claim_id


async def _resolve(pool: asyncpg.Pool, window_id: int, change: object, now: datetime) -> None:
    async with UnitOfWork(pool) as uow:
        sw = await wr.get_window(uow.conn, window_id, for_update=True)
        assert sw is not None
        w: Window = change(sw.window)  # type: ignore[operator]
        await wr.save_state(uow.conn, window_id, w, now=now)
        after = await wr.get_window(uow.conn, window_id)
        assert after is not None
        await publish(uow, WindowResolved(after), now)


async def _claim(pool: asyncpg.Pool, claim_id: int) -> claim_repo.StoredClaim:
    c = await claim_repo.get_claim(pool, claim_id)
    assert c is not None
    return c


async def _events(pool: asyncpg.Pool, claim_id: int) -> list[str]:
    return [e.kind for e in (await claim_repo.events_of_claims(pool, [claim_id]))[claim_id]]


async def test_pending_claim_covered_when_the_window_is_confirmed(pool: asyncpg.Pool) -> None:
    _b, window_id, claim_id = await _setup(pool)
    c = await _claim(pool, claim_id)
    assert c.coverage.value == "COVERAGE_PENDING"
    assert c.decision.waiting_for == ("DRIVER_CHANGE_WINDOW_PENDING",)
    assert c.decision.window_ids == (window_id,)
    # no approval while coverage is pending
    async with UnitOfWork(pool) as uow:
        await claims.transition_claim(uow, STAFF, t.TransitionClaim(claim_id, ClaimAction.REVIEW), NOW)
    with pytest.raises(Refused) as e:
        async with UnitOfWork(pool) as uow:
            await claims.transition_claim(uow, STAFF, t.TransitionClaim(claim_id, ClaimAction.APPROVE), NOW)
    assert e.value.errors[0].code == "COVERAGE_PENDING"

    # filed on day 23 (≤ 30): full cover from the event (001 L857-869)
    await _resolve(pool, window_id, lambda w: file(w, date(2026, 6, 12)).window, NOW + timedelta(days=2))
    c = await _claim(pool, claim_id)
    assert c.coverage.value == "COVERED" and not c.decision.liability_only
    assert set(c.decision.applicable) == {"PD", "VEHICLE"}
    assert "DRIVER_CHANGE_WINDOW_FULL" in [r["code"] for r in c.decision.reasons]
    kinds = await _events(pool, claim_id)
    assert kinds.count("COVERAGE_REDECIDED") == 1
    # resolving again changes nothing: the claim is no longer pending (idempotent for the workers)
    async with UnitOfWork(pool) as uow:
        sw = await wr.get_window(uow.conn, window_id)
        assert sw is not None
        await publish(uow, WindowResolved(sw), NOW + timedelta(days=3))
    assert await _events(pool, claim_id) == kinds
    async with UnitOfWork(pool) as uow:
        await claims.transition_claim(uow, STAFF, t.TransitionClaim(claim_id, ClaimAction.APPROVE), NOW)


async def test_late_filing_leaves_only_the_liability_set(pool: asyncpg.Pool) -> None:
    _b, window_id, claim_id = await _setup(pool)
    # filed on day 35: only the liability set, here 対人・対物 (001 L869, L881)
    await _resolve(pool, window_id, lambda w: file(w, LICENSED_ON + timedelta(days=35)).window,
                   NOW + timedelta(days=30))
    c = await _claim(pool, claim_id)
    assert c.coverage.value == "COVERED" and c.decision.liability_only
    assert c.decision.applicable == ("PD",)
    async with UnitOfWork(pool) as uow:
        for action in (ClaimAction.REVIEW, ClaimAction.APPROVE):
            await claims.transition_claim(uow, STAFF, t.TransitionClaim(claim_id, action), NOW)
    with pytest.raises(Refused) as e:
        async with UnitOfWork(pool) as uow:
            await claims.record_claim_payment(uow, STAFF, t.RecordPayment(claim_id, "VEHICLE", amount_yen=10_000,
                                                                          vehicle="car"), NOW)
    assert e.value.errors[0].code == "COVERAGE_NOT_APPLICABLE"
    async with UnitOfWork(pool) as uow:
        r = await claims.record_claim_payment(uow, STAFF, t.RecordPayment(claim_id, "PD", amount_yen=80_000), NOW)
    assert r.status == "PAID"


async def test_void_window_declines_the_claim(pool: asyncpg.Pool) -> None:
    _b, window_id, claim_id = await _setup(pool)
    # never filed: after expiry + 30 the window is void and gives nothing
    await _resolve(pool, window_id, lambda w: advance(w, date(2027, 6, 1)), NOW + timedelta(days=400))
    c = await _claim(pool, claim_id)
    assert c.coverage.value == "NOT_COVERED"
    assert "DRIVER_CHANGE_WINDOW_NONE" in [r["code"] for r in c.decision.reasons]


async def test_late_filing_pays_exactly_the_liability_set_riders(pool: asyncpg.Pool) -> None:
    # 001 L869, L881: 対人・対物賠償事故に限り(対物超過修理費用補償特約を含みます); 対人臨時費用 is BI's (001 L1086)
    claimed = ("BI", "TEMPORARY_BI_EXPENSE", "PD", "EXCESS_REPAIR", "VEHICLE", "ROAD_ASSISTANCE", "OTHER_CAR_DRIVING")
    _b, window_id, claim_id = await _setup(pool, claimed)
    await _resolve(pool, window_id, lambda w: file(w, LICENSED_ON + timedelta(days=35)).window,
                   NOW + timedelta(days=30))
    c = await _claim(pool, claim_id)
    assert c.decision.liability_only
    assert set(c.decision.applicable) == {"BI", "TEMPORARY_BI_EXPENSE", "PD", "EXCESS_REPAIR"}
    async with UnitOfWork(pool) as uow:
        for action in (ClaimAction.REVIEW, ClaimAction.APPROVE):
            await claims.transition_claim(uow, STAFF, t.TransitionClaim(claim_id, action), NOW)
    repair = LossFacts(loss_yen=1_300_000, market_value_yen=1_000_000, fault_percent=100, repaired_on=date(2026, 7, 1))
    for code, facts in (("VEHICLE", LossFacts(loss_yen=200_000)), ("ROAD_ASSISTANCE", LossFacts(loss_yen=30_000)),
                        ("OTHER_CAR_DRIVING", LossFacts(loss_yen=1, borrowed_car_eligible=True))):
        with pytest.raises(Refused) as e:
            async with UnitOfWork(pool, dry_run=True) as uow:
                await claims.rider_assessment(uow, STAFF, t.AssessRider(claim_id, code, facts, vehicle="car"), NOW)
        assert e.value.errors[0].code == "COVERAGE_NOT_APPLICABLE", code
        assert "liability set" in e.value.errors[0].message
    async with UnitOfWork(pool) as uow:
        r = await claims.record_claim_payment(uow, STAFF, t.RecordPayment(
            claim_id, "EXCESS_REPAIR", rider_loss=repair, vehicle="other-car"), NOW)
        d = await claims.record_claim_payment(uow, STAFF, t.RecordPayment(
            claim_id, "TEMPORARY_BI_EXPENSE", rider_loss=LossFacts(outcome=Outcome.DEATH), person="victim"), NOW)
    assert (r.paid_yen, d.paid_yen) == (300_000, 150_000)   # 001 L272; 001 L1086
