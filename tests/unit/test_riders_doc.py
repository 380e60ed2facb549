"""docs/riders.md stays true: every rider of the four product files is in its pamphlet's table, and a
rider with a pay-out rule is marked RULE (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_rating_support import AIOI, KYOSAI, RAKUTEN, TOKIO, product

DOC = Path(__file__).resolve().parents[2] / "docs" / "riders.md"
SECTIONS = {RAKUTEN: "## 001", AIOI: "## 002", KYOSAI: "## 003", TOKIO: "## 004"}


def rows(pid: str) -> dict[str, str]:
    """code → status cell of the product's table."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(SECTIONS[pid])
    nxt = [text.index(h, start + 1) for h in SECTIONS.values() if h != SECTIONS[pid] and text.find(h, start + 1) > 0]
    section = text[start:min(nxt) if nxt else len(text)]
    out: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or not cells[1].startswith("`"):
            continue
        for code in re.findall(r"[A-Z][A-Z0-9_]+", cells[1]):
            out[code] = cells[7]
    return out


def test_every_rider_is_in_the_table() -> None:
    for pid in SECTIONS:
        listed = rows(pid)
        missing = [r.code for r in product(pid).riders if r.code not in listed]
        assert not missing, (pid, missing)


def test_riders_with_a_rule_are_marked_rule() -> None:
    for pid in SECTIONS:
        listed = rows(pid)
        p = product(pid)
        ruled = [r.code for r in p.riders if r.payout is not None] + [c.code for c in p.coverages if c.payout]
        wrong = [c for c in ruled if c in listed and not listed[c].startswith("RULE")]
        assert not wrong, (pid, wrong)
