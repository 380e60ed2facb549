"""Contract reads over GraphQL: detail, as-of, pages, nodes, and who may see what."""

from __future__ import annotations

from datetime import date, datetime

import asyncpg
import httpx

from api.auth import Role
from api.node import to_global_id
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql
from tests.factories import rated_contract
from tests.tokens import long_token

DETAIL = """
query($pn: String, $id: ID, $asOf: DateTime) {
  contract(policyNumber: $pn, id: $id, asOf: $asOf) {
    id policyNumber productId lockVersion statuses { code ja en } channel { code }
    policyholder { id nameKanji birthDate }
    terms { termNo startsAt endsAt status { code } }
    grade { grade marker { code } period label coefficientPercent }
    version { validFrom validTo ageCondition { code ja } premiumYen
      vehicle { id useType { code } registrationNo firstRegistration valueYen ratingClasses { group class } }
      drivers { relationship { code } licenceColour { code } age party { id nameKanji } } }
    premium { totalYen tariffVersion lines { code amountYen } explanation { steps { line factor delta } } }
    availableActions { code }
  }
}"""


def bearer(settings: Settings, clock: ManualClock, role: Role, **claims: int) -> dict[str, str]:
    # the tests move the business clock; the token is valid on every date they use
    token = long_token(settings, role, f"{role.value}-test", **claims)  # type: ignore[arg-type]
    return {"authorization": f"Bearer {token}"}


async def test_staff_reads_a_contract_detail(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                             settings: Settings, clock: ManualClock) -> None:
    book = await rated_contract(pool, extra_drivers=2)
    pn = book.created.contract.policy_number
    r = await gql(client, DETAIL, {"pn": pn}, bearer(settings, clock, Role.STAFF))
    assert "errors" not in r, r
    c = r["data"]["contract"]
    assert c["policyNumber"] == pn
    assert c["id"] == to_global_id("Contract", book.created.contract.id)
    assert [s["code"] for s in c["statuses"]] == ["IN_FORCE"]
    assert c["statuses"][0]["ja"] == "有効"
    assert c["version"]["vehicle"]["registrationNo"] == book.vehicle.registration_no
    assert c["version"]["vehicle"]["firstRegistration"] == "2015-01"
    assert len(c["version"]["drivers"]) == 3
    assert c["premium"]["totalYen"] == sum(ln["amountYen"] for ln in c["premium"]["lines"])
    assert c["grade"]["label"] == "10"
    assert {a["code"] for a in c["availableActions"]} >= {"ENDORSE", "CANCEL", "RESCIND"}


async def test_as_of_answers_the_version_in_force_then(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings, clock: ManualClock) -> None:
    book = await rated_contract(pool, endorse_on=date(2026, 10, 1))
    pn = book.created.contract.policy_number
    h = bearer(settings, clock, Role.STAFF)
    before = await gql(client, DETAIL, {"pn": pn, "asOf": "2026-09-30T12:00:00+09:00"}, h)
    after = await gql(client, DETAIL, {"pn": pn, "asOf": "2026-10-01T16:00:00+09:00"}, h)
    assert before["data"]["contract"]["version"]["ageCondition"]["code"] == "AGE_26"
    assert after["data"]["contract"]["version"]["ageCondition"]["code"] == "AGE_35"
    assert after["data"]["contract"]["version"]["validFrom"].startswith("2026-10-01T16:00:00")


async def test_policyholder_sees_own_contract_only_and_foreign_looks_missing(
    client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, clock: ManualClock
) -> None:
    mine = await rated_contract(pool)
    theirs = await rated_contract(pool)
    h = bearer(settings, clock, Role.POLICYHOLDER, party_id=mine.policyholder.id)
    own = await gql(client, DETAIL, {"pn": mine.created.contract.policy_number}, h)
    assert own["data"]["contract"]["policyNumber"] == mine.created.contract.policy_number
    foreign = await gql(client, DETAIL, {"pn": theirs.created.contract.policy_number}, h)
    missing = await gql(client, DETAIL, {"pn": "NO-SUCH-NUMBER"}, h)
    assert foreign == missing == {"data": {"contract": None}}
    gid = to_global_id("Contract", theirs.created.contract.id)
    by_id = await gql(client, DETAIL, {"id": gid}, h)
    assert by_id == {"data": {"contract": None}}


async def test_anonymous_sees_no_contract(client: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    book = await rated_contract(pool)
    r = await gql(client, DETAIL, {"pn": book.created.contract.policy_number})
    assert r["data"] == {"contract": None}
    # the hint says why, and says the same for a number that does not exist: nothing leaks
    assert r["extensions"]["code"] == "NO_TOKEN" and "Authorization: Bearer" in r["extensions"]["hint"]
    assert r == await gql(client, DETAIL, {"pn": "NO-SUCH-NUMBER"})


async def test_no_token_hint_on_every_scoped_read_path(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                       settings: Settings, clock: ManualClock) -> None:
    """Compiled page, general-path node, claims: anonymous answers keep their shape and carry the
    hint; public reads and callers with a token get none."""
    book = await rated_contract(pool)
    gid = to_global_id("Contract", book.created.contract.id)
    compiled = await gql(client, "{ contracts(first: 5) { edges { node { policyNumber } } } }")
    node = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": gid})
    assert compiled["data"] == {"contracts": {"edges": []}} and node["data"] == {"node": None}
    assert compiled["extensions"]["code"] == node["extensions"]["code"] == "NO_TOKEN"
    public = await gql(client, "{ system { apiVersion } products { id } me { role } }")
    assert "extensions" not in public
    staff = await gql(client, "query($id: ID!) { node(id: $id) { id } }", {"id": gid},
                      bearer(settings, clock, Role.STAFF))
    assert staff["data"]["node"]["id"] == gid and "extensions" not in staff


PAGE = """
query($first: Int!, $after: String, $filter: ContractFilter) {
  contracts(first: $first, after: $after, filter: $filter) {
    edges { cursor node { policyNumber policyholder { nameKanji } version { vehicle { useType { code } } drivers { age } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_agent_pages_only_their_agency(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                             settings: Settings, clock: ManualClock) -> None:
    first = await rated_contract(pool)
    agency = first.agency_id
    assert isinstance(agency, int)
    others = [await rated_contract(pool, agency_id=agency) for _ in range(4)]
    await rated_contract(pool)  # another agency
    mine = {first.created.contract.policy_number, *(b.created.contract.policy_number for b in others)}
    h = bearer(settings, clock, Role.AGENT, agency_id=agency)
    seen: list[str] = []
    after = None
    while True:
        r = await gql(client, PAGE, {"first": 2, "after": after}, h)
        assert "errors" not in r, r
        conn = r["data"]["contracts"]
        seen += [e["node"]["policyNumber"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert set(seen) == mine and len(seen) == 5
    # a filter naming another agency cannot widen the scope
    other = await gql(client, PAGE, {"first": 10, "filter": {"agencyId": to_global_id("Agency", agency + 10_000)}}, h)
    assert other["data"]["contracts"]["edges"] == []


async def test_node_of_each_type_respects_the_owner(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                                    settings: Settings, clock: ManualClock) -> None:
    mine = await rated_contract(pool)
    theirs = await rated_contract(pool)
    q = "query($id: ID!) { node(id: $id) { __typename id } }"
    h = bearer(settings, clock, Role.POLICYHOLDER, party_id=mine.policyholder.id)
    for type_name, own_id, other_id in [
        ("Contract", mine.created.contract.id, theirs.created.contract.id),
        ("Party", mine.drivers[1].id, theirs.drivers[1].id),
        ("Vehicle", mine.vehicle.id, theirs.vehicle.id),
    ]:
        own = await gql(client, q, {"id": to_global_id(type_name, own_id)}, h)
        assert (own.get("data") or {}).get("node", {}) and own["data"]["node"]["__typename"] == type_name, (type_name, own)
        other = await gql(client, q, {"id": to_global_id(type_name, other_id)}, h)
        missing = await gql(client, q, {"id": to_global_id(type_name, 9_000_000_000)}, h)
        assert other == missing == {"data": {"node": None}}


async def test_versions_and_events_batch(client: httpx.AsyncClient, pool: asyncpg.Pool,
                                         settings: Settings, clock: ManualClock) -> None:
    book = await rated_contract(pool, endorse_on=date(2026, 10, 1))
    q = """query($pn: String) { contract(policyNumber: $pn) {
        versions { validFrom vehicle { id } drivers { party { id } } }
        history: versions(includeSuperseded: true) { supersededAt }
        events { seq kind } } }"""
    r = await gql(client, q, {"pn": book.created.contract.policy_number}, bearer(settings, clock, Role.STAFF))
    c = r["data"]["contract"]
    assert len(c["versions"]) == 2 and c["versions"][0]["vehicle"]["id"]
    assert len(c["history"]) == 3 and sum(v["supersededAt"] is not None for v in c["history"]) == 1
    assert [e["seq"] for e in c["events"]] == [1, 2]
    _ = datetime(2026, 1, 1, tzinfo=JST)


async def test_the_readme_detail_query_without_a_token_says_why(client: httpx.AsyncClient) -> None:
    """The README's Detail query as written, sent with no token: null, and the NO_TOKEN hint."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    detail = re.search(r"```graphql\n(query Detail \{.*?)```", readme, re.DOTALL)
    assert detail is not None
    r = await gql(client, detail.group(1))
    assert r["data"] == {"contract": None} and "errors" not in r
    assert r["extensions"]["code"] == "NO_TOKEN" and '"code": "NO_TOKEN"' in readme
