"""A 911 call as the switch reports it: the caller's registered location and the notice the
tenant's contacts are sent (issue #6 point 6). Data only, shared by the switch and e911/."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from centrex.e911.address import CivicAddress


@dataclass(frozen=True, slots=True)
class EmergencyLocation:
    """A caller's registered dispatchable location (e911_locations), as the 911 INVITE carries it."""

    address: CivicAddress
    psap: str | None = None
    esn: str | None = None


@dataclass(frozen=True, slots=True)
class EmergencyCallPlaced:
    """A 911 call started: the tenant's designated contacts are told (issue #6 point 6)."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None
    caller_name: str
    extension: str
    callback: str | None  # E.164 ANI
    location: EmergencyLocation | None
    dialled: str
    at: datetime
    routed: bool  # False: no emergency route answered our INVITE attempt list (logged critical)


class EmergencyServices(Protocol):
    """The store side of 911 (e911/emergency_store.py StoreEmergency; tests use a fake)."""

    def location(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, device_id: uuid.UUID | None
    ) -> EmergencyLocation | None: ...
    def placed(self, call: EmergencyCallPlaced) -> None: ...
