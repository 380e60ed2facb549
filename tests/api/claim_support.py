"""Shared pieces of the claim API tests: tokens, GraphQL documents, a contract to claim on."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from api.auth import Role
from api.node import to_global_id
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.factories import Book, rated_contract, unique
from tests.tokens import long_token

CLAIM_TABLES = ("claims", "claim_lines", "claim_payments", "claim_events", "events", "contracts",
                "idempotency_records")

CLAIM_FIELDS = """id claimNumber policyNumber accidentAt status { code } availableActions { code }
  coverage { state { code } reasons { code ok ruleRef } applicable liabilityOnly waitingFor }
  lines { coverage deductibleYen reserveYen paidYen limits { basis { code } amountYen } payments { amountYen } }
  reserveYen paidYen staffNotes repaymentDueYen withdrawnAt
  gradeImpact { accidentClass { code } counts overridden reason }
  requiredDocuments { document { code } source } missingDocuments { document { code } } documentsReceived { code }
  kyosaiBenefits { benefit { code } amountYen person source }
  events { seq kind fromStatus toStatus actorRole actorSubject reason }"""

PAYLOAD = f"""userErrors {{ field code message }} dryRun replayed claimNumber paidYen claim {{ {CLAIM_FIELDS} }}"""

REPORT = f"mutation($i: ReportAccidentInput!) {{ reportAccident(input: $i) {{ {PAYLOAD} }} }}"
TRANSITION = f"mutation($i: TransitionClaimInput!) {{ transitionClaim(input: $i) {{ {PAYLOAD} }} }}"
RESERVE = f"mutation($i: SetClaimReserveInput!) {{ setClaimReserve(input: $i) {{ {PAYLOAD} }} }}"
PAY = f"mutation($i: RecordClaimPaymentInput!) {{ recordClaimPayment(input: $i) {{ {PAYLOAD} }} }}"
CLASSIFY = f"mutation($i: ClassifyClaimInput!) {{ classifyClaim(input: $i) {{ {PAYLOAD} }} }}"
DOCS = f"mutation($i: ReceiveClaimDocumentsInput!) {{ receiveClaimDocuments(input: $i) {{ {PAYLOAD} }} }}"
NOTE = f"mutation($i: AddClaimNoteInput!) {{ addClaimNote(input: $i) {{ {PAYLOAD} }} }}"
KYOSAI = f"mutation($i: AssessKyosaiBenefitsInput!) {{ assessKyosaiBenefits(input: $i) {{ {PAYLOAD} }} }}"
CLAIM = f"query($id: ID!) {{ claim(id: $id) {{ {CLAIM_FIELDS} }} }}"


def bearer(settings: Settings, role: Role, **claims: int) -> dict[str, str]:
    token = long_token(settings, role, f"{role.value}-{unique('s')}", **claims)  # type: ignore[arg-type]
    return {"authorization": f"Bearer {token}"}


def staff(settings: Settings) -> dict[str, str]:
    return bearer(settings, Role.STAFF)


def holder_of(settings: Settings, book: Book) -> dict[str, str]:
    return bearer(settings, Role.POLICYHOLDER, party_id=book.policyholder.id)


def agent_of(settings: Settings, book: Book) -> dict[str, str]:
    assert isinstance(book.agency_id, int)
    return bearer(settings, Role.AGENT, agency_id=book.agency_id)


async def book(pool: asyncpg.Pool, **kw: Any) -> Book:
    return await rated_contract(pool, **kw)


def report_input(b: Book, at: str = "2026-06-01T10:30:00+09:00", **extra: Any) -> dict[str, Any]:
    return {"contractId": to_global_id("Contract", b.created.contract.id), "accidentAt": at,
            "place": "東京都港区芝公園4-2", "vehicleId": to_global_id("Vehicle", b.vehicle.id),
            "driverId": to_global_id("Party", b.policyholder.id), "description": "追突事故 rear-end collision",
            "otherParties": [{"name": "佐藤 次郎", "vehicleRegistrationNo": "品川500あ1234", "faultPercent": 0}],
            "policeReportNo": "P-2026-0001", "coveragesClaimed": ["BI", "PD", "VEHICLE"],
            "vehicleCause": "COLLISION", **extra}


async def call(client: httpx.AsyncClient, doc: str, i: dict[str, Any], h: dict[str, str]) -> dict[str, Any]:
    r = await gql(client, doc, {"i": i}, h)
    assert "errors" not in r, r
    return next(iter(r["data"].values()))  # type: ignore[no-any-return]


async def ok(client: httpx.AsyncClient, doc: str, i: dict[str, Any], h: dict[str, str]) -> dict[str, Any]:
    out = await call(client, doc, i, h)
    assert out["userErrors"] == [], out
    return out


async def snapshot(pool: asyncpg.Pool) -> dict[str, str]:
    out = {}
    async with pool.acquire() as conn:
        for t in CLAIM_TABLES:
            out[t] = await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x")
    return out
