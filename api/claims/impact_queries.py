"""Query `claimImpactEstimate`: the claim-or-pay-yourself advisor for a contract (SPEC §4.8).

Scoped like every contract read (another's contract answers CONTRACT_NOT_FOUND); bad arguments
answer userErrors, never top-level errors. Runs in a unit of work that always rolls back.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.claims.impact_types import ClaimImpactEstimate
from api.context import Context
from api.mutation_support import AccidentClassEnum, UserError
from api.node import db_id_of
from domain.services.claims.impact import claim_impact_estimate, claim_impact_of_claim
from domain.services.errors import as_user_errors, not_found
from domain.store.uow import UnitOfWork
from domain.vocab import AccidentClass


@strawberry.type(description="Answer of claimImpactEstimate.")
class ClaimImpactPayload:
    estimate: ClaimImpactEstimate | None = strawberry.field(description="Null when refused.")
    user_errors: list[UserError]


@strawberry.type
class ClaimImpactQueries:
    @strawberry.field(description="Claim or pay yourself: for the next 3..6 terms, the premium with and without "
                                  "claiming (grade path, with-accident period, explanation per term) and the "
                                  "break-even amount. Priced from the contract's stored rating input with the "
                                  "tariff in force at each start date.")
    async def claim_impact_estimate(
        self, info: Info[Context, None], contract_id: strawberry.ID,
        accident_class: AccidentClassEnum,  # type: ignore[valid-type]
        amount_yen: int, terms: int = 3,
    ) -> ClaimImpactPayload:
        ctx = info.context
        try:
            db_id = db_id_of(contract_id, "Contract")
            if db_id is None:
                raise not_found("contract", "contractId", contract_id)
            async with UnitOfWork(ctx.pool, dry_run=True) as uow:
                est = await claim_impact_estimate(uow, ctx.actor, db_id, AccidentClass(accident_class),
                                                  amount_yen, terms, ctx.clock.now())
        except Exception as exc:  # noqa: BLE001 - _refused re-raises what is not a refusal
            return _refused(exc)
        return ClaimImpactPayload(estimate=ClaimImpactEstimate(model=est), user_errors=[])

    @strawberry.field(description="The advisor for a reported claim: the class it takes if paid under its lines' "
                                  "coverages (or a staff override), the amount it is expected to pay, and the "
                                  "premiums of the next 3..6 terms with and without claiming, with the break-even.")
    async def claim_impact(self, info: Info[Context, None], claim_id: strawberry.ID, terms: int = 3) -> ClaimImpactPayload:
        ctx = info.context
        try:
            db_id = db_id_of(claim_id, "Claim")
            if db_id is None:
                raise not_found("claim", "claimId", claim_id)
            async with UnitOfWork(ctx.pool, dry_run=True) as uow:
                est = await claim_impact_of_claim(uow, ctx.actor, db_id, terms, ctx.clock.now())
        except Exception as exc:  # noqa: BLE001 - _refused re-raises what is not a refusal
            return _refused(exc)
        return ClaimImpactPayload(estimate=ClaimImpactEstimate(model=est), user_errors=[])


def _refused(exc: Exception) -> ClaimImpactPayload:
    errs = as_user_errors(exc)
    if errs is None:
        raise exc
    return ClaimImpactPayload(estimate=None, user_errors=[
        UserError(field=e.field, code=e.code, message=e.message) for e in errs])
