"""`createAgency`: staff register an agency; bad or duplicate input answers userErrors."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.agencies.types import Agency, AgencyPayload, CreateAgencyInput
from api.context import Context
from api.mutation_support import errors_of, run_use_case
from domain.services.agencies import cases as agencies
from domain.store.party_repo import Agency as DomainAgency


@strawberry.type
class AgencyMutations:
    @strawberry.mutation(description="Register an agency (代理店): insurer staff only.")
    async def create_agency(self, info: Info[Context, None], input: CreateAgencyInput) -> AgencyPayload:
        def build() -> agencies.CreateAgency:
            return agencies.CreateAgency(code=input.code, name_ja=input.name_ja, name_en=input.name_en,
                                         idempotency_key=input.idempotency_key)

        o = await run_use_case(info, "createAgency", build, agencies.create_agency, DomainAgency,
                               input.idempotency_key, input.dry_run)
        return AgencyPayload(agency=None if o.result is None else Agency.of(o.result), user_errors=errors_of(o),
                             dry_run=o.dry_run, replayed=o.replayed)
