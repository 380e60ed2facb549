"""The write path over HTTP against a plain-SQL floor (issue 16).

Run: .venv/bin/python bench/writes.py [--contracts 20000] [--ops 400] [--rounds 3] [--concurrency 8] [--keep-db]
     (PostgreSQL at DATABASE_URL and Redis at REDIS_URL, or, when unset, the embedded servers
      `make run` uses, started and stopped by bench/servers.py)

1. creates a fresh database (autopolicy_bench_writes), migrates it and fills it with bench/book.py
   (in-force contracts to endorse and to claim on), plus a person and a car of their own for every
   quote to be made;
2. starts our API as bench/api.py does (uvicorn, production settings, a 10-connection pool) and
   mints a staff token on its clock;
3. calibrates: one createQuote, endorseContract and reportAccident through the API, and one of each
   through the floor, on targets of their own; counts the rows each wrote per table (the tuples
   whose xmin is its transaction) and prints whether the floor writes the same rows as ours;
4. --rounds times, for each operation in turn: --ops operations through our API by --concurrency
   clients (each its own keep-alive HTTP connection, one request in flight), then --ops through
   the floor by --concurrency asyncpg connections; ops/s over the batch's wall time, p50/p99 of
   one operation's latency;
5. prints medians over the rounds and ours/floor.

The operations (inputs as tests/api/test_contract_mutations.py and test_claim_mutations.py send them):
- createQuote: aioi-tough-biz, a new person and their car, four coverages, AGE_26, through an agency;
- endorseContract: an in-force contract's age condition to ANY from tomorrow, mid-term: the version
  in force is split, the new one re-rated, the pro-rata delta answered, an event appended;
- reportAccident: an accident two hours ago in that contract's car with a listed driver: coverage
  decided at the accident moment, claim lines, claim events, a contract event.
The floor writes the same rows in one transaction each: the same tables, the same number of rows,
their content copied from what our server wrote at calibration (so JSON of the same size), with no
reads, rules or pricing. It is what the database alone costs; ours/floor says how much of that
budget our service keeps.

Exit status: 0 when the harness ran (whatever the figures), 1 when it failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

import asyncpg

from api.node import to_global_id
from bench.api import (
    HarnessError,
    Servers,
    create_database,
    drop_database,
    load_average,
    machine,
    staff_token,
    start_ours,
    wait_ready,
)
from bench.book import generate_book
from bench.servers import run_on_services
from domain.calendar import JST, cover_moment
from domain.runtime.services import with_database

OPERATIONS = ("createQuote", "endorseContract", "reportAccident")

QUOTE = """mutation($i: CreateQuoteInput!) { createQuote(input: $i) {
  change { policyNumber premiumAfterYen lockVersion } contract { id lockVersion }
  userErrors { field code message } } }"""
ENDORSE = """mutation($i: EndorseContractInput!) { endorseContract(input: $i) {
  change { lockVersion premiumBeforeYen premiumAfterYen premiumDeltaYen deltaSteps { name value rule } }
  userErrors { field code message } } }"""
REPORT = """mutation($i: ReportAccidentInput!) { reportAccident(input: $i) {
  claimNumber claim { id coverage { state { code } } lines { coverage } }
  userErrors { field code message } } }"""


# ------------------------------------------------------------------------------------- targets


@dataclass(frozen=True, slots=True)
class QuoteTarget:
    party_id: int
    vehicle_id: int


@dataclass(frozen=True, slots=True)
class ContractTarget:
    """An in-force contract of the book: its version in force now, the car and a listed driver."""

    contract_id: int
    lock_version: int
    version_id: int
    vehicle_id: int
    driver_id: int
    term_id: int
    drivers: int      # listed on the version: the rows an endorsement copies


@dataclass
class Targets:
    quotes: list[QuoteTarget]
    contracts: list[ContractTarget]   # endorsed, then claimed on (the claim sees the endorsed contract)
    agency_id: int


async def prepare_targets(url: str, n_quotes: int, n_contracts: int) -> Targets:
    """A person with a gold licence and a car of their own per quote (plain SQL: setup is not
    measured); in-force contracts that started days ago, run weeks more and are not ANY-age yet."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            parties = [r["id"] for r in await conn.fetch(
                """INSERT INTO parties (kind, name_kanji, name_kana, birth_date, postal_code, address_ja, licence_colour)
                   SELECT 'PERSON', '鈴木 一郎', 'スズキ イチロウ', date '1980-05-05' + (g % 3000), '105-0001',
                          '東京都港区芝公園' || g, 'GOLD'
                   FROM generate_series(1, $1) g RETURNING id""", n_quotes)]
            vehicles = [r["id"] for r in await conn.fetch(
                """INSERT INTO vehicles (use_type, registration_no, model_code, first_registration, model_release,
                                         rating_classes, value_yen, owner_party_id, account_party_id)
                   SELECT 'PRIVATE_STANDARD_PASSENGER', '品川 300 さ ' || p.id, 'ZVW50', date '2019-04-01',
                          date '2018-10-01', '{"BI": 5, "PD": 6, "INJURY": 4, "VEHICLE": 7}'::jsonb, 2000000, p.id, p.id
                   FROM unnest($1::bigint[]) WITH ORDINALITY p(id, n) ORDER BY p.n RETURNING id""", parties)]
            agency = await conn.fetchval("SELECT id FROM agencies ORDER BY id LIMIT 1")
        rows = await conn.fetch(
            """SELECT c.id, c.lock_version, v.id AS version_id, v.vehicle_id, t.id AS term_id,
                      (SELECT d.party_id FROM version_drivers d WHERE d.version_id = v.id ORDER BY d.party_id LIMIT 1)
                        AS driver_id,
                      (SELECT count(*) FROM version_drivers d WHERE d.version_id = v.id) AS drivers
               FROM contracts c
               JOIN terms t ON t.contract_id = c.id
               JOIN contract_versions v ON v.contract_id = c.id AND v.superseded_at IS NULL AND upper_inf(v.valid)
               WHERE c.statuses = '{IN_FORCE}' AND t.status = 'IN_FORCE' AND v.age_condition <> 'ANY'
                 -- the book draws restrictions without every eligibility rule; an endorsement re-checks them
                 AND v.driver_restriction = 'NONE'
                 AND t.starts_at < now() - interval '3 days' AND t.ends_at > now() + interval '10 days'
                 AND lower(v.valid) < now() - interval '1 day'
               ORDER BY c.id LIMIT $1""", n_contracts)
    finally:
        await conn.close()
    if len(rows) < n_contracts or agency is None:
        raise HarnessError(f"the book has {len(rows)} contracts to endorse, {n_contracts} wanted: use a larger "
                           "--contracts or fewer --ops")
    return Targets(
        quotes=[QuoteTarget(p, v) for p, v in zip(parties, vehicles, strict=True)],
        contracts=[ContractTarget(r["id"], r["lock_version"], r["version_id"], r["vehicle_id"], r["driver_id"],
                                  r["term_id"], r["drivers"]) for r in rows],
        agency_id=int(agency),
    )


# ---------------------------------------------------------------------------------- our inputs


def _tomorrow(now: datetime) -> date:
    return now.astimezone(JST).date() + timedelta(days=1)


def quote_input(t: QuoteTarget, agency_id: int, now: datetime) -> dict[str, Any]:
    party = to_global_id("Party", t.party_id)
    return {"productId": "aioi-tough-biz", "startDate": str(now.astimezone(JST).date() + timedelta(days=7)),
            "policyholderId": party, "namedInsuredId": party, "vehicleId": to_global_id("Vehicle", t.vehicle_id),
            "drivers": [{"partyId": party, "relationship": "SELF"}],
            "coverages": [{"code": "BI"}, {"code": "PD"}, {"code": "PI"}, {"code": "VEHICLE"}],
            "ageCondition": "AGE_26", "channel": "AGENT", "agencyId": to_global_id("Agency", agency_id)}


def endorse_input(t: ContractTarget, now: datetime) -> dict[str, Any]:
    return {"contractId": to_global_id("Contract", t.contract_id), "expectedVersion": t.lock_version,
            "effectiveDate": str(_tomorrow(now)), "changes": {"ageCondition": "ANY"},
            "reason": "a young relative drives the car"}


def report_input(t: ContractTarget, now: datetime) -> dict[str, Any]:
    at = (now - timedelta(hours=2)).astimezone(JST).replace(microsecond=0)
    return {"contractId": to_global_id("Contract", t.contract_id), "accidentAt": at.isoformat(),
            "place": "東京都港区芝公園4-2", "vehicleId": to_global_id("Vehicle", t.vehicle_id),
            "driverId": to_global_id("Party", t.driver_id), "description": "追突事故 rear-end collision",
            "otherParties": [{"name": "佐藤 次郎", "vehicleRegistrationNo": "品川500あ1234", "faultPercent": 0}],
            "policeReportNo": "P-2026-0001", "coveragesClaimed": ["BI", "PD", "VEHICLE"],
            "vehicleCause": "COLLISION"}


# -------------------------------------------------------------------------------- HTTP clients


class HttpConnection:
    """One keep-alive HTTP/1.1 connection with one request in flight: the lightest client we can
    run beside the server on the same two cores (the load generator's CPU is the server's loss)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        u = urlsplit(url)
        self.host, self.port, self.path = u.hostname or "127.0.0.1", u.port or 80, u.path or "/"
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"host": f"{self.host}:{self.port}",
                                                          "content-type": "application/json",
                                                          **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: dict[str, Any]) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = json.dumps(body).encode()
        self.writer.write(f"POST {self.path} HTTP/1.1\r\n{self.head}content-length: {len(data)}\r\n\r\n".encode()
                          + data)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        if "content-length" not in fields:
            raise HarnessError(f"HTTP {status} without content-length: {fields}")
        payload = await self.reader.readexactly(int(fields["content-length"]))
        if status != 200:
            raise HarnessError(f"HTTP {status}: {payload[:500]!r}")
        return json.loads(payload)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


def payload_errors(answer: Any, field: str) -> list[Any]:
    """GraphQL errors or the mutation's userErrors: a bench operation must succeed."""
    if answer.get("errors"):
        return list(answer["errors"])
    return list(answer["data"][field]["userErrors"])


# ----------------------------------------------------------------------------------- the floor


class Floor:
    """The same rows, written by plain SQL (one transaction each, no reads beyond the row copies).

    Each statement copies the row our server wrote at calibration (`INSERT … SELECT` from it),
    overriding the keys, so the floor's rows have the same tables, counts and sizes as ours.
    """

    def __init__(self) -> None:
        # what our server wrote at calibration, copied by every floor operation
        self.quote_contract = 0   # a contract createQuote made (one term, transaction, version, grade, event)
        self.endorse_tx = 0       # the transaction endorseContract recorded
        self.endorse_event = 0    # the event it appended
        self.claim_id = 0         # a claim reportAccident made (its lines and claim events)
        self.report_event = 0     # the contract event it appended
        self.columns: dict[str, list[str]] = {}

    async def load_columns(self, conn: asyncpg.Connection) -> None:
        for r in await conn.fetch(
                """SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS cols
                   FROM information_schema.columns
                   WHERE table_schema = 'public' AND column_name <> 'id' AND is_generated = 'NEVER'
                   GROUP BY table_name"""):
            self.columns[r["table_name"]] = list(r["cols"])

    def copy(self, table: str, where: str, overrides: dict[str, str], returning: str = "id") -> str:
        """`INSERT INTO table (every column) SELECT <column or override> FROM table WHERE …` (generated
        columns are left to PostgreSQL, as for our server's inserts)."""
        cols = self.columns[table]
        unknown = set(overrides) - set(cols)
        if unknown:
            raise HarnessError(f"{table} has no column {sorted(unknown)}")
        exprs = ", ".join(overrides.get(c, c) for c in cols)
        ret = f" RETURNING {returning}" if returning else ""
        return f"INSERT INTO {table} ({', '.join(cols)}) SELECT {exprs} FROM {table} WHERE {where}{ret}"

    async def quote(self, conn: asyncpg.Connection, t: QuoteTarget) -> None:
        tpl = self.quote_contract
        async with conn.transaction():
            cid = await conn.fetchval(self.copy("contracts", "id = $1", {
                "policy_number": "'AP-FL-' || nextval('policy_number_seq')", "policyholder_id": "$2::bigint",
                "created_at": "now()"}), tpl, t.party_id)
            tx = await conn.fetchval(self.copy("transactions", "contract_id = $1", {
                "contract_id": "$2::bigint", "at": "now()"}), tpl, cid)
            term = await conn.fetchval(self.copy("terms", "contract_id = $1", {
                "contract_id": "$2::bigint", "created_at": "now()"}), tpl, cid)
            vid = await conn.fetchval(self.copy("contract_versions", "contract_id = $1", {
                "contract_id": "$2::bigint", "transaction_id": "$3::bigint", "vehicle_id": "$4::bigint",
                "named_insured_id": "$5::bigint", "recorded_at": "now()"}), tpl, cid, tx, t.vehicle_id, t.party_id)
            await conn.execute(self.copy("version_drivers",
                                         "version_id = (SELECT id FROM contract_versions WHERE contract_id = $1)",
                                         {"version_id": "$2::bigint", "party_id": "$3::bigint"}, returning=""),
                               tpl, vid, t.party_id)
            await conn.execute(self.copy("grade_records", "contract_id = $1", {
                "contract_id": "$2::bigint", "term_id": "$3::bigint", "recorded_at": "now()"}, returning=""),
                tpl, cid, term)
            await conn.execute(self.copy("events", "contract_id = $1", {
                "contract_id": "$2::bigint", "transaction_id": "$3::bigint", "at": "now()",
                "published_at": "NULL"}, returning=""), tpl, cid, tx)

    async def endorse(self, conn: asyncpg.Connection, t: ContractTarget, effective: datetime) -> None:
        async with conn.transaction():
            seq = await conn.fetchval(
                """UPDATE contracts SET lock_version = lock_version + 1, event_seq = event_seq + 1
                   WHERE id = $1 AND lock_version = $2 RETURNING event_seq""", t.contract_id, t.lock_version)
            if seq is None:
                raise HarnessError(f"floor: contract {t.contract_id} moved on")
            tx = await conn.fetchval(self.copy("transactions", "id = $1", {
                "contract_id": "$2::bigint", "at": "now()", "effective_at": "$3::timestamptz"}),
                self.endorse_tx, t.contract_id, effective)
            await conn.execute("UPDATE contract_versions SET superseded_at = now() WHERE id = $1", t.version_id)
            split = {"valid": "tstzrange(lower(valid), $2::timestamptz)", "recorded_at": "now()",
                     "superseded_at": "NULL", "derived_from_id": "id"}
            before = await conn.fetchval(self.copy("contract_versions", "id = $1", split), t.version_id, effective)
            after = await conn.fetchval(self.copy("contract_versions", "id = $1", {
                **split, "valid": "tstzrange($2::timestamptz, upper(valid))", "transaction_id": "$3::bigint",
                "age_condition": "'ANY'"}), t.version_id, effective, tx)
            await conn.execute(
                """INSERT INTO version_drivers (version_id, party_id, relationship, licence_colour, licence_date)
                   SELECT n.vid, d.party_id, d.relationship, d.licence_colour, d.licence_date
                   FROM version_drivers d CROSS JOIN unnest($2::bigint[]) n(vid) WHERE d.version_id = $1""",
                t.version_id, [before, after])
            await conn.execute(self.copy("events", "id = $1", {
                "contract_id": "$2::bigint", "seq": "$3::int", "transaction_id": "$4::bigint", "at": "now()",
                "published_at": "NULL"}, returning=""), self.endorse_event, t.contract_id, seq, tx)

    async def report(self, conn: asyncpg.Connection, t: ContractTarget, accident_at: datetime) -> None:
        tpl = self.claim_id
        async with conn.transaction():
            seq = await conn.fetchval("UPDATE contracts SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
                                      t.contract_id)
            claim = await conn.fetchval(self.copy("claims", "id = $1", {
                "claim_number": "'CL-FL-' || lpad(nextval('claim_number_seq')::text, 6, '0')",
                "contract_id": "$2::bigint", "term_id": "$3::bigint", "version_id": "$4::bigint",
                "vehicle_id": "$5::bigint", "driver_party_id": "$6::bigint", "accident_at": "$7::timestamptz",
                "decided_at": "now()"}), tpl, t.contract_id, t.term_id, t.version_id, t.vehicle_id, t.driver_id,
                accident_at)
            await conn.execute(self.copy("claim_lines", "claim_id = $1", {
                "claim_id": "$2::bigint", "created_at": "now()"}, returning=""), tpl, claim)
            await conn.execute(self.copy("claim_events", "claim_id = $1", {
                "claim_id": "$2::bigint", "at": "now()"}, returning=""), tpl, claim)
            await conn.execute(self.copy("events", "id = $1", {
                "contract_id": "$2::bigint", "seq": "$3::int", "at": "now()", "published_at": "NULL"},
                returning=""), self.report_event, t.contract_id, seq)


# ---------------------------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class Batch:
    ops: int
    seconds: float
    latencies_ms: tuple[float, ...]
    failures: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        s = sorted(self.latencies_ms)
        return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else 0.0


async def run_batch(workers: Sequence[Callable[[int], Awaitable[str | None]]], n: int) -> Batch:
    """`n` operations by len(workers) concurrent clients taking the next index from one counter;
    a worker answers None on success, else a failure text."""
    counter = iter(range(n))
    latencies: list[float] = []
    failures: list[str] = []

    async def client(work: Callable[[int], Awaitable[str | None]]) -> None:
        for i in counter:
            t = time.perf_counter()
            failure = await work(i)
            latencies.append((time.perf_counter() - t) * 1000)
            if failure is not None:
                failures.append(failure)

    started = time.perf_counter()
    await asyncio.gather(*(client(w) for w in workers))
    return Batch(n, time.perf_counter() - started, tuple(latencies), tuple(failures))


async def census(conn: asyncpg.Connection, xid: str) -> dict[str, int]:
    """Rows per table whose current tuple a transaction wrote (inserted or updated)."""
    out: dict[str, int] = {}
    for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"):
        n = await conn.fetchval(f'SELECT count(*) FROM "{r["tablename"]}" WHERE xmin = $1::text::xid', xid)
        if n:
            out[r["tablename"]] = int(n)
    return out


@dataclass
class Bench:
    url: str
    api_url: str
    auth: dict[str, str]
    targets: Targets
    concurrency: int
    floor: Floor = field(default_factory=Floor)

    def _slices(self, rounds: int, ops: int) -> tuple[list[list[QuoteTarget]], list[list[ContractTarget]]]:
        """Disjoint targets: [calibration ours, calibration floor, round 1 ours, round 1 floor, ...]."""
        sizes = [1, 1, *([ops] * (2 * rounds))]
        contracts = list(self.targets.contracts)
        # the two calibration contracts list as many drivers, so their censuses compare row for row
        twin = next((i for i in range(1, len(contracts)) if contracts[i].drivers == contracts[0].drivers), 1)
        contracts[1], contracts[twin] = contracts[twin], contracts[1]
        q, c, out_q, out_c = 0, 0, [], []
        for size in sizes:
            out_q.append(self.targets.quotes[q:q + size])
            out_c.append(contracts[c:c + size])
            q, c = q + size, c + size
        return out_q, out_c

    async def ours(self, op: str, quotes: list[QuoteTarget], contracts: list[ContractTarget]) -> Batch:
        clients = [HttpConnection(self.api_url, self.auth) for _ in range(self.concurrency)]
        now = datetime.now(JST)

        def worker(c: HttpConnection) -> Callable[[int], Awaitable[str | None]]:
            async def work(i: int) -> str | None:
                if op == "createQuote":
                    body = {"query": QUOTE, "variables": {"i": quote_input(quotes[i], self.targets.agency_id, now)}}
                elif op == "endorseContract":
                    body = {"query": ENDORSE, "variables": {"i": endorse_input(contracts[i], now)}}
                else:
                    body = {"query": REPORT, "variables": {"i": report_input(contracts[i], now)}}
                errors = payload_errors(await c.post(body), op)
                return json.dumps(errors, ensure_ascii=False)[:300] if errors else None
            return work

        try:
            return await run_batch([worker(c) for c in clients], len(quotes) if op == "createQuote" else len(contracts))
        finally:
            for c in clients:
                await c.close()

    async def floor_batch(self, op: str, quotes: list[QuoteTarget], contracts: list[ContractTarget]) -> Batch:
        floor = self.floor
        conns = [await asyncpg.connect(self.url) for _ in range(self.concurrency)]
        now = datetime.now(JST)
        effective, accident = cover_moment(_tomorrow(now)), (now - timedelta(hours=2)).replace(microsecond=0)

        def worker(conn: asyncpg.Connection) -> Callable[[int], Awaitable[str | None]]:
            async def work(i: int) -> str | None:
                if op == "createQuote":
                    await floor.quote(conn, quotes[i])
                elif op == "endorseContract":
                    await floor.endorse(conn, contracts[i], effective)
                else:
                    await floor.report(conn, contracts[i], accident)
                return None
            return work

        try:
            return await run_batch([worker(c) for c in conns], len(quotes) if op == "createQuote" else len(contracts))
        finally:
            for c in conns:
                await c.close()

    async def calibrate(self, quotes: list[QuoteTarget], contracts: list[ContractTarget],
                        floor_quotes: list[QuoteTarget], floor_contracts: list[ContractTarget]) -> list[str]:
        """One operation of each kind through ours, the rows it wrote (the floor's templates), then
        the same through the floor and the rows that wrote: each census right after its operation,
        before anything else touches those rows."""
        lines: list[str] = []
        conn = await asyncpg.connect(self.url)
        try:
            await self.floor.load_columns(conn)
            for op in OPERATIONS:
                b = await self.ours(op, quotes, contracts)
                if b.failures:
                    raise HarnessError(f"our {op} refused the bench's input: {b.failures[0]}")
                xid = await self._xid(conn, op, quotes[0], contracts[0])
                ours = await census(conn, xid)
                await self._remember_templates(conn, op, xid)
                await self.floor_batch(op, floor_quotes, floor_contracts)
                floor = await census(conn, await self._xid(conn, op, floor_quotes[0], floor_contracts[0]))
                same = "same rows" if ours == floor else "DIFFERENT rows"
                lines.append(f"{op}: floor writes the {same} — ours {ours}, floor {floor}")
        finally:
            await conn.close()
        return lines

    @staticmethod
    async def _xid(conn: asyncpg.Connection, op: str, q: QuoteTarget, c: ContractTarget) -> str:
        """The transaction of the latest operation `op` on the target."""
        if op == "createQuote":
            sql, arg = "SELECT xmin::text FROM contracts WHERE policyholder_id = $1", q.party_id
        elif op == "endorseContract":
            sql = "SELECT xmin::text FROM transactions WHERE contract_id = $1 AND kind = 'ENDORSE' ORDER BY id DESC LIMIT 1"
            arg = c.contract_id
        else:
            sql, arg = "SELECT xmin::text FROM claims WHERE contract_id = $1 ORDER BY id DESC LIMIT 1", c.contract_id
        xid = await conn.fetchval(sql, arg)
        if xid is None:
            raise HarnessError(f"{op}: nothing written")
        return str(xid)

    async def _remember_templates(self, conn: asyncpg.Connection, op: str, xid: str) -> None:
        def row(table: str) -> str:
            return f"SELECT id FROM {table} WHERE xmin = $1::text::xid ORDER BY id LIMIT 1"

        f = self.floor
        if op == "createQuote":
            f.quote_contract = await conn.fetchval(row("contracts"), xid)
        elif op == "endorseContract":
            f.endorse_tx, f.endorse_event = await conn.fetchval(row("transactions"), xid), await conn.fetchval(row("events"), xid)
        else:
            f.claim_id, f.report_event = await conn.fetchval(row("claims"), xid), await conn.fetchval(row("events"), xid)


def _fmt(x: float) -> str:
    return f"{x:,.1f}"


def run(args: argparse.Namespace) -> int:
    admin = args.admin_url
    print(f"machine: {machine()}")
    print(f"load: {load_average()}")
    logdir = Path(tempfile.mkdtemp(prefix="autopolicy-bench-writes-"))
    url = with_database(admin, args.db_name)
    servers = Servers()
    try:
        url = asyncio.run(create_database(admin, args.db_name))
        t = time.perf_counter()
        stats = asyncio.run(generate_book(url, args.contracts, seed=args.seed))
        needed = 2 + 2 * args.rounds * args.ops
        targets = asyncio.run(prepare_targets(url, needed, needed))
        print(f"database {args.db_name}: {args.contracts:,} contracts, {sum(stats.rows.values()):,} rows, "
              f"{needed:,} people and cars to quote, in {time.perf_counter() - t:.1f} s")

        ours = start_ours(url, args.redis_url, args.our_port, logdir, servers)
        auth = {"authorization": f"Bearer {staff_token(url, args.redis_url)}"}
        wait_ready(ours.url, ours.proc, ours.log, auth)
        bench = Bench(url, ours.url, auth, targets, args.concurrency)
        quotes, contracts = bench._slices(args.rounds, args.ops)
        for line in asyncio.run(bench.calibrate(quotes[0], contracts[0], quotes[1], contracts[1])):
            print(line)

        samples: dict[tuple[str, str], list[Batch]] = {}
        for rnd in range(args.rounds):
            mine, floor = 2 + 2 * rnd, 3 + 2 * rnd
            for op in OPERATIONS:
                for who, slot in (("ours", mine), ("floor", floor)):
                    if who == "ours":
                        b = asyncio.run(bench.ours(op, quotes[slot], contracts[slot]))
                    else:
                        b = asyncio.run(bench.floor_batch(op, quotes[slot], contracts[slot]))
                    if b.failures:
                        print(f"WARNING {who} {op}: {len(b.failures)} failed, e.g. {b.failures[0]}")
                    samples.setdefault((who, op), []).append(b)
                    print(f"  round {rnd + 1} {who:<5} {op:<16} {b.rate:8,.1f} ops/s  p50 {_fmt(b.pct(0.5))} ms  "
                          f"p99 {_fmt(b.pct(0.99))} ms ({b.ops} in {b.seconds:.2f} s)", flush=True)

        def med(who: str, op: str, f: Callable[[Batch], float]) -> float:
            return statistics.median(f(b) for b in samples[(who, op)])

        print()
        print(f"{args.contracts:,}-contract book; {args.ops} operations per batch, {args.concurrency} concurrent "
              f"clients (ours: keep-alive HTTP connections; floor: asyncpg connections), {args.rounds} round(s), "
              f"medians")
        print("| operation | ours ops/s | ours p50 / p99 ms | floor ops/s | floor p50 / p99 ms | ours/floor |")
        print("|---|---|---|---|---|---|")
        for op in OPERATIONS:
            o_rate, f_rate = med("ours", op, lambda b: b.rate), med("floor", op, lambda b: b.rate)
            print(f"| {op} | {_fmt(o_rate)} | {_fmt(med('ours', op, lambda b: b.pct(0.5)))} / "
                  f"{_fmt(med('ours', op, lambda b: b.pct(0.99)))} | {_fmt(f_rate)} | "
                  f"{_fmt(med('floor', op, lambda b: b.pct(0.5)))} / {_fmt(med('floor', op, lambda b: b.pct(0.99)))} | "
                  f"**{o_rate / f_rate:.2f}** |")
        print(f"machine: {machine()}")
        print(f"load: {load_average()}")
        print(f"server log: {logdir}")
        return 0
    finally:
        servers.stop()
        if args.keep_db:
            print(f"kept database: {url}")
        else:
            asyncio.run(drop_database(admin, args.db_name))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="createQuote, endorseContract, reportAccident over HTTP vs a SQL floor.")
    ap.add_argument("--contracts", type=int, default=20_000, help="the book to endorse and claim on")
    ap.add_argument("--ops", type=int, default=400, help="operations per batch (each operation, each side, each round)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-db", action="store_true", help="leave the database for a look afterwards")
    ap.add_argument("--db-name", default="autopolicy_bench_writes")
    ap.add_argument("--admin-url", default=None,
                    help="a server URL (any database on it); default DATABASE_URL, else the embedded server")
    ap.add_argument("--redis-url", default=None, help="default REDIS_URL, else the embedded server")
    ap.add_argument("--our-port", type=int, default=8766)
    args = ap.parse_args(argv)
    try:
        return run_on_services(args, run)
    except (HarnessError, OSError, asyncpg.PostgresError) as exc:
        print(f"bench/writes.py: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
