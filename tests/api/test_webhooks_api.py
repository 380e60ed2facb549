"""Webhook subscriptions through GraphQL: staff and agencies manage them, the secret is shown only by
create and rotate, deliveries and their attempts read as `WebhookDelivery`, staff redeliver, and a
reminder's notification shows on the contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import asyncpg
import httpx
import pytest

from api.auth import Role
from api.node import to_global_id
from domain.runtime.clock import JST
from domain.runtime.settings import Settings
from domain.services.notifications.delivery import deliver_lane, publish_events
from domain.store.outbox import append_events
from domain.store.uow import UnitOfWork
from tests.api.conftest import gql
from tests.api.test_agencies_api import bearer
from tests.api.test_contract_mutations import snapshot
from tests.factories import rated_contract
from tests.receiver import Receiver
from workers.kinds.webhooks import WebhookRuntime, client_for

FIELDS = "id url kinds agencyId active description previousSecretValidUntil"
CREATE = f"""mutation($i: CreateWebhookSubscriptionInput!) {{ createWebhookSubscription(input: $i) {{
  subscription {{ {FIELDS} }} secret userErrors {{ field code }} dryRun }} }}"""
UPDATE = f"""mutation($i: UpdateWebhookSubscriptionInput!) {{ updateWebhookSubscription(input: $i) {{
  subscription {{ {FIELDS} }} secret userErrors {{ field code }} }} }}"""
ROTATE = f"""mutation($i: WebhookSubscriptionIdInput!) {{ rotateWebhookSecret(input: $i) {{
  subscription {{ {FIELDS} }} secret userErrors {{ field code }} }} }}"""
DELETE = """mutation($i: WebhookSubscriptionIdInput!) { deleteWebhookSubscription(input: $i) {
  deletedId userErrors { field code } } }"""
LIST = f"{{ webhookSubscriptions {{ {FIELDS} }} }}"
DELIVERIES = """query($s: ID) { webhookDeliveries(subscriptionId: $s) { id eventId kind seq state attemptCount
  lastStatusCode attempts { attempt statusCode outcome latencyMs } } }"""
REDELIVER = """mutation($i: RedeliverWebhookInput!) { redeliverWebhook(input: $i) {
  delivery { id state attemptCount } userErrors { field code } } }"""
NOTES = """query($id: ID!) { contract(id: $id) { notifications { kind channel state subject sentAt } } }"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


async def _delete_all(client: httpx.AsyncClient, staff: dict[str, str]) -> None:
    for s in (await gql(client, LIST, headers=staff))["data"]["webhookSubscriptions"]:
        await gql(client, DELETE, {"i": {"id": s["id"]}}, staff)


async def test_staff_create_list_pause_rotate_delete_and_the_secret_is_never_read_back(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    before = await snapshot(pool)
    bad = (await gql(client, CREATE, {"i": {"url": "ftp://x"}}, staff))["data"]["createWebhookSubscription"]
    assert bad["userErrors"] == [{"field": "input.url", "code": "INVALID_URL"}]
    bad = (await gql(client, CREATE, {"i": {"url": "https://x.example/h", "kinds": ["lower"]}}, staff))
    assert bad["data"]["createWebhookSubscription"]["userErrors"][0]["code"] == "INVALID_EVENT_KIND"
    assert await snapshot(pool) == before

    made = (await gql(client, CREATE, {"i": {"url": "https://crm.example/hook", "kinds": ["CLAIM_REPORTED"],
                                             "description": "CRM"}}, staff))["data"]["createWebhookSubscription"]
    assert made["userErrors"] == [] and made["secret"].startswith("whsec_") and len(made["secret"]) > 32
    sub = made["subscription"]
    assert (sub["url"], sub["kinds"], sub["agencyId"], sub["active"]) == (
        "https://crm.example/hook", ["CLAIM_REPORTED"], None, True)
    fields = (await gql(client, '{ __type(name: "WebhookSubscription") { fields { name } } }'))
    assert not [f for f in fields["data"]["__type"]["fields"] if "secret" in f["name"].lower()
                and f["name"] != "previousSecretValidUntil"]
    assert made["secret"] not in str(await gql(client, LIST, headers=staff))

    paused = (await gql(client, UPDATE, {"i": {"id": sub["id"], "active": False}}, staff))
    assert paused["data"]["updateWebhookSubscription"]["subscription"]["active"] is False
    assert paused["data"]["updateWebhookSubscription"]["secret"] is None
    rotated = (await gql(client, ROTATE, {"i": {"id": sub["id"]}}, staff))["data"]["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    assert rotated["subscription"]["previousSecretValidUntil"] is not None
    listed = (await gql(client, LIST, headers=staff))["data"]["webhookSubscriptions"]
    assert sub["id"] in [s["id"] for s in listed]
    node = await gql(client, "query($id: ID!) { node(id: $id) { id ... on WebhookSubscription { url } } }",
                     {"id": sub["id"]}, staff)
    assert node["data"]["node"]["url"] == "https://crm.example/hook"

    gone = (await gql(client, DELETE, {"i": {"id": sub["id"]}}, staff))["data"]["deleteWebhookSubscription"]
    assert gone == {"deletedId": sub["id"], "userErrors": []}
    assert sub["id"] not in [s["id"] for s in (await gql(client, LIST, headers=staff))["data"]["webhookSubscriptions"]]
    again = (await gql(client, DELETE, {"i": {"id": sub["id"]}}, staff))["data"]["deleteWebhookSubscription"]
    assert again["userErrors"][0]["code"] == "WEBHOOK_SUBSCRIPTION_NOT_FOUND"


async def test_an_agency_manages_only_its_own_and_a_policyholder_none(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    mine, other = await rated_contract(pool), await rated_contract(pool)
    assert mine.agency_id is not None and other.agency_id is not None
    agent = bearer(settings, Role.AGENT, agency_id=mine.agency_id)
    holder = bearer(settings, Role.POLICYHOLDER, party_id=mine.policyholder.id)
    staff_sub = (await gql(client, CREATE, {"i": {"url": "https://ops.example/h"}}, staff))[
        "data"]["createWebhookSubscription"]["subscription"]
    made = (await gql(client, CREATE, {"i": {"url": "https://agency.example/h"}}, agent))["data"]["createWebhookSubscription"]
    assert made["subscription"]["agencyId"] == to_global_id("Agency", mine.agency_id)
    refused = (await gql(client, CREATE, {"i": {"url": "https://agency.example/h",
                                                "agencyId": to_global_id("Agency", other.agency_id)}}, agent))
    assert refused["data"]["createWebhookSubscription"]["userErrors"][0]["code"] == "AGENCY_NOT_FOUND"
    for internal in ("http://127.0.0.1:8000/h", "http://169.254.169.254/latest", "http://10.0.0.5/h",
                     "http://localhost/h", "http://[::1]/h",
                     # the resolver's legacy IPv4 forms of 127.0.0.1 and 0.0.0.0, and shared 100.64/10
                     "http://2130706433/h", "http://127.1/h", "http://0x7f.0.0.1/h", "http://0/h",
                     "http://100.100.100.200/h",
                     # malformed: a refusal, not an internal error
                     "http://[::1/h", "http://x.example:99999/h"):
        inside = (await gql(client, CREATE, {"i": {"url": internal}}, agent))["data"]["createWebhookSubscription"]
        assert inside["userErrors"] == [{"field": "input.url", "code": "INVALID_URL"}], internal
    listed = [s["id"] for s in (await gql(client, LIST, headers=agent))["data"]["webhookSubscriptions"]]
    assert listed == [made["subscription"]["id"]]
    for mutation, name in ((UPDATE, "updateWebhookSubscription"), (ROTATE, "rotateWebhookSecret"),
                           (DELETE, "deleteWebhookSubscription")):
        r = (await gql(client, mutation, {"i": {"id": staff_sub["id"]}}, agent))["data"][name]
        assert r["userErrors"][0]["code"] == "WEBHOOK_SUBSCRIPTION_NOT_FOUND", name
    node = "query($id: ID!) { node(id: $id) { id } webhookSubscription(id: $id) { id } }"
    other_agent = bearer(settings, Role.AGENT, agency_id=other.agency_id)
    for who in (other_agent, holder, {}):
        seen = (await gql(client, node, {"id": made["subscription"]["id"]}, who))["data"]
        assert seen == {"node": None, "webhookSubscription": None}
        assert (await gql(client, DELIVERIES, {"s": made["subscription"]["id"]}, who))["data"]["webhookDeliveries"] == []
    assert (await gql(client, node, {"id": made["subscription"]["id"]}, agent))["data"]["node"] is not None
    ph = (await gql(client, CREATE, {"i": {"url": "https://me.example/h"}}, holder))["data"]["createWebhookSubscription"]
    assert ph["userErrors"][0]["code"] == "FORBIDDEN"
    assert (await gql(client, LIST, headers=holder))["data"]["webhookSubscriptions"] == []
    assert (await gql(client, LIST))["data"]["webhookSubscriptions"] == []
    await _delete_all(client, staff)


async def test_deliveries_attempts_redelivery_and_the_contracts_notifications(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, receiver: Receiver) -> None:
    staff = bearer(settings, Role.STAFF)
    c = await rated_contract(pool)
    cid = c.created.contract.id
    assert c.agency_id is not None
    agent = bearer(settings, Role.AGENT, agency_id=c.agency_id)
    made = (await gql(client, CREATE, {"i": {"url": receiver.url("/api"), "agencyId": to_global_id("Agency", c.agency_id)}},
                      staff))["data"]["createWebhookSubscription"]
    receiver.secrets["/api"] = [made["secret"]]
    sid = made["subscription"]["id"]
    now = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
    async with UnitOfWork(pool) as uow:
        await append_events(uow, cid, [("RENEWAL_REMINDER", {"policyNumber": "P-1", "day": 7, "daysLeft": 23,
                                                             "fullUntil": "2027-05-01"})], at=now)
    async with UnitOfWork(pool) as uow:
        while await publish_events(uow, now, settings, limit=10_000) == 10_000:
            pass
    (d,) = (await gql(client, DELIVERIES, {"s": sid}, staff))["data"]["webhookDeliveries"]
    assert (d["kind"], d["state"], d["attemptCount"], d["attempts"]) == ("RENEWAL_REMINDER", "PENDING", 0, [])
    notes = (await gql(client, NOTES, {"id": to_global_id("Contract", cid)}, staff))["data"]["contract"]["notifications"]
    assert [(n["kind"], n["channel"], n["state"]) for n in notes] == [("RENEWAL_REMINDER", "WEBHOOK", "PENDING")]

    rt = WebhookRuntime(settings, client_for(settings))
    try:
        sub_db = int(await pool.fetchval("SELECT id FROM webhook_subscriptions WHERE url = $1", receiver.url("/api")))
        async with UnitOfWork(pool) as uow:
            run = await deliver_lane(uow.conn, sub_db, cid, clock=lambda: now, settings=settings, send=rt.send)
    finally:
        await rt.client.aclose()
    assert run.delivered == 1 and receiver.received()[0].verified
    (d,) = (await gql(client, DELIVERIES, {"s": sid}, staff))["data"]["webhookDeliveries"]
    assert (d["state"], d["attemptCount"], d["lastStatusCode"]) == ("DELIVERED", 1, 200)
    assert [(a["attempt"], a["statusCode"], a["outcome"]) for a in d["attempts"]] == [(1, 200, "DELIVERED")]
    assert d["eventId"] == receiver.received()[0].event_id
    notes = (await gql(client, NOTES, {"id": to_global_id("Contract", cid)}, staff))["data"]["contract"]["notifications"]
    assert notes[0]["state"] == "SENT" and notes[0]["sentAt"] and "day 7" in notes[0]["subject"]
    # the agency reads its deliveries but only staff redeliver
    assert [x["id"] for x in (await gql(client, DELIVERIES, {"s": sid}, agent))["data"]["webhookDeliveries"]] == [d["id"]]
    no = (await gql(client, REDELIVER, {"i": {"deliveryId": d["id"]}}, agent))["data"]["redeliverWebhook"]
    assert no["userErrors"][0]["code"] == "FORBIDDEN"
    yes = (await gql(client, REDELIVER, {"i": {"deliveryId": d["id"]}}, staff))["data"]["redeliverWebhook"]
    assert yes["userErrors"] == [] and yes["delivery"]["state"] == "PENDING"
    await _delete_all(client, staff)


async def test_an_idempotent_replay_of_create_does_not_show_the_secret_again(
        client: httpx.AsyncClient, settings: Settings) -> None:
    """The secret is shown once: the stored answer a replay gives leaves it out (rotate to get one)."""
    staff = bearer(settings, Role.STAFF)
    i = {"url": "https://replay.example/h", "idempotencyKey": "create-once-secret"}
    first = (await gql(client, CREATE, {"i": i}, staff))["data"]["createWebhookSubscription"]
    again = (await gql(client, CREATE, {"i": i}, staff))["data"]["createWebhookSubscription"]
    assert first["secret"].startswith("whsec_")
    assert again["subscription"]["id"] == first["subscription"]["id"] and again["secret"] is None
    await gql(client, DELETE, {"i": {"id": first["subscription"]["id"]}}, staff)


async def test_a_policyholder_sees_what_they_were_told_not_where_it_went(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    c = await rated_contract(pool)
    cid = c.created.contract.id
    holder = bearer(settings, Role.POLICYHOLDER, party_id=c.policyholder.id)
    made = (await gql(client, CREATE, {"i": {"url": "https://ops.example/notes"}}, staff))[
        "data"]["createWebhookSubscription"]["subscription"]
    now = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
    async with UnitOfWork(pool) as uow:
        await append_events(uow, cid, [("RENEWAL_REMINDER", {"policyNumber": "P-1", "day": 0, "daysLeft": 30,
                                                             "fullUntil": "2027-05-01"})], at=now)
    async with UnitOfWork(pool) as uow:
        while await publish_events(uow, now, settings, limit=10_000) == 10_000:
            pass
    q = """query($id: ID!) { contract(id: $id) { notifications { kind recipient lastError } } }"""
    as_staff = (await gql(client, q, {"id": to_global_id("Contract", cid)}, staff))["data"]["contract"]
    as_holder = (await gql(client, q, {"id": to_global_id("Contract", cid)}, holder))["data"]["contract"]
    assert [n["kind"] for n in as_holder["notifications"]] == [n["kind"] for n in as_staff["notifications"]] != []
    assert all(n["recipient"] for n in as_staff["notifications"])
    assert all(n["recipient"] is None and n["lastError"] is None for n in as_holder["notifications"])
    await gql(client, DELETE, {"i": {"id": made["id"]}}, staff)


async def test_the_worker_refuses_an_agency_url_that_resolves_inside_and_a_name_it_cannot_send_to(
        settings: Settings, receiver: Receiver) -> None:
    """At each send an agency's URL is resolved and refused when an address is not public (DNS may
    point a public-looking name anywhere); any failure is an attempt's outcome, not a crash of the job."""
    rt = WebhookRuntime(settings, client_for(settings))
    try:
        inside = await rt.send(receiver.url("/in"), {}, b"{}", True)
        staff_may = await rt.send(receiver.url("/in"), {}, b"{}", False)
        unsendable = await rt.send("http://xn--a.example/h", {}, b"{}", True)
    finally:
        await rt.client.aclose()
    assert (inside.status, inside.outcome) == (None, "CONNECTION_ERROR") and "non-public" in (inside.error or "")
    assert staff_may.outcome in ("DELIVERED", "HTTP_ERROR") and staff_may.status is not None
    assert (unsendable.status, unsendable.outcome) == (None, "CONNECTION_ERROR")


async def test_deliveries_left_pending_by_a_fan_out_racing_a_delete_are_dead_lettered_by_the_lane(
        client: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> None:
    staff = bearer(settings, Role.STAFF)
    c = await rated_contract(pool)
    cid = c.created.contract.id
    made = (await gql(client, CREATE, {"i": {"url": "https://race.example/h"}}, staff))[
        "data"]["createWebhookSubscription"]["subscription"]
    now = datetime(2026, 4, 1, 9, 0, tzinfo=JST)
    async with UnitOfWork(pool) as uow:
        await append_events(uow, cid, [("NOTE_RACE", {})], at=now)
    async with UnitOfWork(pool) as uow:
        while await publish_events(uow, now, settings, limit=10_000) == 10_000:
            pass
    sub_db = int(await pool.fetchval("SELECT id FROM webhook_subscriptions WHERE url = 'https://race.example/h'"))
    # the delete committed after the fan-out read the subscription: its delivery is still pending
    await pool.execute("UPDATE webhook_subscriptions SET deleted_at = $2, active = false WHERE id = $1", sub_db, now)
    rt = WebhookRuntime(settings, client_for(settings))
    try:
        async with UnitOfWork(pool) as uow:
            run = await deliver_lane(uow.conn, sub_db, cid, clock=lambda: now, settings=settings, send=rt.send)
    finally:
        await rt.client.aclose()
    assert run.dead >= 1 and run.delivered == 0
    states = await pool.fetch("SELECT state FROM webhook_deliveries WHERE subscription_id = $1 AND contract_id = $2",
                              sub_db, cid)
    assert {r["state"] for r in states} == {"DEAD"}
    assert made["id"]
