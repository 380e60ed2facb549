"""domain/frozen.py builds and replaces frozen slotted dataclasses slot by slot: the objects are
the ones __init__ and dataclasses.replace make, and bad input fails alike."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field

import pytest

from bench.rating import _quote
from domain import frozen
from domain.grade import GradeRecord
from domain.products.loader import default_catalog
from domain.rating import DiscountFacts, QuoteInput


@dataclass(frozen=True, slots=True)
class _Plain:
    a: int
    b: str = "x"
    c: tuple[int, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class _Checked:
    a: int

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


def test_build_is_init() -> None:
    assert frozen.fast_class(_Plain)
    assert frozen.build(_Plain, {"a": 1}) == _Plain(1)
    assert frozen.build(_Plain, {"a": 1, "b": "y", "c": (2,)}) == _Plain(1, "y", (2,))
    with pytest.raises(TypeError):
        frozen.build(_Plain, {})
    with pytest.raises(TypeError):
        frozen.build(_Plain, {"a": 1, "z": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.build(_Plain, {"a": 1}).a = 2  # type: ignore[misc]


def test_a_class_with_post_init_keeps_its_init() -> None:
    assert not frozen.fast_class(_Checked) and not frozen.fast_class(GradeRecord)
    with pytest.raises(ValueError):
        frozen.replace(_Checked(1), a=-1)


def test_replace_is_dataclasses_replace_on_random_quotes() -> None:
    assert frozen.fast_class(QuoteInput) and frozen.fast_class(DiscountFacts)
    rnd = random.Random(4)
    products = sorted(default_catalog(), key=lambda p: p.id)
    for i in range(500):
        q = _quote(products[i % len(products)], rnd)
        d = frozen.replace(q.discounts, renewal=True, multi_car_count=3)
        assert d == dataclasses.replace(q.discounts, renewal=True, multi_car_count=3)
        got = frozen.replace(q, discounts=d, term_months=24)
        assert got == dataclasses.replace(q, discounts=d, term_months=24)
    with pytest.raises(TypeError):
        frozen.replace(_Plain(1), nope=2)


def test_decoding_fills_slots_as_init_would() -> None:
    """jsoncodec decodes a fast class slot by slot: defaults for missing keys, TypeError for a
    missing required one, keys that are no field ignored, a bad enum value a ValueError."""
    from domain.jsoncodec import from_json, to_json
    from domain.vocab import Channel

    assert from_json(_Plain, {"a": 1}) == _Plain(1)
    assert from_json(_Plain, {"a": 1, "b": "y", "c": [2, 3], "zz": 0}) == _Plain(1, "y", (2, 3))
    with pytest.raises(TypeError):
        from_json(_Plain, {"b": "y"})
    assert from_json(Channel, "AGENT") is Channel.AGENT
    for bad in ("NOPE", ["AGENT"]):
        with pytest.raises(ValueError):
            from_json(Channel, bad)
    rnd = random.Random(5)
    products = sorted(default_catalog(), key=lambda p: p.id)
    for i in range(500):
        q = _quote(products[i % len(products)], rnd)
        got = from_json(QuoteInput, to_json(q))
        assert got == q


def test_a_json_value_that_is_no_object_is_a_type_error() -> None:
    """What the stored-quote readers catch (`NO_RATING_INPUT`, the offer document's fallback)."""
    from domain.jsoncodec import from_json

    for bad in (None, [], "x", 5):
        with pytest.raises(TypeError):
            from_json(QuoteInput, bad)
