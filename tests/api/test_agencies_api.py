"""Agencies through the API: staff register them (createAgency), everyone reads those they deal
with (`agencies`, `node(id:)`); an agent's token sees its own agency only."""

from __future__ import annotations

import asyncpg
import httpx

from api.auth import Role
from api.node import from_global_id, to_global_id
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.api.test_contract_mutations import snapshot
from tests.factories import rated_contract, unique
from tests.tokens import long_token

CREATE = """mutation($i: CreateAgencyInput!) { createAgency(input: $i) {
  agency { id databaseId code nameJa nameEn } userErrors { field code message } dryRun replayed } }"""
LIST = """query($first: Int!, $after: String) { agencies(first: $first, after: $after) {
  edges { cursor node { id code nameJa } } nodes { code } pageInfo { hasNextPage endCursor } } }"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Agency { code nameJa nameEn } } }"


def bearer(settings: Settings, role: Role, **claims: int) -> dict[str, str]:
    return {"authorization": f"Bearer {long_token(settings, role, unique(role.value), **claims)}"}  # type: ignore[arg-type]


def _code() -> str:
    return unique("AG").replace("_", "-").upper()


async def test_staff_create_an_agency_and_read_it_back(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    code = _code()
    before = await snapshot(pool)
    dry = (await gql(client, CREATE, {"i": {"code": code, "nameJa": "横浜代理店", "dryRun": True}}, staff))
    assert dry["data"]["createAgency"]["dryRun"] and dry["data"]["createAgency"]["agency"]["code"] == code
    assert await snapshot(pool) == before and await pool.fetchval("SELECT count(*) FROM agencies WHERE code = $1", code) == 0

    key = unique("k")
    made = (await gql(client, CREATE, {"i": {"code": f" {code.lower()} ", "nameJa": " 横浜代理店 ",
                                             "nameEn": "Yokohama agency", "idempotencyKey": key}}, staff))
    p = made["data"]["createAgency"]
    assert p["userErrors"] == [] and not p["dryRun"], p
    agency = p["agency"]
    assert (agency["code"], agency["nameJa"], agency["nameEn"]) == (code, "横浜代理店", "Yokohama agency")
    assert from_global_id(agency["id"]) == ("Agency", agency["databaseId"])
    replay = (await gql(client, CREATE, {"i": {"code": f" {code.lower()} ", "nameJa": " 横浜代理店 ",
                                               "nameEn": "Yokohama agency", "idempotencyKey": key}}, staff))
    assert replay["data"]["createAgency"]["replayed"] and replay["data"]["createAgency"]["agency"] == agency

    node = (await gql(client, NODE, {"id": agency["id"]}, staff))["data"]["node"]
    assert node == {"id": agency["id"], "code": code, "nameJa": "横浜代理店", "nameEn": "Yokohama agency"}


async def test_bad_and_duplicate_input_answer_codes_and_change_nothing(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    taken = _code()
    assert (await gql(client, CREATE, {"i": {"code": taken, "nameJa": "既存"}}, staff))["data"]["createAgency"]["agency"]
    agent = bearer(settings, Role.AGENT, agency_id=await pool.fetchval("SELECT id FROM agencies WHERE code = $1", taken))
    cases = [
        (staff, {"code": taken.lower(), "nameJa": "二重"}, "DUPLICATE_AGENCY_CODE", "input.code"),
        (staff, {"code": "A", "nameJa": "短い"}, "INVALID_AGENCY_CODE", "input.code"),
        (staff, {"code": "AG TOKYO", "nameJa": "空白"}, "INVALID_AGENCY_CODE", "input.code"),
        (staff, {"code": "代理店-1", "nameJa": "漢字"}, "INVALID_AGENCY_CODE", "input.code"),
        (staff, {"code": "-AG-", "nameJa": "端"}, "INVALID_AGENCY_CODE", "input.code"),
        (staff, {"code": _code(), "nameJa": "   "}, "NAME_REQUIRED", "input.nameJa"),
        (staff, {"code": _code(), "nameJa": "長" * 201}, "NAME_TOO_LONG", "input.nameJa"),
        (agent, {"code": _code(), "nameJa": "代理店が作る"}, "FORBIDDEN", "input"),
        (bearer(settings, Role.POLICYHOLDER, party_id=1), {"code": _code(), "nameJa": "契約者"}, "FORBIDDEN", "input"),
        ({}, {"code": _code(), "nameJa": "匿名"}, "UNAUTHENTICATED", ""),
    ]
    before = await snapshot(pool)
    agencies_before = await pool.fetchval("SELECT count(*) FROM agencies")
    for h, inp, code, field in cases:
        p = (await gql(client, CREATE, {"i": inp}, h))["data"]["createAgency"]
        assert p["agency"] is None and [(e["code"], e["field"]) for e in p["userErrors"]] == [(code, field)], (inp, p)
    assert await snapshot(pool) == before
    assert await pool.fetchval("SELECT count(*) FROM agencies") == agencies_before


async def test_staff_page_through_every_agency(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                              settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    for _ in range(3):
        await gql(client, CREATE, {"i": {"code": _code(), "nameJa": "ページ"}}, staff)
    total = await pool.fetchval("SELECT count(*) FROM agencies")
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(client, LIST, {"first": 2, "after": after}, staff))["data"]["agencies"]
        assert [n["code"] for n in page["nodes"]] == [e["node"]["code"] for e in page["edges"]]
        seen += [e["node"]["code"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == total
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM agencies ORDER BY id")]
    assert seen == [await pool.fetchval("SELECT code FROM agencies WHERE id = $1", i) for i in ids]  # oldest first
    bad = await gql(client, LIST, {"first": 101}, staff)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"


async def test_an_agent_sees_its_own_agency_only(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                 settings: Settings) -> None:
    book = await rated_contract(pool)  # an agency contract
    mine = book.created.contract.agency_id
    assert mine is not None
    other = await pool.fetchval("INSERT INTO agencies (code, name_ja) VALUES ($1, '他社') RETURNING id", _code())
    agent = bearer(settings, Role.AGENT, agency_id=mine)
    listed = (await gql(client, LIST, {"first": 100}, agent))["data"]["agencies"]
    assert [from_global_id(e["node"]["id"]) for e in listed["edges"]] == [("Agency", mine)]
    assert (await gql(client, NODE, {"id": to_global_id("Agency", other)}, agent))["data"]["node"] is None
    assert (await gql(client, NODE, {"id": to_global_id("Agency", mine)}, agent))["data"]["node"]["id"]

    # the policyholder reads the agency of their own contract, no other
    holder = bearer(settings, Role.POLICYHOLDER, party_id=book.policyholder.id)
    theirs = (await gql(client, LIST, {"first": 100}, holder))["data"]["agencies"]["edges"]
    assert [from_global_id(e["node"]["id"]) for e in theirs] == [("Agency", mine)]
    assert (await gql(client, NODE, {"id": to_global_id("Agency", other)}, holder))["data"]["node"] is None

    anonymous = await gql(client, LIST, {"first": 100})
    assert anonymous["data"]["agencies"]["edges"] == [] and anonymous["extensions"]["code"] == "NO_TOKEN"


def _readme_agency_operations() -> dict[str, str]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```graphql\n(.*?)```", text.split("\n## Agencies\n", 1)[1], re.DOTALL)
    assert block is not None
    ops = re.split(r"\n(?=mutation |query )", block.group(1).strip())
    return {re.match(r"(?:mutation|query) (\w+)", op).group(1): op for op in ops}  # type: ignore[union-attr]


async def test_the_readme_agency_example_runs_as_written(client: httpx.AsyncClient, settings: Settings) -> None:
    ops = _readme_agency_operations()
    assert list(ops) == ["NewAgency", "Agencies"]
    staff = bearer(settings, Role.STAFF)
    made = (await gql(client, ops["NewAgency"], {}, staff))["data"]["createAgency"]
    assert made["userErrors"] == [] and made["agency"]["code"] == "AG-YOKOHAMA-003", made
    again = (await gql(client, ops["NewAgency"], {}, staff))["data"]["createAgency"]
    assert [e["code"] for e in again["userErrors"]] == ["DUPLICATE_AGENCY_CODE"]
    listed = (await gql(client, ops["Agencies"], {}, staff))["data"]["agencies"]
    codes = [n["code"] for n in listed["nodes"]]
    while listed["pageInfo"]["hasNextPage"]:
        listed = (await gql(client, ops["Agencies"].replace("first: 20)", f"first: 20, after: \"{listed['pageInfo']['endCursor']}\")"),
                            {}, staff))["data"]["agencies"]
        codes += [n["code"] for n in listed["nodes"]]
    assert "AG-YOKOHAMA-003" in codes
