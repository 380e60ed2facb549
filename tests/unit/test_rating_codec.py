"""Stored rating inputs round-trip exactly, so re-rating a stored version gives the same premium."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from domain.products.model import Product
from domain.rating import QuoteInput, RatingError, rate
from domain.rating_codec import premium_to_json, quote_from_json, quote_to_json
from tests.unit.test_rating_properties import quotes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(quotes())
def test_quote_input_round_trips_through_json(pq: tuple[Product, QuoteInput]) -> None:
    product, q = pq
    stored = json.loads(json.dumps(quote_to_json(q)))  # what jsonb gives back
    assert quote_from_json(stored) == q
    try:
        p = rate(product, q)
    except RatingError:
        return
    again = rate(product, quote_from_json(stored))
    assert premium_to_json(again) == premium_to_json(p)
    assert premium_to_json(p)["totalYen"] == sum(line["amountYen"] for line in premium_to_json(p)["lines"])
