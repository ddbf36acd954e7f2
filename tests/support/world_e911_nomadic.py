"""World rows of nomadic use: the world's device registered first from its office network and now
from a network where its 911 location was not confirmed. (No webhook contact: other families' tests
count the world's 911 contacts.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from centrex.store.models.e911_nomadic import DeviceNetwork
from tests.support.world import TenantWorld

OFFICE_NETWORK = "198.51.100.0/24"
CAFE_NETWORK = "203.0.113.0/24"


def extend(session: Session, tw: TenantWorld) -> None:
    earlier = datetime.now(UTC) - timedelta(days=3)
    office = DeviceNetwork(
        tenant_id=tw.id,
        device_id=tw.ids["device"],
        network=OFFICE_NETWORK,
        first_seen=earlier,
        last_seen=earlier,
        location_confirmed_at=earlier,
        confirmed_by="first registration",
    )
    cafe = DeviceNetwork(
        tenant_id=tw.id,
        device_id=tw.ids["device"],
        network=CAFE_NETWORK,
        first_seen=earlier + timedelta(days=1),
        last_seen=earlier + timedelta(days=1),
    )
    session.add_all([office, cafe])
    session.flush()
