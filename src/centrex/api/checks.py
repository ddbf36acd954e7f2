"""Cross-row checks that give a 409 or 422 naming the field before the database would refuse."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from centrex.store.access import TenantData
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import HuntGroup, NumberTarget, Site, User
from centrex.store.models.attendants import AttendantMenu
from centrex.store.models.base import Base
from centrex.store.models.conferences import ConferenceBridge
from centrex.store.models.cpaas_voice import Application
from centrex.store.models.paging import PagingGroup
from centrex.store.models.queues import CallQueue


def extension_free(data: TenantData, extension: str, exclude: uuid.UUID | None = None) -> None:
    """Users, hunt groups, call-center queues, attendant menus, conference bridges and paging
    groups (issue 17 §3) and voice applications (issue 16 §1) share one extension plan per tenant
    (the switch routes an extension to the first it finds)."""
    for model in (User, HuntGroup, CallQueue, AttendantMenu, ConferenceBridge, PagingGroup, Application):
        stmt = select(model.id).where(model.tenant_id == data.tenant_id, model.extension == extension)
        found = data.session.scalar(stmt)
        if found is not None and found != exclude:
            raise Conflict(f"extension {extension} is already in use", field="extension", rule="unique")


def same_tenant(data: TenantData, model: type[Base], obj_id: uuid.UUID | None, field: str) -> None:
    """A reference to another row must point inside the same tenant (422, not 404: the body is wrong)."""
    if obj_id is None:
        return
    obj: Any = data.session.get(model, obj_id)
    if obj is None or obj.tenant_id != data.tenant_id:
        raise Invalid(
            f"{field} {obj_id} does not name a {model.__tablename__.rstrip('s')} of this tenant",
            field=field,
            rule="exists_in_tenant",
        )


TARGET_MODELS: dict[NumberTarget, type[Base]] = {
    NumberTarget.USER: User,
    NumberTarget.HUNT_GROUP: HuntGroup,
    NumberTarget.QUEUE: CallQueue,  # the engine routes a DID's "queue" target (calls/engine.py)
    NumberTarget.APP: Application,  # a voice application (routing/trunk_calls.py, issue 16 §1)
}


def site_ref(data: TenantData, site_id: uuid.UUID | None) -> None:
    same_tenant(data, Site, site_id, "site_id")
