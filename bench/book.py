"""A realistic book of contracts, bulk-inserted straight into the policy tables, for benchmarks.

Run: .venv/bin/python bench/book.py --dsn postgresql://postgres@127.0.0.1:5432/bench --contracts 20000

What one contract gets (deterministic for a seed and a `today`):
- a policyholder (a person, or for the commercial product sometimes a corporation), a named insured
  (the policyholder when a person, mostly), 1–3 drivers (SELF, spouse, a young relative, an
  employee) with birth dates across ages 18–85;
- a vehicle of a use type the product insures, rating classes, value, fuel, AEB;
- one 12-month term on 16:00 JST boundaries; statuses mostly IN_FORCE, some EXPIRED / CANCELLED,
  a few IN_FORCE with DELINQUENT or CANCEL_PENDING;
- 1–3 current contract versions split by endorsements (contiguous, never overlapping), plus the
  superseded rows each split leaves behind, as the store's append_version would; 1–3 drivers per
  version; a transaction per issue / endorsement / cancellation; a grade record (graded products);
  an event per transaction, numbered from contracts.event_seq.

Rows are written with `INSERT … SELECT FROM unnest(…)` (one statement per table per chunk) with ids
taken from the tables' own sequences, so a book can be added to a database that already holds
data. JSON goes over the wire as text and is cast in SQL, so any asyncpg connection works, whatever
codecs it has. Claims tables do not exist yet: add a `_claims` step to `_Chunk` and `_TABLES` when
they do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import asyncpg

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.calendar import JST, YearMonth, add_months, age_on, cover_moment
from domain.explanation import Explanation, Step, StepKind
from domain.grade import GradeMarker, GradeRecord, grade_factor, rule_ref
from domain.products import Product, Tariff, default_catalog
from domain.products.model import PASSENGER_SIZE, Factor
from domain.rating import (
    CoverageChoice,
    NamedInsured,
    Premium,
    PremiumLine,
    QuoteInput,
    VehicleFacts,
)
from domain.rating_codec import (
    coverages_to_json,
    explanation_to_json,
    premium_to_json,
    quote_to_json,
)
from domain.vocab import (
    AgeCondition,
    Channel,
    DriverRestriction,
    Fuel,
    LicenceColour,
    PaymentMethod,
    UseType,
)

# Share of the book per product (the personal product dominates a real direct/agency book).
PRODUCT_WEIGHTS: dict[str, int] = {
    "rakuten-drive-assist": 40,
    "aioi-tough-biz": 25,
    "tokio-total-assist-group": 20,
    "kyosai-accident-expense": 15,
}
USE_TYPE_WEIGHTS: dict[UseType, int] = {
    UseType.PRIVATE_STANDARD_PASSENGER: 6,
    UseType.PRIVATE_SMALL_PASSENGER: 5,
    UseType.PRIVATE_KEI_PASSENGER: 5,
    UseType.PRIVATE_KEI_TRUCK: 2,
    UseType.COMMERCIAL_STANDARD_TRUCK: 3,
    UseType.COMMERCIAL_SMALL_TRUCK: 2,
    UseType.COMMERCIAL_KEI_TRUCK: 2,
}
N_AGENCIES = 20
CHUNK = 2500
WRITERS = 2

_SURNAMES = [("佐藤", "サトウ", "Sato"), ("鈴木", "スズキ", "Suzuki"), ("高橋", "タカハシ", "Takahashi"),
             ("田中", "タナカ", "Tanaka"), ("伊藤", "イトウ", "Ito"), ("渡辺", "ワタナベ", "Watanabe"),
             ("山本", "ヤマモト", "Yamamoto"), ("中村", "ナカムラ", "Nakamura"), ("小林", "コバヤシ", "Kobayashi"),
             ("加藤", "カトウ", "Kato"), ("吉田", "ヨシダ", "Yoshida"), ("山田", "ヤマダ", "Yamada"),
             ("佐々木", "ササキ", "Sasaki"), ("山口", "ヤマグチ", "Yamaguchi"), ("松本", "マツモト", "Matsumoto")]
_GIVEN = [("太郎", "タロウ", "Taro"), ("花子", "ハナコ", "Hanako"), ("健", "ケン", "Ken"), ("美咲", "ミサキ", "Misaki"),
          ("大輔", "ダイスケ", "Daisuke"), ("陽菜", "ヒナ", "Hina"), ("翔太", "ショウタ", "Shota"),
          ("結衣", "ユイ", "Yui"), ("誠", "マコト", "Makoto"), ("恵子", "ケイコ", "Keiko"),
          ("蓮", "レン", "Ren"), ("さくら", "サクラ", "Sakura")]
_COMPANY = [("運送", "Transport"), ("建設", "Construction"), ("商事", "Trading"), ("工業", "Industries"),
            ("物流", "Logistics"), ("食品", "Foods")]
_PREFS = [("東京都", "Tokyo", "品川", "100"), ("神奈川県", "Kanagawa", "横浜", "220"),
          ("大阪府", "Osaka", "なにわ", "530"), ("愛知県", "Aichi", "名古屋", "450"),
          ("福岡県", "Fukuoka", "福岡", "810"), ("北海道", "Hokkaido", "札幌", "060"),
          ("埼玉県", "Saitama", "大宮", "330"), ("千葉県", "Chiba", "千葉", "260")]
_KANA = "あいうえかきくけこさすせそたちつてとなにぬねのはひふほまみむめもやゆよらりるろれわ"
_MODELS = {"STANDARD": ["ZVW50", "GRS210", "RK5", "CV1W", "GJ2FP"], "SMALL": ["NHP10", "GK3", "ZC33S", "DJ5FS"],
           "KEI": ["JF3", "LA650S", "MK53S", "B21A"], "TRUCK": ["TRH200V", "S500P", "FEB90", "NJR88"]}


@dataclass(frozen=True, slots=True)
class PremiumJson:
    """The JSON columns of a contract version, in the shapes domain.rating_codec stores:
    `premium` (premium_to_json), `explanation` (explanation_to_json), `coverages`
    (coverages_to_json), `discounts` (codes) and `rating_input` (quote_to_json)."""

    premium_yen: int
    premium: dict[str, Any]
    coverages: list[dict[str, Any]]
    discounts: list[str]
    explanation: dict[str, Any]
    rating_input: dict[str, Any]


_TEN = Decimal(10)


def premium_json(product: Product, tariff: Tariff, quote: QuoteInput) -> PremiumJson:
    """A plausible premium for `quote`, built as the domain's own Premium / Explanation objects and
    stored through domain.rating_codec, so the JSON has exactly the shapes the API reads.

    Not the rating engine (too slow for a bulk generator and strict about riders and discount facts):
    base per coverage and use type, limit-option, age-condition and driver-restriction factors from
    the product's tariff, the pamphlet grade coefficient, group / internet / gold discounts, rounding
    down to 10 yen. Kept in one function so it can be swapped for `rate()` in one place.
    """
    demo = f"DEMONSTRATION tariff {tariff.version}" if tariff.demonstration else f"tariff {tariff.version}"
    factors: list[tuple[StepKind, str, str, str, str, Decimal, str]] = []  # kind, factor, ja, en, value, rate, rule
    if quote.grade is not None:
        factors.append((StepKind.FACTOR, Factor.GRADE.value, "ノンフリート等級", "Non-fleet grade",
                        quote.grade.label, grade_factor(quote.grade), rule_ref(quote.grade)))
    for f, key, ja, en in ((Factor.AGE_CONDITION, quote.age_condition.value, "運転者年令条件", "Age condition"),
                           (Factor.DRIVER_RESTRICTION, quote.driver_restriction.value, "運転者限定",
                            "Driver restriction")):
        rate = tariff.factors.get(f, {}).get(key)
        if rate is not None:
            factors.append((StepKind.FACTOR, f.value, ja, en, key, rate, demo))
    gold = quote.named_insured.licence_colour is LicenceColour.GOLD
    for d in product.discounts:
        kind = d.kind.value
        if (kind == "GROUP" and quote.channel is Channel.GROUP) or (
                kind == "INTERNET" and quote.channel is Channel.INTERNET) or (kind == "GOLD_LICENCE" and gold):
            rate = d.rate if d.rate is not None else Decimal("0.10")
            factors.append((StepKind.DISCOUNT, d.code, d.ja, d.en, "GOLD" if kind == "GOLD_LICENCE"
                            else quote.channel.value, Decimal(1) - rate, d.source))
    steps: list[Step] = []
    lines: list[PremiumLine] = []
    for choice in quote.coverages:
        code, option = choice.code, choice.option or ""
        amount = Decimal(tariff.base.get(code, {}).get(quote.vehicle.use_type, 20_000))
        steps.append(Step(code, StepKind.BASE, "BASE", "基本保険料", "Base premium", quote.vehicle.use_type.value,
                          None, demo, Decimal(0), amount))
        opt = tariff.option_factors.get(code, {}).get(option)
        if opt is not None and opt != 1:
            steps.append(Step(code, StepKind.FACTOR, Factor.LIMIT_OPTION.value, "補償内容", "Limit option", option,
                              opt, demo, amount, amount * opt))
            amount = amount * opt
        for kind, factor, ja, en, value, rate, rule in factors:
            steps.append(Step(code, kind, factor, ja, en, value, rate, rule, amount, amount * rate))
            amount = amount * rate
        rounded = (amount / _TEN).to_integral_value(ROUND_DOWN) * _TEN
        steps.append(Step(code, StepKind.ROUNDING, "ROUNDING", StepKind.ROUNDING.ja, StepKind.ROUNDING.en, "",
                          None, demo, amount, rounded))
        cov = product.coverage(code)
        lines.append(PremiumLine(code, False, cov.ja if cov else code, cov.en if cov else code, int(rounded)))
    total = sum(ln.amount for ln in lines)
    if quote.payment_method is PaymentMethod.MONTHLY:
        instalments = (total - total // 12 * 11, *([total // 12] * 11))
    else:
        instalments = (total,)
    explanation = Explanation(product.id, tariff.version, tariff.demonstration, tuple(steps))
    discounts = tuple(f[1] for f in factors if f[0] is StepKind.DISCOUNT)
    prem = Premium(product.id, tariff.version, tariff.demonstration, quote.start_date, quote.term_months,
                   quote.payment_method, total, tuple(lines), instalments, (), discounts, explanation)
    return PremiumJson(total, premium_to_json(prem), coverages_to_json(quote, prem), list(discounts),
                       explanation_to_json(explanation), quote_to_json(quote))


# --------------------------------------------------------------------------------- generation


@dataclass
class _Rows:
    """Column lists per table, filled for one chunk and written with one unnest each."""

    parties: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(14)])
    vehicles: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(15)])
    contracts: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(10)])
    terms: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(7)])
    transactions: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(10)])
    versions: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(21)])
    drivers: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(5)])
    grades: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(8)])
    events: list[list[Any]] = field(default_factory=lambda: [[] for _ in range(7)])

    @staticmethod
    def add(cols: list[list[Any]], *values: Any) -> None:
        for c, v in zip(cols, values, strict=True):
            c.append(v)


# (table, columns, SQL element types, select expressions). `$n` refers to the n-th column array.
_TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...] | None]] = {
    "parties": ("parties", ("id", "kind", "name_kanji", "name_kana", "name_en", "birth_date", "postal_code",
                            "address_ja", "address_en", "created_at", "account_party_id", "agency_id",
                            "licence_colour", "licence_date"),
                ("bigint", "text", "text", "text", "text", "date", "text", "text", "text", "timestamptz", "bigint",
                 "bigint", "text", "date"), None),
    "vehicles": ("vehicles", ("id", "registration_no", "chassis_no", "use_type", "model_code", "first_registration",
                              "model_release", "rating_classes", "aeb", "fuel", "welfare", "value_yen", "owner_party_id",
                              "account_party_id", "agency_id"),
                 ("bigint", "text", "text", "text", "text", "date", "date", "text", "boolean", "text", "boolean",
                  "bigint", "bigint", "bigint", "bigint"),
                 ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8::jsonb", "c9", "c10", "c11", "c12", "c13", "c14",
                  "c15")),
    "contracts": ("contracts", ("id", "policy_number", "product_id", "policyholder_id", "agency_id", "channel",
                                "statuses", "lock_version", "event_seq", "created_at"),
                  ("bigint", "text", "text", "bigint", "bigint", "text", "text", "integer", "integer", "timestamptz"),
                  ("c1", "c2", "c3", "c4", "c5", "c6", "c7::text[]", "c8", "c9", "c10")),
    "terms": ("terms", ("id", "contract_id", "term_no", "starts_at", "ends_at", "status", "created_at"),
              ("bigint", "bigint", "integer", "timestamptz", "timestamptz", "text", "timestamptz"), None),
    "transactions": ("transactions", ("id", "contract_id", "kind", "actor_subject", "actor_role", "at",
                                      "effective_at", "reason", "premium_delta_yen", "explanation"),
                     ("bigint", "bigint", "text", "text", "text", "timestamptz", "timestamptz", "text", "bigint",
                      "text"),
                     ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10::jsonb")),
    "versions": ("contract_versions",
                 ("id", "contract_id", "valid", "recorded_at", "superseded_at", "transaction_id", "derived_from_id",
                  "vehicle_id", "named_insured_id", "age_condition", "driver_restriction", "premium_yen", "grade",
                  "grade_marker", "grade_period", "coverages", "discounts", "explanation", "premium",
                  "rating_input"),
                 # c3/c4: the bounds of `valid`
                 ("bigint", "bigint", "timestamptz", "timestamptz", "timestamptz", "timestamptz", "bigint",
                  "bigint", "bigint", "bigint", "text", "text", "bigint", "smallint", "text", "smallint", "text",
                  "text", "text", "text", "text"),
                 ("c1", "c2", "tstzrange(c3, c4, '[)')", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13",
                  "c14", "c15", "c16", "c17::jsonb", "c18::jsonb", "c19::jsonb", "c20::jsonb", "c21::jsonb")),
    "drivers": ("version_drivers", ("version_id", "party_id", "relationship", "licence_colour", "licence_date"),
                ("bigint", "bigint", "text", "text", "date"), None),
    "grades": ("grade_records", ("id", "contract_id", "term_id", "grade", "marker", "period", "source",
                                 "recorded_at"),
               ("bigint", "bigint", "bigint", "smallint", "text", "smallint", "text", "timestamptz"), None),
    "events": ("events", ("contract_id", "seq", "kind", "payload", "at", "transaction_id", "published_at"),
               ("bigint", "integer", "text", "text", "timestamptz", "bigint", "timestamptz"),
               ("c1", "c2", "c3", "c4::jsonb", "c5", "c6", "c7")),
}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _insert_sql(key: str) -> str:
    table, cols, types, exprs = _TABLES[key]
    args = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    names = ", ".join(f"c{i + 1}" for i in range(len(types)))
    select = ", ".join(exprs or [f"c{i + 1}" for i in range(len(types))])
    return f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM unnest({args}) AS u({names})"


@dataclass
class _Person:
    id: int
    birth: date
    kanji: str
    licence_colour: LicenceColour
    licence_date: date


def _plate(region: str, vehicle_id: int, r: random.Random) -> str:
    """A registration number unique per vehicle id (a number is on one live contract at a time,
    migration 0018): class number, kana and serial are digits of the id. The random draws the
    plate used to take are still taken, so the rest of a seeded book is what it always was."""
    r.choice(["300", "500", "330", "580", "400"]), r.choice(_KANA), r.randint(1, 99), r.randint(0, 99)
    serial, rest = vehicle_id % 9999 + 1, vehicle_id // 9999
    kana = _KANA[1:][rest % (len(_KANA) - 1)]  # never あ: the demo book's plates are あ
    cls = 500 + rest // (len(_KANA) - 1) % 500  # 500-999: the demo book, README and tests use 300-499
    return f"{region} {cls} {kana} {serial // 100:>2}-{serial % 100:02d}"


class _Generator:
    def __init__(self, rnd: random.Random, today: date, prefix: str, agencies: list[int]) -> None:
        self.rnd = rnd
        self.today = today
        self.now = datetime.combine(today, datetime.min.time(), tzinfo=JST)
        self.prefix = prefix
        self.agencies = agencies
        catalog = {p.id: p for p in default_catalog()}
        self.products = [catalog[k] for k in PRODUCT_WEIGHTS]
        self.product_weights = list(PRODUCT_WEIGHTS.values())

    # ids come from the sequences: a pool of pre-fetched ids per table, consumed in order
    def take(self, ids: dict[str, list[int]], key: str) -> int:
        return ids[key].pop()

    def person(self, rows: _Rows, ids: dict[str, list[int]], age_lo: int, age_hi: int, surname: tuple[str, str, str],
               pref: tuple[str, str, str, str], created: datetime, account: int | None,
               agency: int | None) -> _Person:
        """A person with a driving licence; `account` None: the person is their own account."""
        r = self.rnd
        given = r.choice(_GIVEN)
        birth = self.today - timedelta(days=r.randint(age_lo * 365 + 1, age_hi * 365 + 300))
        pid = self.take(ids, "parties")
        kanji = f"{surname[0]} {given[0]}"
        colour = r.choices(("GOLD", "BLUE", "GREEN"), (55, 40, 5))[0]
        licensed = min(birth + timedelta(days=18 * 366 + r.randint(0, 3000)), self.today - timedelta(days=30))
        if licensed > self.today - timedelta(days=3 * 366):
            colour = "GREEN" if licensed > self.today - timedelta(days=366) else "BLUE"
        _Rows.add(rows.parties, pid, "PERSON", kanji, f"{surname[1]} {given[1]}", f"{given[2]} {surname[2]}", birth,
                  f"{pref[3]}-{r.randint(0, 9999):04d}",
                  f"{pref[0]}{pref[2]}区{r.randint(1, 9)}-{r.randint(1, 30)}-{r.randint(1, 20)}",
                  f"{r.randint(1, 9)}-{r.randint(1, 30)}-{r.randint(1, 20)}, {pref[1]}", created,
                  pid if account is None else account, agency, colour, licensed)
        return _Person(pid, birth, kanji, LicenceColour(colour), licensed)

    def contract(self, rows: _Rows, ids: dict[str, list[int]], n: int) -> None:
        r = self.rnd
        p: Product = r.choices(self.products, self.product_weights)[0]
        channel = r.choice(sorted(p.channels))
        use_types = sorted(p.use_types)
        for rule in p.channel_rules:
            if rule.channel is channel:
                use_types = [u for u in use_types if u not in rule.excluded_use_types]
        use_type = r.choices(use_types, [USE_TYPE_WEIGHTS.get(u, 1) for u in use_types])[0]

        # --- dates and status: starts on a day whose tariff exists, 16:00 JST boundaries
        first_tariff = min(t.effective_from for t in p.tariffs)
        lo_live = max(self.today - timedelta(days=364), first_tariff, p.valid_from or first_tariff)
        roll = r.random()
        status = "IN_FORCE" if roll < 0.87 else "EXPIRED" if roll < 0.93 else "CANCELLED"
        lo_old = max(self.today - timedelta(days=729), first_tariff, p.valid_from or first_tariff)
        if status == "EXPIRED" and lo_old > self.today - timedelta(days=366):
            status = "IN_FORCE"
        if status == "EXPIRED":
            start = lo_old + timedelta(days=r.randint(0, (self.today - timedelta(days=366) - lo_old).days))
        else:
            start = lo_live + timedelta(days=r.randint(0, max(0, (self.today - timedelta(days=1) - lo_live).days)))
        starts_at, ends_at = cover_moment(start), cover_moment(add_months(start, 12))
        tariff = p.tariff_on(start) or p.tariffs[-1]
        issued_at = starts_at - timedelta(days=r.randint(1, 40), minutes=r.randint(0, 600))
        last_moment = min(ends_at, self.now) - timedelta(days=1)   # endorsements and cancellation before this
        cancel_at: datetime | None = None
        if status == "CANCELLED":
            lived = (last_moment - starts_at).days
            if lived < 2:
                status = "IN_FORCE"
            else:
                cancel_at = cover_moment((starts_at + timedelta(days=r.randint(2, lived))).date())
                last_moment = cancel_at - timedelta(days=1)
        statuses = [status]
        if status == "IN_FORCE" and r.random() < 0.03:
            statuses.append(r.choice(["DELINQUENT", "CANCEL_PENDING", "DO_NOT_RENEW"]))

        # --- people: every party of the contract is in the policyholder's account
        agency = r.choice(self.agencies) if channel is not Channel.INTERNET else None
        pref = r.choice(_PREFS)
        surname = r.choice(_SURNAMES)
        corporate = p.kind.value == "COMMERCIAL" and r.random() < 0.4
        if corporate:
            holder_id = self.take(ids, "parties")
            comp = r.choice(_COMPANY)
            _Rows.add(rows.parties, holder_id, "CORPORATION", f"株式会社{surname[0]}{comp[0]}", None,
                      f"{surname[2]} {comp[1]} Co., Ltd.", None, f"{pref[3]}-{r.randint(0, 9999):04d}",
                      f"{pref[0]}{pref[2]}区{r.randint(1, 9)}-{r.randint(1, 30)}", f"{pref[1]}", issued_at,
                      holder_id, agency, None, None)
            named = self.person(rows, ids, 22, 70, r.choice(_SURNAMES), pref, issued_at, holder_id, agency)
        elif r.random() < 0.1:  # a policyholder other than the named insured (a parent paying, ...)
            holder_id = self.person(rows, ids, 45, 85, surname, pref, issued_at, None, agency).id
            named = self.person(rows, ids, 18, 40, surname, pref, issued_at, holder_id, agency)
        else:
            named = self.person(rows, ids, 18, 85, surname, pref, issued_at, None, agency)
            holder_id = named.id
        drivers: list[tuple[_Person, str]] = [(named, "SELF")]
        extra = r.choices([0, 1, 2], [45, 40, 15])[0]
        for kind in r.sample(["SPOUSE", "COHABITING_RELATIVE", "EMPLOYEE" if corporate else "OTHER"], extra):
            if kind == "SPOUSE":
                age = min(85, max(18, age_on(named.birth, self.today) + r.randint(-5, 5)))
                spouse = self.person(rows, ids, age, age, surname, pref, issued_at, holder_id, agency)
                drivers.append((spouse, kind))
            elif kind == "COHABITING_RELATIVE":
                drivers.append((self.person(rows, ids, 19, 30, surname, pref, issued_at, holder_id, agency), kind))
            else:
                drivers.append((self.person(rows, ids, 20, 65, r.choice(_SURNAMES), pref, issued_at, holder_id,
                                            agency), kind))
        payments = sorted(p.payment.methods)
        for rule in p.channel_rules:
            if rule.channel is channel and rule.payment_methods:
                payments = sorted(rule.payment_methods)
        payment = r.choice(payments)

        # --- vehicle
        size = PASSENGER_SIZE.get(use_type)
        model_kind = ("KEI" if use_type.is_kei else "SMALL" if "SMALL" in use_type.value
                      else "TRUCK" if "TRUCK" in use_type.value else "STANDARD")
        first_reg = add_months(date(start.year, start.month, 1), -r.randint(0, 150))
        classes: dict[str, int] = {}
        if size is not None and size in p.rating_class_ranges:
            top = p.rating_class_ranges[size][1]
            classes = {g: r.randint(1, top) for g in ("BI", "PD", "INJURY", "VEHICLE")}
        value = r.randint(3, 15) * 100_000 if use_type.is_kei else r.randint(8, 60) * 100_000
        release = add_months(first_reg, -r.randint(0, 36))
        aeb, welfare = r.random() < 0.6, r.random() < 0.02
        fuel = r.choices(list(Fuel), [60, 5, 28, 4, 2, 0, 1])[0]
        vid = self.take(ids, "vehicles")
        _Rows.add(rows.vehicles, vid, _plate(pref[2], vid, r),
                  f"{r.choice(_MODELS[model_kind])}-{r.randint(100000, 999999)}", use_type.value,
                  r.choice(_MODELS[model_kind]), first_reg, release, json.dumps(classes), aeb, fuel.value, welfare,
                  value, holder_id, holder_id, agency)

        # --- grade, coverages
        grade: GradeRecord | None = None
        if p.graded:
            g = r.choices(range(1, 21), [1, 1, 1, 2, 3, 8, 6, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 5, 5, 30])[0]
            if g == 6:
                grade = GradeRecord(6, GradeMarker.S, 0) if r.random() < 0.7 else GradeRecord(6, GradeMarker.F, 0)
            elif g == 7:
                grade = GradeRecord(7, r.choice([GradeMarker.S, GradeMarker.F]), 0)
            else:
                grade = GradeRecord.carried(g, r.choice([0] * 9 + [1, 2, 3]) if g >= 8 else 0)
        # the version row needs a grade even for an ungraded product: the new-entry grade, period 0
        vgrade = grade or GradeRecord(6, GradeMarker.S, 0)
        chosen: list[CoverageChoice] = []
        for c in p.coverages:
            if c.mandatory or c.code in ("BI", "PD") or r.random() < (0.7 if c.code != "VEHICLE" else 0.55):
                opt = c.default_option if r.random() < 0.75 else r.choice(c.options).code
                if corporate and c.code in p.eligibility.corporate_deductible_coverages:
                    # a company must set a deductible (aioi 002a L2813-2814)
                    opt = r.choice([o.code for o in c.options if o.deductible])
                chosen.append(CoverageChoice(c.code, opt))
        coverages = tuple(chosen)
        use_purpose = r.choice(sorted(p.use_purposes)) if p.use_purposes else None
        mileage = r.choice(p.mileage_classes) if p.mileage_classes else None
        vehicle = VehicleFacts(use_type, YearMonth.of(first_reg), YearMonth.of(release), classes, aeb, fuel,
                               welfare, value)

        # --- versions: 1-3 current ones split by endorsements at 16:00 on days inside the term
        n_current = r.choices([1, 2, 3], [60, 30, 10])[0]
        days = max(0, (last_moment - starts_at).days)
        split_days = sorted(r.sample(range(1, days), min(n_current - 1, max(0, days - 1)))) if days > 1 else []
        boundaries = [starts_at] + [cover_moment((starts_at + timedelta(days=d)).date()) for d in split_days]
        n_current = len(boundaries)
        restrictions = sorted(p.driver_restrictions) or [DriverRestriction.NONE]
        contract_id = self.take(ids, "contracts")
        term_id = self.take(ids, "terms")
        recorded = issued_at
        lock_version = 1
        events: list[tuple[str, dict[str, Any], datetime, int]] = []
        prev_open: int | None = None        # id of the open-ended version the next split supersedes
        prev_row = 0                         # its row index in this chunk
        previous: tuple[datetime, tuple[Any, ...], list[tuple[int, str, str, date]]] | None = None
        prev_premium = 0
        # version k covers [boundaries[k], boundaries[k+1]) once split, and has drivers[:k_drivers]
        base_drivers = max(1, len(drivers) - (n_current - 1))
        for k, at in enumerate(boundaries):
            ver_drivers = drivers[: min(len(drivers), base_drivers + k)]
            youngest = min(age_on(d.birth, at.date()) for d, _ in ver_drivers)
            ages = [a for a in sorted(p.age_conditions, key=lambda a: a.minimum_age) if a.minimum_age <= youngest]
            age_cond = ages[-1] if ages and r.random() < 0.85 else (ages[0] if ages else AgeCondition.ANY)
            rels = {rel for _, rel in ver_drivers}
            fitting = [d for d in restrictions if d is DriverRestriction.NONE
                       or (d is DriverRestriction.NAMED_INSURED_ONLY and rels == {"SELF"})
                       or (d is DriverRestriction.NAMED_INSURED_AND_SPOUSE and rels <= {"SELF", "SPOUSE"})
                       or (d is DriverRestriction.FAMILY and "EMPLOYEE" not in rels and "OTHER" not in rels)]
            restriction = r.choice(fitting)
            quote = QuoteInput(
                product_id=p.id, start_date=start, vehicle=vehicle, coverages=coverages,
                named_insured=NamedInsured(named.birth, named.licence_colour, individual=not corporate),
                channel=channel, payment_method=payment, age_condition=age_cond, driver_restriction=restriction,
                use_purpose=use_purpose, mileage_class=mileage, grade=grade)
            prem = premium_json(p, tariff, quote)
            if k > 0:
                recorded = max(recorded + timedelta(hours=1),
                               at - timedelta(days=r.randint(0, 7), minutes=r.randint(0, 600)))
            tx_id = self.take(ids, "transactions")
            kind = "ISSUE" if k == 0 else "ENDORSE"
            delta = prem.premium_yen if k == 0 else prem.premium_yen - prev_premium
            _Rows.add(rows.transactions, tx_id, contract_id, kind, f"{self.prefix}staff-{r.randint(1, 40)}",
                      "staff" if channel is not Channel.INTERNET else "policyholder", recorded,
                      at, None if k == 0 else "driver / age condition change", delta,
                      json.dumps({"premium_yen": prem.premium_yen}))
            events.append(("ISSUED" if k == 0 else "ENDORSED", {"premium_yen": prem.premium_yen}, recorded, tx_id))
            data = (vid, named.id, age_cond.value, restriction.value, prem.premium_yen, vgrade.grade,
                    vgrade.marker.value, vgrade.period, _dumps(prem.coverages), _dumps(prem.discounts),
                    _dumps(prem.explanation), _dumps(prem.premium), _dumps(prem.rating_input))
            if prev_open is not None:
                # the split (as version_repo.append_version does it): the open version is superseded
                # and its data carried on over [its start, at) by a new row derived from it
                rows.versions[5][prev_row] = recorded
                assert previous is not None
                head_at, head_data, head_drivers = previous
                head_id = self.take(ids, "versions")
                self.version(rows, head_id, contract_id, head_at, at, recorded, tx_id, prev_open, head_data)
                self.version_drivers(rows, head_id, head_drivers)
            open_id = self.take(ids, "versions")
            prev_row = self.version(rows, open_id, contract_id, at, None, recorded, tx_id, prev_open, data)
            driver_rows = [(d.id, rel, d.licence_colour.value, d.licence_date) for d, rel in ver_drivers]
            self.version_drivers(rows, open_id, driver_rows)
            previous = (at, data, driver_rows)
            prev_open, prev_premium = open_id, prem.premium_yen
            lock_version += 0 if k == 0 else 1
        term_status = status
        if cancel_at is not None:
            tx_id = self.take(ids, "transactions")
            _Rows.add(rows.transactions, tx_id, contract_id, "CANCEL", f"{self.prefix}staff-{r.randint(1, 40)}",
                      "staff", cancel_at - timedelta(days=r.randint(0, 5)), cancel_at, "policyholder request",
                      -(prev_premium // 2), json.dumps({}))
            events.append(("CANCELLED", {}, cancel_at, tx_id))
            lock_version += 1
        elif status == "EXPIRED":
            events.append(("EXPIRED", {}, ends_at, 0))
        _Rows.add(rows.contracts, contract_id, f"{self.prefix}{n:08d}", p.id, holder_id, agency, channel.value,
                  "{" + ",".join(sorted(statuses)) + "}", lock_version, len(events), issued_at)
        _Rows.add(rows.terms, term_id, contract_id, 1, starts_at, ends_at, term_status, issued_at)
        if grade is not None:
            source = "NEW" if grade.marker is GradeMarker.S else r.choice(["RENEWAL", "OTHER_INSURER"])
            _Rows.add(rows.grades, self.take(ids, "grades"), contract_id, term_id, grade.grade,
                      grade.marker.value, grade.period, source, issued_at)
        for seq, (kind, payload, at, tx) in enumerate(events, start=1):
            published = at + timedelta(seconds=r.randint(1, 30)) if at < self.now else None
            _Rows.add(rows.events, contract_id, seq, kind, json.dumps(payload), at, tx or None, published)

    @staticmethod
    def version(rows: _Rows, vid: int, contract_id: int, lo: datetime, hi: datetime | None, recorded: datetime,
                tx_id: int, derived: int | None, data: tuple[Any, ...]) -> int:
        """Add a current version row (superseded_at NULL); answer its row index in the chunk."""
        _Rows.add(rows.versions, vid, contract_id, lo, hi, recorded, None, tx_id, derived, *data)
        return len(rows.versions[0]) - 1

    def version_drivers(self, rows: _Rows, version_id: int, drivers: list[tuple[int, str, str, date]]) -> None:
        for party, rel, colour, licence_date in drivers:
            _Rows.add(rows.drivers, version_id, party, rel, LicenceColour(colour).value, licence_date)


# the most ids one contract can take from each sequence (for the per-chunk reservation)
_IDS_PER_CONTRACT = {"parties": 5, "vehicles": 1, "contracts": 1, "terms": 1, "transactions": 4, "versions": 5,
                     "grades": 1}
_SEQ_TABLE = {"parties": "parties", "vehicles": "vehicles", "contracts": "contracts", "terms": "terms",
              "transactions": "transactions", "versions": "contract_versions", "grades": "grade_records"}
_INSERT_ORDER = ("parties", "vehicles", "contracts", "terms", "transactions", "versions", "drivers", "grades",
                 "events")


async def _reserve(conn: asyncpg.Connection, key: str, n: int) -> list[int]:
    """n ids from the table's own sequence, smallest last (consumed with pop())."""
    table = _SEQ_TABLE[key]
    ids = await conn.fetchval(
        "SELECT array_agg(nextval(pg_get_serial_sequence($1, 'id')) ORDER BY g) FROM generate_series(1, $2) g",
        table, n)
    return list(reversed(ids))


async def _agencies(conn: asyncpg.Connection, prefix: str, rnd: random.Random) -> list[int]:
    codes = [f"{prefix}AG{i:03d}" for i in range(1, N_AGENCIES + 1)]
    names = [f"{rnd.choice(_SURNAMES)[0]}保険サービス{i}" for i in range(1, N_AGENCIES + 1)]
    en = [f"{rnd.choice(_SURNAMES)[2]} Insurance Services {i}" for i in range(1, N_AGENCIES + 1)]
    rows = await conn.fetch(
        """INSERT INTO agencies (code, name_ja, name_en) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           RETURNING id""", codes, names, en)
    return [r["id"] for r in rows]


@dataclass(frozen=True, slots=True)
class BookStats:
    contracts: int
    rows: dict[str, int]          # table name → rows inserted
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return sum(self.rows.values()) / self.seconds if self.seconds else 0.0


async def generate_book(pool_or_dsn: asyncpg.Pool | str, n_contracts: int, *, seed: int = 1,
                        today: date | None = None, prefix: str | None = None, chunk: int = CHUNK,
                        progress: Callable[[int, int], None] | None = None) -> BookStats:
    """Insert a book of `n_contracts` contracts (and everything they hang on) into the database.

    Deterministic for (seed, today, prefix) apart from the ids, which come from the sequences.
    `today` (JST) anchors the terms (default: today in Japan); `prefix` starts every policy number
    and agency code (default `BK<seed>-`), so two books with different prefixes can share a database.
    Each chunk of `chunk` contracts is one transaction; `progress(done, total)` after each.
    """
    if n_contracts < 0:
        raise ValueError("n_contracts must be >= 0")
    today = today or datetime.now(JST).date()
    prefix = f"BK{seed}-" if prefix is None else prefix
    rnd = random.Random(seed)
    started = time.perf_counter()
    counts: dict[str, int] = {"agencies": 0, **{_TABLES[k][0]: 0 for k in _INSERT_ORDER}}
    sql = {k: _insert_sql(k) for k in _INSERT_ORDER}
    pool = pool_or_dsn if isinstance(pool_or_dsn, asyncpg.Pool) else None
    conns: list[asyncpg.Connection] = []
    for _ in range(WRITERS + 1):   # [0] reserves ids and analyses; the rest write
        conns.append(await pool.acquire() if pool is not None else await asyncpg.connect(str(pool_or_dsn)))

    async def write(conn: asyncpg.Connection, rows: _Rows) -> None:
        async with conn.transaction():
            for key in _INSERT_ORDER:
                cols = getattr(rows, key)
                if cols[0]:
                    await conn.execute(sql[key], *cols)
                    counts[_TABLES[key][0]] += len(cols[0])

    def generate(gen: _Generator, ids: dict[str, list[int]], first: int, n: int) -> _Rows:
        rows = _Rows()
        for i in range(first, first + n):
            gen.contract(rows, ids, i + 1)
        return rows

    # Generation (Python, in a thread) overlaps the writes of earlier chunks (PostgreSQL, on
    # WRITERS connections): the server's jsonb parsing of the explanations is the larger half.
    pending: list[asyncio.Task[None]] = []
    try:
        async with conns[0].transaction():
            agencies = await _agencies(conns[0], prefix, rnd)
        counts["agencies"] = len(agencies)
        gen = _Generator(rnd, today, prefix, agencies)
        done, k = 0, 0
        while done < n_contracts:
            n = min(chunk, n_contracts - done)
            ids = {key: await _reserve(conns[0], key, n * per) for key, per in _IDS_PER_CONTRACT.items()}
            rows = await asyncio.to_thread(generate, gen, ids, done, n)
            if len(pending) == WRITERS:    # the oldest write holds the connection this chunk needs
                await pending.pop(0)
            pending.append(asyncio.create_task(write(conns[1 + k % WRITERS], rows)))
            done, k = done + n, k + 1
            if progress is not None:
                progress(done, n_contracts)
        while pending:
            await pending.pop(0)
        # the planner needs real statistics before anyone measures a query against the book
        for table in ("parties", "vehicles", "contracts", "terms", "transactions", "contract_versions",
                      "version_drivers", "grade_records", "events", "agencies"):
            await conns[0].execute(f"ANALYZE {table}")
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for conn in conns:
            if pool is not None:
                await pool.release(conn)
            else:
                await conn.close()
    return BookStats(n_contracts, counts, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dsn", required=True, help="PostgreSQL URL of a migrated database")
    ap.add_argument("--contracts", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--prefix", default=None, help="policy number / agency code prefix (default BK<seed>-)")
    ap.add_argument("--today", type=date.fromisoformat, default=None, help="anchor date (JST), default today")
    args = ap.parse_args(argv)

    def show(done: int, total: int) -> None:
        print(f"  {done:,}/{total:,} contracts", file=sys.stderr, flush=True)

    stats = asyncio.run(generate_book(args.dsn, args.contracts, seed=args.seed, today=args.today,
                                      prefix=args.prefix, progress=show))
    total = sum(stats.rows.values())
    print(f"{stats.contracts:,} contracts, {total:,} rows in {stats.seconds:.1f} s "
          f"({stats.rows_per_second:,.0f} rows/s)")
    for k, v in stats.rows.items():
        print(f"  {k:<18} {v:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
