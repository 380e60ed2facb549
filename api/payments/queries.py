"""Payment queries: `noClaimsRefunds(contractId)` (無事故祝金, 002a L2264-2277)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from api.context import Context
from api.node import db_id_of
from domain.services.payments.no_claims import StoredRefund, refunds_of


@strawberry.type(description="無事故祝金: a long-term instalment term's no-claims refund, decided at its expiry.")
class NoClaimsRefund:
    term_no: int
    payable: bool
    amount_yen: int
    pay_on: dt.date | None = strawberry.field(description="The bank's day in the month after expiry.")
    first_year_premium_yen: int
    reasons: list[str]
    decided_at: dt.datetime

    @classmethod
    def of(cls, s: StoredRefund) -> NoClaimsRefund:
        r = s.refund
        return cls(term_no=s.term_no, payable=r.payable, amount_yen=r.amount_yen, pay_on=r.pay_on,
                   first_year_premium_yen=r.first_year_premium_yen, reasons=list(r.reasons), decided_at=s.decided_at)


@strawberry.type
class PaymentQueries:
    @strawberry.field(description="The contract's no-claims refunds, one per long-term term decided; [] when none or not yours.")
    async def no_claims_refunds(self, info: Info[Context, None], contract_id: strawberry.ID) -> list[NoClaimsRefund]:
        db_id = db_id_of(contract_id, "Contract")
        if db_id is None:
            return []
        ctx = info.context
        async with ctx.pool.acquire() as conn:
            return [NoClaimsRefund.of(s) for s in await refunds_of(conn, ctx.actor, db_id)]
