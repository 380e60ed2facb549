"""The README's quote → issue → endorse → cancel story runs as written (ids chained)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx

from api.auth import Role, mint_token
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.factories import unique

README = Path(__file__).resolve().parents[2] / "README.md"


def story_operations() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## Contracts: quote → issue → endorse → cancel", 1)[1]
    block = re.search(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert block is not None
    ops = re.split(r"\n(?=mutation )", block.group(1).strip())
    return {re.match(r"mutation (\w+)", op).group(1): op for op in ops}  # type: ignore[union-attr]


async def test_readme_story_runs(client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                 clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 22, 10, 0, tzinfo=JST))
    ops = story_operations()
    assert list(ops) == ["Person", "Car", "Quote", "Issue", "Endorse", "Cancel"]
    agency_id = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, '代理店') RETURNING id", unique("AG"))
    token = mint_token(settings, subject="readme", role=Role.STAFF, now=datetime.now(JST))
    h = {"authorization": f"Bearer {token}"}
    from api.types.node import to_global_id

    def ok(r: dict, name: str) -> dict:
        assert "errors" not in r, r
        assert r["data"][name]["userErrors"] == [], r
        return r["data"][name]

    party = ok(await gql(client, ops["Person"], {}, h), "registerDriver")["party"]["id"]
    car = ok(await gql(client, ops["Car"], {"party": party}, h), "registerVehicle")["vehicle"]["id"]
    quote = ok(await gql(client, ops["Quote"], {"party": party, "car": car,
                                                "agency": to_global_id("Agency", agency_id)}, h), "createQuote")
    contract = quote["contract"]["id"]
    assert quote["contract"]["lockVersion"] == 1
    ok(await gql(client, ops["Issue"], {"contract": contract}, h), "issueContract")
    dry = ok(await gql(client, ops["Endorse"], {"contract": contract}, h), "endorseContract")
    assert dry["dryRun"] is True and dry["change"]["premiumDeltaYen"] > 0
    real = ok(await gql(client, ops["Endorse"].replace("dryRun: true", "dryRun: false"), {"contract": contract}, h),
              "endorseContract")
    assert real["change"] == dry["change"]
    cancel = ok(await gql(client, ops["Cancel"], {"contract": contract}, h), "cancelContract")
    assert [s["code"] for s in cancel["contract"]["statuses"]] == ["CANCELLED"]
