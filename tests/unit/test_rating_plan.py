"""The compiled pricing plan (`rate`) gives exactly what the reference implementation
(`rate_reference`, the rules written step by step) gives: on 10,000 seeded random quotes over all
four products — one-year and long-term, annual and monthly, fleet cars, grade-1 repeats, every
discount input — the whole premium (lines, instalments, riders, discounts) and the whole
explanation (every step's line, kind, factor, labels, value, rate, rule, before and after, down
to the Decimal's digits) are equal, and a quote one refuses the other refuses with the same code
and field. The linear `compare` is held to the former quadratic one the same way."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from bench.rating import _quote
from domain.calendar import RuleError
from domain.explanation import ZERO, DiffItem, Explanation, ExplanationDiff, LineChange, compare
from domain.fleet import FleetFacts
from domain.products.loader import default_catalog
from domain.products.model import RiderMode
from domain.rating import Premium, QuoteInput, RatingError, plan_of, rate, rate_reference
from domain.rating_codec import explanation_to_json, premium_to_json

PRODUCTS = sorted(default_catalog(), key=lambda p: p.id)
N = 10_000


def _varied(q: QuoteInput, rnd: random.Random) -> QuoteInput:
    """Beyond bench/rating.py's mix: terms, repeats, fleet rates, mid-term joins, odd facts."""
    product = default_catalog().get(q.product_id)
    assert product is not None
    changes: dict[str, object] = {}
    if rnd.random() < 0.25:
        changes["term_months"] = rnd.choice(sorted(product.term_months))
    if rnd.random() < 0.1:
        changes["grade_one_repeat"] = True
    if rnd.random() < 0.1:
        changes["fleet"] = FleetFacts(
            rnd.randint(1, 9), rnd.choice([None, -30, -10, 5, 20]), "fleet rate (test)",
            ends_on=q.start_date + timedelta(days=rnd.randint(30, 364)) if rnd.random() < 0.5 else None,
            period_zero=rnd.random() < 0.3)
    if rnd.random() < 0.4:     # riders chosen by hand: some priced by a factor of a line, some refused
        optional = [r.code for r in product.riders if r.mode is not RiderMode.AUTOMATIC]
        changes["riders"] = tuple(rnd.sample(optional, min(len(optional), rnd.randint(1, 3))))
    if rnd.random() < 0.05:
        changes["discounts"] = replace(q.discounts, multi_car_count=rnd.randint(0, 12),
                                       telematics_score=rnd.choice([None, -1, 50, 101]))
    return replace(q, **changes) if changes else q  # type: ignore[arg-type]


def _outcome(fn: object, product: object, q: QuoteInput) -> Premium | tuple[str, str]:
    try:
        return fn(product, q)  # type: ignore[operator,no-any-return]
    except RatingError as e:
        return (e.code, e.field)


def _exact(p: Premium) -> tuple[object, ...]:
    """Equality of Decimals is by value; the stored JSON also keeps their digits: compare both."""
    return (p, explanation_to_json(p.explanation), premium_to_json(p),
            [(s.rate.as_tuple() if s.rate is not None else None, s.before.as_tuple(), s.after.as_tuple())
             for s in p.explanation.steps])


def test_plan_and_reference_agree_on_10000_random_quotes() -> None:
    rnd = random.Random(16)
    priced = refused = by_factor = 0
    for i in range(N):
        product = PRODUCTS[i % len(PRODUCTS)]
        q = _varied(_quote(product, rnd), rnd)
        fast, ref = _outcome(rate, product, q), _outcome(rate_reference, product, q)
        if isinstance(ref, Premium):
            assert isinstance(fast, Premium), (i, q, fast)
            assert _exact(fast) == _exact(ref), (i, q)
            priced += 1
            tariff = product.tariff_on(q.start_date)
            by_factor += tariff is not None and any(c in tariff.rider_factors for c in fast.riders)
        else:
            assert fast == ref, (i, q)
            refused += 1
    assert priced > 0.6 * N and refused > 0       # both paths exercised on every branch kind
    assert by_factor > 0                          # riders priced from a line's premium among them


def test_the_price_alone_is_the_explained_premium_without_steps_on_10000_random_quotes() -> None:
    """`rate(explain=False)` (the nightly recalculation's path) gives every line, total, instalment,
    rider and discount `rate` gives, or the same refusal; and `renewal_price` is the premium of
    `renewal_offer`, which derives the offer's document when it is read."""
    from domain.renewal import RenewalFacts, renewal_offer, renewal_price

    rnd = random.Random(17)
    priced = renewed = 0
    for i in range(N):
        product = PRODUCTS[i % len(PRODUCTS)]
        q = _varied(_quote(product, rnd), rnd)
        full = _outcome(rate, product, q)
        alone = _outcome(lambda p, x: rate(p, x, explain=False), product, q)
        if not isinstance(full, Premium):
            assert alone == full, (i, q)
            continue
        assert isinstance(alone, Premium), (i, q, alone)
        assert replace(alone, explanation=full.explanation) == full, (i, q)
        assert alone.explanation.steps == () or q.term_months > 12, (i, q)
        priced += 1
        try:
            offer = renewal_offer(product, RenewalFacts(q))
        except (RatingError, RuleError) as e:
            try:
                renewal_price(product, RenewalFacts(q))
            except (RatingError, RuleError) as e2:
                assert (e2.code, e2.field) == (e.code, e.field), (i, q)
            else:
                # only the current term's own re-rating can refuse where the price alone does not
                assert isinstance(e, RatingError), (i, q, e)
            continue
        price = renewal_price(product, RenewalFacts(q))
        assert (price.premium_yen, price.tariff_version, price.next_start) == (
            offer.premium.total, offer.premium.tariff_version, offer.next_start), (i, q)
        renewed += 1
    assert priced > 0.6 * N and renewed > 0.5 * N


def test_a_plan_is_compiled_once_per_product_and_tariff() -> None:
    product = PRODUCTS[0]
    tariff = product.tariffs[0]
    assert plan_of(product, tariff) is plan_of(product, tariff)


# --- compare: the linear version against the former quadratic one ------------------------------------


def _compare_reference(ea: Explanation, eb: Explanation) -> ExplanationDiff:
    """explanation.compare as it was (per line, a pass over every step), kept as the reference."""
    ka = {(s.line, s.factor): s for s in ea.steps}
    kb = {(s.line, s.factor): s for s in eb.steps}
    order = list(ka)
    order.extend(k for k in kb if k not in ka)
    items = []
    for key in order:
        sa, sb = ka.get(key), kb.get(key)
        item = DiffItem(key[0], key[1], sa.value if sa else None, sb.value if sb else None,
                        sa.rate if sa else None, sb.rate if sb else None,
                        sa.delta if sa else ZERO, sb.delta if sb else ZERO)
        if item.change != 0 or item.cause:
            items.append(item)
    codes = list(ea.lines())
    codes.extend(c for c in eb.lines() if c not in codes)
    lines = tuple(LineChange(c, ea.line_total(c), eb.line_total(c)) for c in codes
                  if ea.line_total(c) != eb.line_total(c))
    return ExplanationDiff(ea.tariff_version, eb.tariff_version, ea.total(), eb.total(), tuple(items), lines)


def _digits(d: ExplanationDiff) -> list[object]:
    out: list[object] = [d.total_before.as_tuple(), d.total_after.as_tuple()]
    out += [(i.amount_before.as_tuple(), i.amount_after.as_tuple()) for i in d.items]
    out += [(ln.before.as_tuple(), ln.after.as_tuple()) for ln in d.lines]
    return out


def test_compare_is_the_former_compare_on_random_pairs() -> None:
    rnd = random.Random(61)
    premiums: dict[str, list[Premium]] = {}
    while sum(len(v) for v in premiums.values()) < 2000:
        product = rnd.choice(PRODUCTS)
        got = _outcome(rate, product, _quote(product, rnd))
        if isinstance(got, Premium):
            premiums.setdefault(product.id, []).append(got)
    pairs = 0
    for ps in premiums.values():
        for a, b in zip(ps, ps[1:] + ps[:1], strict=True):
            new, old = compare(a.explanation, b.explanation), _compare_reference(a.explanation, b.explanation)
            assert new == old and _digits(new) == _digits(old)
            assert new.change == b.total - a.total == sum((i.change for i in new.items), Decimal(0))
            pairs += 1
    assert pairs >= 2000


def test_stored_offer_text_is_what_the_standard_json_writes() -> None:
    """Offer documents are written by orjson: byte for byte the stdlib's compact UTF-8 form."""
    import json

    import orjson

    from domain.renewal import RenewalFacts, renewal_offer
    from domain.services.renewals.offers import offer_doc

    rnd = random.Random(5)
    seen = 0
    while seen < 300:
        product = rnd.choice(PRODUCTS)
        try:
            o = renewal_offer(product, RenewalFacts(_quote(product, rnd)))
        except (RatingError, RuleError):     # a next term that is not rateable
            continue
        doc = offer_doc(o)
        assert orjson.dumps(doc).decode() == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        seen += 1
