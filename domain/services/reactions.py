"""Where one part of the business reacts to another: typed events dispatched in the unit of work.

A part that changes something others care about publishes a reaction event (`await publish(uow,
TermBound(...), now)`); the parts that care registered a handler for that event type at start-up
(`domain.services.wiring.install`). So a lower part never imports a higher one: contracts do not
import payments or windows, windows and payments do not import claims, claims do not import
renewals (docs/architecture.md has the picture; tests/unit/test_import_rules.py enforces it).

Every handler runs inside the publisher's unit of work, in registration order: what it writes
commits with the change that caused it, or not at all (one transaction per use case). A handler
schedules slow follow-up work as durable timers instead of doing it inline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from domain.store.contract_repo import Contract, Term
from domain.store.party_repo import Party
from domain.store.policy_repo import DriverEntry
from domain.store.uow import UnitOfWork
from domain.store.window_repo import StoredWindow
from domain.vocab import AgeCondition, DriverRestriction


@dataclass(frozen=True)
class TermBound:
    """A term was bound (issue, renewal, renewal in the grace window): its calendar needs its
    expiry and its premium instalments."""

    contract: Contract
    term: Term
    premium_yen: int


@dataclass(frozen=True)
class DriversChanged:
    """An endorsement changed who is insured to drive (age condition, restriction, listed drivers):
    an open driver-change window whose person is now covered is filed (§4.6.3)."""

    contract: Contract
    age_condition: AgeCondition
    driver_restriction: DriverRestriction
    drivers: Sequence[DriverEntry]
    named_insured: Party
    transaction_id: int


@dataclass(frozen=True)
class WindowResolved:
    """A window was confirmed, downgraded, voided or closed: the claims it held wait no more."""

    window: StoredWindow


@dataclass(frozen=True)
class PremiumStandingChanged:
    """A premium was paid or the contract was rescinded for non-payment: claims that waited for
    the premium are decided again (SPEC §4.7)."""

    contract_id: int


@dataclass(frozen=True)
class RenewalInputsChanged:
    """Something the next term's price depends on changed (a claim classified or withdrawn, a
    vehicle or driver changed): the renewal offer is recomputed."""

    contract_id: int
    reason: str


Reaction = TermBound | DriversChanged | WindowResolved | PremiumStandingChanged | RenewalInputsChanged
E = TypeVar("E", TermBound, DriversChanged, WindowResolved, PremiumStandingChanged, RenewalInputsChanged)
Handler = Callable[[UnitOfWork, E, datetime], Awaitable[None]]
EVENT_TYPES: tuple[type, ...] = (TermBound, DriversChanged, WindowResolved, PremiumStandingChanged,
                                 RenewalInputsChanged)


class NotInstalled(RuntimeError):
    """A reaction was published before the handlers were installed: a process entry point
    forgot `domain.services.wiring.install()` (silently dropping the reaction would lose work)."""


class Reactions:
    """The registry: event type → handlers, filled once at start-up."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[UnitOfWork, Any, datetime], Awaitable[None]]]] = {}
        self.installed = False

    def on(self, kind: type[E], handler: Handler[E]) -> None:
        if kind not in EVENT_TYPES:
            raise TypeError(f"{kind.__name__} is not a reaction event")
        self._handlers.setdefault(kind, []).append(handler)

    def clear(self) -> None:
        self._handlers.clear()
        self.installed = False

    def handlers(self, kind: type) -> tuple[Callable[..., Awaitable[None]], ...]:
        return tuple(self._handlers.get(kind, ()))

    async def dispatch(self, uow: UnitOfWork, event: Reaction, now: datetime) -> None:
        if not self.installed:
            raise NotInstalled(f"{type(event).__name__} published before domain.services.wiring.install()")
        for handler in self._handlers.get(type(event), ()):
            await handler(uow, event, now)


REACTIONS = Reactions()


async def publish(uow: UnitOfWork, event: Reaction, now: datetime) -> None:
    """Run every handler registered for the event's type, inside `uow`'s transaction."""
    await REACTIONS.dispatch(uow, event, now)
