"""Importing this package registers every timer kind with workers.registry.

Add a module per kind family here (grace windows, swap windows, renewal offers, ...).
"""

from workers.kinds import (
    payments,  # noqa: F401  (registers "payment.check_delinquent", "payment.check_rescission")
    ping,  # noqa: F401  (registers "ping")
    windows,  # noqa: F401  (registers "window.downgrade", "window.void")
)
