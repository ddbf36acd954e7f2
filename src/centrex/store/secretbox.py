"""Secrets the service must read back (webhook signing keys), encrypted at rest with a key kept
outside the database (issue 19 part 6).

Fernet (``cryptography``: AES-128-CBC with HMAC-SHA256, a timestamped token) was chosen over a
hand-rolled AES-GCM because it is authenticated, versioned and hard to misuse. The key is a file
(setting ``secrets_key_file``; default ``<data dir>/secret.key``), made 0600 on first use; a
stolen database or backup of it alone does not reveal the secrets. Keep the key file out of the
database's backups, and back it up on its own (docs/deployment.md, "Secrets").

A stored value is ``enc:v1:<fernet token>``; ``EncryptedText`` encrypts on write and decrypts on read,
so code above the model sees the plaintext. Migration 0023 encrypts rows written before.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Dialect, String, TypeDecorator

log = logging.getLogger(__name__)
PREFIX = "enc:v1:"
_lock = threading.Lock()
_path: Path | None = None
_fernet: Fernet | None = None


class SecretKeyError(RuntimeError):
    pass


def configure(path: Path | str) -> None:
    """Use the key in ``path`` (made if missing). Called at start by ``centrex serve`` and the CLI."""
    global _path, _fernet
    with _lock:
        if _path != Path(path):
            _path, _fernet = Path(path), None


def key_path() -> Path:
    if _path is not None:
        return _path
    from centrex.config import Settings  # not configured (a library user, a test): the settings' path

    return Settings().secrets_key_path


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``; a new one written 0600 (O_EXCL: two processes starting agree) if none."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key


def _box() -> Fernet:
    global _fernet
    with _lock:
        if _fernet is None:
            path = key_path()
            try:
                _fernet = Fernet(load_or_create_key(path))
            except (ValueError, OSError) as exc:
                raise SecretKeyError(f"secrets_key_file {path}: {exc}") from None
        return _fernet


def encrypt(plaintext: str) -> str:
    if plaintext.startswith(PREFIX):
        return plaintext  # already encrypted
    return PREFIX + _box().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before encryption (migration 0023 encrypts these)
    try:
        return _box().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretKeyError(
            f"a stored secret does not open with the key in {key_path()}: the key file was changed or lost"
        ) from None


class EncryptedText(TypeDecorator[str]):
    """A string column kept encrypted (``enc:v1:`` + Fernet token) in the database.

    A value that does not open (the key file changed or lost) reads as None with an error in the
    log naming the key file: the row stays usable, as one without a secret (a 911 webhook is then
    sent unsigned: telling someone of a 911 call matters more than the signature, and the contacts'
    e-mails must not fail with it)."""

    impl = String(500)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return decrypt(value)
        except SecretKeyError as exc:
            log.error("secret.unreadable %s", exc)
            return None
