"""The GraphQL schema: root types and the extensions every request runs through.

`schema` (development settings) is what `make schema` exports to schema.graphql; the production
variant differs only in refusing introspection and field suggestions, never in types.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import strawberry
from strawberry.extensions import DisableIntrospection, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionResult, Info
from strawberry.types.graphql import OperationType

from api.agencies.mutations import AgencyMutations
from api.agencies.queries import AgencyQueries
from api.agencies.types import Agency
from api.claims.assistance_mutations import AssistanceMutations
from api.claims.impact_queries import ClaimImpactQueries
from api.claims.mutations import ClaimMutations
from api.claims.queries import ClaimQueries
from api.claims.rider_queries import RiderQueries
from api.claims.types import Claim
from api.compiled import CompiledReads
from api.context import Context
from api.contracts.mutations import Mutation as ContractMutations
from api.contracts.queries import ContractQueries
from api.contracts.types import Contract, Party, Vehicle
from api.errors import MaskUnexpectedErrors
from api.fleets.mutations import FleetMutations
from api.fleets.queries import FleetQueries
from api.fleets.types import Fleet
from api.limits import limit_extensions
from api.metrics import OperationMetrics
from api.notifications.live import Subscription
from api.notifications.mutations import NotificationMutations
from api.notifications.queries import NotificationQueries
from api.notifications.types import WebhookSubscription
from api.payments.mutations import PaymentMutations
from api.payments.queries import PaymentQueries
from api.principal import NoTokenHint, Viewer
from api.products.types import Product
from api.scalars import SCALAR_MAP
from api.windows.mutations import WindowMutations
from api.windows.types import Window
from domain.calendar import jst_date
from domain.products import default_catalog

API_VERSION = "0.1.0"


@strawberry.type(description="Facts about this server.")
class SystemInfo:
    api_version: str = strawberry.field(description="Version of the autopolicy API.")
    server_time: datetime = strawberry.field(
        description="Now, in Japan time, by the server's clock (moved by `simulate` outside production)."
    )
    environment: str
    today: date = strawberry.field(description=(
        "The business date in Japan (the day of `serverTime`): the date quotes, payments and "
        "accidents are checked against. The README's examples take their dates relative to it."))


@strawberry.type
class Mutation(ContractMutations, WindowMutations, PaymentMutations, ClaimMutations, AssistanceMutations,
               FleetMutations, AgencyMutations, NotificationMutations):
    """Every mutation: one base class per part of the product (contracts, windows, claims, fleets, agencies, ...)."""


@strawberry.type
class Query(ContractQueries, ClaimQueries, ClaimImpactQueries, RiderQueries, FleetQueries, AgencyQueries, PaymentQueries,
            NotificationQueries):
    @strawberry.field(description="Version, environment and the server's notion of now.")
    def system(self, info: Info[Context, None]) -> SystemInfo:
        ctx = info.context
        now = ctx.clock.now()
        return SystemInfo(
            api_version=API_VERSION,
            server_time=now,
            environment=ctx.settings.environment,
            today=jst_date(now),
        )

    @strawberry.field(description="The authenticated caller; null when anonymous.")
    def me(self, info: Info[Context, None]) -> Viewer | None:
        principal = info.context.principal
        return None if principal is None else Viewer.of(principal)

    @strawberry.field(description="The product catalog (public).")
    def products(self) -> list[Product]:
        return [Product(model=p) for p in default_catalog()]

    @strawberry.field(description="One product by id; null when there is no such product.")
    def product(self, id: strawberry.ID) -> Product | None:
        p = default_catalog().get(id)
        return None if p is None else Product(model=p)


def _extensions(production: bool) -> list[type[SchemaExtension]]:
    exts: list[type[SchemaExtension]] = [OperationMetrics, *limit_extensions(), MaskUnexpectedErrors, CompiledReads,
                                         NoTokenHint]
    if production:
        exts.insert(1, DisableIntrospection)
    return exts


class Schema(strawberry.Schema):
    async def execute(self, query: str | None, variable_values: dict[str, Any] | None = None,
                      context_value: Any | None = None, root_value: Any | None = None,
                      operation_name: str | None = None,
                      allowed_operation_types: Iterable[OperationType] | None = None,
                      operation_extensions: dict[str, Any] | None = None) -> ExecutionResult:
        # One result has no stream: a subscription sent as a plain POST would run as a query and
        # answer null, so it is refused (HTTP 400) and goes over the websocket instead.
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES) - {OperationType.SUBSCRIPTION}
        return await super().execute(query, variable_values, context_value, root_value, operation_name,
                                     allowed, operation_extensions)


@lru_cache(maxsize=2)
def build_schema(production: bool) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Contract, Party, Vehicle, Agency, Window, Claim, Fleet, WebhookSubscription],
        extensions=_extensions(production),
        config=StrawberryConfig(disable_field_suggestions=production, scalar_map=SCALAR_MAP),
    )


schema = build_schema(False)
