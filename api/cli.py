"""`autopolicy` command line: serve, worker, migrate, seed, token, dev, simulate, recalc.

Every command that needs PostgreSQL/Redis uses DATABASE_URL / REDIS_URL when set and embedded
servers under .data/ otherwise. A service that cannot be reached, or a port in use, ends the
command with one line on stderr and exit status 2 — never a traceback.
"""

from __future__ import annotations

from domain.runtime import stop_signals

# First thing: a SIGTERM during the imports below is noted rather than fatal; `main` hands it to
# the worker (which then exits 0 without starting) and gives every other command the usual
# handling back (domain/runtime/stop_signals.py).
stop_signals.defer()

import argparse
import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from domain.runtime.embedded import EmbeddedError
from domain.runtime.services import (
    Services,
    ServiceUnavailable,
    check_postgres,
    check_redis,
    redact,
    start_services,
)
from domain.runtime.settings import Settings, get_settings
from domain.services.wiring import install as install_reactions

EXIT_USAGE = 2


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


def _say(msg: str) -> None:
    print(msg, flush=True)


def _fail(msg: str) -> None:
    print(f"autopolicy: {msg}", file=sys.stderr, flush=True)


@contextmanager
def services_for(settings: Settings, *, need_redis: bool = True) -> Iterator[Services]:
    """Resolve (and start, when embedded) the services; check they answer; stop embedded ones after."""
    svc = start_services(settings.database_url, settings.redis_url, settings.data_dir, with_redis=need_redis)
    try:
        asyncio.run(check_postgres(svc.database_url))
        if need_redis:
            asyncio.run(check_redis(svc.redis_url))
        yield svc
    finally:
        svc.stop()


def _ensure_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise CliError(f"port {port} on {host} is in use ({exc.strerror}); set PORT or stop the other server") from exc


# ---------------------------------------------------------------- commands

def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from domain.store.migrate import migrate

    async def run(url: str) -> list[str]:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            return await migrate(conn)
        finally:
            await conn.close()

    with services_for(settings, need_redis=False) as svc:
        applied = asyncio.run(run(svc.database_url))
    _say("migrations applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def cmd_seed(settings: Settings, _args: argparse.Namespace) -> int:
    """Load the demo book as of the business clock's now (it is lived up to then, timers and all)."""
    from domain.runtime.business_clock import business_clock
    from domain.store.db import create_pool
    from workers.demo_book import DemoBookIncomplete, load_demo_data

    async def run(url: str) -> str:
        pool = await create_pool(url, min_size=1, max_size=4)
        try:
            now = (await business_clock(pool, settings)).now()
            return await load_demo_data(pool, settings, now)
        except DemoBookIncomplete as exc:
            raise CliError(str(exc)) from exc
        finally:
            await pool.close()

    with services_for(settings, need_redis=False) as svc:
        _say(asyncio.run(run(svc.database_url)))
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Print a development JWT, minted on the business clock (api/dev_tokens.py)."""
    from api.auth import Role
    from api.dev_tokens import TokenRequestError, mint_dev_token, token_request

    try:
        req = token_request(Role(args.role), args.subject, party=args.party, agency=args.agency, hours=args.hours)
    except TokenRequestError as exc:
        raise CliError(str(exc)) from exc
    if settings.is_production or not settings.allow_clock_override:
        token = mint_dev_token(settings, None, req)  # the wall clock is the business clock
    else:
        with services_for(settings, need_redis=False) as svc:
            token = mint_dev_token(settings, svc.database_url, req)
    print(token)
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    """Move the business clock to --until, printing one line per timer that changed something."""
    from domain.runtime.clock import SystemClock
    from domain.store.db import create_pool
    from domain.store.migrate import migrate
    from workers.simulate import SimulationRefused, Step, parse_until, simulate

    try:
        until = parse_until(args.until)
    except ValueError as exc:
        raise CliError(str(exc)) from exc

    def show(step: Step) -> None:
        if step.had_effect:  # quiet on days (and timers) where nothing happened
            _say(step.line())

    async def run(url: str) -> str:
        pool = await create_pool(url, min_size=1, max_size=4)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
            sim = await simulate(pool, settings, until, wall=SystemClock(), on_step=None if args.quiet else show)
        except SimulationRefused as exc:
            raise CliError(str(exc)) from exc
        finally:
            await pool.close()
        return sim.summary()

    with services_for(settings, need_redis=False) as svc:
        _say(asyncio.run(run(svc.database_url)))
    return 0


def _bar(run: object) -> str:
    from domain.services.renewals.recalc import progress_of

    frac = progress_of(run)  # type: ignore[arg-type]
    t = run.total  # type: ignore[attr-defined]
    filled = int(frac * 30)
    return (f"[{'#' * filled}{'.' * (30 - filled)}] {frac * 100:5.1f}%  due {t['scanned']:,}  new {t['offered']:,}  "
            f"changed {t['changed']:,}  unchanged {t['unchanged']:,}  failed {t['failed']:,}")


def cmd_recalc(settings: Settings, args: argparse.Namespace) -> int:
    """Recompute the renewal offers of every contract whose offer is due on --as-of (default: the
    business date, so after `simulate` it is the simulated day)."""
    from domain.runtime.business_clock import business_clock
    from domain.runtime.clock import JST
    from domain.services.renewals import recalc
    from domain.store.db import create_pool

    tty = sys.stderr.isatty()

    def show(run: object) -> None:
        print(("\r" if tty else "") + _bar(run), end="" if tty else "\n", file=sys.stderr, flush=True)

    async def run(url: str) -> str:
        pool = await create_pool(url, min_size=1, max_size=2)
        try:
            clock = await business_clock(pool, settings)
            now = clock.now()
            as_of = args.as_of or now.astimezone(JST).date()
            r = await recalc.start_or_resume(pool, as_of=as_of, resume=args.resume, parts=args.parts,
                                             source="CLI", now=now)
        finally:
            await pool.close()
        started = time.perf_counter()
        r = await recalc.drive(url, r, page=args.page, on_progress=show, clock_offset=clock.offset)
        if tty:
            print(file=sys.stderr)
        t = r.total
        return (f"recalc run {r.id} as of {r.as_of}: {r.state.lower()} in {time.perf_counter() - started:.1f} s; "
                f"due {t['scanned']:,}, new {t['offered']:,}, changed {t['changed']:,}, "
                f"unchanged {t['unchanged']:,}, failed {t['failed']:,}")

    with services_for(settings, need_redis=False) as svc:
        _say(asyncio.run(run(svc.database_url)))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from domain.runtime.logs import configure_logging

    _ensure_port_free(settings.host, settings.port)
    with services_for(settings) as svc:
        configure_logging(args.log_level)
        app_settings = settings.model_copy(update={"database_url": svc.database_url, "redis_url": svc.redis_url})
        uvicorn.run(create_app(app_settings), host=settings.host, port=settings.port,
                    log_config=None, access_log=False, lifespan="on")
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from domain.runtime.logs import configure_logging
    from workers.settings import run_worker

    with services_for(settings) as svc:
        configure_logging(args.log_level)
        if args.log_level.upper() != "DEBUG":
            # arq logs every job start/end, including the sweep every few seconds; our jobs log
            # what they did themselves.
            logging.getLogger("arq.worker").setLevel(logging.WARNING)
        run_worker(settings.model_copy(update={"database_url": svc.database_url, "redis_url": svc.redis_url}))
    return 0


def cmd_dev(settings: Settings, args: argparse.Namespace) -> int:
    """Everything a developer needs, in one terminal; Ctrl-C stops all of it."""
    from api.auth import Role
    from api.dev_tokens import TokenRequest, mint_dev_token

    started = time.monotonic()
    _ensure_port_free(settings.host, settings.port)
    svc = start_services(settings.database_url, settings.redis_url, settings.data_dir)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Ctrl-C reaches the whole process group: the children shut themselves down, and we only
    # note it, so a child exiting because of it is not mistaken for a crash.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        asyncio.run(check_postgres(svc.database_url))
        asyncio.run(check_redis(svc.redis_url))
        for note in svc.notes:
            _say(f"· {note}")
        env = {**os.environ, "DATABASE_URL": svc.database_url, "REDIS_URL": svc.redis_url}
        exe = [sys.executable, "-m", "api.cli"]
        for step in ("migrate", "seed"):
            subprocess.run([*exe, step], env=env, check=True)
        clock_line = asyncio.run(_business_clock_line(svc, settings))
        children.append(subprocess.Popen([*exe, "serve", "--log-level", args.log_level], env=env))
        children.append(subprocess.Popen([*exe, "worker", "--log-level", args.log_level], env=env))
        url = f"http://{settings.host}:{settings.port}/graphql"
        _wait_ready(f"http://{settings.host}:{settings.port}/readyz", children, timeout=60)
        token = mint_dev_token(settings, svc.database_url, TokenRequest(Role.STAFF, "demo-staff"))
        _say(f"\nautopolicy is ready in {time.monotonic() - started:.1f} s")
        _say(f"  GraphiQL:   {url}")
        _say(f"  PostgreSQL: {redact(svc.database_url)}")
        _say(f"  Redis:      {svc.redis_url}")
        _say(f"  {clock_line}")
        _say(f"  demo token (staff): {token}")
        _say("  Ctrl-C stops everything.\n")
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.2)
        time.sleep(0.3)  # a signal that stopped a child may still be on its way to us
        if not stopping:
            raise CliError("a child process exited; stopping the rest")
    except KeyboardInterrupt:
        pass
    finally:
        _stop_children(children)
        svc.stop()
        _say("autopolicy stopped.")
    return 0


async def _business_clock_line(svc: Services, settings: Settings) -> str:
    """The banner's clock line: where the business clock is, and how far it was moved."""
    import asyncpg

    from domain.runtime.business_clock import business_clock, describe_span
    from domain.runtime.clock import JST

    conn = await asyncpg.connect(svc.database_url)
    try:
        clock = await business_clock(conn, settings)
    finally:
        await conn.close()
    at = f"{clock.now().astimezone(JST):%Y-%m-%d %H:%M} JST"
    if not clock.offset:
        return f"business clock: {at} (the wall clock; `autopolicy simulate --until DATE` moves it forward)"
    start_over = ("`make clean-data` starts over on the wall clock" if svc.embedded_postgres is not None
                  else "an empty database starts over on the wall clock")
    return (f"business clock: {at} (moved {describe_span(clock.offset)} ahead by `autopolicy simulate`; "
            f"it only moves forward, {start_over})")


def _wait_ready(url: str, children: list[subprocess.Popen[bytes]], timeout: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.poll() is not None for c in children):
            raise CliError("the API or the worker exited during start; see the lines above")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise CliError(f"{url} did not become ready within {timeout:.0f} s")


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for c in children:
        if c.poll() is None:
            c.send_signal(signal.SIGTERM)
    for c in children:
        try:
            c.wait(15)
        except subprocess.TimeoutExpired:
            c.kill()
            c.wait()


# ---------------------------------------------------------------- entry point

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autopolicy", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_ in (("serve", "run the API (uvicorn)"), ("worker", "run an arq worker"),
                        ("dev", "embedded services + migrate + seed + API + worker (make run)")):
        sp = sub.add_parser(name, help=help_)
        sp.add_argument("--log-level", default="INFO")
    sub.add_parser("migrate", help="apply pending SQL migrations")
    sub.add_parser("seed", help="load demo data (idempotent)")
    sim = sub.add_parser("simulate", help="move the business clock and run every timer due on the way (not in production)")
    sim.add_argument("--until", required=True, metavar="DATE[THH:MM]",
                     help="where to move the clock: a date-time (2027-10-05T09:30, JST unless it carries an "
                          "offset) or a date, meaning 09:00 JST that day (the night's timers have run, the "
                          "day's 16:00 expiries not yet)")
    sim.add_argument("--quiet", action="store_true", help="print only the summary, not a line per effect")
    t = sub.add_parser("token", help="mint a development JWT (staff unless --role says otherwise), on the business clock")
    t.add_argument("--role", default="staff", choices=["policyholder", "agent", "staff", "admin"],
                   help="default staff; policyholder needs --party, agent needs --agency")
    t.add_argument("--subject", default="dev-user")
    t.add_argument("--party", help="policyholder's party: its id as the API shows it (policyholder { id }) or the database integer")
    t.add_argument("--agency", help="agent's agency: its id as the API shows it (agency { id }) or the database integer")
    t.add_argument("--hours", type=float, default=12, help="lifetime in business-clock hours (default 12)")
    r = sub.add_parser("recalc", help="recompute due renewal offers (resumable, with progress)")
    r.add_argument("--as-of", type=date.fromisoformat, default=None,
                   help="offer date (JST), default the business clock's today")
    r.add_argument("--resume", action="store_true", help="continue the last unfinished run for that date")
    r.add_argument("--parts", type=int, default=2, help="processes working disjoint id ranges (new runs)")
    r.add_argument("--page", type=int, default=1000, help="contracts per transaction")
    return p


COMMANDS = {"serve": cmd_serve, "worker": cmd_worker, "migrate": cmd_migrate, "seed": cmd_seed,
            "token": cmd_token, "dev": cmd_dev, "simulate": cmd_simulate, "recalc": cmd_recalc}


# Commands that look at a stop noted during start-up (workers/settings.run_worker); the others
# get the default handling back, and a stop noted meanwhile takes effect as it would have.
_DEFERS_STOP = {"worker"}


def _stop_signals_as_usual() -> None:
    early = stop_signals.requested()
    stop_signals.restore()
    if early is not None:
        signal.raise_signal(early)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in _DEFERS_STOP:
        _stop_signals_as_usual()
    try:
        settings = get_settings()
    except Exception as exc:  # noqa: BLE001 - pydantic ValidationError: a bad environment variable
        _fail(f"bad setting: {exc}".splitlines()[0])
        return EXIT_USAGE
    install_reactions()
    try:
        return COMMANDS[args.command](settings, args)
    except (CliError, ServiceUnavailable, EmbeddedError) as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
