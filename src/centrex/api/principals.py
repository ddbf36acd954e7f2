"""Who a bearer token is, remembered for a moment so a busy integration is not re-authenticated
(five queries) on every request.

An entry lives TTL_SECONDS at most. Any change the API itself commits to tokens, designations,
CPNI grants, users, tenants or operators forgets every entry at once, so within this process a
revoked token or a removed role stops working with the next request; a change made elsewhere (the
CLI, another node) takes effect within TTL_SECONDS.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.access import Principal
from centrex.store.models import ApiToken, CpniGrant, Operator, Tenant, TenantDesignation, User

TTL_SECONDS = 2.0
MAX_ENTRIES = 10_000
AUTH_MODELS = (ApiToken, CpniGrant, Operator, Tenant, TenantDesignation, User)


class PrincipalCache:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()  # dependencies run in worker threads

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()  # no plaintext token kept in memory

    def get(self, token: str) -> Principal | None:
        key = self._key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[self._key(token)] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def watch(self, factory: sessionmaker[Session]) -> None:
        """Forget everything when a session of `factory` commits a change to who may do what."""

        @event.listens_for(factory, "after_flush")
        def _flushed(session: Session, _ctx: Any) -> None:
            changed = (*session.new, *session.dirty, *session.deleted)
            if any(isinstance(obj, AUTH_MODELS) for obj in changed):
                session.info["auth_changed"] = True

        @event.listens_for(factory, "after_commit")
        def _committed(session: Session) -> None:
            if session.info.pop("auth_changed", False):
                self.clear()
