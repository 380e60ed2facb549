"""Rating throughput in the pure domain, with explanation (ENGINEERING P4: ≥ 5,000 quotes/s, one core).

Run: .venv/bin/python bench/rating.py [--runs 7] [--quotes 20000]

Builds a deterministic mix of valid quotes over the four products (varied vehicles, ages,
grades, discounts, riders, payment methods), then rates them in a loop pinned to one CPU and
prints the median of several runs per product and for the mix, with the ratio to the target:
`rate` (the plan compiled per product and tariff) beside `rate_reference` (the rules step by
step; tests/unit/test_rating_plan.py holds both equal), runs alternating so load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

from domain.calendar import YearMonth
from domain.grade import GradeMarker, GradeRecord
from domain.products.loader import default_catalog
from domain.products.model import PASSENGER_SIZE, MemberRank, Product
from domain.rating import (
    CoverageChoice,
    DiscountFacts,
    NamedInsured,
    Premium,
    QuoteInput,
    RatingError,
    VehicleFacts,
    rate,
    rate_reference,
)
from domain.vocab import Fuel, LicenceColour

TARGET = 5000.0


def _quote(p: Product, rnd: random.Random) -> QuoteInput:
    t = rnd.choice(p.tariffs)
    lo = max(t.effective_from, p.valid_from or t.effective_from)
    hi = t.effective_to or date(2027, 12, 31)
    start = lo + timedelta(days=rnd.randint(0, (hi - lo).days))
    use_type = rnd.choice(sorted(p.use_types))
    channel = rnd.choice(sorted(p.channels))
    payment = rnd.choice(sorted(p.payment.methods))
    for rule in p.channel_rules:
        if rule.channel is channel:
            if use_type in rule.excluded_use_types:
                use_type = min(p.use_types - rule.excluded_use_types)
            if rule.payment_methods:
                payment = min(rule.payment_methods)
    size = PASSENGER_SIZE.get(use_type)
    classes = {}
    if size in p.rating_class_ranges:
        top = p.rating_class_ranges[size][1]  # type: ignore[index]
        classes = {g: rnd.randint(1, top) for g in ("BI", "PD", "INJURY", "VEHICLE")}
    first = YearMonth.of(start).plus_months(-rnd.randint(0, 80))
    grade = None
    if p.graded:
        g = rnd.randint(1, 20)
        grade = GradeRecord(g, GradeMarker.F if g in (6, 7) else GradeMarker.NONE, rnd.choice([0, 0, 0, 1, 3]))
    codes = [c.code for c in p.coverages if c.mandatory or rnd.random() < 0.7]
    if p.require_one_of and not any(c in codes for c in p.require_one_of):
        codes.append(p.require_one_of[0])
    return QuoteInput(
        product_id=p.id, start_date=start,
        vehicle=VehicleFacts(use_type, first_registration=first, model_release=first.plus_months(-3),
                             rating_classes=classes, aeb=rnd.random() < 0.5, fuel=rnd.choice(list(Fuel)),
                             welfare=rnd.random() < 0.1),
        named_insured=NamedInsured(start - timedelta(days=rnd.randint(20 * 365, 80 * 365)),
                                   rnd.choice(list(LicenceColour))),
        coverages=tuple(CoverageChoice(c) for c in codes),
        channel=channel, payment_method=payment,
        age_condition=rnd.choice(sorted(p.age_conditions)),
        driver_restriction=rnd.choice(sorted(p.driver_restrictions)),
        use_purpose=rnd.choice(sorted(p.use_purposes)) if p.use_purposes else None,
        mileage_class=rnd.choice(p.mileage_classes) if p.mileage_classes else None,
        grade=grade,
        discounts=DiscountFacts(
            multi_car_count=rnd.randint(1, 7), member_rank=rnd.choice([None, *MemberRank]),
            renewal=rnd.random() < 0.5, previous_contract_end=start - timedelta(days=rnd.randint(0, 10)),
            previous_term_at_least_one_year=True, telematics_plan=rnd.random() < 0.3,
            telematics_score=rnd.choice([None, 55, 70, 90]), partner_plan=rnd.random() < 0.2,
        ),
    )


def build_mix(n_per_product: int, seed: int = 7) -> dict[str, list[tuple[Product, QuoteInput]]]:
    rnd = random.Random(seed)
    mix: dict[str, list[tuple[Product, QuoteInput]]] = {}
    for p in sorted(default_catalog(), key=lambda x: x.id):
        qs: list[tuple[Product, QuoteInput]] = []
        while len(qs) < n_per_product:
            q = _quote(p, rnd)
            try:
                rate(p, q)
            except RatingError:
                continue
            qs.append((p, q))
        mix[p.id] = qs
    return mix


def _run(items: list[tuple[Product, QuoteInput]], n: int, fn: Callable[..., Premium] = rate) -> float:
    k = len(items)
    t0 = time.process_time()     # CPU time: other processes on the machine do not count
    steps = 0
    for i in range(n):
        p, q = items[i % k]
        steps += len(fn(p, q).explanation.steps)
    dt = time.process_time() - t0
    assert steps > 0
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--quotes", type=int, default=20000, help="quotes per run")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    mix = build_mix(250)
    everything = [pq for qs in mix.values() for pq in qs]
    random.Random(1).shuffle(everything)
    avg_steps = statistics.mean(len(rate(p, q).explanation.steps) for p, q in everything)
    print(f"rating benchmark — python {platform.python_version()}, {platform.machine()}, one core, "
          f"{args.runs} runs × {args.quotes} quotes, explanation included (avg {avg_steps:.1f} steps/quote)")
    print(f"{'workload':<28}{'median q/s':>12}{'min':>10}{'max':>10}{'÷ target':>10}{'reference q/s':>15}"
          f"{'plan ÷ ref':>12}")
    rows = [*mix.items(), ("mix (all four)", everything)]
    for name, items in rows:
        _run(items, 2000)   # warm-up
        _run(items, 2000, rate_reference)
        results, reference = [], []
        for _ in range(args.runs):
            results.append(_run(items, args.quotes))
            reference.append(_run(items, args.quotes, rate_reference))
        med, ref = statistics.median(results), statistics.median(reference)
        print(f"{name:<28}{med:>12,.0f}{min(results):>10,.0f}{max(results):>10,.0f}{med / TARGET:>10.2f}"
              f"{ref:>15,.0f}{med / ref:>12.2f}")
    print(f"target (ENGINEERING P4): {TARGET:,.0f} quotes/s")


if __name__ == "__main__":
    main()
