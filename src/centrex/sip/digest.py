"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 8760 for SHA-256)."""

from __future__ import annotations

import hashlib

ALGORITHMS = ("MD5", "SHA-256")


def _hash(algorithm: str, data: str) -> str:
    if algorithm == "MD5":
        return hashlib.md5(data.encode(), usedforsecurity=False).hexdigest()
    if algorithm == "SHA-256":
        return hashlib.sha256(data.encode()).hexdigest()
    raise ValueError(f"unsupported digest algorithm {algorithm!r}; expected one of {ALGORITHMS}")


def compute_ha1(username: str, realm: str, password: str, algorithm: str) -> str:
    """HA1 = H(username:realm:password). Stored instead of the password, one per algorithm."""
    return _hash(algorithm, f"{username}:{realm}:{password}")
