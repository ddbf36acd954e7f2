"""Signing the webhooks of our native API, and checking them (issue 16 §3). Pure: no clock, no I/O.

Two schemes on every request, from the same secrets (shared/reference/cpaas-e911-numbers.md §1.3):

- Standard Webhooks (https://www.standardwebhooks.com, the spec's libraries):
      webhook-id: <message id, the same on every retry>
      webhook-timestamp: <unix seconds of this attempt>
      webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")> [v1,<…> …]
  ``key`` is the base64 after ``whsec_``; one ``v1,`` per active secret, space-separated.
- Stripe / jambonz style:
      Centrex-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>[,v1=<hex>…]
  keyed by the whole secret string (as Stripe, and as our 911 notices: e911/notice.py), one
  ``v1=`` per active secret.

A tenant rotating its secret has two active at once for a grace period (cpaas/subscriptions.py):
each request carries a signature by each, so a receiver with either secret accepts it. A receiver
refuses a timestamp more than ``DEFAULT_TOLERANCE_S`` away from its clock (replay window).

The verify functions use only the standard library, so a receiver can copy them (docs/webhooks.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300  # Standard Webhooks and jambonz: five minutes either way
CENTREX_HEADER = "Centrex-Signature"


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after ``whsec_`` (the prefix optional,
    as the spec's libraries accept both)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret must be whsec_ followed by base64") from None


def _as_list(secrets: str | Sequence[str]) -> list[str]:
    return [secrets] if isinstance(secrets, str) else list(secrets)


# -- Standard Webhooks ---------------------------------------------------------------------------
def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (the webhook-signature header holds one per secret)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()


def standard_headers(
    secrets: str | Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(s, msg_id, timestamp, body) for s in _as_list(secrets)
        ),
    }


def verify_standard(
    secrets: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """True if one of the header's ``v1,`` signatures is by one of ``secrets`` and the timestamp is
    within ``tolerance_s`` of ``now`` (unix seconds)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    given = lower.get("webhook-signature", "").split()
    for secret in _as_list(secrets):
        try:
            expected = standard_signature(secret, msg_id, timestamp, body)
        except ValueError:
            continue
        if any(hmac.compare_digest(expected, sig) for sig in given):
            return True
    return False


# -- Stripe / jambonz: Centrex-Signature ---------------------------------------------------------
def hex_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed by the secret string."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def centrex_signature(secrets: str | Sequence[str], timestamp: int, body: bytes) -> str:
    """The Centrex-Signature value: ``t=<unix>`` then one ``v1=<hex>`` per active secret."""
    return ",".join(
        [f"t={timestamp}", *(f"v1={hex_signature(s, timestamp, body)}" for s in _as_list(secrets))]
    )


def verify_centrex(
    secrets: str | Sequence[str], header: str, body: bytes, now: float, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> bool:
    """True if the header has exactly one ``t=`` within ``tolerance_s`` of ``now`` and a ``v1=`` made
    with one of ``secrets``.

    A receiver's copy (standard library only)::

        import hashlib, hmac

        def verify(secret, header, body, now, tolerance_s=300):
            items = [p.split("=", 1) for p in header.split(",") if "=" in p]
            stamps = [v.strip() for k, v in items if k.strip() == "t"]
            sigs = [v.strip() for k, v in items if k.strip() == "v1"]
            if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance_s:
                return False
            mac = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
            return any(hmac.compare_digest(mac, s) for s in sigs)
    """
    items = [part.split("=", 1) for part in header.split(",") if "=" in part]
    stamps = [value.strip() for key, value in items if key.strip() == "t"]
    given = [value.strip() for key, value in items if key.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not given:
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance_s:
        return False
    for secret in _as_list(secrets):
        expected = hex_signature(secret, timestamp, body)
        if any(hmac.compare_digest(expected, sig) for sig in given):
            return True
    return False


def signed_headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Both schemes' headers for one attempt (none when the endpoint has no secret)."""
    if not secrets:
        return {}
    return {
        **standard_headers(secrets, msg_id, timestamp, body),
        CENTREX_HEADER: centrex_signature(secrets, timestamp, body),
    }
