"""The durable timers of a window: one per `domain.windows.due_actions` entry.

Kind `window.<action>` (window.remind, window.lapse, window.downgrade, window.void), subject
`window:<id>`, idempotency key `window:<id>:<action key>`: scheduling twice stores each timer once,
and a set-based writer (the expiry batch) can produce the same rows in SQL with the same keys.
"""

from __future__ import annotations

from domain.store import timers
from domain.store.uow import Executor
from domain.store.window_repo import StoredWindow
from domain.windows import WindowAction, due_actions


def window_timer_kind(action: WindowAction) -> str:
    return f"window.{action.value.lower()}"


def window_subject(window_id: int) -> str:
    return f"window:{window_id}"


async def schedule_window_timers(conn: Executor, stored: StoredWindow) -> list[int]:
    """Store every timer the window still needs (none for a filed or final window)."""
    ids = []
    for a in due_actions(stored.window):
        ids.append(await timers.schedule(
            conn, kind=window_timer_kind(a.action), subject=window_subject(stored.id), due_at=a.due_at,
            idempotency_key=f"{window_subject(stored.id)}:{a.key}",
            payload={"windowId": stored.id, "note": a.note},
        ))
    return ids


async def cancel_window_timers(conn: Executor, window_id: int) -> int:
    """Cancel the window's live timers (it was filed or closed); answer how many."""
    return await timers.cancel(conn, subject=window_subject(window_id))  # type: ignore[arg-type]
