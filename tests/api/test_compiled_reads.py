"""The compiled read path answers exactly what the general path answers, in a fixed number of
statements whatever the page size (ENGINEERING P2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest
from graphql import parse

from api.auth import Principal, Role
from api.compiled import answer
from api.context import Context
from api.node import to_global_id
from api.schema import schema
from domain.runtime.clock import ManualClock
from domain.runtime.settings import Settings
from tests.factories import Book, rated_contract
from tests.support import statement_logging_pool

STAFF = Principal("staff-1", Role.STAFF)

DETAIL = """query D($pn: String, $asOf: DateTime) { contract(policyNumber: $pn, asOf: $asOf) {
  __typename id databaseId policyNumber productId lockVersion createdAt asOf
  channel { code ja en } statuses { code ja en __typename }
  policyholder { id databaseId kind { code ja } nameKanji nameKana nameEn birthDate postalCode addressJa addressEn
                 licenceColour { code en } licenceDate }
  terms { termNo startsAt endsAt status { code ja en } }
  grade { grade marker { code } period label }
  version { databaseId validFrom validTo recordedAt supersededAt ageCondition { code ja en }
    driverRestriction { code } premiumYen grade { grade label marker { code } period }
    vehicle { id useType { code ja en } registrationNo chassisNo modelCode firstRegistration modelRelease
              ratingClasses { group class } aeb fuel { code } welfare valueYen }
    namedInsured { id nameKanji }
    drivers { relationship { code ja } licenceColour { code } licenceDate age party { id nameKanji birthDate } }
    coverages { code option amountYen } discounts
    premium { totalYen tariffVersion demonstration startDate termMonths paymentMethod { code ja en }
              instalmentsYen riders discounts lines { code rider ja en amountYen }
              explanation { productId tariffVersion demonstration totalYen
                            steps { line kind { code ja en } factor ja en value rate rule before after delta } } } }
  premium { totalYen lines { code amountYen } }
} }"""

FRAGMENTS = """query F($pn: String) { a: contract(policyNumber: $pn) { ...C } b: contract(policyNumber: $pn) {
  ... on Contract { policyNumber v: version { premiumYen } } __typename } }
fragment C on Contract { id ... on Node { id } version { vehicle { ...V } drivers { party { ... on Party { nameKanji } } } }
  skipped: policyNumber @skip(if: true) kept: policyNumber @include(if: true) }
fragment V on Vehicle { registrationNo useType { code } }"""

PAGE = """query P($first: Int!, $after: String, $f: ContractFilter) { contracts(first: $first, after: $after, filter: $f) {
  __typename edges { cursor node { policyNumber statuses { code } policyholder { nameKanji }
    version { premiumYen vehicle { useType { code } registrationNo } drivers { age relationship { code } party { nameKanji } } } } }
  pageInfo { hasNextPage endCursor } } }"""

NODES = """query N($first: Int!) { contracts(first: $first) { nodes { id policyNumber grade { label } } } }"""


@pytest.fixture(scope="module")
async def counting_pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    pool, log = await statement_logging_pool(database_url)
    yield pool, log
    await pool.close()


@pytest.fixture(scope="module")
async def book(pool: asyncpg.Pool) -> list[Book]:
    first = await rated_contract(pool, endorse_on=date(2026, 9, 1), extra_drivers=2)
    assert isinstance(first.agency_id, int)
    rest = [await rated_contract(pool, agency_id=first.agency_id, extra_drivers=i % 3) for i in range(11)]
    return [first, *rest]


async def run(pool: asyncpg.Pool, query: str, variables: dict[str, Any], *, compiled: bool,
              principal: Principal | None = STAFF) -> dict[str, Any]:
    settings = Settings(environment="test", database_url="postgresql://unused", redis_url="redis://unused")
    ctx = Context(request=None, response=None, pool=pool, clock=ManualClock(), settings=settings,
                  request_id="t", principal=principal, compiled=compiled)
    r = await schema.execute(query, variable_values=variables, context_value=ctx)
    assert r.errors is None, r.errors
    assert r.data is not None
    return r.data


@pytest.mark.parametrize(("query", "vars_of"), [
    (DETAIL, lambda b: {"pn": b[0].created.contract.policy_number}),
    (DETAIL, lambda b: {"pn": b[0].created.contract.policy_number, "asOf": "2026-08-01T00:00:00Z"}),
    (DETAIL, lambda b: {"pn": b[0].created.contract.policy_number, "asOf": "2025-01-01T00:00:00+09:00"}),
    (DETAIL, lambda b: {"pn": "NOPE"}),
    (FRAGMENTS, lambda b: {"pn": b[1].created.contract.policy_number}),
    (PAGE, lambda b: {"first": 5, "f": {"agencyId": to_global_id("Agency", b[0].agency_id)}}),
    (PAGE, lambda b: {"first": 100, "f": {"status": "IN_FORCE", "productId": "rakuten-drive-assist"}}),
    (NODES, lambda b: {"first": 3}),
])
async def test_compiled_answers_what_the_general_path_answers(
    pool: asyncpg.Pool, book: list[Book], query: str, vars_of: Any
) -> None:
    variables = vars_of(book)
    settings = Settings(environment="test", database_url="postgresql://unused", redis_url="redis://unused")
    ctx = Context(request=None, response=None, pool=pool, clock=ManualClock(), settings=settings,
                  request_id="t", principal=STAFF)
    assert await answer(parse(query), None, variables, ctx) is not None, "this query must compile"
    fast = await run(pool, query, variables, compiled=True)
    slow = await run(pool, query, variables, compiled=False)
    assert fast == slow


async def test_scope_applies_on_the_compiled_path(pool: asyncpg.Pool, book: list[Book]) -> None:
    holder = Principal("ph", Role.POLICYHOLDER, party_id=book[0].policyholder.id)
    mine = await run(pool, DETAIL, {"pn": book[0].created.contract.policy_number}, compiled=True, principal=holder)
    other = await run(pool, DETAIL, {"pn": book[1].created.contract.policy_number}, compiled=True, principal=holder)
    assert mine["contract"]["policyNumber"] == book[0].created.contract.policy_number
    assert other == {"contract": None}
    page = await run(pool, PAGE, {"first": 100}, compiled=True, principal=holder)
    assert [e["node"]["policyNumber"] for e in page["contracts"]["edges"]] == [book[0].created.contract.policy_number]
    assert await run(pool, PAGE, {"first": 10}, compiled=True, principal=None) == \
        await run(pool, PAGE, {"first": 10}, compiled=False, principal=None)


@pytest.mark.parametrize("compiled", [True, False])
async def test_statement_count_does_not_grow_with_page_size(
    counting_pool: tuple[asyncpg.Pool, list[str]], book: list[Book], compiled: bool
) -> None:
    pool, log = counting_pool
    agency = to_global_id("Agency", book[0].agency_id)
    await run(pool, PAGE, {"first": 100}, compiled=compiled)  # warm-up: asyncpg's one-off type introspection
    counts = []
    for first in (10, 100):
        log.clear()
        data = await run(pool, PAGE, {"first": first}, compiled=compiled)
        assert len(data["contracts"]["edges"]) >= 10
        counts.append(len(log))
    assert counts[0] == counts[1], (counts, log)
    log.clear()
    await run(pool, PAGE, {"first": 10, "f": {"agencyId": agency}}, compiled=compiled)
    assert len(log) == counts[0]
    if compiled:
        assert counts[0] == 2  # the page of ids, then one statement building every contract
