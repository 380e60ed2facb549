"""Quote builders shared by the rating, product and explanation tests (and a smoke test)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from domain.calendar import YearMonth
from domain.explanation import Step
from domain.grade import GradeMarker, GradeRecord
from domain.products.loader import default_catalog
from domain.products.model import Product
from domain.rating import (
    CoverageChoice,
    DiscountFacts,
    NamedInsured,
    Premium,
    QuoteInput,
    UsePurpose,
    VehicleFacts,
    rate,
)
from domain.vocab import AgeCondition, Channel, LicenceColour, UseType

RAKUTEN = "rakuten-drive-assist"
AIOI = "aioi-tough-biz"
TOKIO = "tokio-total-assist-group"
KYOSAI = "kyosai-accident-expense"

CLASSES = {"BI": 5, "PD": 6, "INJURY": 4, "VEHICLE": 7}


def product(pid: str) -> Product:
    p = default_catalog().get(pid)
    assert p is not None
    return p


def base_quote(pid: str, **changes: Any) -> QuoteInput:
    """A plain quote with no discount applying, so each test switches one on."""
    start = date(2026, 5, 1)
    vehicle = VehicleFacts(
        UseType.PRIVATE_STANDARD_PASSENGER,
        first_registration=YearMonth(2015, 1),     # far outside new-car / ECO windows
        model_release=YearMonth(2014, 6),
        rating_classes=dict(CLASSES),
    )
    ni = NamedInsured(date(1980, 3, 3), LicenceColour.BLUE)
    common: dict[str, Any] = {"product_id": pid, "start_date": start, "vehicle": vehicle, "named_insured": ni}
    if pid == RAKUTEN:
        q = QuoteInput(
            **common,
            coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PIP"), CoverageChoice("VEHICLE")),
            channel=Channel.AGENT, age_condition=AgeCondition.AGE_26, use_purpose=UsePurpose.DAILY_LEISURE,
            mileage_class=5, grade=GradeRecord(10, GradeMarker.NONE, 0),
        )
    elif pid == AIOI:
        q = QuoteInput(
            **common,
            coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PI"), CoverageChoice("VEHICLE")),
            channel=Channel.AGENT, age_condition=AgeCondition.AGE_26, grade=GradeRecord(10, GradeMarker.NONE, 0),
        )
    elif pid == TOKIO:
        # before the group-discount period (2026-04-01..), so no discount applies
        q = QuoteInput(
            **{**common, "start_date": date(2026, 2, 1)},
            coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PI"), CoverageChoice("VEHICLE")),
            channel=Channel.GROUP, age_condition=AgeCondition.AGE_26, use_purpose=UsePurpose.DAILY_LEISURE,
            grade=GradeRecord(10, GradeMarker.NONE, 0),
        )
    else:
        q = QuoteInput(**common, coverages=(CoverageChoice("ACCIDENT_EXPENSE"),))
    return replace(q, **changes)


def with_vehicle(q: QuoteInput, **changes: Any) -> QuoteInput:
    return replace(q, vehicle=replace(q.vehicle, **changes))


def with_facts(q: QuoteInput, **changes: Any) -> QuoteInput:
    return replace(q, discounts=replace(q.discounts or DiscountFacts(), **changes))


def quote(q: QuoteInput) -> Premium:
    return rate(product(q.product_id), q)


def step(p: Premium, line: str, factor: str) -> Step | None:
    for s in p.explanation.steps:
        if s.line == line and s.factor == factor:
            return s
    return None


def discount_rate(p: Premium, line: str, code: str) -> Decimal | None:
    """The discount percentage applied to `line` (0.09 for a 9% discount), None if not applied."""
    s = step(p, line, code)
    return None if s is None or s.rate is None else Decimal(1) - s.rate


def test_every_product_quotes_its_base_quote() -> None:
    for pid in (RAKUTEN, AIOI, TOKIO, KYOSAI):
        p = quote(base_quote(pid))
        assert p.total > 0
        assert p.explanation.total() == p.total
        assert p.discounts == ()
