"""Answers about a tenant's extension read from the store, kept ``ttl`` seconds, misses included:
a change made through the API reaches the switch within that time, and a scanner dialling every
extension costs no query each. Subclasses say how to ``load`` one answer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


class ExtensionCache(Generic[T]):
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
        self._cache: dict[tuple[uuid.UUID, str], tuple[float, T | None]] = {}

    def __call__(self, tenant_id: uuid.UUID, extension: str) -> T | None:
        key, now = (tenant_id, extension), self.clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = self.load(tenant_id, extension)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, value)
        return value

    def load(self, tenant_id: uuid.UUID, extension: str) -> T | None:
        raise NotImplementedError
