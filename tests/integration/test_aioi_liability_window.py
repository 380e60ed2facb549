"""aioi: a claim in the liability-only part of a driver-change window pays exactly the liability set,
遠隔地被害者臨時費用特約 included (002 L4120-4122), and nothing else (002 L2403, L2851-2853)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import asyncpg
import pytest

from domain.claims.rider_payout import LossFacts
from domain.claims.workflow import ClaimAction
from domain.products import default_catalog
from domain.products.payout import Outcome
from domain.services.claims import handling as claims
from domain.services.claims import types as t
from domain.services.errors import Refused
from domain.store import window_repo as wr
from domain.store.contract_repo import terms
from domain.store.party_repo import NewParty, PartyKind, create_party
from domain.store.uow import UnitOfWork
from domain.vocab import Channel, LicenceColour, Relationship
from domain.windows import HouseholdEvent, file, open_driver_change
from domain.windows import Term as WindowTerm
from tests.integration.test_assistance_service import store_contract
from tests.integration.test_claim_windows import NOW, STAFF, _claim, _resolve
from tests.unit.test_rating_support import AIOI, base_quote, with_facts

LICENSED_ON = date(2026, 5, 20)


async def test_late_filing_pays_the_aioi_liability_set(pool: asyncpg.Pool) -> None:
    product = default_catalog().get(AIOI)
    assert product is not None
    q = with_facts(replace(base_quote(AIOI, start_date=date(2026, 4, 1)), riders=("TEMPORARY_BI_EXPENSE",)),
                   telematics_plan=True)                     # 注3: the distant-victim rider comes with telematics
    cid, holder, agency = await store_contract(pool, q, Channel.AGENT)
    async with UnitOfWork(pool) as uow:
        term = (await terms(uow.conn, cid))[0]
        vehicle = await uow.conn.fetchval("SELECT vehicle_id FROM contract_versions WHERE contract_id = $1", cid)
        son = await create_party(uow, NewParty(PartyKind.PERSON, "佐藤 三郎", birth_date=date(2006, 1, 10),
                                               account_party_id=holder, agency_id=agency,
                                               licence_colour=LicenceColour.GREEN))
        w = open_driver_change(HouseholdEvent.NEWLY_LICENSED, LICENSED_ON, WindowTerm(term.starts_at, term.ends_at),
                               product, today=date(2026, 5, 25))
        sw = await wr.insert_window(uow.conn, cid, term.id, w, wr.WindowLinks(party_id=son.id),
                                    now=NOW - timedelta(days=10))
        r = await claims.report_accident(uow, STAFF, t.ReportAccident(
            contract_id=cid, accident_at=datetime(2026, 6, 1, 10, 0, tzinfo=NOW.tzinfo), place="大阪市",
            vehicle_id=vehicle, description="son hit a pedestrian", driver_party_id=son.id,
            driver_relationship=Relationship.COHABITING_RELATIVE,
            coverages_claimed=("BI", "TEMPORARY_BI_EXPENSE", "PD", "REMOTE_VICTIM_EXPENSE", "PI", "PI_EXPENSES"),
            vehicle_cause=None), NOW)
    # filed on day 35: only the liability set (002 L4120-4122)
    await _resolve(pool, sw.id, lambda x: file(x, LICENSED_ON + timedelta(days=35)).window, NOW + timedelta(days=30))
    c = await _claim(pool, r.claim_id)
    assert c.decision.liability_only
    assert set(c.decision.applicable) == {"BI", "TEMPORARY_BI_EXPENSE", "PD", "REMOTE_VICTIM_EXPENSE"}
    async with UnitOfWork(pool) as uow:
        for action in (ClaimAction.REVIEW, ClaimAction.APPROVE):
            await claims.transition_claim(uow, STAFF, t.TransitionClaim(r.claim_id, action), NOW)
    with pytest.raises(Refused) as e:
        async with UnitOfWork(pool, dry_run=True) as uow:
            await claims.rider_assessment(uow, STAFF, t.AssessRider(
                r.claim_id, "PI_EXPENSES", LossFacts(loss_yen=100_000, days=5), person="son"), NOW)
    assert e.value.errors[0].code == "COVERAGE_NOT_APPLICABLE"
    async with UnitOfWork(pool) as uow:
        far = await claims.record_claim_payment(uow, STAFF, t.RecordPayment(
            r.claim_id, "REMOTE_VICTIM_EXPENSE", person="victim",
            rider_loss=LossFacts(loss_yen=30_000, outcome=Outcome.DEATH, distance_km=120)), NOW)
        bi = await claims.record_claim_payment(uow, STAFF, t.RecordPayment(
            r.claim_id, "TEMPORARY_BI_EXPENSE", person="victim", rider_loss=LossFacts(outcome=Outcome.DEATH)), NOW)
    assert (far.paid_yen, bi.paid_yen) == (20_000, 200_000)     # 002 L2852; 002 L2764-2765
