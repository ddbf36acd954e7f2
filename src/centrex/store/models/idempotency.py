"""Idempotency-Key records (api/idempotency.py): the first 2xx answer to a caller's key, kept 24 h
in the database so a retry is answered the same after a restart or by another node."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row


class IdempotencyRecord(Base, Row):
    """`caller` is the SHA-256 of the request's Authorization header (no token is stored);
    `fingerprint` the SHA-256 of its method, path, query and body."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    body: Mapped[bytes] = mapped_column(LargeBinary)
