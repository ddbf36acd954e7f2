"""Secrets: argon2 for passwords and PINs, SHA-256 for high-entropy API tokens, HA1 for SIP digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from centrex.sip.digest import compute_ha1

_hasher = PasswordHasher()
TOKEN_PREFIX = "cx_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class NewToken:
    plaintext: str  # shown once, never stored
    prefix: str
    secret_hash: str


def new_token() -> NewToken:
    """A bearer token: 'cx_' + 12-char lookup prefix + '.' + 43-char secret (256 bits).

    A token this random needs no slow hash (unlike a password); SHA-256 of it is what is kept."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}{prefix}.{secret}"
    return NewToken(plaintext, prefix, token_hash(plaintext))


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def split_token(plaintext: str) -> str | None:
    """The lookup prefix of a well-formed token, else None."""
    if not plaintext.startswith(TOKEN_PREFIX) or "." not in plaintext:
        return None
    prefix = plaintext[len(TOKEN_PREFIX) :].split(".", 1)[0]
    return prefix if len(prefix) == 12 else None


def token_matches(plaintext: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(plaintext), stored_hash)


def new_sip_secret() -> str:
    """A SIP password a person can type into a phone: 20 characters, about 119 bits."""
    return secrets.token_urlsafe(15)


def sip_ha1s(username: str, realm: str, password: str) -> tuple[str, str]:
    """(MD5 HA1, SHA-256 HA1) for a device: the only form in which its secret is stored."""
    return compute_ha1(username, realm, password, "MD5"), compute_ha1(username, realm, password, "SHA-256")
