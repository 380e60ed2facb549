"""Load and validate product files (TOML, stdlib tomllib; numbers are read as Decimal).

Every problem raises `ProductFileError` naming the file, the key path and the reason, so a
broken product file is found at start-up, never half-way through a quote. Reading a file is
the caller's I/O (`load_product_file`, `load_catalog`); `parse_product` itself is pure.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from domain.fleet import RateStep, RateTable
from domain.products.model import (
    AgeBandRule,
    AssistanceBasis,
    AssistanceKind,
    AssistanceLimit,
    Band,
    ChannelRule,
    ConnectedPlan,
    ContractTrait,
    Coverage,
    DiscountKind,
    DiscountRule,
    Eligibility,
    Factor,
    LimitOption,
    PaymentRules,
    Product,
    ProductKind,
    RefundMethod,
    RenewalRules,
    Rider,
    RiderMode,
    ScoreBand,
    ShortTermMethod,
    Tariff,
    UsePurpose,
    VehicleSize,
    Window,
    WindowKind,
)
from domain.products.payout import (
    FACT_CHOICES,
    FACT_TYPES,
    Cap,
    CapBasis,
    Condition,
    CondOp,
    Fact,
    FactType,
    Part,
    PartKind,
    PayoutRule,
    Pick,
)
from domain.vocab import AgeCondition, Channel, DriverRestriction, Fuel, PaymentMethod, UseType

PRODUCTS_DIR = Path(__file__).resolve().parent
E = TypeVar("E", bound=Enum)


class ProductFileError(ValueError):
    """A product file is invalid. `file`, `key` (dotted path) and `reason` say where and why."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file = file
        self.key = key
        self.reason = reason


class _Node:
    """A table of the file with its key path, so every error can name where it happened."""

    __slots__ = ("data", "file", "path", "used")

    def __init__(self, file: str, path: str, data: Mapping[str, Any]) -> None:
        self.file = file
        self.path = path
        self.data = data
        self.used: set[str] = set()

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def fail(self, k: str, reason: str) -> ProductFileError:
        return ProductFileError(self.file, self.key(k), reason)

    def has(self, k: str) -> bool:
        return k in self.data

    def raw(self, k: str, default: Any = ...) -> Any:
        self.used.add(k)
        if k not in self.data:
            if default is ...:
                raise self.fail(k, "missing required key")
            return default
        return self.data[k]

    def text(self, k: str, default: Any = ...) -> str:
        v = self.raw(k, default)
        if not isinstance(v, str) or (default is ... and not v.strip()):
            raise self.fail(k, f"expected a non-empty string, got {v!r}")
        return v

    def flag(self, k: str, default: Any = ...) -> bool:
        v = self.raw(k, default)
        if not isinstance(v, bool):
            raise self.fail(k, f"expected true or false, got {v!r}")
        return v

    def integer(self, k: str, default: Any = ..., *, lo: int | None = None) -> int:
        v = self.raw(k, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(k, f"expected an integer, got {v!r}")
        if lo is not None and v < lo:
            raise self.fail(k, f"must be ≥ {lo}, got {v}")
        return v

    def day(self, k: str, default: Any = ...) -> date | None:
        v = self.raw(k, default)
        if v is None:
            return None
        if not isinstance(v, date):
            raise self.fail(k, f"expected a date (YYYY-MM-DD, unquoted), got {v!r}")
        return v

    def rate(self, k: str, default: Any = ...) -> Decimal | None:
        v = self.raw(k, default)
        return None if v is None else _rate(self, k, v)

    def enum(self, k: str, cls: type[E], default: Any = ...) -> E:
        v = self.raw(k, default)
        if isinstance(v, cls):
            return v
        return _enum(self, k, cls, v)

    def enums(self, k: str, cls: type[E], default: Any = ...) -> frozenset[E]:
        v = self.raw(k, default)
        if not isinstance(v, list):
            raise self.fail(k, f"expected a list, got {v!r}")
        return frozenset(_enum(self, f"{k}[{i}]", cls, x) for i, x in enumerate(v))

    def strs(self, k: str, default: Any = ...) -> tuple[str, ...]:
        v = self.raw(k, default)
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise self.fail(k, f"expected a list of strings, got {v!r}")
        return tuple(v)

    def table(self, k: str, default: Any = ...) -> _Node:
        v = self.raw(k, default)
        if not isinstance(v, dict):
            raise self.fail(k, f"expected a table, got {type(v).__name__}")
        return _Node(self.file, self.key(k), v)

    def tables(self, k: str, default: Any = ...) -> list[_Node]:
        v = self.raw(k, default)
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise self.fail(k, "expected an array of tables ([[...]])")
        return [_Node(self.file, f"{self.key(k)}[{i}]", x) for i, x in enumerate(v)]

    def check_unknown(self, allowed: Iterable[str] | None = None) -> None:
        known = set(allowed) if allowed is not None else self.used
        for k in self.data:
            if k not in known:
                raise self.fail(k, "unknown key")


def _rate(node: _Node, k: str, v: Any) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
        raise node.fail(k, f"expected a number, got {v!r}")
    d = Decimal(v)
    if d < 0 or d > 10:
        raise node.fail(k, f"factor or rate out of range 0..10: {d}")
    return d


def _enum(node: _Node, k: str, cls: type[E], v: Any) -> E:
    try:
        return cls(v)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise node.fail(k, f"unknown {cls.__name__} {v!r} (allowed: {allowed})") from None


def _band(node: _Node, k: str, v: Any) -> Band:
    if (
        not isinstance(v, list) or len(v) != 2 or not isinstance(v[0], int) or isinstance(v[0], bool)
        or not (v[1] is None or v[1] == "+" or (isinstance(v[1], int) and not isinstance(v[1], bool)))
    ):
        raise node.fail(k, f"a band is [low, high] or [low, \"+\"], got {v!r}")
    hi = None if v[1] in (None, "+") else v[1]
    if hi is not None and hi < v[0]:
        raise node.fail(k, f"empty band {v!r}")
    return (v[0], hi)


def _bands(node: _Node, k: str, default: Any = ...) -> tuple[Band, ...]:
    v = node.raw(k, default)
    if not isinstance(v, list):
        raise node.fail(k, f"expected a list of bands, got {v!r}")
    bands = tuple(_band(node, f"{k}[{i}]", b) for i, b in enumerate(v))
    for i in range(1, len(bands)):
        prev_hi = bands[i - 1][1]
        if prev_hi is None or bands[i][0] <= prev_hi:
            raise node.fail(f"{k}[{i}]", "bands overlap or are out of order")
    return bands


def _rates(node: _Node, k: str, n: int | None = None, default: Any = ...) -> tuple[Decimal, ...]:
    v = node.raw(k, default)
    if not isinstance(v, list):
        raise node.fail(k, f"expected a list of numbers, got {v!r}")
    out = tuple(_rate(node, f"{k}[{i}]", x) for i, x in enumerate(v))
    if n is not None and len(out) != n:
        raise node.fail(k, f"expected {n} values (one per band), got {len(out)}")
    return out


# ---------------------------------------------------------------- sections


def _coverages(root: _Node) -> tuple[Coverage, ...]:
    out: list[Coverage] = []
    for c in root.tables("coverages"):
        opts: list[LimitOption] = []
        for o in c.tables("options"):
            opts.append(LimitOption(o.text("code"), o.text("ja"), o.text("en"), o.integer("deductible", 0, lo=0)))
            o.check_unknown()
        if not opts:
            raise c.fail("options", "a coverage needs at least one limit option")
        codes = [o.code for o in opts]
        if len(set(codes)) != len(codes):
            raise c.fail("options", "duplicate option code")
        default = c.text("default_option", codes[0])
        if default not in codes:
            raise c.fail("default_option", f"{default!r} is not one of the options {codes}")
        out.append(
            Coverage(
                code=c.text("code"), ja=c.text("ja"), en=c.text("en"),
                mandatory=c.flag("mandatory", False), options=tuple(opts), default_option=default,
                rating_class_group=c.raw("rating_class_group", None), source=c.text("source"),
                payout=_payout(c.table("payout")) if c.has("payout") else None,
            )
        )
        c.check_unknown()
    codes = [c.code for c in out]
    if len(set(codes)) != len(codes):
        raise root.fail("coverages", "duplicate coverage code")
    return tuple(out)


def _riders(root: _Node, coverage_codes: set[str]) -> tuple[Rider, ...]:
    out: list[Rider] = []
    for r in root.tables("riders", []):
        req_opts: dict[str, tuple[str, ...]] = {}
        if r.has("requires_options"):
            t = r.table("requires_options")
            for cov in t.data:
                if cov not in coverage_codes:
                    raise t.fail(cov, f"unknown coverage {cov!r}")
                req_opts[cov] = t.strs(cov)
        restriction = r.raw("driver_restriction", None)
        out.append(
            Rider(
                code=r.text("code"), ja=r.text("ja"), en=r.text("en"),
                mode=r.enum("mode", RiderMode), source=r.text("source"),
                requires=r.strs("requires", []), requires_any=r.strs("requires_any", []),
                excludes=r.strs("excludes", []),
                requires_options=req_opts,
                driver_restriction=None if restriction is None else r.enum("driver_restriction", DriverRestriction),
                priced=r.flag("priced", False),
                expiry_within_registration_months=r.raw("expiry_within_registration_months", None),
                optional_for_corporate=r.flag("optional_for_corporate", False),
                auto_unless=r.strs("auto_unless", []), auto_without=r.strs("auto_without", []),
                auto_non_fleet=r.flag("auto_non_fleet", False), auto_telematics=r.flag("auto_telematics", False),
                auto_after_registration_months=(r.integer("auto_after_registration_months", lo=1)
                                                if r.has("auto_after_registration_months") else None),
                auto_expiry_before_registration_months=(r.integer("auto_expiry_before_registration_months", lo=1)
                                                        if r.has("auto_expiry_before_registration_months") else None),
                individual_only=r.flag("individual_only", False), non_fleet_only=r.flag("non_fleet_only", False),
                use_types=r.enums("use_types", UseType, []),
                excludes_coverages=r.strs("excludes_coverages", []),
                min_term_months=r.integer("min_term_months", lo=1) if r.has("min_term_months") else None,
                payment_methods=r.enums("payment_methods", PaymentMethod, []),
                excludes_telematics=r.flag("excludes_telematics", False),
                no_claims_refund_rate=r.rate("no_claims_refund_rate", None),
                payout=_payout(r.table("payout")) if r.has("payout") else None,
                mode_note=r.text("mode_note", ""),
            )
        )
        if out[-1].optional_for_corporate and out[-1].mode is not RiderMode.AUTOMATIC:
            raise r.fail("optional_for_corporate", "only an AUTOMATIC rider can be optional for a corporate named insured")
        r.check_unknown()
    codes = {x.code for x in out}
    if len(codes) != len(out):
        raise root.fail("riders", "duplicate rider code")
    for i, x in enumerate(out):
        for key, refs in (("requires", x.requires), ("requires_any", x.requires_any)):
            for ref in refs:
                if ref not in codes and ref not in coverage_codes:
                    raise root.fail(f"riders[{i}].{key}", f"unknown coverage or rider {ref!r}")
        for ref in x.excludes:
            if ref not in codes:
                raise root.fail(f"riders[{i}].excludes", f"unknown rider {ref!r}")
        for key, refs in (("auto_unless", x.auto_unless), ("auto_without", x.auto_without),
                          ("excludes_coverages", x.excludes_coverages)):
            for ref in refs:
                if ref not in codes and ref not in coverage_codes:
                    raise root.fail(f"riders[{i}].{key}", f"unknown coverage or rider {ref!r}")
        auto_keys = (x.auto_unless or x.auto_without or x.auto_non_fleet or x.auto_telematics
                     or x.auto_after_registration_months or x.auto_expiry_before_registration_months)
        if auto_keys and x.mode is not RiderMode.AUTOMATIC:
            raise root.fail(f"riders[{i}]", "auto_* conditions belong to an AUTOMATIC rider")
    return tuple(out)



# ---------------------------------------------------------------- pay-out rules (docs/rider_rules.md)

_NUMERIC = frozenset({FactType.YEN, FactType.COUNT, FactType.DAYS, FactType.PERCENT})
_CMP_OPS = {CondOp.AT_LEAST: "at_least", CondOp.BELOW: "below", CondOp.AT_MOST: "at_most"}


def _condition(node: _Node, k: str, v: Any) -> Condition:
    """`{ fact = "days", at_least = 5 }`, `{ fact = "cause", one_of = [...] }`, `{ fact = "total_loss",
    is = true }`, `{ fact = "repaired_on", within_months_after_accident = 6 }`, `{ held = "VEHICLE" }`,
    `{ paying = "PD" }`."""
    if not isinstance(v, dict):
        raise node.fail(k, f"a condition is an inline table, got {v!r}")
    c = _Node(node.file, node.key(k), v)
    for op in (CondOp.HELD, CondOp.NOT_HELD, CondOp.PAYING):
        if c.has(op.value):
            cond = Condition(op, c.text(op.value))
            c.check_unknown()
            return cond
    fact = c.enum("fact", Fact)
    ops = [op for op in CondOp if op not in (CondOp.HELD, CondOp.NOT_HELD, CondOp.PAYING) and c.has(op.value)]
    if len(ops) != 1:
        raise c.fail("fact", "a condition names exactly one test (is, one_of, not_one_of, at_least, below, "
                             "at_most, within_months_after_accident)")
    op = ops[0]
    ftype = FACT_TYPES[fact]
    value: bool | int | str | tuple[str, ...]
    if op is CondOp.IS:
        raw = c.raw("is")
        if ftype is FactType.FLAG:
            value = c.flag("is")
        elif ftype is FactType.CHOICE and isinstance(raw, str):
            value = _enum(c, "is", FACT_CHOICES[fact], raw).value
        elif ftype in _NUMERIC:
            value = c.integer("is", lo=0)
        else:
            raise c.fail("is", f"{fact.value} cannot be tested with is")
    elif op in (CondOp.ONE_OF, CondOp.NOT_ONE_OF):
        if ftype is not FactType.CHOICE:
            raise c.fail(op.value, f"{fact.value} is not a choice")
        value = tuple(_enum(c, f"{op.value}[{i}]", FACT_CHOICES[fact], x).value
                      for i, x in enumerate(c.strs(op.value)))
    elif op in (CondOp.WITHIN_MONTHS_AFTER_ACCIDENT, CondOp.WITHIN_DAYS_AFTER_ACCIDENT):
        if ftype is not FactType.DATE:
            raise c.fail(op.value, f"{fact.value} is not a date")
        value = c.integer(op.value, lo=1)
    else:
        if ftype not in _NUMERIC:
            raise c.fail(op.value, f"{fact.value} is not a number")
        value = c.integer(op.value, lo=0)
    c.check_unknown()
    return Condition(op, value, fact)


def _conditions(node: _Node, k: str) -> tuple[Condition, ...]:
    v = node.raw(k, [])
    if not isinstance(v, list):
        raise node.fail(k, "expected a list of conditions")
    return tuple(_condition(node, f"{k}[{i}]", x) for i, x in enumerate(v))


def _fact(node: _Node, k: str, types: frozenset[FactType]) -> Fact | None:
    if not node.has(k):
        return None
    f = node.enum(k, Fact)
    if FACT_TYPES[f] not in types:
        raise node.fail(k, f"{f.value} is a {FACT_TYPES[f].en.lower()}, not one of "
                           f"{', '.join(sorted(t.en.lower() for t in types))}")
    return f


def _caps(node: _Node) -> tuple[Cap, ...]:
    out: list[Cap] = []
    for c in node.tables("caps", []):
        amount = c.integer("amount", lo=0) if c.has("amount") else None
        times = c.rate("sum_insured_times", None)
        of_fact = _fact(c, "of_fact", frozenset({FactType.YEN}))
        per_day = c.integer("per_day", lo=0) if c.has("per_day") else None
        if sum(x is not None for x in (amount, times, of_fact, per_day)) != 1:
            raise c.fail("amount", "a cap gives exactly one of amount, sum_insured_times, of_fact and per_day")
        if c.has("plus") and times is None and per_day is None:
            raise c.fail("plus", "plus goes with sum_insured_times or per_day")
        if c.has("fact_times") and of_fact is None:
            raise c.fail("fact_times", "fact_times goes with of_fact")
        out.append(Cap(basis=c.enum("basis", CapBasis), source=c.text("source"), amount=amount,
                       sum_insured_times=times, when=_conditions(c, "when"), label=c.text("label", ""),
                       plus=c.integer("plus", 0, lo=0), of_fact=of_fact,
                       fact_times=c.rate("fact_times", None) or Decimal(1), parts=c.strs("parts", []),
                       per_day=per_day))
        c.check_unknown()
    return tuple(out)


_PART_NEEDS: Mapping[PartKind, tuple[str, ...]] = {
    PartKind.FIXED: ("amount",),
    PartKind.PER_DAY: ("amount", "max_days"),
    PartKind.PERCENT_OF_SUM_INSURED: ("percent",),
    PartKind.COST: ("base",),
    PartKind.SAME_AS: ("same_as",),
}
_PART_ALLOWS: Mapping[PartKind, frozenset[str]] = {
    PartKind.FIXED: frozenset({"amount", "count", "count_offset"}),
    PartKind.PER_DAY: frozenset({"amount", "max_days", "base"}),
    PartKind.PERCENT_OF_SUM_INSURED: frozenset({"percent"}),
    PartKind.COST: frozenset({"base", "less", "share", "percent"}),
    PartKind.SAME_AS: frozenset({"same_as"}),
}
_PART_COMMON = frozenset({"code", "ja", "en", "kind", "source", "deductible", "deductible_from_line",
                          "waive_deductible_when", "when", "caps", "minimum"})


def _part(p: _Node) -> Part:
    kind = p.enum("kind", PartKind)
    for k in _PART_NEEDS[kind]:
        if not p.has(k):
            raise p.fail(k, f"a {kind.value} part needs {k}")
    for k in p.data:
        if k not in _PART_COMMON and k not in _PART_ALLOWS[kind]:
            raise p.fail(k, f"not a key of a {kind.value} part")
    waive_raw = p.raw("waive_deductible_when", [])
    if not isinstance(waive_raw, list) or not all(isinstance(g, list) for g in waive_raw):
        raise p.fail("waive_deductible_when", "expected a list of condition lists (any list holding waives)")
    waive = tuple(tuple(_condition(p, f"waive_deductible_when[{i}][{j}]", x) for j, x in enumerate(g))
                  for i, g in enumerate(waive_raw))
    base_types = frozenset({FactType.YEN})
    part = Part(
        code=p.text("code"), ja=p.text("ja"), en=p.text("en"), kind=kind, source=p.text("source"),
        amount=p.integer("amount", lo=0) if p.has("amount") else None,
        count=_fact(p, "count", frozenset({FactType.COUNT, FactType.DAYS})),
        count_offset=p.integer("count_offset", 0, lo=0),
        base=_fact(p, "base", base_types), less=_fact(p, "less", base_types),
        share=_fact(p, "share", frozenset({FactType.PERCENT})),
        percent=p.rate("percent", None),
        max_days=p.integer("max_days", lo=1) if p.has("max_days") else None,
        same_as=p.text("same_as") if p.has("same_as") else None,
        deductible=p.integer("deductible", 0, lo=0),
        deductible_from_line=p.flag("deductible_from_line", False),
        waive_deductible_when=waive, when=_conditions(p, "when"), caps=_caps(p),
        minimum=p.integer("minimum", lo=0) if p.has("minimum") else None,
    )
    if any(cap.parts for cap in part.caps):
        raise p.fail("caps", "parts names parts of a rule-level cap, not of a part's own cap")
    if part.percent is not None and part.percent > 1:
        raise p.fail("percent", "a percent is a fraction 0..1 (0.10 = 10%)")
    p.check_unknown()
    return part


def _payout(node: _Node) -> PayoutRule:
    parts = tuple(_part(x) for x in node.tables("parts"))
    if not parts:
        raise node.fail("parts", "a pay-out rule needs at least one part")
    codes = [x.code for x in parts]
    if len(set(codes)) != len(codes):
        raise node.fail("parts", "duplicate part code")
    for cap in _caps(node):
        for ref in cap.parts:
            if ref not in codes:
                raise node.fail("caps", f"a cap names part {ref!r}, which the rule does not have")
    times = node.integer("times_per_year", lo=1) if node.has("times_per_year") else None
    rule = PayoutRule(source=node.text("source"), parts=parts, pick=node.enum("pick", Pick, Pick.SUM.value),
                      when=_conditions(node, "when"), caps=_caps(node), times_per_year=times,
                      demonstration=node.text("demonstration", ""), note=node.text("note", ""),
                      sum_insured_of=node.text("sum_insured_of") if node.has("sum_insured_of") else None)
    node.check_unknown()
    return rule


def _connected_plan(root: _Node) -> ConnectedPlan | None:
    """`[connected_plan]`: aioi つながるプラン (002 L1624-1628, L1831-1850)."""
    if not root.has("connected_plan"):
        return None
    t = root.table("connected_plan")
    bands = []
    for b in t.tables("bands"):
        rate = b.rate("discount")
        if rate is None or not 0 <= rate <= 1:
            raise b.fail("discount", "a discount is a fraction 0..1 (0.80 = 80%)")
        bands.append(ScoreBand(b.integer("min_score", lo=0), rate))
        b.check_unknown()
    if not bands or [x.min_score for x in bands] != sorted({x.min_score for x in bands}, reverse=True) \
            or bands[-1].min_score != 0:
        raise t.fail("bands", "bands go by descending min_score, the last from 0")
    unit = t.rate("unit_rate_yen_per_km")
    assert unit is not None
    plan = ConnectedPlan(unit, t.flag("unit_rate_demonstration"), t.integer("annual_km_cap", lo=1),
                         tuple(bands), t.text("source"))
    t.check_unknown()
    return plan


def _rule_refs(rule: PayoutRule) -> list[tuple[str, str]]:
    """(what, code) for every line code a rule names."""
    out: list[tuple[str, str]] = []
    conds: list[Condition] = list(rule.when) + [c for cap in rule.caps for c in cap.when]
    for p in rule.parts:
        conds += list(p.when) + [c for cap in p.caps for c in cap.when] + [
            c for g in p.waive_deductible_when for c in g]
        if p.same_as is not None:
            out.append((f"parts.{p.code}.same_as", p.same_as))
    out += [(f"condition {c.op.value}", str(c.value)) for c in conds if c.fact is None]
    if rule.sum_insured_of is not None:
        out.append(("sum_insured_of", rule.sum_insured_of))
    return out


def _check_payout_refs(root: _Node, coverages: tuple[Coverage, ...], riders: tuple[Rider, ...]) -> None:
    rules = {c.code: c.payout for c in coverages if c.payout is not None}
    rules.update({r.code: r.payout for r in riders if r.payout is not None})
    codes = {c.code for c in coverages} | {r.code for r in riders}
    for line, rule in rules.items():
        for what, ref in _rule_refs(rule):
            if ref not in codes:
                raise root.fail(f"{line}.payout", f"{what}: unknown coverage or rider {ref!r}")
            if what.endswith("same_as") and (ref == line or ref not in rules):
                raise root.fail(f"{line}.payout", f"{what}: {ref!r} has no pay-out rule of its own")


_DISCOUNT_KEYS = {
    "code", "kind", "ja", "en", "source", "coverages", "use_types", "channels", "excluded_channels",
    "payment_methods", "rate", "rates", "bands", "band_rates", "band_rates_7s", "no_score_rate",
    "table", "table_6s", "fuels", "window_months", "valid_from", "valid_to", "excluded_by",
    "waives_instalment_surcharge", "note",
}

# keys each kind cannot work without
_DISCOUNT_NEEDS: Mapping[DiscountKind, tuple[str, ...]] = {
    DiscountKind.INTERNET: ("rates",),
    DiscountKind.AEB: ("rate", "use_types"),
    DiscountKind.NO_ACCIDENT: ("rate",),
    DiscountKind.GOLD_LICENCE: (),
    DiscountKind.MULTI_CAR: ("bands", "band_rates"),
    DiscountKind.NEW_CAR: ("bands", "table", "use_types"),
    DiscountKind.ECO: ("rate", "fuels", "window_months", "use_types"),
    DiscountKind.WELFARE: ("rate",),
    DiscountKind.REPAIRABILITY: ("rates", "window_months", "coverages"),
    DiscountKind.PARTNER_PLAN: ("rate",),
    DiscountKind.ONE_DAY_HISTORY: ("bands", "band_rates", "band_rates_7s"),
    DiscountKind.TELEMATICS: ("bands", "band_rates"),
    DiscountKind.TELEMATICS_FIRST: ("rate",),
    DiscountKind.GROUP: ("rate", "channels"),
}


def _new_car_table(d: _Node, k: str, coverage_codes: set[str], n: int) -> dict[tuple[VehicleSize, str], tuple[Decimal, ...]]:
    t = d.table(k)
    out: dict[tuple[VehicleSize, str], tuple[Decimal, ...]] = {}
    for size_code in t.data:
        size = _enum(t, size_code, VehicleSize, size_code)
        row = t.table(size_code)
        for cov in row.data:
            if cov not in coverage_codes:
                raise row.fail(cov, f"unknown coverage {cov!r}")
            out[(size, cov)] = _rates(row, cov, n)
    return out


def _discounts(root: _Node, coverage_codes: set[str]) -> tuple[DiscountRule, ...]:
    out: list[DiscountRule] = []
    for d in root.tables("discounts", []):
        d.check_unknown(_DISCOUNT_KEYS)
        kind = d.enum("kind", DiscountKind)
        for need in _DISCOUNT_NEEDS[kind]:
            if not d.has(need):
                raise d.fail(need, f"required for a {kind.value} discount")
        covs = frozenset(d.strs("coverages", []))
        for c in covs:
            if c not in coverage_codes:
                raise d.fail("coverages", f"unknown coverage {c!r}")
        bands = _bands(d, "bands", [])
        rates: dict[str, Decimal] = {}
        if d.has("rates"):
            rt = d.table("rates")
            rates = {k: _rate(rt, k, v) for k, v in rt.data.items()}
        n = len(bands) or None
        rule = DiscountRule(
            code=d.text("code"), kind=kind, ja=d.text("ja"), en=d.text("en"), source=d.text("source"),
            coverages=covs,
            use_types=d.enums("use_types", UseType, []),
            channels=d.enums("channels", Channel, []),
            excluded_channels=d.enums("excluded_channels", Channel, []),
            payment_methods=d.enums("payment_methods", PaymentMethod, []),
            rate=d.rate("rate", None),
            rates=rates,
            bands=bands,
            band_rates=_rates(d, "band_rates", n, []) if d.has("band_rates") else (),
            band_rates_7s=_rates(d, "band_rates_7s", n, []) if d.has("band_rates_7s") else (),
            no_score_rate=d.rate("no_score_rate", None),
            table=_new_car_table(d, "table", coverage_codes, len(bands)) if d.has("table") else {},
            table_6s=_new_car_table(d, "table_6s", coverage_codes, len(bands)) if d.has("table_6s") else {},
            fuels=d.enums("fuels", Fuel, []),
            window_months=d.integer("window_months", None, lo=0) if d.has("window_months") else None,
            valid_from=d.day("valid_from", None),
            valid_to=d.day("valid_to", None),
            excluded_by=d.strs("excluded_by", []),
            waives_instalment_surcharge=d.flag("waives_instalment_surcharge", False),
            note=d.text("note", ""),
        )
        if rule.valid_from and rule.valid_to and rule.valid_to < rule.valid_from:
            raise d.fail("valid_to", f"{rule.valid_to} is before valid_from {rule.valid_from}")
        out.append(rule)
    codes = [r.code for r in out]
    if len(set(codes)) != len(codes):
        raise root.fail("discounts", "duplicate discount code")
    for i, r in enumerate(out):
        for ref in r.excluded_by:
            if ref not in codes:
                raise root.fail(f"discounts[{i}].excluded_by", f"unknown discount {ref!r}")
    return tuple(out)


def _keyed_rates(node: _Node, k: str) -> dict[str, Decimal]:
    t = node.table(k)
    return {str(key): _rate(t, key, v) for key, v in t.data.items()}


def _use_type_amounts(node: _Node, k: str, use_types: frozenset[UseType]) -> dict[str, dict[UseType, int]]:
    t = node.table(k)
    out: dict[str, dict[UseType, int]] = {}
    for cov in t.data:
        row = t.table(cov)
        amounts: dict[UseType, int] = {}
        for ut_code in row.data:
            ut = _enum(row, ut_code, UseType, ut_code)
            if ut not in use_types:
                raise row.fail(ut_code, "use type is not insurable by this product")
            amounts[ut] = row.integer(ut_code, lo=0)
        out[cov] = amounts
    return out


def _tariffs(root: _Node, p: dict[str, Any]) -> tuple[Tariff, ...]:
    coverages: tuple[Coverage, ...] = p["coverages"]
    cov_codes = {c.code for c in coverages}
    use_types: frozenset[UseType] = p["use_types"]
    out: list[Tariff] = []
    for t in _resolve_extends(root):
        base = _use_type_amounts(t, "base", use_types)
        base_monthly = _use_type_amounts(t, "base_monthly", use_types) if t.has("base_monthly") else {}
        for cov in list(base) + list(base_monthly):
            if cov not in cov_codes:
                raise t.fail(f"base.{cov}", f"unknown coverage {cov!r}")
        for cov, amounts in base_monthly.items():
            missing_m = sorted(u.value for u in use_types if u not in amounts)
            if missing_m:
                raise t.fail(f"base_monthly.{cov}", f"no monthly premium for {', '.join(missing_m)}")
        for c in coverages:
            missing = sorted(u.value for u in use_types if u not in base.get(c.code, {}))
            if missing:
                raise t.fail(f"base.{c.code}", f"no base premium for {', '.join(missing)}")
        option_factors: dict[str, dict[str, Decimal]] = {}
        if t.has("option_factors"):
            of = t.table("option_factors")
            for cov in of.data:
                found = next((x for x in coverages if x.code == cov), None)
                if found is None:
                    raise of.fail(cov, f"unknown coverage {cov!r}")
                opts = _keyed_rates(of, cov)
                for o in opts:
                    if found.option(o) is None:
                        raise of.fail(f"{cov}.{o}", f"unknown limit option of {cov}")
                option_factors[cov] = opts
        factors: dict[Factor, dict[str, Decimal]] = {}
        if t.has("factors"):
            ft = t.table("factors")
            for name in ft.data:
                f = _enum(ft, name, Factor, name)
                factors[f] = _keyed_rates(ft, name)
        order: tuple[Factor, ...] = p["factor_order"]
        _check_factor_tables(t, order, factors, p)
        age_band_factors: tuple[Decimal, ...] = ()
        if Factor.AGE_BAND in order:
            rule: AgeBandRule = p["age_band"]
            age_band_factors = _rates(t, "age_band_factors", len(rule.bands))
        rc: dict[VehicleSize, tuple[Decimal, ...]] = {}
        if Factor.RATING_CLASS in order:
            rct = t.table("rating_class_factors")
            for size, (lo, hi) in p["rating_class_ranges"].items():
                if not rct.has(size.value):
                    raise rct.fail(size.value, "missing rating-class factors")
                rc[size] = _rates(rct, size.value, hi)
            rct.check_unknown([s.value for s in p["rating_class_ranges"]])
        riders: tuple[Rider, ...] = p["riders"]
        rider_premiums = {k: v for k, v in t.table("rider_premiums", {}).data.items()} if t.has("rider_premiums") else {}
        rider_monthly = {k: v for k, v in t.table("rider_premiums_monthly", {}).data.items()} if t.has("rider_premiums_monthly") else {}
        rider_factors: dict[str, tuple[str, Decimal]] = {}
        if t.has("rider_factors"):
            rf = t.table("rider_factors")
            for code in rf.data:
                r_ = next((x for x in riders if x.code == code and x.priced), None)
                if r_ is None:
                    raise rf.fail(code, "not a priced rider of this product")
                fnode = rf.table(code)
                of_line = fnode.text("of")
                if of_line not in r_.requires or of_line not in cov_codes:
                    raise fnode.fail("of", f"{of_line!r} is not a coverage {code} requires")
                rider_factors[code] = (of_line, _rate(fnode, "rate", fnode.raw("rate")))
                fnode.check_unknown()
        for r in riders:
            if r.priced and (r.code in rider_premiums) == (r.code in rider_factors):
                raise t.fail(f"rider_premiums.{r.code}",
                             "a priced rider has exactly one of a premium and a factor (rider_factors)")
        for code, v in list(rider_premiums.items()) + list(rider_monthly.items()):
            if not any(r.code == code and r.priced for r in riders):
                raise t.fail(f"rider_premiums.{code}", "not a priced rider of this product")
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise t.fail(f"rider_premiums.{code}", f"expected a yen amount, got {v!r}")
        tariff = Tariff(
            version=t.text("version"),
            effective_from=t.day("effective_from"),  # type: ignore[arg-type]
            effective_to=t.day("effective_to", None),
            demonstration=t.flag("demonstration"),
            note=t.text("note", ""),
            short_term=t.enum("short_term", ShortTermMethod, ShortTermMethod.PRO_RATA_MONTHS.value),
            base=base, base_monthly=base_monthly, option_factors=option_factors, factors=factors,
            age_band_factors=age_band_factors, rating_class_factors=rc,
            rider_premiums=rider_premiums, rider_premiums_monthly=rider_monthly,
            base_source=t.text("base_source", "DEMONSTRATION"), rider_factors=rider_factors,
        )
        if tariff.effective_to is not None and tariff.effective_to < tariff.effective_from:
            raise t.fail("effective_to", f"{tariff.effective_to} is before effective_from {tariff.effective_from}")
        t.check_unknown()
        out.append(tariff)
    if not out:
        raise root.fail("tariffs", "a product needs at least one tariff version")
    versions = [x.version for x in out]
    if len(set(versions)) != len(versions):
        raise root.fail("tariffs", "duplicate tariff version")
    ordered = sorted(enumerate(out), key=lambda it: it[1].effective_from)
    for (_, a), (j, b) in itertools.pairwise(ordered):
        if a.effective_to is None or b.effective_from <= a.effective_to:
            raise root.fail(
                f"tariffs[{j}].effective_from",
                f"tariff {b.version} (from {b.effective_from}) overlaps {a.version} "
                f"({a.effective_from}..{a.effective_to or 'open'})",
            )
    return tuple(x for _, x in ordered)


_NOT_INHERITED = frozenset({"version", "extends", "effective_from", "effective_to", "note"})


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _resolve_extends(root: _Node) -> list[_Node]:
    """Tariff versions may `extends` an earlier version: its tables, overridden key by key."""
    nodes = root.tables("tariffs")
    by_version: dict[str, dict[str, Any]] = {}
    out: list[_Node] = []
    for n in nodes:
        data = dict(n.data)
        parent = data.pop("extends", None)
        if parent is not None:
            if not isinstance(parent, str) or parent not in by_version:
                raise n.fail("extends", f"unknown or later tariff version {parent!r} (extend an earlier one)")
            inherited = {k: v for k, v in by_version[parent].items() if k not in _NOT_INHERITED}
            data = _deep_merge(inherited, data)
        version = data.get("version")
        if isinstance(version, str):
            by_version[version] = data
        out.append(_Node(n.file, n.path, data))
    return out


def _check_factor_tables(t: _Node, order: tuple[Factor, ...], factors: Mapping[Factor, Mapping[str, Decimal]], p: dict[str, Any]) -> None:
    needed: dict[Factor, Iterable[str]] = {
        Factor.AGE_CONDITION: [a.value for a in p["age_conditions"]],
        Factor.DRIVER_RESTRICTION: [r.value for r in p["driver_restrictions"]],
        Factor.USE_PURPOSE: [u.value for u in p["use_purposes"]],
        Factor.MILEAGE_CLASS: [str(m) for m in p["mileage_classes"]],
    }
    for f, keys in needed.items():
        if f in order:
            table = factors.get(f)
            if table is None:
                raise t.fail(f"factors.{f.value}", "factor is in factor_order but has no table")
            for k in keys:
                if k not in table:
                    raise t.fail(f"factors.{f.value}.{k}", "missing factor value")


def parse_product(data: Mapping[str, Any], file: str = "<memory>") -> Product:
    """Validate a parsed product document and build the model (pure)."""
    root = _Node(file, "", data)
    p: dict[str, Any] = {}
    p["use_types"] = root.enums("use_types", UseType)
    if not p["use_types"]:
        raise root.fail("use_types", "a product must insure at least one use type")
    p["age_conditions"] = root.enums("age_conditions", AgeCondition, [AgeCondition.ANY.value])
    p["driver_restrictions"] = root.enums("driver_restrictions", DriverRestriction, [DriverRestriction.NONE.value])
    p["use_purposes"] = root.enums("use_purposes", UsePurpose, [])
    mileage = root.raw("mileage_classes", [])
    if not isinstance(mileage, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in mileage):
        raise root.fail("mileage_classes", "expected a list of integers")
    p["mileage_classes"] = tuple(mileage)
    order_raw = root.strs("factor_order", [])
    order = tuple(_enum(root, f"factor_order[{i}]", Factor, x) for i, x in enumerate(order_raw))
    if len(set(order)) != len(order):
        raise root.fail("factor_order", "a factor is listed twice")
    if Factor.FLEET in order:
        # the fleet rate takes the grade's place for a fleet car; listed too, it would apply twice
        raise root.fail("factor_order", "FLEET is not listed: a fleet car's rate stands where GRADE is")
    p["factor_order"] = order
    p["coverages"] = _coverages(root)
    cov_codes = {c.code for c in p["coverages"]}
    p["riders"] = _riders(root, cov_codes)
    _check_payout_refs(root, p["coverages"], p["riders"])

    graded = root.flag("graded")
    if graded != (Factor.GRADE in order):
        raise root.fail("factor_order", "GRADE must be in factor_order exactly when graded = true")
    factor_sources: dict[Factor, str] = {}
    if root.has("factor_sources"):
        fs = root.table("factor_sources")
        for k in fs.data:
            factor_sources[_enum(fs, k, Factor, k)] = fs.text(k)

    age_band: AgeBandRule | None = None
    if root.has("age_band"):
        ab = root.table("age_band")
        age_band = AgeBandRule(
            source=ab.text("source"), bands=_bands(ab, "bands"),
            applies_with=ab.enums("applies_with", AgeCondition, []),
            use_types=ab.enums("use_types", UseType, []),
        )
        if not age_band.bands or age_band.bands[0][0] != 0 or age_band.bands[-1][1] is not None:
            raise ab.fail("bands", "age bands must start at 0 and end open ([n, \"+\"])")
        for i in range(1, len(age_band.bands)):
            if age_band.bands[i][0] != (age_band.bands[i - 1][1] or 0) + 1:
                raise ab.fail(f"bands[{i}]", "age bands must be contiguous")
        ab.check_unknown()
    if (Factor.AGE_BAND in order) != (age_band is not None):
        raise root.fail("age_band", "an [age_band] table is needed exactly when AGE_BAND is in factor_order")
    p["age_band"] = age_band

    ranges: dict[VehicleSize, tuple[int, int]] = {}
    rc_source = ""
    if root.has("rating_classes"):
        rc = root.table("rating_classes")
        rc_source = rc.text("source")
        for size in VehicleSize:
            if rc.has(size.value):
                v = rc.raw(size.value)
                if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v) and 1 == v[0] <= v[1]):
                    raise rc.fail(size.value, f"expected [1, highest class], got {v!r}")
                ranges[size] = (v[0], v[1])
        rc.check_unknown()
    if (Factor.RATING_CLASS in order) != bool(ranges):
        raise root.fail("rating_classes", "a [rating_classes] table is needed exactly when RATING_CLASS is in factor_order")
    p["rating_class_ranges"] = ranges

    pay = root.table("payment")
    payment = PaymentRules(
        methods=pay.enums("methods", PaymentMethod),
        instalments_per_year=pay.integer("instalments_per_year", 12, lo=1),
        instalment_surcharge=pay.rate("instalment_surcharge", Decimal(0)) or Decimal(0),
        surcharge_source=pay.text("surcharge_source", ""),
        surcharge_demonstration=pay.flag("surcharge_demonstration", False),
        waived_for_channels=pay.enums("waived_for_channels", Channel, []),
        waived_by_large_instalment=pay.flag("waived_by_large_instalment", False),
        waiver_source=pay.text("waiver_source", ""),
    )
    pay.check_unknown()
    if not payment.methods:
        raise pay.fail("methods", "at least one payment method")

    channel_rules: list[ChannelRule] = []
    for cr in root.tables("channel_rules", []):
        channel_rules.append(
            ChannelRule(
                channel=cr.enum("channel", Channel), source=cr.text("source"),
                excluded_use_types=cr.enums("excluded_use_types", UseType, []),
                payment_methods=cr.enums("payment_methods", PaymentMethod, []),
            )
        )
        cr.check_unknown()

    windows: list[Window] = []
    rider_codes = {r.code for r in p["riders"]}
    for w in root.tables("windows", []):
        liability_set = w.strs("liability_set", [])
        for i, code in enumerate(liability_set):
            if code not in cov_codes and code not in rider_codes:
                raise w.fail(f"liability_set[{i}]", f"unknown coverage or rider {code!r}")
        windows.append(
            Window(kind=w.enum("kind", WindowKind), days=w.integer("days", lo=1), automatic=w.flag("automatic"),
                   source=w.text("source"), liability_only_after=w.flag("liability_only_after", False),
                   liability_set=liability_set, liability_set_source=w.text("liability_set_source", ""),
                   not_twice_in_a_row=w.flag("not_twice_in_a_row", False),
                   de_facto_spouse_excluded=w.flag("de_facto_spouse_excluded", False))
        )
        w.check_unknown()
    if len({w.kind for w in windows}) != len(windows):
        raise root.fail("windows", "a window kind is declared twice")
    renewal = RenewalRules()
    if root.has("renewal"):
        rn = root.table("renewal")
        renewal = RenewalRules(
            offer_days_before=rn.integer("offer_days_before", 60, lo=1),
            auto_renew_rider=rn.text("auto_renew_rider") if rn.has("auto_renew_rider") else None,
            source=rn.text("source", ""),
        )
        if renewal.auto_renew_rider is not None and renewal.auto_renew_rider not in rider_codes:
            raise rn.fail("auto_renew_rider", f"unknown rider {renewal.auto_renew_rider!r}")
        rn.check_unknown()
    eligibility = Eligibility()
    if root.has("eligibility"):
        el = root.table("eligibility")
        eligibility = Eligibility(
            individual_named_insured=el.text("individual_named_insured") if el.has("individual_named_insured") else None,
            max_insured_vehicles=el.integer("max_insured_vehicles", lo=1) if el.has("max_insured_vehicles") else None,
            max_insured_vehicles_source=el.text("max_insured_vehicles_source", ""),
            restriction_use_types=el.enums("restriction_use_types", UseType) if el.has("restriction_use_types") else None,
            restriction_source=el.text("restriction_source", ""),
            age_condition_use_types=el.enums("age_condition_use_types", UseType) if el.has("age_condition_use_types") else None,
            age_condition_source=el.text("age_condition_source", ""),
            fleet_contracts=el.flag("fleet_contracts", False),
            corporate_deductible_coverages=frozenset(el.strs("corporate_deductible_coverages", [])),
            corporate_deductible_source=el.text("corporate_deductible_source", ""),
        )
        for code in sorted(eligibility.corporate_deductible_coverages):
            cov = next((c for c in p["coverages"] if c.code == code), None)
            if cov is None:
                raise el.fail("corporate_deductible_coverages", f"unknown coverage {code!r}")
            if not any(o.deductible for o in cov.options):
                raise el.fail("corporate_deductible_coverages", f"{code} has no option with a deductible")
        el.check_unknown()
    fleet: RateTable | None = None
    if root.has("fleet"):
        fl = root.table("fleet")
        rows = []
        for row in fl.tables("steps"):
            top = row.raw("max_loss_ratio", None)
            rows.append(RateStep(None if top is None else Decimal(str(top)), row.integer("change_points")))
            row.check_unknown()
        if not rows or rows[-1].max_loss_ratio is not None:
            raise fl.fail("steps", "the last row has no max_loss_ratio (it takes every higher loss ratio)")
        fleet = RateTable(tuple(rows), fl.integer("floor_percent"), fl.integer("ceiling_percent"), fl.text("source"))
        fl.check_unknown()
    if eligibility.fleet_contracts and fleet is None:
        raise root.fail("fleet", "eligibility.fleet_contracts needs a [fleet] rate table")
    assistance: list[AssistanceLimit] = []
    for a in root.tables("road_assistance", []):
        assistance.append(
            AssistanceLimit(code=a.text("code"), ja=a.text("ja"), en=a.text("en"),
                            amount=a.integer("amount", lo=0), unit=a.text("unit"), source=a.text("source"),
                            services=a.enums("services", AssistanceKind, []),
                            basis=a.enum("basis", AssistanceBasis, AssistanceBasis.SERVICE),
                            channels=a.enums("channels", Channel, []),
                            min_distance_km=a.integer("min_distance_km", 0, lo=0),
                            not_at_home=a.flag("not_at_home", False),
                            requires=a.strs("requires", []),
                            charged_at_home=a.flag("charged_at_home", False),
                            unlimited_for=a.enums("unlimited_for", ContractTrait, []),
                            jaf_amount=a.integer("jaf_amount", lo=0) if a.has("jaf_amount") else None,
                            jaf_only=a.flag("jaf_only", False),
                            not_after_tow=a.flag("not_after_tow", False),
                            uses_per_period=a.integer("uses_per_period", lo=1) if a.has("uses_per_period") else None,
                            uncapped_if_pre_approved=a.enums("uncapped_if_pre_approved", AssistanceKind, []),
                            or_vehicle_si_share=a.rate("or_vehicle_si_share", None))
        )
        a.check_unknown()
        lim = assistance[-1]
        if lim.not_at_home and lim.charged_at_home:
            raise a.fail("charged_at_home", "a limit is either refused (not_at_home) or charged at home")
        if (lim.basis is AssistanceBasis.EXTRA_YEN) != (lim.uses_per_period is not None):
            raise a.fail("uses_per_period", "uses_per_period goes with basis EXTRA_YEN, and EXTRA_YEN needs it")

    require_one_of = root.strs("require_one_of", [])
    for c in require_one_of:
        if c not in cov_codes:
            raise root.fail("require_one_of", f"unknown coverage {c!r}")
    p["discounts"] = _discounts(root, cov_codes)

    term_months = root.raw("term_months", [12])
    if not isinstance(term_months, list) or not term_months or not all(
        isinstance(m, int) and not isinstance(m, bool) and (1 <= m <= 12 or m in (24, 36)) for m in term_months
    ):
        raise root.fail("term_months", "expected a non-empty list of month counts 1..12, 24 or 36")

    product = Product(
        id=root.text("id"), ja=root.text("ja"), en=root.text("en"),
        insurer_ja=root.text("insurer_ja"), insurer_en=root.text("insurer_en"),
        kind=root.enum("kind", ProductKind), source=root.text("source"), source_file=file,
        valid_from=root.day("valid_from", None),
        use_types=p["use_types"], channels=root.enums("channels", Channel), channel_rules=tuple(channel_rules),
        age_conditions=p["age_conditions"], driver_restrictions=p["driver_restrictions"],
        use_purposes=p["use_purposes"], mileage_classes=p["mileage_classes"],
        term_months=frozenset(term_months), graded=graded, grade_source=root.text("grade_source", ""),
        grade_one_repeat_surcharge=root.rate("grade_one_repeat_surcharge", None),
        grade_one_repeat_surcharge_source=root.text("grade_one_repeat_surcharge_source", ""),
        factor_order=order, factor_sources=factor_sources,
        coverages=p["coverages"], require_one_of=require_one_of,
        require_one_of_source=root.text("require_one_of_source", ""),
        riders=p["riders"], discounts=p["discounts"], age_band=age_band,
        rating_class_ranges=ranges, rating_class_source=rc_source,
        payment=payment, windows=tuple(windows), road_assistance=tuple(assistance),
        refund_method=root.enum("refund_method", RefundMethod), refund_source=root.text("refund_source", ""),
        tariffs=_tariffs(root, p), renewal=renewal, eligibility=eligibility, fleet=fleet,
        connected_plan=_connected_plan(root),
    )
    root.check_unknown()
    return product


def load_product_file(path: Path | str) -> Product:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        raise ProductFileError(path.name, "<syntax>", str(e)) from None
    product = parse_product(data, path.name)
    if path.stem != product.id:
        raise ProductFileError(path.name, "id", f"file name must be the product id ({product.id}.toml)")
    return product


@dataclass(frozen=True, slots=True)
class Catalog:
    products: Mapping[str, Product]

    def get(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.products.values())


def load_catalog(directory: Path | str = PRODUCTS_DIR, *, loader: Callable[[Path], Product] = load_product_file) -> Catalog:
    """Every `*.toml` product file of a directory, keyed by product id."""
    products: dict[str, Product] = {}
    for path in sorted(Path(directory).glob("*.toml")):
        p = loader(path)
        if p.id in products:
            raise ProductFileError(path.name, "id", f"duplicate product id {p.id!r}")
        products[p.id] = p
    return Catalog(products)


_DEFAULT: Catalog | None = None


def default_catalog() -> Catalog:
    """The four shipped products, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_catalog()
    return _DEFAULT
