"""JSON forms of what a premium was rated from and what it came to (stored on contract versions).

`quote_to_json`/`quote_from_json` round-trip a `QuoteInput` exactly, so an endorsement or a
renewal re-rates from what was sold, not from a reconstruction. `premium_to_json` is the stored
and served shape of a `Premium`: its keys are the GraphQL field names of `Premium`, so the API can
pass the stored JSON through without rebuilding objects (see api/compiled.py).

Decimals (rates, exact step amounts) are strings: JSON numbers would lose digits.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.explanation import Explanation
from domain.jsoncodec import from_json, to_json
from domain.rating import Premium, QuoteInput

Json = Any


def quote_to_json(q: QuoteInput) -> Json:
    return to_json(q)


def quote_from_json(data: Json) -> QuoteInput:
    """Raises KeyError/ValueError on a document that is not a stored QuoteInput."""
    q = from_json(QuoteInput, data)
    assert isinstance(q, QuoteInput)
    return q


def plain_decimal(d: Decimal) -> str:
    """A decimal as people write it: no exponent, no trailing zeros ("0", "-5248.88", "1.05"),
    exact (`Decimal(plain_decimal(d)) == d`); `str` would give "0E-8" or "-5248.8800000000"."""
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def explanation_to_json(e: Explanation) -> Json:
    return {
        "productId": e.product_id,
        "tariffVersion": e.tariff_version,
        "demonstration": e.demonstration,
        "totalYen": plain_decimal(e.total()),
        "steps": [
            {
                "line": s.line,
                "kind": s.kind.value,
                "factor": s.factor,
                "ja": s.ja,
                "en": s.en,
                "value": s.value,
                "rate": None if s.rate is None else plain_decimal(s.rate),
                "rule": s.rule,
                "before": plain_decimal(s.before),
                "after": plain_decimal(s.after),
                "delta": plain_decimal(s.delta),
            }
            for s in e.steps
        ],
    }


def premium_to_json(p: Premium) -> Json:
    """The stored `Premium` of a version; keys are the GraphQL `Premium` field names."""
    return {
        "totalYen": p.total,
        "tariffVersion": p.tariff_version,
        "demonstration": p.demonstration,
        "startDate": p.start_date.isoformat(),
        "termMonths": p.term_months,
        "paymentMethod": p.payment_method.value,
        "instalmentsYen": list(p.instalments),
        "riders": list(p.riders),
        "discounts": list(p.discounts),
        "lines": [
            {"code": ln.code, "rider": ln.rider, "ja": ln.ja, "en": ln.en, "amountYen": ln.amount}
            for ln in p.lines
        ],
    }


def coverages_to_json(q: QuoteInput, p: Premium) -> Json:
    """The coverages column: what was chosen (code, option) with the priced amount of each line."""
    amounts = {ln.code: ln.amount for ln in p.lines}
    return [{"code": c.code, "option": c.option, "amountYen": amounts.get(c.code, 0)} for c in q.coverages]
