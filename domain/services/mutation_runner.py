"""How every mutation runs: one unit of work, idempotency keys, dry runs, refusals as userErrors.

    outcome = await run_mutation(pool, actor, "endorseContract", request, use_case,
                                 result_type=ContractChange, idempotency_key=key, dry_run=False)

- One transaction: the use case, its idempotency record and its response commit together; any
  refusal rolls everything back, so a refused mutation changes nothing.
- Idempotency (scope = the caller's subject): a replayed key answers the stored result with no
  new effect; the same key with another operation or input is refused IDEMPOTENCY_KEY_REUSED.
- Dry run: the same code in a unit of work that always rolls back; keys are neither checked nor
  stored, so a dry run never answers, nor consumes, a real request's key.
- Refusals (`Refused`, `RuleError`, `RatingError`, store errors such as VERSION_CONFLICT) become
  userErrors; anything else is a bug and propagates (masked with a request id by the API).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

import asyncpg

from domain.jsoncodec import from_json, to_json
from domain.services.access import Actor
from domain.services.errors import UserError, as_user_errors
from domain.store import idempotency
from domain.store.uow import UnitOfWork

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    result: R | None
    errors: tuple[UserError, ...] = ()
    dry_run: bool = False
    replayed: bool = False


@runtime_checkable
class Replayable(Protocol):
    """A result whose replay answers less than the first answer did."""

    def for_replay(self) -> Any: ...


async def run_mutation(
    pool: asyncpg.Pool,
    actor: Actor | None,
    operation: str,
    request: Any,
    use_case: Callable[[UnitOfWork, Actor], Awaitable[R]],
    *,
    result_type: type[R],
    idempotency_key: str | None,
    dry_run: bool,
) -> Outcome[R]:
    if actor is None:
        return Outcome(None, (UserError("", "UNAUTHENTICATED", "sign in to change anything"),), dry_run)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        return Outcome(None, (UserError("input.idempotencyKey", "INVALID_IDEMPOTENCY_KEY",
                                        "an idempotency key is 1 to 255 characters"),), dry_run)
    use_key = idempotency_key is not None and not dry_run
    try:
        async with UnitOfWork(pool, dry_run=dry_run) as uow:
            if use_key:
                assert idempotency_key is not None
                digest = idempotency.request_hash({"operation": operation, "input": to_json(request)})
                begun = await idempotency.begin(uow, actor.subject, idempotency_key, digest)
                if begun.outcome is idempotency.Outcome.REPLAY:
                    return Outcome(from_json(result_type, begun.response), dry_run=False, replayed=True)
                if begun.outcome is idempotency.Outcome.REUSED_WITH_OTHER_PAYLOAD:
                    return Outcome(None, (UserError(
                        "input.idempotencyKey", "IDEMPOTENCY_KEY_REUSED",
                        "this idempotency key was used for another request; use a new key"),))
            result = await use_case(uow, actor)
            if use_key:
                assert idempotency_key is not None
                # what a replay answers; a result may keep something out of it (a secret shown once)
                stored = result.for_replay() if isinstance(result, Replayable) else result
                await idempotency.finish(uow, actor.subject, idempotency_key, to_json(stored))
        return Outcome(result, dry_run=dry_run)
    except Exception as exc:
        errors = as_user_errors(exc)
        if errors is None:
            raise
        return Outcome(None, errors, dry_run)
