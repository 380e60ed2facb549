"""Query `riderAssessment`: what a rider (or a coverage with a pay-out rule) pays on a claim for a
stated loss, with every step of the rule (docs/rider_rules.md). Scoped like the claim (another's
claim answers CLAIM_NOT_FOUND); bad arguments answer userErrors. Runs in a unit of work that always
rolls back, so it never changes the claim.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.claims.rider_types import RiderAssessment, RiderLossInput
from api.context import Context
from api.mutation_support import UserError
from api.node import db_id_of
from domain.calendar import RuleError
from domain.services.claims import types as t
from domain.services.claims.handling import rider_assessment
from domain.services.errors import as_user_errors, not_found, refuse
from domain.store.uow import UnitOfWork


@strawberry.type(description="Answer of riderAssessment.")
class RiderAssessmentPayload:
    assessment: RiderAssessment | None = strawberry.field(description="Null when refused.")
    user_errors: list[UserError]


@strawberry.type
class RiderQueries:
    @strawberry.field(description="What a rider (or a coverage with a pay-out rule) of the claim's contract pays for "
                                  "the stated loss now: the rule's conditions, each part's formula, deductibles and "
                                  "caps (amount before and after, pamphlet line), less what the claim line already "
                                  "paid for the same person / vehicle. recordClaimPayment with the same riderLoss "
                                  "pays exactly payableYen.")
    async def rider_assessment(self, info: Info[Context, None], claim_id: strawberry.ID, rider: str,
                               loss: RiderLossInput, person: str | None = None,
                               vehicle: str | None = None) -> RiderAssessmentPayload:
        ctx = info.context
        try:
            db_id = db_id_of(claim_id, "Claim")
            if db_id is None or ctx.actor is None:
                raise not_found("claim", "claimId", claim_id)
            try:
                facts = loss.facts()
            except RuleError as e:
                raise refuse(e.code, f"loss.{e.field}", e.message) from None
            async with UnitOfWork(ctx.pool, dry_run=True) as uow:
                a = await rider_assessment(uow, ctx.actor, t.AssessRider(db_id, rider, facts, person, vehicle),
                                           ctx.clock.now())
        except Exception as exc:
            errs = as_user_errors(exc)
            if errs is None:
                raise
            return RiderAssessmentPayload(assessment=None, user_errors=[
                UserError(field=e.field, code=e.code, message=e.message) for e in errs])
        return RiderAssessmentPayload(assessment=RiderAssessment.of(a), user_errors=[])
