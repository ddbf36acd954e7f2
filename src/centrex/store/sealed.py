"""Secrets the service must give back in clear (a phone's SIP password in its provisioning file,
a carrier's password in a trunk's REGISTER), sealed at rest with the one key kept outside the
database (store/secretbox.py: the ``secrets_key_file``, Fernet), like webhook signing secrets.

A stolen database or backup alone opens none of them; every node must share the key file
(docs/deployment.md, "Secrets"). The session argument is kept for callers that seal inside a
transaction; the key does not live in the store.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store import secretbox


class SealError(ValueError):
    """A sealed value the key file does not open (the key was changed or lost)."""


def seal(session: Session, plaintext: str) -> str:
    try:
        return secretbox.encrypt(plaintext)
    except secretbox.SecretKeyError as exc:
        raise SealError(str(exc)) from None


def unseal(session: Session, sealed: str) -> str:
    if not sealed.startswith(secretbox.PREFIX):
        raise SealError("a sealed secret is not in the key file's format (enc:v1:)")
    try:
        return secretbox.decrypt(sealed)
    except secretbox.SecretKeyError as exc:
        raise SealError(str(exc)) from None
