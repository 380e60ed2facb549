"""P5: renewal-offer recalculation over a large book, beside a plain SQL UPDATE of the same rows.

Run: .venv/bin/python bench/recalc.py --dsn postgresql://postgres@127.0.0.1:5432/bench_recalc --contracts 1000000
     (without --dsn: a scratch database `bench_recalc_<pid>`, dropped at the end, on DATABASE_URL's
      server or, when unset, on the embedded one `make run` uses — bench/servers.py)

Book (fast path, bulk SQL): `templates` distinct rakuten/aioi/tokio quotes rated by the real engine
(grades, birth years, age conditions, coverages) × `start_days` start dates, cloned to N contracts
with `INSERT … SELECT FROM generate_series`: a party and vehicle per template, then a contract, a
12-month term and one current version per contract holding its template's rating input. Every
term ends inside the offer window of `as_of`, so every contract is due. (Drivers, grade records,
explanations are not written: the recalculation reads none of them.)

Book with --distinct: every contract its own rating input (`_distinct_rows`: bench/rating.py's random
quotes over the four products in the book's product shares — use types, rating classes, registration,
AEB, fuel, birth dates, licences, coverages, channels, payments, age conditions, restrictions,
grades, car counts, member ranks, telematics), a party and a vehicle each, copied in by COPY; so no
two offers share a fingerprint and every offer is computed and stored for itself.

Measured (medians of --repeat):
- cold: every offer new (N offers, N events), by `recalc.drive` (a process per part);
- warm: the same run again, inputs unchanged (reads and fingerprints only, nothing written);
- floor: `UPDATE renewal_offers SET computed_at = …` of the same N rows in one statement.
Peak RSS of the part processes (RUSAGE_CHILDREN) and of the driver are printed, and the CPU seconds
of the part processes and (server on this machine) of the database's server processes: on a machine
shared with other work the wall time measures the load, the CPU time what the run costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.calendar import JST, RuleError, YearMonth, cover_moment
from domain.grade import GradeMarker, GradeRecord
from domain.products import default_catalog
from domain.rating import (
    CoverageChoice,
    NamedInsured,
    QuoteInput,
    RatingError,
    UsePurpose,
    VehicleFacts,
    rate,
)
from domain.rating_codec import quote_to_json
from domain.services.renewals import recalc
from domain.store import offer_repo
from domain.store.migrate import migrate
from domain.vocab import AgeCondition, Channel, LicenceColour, UseType

AS_OF = date(2027, 2, 23)
FIRST_START = date(2026, 3, 25)   # terms end 2027-03-25 .. within 60 days of AS_OF


def _templates(n: int) -> list[QuoteInput]:
    """n distinct rateable quotes (rakuten mostly, as the book's weights)."""
    catalog = default_catalog()
    out: list[QuoteInput] = []
    i = 0
    while len(out) < n:
        g = 8 + i % 13                    # 8..20: no S/F marker needed
        grade = GradeRecord(g, GradeMarker.NONE, (i // 13) % 2 * 2 if g < 17 else 0)
        birth = date(1950 + (i * 7) % 50, 1 + i % 12, 1 + i % 28)
        q = QuoteInput(
            product_id="rakuten-drive-assist", start_date=FIRST_START,
            vehicle=VehicleFacts(UseType.PRIVATE_STANDARD_PASSENGER, first_registration=YearMonth(2015 + i % 8, 1),
                                 model_release=YearMonth(2014 + i % 8, 6),
                                 rating_classes={"BI": 1 + i % 7, "PD": 1 + i % 6, "INJURY": 1 + i % 5,
                                                 "VEHICLE": 1 + i % 9}),
            named_insured=NamedInsured(birth, LicenceColour.GOLD if i % 3 else LicenceColour.BLUE),
            coverages=(CoverageChoice("BI"), CoverageChoice("PD"), CoverageChoice("PIP"),
                       *((CoverageChoice("VEHICLE"),) if i % 2 else ())),
            channel=Channel.AGENT, age_condition=(AgeCondition.AGE_26, AgeCondition.AGE_35, AgeCondition.ANY)[i % 3],
            use_purpose=UsePurpose.DAILY_LEISURE, mileage_class=1 + i % 5, grade=grade,
        )
        i += 1
        product = catalog.get(q.product_id)
        assert product is not None
        try:
            rate(product, q)
        except (RatingError, RuleError):
            continue
        out.append(q)
    return out


async def generate(conn: asyncpg.Connection, n: int, *, templates: int, start_days: int) -> None:
    """Insert the book (into a migrated database that holds no other contracts)."""
    catalog = default_catalog()
    rows: list[tuple[Any, ...]] = []
    k = 0
    for q in _templates(templates):
        for d in range(start_days):
            start = FIRST_START + timedelta(days=d)
            qd = QuoteInput(**{**{f: getattr(q, f) for f in q.__dataclass_fields__}, "start_date": start})
            product = catalog.get(qd.product_id)
            assert product is not None
            p = rate(product, qd)
            assert qd.grade is not None
            rows.append((k, qd.product_id, json.dumps(quote_to_json(qd)), p.total, qd.grade.grade,
                         qd.grade.marker.value, qd.grade.period, qd.age_condition.value, qd.driver_restriction.value,
                         cover_moment(start), cover_moment(start.replace(year=start.year + 1)),
                         qd.named_insured.birth_date, qd.named_insured.licence_colour.value))
            k += 1
    async with conn.transaction():
        await conn.execute("""CREATE TEMP TABLE tpl (k int PRIMARY KEY, product_id text, q jsonb, premium bigint,
                              grade smallint, marker text, period smallint, age text, restriction text,
                              starts timestamptz, ends timestamptz, birth date, colour text,
                              party bigint, vehicle bigint) ON COMMIT DROP""")
        await conn.copy_records_to_table("tpl", records=[(*r[:2], r[2], *r[3:], None, None) for r in rows],
                                         columns=["k", "product_id", "q", "premium", "grade", "marker", "period", "age",
                                                  "restriction", "starts", "ends", "birth", "colour", "party",
                                                  "vehicle"])
        await conn.execute("""UPDATE tpl SET party = nextval(pg_get_serial_sequence('parties', 'id')),
                                             vehicle = nextval(pg_get_serial_sequence('vehicles', 'id'))""")
        await conn.execute("""INSERT INTO parties (id, kind, name_kanji, birth_date, created_at, licence_colour)
                              SELECT party, 'PERSON', 'ベンチ ' || k, birth, now(), colour FROM tpl""")
        await conn.execute("""INSERT INTO vehicles (id, use_type, created_at) SELECT vehicle, 'PRIVATE_STANDARD_PASSENGER',
                              now() FROM tpl""")
        m = len(rows)
        base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM contracts"))
        t0 = time.perf_counter()
        await conn.execute(
            """INSERT INTO contracts (id, policy_number, product_id, policyholder_id, channel, statuses, created_at)
               SELECT $2 + g, 'RB' || ($2 + g), t.product_id, t.party, 'AGENT', '{IN_FORCE}', now()
               FROM generate_series(1, $1) g JOIN tpl t ON t.k = g % $3""", n, base, m)
        await conn.execute(
            """INSERT INTO terms (contract_id, term_no, starts_at, ends_at, status, created_at)
               SELECT $2 + g, 1, t.starts, t.ends, 'IN_FORCE', now()
               FROM generate_series(1, $1) g JOIN tpl t ON t.k = g % $3""", n, base, m)
        await conn.execute(
            """INSERT INTO contract_versions (contract_id, valid, recorded_at, vehicle_id, named_insured_id,
                                              age_condition, driver_restriction, premium_yen, grade, grade_marker,
                                              grade_period, rating_input)
               SELECT $2 + g, tstzrange(t.starts, NULL, '[)'), now(), t.vehicle, t.party, t.age, t.restriction,
                      t.premium, t.grade, t.marker, t.period, t.q
               FROM generate_series(1, $1) g JOIN tpl t ON t.k = g % $3""", n, base, m)
        await conn.execute("SELECT setval(pg_get_serial_sequence('contracts', 'id'), $1)", base + n)
        print(f"  book: {n:,} contracts from {m:,} distinct inputs in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    for t in ("parties", "vehicles", "contracts", "terms", "contract_versions"):
        await conn.execute(f"ANALYZE {t}")


# --- --distinct: every contract its own rating input -------------------------------------------------

DISTINCT_CHUNK = 20_000


def _distinct_rows(args: tuple[int, int, int]) -> list[tuple[Any, ...]]:
    """Rows `first`..`first + count - 1` of the distinct book (a pure function of the seed and the
    row number, so chunks can be made by several processes). Each row: a random rateable quote of
    one of the four products by bench/rating.py's generator (use type, rating classes, registration,
    AEB, fuel, welfare, birth date and licence, coverages, channel, payment, age condition, driver
    restriction, use purpose, mileage, grade and period, car count, member rank, telematics, partner
    plan), started on one of 30 days so that every term ends in AS_OF's offer window."""
    import random

    from bench.book import PRODUCT_WEIGHTS
    from bench.rating import _quote

    seed, first, count = args
    catalog = default_catalog()
    products = [x for k in PRODUCT_WEIGHTS if (x := catalog.get(k)) is not None]
    weights = list(PRODUCT_WEIGHTS.values())
    out: list[tuple[Any, ...]] = []
    for k in range(first, first + count):
        rnd = random.Random(seed * 1_000_003 + k)
        while True:
            product = rnd.choices(products, weights)[0]
            start = FIRST_START + timedelta(days=rnd.randint(0, 29))
            q0 = _quote(product, rnd)
            q = replace(q0, start_date=start, named_insured=NamedInsured(
                start - timedelta(days=rnd.randint(19 * 365, 85 * 365)), q0.named_insured.licence_colour))
            try:
                p = rate(product, q)
            except (RatingError, RuleError):
                continue
            break
        g = q.grade or GradeRecord(10, GradeMarker.NONE, 0)   # ungraded (kyosai): the column needs one
        out.append((k, q.product_id, json.dumps(quote_to_json(q)), p.total, g.grade, g.marker.value, g.period,
                    q.age_condition.value, q.driver_restriction.value, cover_moment(start),
                    cover_moment(start.replace(year=start.year + 1)), q.named_insured.birth_date,
                    q.named_insured.licence_colour.value, q.vehicle.use_type.value, q.channel.value))
    return out


async def generate_distinct(conn: asyncpg.Connection, n: int, *, seed: int = 16) -> int:
    """Insert a book of `n` contracts whose rating inputs all differ (a party and a vehicle each),
    made by two processes and copied in chunks; answers the number of distinct inputs."""
    import hashlib
    import multiprocessing

    base = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM contracts"))
    seen: set[bytes] = set()
    t0 = time.perf_counter()
    now = datetime.now(JST)
    chunks = [(seed, k, min(DISTINCT_CHUNK, n - k)) for k in range(0, n, DISTINCT_CHUNK)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for rows in pool.imap(_distinct_rows, chunks):
            ids = await conn.fetch(
                """SELECT nextval(pg_get_serial_sequence('parties', 'id')) AS p,
                          nextval(pg_get_serial_sequence('vehicles', 'id')) AS v FROM generate_series(1, $1)""",
                len(rows))
            for r in rows:
                seen.add(hashlib.md5(r[2].encode()).digest())
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "parties", columns=["id", "kind", "name_kanji", "birth_date", "created_at", "licence_colour"],
                    records=[(i["p"], "PERSON", f"ベンチ {r[0]}", r[11], now, r[12]) for r, i in zip(rows, ids)])
                await conn.copy_records_to_table(
                    "vehicles", columns=["id", "use_type", "created_at"],
                    records=[(i["v"], r[13], now) for r, i in zip(rows, ids)])
                await conn.copy_records_to_table(
                    "contracts", columns=["id", "policy_number", "product_id", "policyholder_id", "channel",
                                          "statuses", "created_at"],
                    records=[(base + 1 + r[0], f"RD{base + 1 + r[0]}", r[1], i["p"], r[14], ["IN_FORCE"], now)
                             for r, i in zip(rows, ids)])
                await conn.copy_records_to_table(
                    "terms", columns=["contract_id", "term_no", "starts_at", "ends_at", "status", "created_at"],
                    records=[(base + 1 + r[0], 1, r[9], r[10], "IN_FORCE", now) for r in rows])
                await conn.copy_records_to_table(
                    "contract_versions", columns=["contract_id", "valid", "recorded_at", "vehicle_id",
                                                  "named_insured_id", "age_condition", "driver_restriction",
                                                  "premium_yen", "grade", "grade_marker", "grade_period",
                                                  "rating_input"],
                    records=[(base + 1 + r[0], asyncpg.Range(r[9], None, lower_inc=True, upper_inc=False), now,
                              i["v"], i["p"], r[7], r[8], r[3], r[4], r[5], r[6], r[2]) for r, i in zip(rows, ids)])
            print(f"\r  book: {rows[-1][0] + 1:,} of {n:,} contracts", end="", file=sys.stderr, flush=True)
    await conn.execute("SELECT setval(pg_get_serial_sequence('contracts', 'id'), $1)", base + n)
    print(f"\r  book: {n:,} contracts, {len(seen):,} distinct rating inputs in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    for t in ("parties", "vehicles", "contracts", "terms", "contract_versions"):
        await conn.execute(f"VACUUM ANALYZE {t}")
    return len(seen)


async def reset(conn: asyncpg.Connection) -> None:
    # CASCADE: the webhook deliveries and notifications of those events go with them (migration 0022)
    await conn.execute("TRUNCATE renewal_offers, renewal_offer_docs, recalc_run_parts, recalc_runs, events CASCADE")
    await conn.execute("UPDATE contracts SET event_seq = 0 WHERE event_seq <> 0")
    await conn.execute("VACUUM ANALYZE contracts")


@dataclass
class Timing:
    seconds: float
    scanned: int
    written: int
    failed: int = 0
    python_cpu: float = 0.0          # CPU seconds of the part processes
    pg_cpu: float | None = None      # CPU seconds of the database's server processes (local server only)


class PgCpu:
    """CPU time used by the server processes of one database (its backends, and autovacuum's worker
    on it while one runs), read from /proc (the server is on this machine): on a machine shared with other work, wall time says how busy the machine was,
    CPU time says what the run costs. Sampled while the run goes; a backend's last half second
    before it exits may be missed."""

    def __init__(self, dbname: str) -> None:
        self.dbname = dbname
        self.seen: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")
        self.sample()
        # what backends alive now had used before (the driver's, which ran the reset's UPDATE
        # and VACUUM): not the run's
        self.before = dict(self.seen)

    def sample(self) -> None:
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                cmd = (d / "cmdline").read_bytes()
                if not cmd.startswith(b"postgres:") or f" {self.dbname} ".encode() not in cmd:
                    continue
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.seen[int(d.name)] = (int(fields[11]) + int(fields[12])) / self.tick

    def total(self) -> float:
        return sum(cpu - self.before.get(pid, 0.0) for pid, cpu in self.seen.items())


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


async def one_run(dsn: str, *, parts: int, page: int, quiet: bool) -> Timing:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        run = await recalc.start_or_resume(pool, as_of=AS_OF, resume=False, parts=parts, source="BENCH",
                                           now=datetime.now(JST))
    finally:
        await pool.close()

    pg = PgCpu(urlsplit(dsn).path.lstrip("/"))
    cpu0 = _children_cpu()

    def show(r: offer_repo.Run) -> None:
        pg.sample()
        if not quiet:
            t = r.total
            print(f"\r  {recalc.progress_of(r) * 100:5.1f}%  due {t['scanned']:,}  new {t['offered']:,}  "
                  f"unchanged {t['unchanged']:,}", end="", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    done = await recalc.drive(dsn, run, page=page, on_progress=show)
    secs = time.perf_counter() - t0
    if not quiet:
        print(file=sys.stderr)
    t = done.total
    return Timing(secs, t["scanned"], t["offered"] + t["changed"], t["failed"], _children_cpu() - cpu0,
                  pg.total() if pg.seen else None)


async def floor(conn: asyncpg.Connection) -> Timing:
    t0 = time.perf_counter()
    status = await conn.execute(
        "UPDATE renewal_offers SET computed_at = computed_at + interval '1 second' WHERE state = 'OFFERED'")
    return Timing(time.perf_counter() - t0, int(status.split()[-1]), int(status.split()[-1]))


async def bench(dsn: str, n: int, *, templates: int, start_days: int, parts: int, page: int, repeat: int,
                quiet: bool = False, distinct: bool = False) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        have = int(await conn.fetchval("SELECT count(*) FROM contracts"))
        if have == 0 and distinct:
            await generate_distinct(conn, n)
        elif have == 0:
            await generate(conn, n, templates=templates, start_days=start_days)
        elif have != n:
            raise SystemExit(f"{dsn} holds {have:,} contracts, not {n:,}: use an empty database")
        cold, warm, flo = [], [], []
        for _ in range(repeat):
            await reset(conn)
            cold.append(await one_run(dsn, parts=parts, page=page, quiet=quiet))
            warm.append(await one_run(dsn, parts=parts, page=page, quiet=quiet))
            flo.append(await floor(conn))
        offers = int(await conn.fetchval("SELECT count(*) FROM renewal_offers WHERE state = 'OFFERED'"))
        events = int(await conn.fetchval("SELECT count(*) FROM events WHERE kind = 'RENEWAL_OFFERED'"))
        docs = int(await conn.fetchval("SELECT count(DISTINCT fingerprint) FROM renewal_offers"))
        inputs = int(await conn.fetchval("SELECT count(DISTINCT rating_input_md5) FROM contract_versions"))
    finally:
        await conn.close()
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = {name: statistics.median(t.seconds for t in ts) for name, ts in (("cold", cold), ("warm", warm),
                                                                          ("floor", flo))}
    return {"contracts": n, "inputs": inputs, "scanned": cold[-1].scanned, "written": cold[-1].written,
            "failed": cold[-1].failed, "offers": offers,
            "events": events, "docs": docs, "cold_runs": cold, "cold_s": med["cold"], "warm_s": med["warm"], "floor_s": med["floor"],
            "cold_per_s": cold[-1].scanned / med["cold"] if med["cold"] else 0.0,
            "cold_python_cpu": cold[-1].python_cpu, "cold_pg_cpu": cold[-1].pg_cpu,
            "warm_python_cpu": warm[-1].python_cpu, "warm_pg_cpu": warm[-1].pg_cpu,
            "ratio_cold_to_floor": med["cold"] / med["floor"] if med["floor"] else 0.0,
            "ratio_warm_to_floor": med["warm"] / med["floor"] if med["floor"] else 0.0,
            "child_rss_mb": child_rss, "driver_rss_mb": self_rss}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--dsn", default=None,
                    help="PostgreSQL URL of an empty database (migrated here); default a scratch one")
    ap.add_argument("--contracts", type=int, default=1_000_000)
    ap.add_argument("--templates", type=int, default=200)
    ap.add_argument("--start-days", type=int, default=30)
    ap.add_argument("--parts", type=int, default=2)
    ap.add_argument("--page", type=int, default=recalc.PAGE)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--distinct", action="store_true",
                    help="every contract its own rating input (no two offers alike: nothing for the cache)")
    args = ap.parse_args(argv)

    def measure(dsn: str) -> dict[str, Any]:
        return asyncio.run(bench(dsn, args.contracts, templates=args.templates, start_days=args.start_days,
                                 parts=args.parts, page=args.page, repeat=args.repeat, distinct=args.distinct))

    if args.dsn:
        r = measure(args.dsn)
    else:
        from bench.servers import bench_services
        from tests.support import fresh_database

        with bench_services(with_redis=False) as svc, \
                fresh_database(svc.database_url, f"bench_recalc_{os.getpid()}") as dsn:
            r = measure(dsn)
    print(f"recalc of {r['contracts']:,} contracts ({r['inputs']:,} distinct rating inputs, {r['docs']:,} distinct "
          f"offers, {r['failed']:,} not rateable), {args.parts} processes, "
          f"page {args.page}, medians of {args.repeat}:")
    print(f"  cold (all new):      {r['cold_s']:8.1f} s  ({r['cold_per_s']:,.0f} contracts/s)  "
          f"offers {r['offers']:,} events {r['events']:,}")
    if args.repeat > 1:
        for i, t in enumerate(r["cold_runs"], 1):
            pg = "" if t.pg_cpu is None else f" + PostgreSQL ≈{t.pg_cpu:,.1f} s"
            print(f"    cold run {i}: {t.seconds:8.1f} s, CPU: part processes {t.python_cpu:,.1f} s{pg}")
    print(f"  warm (unchanged):    {r['warm_s']:8.1f} s")
    print(f"  floor (SQL UPDATE):  {r['floor_s']:8.1f} s")
    print(f"  ratio cold/floor {r['ratio_cold_to_floor']:.1f}x, warm/floor {r['ratio_warm_to_floor']:.1f}x")
    for run in ("cold", "warm"):
        py, pg = r[f"{run}_python_cpu"], r[f"{run}_pg_cpu"]
        if pg is not None:
            print(f"  {run} CPU: part processes {py:,.1f} s + PostgreSQL ≈{pg:,.1f} s = {py + pg:,.1f} CPU-s "
                  f"(on {os.cpu_count()} idle cores ≥ {(py + pg) / (os.cpu_count() or 1):,.1f} s)")
        else:
            print(f"  {run} CPU: part processes {py:,.1f} s (server not on this machine)")
    print(f"  peak RSS: part process {r['child_rss_mb']:.0f} MB, driver {r['driver_rss_mb']:.0f} MB")
    ok = r["cold_s"] <= 120 and r["child_rss_mb"] <= 512
    print("P5 " + ("met" if ok else "NOT met") + " (≤ 120 s, ≤ 512 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
