"""Paging groups from the store for the switch (pbx/paging.py ``Paging.groups``).

``StorePaging(tenant_id, extension)`` is the group with that extension (members in their order) or
None; answers, misses included, are kept ``ttl`` seconds like ConferenceLookup's, so a change made
through the API reaches the switch within that time and a scanner costs no query per extension.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.pbx.paging import PagingGroupInfo
from centrex.store.models.paging import PagingGroup, PagingGroupMember


class StorePaging:
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
        self._cache: dict[tuple[uuid.UUID, str], tuple[float, PagingGroupInfo | None]] = {}

    def __call__(self, tenant_id: uuid.UUID, extension: str) -> PagingGroupInfo | None:
        key, now = (tenant_id, extension), self.clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = self.load(tenant_id, extension)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[key] = (now + self.ttl, value)
        return value

    def load(self, tenant_id: uuid.UUID, extension: str) -> PagingGroupInfo | None:
        with self._sessions() as s:
            group = s.scalar(
                select(PagingGroup).where(
                    PagingGroup.tenant_id == tenant_id, PagingGroup.extension == extension
                )
            )
            if group is None:
                return None
            members = s.scalars(
                select(PagingGroupMember.user_id)
                .where(
                    PagingGroupMember.tenant_id == tenant_id, PagingGroupMember.paging_group_id == group.id
                )
                .order_by(PagingGroupMember.position)
            ).all()
            return PagingGroupInfo(group.id, tenant_id, group.name, group.extension, tuple(members))
