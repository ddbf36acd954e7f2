"""What proves guessing (sip/digest.py AuthResult.guessing), without sockets: only a wrong password
answering a fresh nonce we issued to this very client. Everything else gets a challenge and counts
nothing; an unknown user counts exactly like a known one."""

from __future__ import annotations

from centrex.sip.digest import AuthStatus, DigestAuthenticator, build_authorization, compute_ha1

REALM = "acme.example.com"
HA1 = {"alice": "wonderland"}


def lookup(username: str, realm: str, algorithm: str) -> str | None:
    password = HA1.get(username)
    return compute_ha1(username, realm, password, algorithm) if password else None


def answer(auth: DigestAuthenticator, now: float, client: str, user: str, password: str) -> str:
    challenge = auth.challenge(now, client_key=client)[0]
    return build_authorization(challenge, "REGISTER", f"sip:{REALM}", user, password)


def judge(auth: DigestAuthenticator, header: str, now: float, client: str) -> tuple[AuthStatus, bool]:
    result = auth.verify(header, "REGISTER", now, lookup, client_key=client)
    return result.status, result.guessing


def test_only_a_wrong_password_for_our_fresh_nonce_to_this_client_is_guessing() -> None:
    auth = DigestAuthenticator(REALM, b"k" * 32, nonce_ttl=300)
    mine = answer(auth, 1000.0, "198.51.100.7", "alice", "guess")
    assert judge(auth, mine, 1010.0, "198.51.100.7") == (AuthStatus.FAILED, True)
    # The same credentials "from" another address: the nonce is not that address's.
    assert judge(auth, mine, 1010.0, "203.0.113.9") == (AuthStatus.FAILED, False)
    # Expired: stale, whatever the password, and nothing counted.
    assert judge(auth, mine, 1400.0, "198.51.100.7") == (AuthStatus.STALE, False)
    # Unknown user: the same verdict as a wrong password.
    nobody = answer(auth, 1000.0, "198.51.100.7", "mallory", "guess")
    assert judge(auth, nobody, 1010.0, "198.51.100.7") == (AuthStatus.FAILED, True)
    # The right password is not a failure at all.
    right = answer(auth, 1000.0, "198.51.100.7", "alice", "wonderland")
    assert judge(auth, right, 1010.0, "198.51.100.7") == (AuthStatus.OK, False)


def test_forged_nonces_and_another_key_count_nothing() -> None:
    auth = DigestAuthenticator(REALM, b"k" * 32)
    other = DigestAuthenticator(REALM, b"x" * 32)  # a nonce of another service (or a lost key)
    theirs = answer(other, 1000.0, "198.51.100.7", "alice", "guess")
    assert judge(auth, theirs, 1010.0, "198.51.100.7") == (AuthStatus.FAILED, False)
    for nonce in ("", "abc", "3e8.", "3e8." + "0" * 32, "zz." + "0" * 32, "1" * 40):
        header = (
            f'Digest username="alice", realm="{REALM}", nonce="{nonce}", uri="sip:{REALM}", '
            'response="0123456789abcdef0123456789abcdef"'
        )
        assert judge(auth, header, 1010.0, "198.51.100.7") == (AuthStatus.FAILED, False), nonce
    # A key kept across restarts (the store's service key) still knows its nonces.
    again = DigestAuthenticator(REALM, b"k" * 32)
    mine = answer(auth, 1000.0, "198.51.100.7", "alice", "guess")
    assert judge(again, mine, 1010.0, "198.51.100.7") == (AuthStatus.FAILED, True)
