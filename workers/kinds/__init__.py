"""Importing this package registers every timer kind with workers.registry.

Add a module per kind family here (grace windows, swap windows, renewal offers, ...).
"""

from workers.kinds import (
    ping,  # noqa: F401  (registers "ping")
    renewal,  # noqa: F401  (registers renewal.nightly / renewal.batch / renewal.recalc)
)
