"""Bearer auth in the GraphQL context (ENGINEERING S2): good tokens name the caller, bad ones get 401.

Every refusal happens in `get_context`, before the document is parsed or executed, and answers
HTTP 401 with a GraphQL-shaped JSON body `{"errors":[{"message", "extensions":{"code"}}]}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.app import create_app
from api.auth import AuthError, Role, mint_token
from api.principal import bearer_token, resolve_principal
from domain.runtime.clock import JST, ManualClock
from domain.runtime.settings import Settings
from tests.api.conftest import gql

ME = "{ me { subject role partyId agencyId } }"


# The API verifies `exp` against its business clock; the tests here hold that clock at T0 and
# mint on it (rs_client's ManualClock() starts at the same moment).
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


@pytest.fixture(autouse=True)
def _business_clock_at_t0(clock: ManualClock) -> None:
    clock.set(T0)


def _now() -> datetime:
    return T0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed(header: dict, claims: dict, key: bytes | None) -> str:
    """A JWT built by hand, for tokens PyJWT refuses to mint (alg none, HMAC with a PEM key)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    sig = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


def _claims(settings: Settings, **over: object) -> dict:
    now = int(_now().timestamp())
    return {"sub": "mallory", "role": "admin", "aud": settings.jwt_audience,
            "iss": settings.jwt_issuer, "iat": now, "exp": now + 3600, **over}


async def _post(client: httpx.AsyncClient, token: str | None, query: str = ME,
                scheme: str = "Bearer") -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"{scheme} {token}"}
    return await client.post("/graphql", json={"query": query}, headers=headers)


def _assert_refused(r: httpx.Response, code: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": code}
    assert error["message"]


# ---------------------------------------------------------------- accepted


async def test_anonymous_me_is_null(client: httpx.AsyncClient) -> None:
    body = await gql(client, ME)
    assert body == {"data": {"me": None}}


async def test_staff_token_names_the_caller(client: httpx.AsyncClient, settings: Settings) -> None:
    token = mint_token(settings, subject="staff-7", role=Role.STAFF, now=_now())
    body = await gql(client, ME, headers={"Authorization": f"Bearer {token}"})
    assert body["data"]["me"] == {"subject": "staff-7", "role": "STAFF", "partyId": None, "agencyId": None}


async def test_policyholder_and_agent_tokens_carry_their_scope(client: httpx.AsyncClient,
                                                               settings: Settings) -> None:
    ph = mint_token(settings, subject="ph-1", role=Role.POLICYHOLDER, now=_now(), party_id=42)
    ag = mint_token(settings, subject="ag-1", role=Role.AGENT, now=_now(), agency_id=9)
    me_ph = (await gql(client, ME, headers={"Authorization": f"Bearer {ph}"}))["data"]["me"]
    me_ag = (await gql(client, ME, headers={"Authorization": f"bearer {ag}"}))["data"]["me"]
    assert (me_ph["role"], me_ph["partyId"], me_ph["agencyId"]) == ("POLICYHOLDER", 42, None)
    assert (me_ag["role"], me_ag["partyId"], me_ag["agencyId"]) == ("AGENT", None, 9)


async def test_public_queries_work_with_a_valid_token_too(client: httpx.AsyncClient,
                                                          settings: Settings) -> None:
    token = mint_token(settings, subject="ph-2", role=Role.POLICYHOLDER, now=_now(), party_id=1)
    body = await gql(client, "{ system { apiVersion } }", headers={"Authorization": f"Bearer {token}"})
    assert body["data"]["system"]["apiVersion"]


# ---------------------------------------------------------------- refused (HS256 configured)


def _bad_tokens(settings: Settings) -> dict[str, tuple[str, str]]:
    """name → (token, expected code)."""
    wrong_key = settings.model_copy(update={"jwt_secret": "another-secret-entirely-0123456789abcdef"})
    valid = mint_token(settings, subject="s", role=Role.STAFF, now=_now())
    head, payload, sig = valid.split(".")
    tampered_claims = _b64(json.dumps(_claims(settings, role="admin", sub="root")).encode())
    return {
        "forged_signature": (mint_token(wrong_key, subject="s", role=Role.ADMIN, now=_now()), "TOKEN_INVALID"),
        "tampered_payload": (f"{head}.{tampered_claims}.{sig}", "TOKEN_INVALID"),
        "expired": (mint_token(settings, subject="s", role=Role.STAFF, now=_now() - timedelta(hours=2),
                               ttl=timedelta(hours=1)), "TOKEN_EXPIRED"),
        "wrong_audience": (mint_token(settings.model_copy(update={"jwt_audience": "someone-else"}),
                                      subject="s", role=Role.STAFF, now=_now()), "TOKEN_INVALID"),
        "wrong_issuer": (mint_token(settings.model_copy(update={"jwt_issuer": "evil-issuer"}),
                                    subject="s", role=Role.STAFF, now=_now()), "TOKEN_INVALID"),
        "alg_none": (_hand_signed({"alg": "none", "typ": "JWT"}, _claims(settings), None), "TOKEN_INVALID"),
        "alg_none_with_valid_signature": (
            f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}.{sig}", "TOKEN_INVALID"),
        "unknown_role": (_hand_signed({"alg": "HS256", "typ": "JWT"}, _claims(settings, role="root"),
                                      settings.jwt_secret.encode()), "TOKEN_INVALID"),
        "missing_exp": (_hand_signed({"alg": "HS256", "typ": "JWT"},
                                     {k: v for k, v in _claims(settings).items() if k != "exp"},
                                     settings.jwt_secret.encode()), "TOKEN_INVALID"),
        "garbage": ("not-a-jwt-at-all", "TOKEN_INVALID"),
        "three_garbage_segments": ("aaa.bbb.ccc", "TOKEN_INVALID"),
    }


BAD_CASES = ["forged_signature", "tampered_payload", "expired", "wrong_audience", "wrong_issuer",
             "alg_none", "alg_none_with_valid_signature", "unknown_role", "missing_exp", "garbage",
             "three_garbage_segments"]


@pytest.mark.parametrize("case", BAD_CASES)
async def test_bad_token_is_refused_with_401(client: httpx.AsyncClient, settings: Settings,
                                             case: str) -> None:
    token, code = _bad_tokens(settings)[case]
    _assert_refused(await _post(client, token), code)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc.def.ghi"])
async def test_malformed_authorization_header_is_refused(client: httpx.AsyncClient, header: str) -> None:
    r = await client.post("/graphql", json={"query": ME}, headers={"Authorization": header})
    _assert_refused(r, "TOKEN_INVALID")


async def test_refusal_happens_before_the_document_is_even_parsed(client: httpx.AsyncClient) -> None:
    # a syntactically broken document would give 200 + a syntax error if execution had started
    _assert_refused(await _post(client, "garbage", query="{ me { "), "TOKEN_INVALID")


def test_bearer_token_parsing() -> None:
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("  bEaReR   abc  ") == "abc"
    for bad in ("", "Bearer", "Basic abc", "abc"):
        with pytest.raises(AuthError) as info:
            bearer_token(bad)
        assert info.value.code == "TOKEN_INVALID"


def test_resolve_principal_without_header_is_anonymous() -> None:
    assert resolve_principal(Settings(environment="test"), {}, T0) is None


# ---------------------------------------------------------------- the business clock decides expiry


async def test_a_token_minted_on_a_moved_business_clock_works(client: httpx.AsyncClient, settings: Settings,
                                                              clock: ManualClock) -> None:
    """After `simulate` moved the clock a year ahead, a token minted then is valid although the
    wall clock is a year behind its `iat`; a wall-clock token of the same day has expired."""
    ahead = datetime.now(JST) + timedelta(days=400)
    clock.set(ahead)
    fresh = mint_token(settings, subject="after-simulate", role=Role.STAFF, now=ahead)
    body = await gql(client, ME, headers={"Authorization": f"Bearer {fresh}"})
    assert body["data"]["me"]["subject"] == "after-simulate"
    wall = mint_token(settings, subject="wall", role=Role.STAFF, now=datetime.now(JST))
    _assert_refused(await _post(client, wall), "TOKEN_EXPIRED")


async def test_expiry_is_read_on_the_business_clock(client: httpx.AsyncClient, settings: Settings,
                                                    clock: ManualClock) -> None:
    token = mint_token(settings, subject="one-hour", role=Role.STAFF, now=T0, ttl=timedelta(hours=1))
    clock.set(T0 + timedelta(minutes=59))
    assert (await gql(client, ME, headers={"Authorization": f"Bearer {token}"}))["data"]["me"]
    clock.set(T0 + timedelta(hours=1))
    _assert_refused(await _post(client, token), "TOKEN_EXPIRED")


def test_exp_must_be_a_number(settings: Settings) -> None:
    from api.auth import verify_token

    bad = _hand_signed({"alg": "HS256", "typ": "JWT"}, _claims(settings, exp="tomorrow"), settings.jwt_secret.encode())
    with pytest.raises(AuthError) as info:
        verify_token(settings, bad, T0)
    assert info.value.code == "TOKEN_INVALID"


# ---------------------------------------------------------------- RS256 (production shape)


def _rsa_pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def rs_settings(settings: Settings) -> Settings:
    private, public = _rsa_pem_pair()
    return settings.model_copy(update={"jwt_public_key": public, "jwt_private_key": private})


@pytest.fixture(scope="module")
async def rs_client(rs_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # the API host of production holds only the public key
    api_settings = rs_settings.model_copy(update={"jwt_private_key": None})
    app = create_app(api_settings, clock=ManualClock())
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c):
        yield c


async def test_rs256_token_is_accepted(rs_client: httpx.AsyncClient, rs_settings: Settings) -> None:
    token = mint_token(rs_settings, subject="admin-1", role=Role.ADMIN, now=_now())
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"] == "RS256"
    body = await gql(rs_client, ME, headers={"Authorization": f"Bearer {token}"})
    assert body["data"]["me"]["role"] == "ADMIN"


async def test_rs256_refuses_hs256_signed_with_the_public_key(rs_client: httpx.AsyncClient,
                                                              rs_settings: Settings) -> None:
    # algorithm confusion: the public key is no secret, so an HMAC made with it must not verify
    assert rs_settings.jwt_public_key is not None
    forged = _hand_signed({"alg": "HS256", "typ": "JWT"}, _claims(rs_settings),
                          rs_settings.jwt_public_key.encode())
    _assert_refused(await _post(rs_client, forged), "TOKEN_INVALID")


async def test_rs256_refuses_hs256_with_the_dev_secret(rs_client: httpx.AsyncClient, settings: Settings,
                                                       rs_settings: Settings) -> None:
    dev_token = mint_token(settings, subject="s", role=Role.ADMIN, now=_now())
    _assert_refused(await _post(rs_client, dev_token), "TOKEN_INVALID")


async def test_rs256_refuses_a_token_from_another_key_pair(rs_client: httpx.AsyncClient,
                                                           rs_settings: Settings) -> None:
    other_private, other_public = _rsa_pem_pair()
    other = rs_settings.model_copy(update={"jwt_public_key": other_public, "jwt_private_key": other_private})
    _assert_refused(await _post(rs_client, mint_token(other, subject="s", role=Role.ADMIN, now=_now())),
                    "TOKEN_INVALID")


async def test_rs256_refuses_alg_none(rs_client: httpx.AsyncClient, rs_settings: Settings) -> None:
    token = _hand_signed({"alg": "none", "typ": "JWT"}, _claims(rs_settings), None)
    _assert_refused(await _post(rs_client, token), "TOKEN_INVALID")
