"""Contract read API against PostGraphile v5 and v4 on the same database (ENGINEERING P1-P3, issue 16).

Run: .venv/bin/python bench/api.py [--contracts 20000] [--seconds 8] [--rounds 3] [--concurrency 8] [--keep-db]
     (needs `npm ci` once in bench/postgraphile (v4, and the load generator) and in
      bench/postgraphile5 (v5; it brings the Node 22 that v5 requires); PostgreSQL at DATABASE_URL
      and Redis at REDIS_URL — our API's readiness check wants one — or, when unset, the embedded
      servers `make run` uses, started and stopped by bench/servers.py)

1. creates a fresh database (autopolicy_bench), migrates it, fills it with bench/book.py;
2. in-process: our schema's `execute` of the DETAIL and PAGE queries, p50/p99 over --runs runs
   after warm-up, as a staff caller (P1: detail p50 <= 5 ms, p99 <= 20 ms; P2: page p50 <= 60 ms);
3. starts PostGraphile v5 (bench/postgraphile5/server.js), PostGraphile v4
   (bench/postgraphile/server.js) and our API (uvicorn), one process each, each with a pool of
   10 connections to the same database; checks that the three answer the same data; then drives
   each with the same load generator (autocannon, --concurrency connections, --seconds each after
   a warm-up), --rounds times in turn (ours, v5, v4, ours, ...) so that a neighbour's load on the
   shared machine falls on all three, and prints the median req/s, p50/p99 and ours/v5, ours/v4
   (targets against v5: >= 1.0 detail, >= 2.0 page).

If our API answers errors for our queries (schema not ready), they are printed and the peers are
still measured. Exit status: 0 when the harness ran (whatever the figures), 1 when it failed.
"""

from __future__ import annotations

# ------------------------------------------------------------------------------------------------
# OUR queries (the lead adjusts these to the schema). PostGraphile's equivalents are further down.
OUR_DETAIL_QUERY = """
query Detail($pn: String!) {
  contract(policyNumber: $pn) {
    id policyNumber productId channel { code } statuses { code } lockVersion
    policyholder { id nameKanji birthDate }
    terms { termNo startsAt endsAt status { code } }
    grade { grade marker { code } period }
    version {
      validFrom validTo ageCondition { code } driverRestriction { code } premiumYen
      vehicle { id useType { code } registrationNo modelCode firstRegistration valueYen }
      drivers { relationship { code } licenceColour { code } party { id nameKanji birthDate } }
      premium {
        totalYen tariffVersion
        explanation { productId tariffVersion totalYen
                      steps { line kind { code } factor value rate rule before after delta } }
      }
    }
  }
}
"""

OUR_PAGE_QUERY = """
query Page {
  contracts(first: 100) {
    edges {
      cursor
      node {
        id policyNumber productId channel { code } statuses { code } lockVersion
        policyholder { id nameKanji birthDate }
        grade { grade marker { code } period }
        version {
          validFrom validTo ageCondition { code } driverRestriction { code } premiumYen
          vehicle { id useType { code } registrationNo modelCode firstRegistration valueYen }
          drivers { relationship { code } licenceColour { code } party { id nameKanji birthDate } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
# ------------------------------------------------------------------------------------------------

# PostGraphile v4's generated names (introspected from bench/postgraphile/server.js); v5 answers the
# same text (bench/postgraphile5/server.js builds it with v5's V4 preset). Neither has a
# "version in force at" field: the current rows (supersededAt null) ordered by valid time, last
# first, take one — for an in-force contract that is the version in force now, the same row ours
# answers. The grade is the latest grade record, as ours.
PG_DETAIL_QUERY = """
query Detail($pn: String!) {
  contractByPolicyNumber(policyNumber: $pn) {
    nodeId id policyNumber productId channel statuses lockVersion
    partyByPolicyholderId { nodeId nameKanji birthDate }
    termsByContractIdList(orderBy: TERM_NO_ASC) { termNo startsAt endsAt status }
    gradeRecordsByContractIdList(orderBy: ID_DESC, first: 1) { grade marker period }
    contractVersionsByContractIdList(condition: {supersededAt: null}, orderBy: VALID_DESC, first: 1) {
      valid { start { value } end { value } } ageCondition driverRestriction premiumYen
      vehicleByVehicleId { nodeId useType registrationNo modelCode firstRegistration valueYen }
      versionDriversByVersionIdList { relationship licenceColour partyByPartyId { nodeId nameKanji birthDate } }
      premium explanation
    }
  }
}
"""

PG_PAGE_QUERY = """
query Page {
  allContracts(first: 100, orderBy: PRIMARY_KEY_ASC) {
    edges {
      cursor
      node {
        nodeId id policyNumber productId channel statuses lockVersion
        partyByPolicyholderId { nodeId nameKanji birthDate }
        gradeRecordsByContractIdList(orderBy: ID_DESC, first: 1) { grade marker period }
        contractVersionsByContractIdList(condition: {supersededAt: null}, orderBy: VALID_DESC, first: 1) {
          valid { start { value } end { value } } ageCondition driverRestriction premiumYen
          vehicleByVehicleId { nodeId useType registrationNo modelCode firstRegistration valueYen }
          versionDriversByVersionIdList { relationship licenceColour partyByPartyId { nodeId nameKanji birthDate } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

import argparse  # the query constants come first, where the lead looks for them
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

import asyncpg

from bench.book import generate_book
from bench.servers import run_on_services
from domain.runtime.services import with_database
from domain.store.migrate import migrate

PG_DIR = ROOT / "bench" / "postgraphile"
PG5_DIR = ROOT / "bench" / "postgraphile5"
AUTOCANNON = PG_DIR / "node_modules" / ".bin" / "autocannon"
TARGETS = {"detail": 1.0, "page": 2.0}   # issue 16: ours / PostGraphile v5 (P3 set them against v4)


@dataclass(frozen=True)
class Peer:
    """A PostGraphile server in its own npm directory (server.js + package-lock.json)."""

    key: str          # "v5", "v4": the column names of the table
    directory: Path
    node: str         # v5 needs Node >= 22: its package brings one (npm `node`), v4 runs on the machine's

    def version(self) -> str:
        try:
            meta = json.loads((self.directory / "node_modules" / "postgraphile" / "package.json").read_text())
        except OSError:
            return "not installed"
        return str(meta["version"])

    def check_installed(self) -> None:
        if not (self.directory / "node_modules" / "postgraphile").exists() or shutil.which(self.node) is None:
            raise HarnessError(f"PostGraphile {self.key} is not installed: cd {self.directory} && npm ci")


PEERS = (Peer("v5", PG5_DIR, str(PG5_DIR / "node_modules" / ".bin" / "node")), Peer("v4", PG_DIR, "node"))


class HarnessError(RuntimeError):
    """The benchmark itself could not run (not: a figure missed its target)."""


# ------------------------------------------------------------------------------------- machine


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    def node(binary: str) -> str:
        try:
            return subprocess.run([binary, "--version"], check=False, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    nodes = ", ".join(f"{p.key} on node {node(p.node)}" for p in PEERS)
    return (f"nproc {os.cpu_count()}, CPU {cpu}, RAM {ram}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, PostGraphile {nodes}")


def load_average() -> str:
    """`uptime`'s load: the machine is shared, so a figure is read against what else ran."""
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except (OSError, ValueError):
        return "?"
    return f"load average {one}, {five}, {fifteen} (1, 5, 15 min)"


# ------------------------------------------------------------------------------------ database


async def create_database(admin_url: str, name: str) -> str:
    """Drop and create `name`, migrate it (as tests/support.py fresh_database does)."""
    url = with_database(admin_url, name)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def pick_policy_number(url: str) -> str:
    """An in-force contract of a graded product with two current versions and two drivers: a
    detail that exercises every part of the query."""
    conn = await asyncpg.connect(url)
    try:
        pn = await conn.fetchval(
            """SELECT c.policy_number FROM contracts c
               WHERE c.statuses = '{IN_FORCE}' AND c.product_id = 'rakuten-drive-assist'
                 AND (SELECT count(*) FROM contract_versions v
                      WHERE v.contract_id = c.id AND v.superseded_at IS NULL) = 2
                 AND (SELECT count(*) FROM version_drivers d JOIN contract_versions v ON v.id = d.version_id
                      WHERE v.contract_id = c.id AND v.superseded_at IS NULL AND upper_inf(v.valid)) = 2
               ORDER BY c.id LIMIT 1""")
        if pn is None:
            pn = await conn.fetchval("SELECT policy_number FROM contracts ORDER BY id LIMIT 1")
    finally:
        await conn.close()
    if pn is None:
        raise HarnessError("the book is empty")
    return str(pn)


# ---------------------------------------------------------------------------------- in-process


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    runs: int


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


async def in_process(url: str, runs: int, pn: str) -> tuple[dict[str, Timing], list[str]]:
    """Our schema executed in this process (no HTTP), as a staff caller; errors are returned."""
    from api.auth import Principal, Role
    from api.context import Context
    from api.schema import schema
    from domain.runtime.clock import SystemClock
    from domain.runtime.logs import configure_logging
    from domain.runtime.settings import Settings
    from domain.store.db import create_pool

    configure_logging("WARNING")   # as the server runs: no per-request debug lines in the timings
    settings = Settings(database_url=url, redis_url="unused://")
    pool = await create_pool(url, min_size=2, max_size=10, session_free=True)   # as the API runs it
    clock = SystemClock()
    staff = Principal(subject="bench-staff", role=Role.STAFF)
    errors: list[str] = []
    out: dict[str, Timing] = {}
    try:
        for name, query, variables in (("detail", OUR_DETAIL_QUERY, {"pn": pn}), ("page", OUR_PAGE_QUERY, {})):
            async def once(query: str = query, variables: dict[str, Any] = variables) -> Any:
                ctx = Context(request=None, response=None, pool=pool, clock=clock, settings=settings,
                              request_id="bench", principal=staff)
                return await schema.execute(query, variable_values=variables, context_value=ctx)

            first = await once()
            if first.errors:
                errors.extend(f"{name}: {e.message}" for e in first.errors)
                continue
            for _ in range(max(20, runs // 10)):   # warm-up: caches, pool, planner
                await once()
            times: list[float] = []
            for _ in range(runs):
                t = time.perf_counter()
                r = await once()
                times.append((time.perf_counter() - t) * 1000)
                if r.errors:
                    raise HarnessError(f"{name}: errors after warm-up: {r.errors}")
            out[name] = Timing(statistics.median(times), _pct(times, 0.99), runs)
    finally:
        await pool.close()
    return out, errors


# -------------------------------------------------------------------------------------- servers


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None, timeout: float = 30) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, headers: dict[str, str] | None = None,
               timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(f"{url}: server exited ({proc.returncode}); log {log}:\n{log.read_text()[-2000:]}")
        try:
            post(url, {"query": "{ __typename }"}, headers, timeout=5)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            time.sleep(0.3)
    raise HarnessError(f"{url}: not ready within {timeout} s; log {log}")


@dataclass
class Server:
    name: str
    url: str          # its /graphql
    proc: subprocess.Popen[bytes]
    log: Path


@dataclass
class Servers:
    """The processes a bench started; stopped together at the end (each by its own handle)."""

    running: dict[str, Server] = field(default_factory=dict)

    def add(self, server: Server) -> Server:
        self.running[server.name] = server
        return server

    def stop(self) -> None:
        for s in self.running.values():
            if s.proc.poll() is None:
                s.proc.terminate()
        for s in self.running.values():
            try:
                s.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                s.proc.kill()


_OUR_LAUNCHER = """
import sys, uvicorn
from api.app import create_app
from domain.runtime.logs import configure_logging
from domain.runtime.settings import Settings
# as `autopolicy serve` does it, with request logging off (PostGraphile runs with disableQueryLog)
configure_logging("WARNING")
uvicorn.run(create_app(Settings()), host="127.0.0.1", port=int(sys.argv[1]), log_config=None,
            access_log=False, lifespan="on", loop="uvloop", http="httptools")
"""


def our_server_env(url: str, redis_url: str, environment: str = "production") -> dict[str, str]:
    """The environment our API process reads its Settings from (production, a 10-connection pool)."""
    return {"DATABASE_URL": url, "REDIS_URL": redis_url, "ENVIRONMENT": environment, "POOL_MAX": "10"}


def start_ours(url: str, redis_url: str, port: int, logdir: Path, servers: Servers,
               environment: str = "production") -> Server:
    env = {**os.environ, **our_server_env(url, redis_url, environment), "PYTHONPATH": str(ROOT)}
    log = logdir / "ours.log"
    proc = subprocess.Popen([sys.executable, "-c", _OUR_LAUNCHER, str(port)], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT)
    return servers.add(Server("ours", f"http://127.0.0.1:{port}/graphql", proc, log))


def start_peer(peer: Peer, url: str, port: int, logdir: Path, servers: Servers) -> Server:
    peer.check_installed()
    log = logdir / f"postgraphile-{peer.key}.log"
    proc = subprocess.Popen([peer.node, str(peer.directory / "server.js"), "--dsn", url, "--port", str(port)],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=peer.directory)
    return servers.add(Server(peer.key, f"http://127.0.0.1:{port}/graphql", proc, log))


def staff_token(url: str, redis_url: str, environment: str = "production") -> str:
    """A staff bearer token minted on the clock our server reads: the business clock, i.e. the wall
    clock shifted by the offset `autopolicy simulate` stored, where the server follows it (api/app.py).
    A wall-clock token would already be expired against a server whose clock was moved ahead."""
    from api.auth import Role, mint_token
    from api.dev_tokens import business_now
    from domain.runtime.settings import Settings

    server_env = our_server_env(url, redis_url, environment)
    settings = Settings(**{k.lower(): v for k, v in server_env.items()})  # type: ignore[arg-type]
    now = asyncio.run(business_now(settings, url))
    return mint_token(settings, subject="bench-staff", role=Role.STAFF, now=now, ttl=timedelta(hours=2))


# ------------------------------------------------------------------------------------------ load


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    errors: int


def autocannon(url: str, body: dict[str, Any], headers: dict[str, str], seconds: int, connections: int) -> Load:
    cmd = [str(AUTOCANNON), "-c", str(connections), "-d", str(seconds), "-m", "POST", "-j",
           "-H", "content-type=application/json", "-b", json.dumps(body)]
    for k, v in headers.items():
        cmd += ["-H", f"{k}={v}"]
    done = subprocess.run([*cmd, url], check=False, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise HarnessError(f"autocannon failed ({done.returncode}): {done.stderr[-1000:]}")
    r = json.loads(done.stdout)
    return Load(rps=r["requests"]["average"], p50_ms=r["latency"]["p50"], p99_ms=r["latency"]["p99"],
                requests=r["requests"]["total"], non2xx=r.get("non2xx", 0), errors=r.get("errors", 0))


# ------------------------------------------------------------------------------------- checking
# Each answer is reduced to the same plain record (instants compared as instants, bigints as ints,
# codes as strings, statuses as a set), field by field for everything both queries ask, so "same data" means the same
# contracts, terms, grade, version, car, drivers and — on the detail — premium and every step of
# its explanation.


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _int(x: Any) -> int | None:
    return None if x is None else int(x)   # PostGraphile answers bigint as a string


def _code(x: Any) -> Any:
    return x["code"] if isinstance(x, dict) else x


def _steps(steps: list[dict[str, Any]]) -> tuple[Any, ...]:
    keys = ("line", "factor", "value", "rate", "rule", "before", "after", "delta")
    return tuple((_code(st["kind"]), *(st[k] for k in keys)) for st in steps)


def _ours_contract(c: dict[str, Any], detail: bool) -> tuple[Any, ...]:
    v = c["version"] or {}
    car = v.get("vehicle") or {}
    g = c["grade"] or {}
    head: tuple[Any, ...] = (
        c["policyNumber"], c["productId"], _code(c["channel"]), tuple(sorted(_code(x) for x in c["statuses"])),
        c["lockVersion"], (c["policyholder"]["nameKanji"], c["policyholder"]["birthDate"]),
        (g.get("grade"), _code(g.get("marker")), g.get("period")),
        (_instant(v.get("validFrom")), _instant(v.get("validTo")), _code(v.get("ageCondition")),
         _code(v.get("driverRestriction")), _int(v.get("premiumYen"))),
        (_code(car.get("useType")), car.get("registrationNo"), car.get("modelCode"),
         (car.get("firstRegistration") or "")[:7], _int(car.get("valueYen"))),
        tuple(sorted((_code(d["relationship"]), _code(d["licenceColour"]), d["party"]["nameKanji"],
                      d["party"]["birthDate"]) for d in v.get("drivers", []))),
    )
    if not detail:
        return head
    p = v.get("premium") or {}
    e = p.get("explanation") or {}
    return (*head,
            tuple((t["termNo"], _instant(t["startsAt"]), _instant(t["endsAt"]), _code(t["status"])) for t in c["terms"]),
            (_int(p.get("totalYen")), p.get("tariffVersion")), _steps(e.get("steps", [])))


def _theirs_contract(c: dict[str, Any], detail: bool) -> tuple[Any, ...]:
    vs = c["contractVersionsByContractIdList"]
    v = vs[0] if vs else {}
    car = v.get("vehicleByVehicleId") or {}
    gs = c["gradeRecordsByContractIdList"]
    g = gs[0] if gs else {}
    valid = v.get("valid") or {}
    head: tuple[Any, ...] = (
        c["policyNumber"], c["productId"], c["channel"], tuple(sorted(c["statuses"])), c["lockVersion"],
        (c["partyByPolicyholderId"]["nameKanji"], c["partyByPolicyholderId"]["birthDate"]),
        (g.get("grade"), g.get("marker"), g.get("period")),
        (_instant((valid.get("start") or {}).get("value")), _instant((valid.get("end") or {}).get("value")),
         v.get("ageCondition"), v.get("driverRestriction"), _int(v.get("premiumYen"))),
        (car.get("useType"), car.get("registrationNo"), car.get("modelCode"),
         (car.get("firstRegistration") or "")[:7], _int(car.get("valueYen"))),
        tuple(sorted((d["relationship"], d["licenceColour"], d["partyByPartyId"]["nameKanji"],
                      d["partyByPartyId"]["birthDate"]) for d in v.get("versionDriversByVersionIdList", []))),
    )
    if not detail:
        return head
    p = v.get("premium") or {}
    e = v.get("explanation") or {}
    return (*head,
            tuple((t["termNo"], _instant(t["startsAt"]), _instant(t["endsAt"]), t["status"])
                  for t in c["termsByContractIdList"]),
            (_int(p.get("totalYen")), p.get("tariffVersion")), _steps(e.get("steps", [])))


def answer_record(who: str, data: dict[str, Any], kind: str) -> tuple[Any, ...]:
    """The comparable record of one server's answer to DETAIL (one contract) or PAGE (a tuple)."""
    if who == "ours":
        if kind == "detail":
            return _ours_contract(data["contract"], True)
        return tuple(_ours_contract(e["node"], False) for e in data["contracts"]["edges"])
    if kind == "detail":
        return _theirs_contract(data["contractByPolicyNumber"], True)
    return tuple(_theirs_contract(e["node"], False) for e in data["allContracts"]["edges"])


def _describe(record: tuple[Any, ...], kind: str) -> str:
    if kind == "detail":
        return (f"{record[0]}, {record[7][4]} yen, {len(record[9])} drivers, {len(record[10])} terms, "
                f"{len(record[12])} explanation steps")
    return (f"{len(record)} contracts {record[0][0]}..{record[-1][0]}, "
            f"{sum(len(r[9]) for r in record)} drivers")


def _first_difference(a: tuple[Any, ...], b: tuple[Any, ...]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"at [{i}]: {x!r} vs {y!r}"[:600]
    return f"lengths {len(a)} vs {len(b)}"


# ------------------------------------------------------------------------------------------ main


def _fmt(x: float) -> str:
    return f"{x:,.1f}"


def _median_load(loads: list[Load]) -> Load:
    return Load(rps=statistics.median(x.rps for x in loads), p50_ms=statistics.median(x.p50_ms for x in loads),
                p99_ms=statistics.median(x.p99_ms for x in loads), requests=sum(x.requests for x in loads),
                non2xx=sum(x.non2xx for x in loads), errors=sum(x.errors for x in loads))


def run(args: argparse.Namespace) -> int:
    admin = args.admin_url
    print(f"machine: {machine()}")
    print(f"load: {load_average()}")
    print("PostGraphile: " + ", ".join(f"{p.key} {p.version()}" for p in PEERS))
    logdir = Path(tempfile.mkdtemp(prefix="autopolicy-bench-"))
    url = with_database(admin, args.db_name)
    servers = Servers()
    try:
        if args.reuse_db:
            print(f"database {args.db_name}: reused")
        else:
            url = asyncio.run(create_database(admin, args.db_name))
            t = time.perf_counter()
            stats = asyncio.run(generate_book(url, args.contracts, seed=args.seed))
            print(f"database {args.db_name}: {args.contracts:,} contracts, {sum(stats.rows.values()):,} rows "
                  f"generated in {time.perf_counter() - t:.1f} s")
        pn = asyncio.run(pick_policy_number(url))
        print(f"detail query policy number: {pn}")

        timings, our_errors = asyncio.run(in_process(url, args.runs, pn))
        for e in our_errors:
            print(f"OUR API ERROR (in-process) {e}")

        for i, peer in enumerate(PEERS):
            start_peer(peer, url, args.pg_port + i, logdir, servers)
        start_ours(url, args.redis_url, args.our_port, logdir, servers)
        auth = {"authorization": f"Bearer {staff_token(url, args.redis_url)}"}
        for s in servers.running.values():
            wait_ready(s.url, s.proc, s.log, auth if s.name == "ours" else None)

        bodies: dict[str, dict[str, dict[str, Any]]] = {
            "detail": {"ours": {"query": OUR_DETAIL_QUERY, "variables": {"pn": pn}},
                       **{p.key: {"query": PG_DETAIL_QUERY, "variables": {"pn": pn}} for p in PEERS}},
            "page": {"ours": {"query": OUR_PAGE_QUERY}, **{p.key: {"query": PG_PAGE_QUERY} for p in PEERS}},
        }
        who_all = ["ours", *(p.key for p in PEERS)]
        measured: dict[str, list[str]] = {}
        for kind, per_server in bodies.items():
            records: dict[str, tuple[Any, ...]] = {}
            for who in who_all:
                answer = post(servers.running[who].url, per_server[who], auth if who == "ours" else None)
                if answer.get("errors") or not answer.get("data"):
                    message = json.dumps(answer.get("errors"), ensure_ascii=False)[:1500]
                    if who != "ours":
                        raise HarnessError(f"PostGraphile {who} {kind} query: {message}")
                    print(f"OUR API ERROR (HTTP) {kind}: {message}")
                    continue
                records[who] = answer_record(who, answer["data"], kind)
            reference = records["v4"]
            for who, rec in records.items():
                same = "same data" if rec == reference else f"DIFFERENT from v4 {_first_difference(rec, reference)}"
                print(f"{kind} {who:<4}: {same} — {_describe(rec, kind)}")
            measured[kind] = [w for w in who_all if w in records]

        samples: dict[tuple[str, str], list[Load]] = {}
        for rnd in range(args.rounds):
            for kind, whos in measured.items():
                for who in whos:
                    target = servers.running[who]
                    headers = auth if who == "ours" else {}
                    if rnd == 0:
                        autocannon(target.url, bodies[kind][who], headers, args.warmup, args.concurrency)  # JIT, caches, pools
                    load = autocannon(target.url, bodies[kind][who], headers, args.seconds, args.concurrency)
                    if load.non2xx or load.errors:
                        print(f"WARNING {who} {kind}: {load.non2xx} non-2xx, {load.errors} errors")
                    samples.setdefault((who, kind), []).append(load)
                    print(f"  round {rnd + 1} {who:<4} {kind:<6} {load.rps:8,.1f} req/s  p50 {load.p50_ms} ms  "
                          f"p99 {load.p99_ms} ms ({load.requests:,} requests)", flush=True)
        loads = {k: _median_load(v) for k, v in samples.items()}

        print()
        print(f"{args.contracts:,} contracts; HTTP: autocannon, {args.concurrency} connections, {args.seconds} s each "
              f"after {args.warmup} s warm-up, {args.rounds} round(s) in turn, medians; in-process: {args.runs} runs "
              f"after warm-up")
        print("| query | ours in-process p50 / p99 ms | ours req/s | ours p50 / p99 ms | v5 req/s | v5 p50 / p99 ms "
              "| v4 req/s | v4 p50 / p99 ms | ours/v5 | ours/v4 | target ours/v5 |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for kind in ("detail", "page"):
            tm = timings.get(kind)
            cells = [f"{_fmt(tm.p50_ms)} / {_fmt(tm.p99_ms)}" if tm else "—"]
            for who in who_all:
                ld = loads.get((who, kind))
                cells.append(f"{_fmt(ld.rps)} | {_fmt(ld.p50_ms)} / {_fmt(ld.p99_ms)}" if ld else "— | —")
            o = loads.get(("ours", kind))
            for peer in PEERS:
                g = loads.get((peer.key, kind))
                cells.append(f"**{o.rps / g.rps:.2f}**" if o and g and g.rps else "—")
            print(f"| {kind} | {' | '.join(cells)} | ≥ {TARGETS[kind]} |")
        for kind in ("detail", "page"):   # the spread: a neighbour's load moves single rounds
            for peer in PEERS:
                pairs = zip(samples.get(("ours", kind), []), samples.get((peer.key, kind), []), strict=False)
                ratios = ", ".join(f"{o.rps / g.rps:.2f}" for o, g in pairs if g.rps)
                print(f"{kind} ours/{peer.key} by round: {ratios or '—'}")
        print(f"machine: {machine()}")
        print(f"load: {load_average()}")
        print(f"server logs: {logdir}")
        return 0
    finally:
        servers.stop()
        if not args.keep_db and not args.reuse_db:
            asyncio.run(drop_database(admin, args.db_name))
        elif args.keep_db:
            print(f"kept database: {url}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Our contract reads vs PostGraphile v5 and v4 on the same book.")
    ap.add_argument("--contracts", type=int, default=20_000)
    ap.add_argument("--seconds", type=int, default=8, help="load per server, query and round")
    ap.add_argument("--rounds", type=int, default=3, help="measurements of each server in turn; medians reported")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of load before each measurement")
    ap.add_argument("--concurrency", type=int, default=8, help="HTTP connections of the load generator")
    ap.add_argument("--runs", type=int, default=300, help="in-process executions per query")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-db", action="store_true", help="leave the database for another run (--reuse-db)")
    ap.add_argument("--reuse-db", action="store_true", help="use the kept database as it is")
    ap.add_argument("--db-name", default="autopolicy_bench")
    ap.add_argument("--admin-url", default=None,
                    help="a server URL (any database on it); TCP or unix socket (?host=/dir); "
                         "default DATABASE_URL, else the embedded server")
    ap.add_argument("--redis-url", default=None, help="default REDIS_URL, else the embedded server")
    ap.add_argument("--our-port", type=int, default=8765)
    ap.add_argument("--pg-port", type=int, default=5055, help="PostGraphile v5; v4 on the next port")
    args = ap.parse_args(argv)
    if shutil.which("node") is None:
        print("bench/api.py: node is not on PATH", file=sys.stderr)
        return 1
    try:
        return run_on_services(args, run)
    except (HarnessError, OSError, asyncpg.PostgresError, subprocess.SubprocessError) as exc:
        print(f"bench/api.py: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
