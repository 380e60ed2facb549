"""Contract read API against PostGraphile v4 on the same database (ENGINEERING P1-P3).

Run: .venv/bin/python bench/api.py [--contracts 20000] [--seconds 10] [--concurrency 8] [--keep-db]
     (needs `cd bench/postgraphile && npm ci` once; PostgreSQL at DATABASE_URL and Redis at
      REDIS_URL — our API's readiness check wants one — or, when unset, the embedded servers
      `make run` uses, started and stopped by bench/servers.py)

1. creates a fresh database (autopolicy_bench), migrates it, fills it with bench/book.py;
2. in-process: our schema's `execute` of the DETAIL and PAGE queries, p50/p99 over --runs runs
   after warm-up, as a staff caller (P1: detail p50 <= 5 ms, p99 <= 20 ms; P2: page p50 <= 60 ms);
3. starts PostGraphile (node bench/postgraphile/server.js) and our API (uvicorn, one process each,
   both with a pool of 10 connections to the same database), checks both answer the same data,
   then drives each with the same load generator (autocannon, --concurrency connections,
   --seconds each, after a warm-up) and prints req/s, p50/p99 and ours/theirs
   (P3: >= 1.0 detail, >= 2.0 page).

If our API answers errors for our queries (schema not ready), they are printed and PostGraphile is
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

# PostGraphile v4's generated names (introspected from bench/postgraphile/server.js). It has no
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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

import asyncpg

from bench.book import generate_book
from bench.servers import bench_services
from domain.runtime.services import with_database
from domain.store.migrate import migrate

PG_DIR = ROOT / "bench" / "postgraphile"
AUTOCANNON = PG_DIR / "node_modules" / ".bin" / "autocannon"
TARGETS = {"detail": 1.0, "page": 2.0}   # P3: ours / theirs


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
    node = subprocess.run(["node", "--version"], check=False, capture_output=True, text=True).stdout.strip()
    return (f"nproc {os.cpu_count()}, CPU {cpu}, RAM {ram}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, node {node}")


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
    pool = await create_pool(url, min_size=2, max_size=10)
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
               timeout: float = 60) -> None:
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
class Servers:
    procs: list[subprocess.Popen[bytes]]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


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


def start_servers(url: str, redis_url: str, our_port: int, pg_port: int, logdir: Path) -> Servers:
    if not (PG_DIR / "node_modules" / "postgraphile").exists():
        raise HarnessError(f"PostGraphile is not installed: cd {PG_DIR} && npm ci")
    procs: list[subprocess.Popen[bytes]] = []
    pg_log = (logdir / "postgraphile.log").open("wb")
    procs.append(subprocess.Popen(["node", str(PG_DIR / "server.js"), "--dsn", url, "--port", str(pg_port)],
                                  stdout=pg_log, stderr=subprocess.STDOUT, cwd=PG_DIR))
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "ENVIRONMENT": "production",
           "POOL_MAX": "10", "PYTHONPATH": str(ROOT)}
    our_log = (logdir / "ours.log").open("wb")
    procs.append(subprocess.Popen([sys.executable, "-c", _OUR_LAUNCHER, str(our_port)], env=env,
                                  stdout=our_log, stderr=subprocess.STDOUT, cwd=ROOT))
    return Servers(procs)


def staff_token(redis_url: str, url: str) -> str:
    from api.auth import Role, mint_token
    from domain.runtime.clock import SystemClock
    from domain.runtime.settings import Settings

    settings = Settings(environment="production", database_url=url, redis_url=redis_url)
    return mint_token(settings, subject="bench-staff", role=Role.STAFF, now=SystemClock().now(),
                      ttl=timedelta(hours=2))


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


def _ours_summary(data: dict[str, Any], kind: str) -> Any:
    if kind == "detail":
        c = data["contract"]
        v = c["version"] or {}
        return (c["policyNumber"], v.get("premiumYen"), len(v.get("drivers", [])), len(c["terms"]),
                (c["grade"] or {}).get("grade"))
    edges = data["contracts"]["edges"]
    return (len(edges), edges[0]["node"]["policyNumber"], edges[-1]["node"]["policyNumber"],
            sum(len((e["node"]["version"] or {}).get("drivers", [])) for e in edges))


def _theirs_summary(data: dict[str, Any], kind: str) -> Any:
    def version(c: dict[str, Any]) -> dict[str, Any]:
        vs = c["contractVersionsByContractIdList"]
        return vs[0] if vs else {}

    if kind == "detail":
        c = data["contractByPolicyNumber"]
        g = c["gradeRecordsByContractIdList"]
        premium = version(c).get("premiumYen")   # bigint: PostGraphile answers it as a string
        return (c["policyNumber"], None if premium is None else int(premium), len(version(c).get("versionDriversByVersionIdList", [])),
                len(c["termsByContractIdList"]), g[0]["grade"] if g else None)
    edges = data["allContracts"]["edges"]
    return (len(edges), edges[0]["node"]["policyNumber"], edges[-1]["node"]["policyNumber"],
            sum(len(version(e["node"]).get("versionDriversByVersionIdList", [])) for e in edges))


# ------------------------------------------------------------------------------------------ main


def _fmt(x: float) -> str:
    return f"{x:,.1f}"


def run(args: argparse.Namespace) -> int:
    admin = args.admin_url
    print(f"machine: {machine()}")
    logdir = Path(tempfile.mkdtemp(prefix="autopolicy-bench-"))
    url = with_database(admin, args.db_name)
    servers: Servers | None = None
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

        servers = start_servers(url, args.redis_url, args.our_port, args.pg_port, logdir)
        ours_url = f"http://127.0.0.1:{args.our_port}/graphql"
        pg_url = f"http://127.0.0.1:{args.pg_port}/graphql"
        auth = {"authorization": f"Bearer {staff_token(args.redis_url, url)}"}
        wait_ready(pg_url, servers.procs[0], logdir / "postgraphile.log")
        wait_ready(ours_url, servers.procs[1], logdir / "ours.log", auth)

        bodies: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
            "detail": ({"query": OUR_DETAIL_QUERY, "variables": {"pn": pn}},
                       {"query": PG_DETAIL_QUERY, "variables": {"pn": pn}}),
            "page": ({"query": OUR_PAGE_QUERY}, {"query": PG_PAGE_QUERY}),
        }
        ours_ok: dict[str, bool] = {}
        for kind, (ours_body, pg_body) in bodies.items():
            theirs = post(pg_url, pg_body)
            if theirs.get("errors"):
                raise HarnessError(f"PostGraphile {kind} query: {theirs['errors']}")
            t_sum = _theirs_summary(theirs["data"], kind)
            mine = post(ours_url, ours_body, auth)
            if mine.get("errors") or not mine.get("data"):
                print(f"OUR API ERROR (HTTP) {kind}: {json.dumps(mine.get('errors'), ensure_ascii=False)[:1500]}")
                ours_ok[kind] = False
                continue
            ours_ok[kind] = True
            o_sum = _ours_summary(mine["data"], kind)
            same = "same" if o_sum == t_sum else "DIFFERENT"
            print(f"{kind}: {same} data — ours {o_sum}, PostGraphile {t_sum}")

        loads: dict[tuple[str, str], Load] = {}
        for kind, (ours_body, pg_body) in bodies.items():
            targets: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [("postgraphile", pg_url, pg_body, {})]
            if ours_ok[kind]:
                targets.insert(0, ("ours", ours_url, ours_body, auth))
            for who, target, body, headers in targets:
                autocannon(target, body, headers, args.warmup, args.concurrency)   # JIT, caches, pools
                load = autocannon(target, body, headers, args.seconds, args.concurrency)
                if load.non2xx or load.errors:
                    print(f"WARNING {who} {kind}: {load.non2xx} non-2xx, {load.errors} errors")
                loads[(who, kind)] = load
                print(f"  {who:<12} {kind:<6} {load.rps:8,.1f} req/s  p50 {load.p50_ms} ms  p99 {load.p99_ms} ms "
                      f"({load.requests:,} requests)", flush=True)

        print()
        print(f"{args.contracts:,} contracts; HTTP: autocannon, {args.concurrency} connections, {args.seconds} s each "
              f"after {args.warmup} s warm-up; in-process: {args.runs} runs after warm-up")
        print("| query | ours in-process p50 / p99 ms | ours req/s | ours p50 / p99 ms | PostGraphile req/s "
              "| PostGraphile p50 / p99 ms | ours/theirs | target |")
        print("|---|---|---|---|---|---|---|---|")
        for kind in ("detail", "page"):
            tm = timings.get(kind)
            o, g = loads.get(("ours", kind)), loads.get(("postgraphile", kind))
            ratio = f"{o.rps / g.rps:.2f}" if o and g and g.rps else "—"
            in_proc = f"{_fmt(tm.p50_ms)} / {_fmt(tm.p99_ms)}" if tm else "—"
            ours = f"{_fmt(o.rps)} | {_fmt(o.p50_ms)} / {_fmt(o.p99_ms)}" if o else "— | —"
            theirs = f"{_fmt(g.rps)} | {_fmt(g.p50_ms)} / {_fmt(g.p99_ms)}" if g else "— | —"
            print(f"| {kind} | {in_proc} | {ours} | {theirs} | {ratio} | ≥ {TARGETS[kind]} |")
        print(f"machine: {machine()}")
        print(f"server logs: {logdir}")
        return 0
    finally:
        if servers is not None:
            servers.stop()
        if not args.keep_db and not args.reuse_db:
            asyncio.run(drop_database(admin, args.db_name))
        elif args.keep_db:
            print(f"kept database: {url}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Our contract reads vs PostGraphile v4 on the same book.")
    ap.add_argument("--contracts", type=int, default=20_000)
    ap.add_argument("--seconds", type=int, default=10, help="load per server and query")
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
    ap.add_argument("--pg-port", type=int, default=5055)
    args = ap.parse_args(argv)
    if shutil.which("node") is None:
        print("bench/api.py: node is not on PATH", file=sys.stderr)
        return 1
    try:
        if args.admin_url and args.redis_url:
            return run(args)
        with bench_services(quiet=False) as svc:
            args.admin_url = args.admin_url or svc.database_url
            args.redis_url = args.redis_url or svc.redis_url
            return run(args)
    except (HarnessError, OSError, asyncpg.PostgresError, subprocess.SubprocessError) as exc:
        print(f"bench/api.py: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
