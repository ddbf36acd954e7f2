"""World rows of paging groups (issue 17 §3): per tenant one group paging the end user and a spare
one (so it can be deleted), on numbers no other row of the world uses."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.models.paging import PagingGroup, PagingGroupMember
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    group = PagingGroup(tenant_id=tw.id, name="Warehouse", extension="7750")
    spare = PagingGroup(tenant_id=tw.id, name="Spare page", extension="7751")
    session.add_all([group, spare])
    session.flush()
    session.add(
        PagingGroupMember(tenant_id=tw.id, paging_group_id=group.id, user_id=tw.ids["end_user"], position=0)
    )
    session.flush()
    tw.ids.update(paging_group=group.id, spare_paging_group=spare.id)
