"""Frozen, slotted dataclasses made without their generated __init__.

A frozen dataclass's __init__ sets each field through object.__setattr__ (to get past its own
frozen __setattr__): several times the cost of a slot write. The nightly recalculation builds a
quote per contract from its stored JSON and derives the next term's quote by replacing fields, a
few dozen objects per contract, so there it shows. Here the slots are written directly through
their descriptors: the same object __init__ would make, for classes that have no __post_init__
(which this skips) — `fast_class` tells which.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

new_object = object.__new__   # an instance with no slot set yet
_MISSING = dataclasses.MISSING


def _slot(cls: type, name: str) -> Any:
    for k in cls.__mro__:
        if name in k.__dict__:
            return k.__dict__[name]
    return None


def slot_setters(cls: type, names: str) -> tuple[Callable[[Any, Any], None], ...]:
    """The slot writers of the named fields of a slotted class, in order."""
    return tuple(_slot(cls, n).__set__ for n in names.split())


_Layout = tuple[tuple[str, Callable[[Any, Any], None], Callable[[], Any] | None], ...]
_FAST: dict[type, bool] = {}
_LAYOUTS: dict[type, _Layout] = {}


def fast_class(cls: type) -> bool:
    """A frozen slotted dataclass whose __init__ only stores its fields (no __post_init__, no
    InitVar), so building it slot by slot gives the same object."""
    got = _FAST.get(cls)
    if got is None:
        got = _FAST[cls] = (
            dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__ and not hasattr(cls, "__post_init__")
            and bool(getattr(cls, "__dataclass_params__").frozen)  # noqa: B009 - not in the type stubs
            and all(f.init and isinstance(_slot(cls, f.name), types.MemberDescriptorType)
                    for f in dataclasses.fields(cls)))
    return got


def layout(cls: type) -> _Layout:
    """(name, slot writer, default factory or None when required) per field of a `fast_class`."""
    got = _LAYOUTS.get(cls)
    if got is None:
        got = _LAYOUTS[cls] = _layout_of(cls)
    return got


def _layout_of(cls: type) -> _Layout:
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not _MISSING:
            default: Callable[[], Any] | None = (lambda v=f.default: v)
        elif f.default_factory is not _MISSING:
            default = f.default_factory
        else:
            default = None
        out.append((f.name, _slot(cls, f.name).__set__, default))
    return tuple(out)


def build(cls: type[T], values: dict[str, Any]) -> T:
    """`cls(**values)` for a `fast_class`: missing fields take their defaults; a missing required
    field or an unknown name raises TypeError as __init__ would."""
    obj = new_object(cls)
    used = 0
    for name, put, default in layout(cls):
        if name in values:
            put(obj, values[name])
            used += 1
        elif default is not None:
            put(obj, default())
        else:
            raise TypeError(f"{cls.__name__} missing required field {name!r}")
    if used != len(values):
        unknown = set(values) - {n for n, _, _ in layout(cls)}
        raise TypeError(f"{cls.__name__} got unexpected fields {sorted(unknown)}")
    return obj


def replace(obj: T, **changes: Any) -> T:
    """`dataclasses.replace(obj, **changes)`; slot by slot for a `fast_class`."""
    cls = type(obj)
    if not fast_class(cls):
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    new = new_object(cls)
    for name, put, _ in layout(cls):
        put(new, changes.pop(name) if name in changes else getattr(obj, name))
    if changes:
        raise TypeError(f"{cls.__name__} got unexpected fields {sorted(changes)}")
    return new
