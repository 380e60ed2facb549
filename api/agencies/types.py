"""The agency (代理店) as GraphQL types: the node, its page and the answer of createAgency."""

from __future__ import annotations

import strawberry

from api.mutation_support import UserError
from api.node import Node, to_global_id
from api.pages import PageInfo
from domain.store.party_repo import Agency as DomainAgency


@strawberry.type(description="An insurance agency (代理店).")
class Agency(Node):
    model: strawberry.Private[DomainAgency]

    @classmethod
    def of(cls, a: DomainAgency) -> Agency:
        return cls(id=to_global_id("Agency", a.id), model=a)

    @strawberry.field
    def database_id(self) -> int:
        return self.model.id

    @strawberry.field(description="The agency's code (e.g. AG-TOKYO-001), unique.")
    def code(self) -> str:
        return self.model.code

    @strawberry.field
    def name_ja(self) -> str:
        return self.model.name_ja

    @strawberry.field
    def name_en(self) -> str | None:
        return self.model.name_en


@strawberry.type
class AgencyEdge:
    cursor: str
    node: Agency


@strawberry.type(description="A page of agencies (keyset pagination, at most 100 per page).")
class AgencyConnection:
    edges: list[AgencyEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Agency]:
        return [e.node for e in self.edges]


@strawberry.input(description="A new agency: staff only.")
class CreateAgencyInput:
    code: str = strawberry.field(description="2-32 letters, digits and inner hyphens; upper-cased; unique.")
    name_ja: str
    name_en: str | None = None
    idempotency_key: str | None = None
    dry_run: bool = False


@strawberry.type(description="Answer of createAgency.")
class AgencyPayload:
    agency: Agency | None = strawberry.field(description="The agency; null when refused (a dry run shows what would be registered).")
    user_errors: list[UserError]
    dry_run: bool
    replayed: bool
