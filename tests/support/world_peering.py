"""World rows of the peering family (issue 19 part 4): per tenant of the world one of our POPs and
one active peer meeting us there (operator data; the tenant only makes the names distinct)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.models.peering import Peer, PeerContact, PeeringPop, PeerPrefix, PeerSession
from tests.support.world import TenantWorld

NET = {"alpha.example.com": 10, "beta.example.com": 20}


def extend(session: Session, tw: TenantWorld) -> None:
    n = NET[tw.domain]
    pop = PeeringPop(
        name=f"pop{n}",
        facility="350 E Cermak Rd",
        city="Chicago",
        meet_me_room=True,
        router_id=f"23.128.0.{n}",
        local_asn=397000,
    )
    peer = Peer(name=f"Peer {n}", asn=394000 + n, notes="")
    peer.contacts = [PeerContact(position=0, name="NOC", phone="+13125550100", email="noc@peer.example")]
    peer.sessions = [PeerSession(position=0, pop=pop, neighbor=f"206.223.119.{n}", connection="meet_me_room")]
    peer.prefixes = [
        PeerPrefix(position=0, prefix=f"23.{140 + n}.0.0/22", direction="import"),
        PeerPrefix(position=1, prefix="23.128.0.0/22", direction="export"),
    ]
    session.add_all([pop, peer])
    session.flush()
    tw.ids["peering_pop"] = pop.id
    tw.ids["peer"] = peer.id
