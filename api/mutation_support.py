"""What every part's mutations share: the refusal type, id decoding and the use-case runner.

Each mutation takes one `input` (with `idempotencyKey` and `dryRun`) and answers a payload with
the result and `userErrors {field code message}`; domain refusals never become top-level errors.
Global ids are decoded here; an id of the wrong type or a malformed one answers the same
`*_NOT_FOUND` as a missing one. Everything else (access, rules, idempotency, the transaction)
happens in the service layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from api.context import Context
from api.node import db_id_of
from domain.services.access import Actor
from domain.services.errors import as_user_errors, refuse
from domain.services.mutation_runner import Outcome, run_mutation
from domain.store.uow import UnitOfWork
from domain.vocab import AccidentClass, Relationship

R = TypeVar("R")

# Enums more than one part's inputs take (defined once: a GraphQL enum has one definition).
RelationshipEnum = strawberry.enum(Relationship, name="Relationship")
AccidentClassEnum = strawberry.enum(AccidentClass, name="AccidentClass")


@strawberry.type(description="Why a mutation was refused; `field` is the input path, `code` is stable.")
class UserError:
    field: str
    code: str
    message: str


def id_of(gid: strawberry.ID | None, type_name: str, field: str, *, required: bool = True) -> int | None:
    if gid is None:
        if required:
            raise refuse(f"{type_name.upper()}_NOT_FOUND", field, f"{field} is required")
        return None
    db_id = db_id_of(gid, type_name)
    if db_id is None:
        raise refuse(f"{type_name.upper()}_NOT_FOUND", field, f"no {type_name.lower()} {gid}")
    return db_id


def required_id(gid: strawberry.ID, type_name: str, field: str) -> int:
    db_id = id_of(gid, type_name, field)
    assert db_id is not None
    return db_id


def errors_of(o: Outcome[Any]) -> list[UserError]:
    return [UserError(field=e.field, code=e.code, message=e.message) for e in o.errors]


async def run_use_case(info: Info[Context, None], operation: str, build: Callable[[], Any],
               call: Callable[[UnitOfWork, Actor, Any, dt.datetime], Awaitable[R]], result_type: type[R],
               key: str | None, dry_run: bool) -> Outcome[R]:
    """Decode the input (refusals become userErrors too), then run the use case."""
    ctx = info.context
    try:
        request = build()
    except Exception as exc:
        errs = as_user_errors(exc)
        if errs is None:
            raise
        return Outcome(None, errs, dry_run)
    now = ctx.clock.now()
    return await run_mutation(
        ctx.pool, ctx.actor, operation, request,
        lambda uow, actor: call(uow, actor, request, now),
        result_type=result_type, idempotency_key=key, dry_run=dry_run,
    )
