"""One registration number on one live contract at a time (migration 0018, docs/decisions.md).

The database refuses a second live contract holding a number over the same period whoever writes
it; the use cases ask first, so the caller gets a `DUPLICATE_REGISTRATION` userError naming the
problem (and nothing changes) instead of a failed transaction. A quote holds nothing, so this is
the only guard at quoting time.
"""

from __future__ import annotations

from datetime import datetime

from domain.services.access import Actor, can_read_contract_of
from domain.services.errors import DUPLICATE_REGISTRATION, refuse
from domain.store.registration_repo import holder_of
from domain.store.uow import UnitOfWork


async def ensure_registration_free(
    uow: UnitOfWork, actor: Actor, registration_no: str | None, *, starts_at: datetime,
    ends_at: datetime | None, field: str, contract_id: int | None = None,
) -> None:
    """Refuse when another live contract holds the number somewhere in [starts_at, ends_at)."""
    holder = await holder_of(uow.conn, registration_no, starts_at=starts_at, ends_at=ends_at,
                             other_than=contract_id)
    if holder is None:
        return
    # Name the other contract only to a caller who may see it (no existence oracle beyond the car).
    seen = can_read_contract_of(actor, holder.policyholder_id, holder.agency_id)
    which = f"contract {holder.policy_number}" if seen else "another live contract"
    raise refuse(DUPLICATE_REGISTRATION, field,
                 f"registration number {registration_no} is already on {which} over this period; "
                 "a car is insured by one live contract at a time (swap it out or end that contract first)")

