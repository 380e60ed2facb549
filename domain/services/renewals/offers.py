"""Renewal offers: compute the next term of a contract (domain/renewal.py), fingerprint what it was
computed from, and store it (domain/store/offer_repo.py) with an outbox event when it is new or its
price moved (SPEC §4.4, §5).

One code path for a page of contracts (the nightly batch) and for one contract (a recalculation
request, `renewContract`): `refresh_subjects` reads the page's subjects, prices the offers whose
fingerprint is not already stored for the term (`renewal_price`: the next term alone), and writes
them in bulk with what they were computed from (the current version and `OfferFacts`). The
offer's document (grade, diff, discounts that moved, notes, explanation) is derived from those
when it is read (`offer_document`, by `renewal_offer`, checked against the stored price): a
document per contract a night was most of the run's cost and is read one offer at a time. Idempotent: the same
inputs give the same fingerprint, and a term's live offer with that fingerprint is left alone
("latest inputs win" — a changed input gives a new fingerprint and supersedes the old offer).

The fingerprint covers everything the offer depends on: the stored rating input (md5 of its
canonical jsonb text, computed by PostgreSQL), the term's dates, the term's claims
(claims.handling.term_claims), the named insured's licence colour now, the tariff versions in force at the
current and next start (a tariff publication changes it), and OFFER_CODE_VERSION (raise it when
the computation changes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import orjson

from domain.calendar import RuleError, add_months, jst_date
from domain.explanation import Explanation, ExplanationDiff
from domain.fleet import FleetFacts, facts_on
from domain.jsoncodec import from_json, to_json
from domain.products import Product, default_catalog
from domain.rating import QuoteInput, RatingError, rate
from domain.rating_codec import (
    explanation_to_json,
    plain_decimal,
    premium_to_json,
    quote_from_json,
    quote_to_json,
)
from domain.renewal import RenewalFacts, RenewalOffer, TermClaim, renewal_offer, renewal_price
from domain.services.claims.handling import term_claims, terms_claims
from domain.services.errors import not_found, refuse
from domain.store import fleet_repo, offer_repo
from domain.store.offer_repo import NewOffer, OfferSubject
from domain.store.uow import UnitOfWork
from domain.vocab import LicenceColour

# Raise it when the next term's price could change for the same inputs. Not raised when documents
# came to be derived on read (stop 22): the price is computed as before, so offers already issued
# keep their fingerprint and stay acceptable by their id.
OFFER_CODE_VERSION = "renewal-offer/1"



def offer_days() -> dict[str, int]:
    """Days before expiry each product's offer is due (the [renewal] table of its TOML)."""
    return {p.id: p.renewal.offer_days_before for p in default_catalog().products.values()}


def _claims_key(claims: Sequence[TermClaim]) -> list[list[Any]]:
    return [[c.claim_id, c.accident_class.value if c.accident_class else None, c.withdrawn]
            for c in sorted(claims, key=lambda c: c.claim_id)]


def fingerprint(product: Product, *, input_hash: str, term_start: date, term_end: date,
                claims: Sequence[TermClaim], licence: LicenceColour | None) -> str:
    current, following = product.tariff_on(term_start), product.tariff_on(term_end)
    key = [OFFER_CODE_VERSION, product.id, input_hash, term_start.isoformat(), term_end.isoformat(),
           _claims_key(claims), licence.value if licence else None,
           current.version if current else None, following.version if following else None]
    # hashed as before, from the stdlib's compact JSON: orjson writes the same bytes unless the key
    # holds non-ASCII or DEL (the stdlib escapes them, \uXXXX) or a lone surrogate (orjson refuses)
    try:
        text = orjson.dumps(key)
        same = text.isascii() and b"\x7f" not in text
    except orjson.JSONEncodeError:
        same = False
    if not same:
        text = json.dumps(key, separators=(",", ":")).encode()
    return hashlib.sha256(text).hexdigest()


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What an offer was computed from beside the current term's rating input (its version): the
    term's claims, the named insured's licence, a fleet car's rate for the next start. Stored with
    the offer (renewal_offers.source_facts) so its document can be derived again when read."""

    claims: tuple[TermClaim, ...] = ()
    licence: LicenceColour | None = None
    fleet: FleetFacts | None = None

    def renewal_facts(self, current: QuoteInput) -> RenewalFacts:
        return RenewalFacts(current, claims=self.claims, licence_colour=self.licence, fleet=self.fleet)

    def to_text(self) -> str:
        return _facts_text(self)

    @staticmethod
    def from_text(text: str) -> OfferFacts:
        got = from_json(OfferFacts, orjson.loads(text))
        assert isinstance(got, OfferFacts)
        return got


@lru_cache(maxsize=256)
def _facts_text(facts: OfferFacts) -> str:
    """Most offers have the same few facts (no claims, a licence colour, no fleet): encoded once."""
    return orjson.dumps(to_json(facts)).decode()


@dataclass(frozen=True, slots=True)
class Computed:
    """One priced offer: the next term's price and what it was computed from beside the current
    input (the current premium is each contract's own version's, not part of it).

    Kept small (no object graph) because the batch caches one per distinct input; the full
    RenewalOffer only on renewContract's computation."""

    next_start: date
    premium_yen: int
    tariff_version: str
    facts_text: str
    offer: RenewalOffer | None = field(default=None, compare=False)   # only from `compute`


def _diff_json(d: ExplanationDiff) -> dict[str, Any]:
    return {
        "tariffBefore": d.tariff_before, "tariffAfter": d.tariff_after,
        "totalBefore": plain_decimal(d.total_before), "totalAfter": plain_decimal(d.total_after), "change": plain_decimal(d.change),
        "lines": [{"line": ln.line, "before": plain_decimal(ln.before), "after": plain_decimal(ln.after), "change": plain_decimal(ln.change)}
                  for ln in d.lines],
        "causes": [{"line": i.line, "factor": i.factor, "valueBefore": i.value_before, "valueAfter": i.value_after,
                    "rateBefore": None if i.rate_before is None else plain_decimal(i.rate_before),
                    "rateAfter": None if i.rate_after is None else plain_decimal(i.rate_after),
                    "change": plain_decimal(i.change)} for i in d.causes],
    }


def offer_doc(o: RenewalOffer) -> dict[str, Any]:
    """The stored (and served) form of an offer."""
    rec = o.record
    return {
        "productId": o.product_id,
        "currentStart": o.current_start.isoformat(), "currentEnd": o.current_end.isoformat(),
        "nextStart": o.next_start.isoformat(), "nextEnd": o.next_end.isoformat(), "offerOn": o.offer_on.isoformat(),
        "premiumYen": o.premium.total, "currentPremiumYen": o.current_premium.total, "changeYen": o.change,
        "tariffVersion": o.premium.tariff_version, "currentTariffVersion": o.current_premium.tariff_version,
        "grade": None if rec is None else {"grade": rec.grade, "marker": rec.marker.value, "period": rec.period,
                                           "label": rec.label},
        "gradeRepeatSurcharge": o.quote.grade_one_repeat,
        "ageBandBefore": o.age_band_before.value if o.age_band_before else None,
        "ageBandAfter": o.age_band_after.value if o.age_band_after else None,
        "expiredDiscounts": list(o.expired_discounts), "lostDiscounts": list(o.lost_discounts),
        "gainedDiscounts": list(o.gained_discounts),
        "countedClaims": list(o.counted_claims), "ignoredClaims": list(o.ignored_claims),
        "autoRenew": o.auto_renew, "graceIfForgotten": o.grace_if_forgotten,
        "notes": list(o.notes),
        "diff": _diff_json(o.diff),
        "premium": premium_to_json(o.premium),
        "quote": quote_to_json(o.quote),
    }


def offer_explanation(doc: dict[str, Any]) -> Explanation | None:
    """The explanation of an offer document's premium, by rating its quote again.

    Not stored with the offer: it would multiply the size of a million-offer book for a field read
    one offer at a time. Rating is deterministic for a tariff version, so the same quote gives the
    same steps; None when the product files no longer give the stored total and tariff (the offer
    was computed under files since changed), rather than explain a different number."""
    product = default_catalog().get(doc["productId"])
    if product is None or doc.get("quote") is None:
        return None
    try:
        p = rate(product, quote_from_json(doc["quote"]))
    except (RatingError, RuleError, KeyError, ValueError):
        return None
    if p.total != doc["premiumYen"] or p.tariff_version != doc["tariffVersion"]:
        return None
    return p.explanation


def offer_document(o: offer_repo.StoredOffer) -> dict[str, Any]:
    """The served form of a stored offer (`offer_doc`'s shape). Cached and shared: read it, do not
    change it.

    Derived from what the offer was computed from (its source version's rating input and its
    OfferFacts) by `renewal_offer`, the function that priced it; rows written before offers kept
    their source carry the document written then. Never raises: an offer whose source no longer
    gives its price (or cannot be read) is served with its stored numbers and a note."""
    if o.source_input is not None and o.source_facts is not None:
        return _derived_doc(o.source_input, o.source_facts, o.premium_yen, o.current_premium_yen, o.next_start,
                            o.tariff_version or "")
    if o.legacy_doc is not None:
        return _legacy_doc(o.legacy_doc)
    return _unexplained(None, None, o.premium_yen, o.current_premium_yen, o.next_start, o.tariff_version or "",
                        _NO_SOURCE)


_RULES_CHANGED = ("this offer was priced under product rules that have changed since: its breakdown cannot be "
                  "shown; renew without offerId to be priced afresh")
_NO_SOURCE = "what this offer was computed from is no longer readable: its breakdown cannot be shown"


@lru_cache(maxsize=1024)
def _legacy_doc(text: str) -> dict[str, Any]:
    return cast(dict[str, Any], orjson.loads(text))


@lru_cache(maxsize=1024)
def _derived_doc(source_input: str, source_facts: str, premium_yen: int, current_premium_yen: int,
                 next_start: date, tariff_version: str) -> dict[str, Any]:
    try:
        current = quote_from_json(orjson.loads(source_input))
        facts = OfferFacts.from_text(source_facts).renewal_facts(current)
        product = default_catalog().get(current.product_id)
    except (KeyError, TypeError, ValueError, RuleError):
        return _unexplained(None, None, premium_yen, current_premium_yen, next_start, tariff_version, _NO_SOURCE)
    if product is None:
        return _unexplained(None, facts, premium_yen, current_premium_yen, next_start, tariff_version, _NO_SOURCE)
    try:
        o: RenewalOffer | None = renewal_offer(product, facts)
    except (RuleError, RatingError):
        o = None
    if o is None or o.premium.total != premium_yen or o.next_start != next_start:
        # The same facts no longer give the stored price: say so rather than explain another number.
        return _unexplained(product, facts, premium_yen, current_premium_yen, next_start, tariff_version,
                            _RULES_CHANGED)
    doc = offer_doc(o)
    doc["premiumExplanation"] = explanation_to_json(o.premium.explanation)   # already rated: not again on read
    if o.current_premium.total != current_premium_yen:
        # The offer's current premium is the version's (what was sold); the comparison re-rates it.
        doc.update(currentPremiumYen=current_premium_yen, changeYen=premium_yen - current_premium_yen,
                   notes=[*doc["notes"], (f"the current term re-rated today comes to {o.current_premium.total} yen; "
                                          f"it was sold at {current_premium_yen} yen (the comparison above uses "
                                          "today's rating)")])
    return doc


def _unexplained(product: Product | None, facts: RenewalFacts | None, premium_yen: int, current_premium_yen: int,
                 next_start: date, tariff_version: str, note: str) -> dict[str, Any]:
    """An offer's document with its stored numbers only (no breakdown), and why."""
    cur = facts.current if facts is not None else None
    current_end: date | None = None
    if cur is not None:
        current_end = add_months(cur.start_date, cur.term_months)
        if cur.fleet is not None and cur.fleet.ends_on is not None:
            current_end = cur.fleet.ends_on      # as next_term: a mid-term fleet join ends with its certificate
    tariff_now = product.tariff_on(cur.start_date) if product is not None and cur is not None else None
    offer_on = (current_end - timedelta(days=product.renewal.offer_days_before)
                if product is not None and current_end is not None else next_start)
    term = cur.term_months if cur is not None else 12
    return {
        "productId": product.id if product is not None else (cur.product_id if cur is not None else ""),
        "currentStart": cur.start_date.isoformat() if cur is not None else None,
        "currentEnd": current_end.isoformat() if current_end is not None else None,
        "nextStart": next_start.isoformat(), "nextEnd": add_months(next_start, term).isoformat(),
        "offerOn": offer_on.isoformat(),
        "premiumYen": premium_yen, "currentPremiumYen": current_premium_yen, "changeYen": premium_yen - current_premium_yen,
        "tariffVersion": tariff_version, "currentTariffVersion": tariff_now.version if tariff_now else "",
        "grade": None, "gradeRepeatSurcharge": False, "ageBandBefore": None, "ageBandAfter": None,
        "expiredDiscounts": [], "lostDiscounts": [], "gainedDiscounts": [], "countedClaims": [], "ignoredClaims": [],
        "autoRenew": False, "graceIfForgotten": False, "notes": [note],
        "diff": {"tariffBefore": "", "tariffAfter": "", "totalBefore": str(current_premium_yen),
                 "totalAfter": str(premium_yen), "change": str(premium_yen - current_premium_yen), "lines": [], "causes": []},
        "premium": None, "quote": None,
    }


def compute(product: Product, current: QuoteInput, *, claims: Sequence[TermClaim],
            licence: LicenceColour | None, fleet: FleetFacts | None = None) -> Computed:
    """The whole offer (renewContract binds it). Raises RuleError / RatingError when the next term
    is not rateable."""
    facts = OfferFacts(tuple(claims), licence, fleet)
    o = renewal_offer(product, facts.renewal_facts(current))
    return Computed(o.next_start, o.premium.total, o.premium.tariff_version, facts.to_text(), o)


def compute_price(product: Product, current: QuoteInput, *, claims: Sequence[TermClaim],
                  licence: LicenceColour | None, fleet: FleetFacts | None = None) -> Computed:
    """The next term's price (the nightly run): `compute`'s premium without the rest of the offer,
    which `offer_document` derives when it is read."""
    facts = OfferFacts(tuple(claims), licence, fleet)
    p = renewal_price(product, facts.renewal_facts(current))
    return Computed(p.next_start, p.premium_yen, p.tariff_version, facts.to_text())


async def next_fleet(conn: Any, current: QuoteInput, next_start: date) -> FleetFacts | None:
    """A fleet car's rate on its next start (the review decided for that year); while that review is
    still undecided the current rate stays (it is decided months before the review date)."""
    if current.fleet is None:
        return None
    f = await fleet_repo.get_fleet(conn, current.fleet.fleet_id)
    if f is None:
        return None
    decided = fleet_repo.decided_rates(await fleet_repo.reviews_of(conn, f.id))
    try:
        return facts_on(f.id, next_start, ten_car_date=f.ten_car_date, all_vehicle_rider=f.all_vehicle_rider,
                        decided=decided)
    except RuleError:
        return replace(current.fleet, ends_on=None)


class _Cache:
    """Priced offers by fingerprint, bounded: a book where many contracts share identical inputs
    prices each distinct offer once per process. An entry is a few numbers and a short text, so
    100,000 of them are ≈ 30 MB."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.offers: dict[str, Computed | str] = {}   # str: the refusal code of an unrateable input

    def put(self, fp: str, got: Computed | str) -> None:
        self.offers[fp] = got

    def trim(self) -> None:
        if len(self.offers) > self.limit:
            self.offers.clear()


@dataclass
class PageResult:
    scanned: int = 0
    offered: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0
    last_id: int | None = None
    offer_ids: dict[int, int] = field(default_factory=dict)   # contract id → offer id written
    failures: dict[int, str] = field(default_factory=dict)    # contract id → refusal code

    def counts(self) -> dict[str, int]:
        return {"scanned": self.scanned, "offered": self.offered, "changed": self.changed,
                "unchanged": self.unchanged, "failed": self.failed}


async def refresh_subjects(uow: UnitOfWork, subjects: Sequence[OfferSubject], now: datetime, *, reason: str,
                           run_id: int | None = None, cache: _Cache | None = None) -> PageResult:
    """Compute and store the offers of `subjects` (their contracts locked by the caller's read)."""
    cache = cache or _Cache()
    conn = uow.conn
    res = PageResult(scanned=len(subjects), last_id=subjects[-1].contract_id if subjects else None)
    if not subjects:
        return res
    catalog = default_catalog()
    # read after the page's statement has its locks: a statement that waited for a contract's lock
    # still sees other tables as of its start, so an offer written meanwhile would be missed
    live = await offer_repo.live_offers(conn, [s.term_id for s in subjects])
    pending: list[tuple[OfferSubject, Product, str, list[TermClaim]]] = []
    page_claims = await terms_claims(uow, [(s.contract_id, s.term_id) for s in subjects])
    for s in subjects:
        product = catalog.get(s.product_id)
        if product is None:
            res.failed += 1
            res.failures[s.contract_id] = "UNKNOWN_PRODUCT"
            continue
        claims = page_claims[s.term_id]
        fp = fingerprint(product, input_hash=s.input_hash, term_start=jst_date(s.term_starts_at),
                         term_end=jst_date(s.term_ends_at), claims=claims, licence=s.licence_colour)
        old = live.get(s.term_id)
        if old is not None and (old.fingerprint == fp or old.state == offer_repo.OfferState.ACCEPTED):
            res.unchanged += 1
            continue
        pending.append((s, product, fp, claims))
    # Rating inputs travel only for the offers not computed yet, one per distinct input; each is
    # parsed where it is priced, so its JSON objects are dropped while still in the CPU's cache.
    # A term without a live offer when the page was read brought its input with it; the others'
    # are read here.
    texts: dict[str, str | None] = {}
    first_version: dict[str, int] = {}
    for s, _, fp, _ in pending:
        if fp in cache.offers or s.input_hash in texts:
            continue
        if s.rating_input is not None:
            texts[s.input_hash] = s.rating_input
        else:
            first_version.setdefault(s.input_hash, s.version_id)
    if first_version:
        raw = await offer_repo.rating_inputs(conn, list(first_version.values()))
        texts.update({h: raw.get(vid) for h, vid in first_version.items() if h not in texts})
    new: list[NewOffer] = []
    events: list[tuple[int, dict[str, Any]]] = []
    superseded: list[int] = []
    for s, product, fp, claims in pending:
        got = cache.offers.get(fp)
        if got is None:
            q = _stored_quote(texts.get(s.input_hash))
            if q is None:
                got = "NO_RATING_INPUT"
            else:
                try:
                    got = compute_price(product, q, claims=claims, licence=s.licence_colour,
                                        fleet=await next_fleet(conn, q, jst_date(s.term_ends_at)))
                except (RuleError, RatingError) as e:
                    got = e.code
                cache.put(fp, got)
        if isinstance(got, str):
            res.failed += 1
            res.failures[s.contract_id] = got
            continue
        old = live.get(s.term_id)
        if old is None:
            res.offered += 1
        else:
            res.changed += 1
            superseded.append(old.id)
        # the current premium is each contract's own (its version), whoever's inputs the cache priced
        new.append(NewOffer(s.contract_id, s.term_id, got.next_start, fp, got.premium_yen, s.premium_yen,
                            got.tariff_version, s.version_id, got.facts_text))
        if old is None or old.premium_yen != got.premium_yen:
            events.append((s.contract_id, {
                "policyNumber": s.policy_number, "termId": s.term_id, "nextStart": got.next_start.isoformat(),
                "premiumYen": got.premium_yen, "previousOfferYen": None if old is None else old.premium_yen,
                "currentPremiumYen": s.premium_yen, "tariffVersion": got.tariff_version,
                "fingerprint": fp, "reason": reason}))
    await offer_repo.supersede(conn, superseded, now)
    ids = await offer_repo.insert_offers(conn, new, reason=reason, run_id=run_id, at=now)
    res.offer_ids = {o.contract_id: i for o, i in zip(new, ids, strict=True)}
    await offer_repo.append_offer_events(conn, events, now)
    cache.trim()
    return res


def _stored_quote(text: str | None) -> QuoteInput | None:
    """A version's stored rating input; None when it has none (written before inputs were kept)
    or it is not one."""
    if text is None:
        return None
    try:
        return quote_from_json(orjson.loads(text))
    except (KeyError, ValueError, TypeError):
        return None


async def refresh_contract(uow: UnitOfWork, contract_id: int, now: datetime, *, reason: str,
                           only_if_due: bool = True) -> PageResult:
    """Recompute one contract's offer now. With `only_if_due`, a contract whose offer is not due yet
    (and has no live offer to keep current) is left for the nightly run."""
    s = await offer_repo.subject_of(uow.conn, contract_id)
    if s is None:
        return PageResult()
    if only_if_due:
        product = default_catalog().get(s.product_id)
        end = jst_date(s.term_ends_at)
        today = jst_date(now)
        due = product is not None and today < end and (end - today).days <= product.renewal.offer_days_before
        if not due and s.term_id not in await offer_repo.live_offers(uow.conn, [s.term_id]):
            return PageResult()
    return await refresh_subjects(uow, [s], now, reason=reason)


def as_uow(conn: Any) -> UnitOfWork:
    """A worker's transaction (a timer handler's connection) seen as a unit of work for the services."""
    return cast(UnitOfWork, _ConnUnit(conn))


class _ConnUnit:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.dry_run = False



# --- renewContract's pricing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenewalPricing:
    """What renewContract binds: the next quote, its premium and grade, and the offer it accepts."""

    computed: Computed
    offer_id: int | None          # the live offer this renewal accepts (same inputs), if any
    stale_offer_id: int | None    # a live offer whose inputs changed (superseded by this renewal)

    @property
    def offer(self) -> RenewalOffer:
        assert self.computed.offer is not None
        return self.computed.offer


async def price_renewal(uow: UnitOfWork, *, contract_id: int, term_id: int, term_start: date, term_end: date,
                        version_id: int, product: Product, current: QuoteInput, licence: LicenceColour | None,
                        accidents: Sequence[Any] | None, offer_id: int | None) -> RenewalPricing:
    """Price the renewal of a term exactly as `renewal_offer` does for its offer.

    `accidents` (grade classes given in the request) stand in for the term's claims when given;
    otherwise the claims come from claims.handling.term_claims. With `offer_id` the renewal must match that
    offer (OFFER_NOT_FOUND when it is not this term's live offer, OFFER_OUTDATED when its inputs
    changed since it was computed); without it, the term's live offer is accepted when its inputs
    are unchanged.
    """
    if accidents:
        claims = [TermClaim(f"input:{i}", a) for i, a in enumerate(accidents)]
    else:
        claims = await term_claims(uow, contract_id, term_id)
    input_hash = await uow.conn.fetchval("SELECT rating_input_md5 FROM contract_versions WHERE id = $1",
                                         version_id)
    fp = fingerprint(product, input_hash=input_hash, term_start=term_start, term_end=term_end, claims=claims,
                     licence=licence)
    live = (await offer_repo.live_offers(uow.conn, [term_id])).get(term_id)
    if offer_id is not None:
        chosen = await offer_repo.offer_by_id(uow.conn, offer_id)
        if chosen is None or chosen.contract_id != contract_id:
            raise not_found("renewalOffer", "input.offerId", offer_id)
        if chosen.term_id != term_id or chosen.state != offer_repo.OfferState.OFFERED:
            raise refuse("OFFER_OUTDATED", "input.offerId",
                         f"offer {offer_id} is {chosen.state.lower()} or for another term")
        if chosen.fingerprint != fp:
            raise refuse("OFFER_OUTDATED", "input.offerId",
                         f"what offer {offer_id} was computed from has changed since {chosen.computed_at:%Y-%m-%d}: "
                         "renew without offerId (priced afresh) or wait for the new offer")
    try:
        got = compute(product, current, claims=claims, licence=licence,
                      fleet=await next_fleet(uow.conn, current, term_end))
    except RatingError as e:
        raise refuse(e.code, f"input.{e.field}" if e.field else "input.contractId", e.message) from None
    except RuleError as e:
        raise refuse(e.code, "input.contractId", e.message) from None
    matching = live if live is not None and live.fingerprint == fp and live.state == offer_repo.OfferState.OFFERED \
        else None
    if matching is not None and matching.premium_yen != got.premium_yen:
        # Same inputs, another price: the computation changed without OFFER_CODE_VERSION moving.
        raise refuse("OFFER_OUTDATED", "input.offerId", "the offer was computed by another version of the rules")
    stale = live.id if live is not None and matching is None and live.state == offer_repo.OfferState.OFFERED \
        else None
    return RenewalPricing(got, matching.id if matching else None, stale)


async def settle_offers(uow: UnitOfWork, pricing: RenewalPricing, now: datetime) -> None:
    """After the renewal is bound: the accepted offer becomes ACCEPTED, a stale one SUPERSEDED."""
    if pricing.offer_id is not None:
        await offer_repo.accept(uow.conn, pricing.offer_id, now)
    if pricing.stale_offer_id is not None:
        await offer_repo.supersede(uow.conn, [pricing.stale_offer_id], now)


async def offers_of(pool: Any, contract_ids: Sequence[int]) -> dict[int, offer_repo.StoredOffer]:
    """The live offers of contracts the caller already may see (the API's DataLoader)."""
    return await offer_repo.current_offers(pool, contract_ids)
