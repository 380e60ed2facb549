"""Depth, alias and token limits refuse abusive documents before execution (ENGINEERING S3),
and the same limits keep the validation cache warm (rules are built once at import)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from api import limits
from api.errors import MaskUnexpectedErrors
from domain.runtime.logs import request_id_var


@strawberry.type
class Node:
    name: str

    @strawberry.field
    def child(self) -> Node | None:
        return Node(name=self.name + "+")


@strawberry.type
class Query:
    @strawberry.field
    def root(self) -> Node:
        return Node(name="r")

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("secret internal detail")


recursive_schema = strawberry.Schema(query=Query, extensions=[*limits.limit_extensions(), MaskUnexpectedErrors])


def nested(depth: int) -> str:
    return "{ root " + "{ child " * (depth - 1) + "{ name }" + " }" * (depth - 1) + " }"


async def test_too_deep_document_is_refused_before_execution() -> None:
    ok = await recursive_schema.execute(nested(limits.MAX_DEPTH - 1))
    assert ok.errors is None
    refused = await recursive_schema.execute(nested(limits.MAX_DEPTH + 3))
    assert refused.data is None
    assert refused.errors and "exceeds maximum operation depth" in refused.errors[0].message


async def test_too_many_aliases_refused() -> None:
    doc = "{ " + " ".join(f"a{i}: root {{ name }}" for i in range(limits.MAX_ALIASES + 1)) + " }"
    result = await recursive_schema.execute(doc)
    assert result.errors and "aliases" in result.errors[0].message


async def test_aliases_hidden_in_fragments_are_counted() -> None:
    spread = " ".join(f"a{i}: name" for i in range(limits.MAX_ALIASES + 1))
    doc = "{ root { ...F } } fragment F on Node { " + spread + " }"
    result = await recursive_schema.execute(doc)
    assert result.errors and "aliases" in result.errors[0].message


async def test_too_many_tokens_refused() -> None:
    doc = "{ " + " ".join("root { name }" for _ in range(limits.MAX_TOKENS)) + " }"
    result = await recursive_schema.execute(doc)
    assert result.errors and "token" in result.errors[0].message.lower()


async def test_validation_rules_are_the_same_objects_every_request() -> None:
    # A new rule class per request would defeat ValidationCache (ENGINEERING §1).
    a = limits.StaticLimitRules().validation_rules
    b = limits.StaticLimitRules().validation_rules
    assert a == b and all(x is y for x, y in zip(a, b))


async def test_repeated_query_is_validated_once() -> None:
    from strawberry.extensions.validation_cache import _get_validate_cache

    cache = _get_validate_cache(512)
    doc = "query Cached { root { child { name } } }"
    await recursive_schema.execute(doc)
    before = cache.cache_info()
    for _ in range(20):
        result = await recursive_schema.execute(doc)
        assert result.errors is None
    after = cache.cache_info()
    assert after.misses == before.misses
    assert after.hits - before.hits == 20


async def test_unexpected_error_is_masked_with_request_id() -> None:
    token = request_id_var.set("rid-0123456789")
    try:
        result = await recursive_schema.execute("{ boom }")
    finally:
        request_id_var.reset(token)
    assert result.errors
    err: GraphQLError = result.errors[0]
    assert "secret internal detail" not in err.message
    assert err.message == "Unexpected error. Request id: rid-0123456789"
    assert err.extensions == {"code": "INTERNAL", "requestId": "rid-0123456789"}
