"""Extensions that belong to apps of the app server other than attendants: conference bridges.

The engine asks ``ConferenceLookup(tenant_id, extension)`` for an extension that is no user,
hunt group or queue; the answer is the app's Request-URI user (``conf.<bridge id>``) or None.
Answers, misses included, are kept ``ttl`` seconds (a scanner dialling every extension must not
cost a query each time).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.models.conferences import ConferenceBridge


class ConferenceLookup:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._cache: dict[tuple[uuid.UUID, str], tuple[float, str | None]] = {}

    def __call__(self, tenant_id: uuid.UUID, extension: str) -> str | None:
        key, now = (tenant_id, extension), self.clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._sessions() as s:
            bridge = s.scalar(
                select(ConferenceBridge.id).where(
                    ConferenceBridge.tenant_id == tenant_id, ConferenceBridge.extension == extension
                )
            )
        value = f"conf.{bridge}" if bridge is not None else None
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, value)
        return value
