"""Settlement-free peering (issue 19 part 4; peering-policy.txt): our POPs, peers with their
emergency contacts, sessions and agreed prefixes, de-peering, and each POP's BIRD configuration.
The operator's alone (404 to anyone else, as for every operator-wide route); every change audited.
The rules live in ops/peering_policy.py, the records in ops/peering.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from centrex.api.deps import OperatorDep
from centrex.api.fields import E164, Out
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.ops import peering
from centrex.store.models.peering import Peer, PeeringPop

router = APIRouter(tags=["peering"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])

Asn = Field(ge=1, le=4294967295, description="a public AS number")


class PopIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=32, pattern=r"^[a-z0-9-]+$", description="short name, e.g. chi1"
    )
    facility: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    meet_me_room: bool = False
    router_id: str = Field(max_length=15, description="our router's BGP router id (IPv4)")
    local_asn: int = Asn


class PopOut(Out):
    id: uuid.UUID
    name: str
    facility: str
    city: str
    meet_me_room: bool
    router_id: str
    local_asn: int


class PeerContactIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: E164
    email: str = Field(min_length=3, max_length=320)


class PeerSessionIn(BaseModel):
    pop: str = Field(min_length=1, max_length=36, description="one of our POPs, by name or id")
    neighbor: str = Field(max_length=45, description="the peer's router address")
    connection: Literal["meet_me_room", "cross_connect"] = "cross_connect"
    local_address: str | None = Field(None, max_length=45)


class PeerPrefixIn(BaseModel):
    prefix: str = Field(max_length=49)
    direction: Literal["import", "export"] = Field(description="import: theirs, we accept; export: ours")


class PeerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    asn: int = Asn
    notes: str = Field("", max_length=2000)
    contacts: list[PeerContactIn] = Field(min_length=1, max_length=20, description="emergency contacts")
    sessions: list[PeerSessionIn] = Field(min_length=1, max_length=20)
    prefixes: list[PeerPrefixIn] = Field(
        min_length=1, max_length=500, description="agreed in advance of peering"
    )


class PeerContactOut(BaseModel):
    name: str
    phone: str
    email: str


class PeerSessionOut(BaseModel):
    pop: str
    neighbor: str
    local_address: str | None
    connection: str


class PeerPrefixOut(BaseModel):
    prefix: str
    direction: str


class PeerOut(BaseModel):
    id: uuid.UUID
    name: str
    asn: int
    notes: str
    status: Literal["active", "depeered"]
    depeered_at: datetime | None
    depeer_reason: str | None
    contacts: list[PeerContactOut]
    sessions: list[PeerSessionOut]
    prefixes: list[PeerPrefixOut]


class DepeerIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def peer_out(peer: Peer) -> PeerOut:
    return PeerOut(
        id=peer.id,
        name=peer.name,
        asn=peer.asn,
        notes=peer.notes,
        status="depeered" if peer.depeered_at else "active",
        depeered_at=peer.depeered_at,
        depeer_reason=peer.depeer_reason,
        contacts=[PeerContactOut(name=c.name, phone=c.phone, email=c.email) for c in peer.contacts],
        sessions=[
            PeerSessionOut(
                pop=s.pop.name, neighbor=s.neighbor, local_address=s.local_address, connection=s.connection
            )
            for s in peer.sessions
        ],
        prefixes=[PeerPrefixOut(prefix=p.prefix, direction=p.direction) for p in peer.prefixes],
    )


def _pop(ops: Any, pop_id: uuid.UUID) -> PeeringPop:
    return peering.find_pop(ops, pop_id)


@router.get("/peering/pops", response_model=list[PopOut])
def list_pops(ops: OperatorDep) -> Any:
    return peering.list_pops(ops)


@router.post("/peering/pops", response_model=PopOut, status_code=201)
def add_pop(body: PopIn, ops: OperatorDep) -> Any:
    return peering.add_pop(
        ops,
        peering.PopSpec(
            body.name, body.facility, body.city, body.router_id, body.local_asn, body.meet_me_room
        ),
    )


@router.get(
    "/peering/pops/{pop_id}/bird.conf",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def bird_conf(pop_id: uuid.UUID, ops: OperatorDep) -> PlainTextResponse:
    """The BIRD 2 configuration of the POP's peering router: one BGP protocol per session of a peer
    that has not de-peered, each with filters of exactly the agreed prefixes and no default route.
    ``centrex peering bird-config --pop NAME`` writes the same and checks it with ``bird -p``."""
    from centrex.ops.peering_bird import render  # Jinja2: loaded by the first request that needs it

    view = peering.active_at(ops, _pop(ops, pop_id))
    text = render(view, generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    return PlainTextResponse(text)


@router.get("/peering/peers", response_model=list[PeerOut])
def list_peers(ops: OperatorDep, include_depeered: bool = False) -> Any:
    return [peer_out(p) for p in peering.list_peers(ops, include_depeered=include_depeered)]


@router.post("/peering/peers", response_model=PeerOut, status_code=201)
def add_peer(body: PeerIn, ops: OperatorDep) -> Any:
    spec = peering.PeerSpec(
        name=body.name,
        asn=body.asn,
        notes=body.notes,
        contacts=[(c.name, c.phone, c.email) for c in body.contacts],
        sessions=[
            peering.SessionSpec(s.pop, s.neighbor, s.connection, s.local_address) for s in body.sessions
        ],
        prefixes=[(p.prefix, p.direction) for p in body.prefixes],
    )
    return peer_out(peering.add_peer(ops, spec))


@router.get("/peering/peers/{peer_id}", response_model=PeerOut)
def get_peer(peer_id: uuid.UUID, ops: OperatorDep) -> Any:
    return peer_out(peering.find_peer(ops, peer_id))


@router.post("/peering/peers/{peer_id}/depeer", response_model=PeerOut)
def depeer(peer_id: uuid.UUID, body: DepeerIn, ops: OperatorDep) -> Any:
    """End the peering now (peering-policy.txt, General Terms: "at will", "at any time"): the
    peer's sessions and filters leave every POP's generated configuration."""
    return peer_out(peering.depeer(ops, peering.find_peer(ops, peer_id), body.reason))
