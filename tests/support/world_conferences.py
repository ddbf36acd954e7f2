"""World rows of conference bridges (issue 4 point 6): per tenant one bridge with a PIN and a spare
one (so it can be deleted), on numbers no other row of the world uses."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.credentials import hash_password
from centrex.store.models.conferences import ConferenceBridge
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    bridge = ConferenceBridge(
        tenant_id=tw.id, name="All hands", extension="7700", pin_hash=hash_password("4321")
    )
    spare = ConferenceBridge(tenant_id=tw.id, name="Spare room", extension="7701")
    session.add_all([bridge, spare])
    session.flush()
    tw.ids.update(conference=bridge.id, spare_conference=spare.id)
