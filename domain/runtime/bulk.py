"""How a process that works through many contracts runs (a recalculation part, a worker).

- uvloop: its loop and transports cost less per statement than asyncio's selector loop (a page
  of the nightly run is a dozen round trips, and the worker's jobs are mostly round trips);
- the objects loaded before the work starts (modules, the product catalogue, compiled plans) are
  frozen out of the garbage collector, whose full collections would otherwise walk them again
  and again while a page's quotes are built and dropped.
Measured in docs/benchmarks.md (the recalculation's third pass).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def prepare() -> None:
    """Call once the process has loaded what it keeps (before its work, after its imports)."""
    gc.collect()
    gc.freeze()


def use_uvloop() -> None:
    """New event loops of this process are uvloop's (for code that makes its own loop, as arq)."""
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop, after `prepare`."""
    prepare()
    return uvloop.run(main)
