"""Secrets the service must give back in clear (a phone's SIP password in its provisioning file,
a carrier's password in a trunk's REGISTER), sealed at rest with Fernet (AES-128-CBC + HMAC-SHA256,
from ``cryptography``, already a dependency for TLS certificates).

The key is ``CENTREX_SECRET_KEY`` (a Fernet key: 32 random bytes, URL-safe base64; ``python -c
"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``) when set — kept
outside the database, so a stolen dump alone opens nothing — else a key made at first use in the
store's ``service_keys`` (name ``sealing``), the same on every node. Several keys may be given,
comma-separated, newest first: the first seals, any opens (rotation).
"""

from __future__ import annotations

import base64
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from centrex.store.models.bans import ServiceKey

KEY_NAME = "sealing"
ENV = "CENTREX_SECRET_KEY"


class SealError(ValueError):
    """A sealed value no configured key opens (the key was changed without keeping the old one)."""


def _stored_key(session: Session) -> bytes:
    found = session.get(ServiceKey, KEY_NAME)
    if found is None:
        try:
            with session.begin_nested():
                session.add(ServiceKey(name=KEY_NAME, value=os.urandom(32).hex()))
        except IntegrityError:
            pass  # another node made it first: use theirs
        found = session.get(ServiceKey, KEY_NAME)
        assert found is not None
    return base64.urlsafe_b64encode(bytes.fromhex(found.value))


def _box(session: Session) -> MultiFernet:
    configured = [k.strip() for k in os.environ.get(ENV, "").split(",") if k.strip()]
    keys = [k.encode() for k in configured] if configured else [_stored_key(session)]
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise SealError(f"{ENV}: each key must be a Fernet key (32 bytes, URL-safe base64)") from exc


def seal(session: Session, plaintext: str) -> str:
    return _box(session).encrypt(plaintext.encode()).decode()


def unseal(session: Session, sealed: str) -> str:
    try:
        return _box(session).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealError("a sealed secret could not be opened with the configured keys") from None
