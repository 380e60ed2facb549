"""An offer's fingerprint is the sha256 of its key as the stdlib's compact JSON: offers issued
before the key was encoded by orjson keep theirs (renewContract accepts an offer by it)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from domain.products import default_catalog
from domain.renewal import TermClaim
from domain.services.renewals.offers import OFFER_CODE_VERSION, fingerprint
from domain.vocab import AccidentClass, LicenceColour


def _stdlib(product_id: str, tariffs: tuple[str | None, str | None], input_hash: str, start: date, end: date,
            claims: list[list[object]], licence: str | None) -> str:
    key = [OFFER_CODE_VERSION, product_id, input_hash, start.isoformat(), end.isoformat(), claims, licence,
           *tariffs]
    return hashlib.sha256(json.dumps(key, separators=(",", ":")).encode()).hexdigest()


def test_fingerprint_is_the_stdlib_hash_for_every_product_and_claim_mix() -> None:
    start, end = date(2026, 4, 1), date(2027, 4, 1)
    claims = [TermClaim("c-2", AccidentClass.THREE_DOWN, False), TermClaim("c-1", None, True)]
    for product in default_catalog():
        tariffs = tuple(t.version if t else None for t in (product.tariff_on(start), product.tariff_on(end)))
        for licence in (None, LicenceColour.GOLD):
            got = fingerprint(product, input_hash="ab" * 16, term_start=start, term_end=end, claims=claims,
                              licence=licence)
            want = _stdlib(product.id, tariffs, "ab" * 16, start, end,  # type: ignore[arg-type]
                           [["c-1", None, True], ["c-2", "THREE_DOWN", False]],
                           None if licence is None else licence.value)
            assert got == want


def test_a_non_ascii_key_is_hashed_with_the_stdlib_escapes() -> None:
    product = next(iter(default_catalog()))
    start, end = date(2026, 4, 1), date(2027, 4, 1)
    claims = [TermClaim("事故-1", None, False)]
    tariffs = tuple(t.version if t else None for t in (product.tariff_on(start), product.tariff_on(end)))
    got = fingerprint(product, input_hash="00" * 16, term_start=start, term_end=end, claims=claims, licence=None)
    assert got == _stdlib(product.id, tariffs, "00" * 16, start, end,  # type: ignore[arg-type]
                          [["事故-1", None, False]], None)


def test_del_and_a_lone_surrogate_are_hashed_as_the_stdlib_escapes_them() -> None:
    product = next(iter(default_catalog()))
    start, end = date(2026, 4, 1), date(2027, 4, 1)
    tariffs = tuple(t.version if t else None for t in (product.tariff_on(start), product.tariff_on(end)))
    for claim_id in ("CL\x7f1", "CL\ud8001"):
        got = fingerprint(product, input_hash="11" * 16, term_start=start, term_end=end,
                          claims=[TermClaim(claim_id, None, False)], licence=None)
        assert got == _stdlib(product.id, tariffs, "11" * 16, start, end,  # type: ignore[arg-type]
                              [[claim_id, None, False]], None)
