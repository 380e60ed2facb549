"""Offline GraphiQL, proven in Debian's headless Chromium with every outside host unreachable.

The real app runs under uvicorn on 127.0.0.1; the browser may only talk to it. The page must load,
run `{ __typename }`, show the answer, and send a pasted Authorization header. The other tests here
check the served HTML and the vendored files without a browser.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from api.graphiql import STATIC_DIR, graphiql_html, graphiql_routes
from domain.runtime.settings import Settings

if TYPE_CHECKING:  # playwright is imported only by the browser test, which may skip
    from playwright.async_api import Page, Request

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "graphiql.png"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
# Written by us, not vendored: VERSIONS.md does not hash these.
OWN_FILES = {"graphiql-init.js", "graphiql-app.css", "package.json", "VERSIONS.md"}


@pytest.fixture(scope="module")
def app_settings(database_url: str, redis_url: str) -> Settings:
    return Settings(environment="test", database_url=database_url, redis_url=redis_url)


@pytest.fixture(scope="module")
def live_server(app_settings: Settings) -> Iterator[str]:
    """The real app (non-production settings, so GraphiQL is on) served by uvicorn in a thread."""
    from api.app import create_app

    app = create_app(app_settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race with other runs
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start the app")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _asset_refs(page: str) -> list[str]:
    return re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", page)


def test_served_page_references_only_local_assets(live_server: str) -> None:
    response = httpx.get(f"{live_server}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert 'id="graphiql"' in page
    # No absolute or protocol-relative URL anywhere, so nothing can point at a CDN.
    assert not re.search(r"https?:|wss?:|//[A-Za-z0-9]", page, re.IGNORECASE), page
    refs = _asset_refs(page)
    assert refs, "page references no assets"
    for ref in refs:
        if ref == "data:,":  # the empty favicon, so the browser asks for no /favicon.ico
            continue
        assert ref.startswith("/static/graphiql/"), ref
        asset = httpx.get(f"{live_server}{ref}", timeout=10)
        assert asset.status_code == 200, ref
        assert "immutable" in asset.headers["cache-control"], ref


def test_graphiql_html_refuses_an_endpoint_off_this_server() -> None:
    for endpoint in ("https://cdn.example/graphql", "//cdn.example/graphql", "graphql"):
        with pytest.raises(ValueError):
            graphiql_html(endpoint)
    assert 'data-endpoint="/api/graphql"' in graphiql_html("/api/graphql")


async def test_asset_urls_carry_the_content_hash_and_cache_accordingly() -> None:
    for ref in _asset_refs(graphiql_html()):
        if ref.startswith("data:"):
            continue
        path, _, query = ref.partition("?")
        name = path.rsplit("/", 1)[1]
        digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()
        assert query == f"v={digest[:16]}", ref
    transport = httpx.ASGITransport(app=Starlette(routes=graphiql_routes()))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        versioned = await client.get(_asset_refs(graphiql_html())[-1])
        plain = await client.get("/static/graphiql/graphiql.min.js")
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "no-cache"
    assert "javascript" in plain.headers["content-type"]


def test_vendored_files_match_versions_md() -> None:
    versions = (STATIC_DIR / "VERSIONS.md").read_text(encoding="utf-8")
    hashed = dict(re.findall(r"^\| `([^`]+)` \| \d+ \| ([0-9a-f]{64}) \|$", versions, re.MULTILINE))
    assert {
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "THIRD_PARTY_LICENSES.txt",
    } <= hashed.keys()
    for name, digest in hashed.items():
        assert hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest() == digest, name
    on_disk = {p.name for p in STATIC_DIR.iterdir()}
    assert on_disk == hashed.keys() | OWN_FILES, "unlisted file in api/static/graphiql"
    pins = json.loads((STATIC_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    for package, version in pins.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{package} is not pinned exactly"
        assert f"| {package} | {version} |" in versions, f"VERSIONS.md is stale for {package}"
    for licence in ("LICENSE.graphiql.txt", "LICENSE.react.txt", "LICENSE.react-dom.txt"):
        assert "Permission is hereby granted" in (STATIC_DIR / licence).read_text(encoding="utf-8")


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing; CI must run the GraphiQL browser test")
    pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium)")


@pytest.mark.browser
async def test_graphiql_runs_a_query_offline_in_chromium(
    live_server: str, app_settings: Settings
) -> None:
    _need_chromium()
    from playwright.async_api import Route, async_playwright, expect

    from api.auth import Role, mint_token

    token = mint_token(
        app_settings, subject="graphiql-test", role=Role.STAFF, now=datetime.now(UTC)
    )
    bearer = f"Bearer {token}"

    outside: list[str] = []  # requests for any host but ours: none may even be attempted
    seen: list[str] = []
    problems: list[str] = []  # uncaught errors, console errors (CSP refusals land here too)

    async def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("blockedbyclient")

    def note(request: Request) -> None:
        seen.append(request.url)
        if urlsplit(request.url).hostname != "127.0.0.1" and request.url not in outside:
            outside.append(request.url)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1360, "height": 820}, service_workers="block"
            )
            await context.route("**/*", only_loopback)
            page = await context.new_page()
            page.on("request", note)
            page.on(
                "websocket",
                lambda ws: (
                    outside.append(ws.url) if urlsplit(ws.url).hostname != "127.0.0.1" else None
                ),
            )
            page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
            page.on(
                "console",
                lambda msg: (
                    problems.append(f"console: {msg.text}") if msg.type == "error" else None
                ),
            )

            await page.goto(f"{live_server}/graphql", wait_until="load")
            query_editor = page.locator(".graphiql-query-editor .CodeMirror")
            await query_editor.wait_for(timeout=10_000)
            await _set_editor(page, ".graphiql-query-editor .CodeMirror", "{ __typename }")
            async with page.expect_request(_is_query("{ __typename }")) as first:
                await page.locator(".graphiql-execute-button").click()
            first_request = await first.value
            result = page.locator(".graphiql-response .result-window")
            await expect(result).to_contain_text('"__typename": "Query"', timeout=10_000)
            assert "authorization" not in await first_request.all_headers()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
            # Checked up to here: whatever the API answers the token request with is auth's
            # business (a refusal would show as a console error), not GraphiQL's.
            problems_before_token = list(problems)

            # A token pasted into the Headers editor goes out with the next request.
            await page.locator(".graphiql-editor-tools").get_by_text("Headers", exact=True).click()
            await _set_editor(page, _HEADERS_EDITOR, json.dumps({"Authorization": bearer}))
            async with page.expect_request(_is_query("{ __typename }")) as second:
                await page.locator(".graphiql-execute-button").click()
            headers = await (await second.value).all_headers()
            assert headers.get("authorization") == bearer
        finally:
            await browser.close()

    assert outside == [], f"the page tried to reach other hosts: {outside}"
    assert any("/static/graphiql/graphiql.min.js" in url for url in seen), seen
    assert problems_before_token == [], problems_before_token


# The Headers editor is the visible CodeMirror among the editor tools (variables/headers tabs).
_HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"


async def _set_editor(page: Page, selector: str, text: str) -> None:
    # CodeMirror 5 keeps its API on the wrapper element; setting the value fires the same change
    # events as typing, without fighting auto-closed brackets and completion pop-ups.
    await page.locator(selector).wait_for(timeout=10_000)
    await page.evaluate(
        "([sel, text]) => document.querySelector(sel).CodeMirror.setValue(text)", [selector, text]
    )


def _is_query(query: str) -> Callable[[Request], bool]:
    def match(request: Request) -> bool:
        if request.method != "POST" or not request.url.endswith("/graphql"):
            return False
        try:
            return json.loads(request.post_data or "{}").get("query") == query
        except ValueError:
            return False

    return match


@pytest.mark.browser
async def test_graphiql_runs_a_subscription_over_its_websocket(
    live_server: str, app_settings: Settings, pool: object
) -> None:
    """A subscription typed into GraphiQL opens ws://<this origin>/graphql (the CSP allows it),
    sends the Headers tab's token in connection_init, and shows an event committed meanwhile."""
    _need_chromium()
    from playwright.async_api import async_playwright, expect

    from api.auth import Role, mint_token
    from api.node import to_global_id
    from domain.store.outbox import append_events
    from domain.store.uow import UnitOfWork
    from tests.factories import rated_contract

    book = await rated_contract(pool)  # type: ignore[arg-type]
    cid = book.created.contract.id
    token = mint_token(app_settings, subject="graphiql-ws", role=Role.STAFF, now=datetime.now(UTC))
    gid = to_global_id("Contract", cid)
    # afterSeq: the event appended below is shown however late the subscription starts
    seq = await pool.fetchval("SELECT event_seq FROM contracts WHERE id = $1", cid)  # type: ignore[attr-defined]
    problems: list[str] = []
    sockets: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(service_workers="block")).new_page()
            frames: list[str] = []

            def on_ws(ws: object) -> None:
                sockets.append(ws.url)  # type: ignore[attr-defined]
                ws.on("framesent", lambda f: frames.append(f"> {f}"))  # type: ignore[attr-defined]
                ws.on("framereceived", lambda f: frames.append(f"< {f}"))  # type: ignore[attr-defined]

            page.on("websocket", on_ws)
            page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            await page.goto(f"{live_server}/graphql", wait_until="load")
            await _set_editor(page, ".graphiql-query-editor .CodeMirror",
                              f'subscription {{ contractEvents(contractId: "{gid}", afterSeq: {seq}) {{ seq kind }} }}')
            await page.locator(".graphiql-editor-tools").get_by_text("Headers", exact=True).click()
            await _set_editor(page, _HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {token}"}))
            # GraphiQL's fetcher routes an operation to the websocket by the document its query
            # editor parsed (a debounced change handler); a click before that parse sends the
            # subscription over HTTP, which the API refuses with 400
            await page.wait_for_function(
                """sel => (document.querySelector(sel).CodeMirror.operations || [])
                       .some(op => op.operation === "subscription")""",
                arg=".graphiql-query-editor .CodeMirror",
                timeout=10_000,
            )
            await page.locator(".graphiql-execute-button").click()
            for _ in range(100):
                if sockets:
                    break
                await asyncio.sleep(0.1)
            async with UnitOfWork(pool) as uow:  # type: ignore[arg-type]
                await append_events(uow, cid, [("GRAPHIQL_SEES_THIS", {})], at=datetime.now(UTC))
            result = page.locator(".graphiql-response .result-window")
            try:
                await expect(result).to_contain_text("GRAPHIQL_SEES_THIS", timeout=10_000)
            except AssertionError:
                raise AssertionError(frames) from None
        finally:
            await browser.close()
    assert sockets and all(urlsplit(u).hostname == "127.0.0.1" and u.endswith("/graphql") for u in sockets), sockets
    assert problems == [], problems
