"""Typed JSON for frozen dataclasses: stored documents (rating inputs, mutation results) that
must come back as the same objects. Enums as their value, dates ISO, YearMonth "YYYY-MM",
Decimal as a string (exact), tuples as lists. `from_json(T, to_json(x)) == x` for our dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from domain.calendar import YearMonth

Json = Any


def to_json(value: Any) -> Json:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, YearMonth):
        return str(value)
    if isinstance(value, date):  # datetime included
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(tp: Any, value: Json) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else from_json(args[0], value)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(from_json(item, v) for v in value)
    if origin in (Mapping, dict, typing.Mapping):
        _, vt = typing.get_args(tp)
        return {k: from_json(vt, v) for k, v in value.items()}
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return tp(value)
        if tp is YearMonth:
            return YearMonth.parse(value)
        if tp is datetime:
            return datetime.fromisoformat(value)
        if tp is date:
            return date.fromisoformat(value)
        if tp is Decimal:
            return Decimal(value)
        if dataclasses.is_dataclass(tp):
            hints = _hints(tp)
            kwargs = {f.name: from_json(hints[f.name], value[f.name])
                      for f in dataclasses.fields(tp) if f.name in value}
            return tp(**kwargs)
    return value


