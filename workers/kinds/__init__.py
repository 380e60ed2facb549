"""Importing this package registers every timer kind with workers.registry.

Add a module per kind family here (grace windows, swap windows, renewal offers, ...).
"""

# One module per kind family; importing registers its kinds.
from workers.kinds import (  # noqa: F401
    demo,
    expiry,
    fleet,
    grace,
    no_claims,
    payments,
    ping,
    renewal,
    webhooks,
    windows,
)
