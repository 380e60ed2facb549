"""Scalar overrides: every DateTime leaves the API in Japan time.

The serialised form is also exactly what PostgreSQL's `to_json(timestamptz)` writes in an
Asia/Tokyo session ("2026-04-01T16:00:00+09:00", fractional seconds without trailing zeros), so
the compiled read path (api/compiled.py) and the general path answer byte-identical JSON.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import strawberry
from strawberry.types.scalar import ScalarDefinition

from domain.runtime.clock import as_jst


def iso_jst(value: dt.datetime) -> str:
    text = as_jst(value).isoformat()
    head, dot, rest = text.partition(".")
    if not dot:
        return text
    frac, zone = rest[:6], rest[6:]
    frac = frac.rstrip("0")
    return f"{head}.{frac}{zone}" if frac else f"{head}{zone}"


def _parse(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("DateTime must be an ISO 8601 string")
    return dt.datetime.fromisoformat(value)


DateTimeJST = strawberry.scalar(
    name="DateTime", serialize=iso_jst, parse_value=_parse,
    description="An instant, ISO 8601 with offset; answers are in Japan time (+09:00).",
)

SCALAR_MAP: Mapping[object, ScalarDefinition] = {dt.datetime: DateTimeJST}
