"""Road assistance and accident-site attendance, counted against the product's limits.

Pure. The limits are data (`[[road_assistance]]` of each product file: which services a limit
covers, what it counts, channel, distance and home-parking conditions, required rider); this
module applies them to one request given the earlier uses. A request that a limit has used up
is refused with a clear code; amounts above a yen cap are paid up to the cap and the rest is the
customer's. Assistance never affects the grade: road service is no-count (001 L1070;
004 L1594; 002b L4791).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.calendar import RuleError
from domain.products.model import (
    AssistanceBasis,
    AssistanceKind,
    AssistanceLimit,
    ContractTrait,
    Product,
)
from domain.vocab import AccidentClass, Channel

_K = AssistanceKind
_B = AssistanceBasis

# Services that only make sense when the car cannot move under its own power (自力走行不能), or
# (for the travel services) was stolen [001 L891, L998-1009; 003 L139, L176, L184, L195; 004 L766, L794].
_NEEDS_IMMOBILE = frozenset({_K.TOWING, _K.POST_REPAIR_TRANSPORT})
_NEEDS_IMMOBILE_OR_STOLEN = frozenset({_K.LODGING, _K.TRANSPORT_HOME, _K.PET_LODGING})
_PETS = frozenset({"DOG", "CAT"})     # 001 L1015-1018


@dataclass(frozen=True, slots=True)
class ContractContext:
    product: Product
    channel: Channel
    coverages: frozenset[str]           # coverage and rider codes of the version in force
    period_start: datetime              # the policy period (or policy year) uses are counted in
    period_end: datetime
    traits: frozenset[ContractTrait] = frozenset()   # fleet contract, multi-car discount applied
    vehicle_sum_insured: int | None = None           # with vehicle cover (002 L3749)


@dataclass(frozen=True, slots=True)
class AssistanceRequest:
    kind: AssistanceKind
    incident: str                       # groups the requests of one accident or breakdown
    at: datetime
    accident: bool = False              # an accident (True) or a breakdown / trouble (False)
    immobile: bool = False              # 自力走行不能 (cannot or may not be driven)
    stolen: bool = False
    at_home: bool = False               # at the home, company or contracted car park
    distance_from_home_km: int | None = None   # straight line
    amount: int = 0                     # incident-level cost in yen (towing bill, pet hotel, ...)
    person_amounts: Mapping[str, int] = field(default_factory=dict)   # person → yen
    vehicle_amount: int = 0             # one shared taxi / rental car, yen
    litres: int = 0
    tow_km: int = 0
    drop_m: int = 0                     # height of a wheel drop, metres (rounded up)
    pet: str | None = None              # "DOG" / "CAT" / other
    via_jaf: bool = False               # a JAF member served by JAF through the insurer's desk (002 L3792-3802; 004 L814)
    pre_approved: bool = False          # arranged through the desk / destination approved in advance (002 L3741; 004 L776)
    extra_amount: int = 0               # cost beyond the free service: parts, consumables (004 L790, L814)


@dataclass(frozen=True, slots=True)
class AssistanceUse:
    """An earlier, accepted request (what the store keeps)."""

    kind: AssistanceKind
    incident: str
    at: datetime
    paid: int = 0
    person_paid: Mapping[str, int] = field(default_factory=dict)
    # Codes of the limits the use counted against (the decision's `limits`). A use charged at the
    # home car park, or a towing paid without a cap by prior approval, does not carry the limit it
    # did not use, so it does not use it up.
    limits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssistanceDecision:
    kind: AssistanceKind
    payable: int                        # yen the insurer pays (0 for in-kind services)
    customer_pays: int                  # requested yen above the caps
    person_paid: Mapping[str, int]
    free_litres: int
    chargeable_km: int
    limits: tuple[str, ...]             # codes of the product limits that applied
    notes: tuple[str, ...]
    grade_class: AccidentClass = AccidentClass.NO_COUNT

    def as_use(self, request: AssistanceRequest) -> AssistanceUse:
        return AssistanceUse(self.kind, request.incident, request.at, self.payable,
                             dict(self.person_paid), self.limits)


def _refuse(code: str, message: str, fld: str = "kind") -> RuleError:
    return RuleError(code, fld, message)


def limits_for(product: Product, kind: AssistanceKind, channel: Channel) -> tuple[AssistanceLimit, ...]:
    return tuple(
        lim for lim in product.road_assistance
        if kind in lim.services and (not lim.channels or channel in lim.channels)
    )


def offered(product: Product, channel: Channel) -> tuple[AssistanceKind, ...]:
    """The assistance kinds a contract of this product and channel can request."""
    return tuple(k for k in AssistanceKind if limits_for(product, k, channel))


def _counted(use: AssistanceUse, lim: AssistanceLimit) -> bool:
    """Whether an earlier use counts against the yen cap or allowance `lim`: the limit applied to
    it (its decision lists the code). A towing approved in advance was exempt from the cap."""
    return lim.code in use.limits


def _free_use(use: AssistanceUse) -> bool:
    """Whether an earlier use took one of its kind's free uses: a use charged at the home car park
    applied no limit (its decision lists none), so it used no allowance."""
    return bool(use.limits)


def _check_request(r: AssistanceRequest) -> None:
    if r.at.tzinfo is None:
        raise _refuse("NAIVE_DATETIME", "the request time needs a time zone", "at")
    for name, v in (("amount", r.amount), ("vehicleAmount", r.vehicle_amount),
                    ("litres", r.litres), ("towKm", r.tow_km), ("dropM", r.drop_m),
                    ("extraAmount", r.extra_amount)):
        if v < 0:
            raise _refuse("NEGATIVE_AMOUNT", f"{name} cannot be negative", name)
    if any(v < 0 for v in r.person_amounts.values()):
        raise _refuse("NEGATIVE_AMOUNT", "amounts cannot be negative", "personAmounts")
    if r.distance_from_home_km is not None and r.distance_from_home_km < 0:
        raise _refuse("NEGATIVE_AMOUNT", "distance cannot be negative", "distanceFromHomeKm")


def request_assistance(
    ctx: ContractContext, request: AssistanceRequest, history: Iterable[AssistanceUse] = ()
) -> AssistanceDecision:
    """Decide one request or raise RuleError: ASSISTANCE_NOT_OFFERED, RIDER_NOT_HELD,
    OUTSIDE_POLICY_PERIOD, VEHICLE_NOT_IMMOBILE, NOT_AN_ACCIDENT, TOO_CLOSE_TO_HOME,
    NOT_AT_HOME_PARKING, PET_NEEDS_LODGING, PET_NOT_COVERED, ASSISTANCE_LIMIT_USED_UP."""
    r = request
    _check_request(r)
    kind = r.kind
    lims = limits_for(ctx.product, kind, ctx.channel)
    if not lims:
        raise _refuse("ASSISTANCE_NOT_OFFERED",
                      f"{ctx.product.id} ({ctx.channel.value}) does not offer {kind.en.lower()}")
    missing = sorted({c for lim in lims for c in lim.requires} - ctx.coverages)
    if missing:
        raise _refuse("RIDER_NOT_HELD", f"{kind.en} needs {', '.join(missing)} on the contract "
                      "(002b L3716-3718; 003 L66)", "riders")
    if not ctx.period_start <= r.at < ctx.period_end:
        raise _refuse("OUTSIDE_POLICY_PERIOD", "assistance is given only inside the policy period "
                      "(001 L1074; 003 L73-75)", "at")
    if kind in _NEEDS_IMMOBILE and not r.immobile:
        raise _refuse("VEHICLE_NOT_IMMOBILE", f"{kind.en} needs a car that cannot move under its "
                      "own power (001 L891, L897; 003 L139)", "immobile")
    if kind in _NEEDS_IMMOBILE_OR_STOLEN and not (r.immobile or r.stolen):
        raise _refuse("VEHICLE_NOT_IMMOBILE", f"{kind.en} needs a car that cannot move or was "
                      "stolen (001 L998-1009; 003 L176, L184)", "immobile")
    if kind is _K.SITE_ATTENDANCE and not r.accident:
        raise _refuse("NOT_AN_ACCIDENT", "site attendance is for accidents, not a breakdown that "
                      "only needs road assistance (000 L34-37; 001 L988)", "accident")
    hist = tuple(history)
    same_incident = tuple(h for h in hist if h.incident == r.incident)
    if kind is _K.PET_LODGING:
        if r.pet not in _PETS:
            raise _refuse("PET_NOT_COVERED", "pet lodging is for a dog or a cat (001 L1015-1018)", "pet")
        if not any(h.kind is _K.LODGING for h in same_incident):
            raise _refuse("PET_NEEDS_LODGING", "pet lodging needs the owner's emergency lodging in "
                          "the same incident (001 L1015)", "kind")

    notes: list[str] = []
    applied: list[str] = []
    towed = any(h.kind is _K.TOWING for h in same_incident) or kind is _K.TOWING
    live: list[AssistanceLimit] = []          # the limits this request counts against
    charged_home = False
    for lim in lims:
        if lim.jaf_only and not (r.via_jaf and not (lim.not_after_tow and towed)):
            continue
        dist = r.distance_from_home_km
        if lim.min_distance_km and (dist is None or dist < lim.min_distance_km):
            raise _refuse("TOO_CLOSE_TO_HOME", f"{kind.en} needs {lim.min_distance_km} km or more "
                          f"from home in a straight line ({lim.source})", "distanceFromHomeKm")
        if lim.not_at_home and r.at_home:
            raise _refuse("NOT_AT_HOME_PARKING", f"{kind.en} is not given at the home or contracted "
                          f"car park ({lim.source})", "atHome")
        if lim.charged_at_home and r.at_home:
            # Given, but at the customer's cost (有料): nothing free and no allowance used.
            if not charged_home:
                notes.append(f"at the home or contracted car park {kind.en.lower()} is charged ({lim.source})")
            charged_home = True
            continue
        if lim.basis is _B.USES_PER_PERIOD:
            if ctx.traits & lim.unlimited_for:
                who = ", ".join(sorted(t.en.lower() for t in ctx.traits & lim.unlimited_for))
                notes.append(f"{kind.en}: no limit on the number of uses ({who}; {lim.source})")
            else:
                cap = lim.jaf_amount if r.via_jaf and lim.jaf_amount is not None else lim.amount
                used = sum(1 for h in hist if h.kind is kind and _free_use(h)
                           and ctx.period_start <= h.at < ctx.period_end)
                if used >= cap:
                    raise _refuse("ASSISTANCE_LIMIT_USED_UP", f"{kind.en}: {cap} per policy period, "
                                  f"already used {used} ({lim.source})")
        elif lim.basis is _B.USES_PER_INCIDENT:
            used = sum(1 for h in same_incident if h.kind is kind and _free_use(h))
            if used >= lim.amount:
                raise _refuse("ASSISTANCE_LIMIT_USED_UP", f"{kind.en}: {lim.amount} per incident, "
                              f"already used ({lim.source})")
        elif lim.basis is _B.EXTRA_YEN:
            used = sum(1 for h in hist if lim.code in h.limits and ctx.period_start <= h.at < ctx.period_end)
            if used >= (lim.uses_per_period or 0) or not r.extra_amount:
                continue      # the allowance is used up (or not needed): the extra cost is the customer's
        live.append(lim)
    if charged_home:
        live = []
    applied = [lim.code for lim in live]

    # Money: per person, per vehicle, then the incident cap over everything the limit covers.
    person_paid: dict[str, int] = {}
    per_person = [lim for lim in live if lim.basis is _B.YEN_PER_PERSON]
    for person, want in sorted(r.person_amounts.items()):
        pay = want
        for lim in per_person:
            before = sum(h.person_paid.get(person, 0) for h in same_incident if h.kind is kind)
            room = max(0, lim.amount - before)
            if pay > room:
                pay = room
                notes.append(f"{person}: capped at ¥{lim.amount:,} per person ({lim.source})")
        person_paid[person] = pay
    vehicle_pay = r.vehicle_amount
    for lim in live:
        if lim.basis is _B.YEN_PER_VEHICLE and vehicle_pay > lim.amount:
            vehicle_pay = lim.amount
            notes.append(f"shared vehicle capped at ¥{lim.amount:,} ({lim.source})")
    # The cost beyond the free service is the customer's unless a JAF allowance takes it.
    extra_pay = 0
    for lim in live:
        if lim.basis is _B.EXTRA_YEN:
            extra_pay = min(r.extra_amount, lim.amount)
            notes.append(f"JAF: ¥{extra_pay:,} of the parts and extra cost borne, once a policy period ({lim.source})")
    if r.extra_amount > extra_pay:
        notes.append(f"¥{r.extra_amount - extra_pay:,} of parts and extra cost is the customer's")
    requested = r.amount + sum(r.person_amounts.values()) + r.vehicle_amount + r.extra_amount
    payable = r.amount + sum(person_paid.values()) + vehicle_pay
    for lim in live:
        if lim.basis is not _B.YEN_PER_INCIDENT:
            continue
        if r.pre_approved and kind in lim.uncapped_if_pre_approved:
            applied.remove(lim.code)      # not counted against the cap by later requests either
            notes.append(f"{kind.en.lower()} approved in advance: no ceiling ({lim.source})")
            continue
        amount = lim.amount
        if lim.or_vehicle_si_share is not None and ctx.vehicle_sum_insured is not None:
            share = int(lim.or_vehicle_si_share * ctx.vehicle_sum_insured)
            if share > amount:
                amount = share
                notes.append(f"cap {lim.or_vehicle_si_share:.0%} of the vehicle sum insured "
                             f"¥{ctx.vehicle_sum_insured:,} = ¥{share:,} ({lim.source})")
        before = sum(h.paid for h in same_incident if h.kind in lim.services and _counted(h, lim))
        room = amount - before
        if room <= 0 and requested > 0:
            raise _refuse("ASSISTANCE_LIMIT_USED_UP", f"the ¥{amount:,} per incident for "
                          f"{lim.en.lower()} is used up ({lim.source})", "amount")
        if payable > room:
            notes.append(f"capped at ¥{amount:,} per incident, ¥{before:,} already paid ({lim.source})")
            shrink = payable - room
            payable = room
            # The cut comes off the incident-level and vehicle amounts first, then off people
            # (last in order first), so person_paid still adds up to what is paid to people.
            shrink -= min(shrink, r.amount + vehicle_pay)
            for person in sorted(person_paid, reverse=True):
                if shrink <= 0:
                    break
                take = min(shrink, person_paid[person])
                person_paid[person] -= take
                shrink -= take
    payable += extra_pay
    if charged_home:
        payable, person_paid = 0, {p: 0 for p in person_paid}

    free_litres = 0
    chargeable_km = r.tow_km if charged_home else 0
    for lim in live:
        if lim.basis is _B.LITRES_PER_USE:
            free_litres = min(r.litres, lim.amount) if r.litres else lim.amount
            if r.litres > lim.amount:
                notes.append(f"{lim.amount} L free, {r.litres - lim.amount} L charged ({lim.source})")
        elif lim.basis is _B.FREE_KM_PER_TOW:
            chargeable_km = max(0, r.tow_km - lim.amount)
            if chargeable_km:
                notes.append(f"{lim.amount} km free, {chargeable_km} km charged ({lim.source})")
        elif lim.basis is _B.METRES and r.drop_m > lim.amount:
            notes.append(f"drops over {lim.amount} m are charged ({lim.source})")
    notes.append("no-count: assistance never changes the grade (001 L1070; 004 L1594)")
    return AssistanceDecision(kind, payable, requested - payable, person_paid, free_litres,
                              chargeable_km, tuple(applied), tuple(notes))
