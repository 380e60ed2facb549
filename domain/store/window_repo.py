"""Rows of `windows` (migrations/0005_windows.sql) and the `Window` of domain/windows.py they hold.

A row is the window plus what it is about (the cars of a swap, the household member of a driver
change), who approved it and the report's details. State changes go through `save_state`, which
writes the window's state, filing day and outcome together, so a row never says CONFIRMED without
the day it was filed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.runtime.clock import as_jst
from domain.store.uow import Executor
from domain.windows import FilingOutcome, HouseholdEvent, Window, WindowKind, WindowState


@dataclass(frozen=True, slots=True)
class WindowLinks:
    """What a window is about, besides its contract and term."""

    new_vehicle_id: int | None = None
    replaced_vehicle_id: int | None = None
    party_id: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredWindow:
    id: int
    contract_id: int
    term_id: int
    window: Window
    links: WindowLinks
    approved_at: datetime | None
    approved_by: str | None
    created_at: datetime
    updated_at: datetime


_COLS = """id, contract_id, term_id, kind, state, product_id, opens_at, event_on, full_until,
           downgrade_until, gap_end, liability_codes, source, filed_on, outcome, household_event,
           new_vehicle_id, replaced_vehicle_id, party_id, approved_at, approved_by,
           details::text AS details, created_at, updated_at"""


def window_from_row(r: Mapping[str, Any]) -> StoredWindow:
    w = Window(
        kind=WindowKind(r["kind"]),
        product_id=r["product_id"],
        opens_at=as_jst(r["opens_at"]),
        event_on=r["event_on"],
        full_until=r["full_until"],
        downgrade_until=r["downgrade_until"],
        gap_end=as_jst(r["gap_end"]),
        state=WindowState(r["state"]),
        liability_codes=tuple(r["liability_codes"]),
        source=r["source"],
        filed_on=r["filed_on"],
        outcome=FilingOutcome(r["outcome"]) if r["outcome"] else None,
        event=HouseholdEvent(r["household_event"]) if r["household_event"] else None,
    )
    links = WindowLinks(r["new_vehicle_id"], r["replaced_vehicle_id"], r["party_id"], json.loads(r["details"]))
    return StoredWindow(
        id=r["id"], contract_id=r["contract_id"], term_id=r["term_id"], window=w, links=links,
        approved_at=as_jst(r["approved_at"]) if r["approved_at"] else None, approved_by=r["approved_by"],
        created_at=as_jst(r["created_at"]), updated_at=as_jst(r["updated_at"]),
    )


async def insert_window(conn: Executor, contract_id: int, term_id: int, w: Window, links: WindowLinks,
                        *, now: datetime) -> StoredWindow:
    r = await conn.fetchrow(
        f"""INSERT INTO windows (contract_id, term_id, kind, state, product_id, opens_at, event_on,
                                full_until, downgrade_until, gap_end, liability_codes, source, filed_on,
                                outcome, household_event, new_vehicle_id, replaced_vehicle_id, party_id,
                                details, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                    $19::text::jsonb, $20, $20)
            RETURNING {_COLS}""",
        contract_id, term_id, w.kind.value, w.state.value, w.product_id, w.opens_at, w.event_on,
        w.full_until, w.downgrade_until, w.gap_end, list(w.liability_codes), w.source, w.filed_on,
        w.outcome.value if w.outcome else None, w.event.value if w.event else None,
        links.new_vehicle_id, links.replaced_vehicle_id, links.party_id, json.dumps(dict(links.details)),
        as_jst(now),
    )
    return window_from_row(r)


async def get_window(conn: Executor, window_id: int, *, for_update: bool = False) -> StoredWindow | None:
    lock = " FOR UPDATE" if for_update else ""
    r = await conn.fetchrow(f"SELECT {_COLS} FROM windows WHERE id = $1{lock}", window_id)
    return window_from_row(r) if r else None


async def windows_of(conn: Executor, contract_id: int) -> list[StoredWindow]:
    rows = await conn.fetch(f"SELECT {_COLS} FROM windows WHERE contract_id = $1 ORDER BY id", contract_id)
    return [window_from_row(r) for r in rows]


async def windows_of_contracts(conn: Executor, contract_ids: list[int]) -> dict[int, list[StoredWindow]]:
    """Windows per contract for a batch of contracts (DataLoaders, claims)."""
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM windows WHERE contract_id = ANY($1::bigint[]) ORDER BY contract_id, id", contract_ids
    )
    out: dict[int, list[StoredWindow]] = {cid: [] for cid in contract_ids}
    for r in rows:
        out[r["contract_id"]].append(window_from_row(r))
    return out


async def save_state(conn: Executor, window_id: int, w: Window, *, now: datetime,
                     details: Mapping[str, Any] | None = None) -> None:
    """Store the window's state, filing day and outcome (and merge `details` into the row's)."""
    await conn.execute(
        """UPDATE windows SET state = $2, filed_on = $3, outcome = $4, updated_at = $5,
                              details = details || $6::text::jsonb
           WHERE id = $1""",
        window_id, w.state.value, w.filed_on, w.outcome.value if w.outcome else None, as_jst(now),
        json.dumps(dict(details or {})),
    )


async def approve(conn: Executor, window_id: int, *, by: str, now: datetime) -> None:
    await conn.execute(
        "UPDATE windows SET approved_at = $2, approved_by = $3, updated_at = $2 WHERE id = $1",
        window_id, as_jst(now), by,
    )
