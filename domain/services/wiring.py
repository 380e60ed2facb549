"""Start-up: which part reacts to which reaction event (domain/services/reactions.py).

Every process entry point calls `install()` once before it runs a use case: the app factory, the
worker's start-up, the CLI commands and the tests. This is the only module besides the demo book
that imports every part, so the parts themselves import only downwards.
"""

from __future__ import annotations

from domain.services.claims import handling as claims
from domain.services.payments import premiums as payments
from domain.services.reactions import (
    REACTIONS,
    DriversChanged,
    PremiumStandingChanged,
    Reactions,
    RenewalInputsChanged,
    TermBound,
    WindowResolved,
)
from domain.services.renewals import recalc as renewals
from domain.services.windows import expiry
from domain.services.windows import filings as windows


def install(reactions: Reactions = REACTIONS) -> Reactions:
    """Register every reaction handler (idempotent: a second call registers them afresh)."""
    reactions.clear()
    # A bound term: its instalments (payments), then its expiry timer (windows own the expiry).
    reactions.on(TermBound, payments.on_term_bound)
    reactions.on(TermBound, expiry.on_term_bound)
    reactions.on(DriversChanged, windows.on_drivers_changed)
    reactions.on(WindowResolved, claims.on_window_resolved)
    reactions.on(PremiumStandingChanged, claims.on_premium_standing_changed)
    reactions.on(RenewalInputsChanged, renewals.on_inputs_changed)
    reactions.installed = True
    return reactions
