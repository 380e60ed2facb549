"""The §4.6 windows as GraphQL objects: `Contract.windows` and `node(id:)` answer them.

A window is read as stored (the worker moves its state on the deadlines); `daysLeft` is counted
at the caller's today (the server clock), by domain.windows.days_left.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from api.context import Context
from api.node import Node, to_global_id
from api.products.types import Label
from domain.runtime.clock import as_jst
from domain.store.window_repo import StoredWindow
from domain.windows import days_left


def _gid(type_name: str, db_id: int | None) -> strawberry.ID | None:
    return None if db_id is None else to_global_id(type_name, db_id)


@strawberry.type(description="A 30-day provisional-cover window (SPEC §4.6): vehicle swap, driver change, renewal grace.")
class Window(Node):
    stored: strawberry.Private[StoredWindow]

    @classmethod
    def of(cls, sw: StoredWindow) -> Window:
        return cls(id=to_global_id("Window", sw.id), stored=sw)

    @strawberry.field
    def database_id(self) -> int:
        return self.stored.id

    @strawberry.field(description="VEHICLE_SWAP, DRIVER_CHANGE or RENEWAL_GRACE.")
    def kind(self) -> Label:
        return Label.of(self.stored.window.kind)

    @strawberry.field(description="OPEN → CONFIRMED | DOWNGRADED | VOID | CLOSED, as last stored.")
    def state(self) -> Label:
        return Label.of(self.stored.window.state)

    @strawberry.field(description="Where the gap the window covers starts (the acquisition or event day, 00:00 JST).")
    def opens_at(self) -> dt.datetime:
        return self.stored.window.opens_at

    @strawberry.field(description="Where that gap ends (the term's expiry for swap and driver change).")
    def gap_end(self) -> dt.datetime:
        return self.stored.window.gap_end

    @strawberry.field(description="The acquisition, event or expiry date; day 1 is the day after it.")
    def event_on(self) -> dt.date:
        return self.stored.window.event_on

    @strawberry.field(description="Day 30: the last day a filing gives full cover.")
    def full_until(self) -> dt.date:
        return self.stored.window.full_until

    @strawberry.field(description="Expiry + 30: the last day a late filing still gives the liability set; null when none.")
    def downgrade_until(self) -> dt.date | None:
        return self.stored.window.downgrade_until

    @strawberry.field(description="The household event that opened a driver-change window.")
    def household_event(self) -> Label | None:
        e = self.stored.window.event
        return None if e is None else Label.of(e)

    @strawberry.field(description="The day the procedure was filed; null while unfiled.")
    def filed_on(self) -> dt.date | None:
        return self.stored.window.filed_on

    @strawberry.field(description="What the filing achieved: FULL or LIABILITY_ONLY; null while unfiled.")
    def outcome(self) -> Label | None:
        o = self.stored.window.outcome
        return None if o is None else Label.of(o)

    @strawberry.field(description="Coverage codes a late filing still pays (the liability set).")
    def liability_codes(self) -> list[str]:
        return list(self.stored.window.liability_codes)

    @strawberry.field(description="The pamphlet rule that governs the window (product file `source`).")
    def source(self) -> str:
        return self.stored.window.source

    @strawberry.field(description="Days left to file in the current phase at today's date, today included; 0 when nothing more can be achieved.")
    def days_left(self, info: Info[Context, None]) -> int:
        return days_left(self.stored.window, as_jst(info.context.clock.now()).date())

    @strawberry.field(description="When insurer staff approved a vehicle swap; null until then.")
    def approved_at(self) -> dt.datetime | None:
        return self.stored.approved_at

    @strawberry.field(description="The newly acquired car (Vehicle global id) of a swap.")
    def new_vehicle_id(self) -> strawberry.ID | None:
        return _gid("Vehicle", self.stored.links.new_vehicle_id)

    @strawberry.field(description="The insured car a swap replaces (Vehicle global id).")
    def replaced_vehicle_id(self) -> strawberry.ID | None:
        return _gid("Vehicle", self.stored.links.replaced_vehicle_id)

    @strawberry.field(description="The household member of a driver change (Party global id).")
    def party_id(self) -> strawberry.ID | None:
        return _gid("Party", self.stored.links.party_id)

    @strawberry.field(description="The contract the window belongs to (Contract global id).")
    def contract_id(self) -> strawberry.ID:
        return to_global_id("Contract", self.stored.contract_id)

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.stored.created_at
