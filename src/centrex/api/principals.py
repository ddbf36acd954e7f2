"""Who a bearer token is (and which tenants exist), remembered for a moment so a busy integration
is not re-authenticated (five queries) on every request.

An entry lives TTL_SECONDS at most. Any change the API itself commits to tokens, designations,
CPNI grants, users, tenants or operators forgets every entry at once, so within this process a
revoked token or a removed role stops working with the next request; a change made elsewhere (the
CLI, another node) takes effect within TTL_SECONDS.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.access import Principal
from centrex.store.models import ApiToken, CpniGrant, Operator, Tenant, TenantDesignation, User

TTL_SECONDS = 2.0
MAX_ENTRIES = 10_000
AUTH_MODELS = (ApiToken, CpniGrant, Operator, Tenant, TenantDesignation, User)
# A user's columns that a principal is made of (store/access.py authenticate: the tenant, and the
# extension in the principal's label); a MAC of the name or forwarding leaves principals valid.
USER_AUTH_COLUMNS = ("tenant_id", "extension")


def _auth_dirty(obj: Any) -> bool:
    if not isinstance(obj, User):
        return True
    state = inspect(obj)  # in after_flush the attributes' history is still the flushed change
    return any(state.attrs[name].history.has_changes() for name in USER_AUTH_COLUMNS)


class PrincipalCache:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._tenants: dict[uuid.UUID, float] = {}  # tenants seen to exist, until when
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

    def tenant_known(self, tenant_id: uuid.UUID) -> bool:
        """Whether `tenant_id` was seen to exist within TTL_SECONDS (forgotten with the tokens)."""
        until = self._tenants.get(tenant_id)
        return until is not None and until >= time.monotonic()

    def remember_tenant(self, tenant_id: uuid.UUID) -> None:
        with self._lock:
            if len(self._tenants) >= MAX_ENTRIES:
                self._tenants.clear()
            self._tenants[tenant_id] = time.monotonic() + self.ttl

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tenants.clear()

    def watch(self, factory: sessionmaker[Session]) -> None:
        """Forget everything when a session of `factory` commits a change to who may do what."""

        @event.listens_for(factory, "after_flush")
        def _flushed(session: Session, _ctx: Any) -> None:
            changed = (*session.new, *session.deleted, *(o for o in session.dirty if _auth_dirty(o)))
            if any(isinstance(obj, AUTH_MODELS) for obj in changed):
                session.info["auth_changed"] = True

        @event.listens_for(factory, "after_commit")
        def _committed(session: Session) -> None:
            if session.info.pop("auth_changed", False):
                self.clear()
