"""The pure webhook rules: the signature a receiver verifies (also the README's snippet), the retry
schedule with its jitter and bounds, and which kinds a subscription takes."""

from __future__ import annotations

import re
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

from domain.runtime.clock import JST
from domain.webhooks import RetryPolicy, sign, signature_header, takes, valid_kind, verify

README = Path(__file__).resolve().parents[2] / "README.md"
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=JST)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    body = b'{"id":"evt_1"}'
    assert sign("whsec_x", 1700000000, body) == hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    header = signature_header(["new", "old"], 1700000000, body)
    assert header == f"t=1700000000,v1={sign('new', 1700000000, body)},v1={sign('old', 1700000000, body)}"
    assert verify(header, "new", body, 1700000100) and verify(header, "old", body, 1700000100)
    assert not verify(header, "other", body, 1700000100)
    assert not verify(header, "new", body + b" ", 1700000100)          # the body was changed
    assert not verify(header, "new", body, 1700000000 + 301)           # replayed after the tolerance
    assert not verify("v1=abc", "new", body, 1700000000)               # no timestamp


def test_the_readme_snippet_verifies_what_the_sender_signs() -> None:
    block = re.search(r"```python\n(\s*import hashlib, hmac, time\n.*?)\s*```", README.read_text(), re.DOTALL)
    assert block is not None
    ns: dict[str, object] = {}
    exec(textwrap.dedent(block.group(1)), ns)  # noqa: S102 -- our own README
    import time

    body = b'{"kind":"CLAIM_REPORTED"}'
    t = int(time.time())
    readme_verify = ns["verify"]
    assert readme_verify(signature_header(["s3cret"], t, body), "s3cret", body)  # type: ignore[operator]
    assert not readme_verify(signature_header(["s3cret"], t - 600, body), "s3cret", body)  # type: ignore[operator]
    assert not readme_verify(signature_header(["other"], t, body), "s3cret", body)  # type: ignore[operator]


def test_backoff_doubles_from_the_base_to_the_cap_with_jitter_down_to_half() -> None:
    p = RetryPolicy()
    assert [p.delay(n, 0.0) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert p.delay(30, 0.0) == timedelta(hours=1)
    assert p.delay(1, 0.999999) > timedelta(seconds=5) and p.delay(1, 0.5) == timedelta(seconds=7.5)


def test_a_delivery_is_dead_lettered_after_its_time_or_its_attempts() -> None:
    p = RetryPolicy(max_attempts=5)
    give_up = NOW + timedelta(hours=24)
    assert p.next_attempt(1, NOW, give_up, 0.0) == NOW + timedelta(seconds=10)
    assert p.next_attempt(5, NOW, give_up, 0.0) is None
    assert p.next_attempt(4, give_up - timedelta(seconds=30), give_up, 0.0) is None   # 80 s > what is left
    # the whole schedule of the defaults: how many tries fit in 24 hours
    q, at, tries = RetryPolicy(), NOW, 1
    while (nxt := q.next_attempt(tries, at, give_up, 0.0)) is not None:
        at, tries = nxt, tries + 1
    assert tries == 25 and at <= give_up


def test_kinds() -> None:
    assert takes((), "ANY") and takes(("A",), "A") and not takes(("A",), "B")
    assert valid_kind("CLAIM_REPORTED") and not valid_kind("claim") and not valid_kind("A B") and not valid_kind("")
