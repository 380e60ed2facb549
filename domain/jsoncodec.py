"""Typed JSON for frozen dataclasses: stored documents (rating inputs, mutation results) that
must come back as the same objects. Enums as their value, dates ISO, YearMonth "YYYY-MM",
Decimal as a string (exact), tuples as lists. `from_json(T, to_json(x)) == x` for our dataclasses.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import cache, lru_cache
from typing import Any

from domain.calendar import YearMonth
from domain.frozen import fast_class, layout, new_object

Json = Any


def to_json(value: Any) -> Json:
    enc = _ENCODERS.get(type(value))
    if enc is None:
        enc = _encoder(type(value))
    return enc(value)


def _identity(value: Any) -> Any:
    return value


def _iso(value: date) -> str:
    return value.isoformat()


def _encoder(cls: type) -> Callable[[Any], Json]:
    """The converter for values of `cls`, built once per class (the nightly recalculation encodes
    a quote per contract: dispatch by the exact type instead of a chain of isinstance checks)."""
    enc: Callable[[Any], Json]
    if issubclass(cls, Enum):
        enc = _enum_value
    elif issubclass(cls, YearMonth):
        enc = str
    elif issubclass(cls, date):  # datetime included
        enc = _iso
    elif issubclass(cls, Decimal):
        enc = str
    elif dataclasses.is_dataclass(cls):
        names = tuple(f.name for f in dataclasses.fields(cls))

        def enc(value: Any) -> Json:
            return {n: to_json(getattr(value, n)) for n in names}
    elif issubclass(cls, Mapping):
        def enc(value: Any) -> Json:
            return {str(k): to_json(v) for k, v in value.items()}
    elif issubclass(cls, tuple | list):
        def enc(value: Any) -> Json:
            return [to_json(v) for v in value]
    else:
        enc = _identity
    _ENCODERS[cls] = enc
    return enc


def _enum_value(value: Enum) -> Any:
    return value._value_   # what `.value` answers, without the property's cost


_ENCODERS: dict[type, Callable[[Any], Json]] = {str: _identity, int: _identity, bool: _identity,
                                                 type(None): _identity, float: _identity}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(tp: Any, value: Json) -> Any:
    try:
        dec = _decoder(tp)
    except TypeError:   # an unhashable type form: no cached decoder
        return _from_json_uncached(tp, value)
    return dec(value)


@cache
def _decoder(tp: Any) -> Callable[[Json], Any]:
    """The converter from JSON to `tp`, built once per type form (see `_encoder`)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = _decoder(args[0])
        if inner is _identity:      # `int | None`, `str | None`: the JSON is the value either way
            return _identity
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        item = _decoder(typing.get_args(tp)[0])
        if item is _identity:
            return tuple
        return lambda value: tuple(map(item, value))
    if origin in (Mapping, dict, typing.Mapping):
        vt = _decoder(typing.get_args(tp)[1])
        return lambda value: {k: vt(v) for k, v in value.items()}
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            return _enum_decoder(tp)
        if tp is YearMonth:
            return _year_month
        if tp is datetime:
            return datetime.fromisoformat
        if tp is date:
            return date.fromisoformat
        if tp is Decimal:
            return Decimal
        if dataclasses.is_dataclass(tp):
            return _dataclass_decoder(tp)
    return _identity


def _enum_decoder(cls: type[Enum]) -> Callable[[Json], Any]:
    """A member by its value through a dict (calling the class, `Status(value)`, costs several times
    more); a value that is not a member goes to the class, which raises ValueError as ever."""
    members = {m.value: m for m in cls}

    def dec(value: Json) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):   # not a member's value (TypeError: not even hashable)
            return cls(value)
    return dec


# A month is immutable and a book has few distinct ones: parsed once each (a quote has two).
_year_month = lru_cache(maxsize=4096)(YearMonth.parse)


def _dataclass_decoder(cls: type) -> Callable[[Json], Any]:
    """A dataclass's decoder. Its fields' decoders are resolved on the first call, not here (a
    dataclass may refer to itself); a field whose JSON is already its value (str, int, bool) is
    passed through without a call, which is most fields of a stored quote. Keys that are not
    fields are ignored; a missing field takes its default, a missing required one raises TypeError.
    A `fast_class` is filled slot by slot as it is read (no keyword dict, no __init__ call): the
    nightly recalculation decodes a quote of ~10 dataclasses per contract."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    fields: list[tuple[str, Callable[[Json], Any] | None]] = []
    slots: list[tuple[str, Callable[[Any, Any], None], Callable[[], Any] | None, Callable[[Json], Any] | None]] = []
    fast = fast_class(cls)

    def resolve() -> None:
        hints = _hints(cls)
        fields.extend([(n, None if (d := _decoder(hints[n])) is _identity else d) for n in names])
        if fast:
            slots.extend((n, put, default, d) for (n, put, default), (_, d) in zip(layout(cls), fields, strict=True))

    def dec(value: Json) -> Any:
        if not fields:
            resolve()
        if not fast:
            kw = {}
            for n, field_dec in fields:
                if n in value:
                    kw[n] = value[n] if field_dec is None else field_dec(value[n])
            return cls(**kw)
        if not isinstance(value, dict):   # as `n in value` of the keyword path would
            raise TypeError(f"{cls.__name__}: expected a JSON object, got {type(value).__name__}")
        obj: Any = new_object(cls)
        get = value.get
        for n, put, default, field_dec in slots:
            v = get(n, _ABSENT)
            if v is _ABSENT:
                if default is None:
                    raise TypeError(f"{cls.__name__} missing required field {n!r}")
                put(obj, default())
            else:
                put(obj, v if field_dec is None else field_dec(v))
        return obj
    return dec


_ABSENT = object()


def _from_json_uncached(tp: Any, value: Json) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _from_json_uncached(args[0], value)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return tuple(_from_json_uncached(item, v) for v in value)
    if origin in (Mapping, dict, typing.Mapping):
        _, vt = typing.get_args(tp)
        return {k: _from_json_uncached(vt, v) for k, v in value.items()}
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
            kwargs = {f.name: _from_json_uncached(hints[f.name], value[f.name])
                      for f in dataclasses.fields(tp) if f.name in value}
            return tp(**kwargs)
    return value


