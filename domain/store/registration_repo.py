"""Which live contract holds a registration number over a period (migration 0018).

The holds are kept by triggers, so the table is right whoever wrote the contract; this module only
reads it, for the services' DUPLICATE_REGISTRATION refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.store.uow import Executor

# The exclusion constraint of migration 0018: the name a racing transaction's error carries.
REGISTRATION_CONSTRAINT = "registration_once"


@dataclass(frozen=True, slots=True)
class Holder:
    contract_id: int
    policy_number: str
    agency_id: int | None
    policyholder_id: int


async def holder_of(conn: Executor, registration_no: str | None, *, starts_at: datetime,
                    ends_at: datetime | None, other_than: int | None = None) -> Holder | None:
    """The live contract (other than `other_than`) holding the number somewhere in
    [starts_at, ends_at) — ends_at None: open-ended; None when the number is free or blank."""
    if registration_no is None or not registration_no.strip():
        return None
    r = await conn.fetchrow(
        """SELECT c.id, c.policy_number, c.agency_id, c.policyholder_id
             FROM registration_holds h JOIN contracts c ON c.id = h.contract_id
            WHERE h.reg_key = registration_key($1) AND h.contract_id <> coalesce($2::bigint, 0)
              AND h.cover && tstzrange($3, $4)
            ORDER BY c.id LIMIT 1""",
        registration_no, other_than, starts_at, ends_at,
    )
    return None if r is None else Holder(r["id"], r["policy_number"], r["agency_id"], r["policyholder_id"])
