"""The renewal offer of a contract (`Contract.renewalOffer`): the stored price, and the document
derived from what it was computed from (domain/services/renewals/offers.offer_document). General path only: api/compiled.py has no table for
it, so a query selecting it is answered by the resolvers (the compiler raises Unsupported)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from api.node import to_global_id
from api.products.pricing import Grade, Premium
from api.products.types import Label
from domain.discount_rules import AgeBand
from domain.grade import GradeMarker, GradeRecord
from domain.rating_codec import explanation_to_json
from domain.services.renewals.offers import offer_document, offer_explanation
from domain.store.offer_repo import StoredOffer


@strawberry.type(description="How one premium line moves from the current term to the offered one (exact yen, as strings).")
class OfferDiffLine:
    line: str
    before: str
    after: str
    change: str


@strawberry.type(description="A step whose rate or fact changed: why the offered premium differs.")
class OfferDiffCause:
    line: str
    factor: str
    value_before: str | None
    value_after: str | None
    rate_before: str | None
    rate_after: str | None
    change: str


def offer_db_id(gid: str) -> int | None:
    """The database id of a RenewalOffer id (not a Relay node: it is reached through its contract)."""
    import base64
    import binascii

    try:
        raw = base64.b64decode(gid.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, num = raw.partition(":")
    return int(num) if type_name == "RenewalOffer" and num.isdigit() and len(num) <= 18 else None


def _band(code: str | None) -> Label | None:
    return None if code is None else Label.of(AgeBand(code))


@strawberry.type(description="The next term as offered ≈ 60 days before expiry (SPEC §4.4), recomputed when its inputs change.")
class RenewalOffer:
    model: strawberry.Private[StoredOffer]

    @property
    def _doc(self) -> dict[str, Any]:
        return offer_document(self.model)   # derived once per offer (cached), read only

    @strawberry.field(description="Pass as renewContract's offerId to renew exactly as offered.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(to_global_id("RenewalOffer", self.model.id))

    @strawberry.field
    def database_id(self) -> int:
        return self.model.id

    @strawberry.field(description="OFFERED, ACCEPTED or SUPERSEDED.")
    def state(self) -> str:
        return self.model.state

    @strawberry.field
    def next_start(self) -> dt.date:
        return self.model.next_start

    @strawberry.field
    def next_end(self) -> dt.date:
        return dt.date.fromisoformat(self._doc["nextEnd"])

    @strawberry.field(description="When the offer is due (offer_days_before the expiry).")
    def offer_on(self) -> dt.date:
        return dt.date.fromisoformat(self._doc["offerOn"])

    @strawberry.field
    def premium_yen(self) -> int:
        return self.model.premium_yen

    @strawberry.field(description="The current term's premium as sold (its contract version's).")
    def current_premium_yen(self) -> int:
        return self.model.current_premium_yen

    @strawberry.field
    def change_yen(self) -> int:
        return self.model.premium_yen - self.model.current_premium_yen

    @strawberry.field(description="The tariff version in force on the next start date.")
    def tariff_version(self) -> str:
        return str(self._doc["tariffVersion"])

    @strawberry.field
    def current_tariff_version(self) -> str:
        return str(self._doc["currentTariffVersion"])

    @strawberry.field(description="Grade and accident-coefficient period of the next term (null: ungraded product).")
    def grade(self) -> Grade | None:
        g = self._doc.get("grade")
        return None if g is None else Grade(model=GradeRecord(g["grade"], GradeMarker(g["marker"]), g["period"]))

    @strawberry.field(description="Named-insured age band at the current start.")
    def age_band_before(self) -> Label | None:
        return _band(self._doc.get("ageBandBefore"))

    @strawberry.field(description="Named-insured age band at the next start.")
    def age_band_after(self) -> Label | None:
        return _band(self._doc.get("ageBandAfter"))

    @strawberry.field(description="Time-window discounts (new car, ASV, ECO, group...) that ran out.")
    def expired_discounts(self) -> list[str]:
        return list(self._doc["expiredDiscounts"])

    @strawberry.field
    def lost_discounts(self) -> list[str]:
        return list(self._doc["lostDiscounts"])

    @strawberry.field
    def gained_discounts(self) -> list[str]:
        return list(self._doc["gainedDiscounts"])

    @strawberry.field(description="Claims of the term that count for the grade.")
    def counted_claims(self) -> list[str]:
        return list(self._doc["countedClaims"])

    @strawberry.field(description="Withdrawn or not-yet-classified claims (not counted).")
    def ignored_claims(self) -> list[str]:
        return list(self._doc["ignoredClaims"])

    @strawberry.field(description="Renews on the same terms unless declined (tokio 004 L1449).")
    def auto_renew(self) -> bool:
        return bool(self._doc["autoRenew"])

    @strawberry.field(description="Per-line premium change, current term → offer.")
    def diff_lines(self) -> list[OfferDiffLine]:
        return [OfferDiffLine(line=x["line"], before=x["before"], after=x["after"], change=x["change"])
                for x in self._doc["diff"]["lines"]]

    @strawberry.field(description="The steps whose rate or fact changed.")
    def diff_causes(self) -> list[OfferDiffCause]:
        return [OfferDiffCause(line=x["line"], factor=x["factor"], value_before=x["valueBefore"],
                               value_after=x["valueAfter"], rate_before=x["rateBefore"], rate_after=x["rateAfter"],
                               change=x["change"]) for x in self._doc["diff"]["causes"]]

    @strawberry.field(description="Why the offer is what it is, in order (grade steps, discounts, tariff, age band).")
    def explanation(self) -> list[str]:
        return list(self._doc["notes"])

    @strawberry.field(description="The offered premium with its lines and its explanation.")
    def premium(self) -> Premium | None:
        doc = self._doc
        if doc["premium"] is None:     # priced under rules since changed: no breakdown to show
            return None
        explained = doc.get("premiumExplanation")    # derived documents carry it; older stored ones do not
        if explained is None and (e := offer_explanation(doc)) is not None:
            explained = explanation_to_json(e)
        return Premium.from_json(doc["premium"], explained)

    @strawberry.field
    def computed_at(self) -> dt.datetime:
        return self.model.computed_at

    @strawberry.field(description="What triggered the computation (recalc, a claim, a change...).")
    def reason(self) -> str:
        return self.model.reason
