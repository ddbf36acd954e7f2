"""Digest auth: vectors computed here with hashlib, server and client sides."""

from __future__ import annotations

import hashlib

import pytest

from centrex.sip.digest import (
    AuthStatus,
    DigestAuthenticator,
    build_authorization,
    compute_ha1,
    compute_response,
    parse_challenge,
    parse_credentials,
)

REALM = "pbx.example.com"
USERS = {"alice": "wonderland", "bob": "builder"}


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def sha256(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def lookup(username: str, realm: str, algorithm: str) -> str | None:
    password = USERS.get(username)
    return compute_ha1(username, realm, password, algorithm) if password else None


def test_ha1_and_response_known_vectors() -> None:
    # RFC 2617 §3.5 example, recomputed by hand.
    ha1 = compute_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", "MD5")
    assert ha1 == md5("Mufasa:testrealm@host.com:Circle Of Life") == "939e7578ed9e3c518a452acee763bce9"
    nonce, cnonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b"
    expected = md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{md5('GET:/dir/index.html')}")
    got = compute_response(ha1, "GET", "/dir/index.html", nonce, "MD5", "auth", "00000001", cnonce)
    assert got == expected == "6629fae49393a05397450978507c4ef1"
    # RFC 7616 §3.9.1 SHA-256 example (the algorithm RFC 8760 brings to SIP).
    ha1_256 = compute_ha1("Mufasa", "http-auth@example.org", "Circle of Life", "SHA-256")
    resp = compute_response(
        ha1_256,
        "GET",
        "/dir/index.html",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "SHA-256",
        "auth",
        "00000001",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert resp == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    # Without qop (RFC 2069 style), still sent by old phones.
    assert compute_response(ha1, "REGISTER", "sip:x", "n") == md5(f"{ha1}:n:{md5('REGISTER:sip:x')}")


def test_challenge_offers_sha256_then_md5() -> None:
    auth = DigestAuthenticator(REALM, b"k" * 32)
    values = auth.challenge(1000.0)
    challenges = [parse_challenge(v) for v in values]
    assert [c.algorithm for c in challenges] == ["SHA-256", "MD5"]
    assert all(c.realm == REALM and c.qop == "auth" and not c.stale for c in challenges)
    assert challenges[0].nonce == challenges[1].nonce
    assert values[0].startswith('Digest realm="pbx.example.com", nonce="')


@pytest.mark.parametrize("algorithm", ["SHA-256", "MD5"])
def test_client_and_server_agree(algorithm: str) -> None:
    auth = DigestAuthenticator(REALM, b"secret")
    challenge = next(v for v in auth.challenge(1000.0) if algorithm in v)
    header = build_authorization(
        challenge, "REGISTER", "sip:pbx.example.com", "alice", "wonderland", cnonce="c1"
    )
    creds = parse_credentials(header)
    assert creds.algorithm == algorithm and creds.nc == "00000001" and creds.cnonce == "c1"
    # Check the response independently of compute_response.
    h = sha256 if algorithm == "SHA-256" else md5
    ha1 = h(f"alice:{REALM}:wonderland")
    assert creds.response == h(f"{ha1}:{creds.nonce}:00000001:c1:auth:{h('REGISTER:sip:pbx.example.com')}")
    result = auth.verify(header, "REGISTER", 1010.0, lookup, request_uri="sip:pbx.example.com")
    assert result.ok and result.username == "alice"
    assert not auth.verify(header, "INVITE", 1010.0, lookup).ok  # the method is part of the digest


def test_no_qop_credentials() -> None:
    auth = DigestAuthenticator(REALM, b"secret", algorithms=("MD5",))
    nonce = auth.make_nonce(50.0)
    ha1 = md5(f"bob:{REALM}:builder")
    response = md5(f"{ha1}:{nonce}:{md5('INVITE:sip:200@pbx.example.com')}")
    header = (
        f'Digest username="bob", realm="{REALM}", nonce="{nonce}", '
        f'uri="sip:200@pbx.example.com", response="{response}"'
    )
    assert auth.verify(header, "INVITE", 60.0, lookup).ok


def test_an_expired_nonce_is_stale_whatever_the_password() -> None:
    """An expired nonce counts nothing toward a ban, so its answer must not tell a right password
    from a wrong one (else a guesser tries forever on one old nonce). A wrong password for a fresh
    nonce of this client is the failure that proves guessing."""
    auth = DigestAuthenticator(REALM, b"secret", nonce_ttl=300)
    challenge = auth.challenge(1000.0)[0]
    good = build_authorization(challenge, "REGISTER", "sip:pbx.example.com", "alice", "wonderland")
    assert auth.verify(good, "REGISTER", 1299.0, lookup).status is AuthStatus.OK
    assert auth.verify(good, "REGISTER", 1301.0, lookup).status is AuthStatus.STALE
    wrong = build_authorization(challenge, "REGISTER", "sip:pbx.example.com", "alice", "guess")
    late = auth.verify(wrong, "REGISTER", 1301.0, lookup)
    assert (late.status, late.guessing) == (AuthStatus.STALE, False)
    fresh = auth.verify(wrong, "REGISTER", 1299.0, lookup)
    assert (fresh.status, fresh.guessing) == (AuthStatus.FAILED, True)
    assert parse_challenge(auth.challenge(1301.0, stale=True)[0]).stale


def test_wrong_password_and_unknown_user_look_the_same() -> None:
    auth = DigestAuthenticator(REALM, b"secret")
    # Same challenge whoever asks: nothing in it depends on the user.
    assert auth.challenge(1000.0) == auth.challenge(1000.0)
    challenge = auth.challenge(1000.0)[0]
    wrong = build_authorization(challenge, "REGISTER", "sip:pbx.example.com", "alice", "nope")
    ghost = build_authorization(challenge, "REGISTER", "sip:pbx.example.com", "mallory", "nope")
    r1 = auth.verify(wrong, "REGISTER", 1001.0, lookup)
    r2 = auth.verify(ghost, "REGISTER", 1001.0, lookup)
    assert r1.status is r2.status is AuthStatus.FAILED
    assert r1.reason == r2.reason


def test_forged_or_foreign_nonce_fails() -> None:
    auth = DigestAuthenticator(REALM, b"secret")
    other = DigestAuthenticator(REALM, b"other-secret")
    foreign = build_authorization(other.challenge(1000.0)[0], "REGISTER", "sip:x", "alice", "wonderland")
    assert auth.verify(foreign, "REGISTER", 1001.0, lookup).status is AuthStatus.FAILED
    bound = DigestAuthenticator(REALM, b"secret")
    header = build_authorization(
        bound.challenge(1000.0, client_key="192.0.2.1")[0], "REGISTER", "sip:x", "alice", "wonderland"
    )
    assert bound.verify(header, "REGISTER", 1001.0, lookup, client_key="192.0.2.1").ok
    assert not bound.verify(header, "REGISTER", 1001.0, lookup, client_key="192.0.2.2").ok


@pytest.mark.parametrize(
    "header",
    ["", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", 'Digest username="alice"', "Digest ,,,", 'Digest realm="x'],
)
def test_malformed_credentials_fail(header: str) -> None:
    auth = DigestAuthenticator(REALM, b"secret")
    assert auth.verify(header, "REGISTER", 0.0, lookup).status is AuthStatus.FAILED
