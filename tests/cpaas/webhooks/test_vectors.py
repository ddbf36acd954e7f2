"""Webhook signatures (issue 16 §3, Must show "signature vectors … Standard Webhooks'"): the
published Standard Webhooks vector, our Centrex-Signature with two active secrets (a rotation),
and the 300 s replay window."""

from __future__ import annotations

import base64
import hashlib
import hmac

from centrex.cpaas.webhook_signing import (
    CENTREX_HEADER,
    centrex_signature,
    new_secret,
    signed_headers,
    standard_headers,
    standard_signature,
    verify_centrex,
    verify_standard,
)
from centrex.e911 import notice

# standard-webhooks/standard-webhooks, libraries/python/tests/test_webhooks.py test_sign_function
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TS = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_webhooks_published_vector() -> None:
    assert standard_signature(SW_SECRET, SW_ID, SW_TS, SW_BODY) == SW_SIGNATURE
    # The spec's libraries accept the secret with or without its prefix.
    assert standard_signature(SW_SECRET.removeprefix("whsec_"), SW_ID, SW_TS, SW_BODY) == SW_SIGNATURE
    headers = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": SW_SIGNATURE}
    assert verify_standard(SW_SECRET, headers, SW_BODY, now=SW_TS + 10)
    # The spec's "invalid signature" case: the last base64 character changed.
    bad = {**headers, "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="}
    assert not verify_standard(SW_SECRET, bad, SW_BODY, now=SW_TS)
    # Several signatures, space-separated, one valid (the spec's multi-signature case).
    multi = {
        **headers,
        "webhook-signature": "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " + SW_SIGNATURE,
    }
    assert verify_standard(SW_SECRET, multi, SW_BODY, now=SW_TS)


def test_standard_webhooks_replay_window() -> None:
    headers = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": SW_SIGNATURE}
    assert verify_standard(SW_SECRET, headers, SW_BODY, now=SW_TS + 300)
    assert verify_standard(SW_SECRET, headers, SW_BODY, now=SW_TS - 300)
    assert not verify_standard(SW_SECRET, headers, SW_BODY, now=SW_TS + 301)
    assert not verify_standard(SW_SECRET, headers, SW_BODY, now=SW_TS - 301)
    assert not verify_standard(SW_SECRET, {**headers, "webhook-timestamp": "hello"}, SW_BODY, now=SW_TS)
    assert not verify_standard(SW_SECRET, headers, SW_BODY + b" ", now=SW_TS)


def test_centrex_signature_with_two_active_secrets() -> None:
    old, new = new_secret(), new_secret()
    body, ts = b'{"type":"call.ended"}', 1_765_000_000
    header = centrex_signature([new, old], ts, body)
    parts = header.split(",")
    assert parts[0] == f"t={ts}" and len(parts) == 3 and all(p.startswith("v1=") for p in parts[1:])
    # Each v1 is hex HMAC-SHA256(secret, "<t>.<body>"), as written out by hand here.
    expected = hmac.new(old.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    assert f"v1={expected}" in parts
    # A receiver holding either secret accepts; one holding neither refuses.
    assert verify_centrex(old, header, body, now=ts + 5)
    assert verify_centrex(new, header, body, now=ts + 5)
    assert verify_centrex([new_secret(), old], header, body, now=ts)
    assert not verify_centrex(new_secret(), header, body, now=ts)
    # The body, the timestamp and the header's shape are all covered.
    assert not verify_centrex(old, header, body + b"x", now=ts)
    assert not verify_centrex(old, header.replace(f"t={ts}", f"t={ts + 1}"), body, now=ts)
    assert not verify_centrex(old, header + f",t={ts}", body, now=ts)
    # The same signature as our 911 notices' Centrex-Signature (e911/notice.py).
    assert notice.signature_header(old, ts, body) == f"t={ts},v1={expected}"


def test_replay_outside_the_window_is_refused() -> None:
    secret = new_secret()
    body, ts = b"{}", 1_765_000_000
    header = centrex_signature(secret, ts, body)
    assert verify_centrex(secret, header, body, now=ts + 300)
    assert not verify_centrex(secret, header, body, now=ts + 301)
    assert not verify_centrex(secret, header, body, now=ts - 301)
    assert verify_centrex(secret, header, body, now=ts + 3600, tolerance_s=3600)


def test_both_schemes_on_one_request_from_the_same_secrets() -> None:
    old, new = new_secret(), new_secret()
    body, ts = b'{"a":1}', 1_765_000_000
    headers = signed_headers([new, old], "evt_1", ts, body)
    assert len(headers["webhook-signature"].split()) == 2
    assert headers == {
        **standard_headers([new, old], "evt_1", ts, body),
        CENTREX_HEADER: headers[CENTREX_HEADER],
    }
    for secret in (old, new):
        assert verify_standard(secret, headers, body, now=ts)
        assert verify_centrex(secret, headers[CENTREX_HEADER], body, now=ts)
    # The Standard Webhooks key is the base64 after whsec_ (not the string itself).
    raw = base64.b64decode(new.removeprefix("whsec_"))
    mac = base64.b64encode(hmac.new(raw, b"evt_1." + str(ts).encode() + b"." + body, hashlib.sha256).digest())
    assert "v1," + mac.decode() in headers["webhook-signature"].split()
    assert signed_headers([], "evt_1", ts, body) == {}
