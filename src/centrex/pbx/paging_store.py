"""Paging groups from the store for the switch (pbx/paging.py ``Paging.groups``).

``StorePaging(tenant_id, extension)`` is the group with that extension (members in their order) or
None; answers, misses included, are kept ``ttl`` seconds (pbx/extension_cache.py), so a change made
through the API reaches the switch within that time and a scanner costs no query per extension.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from centrex.pbx.extension_cache import ExtensionCache
from centrex.pbx.paging import PagingGroupInfo
from centrex.store.models.paging import PagingGroup, PagingGroupMember


class StorePaging(ExtensionCache[PagingGroupInfo]):
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
