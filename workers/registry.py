"""Timer kinds: a kind name maps to the handler that performs the timer's effect.

A handler runs INSIDE the job's transaction, with the timer row locked: everything it writes
commits together with the row becoming DONE, or not at all. It must not commit on its own, must
not talk to the outside world in a way that cannot be repeated (enqueue follow-up work by
scheduling timers on `conn`), and raises to report a failure (the job retries with backoff).

Modules that define kinds are imported by workers.kinds, which the worker settings import.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from domain.runtime.clock import Clock
from domain.store.timers import TimerRow

TimerHandler = Callable[[asyncpg.Connection, TimerRow, Clock], Awaitable[None]]

handlers: dict[str, TimerHandler] = {}
# Kinds whose handler schedules its successor due at once (a chain of pages): the job hands due
# timers to arq right after it commits instead of leaving them to the next sweep.
hands_over_now: set[str] = set()


class UnknownTimerKind(LookupError):
    pass


def timer_kind(name: str, *, hand_over_now: bool = False) -> Callable[[TimerHandler], TimerHandler]:
    """Register the decorated coroutine function as the handler of timers of kind `name`.
    `hand_over_now`: see `hands_over_now`."""

    def register(handler: TimerHandler) -> TimerHandler:
        existing = handlers.get(name)
        if existing is not None and existing is not handler:
            raise ValueError(f"timer kind {name!r} is already handled by {existing.__qualname__}")
        handlers[name] = handler
        if hand_over_now:
            hands_over_now.add(name)
        return handler

    return register


def handler_for(kind: str) -> TimerHandler:
    try:
        return handlers[kind]
    except KeyError:
        # A rolling deploy can meet a kind an older worker does not know: a normal failure that
        # is retried with backoff lets a newer worker pick the timer up.
        raise UnknownTimerKind(f"no handler for timer kind {kind!r} in this worker") from None
