"""The coverage decision of a claim, fed from the store: terms, the version in force at the accident
moment, the windows around it and the premium standing (domain.claims.coverage decides).

Used at first notice of loss and again when a window that held a claim COVERAGE_PENDING resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.calendar import JST, RuleError, cover_moment
from domain.claims.coverage import (
    AccidentFacts,
    CoverageDecision,
    VersionFacts,
    WindowFacts,
    WindowOutcome,
    decide_coverage,
)
from domain.claims.coverage import Term as CoverTerm
from domain.covered import CoverConditions, DriverFacts
from domain.services.payments.premiums import premium_status, unpaid_extra_premiums
from domain.store.claim_repo import Decision
from domain.store.contract_repo import Contract, Term, TermStatus, terms
from domain.store.party_repo import Party, PartyKind, parties_by_id
from domain.store.uow import UnitOfWork
from domain.store.version_repo import ContractVersion, versions
from domain.store.window_repo import StoredWindow, windows_of
from domain.vocab import Relationship
from domain.windows import WindowCover, WindowKind, WindowState, cover_in_window


@dataclass(frozen=True, slots=True)
class AccidentInput:
    at: datetime
    vehicle_id: int
    driver_party_id: int | None
    driver_relationship: Relationship | None   # asked of the reporter for a driver the version does not list
    claimed: frozenset[str]


@dataclass(frozen=True, slots=True)
class Decided:
    decision: CoverageDecision
    stored: Decision
    term_id: int | None
    version: ContractVersion | None
    relationship: Relationship | None


_OUTCOME = {
    WindowCover.FULL: WindowOutcome.FULL,
    WindowCover.LIABILITY_SET: WindowOutcome.LIABILITY_SET,
    WindowCover.PENDING: WindowOutcome.PENDING,
    WindowCover.NONE: WindowOutcome.NONE,
}


def cover_term(t: Term, current: Sequence[ContractVersion]) -> CoverTerm:
    """A stored term as the claim rules see it. A cancellation leaves the term's end but ends its
    versions: the end of its last version is the moment the cancellation took effect."""
    start = t.starts_at.astimezone(JST)
    end = t.ends_at.astimezone(JST)
    cover_time = start.time().replace(tzinfo=None)
    expiry = end.date() if end.time().replace(tzinfo=None) <= cover_time else end.date() + timedelta(days=1)
    if expiry <= start.date():
        expiry = start.date() + timedelta(days=1)
    cancelled_at: datetime | None = None
    if cover_moment(expiry, cover_time) != end:
        cancelled_at = end
    if t.status is TermStatus.CANCELLED:
        inside = [v.valid_to for v in current
                  if v.valid_to is not None and v.valid_from < t.ends_at and v.valid_to > t.starts_at]
        ended = max(inside, default=t.starts_at)
        cancelled_at = min(ended, cancelled_at or ended)
    return CoverTerm(start.date(), expiry, cover_time, cancelled_at, t.status is TermStatus.RESCINDED)


def _version_at(current: Sequence[ContractVersion], at: datetime) -> ContractVersion | None:
    v = next((v for v in current if v.in_force_at(at)), None)
    if v is not None:
        return v
    # A gap after expiry (forgotten-renewal window): the expired term's last version.
    ended = [v for v in current if v.valid_to is not None and v.valid_to <= at]
    return max(ended, key=lambda v: v.valid_from) if ended else None


def _claim_term(ts: Sequence[Term], at: datetime) -> Term | None:
    inside = next((t for t in ts if t.starts_at <= at < t.ends_at), None)
    if inside is not None:
        return inside
    before = [t for t in ts if t.ends_at <= at]
    return max(before, key=lambda t: t.ends_at) if before else None


def _windows(ws: Sequence[StoredWindow], at: datetime, driver_party_id: int | None) -> list[StoredWindow]:
    """The windows whose gap contains the accident (a driver change only for its own person)."""
    out = []
    for sw in ws:
        w = sw.window
        if not w.opens_at <= at < w.gap_end:
            continue
        if (w.kind is WindowKind.DRIVER_CHANGE and sw.links.party_id is not None
                and sw.links.party_id != driver_party_id):
            continue
        out.append(sw)
    return out


def _relationship(v: ContractVersion | None, party_id: int, given: Relationship | None) -> Relationship:
    if v is not None:
        listed = next((d for d in v.data.drivers if d.party_id == party_id), None)
        if listed is not None:
            return listed.relationship
        if v.data.named_insured_id == party_id:
            return Relationship.SELF
    return given or Relationship.OTHER


def _reported_relationship(ws: Sequence[StoredWindow], party_id: int) -> Relationship | None:
    """The relationship a household event reported for this person (reportHouseholdEvent): the
    insurer already knows a newly licensed son is a cohabiting relative, so a report that leaves the
    driver's relationship out must not make him a stranger covered at any age (SPEC §4.5)."""
    for sw in ws:
        if sw.window.kind is WindowKind.DRIVER_CHANGE and sw.links.party_id == party_id:
            given = sw.links.details.get("relationship")
            if given:
                return Relationship(given)
    return None


def coverages_of(v: ContractVersion) -> frozenset[str]:
    """Coverage and rider codes of a version, automatic riders included."""
    codes = {str(c["code"]) for c in v.data.coverages or []}
    codes |= {str(r) for r in (v.data.premium or {}).get("riders", [])}
    return frozenset(codes)


def reasons_json(d: CoverageDecision) -> list[dict[str, object]]:
    return [{"code": r.code, "ok": r.ok, "ja": r.ja, "en": r.en, "ruleRef": r.rule_ref} for r in d.reasons]


async def decide(
    uow: UnitOfWork, contract: Contract, accident: AccidentInput, *, now: datetime, driver: Party | None,
    check_future: bool = True,
) -> Decided:
    """Decide coverage at `accident.at` (RuleError for an accident in the future)."""
    if check_future and accident.at > now:
        raise RuleError("ACCIDENT_IN_FUTURE", "input.accidentAt", f"{accident.at.isoformat()} is after now")
    conn = uow.conn
    ts = [t for t in await terms(conn, contract.id) if t.status is not TermStatus.QUOTED]
    current = await versions(conn, contract.id)
    version = _version_at(current, accident.at)
    all_windows = await windows_of(conn, contract.id)
    in_range = _windows(all_windows, accident.at, accident.driver_party_id)
    filings = {sw.id: int(sw.links.details["filing"]["transactionId"]) for sw in in_range
               if (sw.links.details.get("filing") or {}).get("transactionId") is not None}
    unpaid = await unpaid_extra_premiums(conn, list(filings.values())) if filings else set()
    wfacts = [
        WindowFacts(
            kind=sw.window.kind.product_kind,
            outcome=_OUTCOME[cover_in_window(sw.window, accident.at)],
            vehicle_id=None if sw.links.new_vehicle_id is None else str(sw.links.new_vehicle_id),
            liability_set=frozenset(sw.window.liability_codes) or None,
            at_most_liability_set=sw.window.state is WindowState.DOWNGRADED and sw.window.outcome is None,
            premium_unpaid=filings.get(sw.id) in unpaid,
        )
        for sw in in_range
    ]
    relationship: Relationship | None = None
    driver_facts: DriverFacts | None = None
    if driver is not None:
        assert driver.birth_date is not None
        relationship = _relationship(version, driver.id,
                                     accident.driver_relationship or _reported_relationship(all_windows, driver.id))
        driver_facts = DriverFacts(relationship, driver.birth_date)
    vfacts: VersionFacts | None = None
    if version is not None:
        ni = (await parties_by_id(conn, [version.data.named_insured_id])).get(version.data.named_insured_id)
        corporate = ni is not None and ni.kind is PartyKind.CORPORATION
        vfacts = VersionFacts(
            str(version.data.vehicle_id), coverages_of(version),
            CoverConditions(version.data.age_condition, version.data.driver_restriction,
                            named_insured_is_corporate=corporate))
    premium = await premium_status(uow, contract.id, accident.at)
    d = decide_coverage(
        terms=[cover_term(t, current) for t in ts], version=vfacts,
        accident=AccidentFacts(accident.at, str(accident.vehicle_id), driver_facts, accident.claimed),
        premium=premium, windows=wfacts,
    )
    term = _claim_term(ts, accident.at)
    stored = Decision(
        state=d.state, reasons=reasons_json(d), applicable=tuple(sorted(d.applicable)),
        liability_only=d.liability_only, waiting_for=d.waiting_for,
        window_ids=tuple(sw.id for sw in in_range), version_id=None if version is None else version.id,
        decided_at=now,
    )
    return Decided(d, stored, None if term is None else term.id, version, relationship)
