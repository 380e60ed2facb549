"""The one pay-out engine: what a rider (or a coverage with a pay-out rule) pays for a stated loss.

Pure. The rule is data from the product file (`domain/products/payout.py`, docs/rider_rules.md);
nothing here knows a rider by its code. The facts describe the whole loss of one scope on one
claim — one person (per-person rules), one vehicle, or the accident — so the engine computes the
*entitlement* for that loss, caps it, and takes off what the same claim line already paid for the
same scope: the rest is what to pay now. Per-year caps also take off what other claims of the
policy year paid on the line.

Every step is kept, like a premium explanation (domain/explanation.py): which condition held or
failed, each part's formula, the deductible, each cap with the amount before and after it, and the
pamphlet line that says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from domain.calendar import RuleError, add_months
from domain.products.model import Product
from domain.products.payout import (
    FACT_TYPES,
    BrokenPart,
    Cap,
    CapBasis,
    Condition,
    CondOp,
    Fact,
    FactType,
    InjuryClass,
    LossCause,
    Outcome,
    Part,
    PartKind,
    PayoutRule,
    Pick,
)
from domain.vocab import Labelled


@dataclass(frozen=True, slots=True)
class LossFacts:
    """The stated loss. Field names are the `Fact` values; None: not stated (a condition on it fails)."""

    loss_yen: int = 0
    consultation_yen: int = 0
    market_value_yen: int = 0
    paid_by_others_yen: int = 0
    own_cost_yen: int = 0
    damage_to_others_yen: int = 0
    fault_percent: int | None = None
    days: int = 0
    dependants: int = 0
    disability_grade: int = 0
    outcome: Outcome | None = None
    injury_class: InjuryClass | None = None
    cause: LossCause | None = None
    total_loss: bool | None = None
    towed: bool | None = None
    at_fault: bool | None = None
    liable: bool | None = None
    no_fault: bool | None = None
    other_party_identified: bool | None = None
    confirmed_objectively: bool | None = None
    abroad: bool | None = None
    borrowed_car_eligible: bool | None = None
    repaired_on: date | None = None
    distance_km: int | None = None
    outpatient_only: bool | None = None
    major_damage: bool | None = None
    replaced: bool | None = None
    new_car_value_yen: int = 0
    extra_yen: int = 0
    months: int = 0
    criminal_yen: int = 0
    broken_part: BrokenPart | None = None
    equipment_yen: int = 0

    def __post_init__(self) -> None:
        for f in Fact:
            v = getattr(self, f.value)
            t = FACT_TYPES[f]
            if t in (FactType.YEN, FactType.COUNT, FactType.DAYS) and v is not None and v < 0:
                raise RuleError("NEGATIVE_AMOUNT", _camel(f.value), f"{f.value} cannot be negative")
        if self.fault_percent is not None and not 0 <= self.fault_percent <= 100:
            raise RuleError("INVALID_FAULT_RATIO", "faultPercent", "fault ratio is 0..100 %")
        if not 0 <= self.disability_grade <= 14:
            raise RuleError("INVALID_AFTER_EFFECTS_GRADE", "disabilityGrade", "after-effects grade is 1..14 (0: none)")

    def value(self, f: Fact) -> bool | int | str | date | None:
        v = getattr(self, f.value)
        return v.value if isinstance(v, Labelled) else v


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


@dataclass(frozen=True, slots=True)
class PayoutContext:
    """What the contract and the claim say, beside the stated loss."""

    accident_date: date
    held: frozenset[str]                  # coverage and rider codes of the version in force
    paying: frozenset[str]                # codes that may pay this accident (the coverage decision)
    sum_insured: int | None = None        # the line's sum insured; None with unlimited=True: 無制限
    unlimited: bool = False
    line_deductible: int = 0              # the line option's deductible (免責金額)
    paid_on_claim: int = 0                # this claim line, same scope (person / vehicle / accident)
    paid_in_year_elsewhere: int = 0       # other claims of the policy year, this line
    times_paid_in_year_elsewhere: int = 0  # other claims of the policy year that paid this line
    rules: Mapping[str, PayoutRule] = field(default_factory=dict)   # the product's rules, for SAME_AS


class StepKind(Labelled):
    CONDITION = ("CONDITION", "支払条件", "Condition")
    NOT_APPLICABLE = ("NOT_APPLICABLE", "対象外", "Does not apply")
    AMOUNT = ("AMOUNT", "算出額", "Amount")
    DEDUCTIBLE = ("DEDUCTIBLE", "免責金額", "Deductible")
    CAP = ("CAP", "支払限度額", "Cap")
    ALREADY_PAID = ("ALREADY_PAID", "既払額", "Already paid")
    TOTAL = ("TOTAL", "お支払額", "Payable now")


@dataclass(frozen=True, slots=True)
class PayoutStep:
    part: str            # the part's code; "" for the rule as a whole
    kind: StepKind
    en: str
    rule: str            # pamphlet line
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class PartAmount:
    code: str
    ja: str
    en: str
    amount: int


@dataclass(frozen=True, slots=True)
class Assessment:
    line: str
    entitlement: int     # for the whole stated loss, after every cap
    already_paid: int    # by this claim line for the same scope
    payable: int         # entitlement − already paid (not below 0)
    parts: tuple[PartAmount, ...]
    steps: tuple[PayoutStep, ...]
    source: str
    demonstration: str = ""

    def text(self) -> str:
        return "; ".join(f"{s.en} [{s.rule}]" for s in self.steps)


# ------------------------------------------------------------------------------ conditions


def _describe(c: Condition) -> str:
    if c.op is CondOp.HELD:
        return f"the contract carries {c.value}"
    if c.op is CondOp.NOT_HELD:
        return f"the contract does not carry {c.value}"
    if c.op is CondOp.PAYING:
        return f"{c.value} pays this accident"
    assert c.fact is not None
    name = c.fact.value
    if c.op is CondOp.IS:
        return f"{name} is {str(c.value).lower() if isinstance(c.value, bool) else c.value}"
    if c.op in (CondOp.ONE_OF, CondOp.NOT_ONE_OF):
        vals = ", ".join(c.value) if isinstance(c.value, tuple) else str(c.value)
        return f"{name} {'is one of' if c.op is CondOp.ONE_OF else 'is none of'} {vals}"
    if c.op is CondOp.WITHIN_MONTHS_AFTER_ACCIDENT:
        return f"{name} within {c.value} months from the day after the accident"
    if c.op is CondOp.WITHIN_DAYS_AFTER_ACCIDENT:
        return f"{name} within {c.value} days from the day after the accident"
    sym = {CondOp.AT_LEAST: "≥", CondOp.BELOW: "<", CondOp.AT_MOST: "≤"}[c.op]
    return f"{name} {sym} {c.value:,}" if isinstance(c.value, int) else f"{name} {sym} {c.value}"


def months_after_accident_deadline(accident: date, months: int) -> date:
    """Last day of `months` months counted from the day after the accident (001 L272, L480)."""
    return add_months(accident + timedelta(days=1), months) - timedelta(days=1)


def _holds(c: Condition, facts: LossFacts, ctx: PayoutContext) -> tuple[bool, str]:
    text = _describe(c)
    if c.op is CondOp.HELD:
        return c.value in ctx.held, text
    if c.op is CondOp.NOT_HELD:
        return c.value not in ctx.held, text
    if c.op is CondOp.PAYING:
        return c.value in ctx.paying, text
    assert c.fact is not None
    v = facts.value(c.fact)
    if v is None and c.op is CondOp.NOT_ONE_OF:
        return True, f"{text} ({c.fact.value} not stated)"   # not stated is none of them
    if v is None:
        return False, f"{text} ({c.fact.value} not stated)"
    if isinstance(v, bool):
        shown = f"{text} ({c.fact.value} {str(v).lower()})"
    elif isinstance(v, int):
        shown = f"{text} ({c.fact.value} {v:,})"
    else:
        shown = f"{text} ({c.fact.value} {v})"
    if c.op is CondOp.IS:
        return v == c.value, shown
    if c.op is CondOp.ONE_OF:
        return isinstance(c.value, tuple) and v in c.value, shown
    if c.op is CondOp.NOT_ONE_OF:
        return isinstance(c.value, tuple) and v not in c.value, shown
    if c.op is CondOp.WITHIN_MONTHS_AFTER_ACCIDENT:
        assert isinstance(v, date) and isinstance(c.value, int)
        last = months_after_accident_deadline(ctx.accident_date, c.value)
        return v <= last, f"{text} ({c.fact.value} {v}, last day {last})"
    if c.op is CondOp.WITHIN_DAYS_AFTER_ACCIDENT:
        assert isinstance(v, date) and isinstance(c.value, int)
        last = ctx.accident_date + timedelta(days=c.value)     # day 1 is the day after the accident
        return v <= last, f"{text} ({c.fact.value} {v}, last day {last})"
    assert isinstance(v, int) and isinstance(c.value, int)
    if c.op is CondOp.AT_LEAST:
        return v >= c.value, shown
    if c.op is CondOp.BELOW:
        return v < c.value, shown
    return v <= c.value, shown


def _all_hold(conds: tuple[Condition, ...], facts: LossFacts, ctx: PayoutContext) -> tuple[bool, list[str], str]:
    """(all hold, the texts of those that held, the first that failed)."""
    held: list[str] = []
    for c in conds:
        ok, text = _holds(c, facts, ctx)
        if not ok:
            return False, held, text
        held.append(text)
    return True, held, ""


# ------------------------------------------------------------------------------ parts


def _yen(facts: LossFacts, f: Fact | None) -> int:
    if f is None:
        return 0
    v = facts.value(f)
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _part_amount(p: Part, facts: LossFacts, ctx: PayoutContext, depth: int,
                 steps: list[PayoutStep]) -> tuple[int, str]:
    """The part's amount before its deductible and caps, and its formula in words."""
    if p.kind is PartKind.FIXED:
        assert p.amount is not None
        if p.count is None:
            return p.amount, f"fixed ¥{p.amount:,}"
        n = _yen(facts, p.count) + p.count_offset
        who = f"({p.count_offset} + {p.count.value} {_yen(facts, p.count)})" if p.count_offset else \
            f"{p.count.value} {n}"
        return p.amount * n, f"¥{p.amount:,} × {who} = ¥{p.amount * n:,}"
    if p.kind is PartKind.PER_DAY:
        assert p.amount is not None and p.max_days is not None
        days = min(facts.days, p.max_days)
        capped_days = f" (at most {p.max_days})" if facts.days > p.max_days else ""
        by_day = p.amount * days
        text = f"¥{p.amount:,} a day × {days} day(s){capped_days} = ¥{by_day:,}"
        if p.base is not None:
            cost = _yen(facts, p.base)
            if cost < by_day:
                return cost, f"{text}; the cost ¥{cost:,} is lower"
            return by_day, f"{text} (cost ¥{cost:,})"
        return by_day, text
    if p.kind is PartKind.PERCENT_OF_SUM_INSURED:
        assert p.percent is not None
        if ctx.sum_insured is None:
            raise RuleError("SUM_INSURED_REQUIRED", "sumInsured",
                            f"{p.code} pays a percent of the sum insured, which the line does not have")
        amount = int((Decimal(ctx.sum_insured) * p.percent).to_integral_value(ROUND_DOWN))
        return amount, f"{_pct(p.percent)}% of the sum insured ¥{ctx.sum_insured:,} = ¥{amount:,}"
    if p.kind is PartKind.COST:
        base = _yen(facts, p.base)
        assert p.base is not None
        text = f"{p.base.value} ¥{base:,}"
        amount = base
        if p.less is not None:
            less = _yen(facts, p.less)
            amount = max(0, base - less)
            text = f"({text} − {p.less.value} ¥{less:,})"
        if p.share is not None:
            share = facts.value(p.share)
            if not isinstance(share, int) or isinstance(share, bool):
                raise RuleError("FACT_REQUIRED", _camel(p.share.value), f"{p.code} needs {p.share.value}")
            raw = amount
            amount = int((Decimal(raw) * share / 100).to_integral_value(ROUND_DOWN))
            text = f"{text} × {share}%"
        if p.percent is not None:
            amount = int((Decimal(amount) * p.percent).to_integral_value(ROUND_DOWN))
            text = f"{text} × {_pct(p.percent)}%"
        return amount, f"{text} = ¥{amount:,}"
    assert p.kind is PartKind.SAME_AS and p.same_as is not None
    other = ctx.rules.get(p.same_as)
    if other is None or depth > 3:
        raise RuleError("UNKNOWN_RULE", "rider", f"{p.code}: no pay-out rule for {p.same_as}")
    amount, _, inner = _entitlement(p.same_as, other, facts, ctx, depth + 1)
    steps.extend(PayoutStep(f"{p.same_as}.{s.part}" if s.part else p.same_as, s.kind, s.en, s.rule, s.before, s.after)
                 for s in inner)
    return amount, f"the amount {p.same_as} pays for the same loss: ¥{amount:,}"


def _pct(d: Decimal) -> str:
    return f"{(d * 100).normalize():f}"


def _cap_amount(cap: Cap, ctx: PayoutContext, facts: LossFacts) -> tuple[int | None, str]:
    if cap.amount is not None:
        return cap.amount, f"¥{cap.amount:,} {cap.basis.en.lower()}"
    if cap.per_day is not None:
        amount = cap.per_day * facts.days + cap.plus
        plus = f" + ¥{cap.plus:,}" if cap.plus else ""
        return amount, f"¥{cap.per_day:,} × {facts.days} day(s){plus} = ¥{amount:,} {cap.basis.en.lower()}"
    if cap.of_fact is not None:
        base = _yen(facts, cap.of_fact)
        amount = int((Decimal(base) * cap.fact_times).to_integral_value(ROUND_DOWN))
        times = "" if cap.fact_times == 1 else f"{_pct(cap.fact_times)}% of "
        return amount, f"{times}{cap.of_fact.value} ¥{base:,} = ¥{amount:,} {cap.basis.en.lower()}"
    assert cap.sum_insured_times is not None
    if ctx.sum_insured is None:
        return None, "the sum insured is unlimited: no cap" if ctx.unlimited else "no sum insured: no cap"
    amount = int((Decimal(ctx.sum_insured) * cap.sum_insured_times).to_integral_value(ROUND_DOWN)) + cap.plus
    times = "" if cap.sum_insured_times == 1 else f"{cap.sum_insured_times.normalize():f} × "
    plus = f" + ¥{cap.plus:,}" if cap.plus else ""
    return amount, f"{times}the sum insured ¥{ctx.sum_insured:,}{plus} = ¥{amount:,} {cap.basis.en.lower()}"


def _apply_caps(code: str, caps: tuple[Cap, ...], amount: int, facts: LossFacts, ctx: PayoutContext,
                steps: list[PayoutStep]) -> int:
    for cap in caps:
        ok, held, _ = _all_hold(cap.when, facts, ctx)
        if not ok:
            continue
        limit, text = _cap_amount(cap, ctx, facts)
        why = f" when {', '.join(held)}" if held else ""
        label = f"{cap.label}: " if cap.label else ""
        if limit is None:
            steps.append(PayoutStep(code, StepKind.CAP, f"{label}{text}{why}", cap.source, amount, amount))
            continue
        if cap.basis is CapBasis.PER_YEAR and ctx.paid_in_year_elsewhere:
            room = max(0, limit - ctx.paid_in_year_elsewhere)
            text += f", ¥{ctx.paid_in_year_elsewhere:,} paid by other claims this policy year leaves ¥{room:,}"
            limit = room
        after = min(amount, limit)
        verb = "capped at" if after < amount else "within"
        steps.append(PayoutStep(code, StepKind.CAP, f"{label}{verb} {text}{why}", cap.source, amount, after))
        amount = after
    return amount


def _part_value(p: Part, facts: LossFacts, ctx: PayoutContext, steps: list[PayoutStep], depth: int) -> int:
    amount, formula = _part_amount(p, facts, ctx, depth, steps)
    steps.append(PayoutStep(p.code, StepKind.AMOUNT, f"{p.en}: {formula}", p.source, 0, amount))
    ded = p.deductible + (ctx.line_deductible if p.deductible_from_line else 0)
    if ded:
        waived = ""
        for group in p.waive_deductible_when:
            ok, held, _ = _all_hold(group, facts, ctx)
            if ok:
                waived = ", ".join(held)
                break
        if waived:
            steps.append(PayoutStep(p.code, StepKind.DEDUCTIBLE, f"no deductible: {waived}", p.source, amount, amount))
        else:
            after = max(0, amount - ded)
            steps.append(PayoutStep(p.code, StepKind.DEDUCTIBLE, f"less the deductible ¥{ded:,}", p.source,
                                    amount, after))
            amount = after
    if p.minimum is not None and amount < p.minimum:
        steps.append(PayoutStep(p.code, StepKind.AMOUNT, f"at least ¥{p.minimum:,}", p.source, amount, p.minimum))
        amount = p.minimum
    return _apply_caps(p.code, p.caps, amount, facts, ctx, steps)


def _entitlement(line: str, rule: PayoutRule, facts: LossFacts, ctx: PayoutContext,
                 depth: int = 0) -> tuple[int, list[PartAmount], list[PayoutStep]]:
    steps: list[PayoutStep] = []
    ok, held, failed = _all_hold(rule.when, facts, ctx)
    for text in held:
        steps.append(PayoutStep("", StepKind.CONDITION, f"{line}: {text}", rule.source, 0, 0))
    if not ok:
        steps.append(PayoutStep("", StepKind.NOT_APPLICABLE, f"{line} does not pay: not {failed}", rule.source, 0, 0))
        return 0, [], steps
    if rule.times_per_year is not None and ctx.times_paid_in_year_elsewhere >= rule.times_per_year:
        steps.append(PayoutStep("", StepKind.NOT_APPLICABLE,
                                f"{line} pays {rule.times_per_year} time(s) a policy year: already paid by "
                                f"{ctx.times_paid_in_year_elsewhere} other claim(s)", rule.source, 0, 0))
        return 0, [], steps
    parts: list[PartAmount] = []
    for p in rule.parts:
        ok, held, failed = _all_hold(p.when, facts, ctx)
        if not ok:
            steps.append(PayoutStep(p.code, StepKind.NOT_APPLICABLE, f"{p.en}: not {failed}", p.source, 0, 0))
            continue
        value = _part_value(p, facts, ctx, steps, depth)
        parts.append(PartAmount(p.code, p.ja, p.en, value))
        if rule.pick is Pick.FIRST:
            break
    total = sum(x.amount for x in parts)
    for cap in rule.caps:
        if not cap.parts:
            total = _apply_caps("", (cap,), total, facts, ctx, steps)
            continue
        # A cap over some parts only (002 L3090-3135: items ①-⑧ together ≤ ¥2,000,000).
        sub = sum(x.amount for x in parts if x.code in cap.parts)
        capped = _apply_caps("+".join(cap.parts), (cap,), sub, facts, ctx, steps)
        total -= sub - capped
    return total, parts, steps


def assess(line: str, rule: PayoutRule, facts: LossFacts, ctx: PayoutContext) -> Assessment:
    """What `line` pays for the stated loss now. Raises RuleError for facts a part cannot do
    without (SUM_INSURED_REQUIRED, FACT_REQUIRED) and for bad facts (NEGATIVE_AMOUNT)."""
    if ctx.paid_on_claim < 0 or ctx.paid_in_year_elsewhere < 0:
        raise RuleError("NEGATIVE_AMOUNT", "paid", "amounts paid cannot be negative")
    total, parts, steps = _entitlement(line, rule, facts, ctx)
    payable = max(0, total - ctx.paid_on_claim)
    if ctx.paid_on_claim:
        steps.append(PayoutStep("", StepKind.ALREADY_PAID, f"less ¥{ctx.paid_on_claim:,} this claim already paid "
                                f"on {line} for the same loss", rule.source, total, payable))
    steps.append(PayoutStep("", StepKind.TOTAL, f"{line} pays ¥{payable:,}", rule.source, 0, payable))
    return Assessment(line, total, ctx.paid_on_claim, payable, tuple(parts), tuple(steps), rule.source,
                      rule.demonstration)


def render(a: Assessment) -> str:
    """A plain-text table a person can follow by hand (CLI, logs, payment notes)."""
    rows = [f"{a.line}  [{a.source}]" + (f"  (DEMONSTRATION: {a.demonstration})" if a.demonstration else "")]
    for s in a.steps:
        rows.append(f"{s.part or '-':<22} {s.kind.en:<16} {s.before:>12,} → {s.after:>12,}  {s.en}  [{s.rule}]")
    return "\n".join(rows)


def product_rules(product: Product) -> dict[str, PayoutRule]:
    """Every pay-out rule of a product, by line code (coverages and riders)."""
    out: dict[str, PayoutRule] = {c.code: c.payout for c in product.coverages if c.payout is not None}
    out.update({r.code: r.payout for r in product.riders if r.payout is not None})
    return out


def rule_of(product: Product, line: str) -> PayoutRule:
    """The pay-out rule of `line`, or RuleError NO_PAYOUT_RULE / UNKNOWN_COVERAGE."""
    if product.coverage(line) is None and product.rider(line) is None:
        raise RuleError("UNKNOWN_COVERAGE", "rider", f"{product.id} has no coverage or rider {line!r}")
    rule = product_rules(product).get(line)
    if rule is None:
        raise RuleError("NO_PAYOUT_RULE", "rider",
                        f"{line} pays nothing of its own (see docs/riders.md): it has no pay-out rule")
    return rule


def assessment_to_json(a: Assessment) -> dict[str, object]:
    return {
        "line": a.line, "entitlement": a.entitlement, "alreadyPaid": a.already_paid, "payable": a.payable,
        "source": a.source, "demonstration": a.demonstration,
        "parts": [{"code": p.code, "ja": p.ja, "en": p.en, "amount": p.amount} for p in a.parts],
        "steps": [{"part": s.part, "kind": s.kind.value, "en": s.en, "rule": s.rule, "before": s.before,
                   "after": s.after} for s in a.steps],
    }


def assessment_from_json(j: Mapping[str, Any]) -> Assessment:
    return Assessment(
        line=str(j["line"]), entitlement=int(j["entitlement"]), already_paid=int(j["alreadyPaid"]),
        payable=int(j["payable"]), source=str(j["source"]), demonstration=str(j.get("demonstration", "")),
        parts=tuple(PartAmount(str(p["code"]), str(p["ja"]), str(p["en"]), int(p["amount"])) for p in j["parts"]),
        steps=tuple(PayoutStep(str(s["part"]), StepKind(s["kind"]), str(s["en"]), str(s["rule"]), int(s["before"]),
                               int(s["after"])) for s in j["steps"]),
    )
