"""Offline GraphiQL: the HTML page and the routes that serve its vendored assets.

Every script and stylesheet comes from api/static/graphiql/ (see VERSIONS.md there and
scripts/vendor_graphiql.sh), so the explorer works with no internet and leaks nothing to a CDN.
The page carries its own Content-Security-Policy that only allows this origin, which makes the
browser itself refuse any outside fetch a future asset might attempt.
"""

from __future__ import annotations

import hashlib
import html
import os
from functools import cache, lru_cache
from pathlib import Path
from typing import Final

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "graphiql"
STATIC_PREFIX: Final = "/static/graphiql"

# Load order matters: graphiql.min.js is a UMD bundle that reads the React and ReactDOM globals.
_SCRIPTS: Final = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-init.js",
)
_STYLES: Final = ("graphiql.min.css", "graphiql-app.css")

# 'unsafe-inline' styles only: GraphiQL's dialogs (react-remove-scroll) inject <style> elements.
# No 'unsafe-eval': the bundle needs none. connect-src 'self' is the fetcher's POST to /graphql and
# (CSP 3: 'self' matches ws/wss to the same host) the subscriptions' websocket.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)

_IMMUTABLE: Final = "public, max-age=31536000, immutable"


def graphiql_html(endpoint: str = "/graphql") -> str:
    """The full GraphiQL page; it references only this server's /static/graphiql/ assets.

    `endpoint` must be a path on this origin (e.g. "/graphql"): the page's CSP refuses others.
    """
    if not endpoint.startswith("/") or endpoint.startswith("//"):
        raise ValueError(f"GraphiQL endpoint must be a path on this server, got {endpoint!r}")
    return _page(endpoint)


def graphiql_routes() -> list[BaseRoute]:
    """Routes serving the vendored assets under /static/graphiql."""
    return [Mount(STATIC_PREFIX, app=_AssetFiles(directory=STATIC_DIR), name="graphiql-static")]


@lru_cache(maxsize=8)
def _page(endpoint: str) -> str:
    styles = "\n".join(f'    <link rel="stylesheet" href="{_asset_url(n)}">' for n in _STYLES)
    scripts = "\n".join(f'    <script src="{_asset_url(n)}"></script>' for n in _SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
    <meta name="referrer" content="no-referrer">
    <title>autopolicy · GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}
  </head>
  <body>
    <div id="graphiql" data-endpoint="{html.escape(endpoint, quote=True)}">Loading GraphiQL…</div>
{scripts}
  </body>
</html>
"""


def _asset_url(name: str) -> str:
    # The content hash in the query lets browsers cache the asset forever yet refetch it after
    # scripts/vendor_graphiql.sh replaces it (the file names carry no version).
    return f"{STATIC_PREFIX}/{name}?v={_content_hash(name)}"


@cache
def _content_hash(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:16]


class _AssetFiles(StaticFiles):
    """StaticFiles that lets browsers keep versioned (?v=...) URLs for a year."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = _IMMUTABLE if versioned else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
