"""SIGTERM / SIGINT before a process is ready to handle them: noted, not fatal.

A worker takes a couple of seconds to import and start (more under load). Until arq's event loop
installs its own handlers, Python's default SIGTERM kills the process mid-start (status -15) and
SIGINT raises KeyboardInterrupt wherever it lands, tracebacks and all. A supervisor that stops a
worker it has just started (a deploy rolled back, `make run` stopped at once) should see the same
clean exit 0 as for a running worker. So entry points call `defer()` first thing (this module
imports only the standard library, so it costs nothing), and check `requested()` once their own
handlers are in place: if a stop came in before, they stop instead of running.

Only for processes that will install handlers of their own later (the worker); a command that
would never look at the flag must call `restore()` so a stop signal works as usual.
"""

from __future__ import annotations

import signal
from types import FrameType

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_requested: signal.Signals | None = None


def _note(signum: int, _frame: FrameType | None) -> None:
    global _requested
    _requested = signal.Signals(signum)


def defer() -> None:
    """From now on a stop signal is only noted (see `requested`)."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _note)


def requested() -> signal.Signals | None:
    """The stop signal that arrived since `defer()`, if any."""
    return _requested


def restore() -> None:
    """Python's default handling again (SIGTERM ends the process, SIGINT raises KeyboardInterrupt)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
