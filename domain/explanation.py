"""Premium explanations: the ordered steps that turn base premiums into the premium, and diffs.

Every premium line starts with a BASE step (before 0) and each later step multiplies the
running amount; amounts are exact Decimals, so the deltas of all steps add up to the premium
to the yen, and a person can re-add them by hand. The same structure backs quotes,
endorsement deltas and renewal offers; `compare` says what changed between two of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Protocol

from domain.frozen import slot_setters
from domain.vocab import Labelled

ZERO = Decimal(0)
# Step amounts are exact products of many factors (up to ~40 digits); adding and subtracting
# them must not round, whatever the caller's decimal context is.
_CTX = Context(prec=100)
_sub = _CTX.subtract


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for v in values:
        total = _CTX.add(total, v)
    return total


class StepKind(Labelled):
    BASE = ("BASE", "基本保険料", "Base premium")
    FACTOR = ("FACTOR", "料率係数", "Rating factor")
    DISCOUNT = ("DISCOUNT", "割引", "Discount")
    SURCHARGE = ("SURCHARGE", "割増", "Surcharge")
    TERM = ("TERM", "保険期間・払込回数", "Term / number of instalments")
    ROUNDING = ("ROUNDING", "端数処理(10円未満切捨)", "Rounding down to 10 yen")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of one premium line (a coverage or a priced rider)."""

    line: str            # coverage or rider code
    kind: StepKind
    factor: str          # "BASE", a Factor value, a discount code, "INSTALMENT", "ROUNDING", ...
    ja: str
    en: str
    value: str           # the fact that chose the rate: "20 (no accident)", "GOLD", "3 cars"
    rate: Decimal | None  # multiplier applied; None for BASE and ROUNDING
    rule: str            # pamphlet line ("001 L732") or "DEMONSTRATION tariff <version>"
    before: Decimal
    after: Decimal

    @property
    def delta(self) -> Decimal:
        return _sub(self.after, self.before)


_new = object.__new__
_STEP_SET = slot_setters(Step, "line kind factor ja en value rate rule before after")


def new_step(line: str, kind: StepKind, factor: str, ja: str, en: str, value: str, rate: Decimal | None, rule: str,
             before: Decimal, after: Decimal) -> Step:
    """`Step(...)` at half the cost: the same frozen object, its slots filled directly (a frozen
    dataclass's __init__ goes through object.__setattr__ per field; the nightly recalculation makes
    ~80 steps per contract)."""
    s = _new(Step)
    a, b, c, d, e, f, g, h, i, j = _STEP_SET
    a(s, line)
    b(s, kind)
    c(s, factor)
    d(s, ja)
    e(s, en)
    f(s, value)
    g(s, rate)
    h(s, rule)
    i(s, before)
    j(s, after)
    return s


@dataclass(frozen=True, slots=True)
class Explanation:
    product_id: str
    tariff_version: str
    demonstration: bool
    steps: tuple[Step, ...]

    def total(self) -> Decimal:
        """Sum of every step's delta: equals the premium total exactly."""
        return _sum(s.delta for s in self.steps)

    def lines(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.steps:
            seen.setdefault(s.line, None)
        return tuple(seen)

    def line_steps(self, line: str) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.line == line)

    def line_total(self, line: str) -> Decimal:
        return _sum(s.delta for s in self.steps if s.line == line)


class _Explained(Protocol):
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class DiffItem:
    """A step whose contribution changed between two explanations.

    `cause` is true when the step itself changed (its rate or the fact behind it, or it
    appeared / disappeared); false when only the amount it acted on moved (a knock-on of an
    earlier change, since factors multiply).
    """

    line: str
    factor: str
    value_before: str | None
    value_after: str | None
    rate_before: Decimal | None
    rate_after: Decimal | None
    amount_before: Decimal     # the step's delta in the first explanation (0 if absent)
    amount_after: Decimal

    @property
    def change(self) -> Decimal:
        return _sub(self.amount_after, self.amount_before)

    @property
    def cause(self) -> bool:
        return self.rate_before != self.rate_after or self.value_before != self.value_after


@dataclass(frozen=True, slots=True)
class LineChange:
    line: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        return _sub(self.after, self.before)


@dataclass(frozen=True, slots=True)
class ExplanationDiff:
    tariff_before: str
    tariff_after: str
    total_before: Decimal
    total_after: Decimal
    items: tuple[DiffItem, ...]
    lines: tuple[LineChange, ...]

    @property
    def change(self) -> Decimal:
        return _sub(self.total_after, self.total_before)

    @property
    def tariff_changed(self) -> bool:
        return self.tariff_before != self.tariff_after

    @property
    def causes(self) -> tuple[DiffItem, ...]:
        return tuple(i for i in self.items if i.cause)


def _explanation(x: Explanation | _Explained) -> Explanation:
    return x if isinstance(x, Explanation) else x.explanation


def _keyed(steps: Iterable[Step]) -> dict[tuple[str, str], Step]:
    return {(s.line, s.factor): s for s in steps}


def _deltas(steps: tuple[Step, ...]) -> tuple[dict[tuple[str, str], tuple[Step, Decimal]], dict[str, Decimal]]:
    """Each (line, factor)'s step and delta, and each line's sum of deltas (lines in first-seen
    order), in one pass."""
    add, sub = _CTX.add, _sub
    keyed: dict[tuple[str, str], tuple[Step, Decimal]] = {}
    totals: dict[str, Decimal] = {}
    for s in steps:
        d = sub(s.after, s.before)
        keyed[(s.line, s.factor)] = (s, d)
        totals[s.line] = add(totals.get(s.line, ZERO), d)
    return keyed, totals


def compare(a: Explanation | _Explained, b: Explanation | _Explained) -> ExplanationDiff:
    """What changed from `a` to `b`, by (line, factor), and by how much.

    The changes of all items add up to the change of the total, because a step missing on
    one side counts as contributing 0 there. One pass over each side's steps (the nightly
    recalculation compares two explanations per contract).
    """
    ea, eb = _explanation(a), _explanation(b)
    (ka, ta), (kb, tb) = _deltas(ea.steps), _deltas(eb.steps)
    order = list(ka)
    order.extend(k for k in kb if k not in ka)
    items: list[DiffItem] = []
    sub = _sub
    none = (None, ZERO)
    for key in order:
        sa, da = ka.get(key, none)
        sb, db = kb.get(key, none)
        va, ra = (sa.value, sa.rate) if sa is not None else (None, None)
        vb, rb = (sb.value, sb.rate) if sb is not None else (None, None)
        # as DiffItem.change != 0 or DiffItem.cause
        if sub(db, da) != 0 or ra != rb or va != vb:
            items.append(DiffItem(key[0], key[1], va, vb, ra, rb, da, db))
    line_codes = list(ta)
    line_codes.extend(c for c in tb if c not in ta)
    lines = tuple(
        LineChange(c, ta.get(c, ZERO), tb.get(c, ZERO))
        for c in line_codes
        if ta.get(c, ZERO) != tb.get(c, ZERO)
    )
    return ExplanationDiff(
        tariff_before=ea.tariff_version, tariff_after=eb.tariff_version,
        total_before=_sum(ta.values()), total_after=_sum(tb.values()), items=tuple(items), lines=lines,
    )


def render(e: Explanation, lang: str = "en") -> str:
    """A plain-text table a person can re-add by hand (CLI, logs, docs)."""
    rows = [f"{e.product_id}  tariff {e.tariff_version}" + ("  (DEMONSTRATION)" if e.demonstration else "")]
    for s in e.steps:
        label = s.ja if lang == "ja" else s.en
        rate = "" if s.rate is None else f"×{s.rate}"
        rows.append(
            f"{s.line:<22} {label:<40} {s.value:<24} {rate:>8} {s.before:>14.2f} → {s.after:>14.2f}  [{s.rule}]"
        )
    rows.append(f"{'TOTAL':<22} {e.total():>14}")
    return "\n".join(rows)
