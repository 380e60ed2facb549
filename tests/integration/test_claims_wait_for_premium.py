"""A claim before the first premium is paid waits for that payment (SPEC §4.7; 001 L823): it is
COVERAGE_PENDING, and recording the payment decides it again (COVERED), once."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from domain.claims.coverage import CoverageState
from domain.runtime.clock import JST
from domain.services.access import SYSTEM, Actor
from domain.services.claims import report_accident
from domain.services.claims_types import ReportAccident
from domain.services.premium_payments import PaymentRequest, instalments_of, record_payment
from domain.store import claim_repo
from domain.store.payment_repo import PaidBy
from domain.store.uow import UnitOfWork
from domain.vocab import Relationship
from tests.integration.test_window_services import STAFF, aioi_contract

ACCIDENT = datetime(2026, 4, 12, 10, 0, tzinfo=JST)   # the term began 2026-04-10 16:00
REPORTED = datetime(2026, 4, 13, 9, 0, tzinfo=JST)
PAID = datetime(2026, 4, 14, 9, 0, tzinfo=JST)


async def _claim_events(pool: asyncpg.Pool, claim_id: int) -> list[str]:
    return [r["kind"] for r in await pool.fetch("SELECT kind FROM claim_events WHERE claim_id = $1 ORDER BY seq", claim_id)]


async def test_a_claim_waits_for_the_first_premium_and_is_decided_when_it_is_paid(pool: asyncpg.Pool) -> None:
    s = await aioi_contract(pool, pay=False)
    staff: Actor = STAFF
    async with UnitOfWork(pool) as uow:
        reported = await report_accident(uow, staff, ReportAccident(
            s.contract_id, ACCIDENT, "東京都港区", s.old_car_id, "追突 rear-end", driver_party_id=s.holder_id,
            driver_relationship=Relationship.SELF, coverages_claimed=("BI", "PD", "VEHICLE")), REPORTED)
    claim = await claim_repo.get_claim(pool, reported.claim_id)
    assert claim is not None and claim.coverage is CoverageState.COVERAGE_PENDING
    assert "FIRST_PREMIUM_UNPAID" in [r["code"] for r in claim.decision.reasons]

    first = next(i for i in (await instalments_of(pool, [s.contract_id]))[s.contract_id] if i.number == 1)
    async with UnitOfWork(pool) as uow:
        await record_payment(uow, SYSTEM, PaymentRequest(s.contract_id, first.term_no, 1, first.amount_yen,
                                                         PAID.date(), PaidBy.TRANSFER), PAID)
    claim = await claim_repo.get_claim(pool, reported.claim_id)
    assert claim is not None and claim.coverage is CoverageState.COVERED
    assert (await _claim_events(pool, claim.id)).count("COVERAGE_REDECIDED") == 1
