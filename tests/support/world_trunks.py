"""World rows of the routing family (issue 6 point 5): per tenant a carrier trunk with a primary
and a secondary gateway (§I.4) and an outbound route, a 911 trunk with the default emergency route,
the tenant's own pbx trunk (no DID routed to it), and a spare carrier trunk nothing uses (so it can
be deleted). Operator rows carry the tenant's label in their names only to stay unique."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.models.trunks import (
    EmergencyRouteRow,
    GatewayRole,
    OutboundRouteRow,
    TrunkGatewayRow,
    TrunkKind,
    TrunkRow,
)
from tests.support.world import TenantWorld

# Documentation addresses (RFC 5737): one /24 per tenant of the world.
NET = {"alpha.example.com": 10, "beta.example.com": 20}


def extend(session: Session, tw: TenantWorld) -> None:
    label, n = tw.domain.split(".")[0], NET[tw.domain]
    carrier = TrunkRow(name=f"carrier-{label}", kind=TrunkKind.CARRIER)
    e911 = TrunkRow(name=f"e911-{label}", kind=TrunkKind.EMERGENCY)
    pbx = TrunkRow(name=f"pbx-{label}", kind=TrunkKind.PBX, tenant_id=tw.id)
    spare = TrunkRow(name=f"spare-{label}", kind=TrunkKind.CARRIER, enabled=False)
    session.add_all([carrier, e911, pbx, spare])
    session.flush()
    session.add_all(
        [
            TrunkGatewayRow(trunk_id=carrier.id, host=f"192.0.2.{n}"),
            TrunkGatewayRow(trunk_id=carrier.id, host=f"198.51.100.{n}", role=GatewayRole.SECONDARY),
            TrunkGatewayRow(trunk_id=e911.id, host=f"192.0.2.{n + 1}"),
            TrunkGatewayRow(trunk_id=pbx.id, host=f"203.0.113.{n}"),
            TrunkGatewayRow(trunk_id=spare.id, host=f"192.0.2.{n + 2}"),
        ]
    )
    route = OutboundRouteRow(trunk_id=carrier.id, prefix="1", call_classes=[])
    emergency = EmergencyRouteRow(trunk_id=e911.id, psap=None)
    session.add_all([route, emergency])
    session.flush()
    tw.ids.update(
        carrier_trunk=carrier.id,
        e911_trunk=e911.id,
        pbx_trunk=pbx.id,
        spare_trunk=spare.id,
        outbound_route=route.id,
        emergency_route=emergency.id,
    )
