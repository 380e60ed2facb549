"""schema.graphql is generated from code (`make schema`); a stale file fails here."""

from __future__ import annotations

from pathlib import Path

from strawberry.printer import print_schema

from api.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_matches_code() -> None:
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    generated = print_schema(schema)
    assert committed.rstrip("\n") == generated.rstrip("\n"), (
        "schema.graphql is stale: run `make schema` and commit the result"
    )
