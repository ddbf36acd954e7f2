"""Peering records: add our POPs, add a peer with everything the policy asks for in one
transaction, list, show, de-peer (ops/peering_policy.py has the rules, peering_bird.py the router
configuration). The API (api/routers/peering.py) and the CLI (``centrex peering``) both call these,
as the operator, through the access layer's ``OperatorData`` so every change is audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from centrex.ops.peering_policy import (
    PolicyError,
    check_connection,
    check_contacts,
    parse_asn,
    parse_neighbor,
    parse_prefixes,
    parse_router_id,
)
from centrex.store.access import OperatorData, snapshot
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models.peering import Peer, PeerContact, PeeringPop, PeerPrefix, PeerSession
from centrex.store.types import utcnow


@dataclass(frozen=True, slots=True)
class PopSpec:
    name: str
    facility: str
    city: str
    router_id: str
    local_asn: int | str
    meet_me_room: bool = False


@dataclass(frozen=True, slots=True)
class SessionSpec:
    pop: str  # a POP's name or id
    neighbor: str
    connection: str = "cross_connect"
    local_address: str | None = None


@dataclass(frozen=True, slots=True)
class PeerSpec:
    name: str
    asn: int | str
    contacts: list[tuple[str, str, str]]  # (name, phone, email)
    sessions: list[SessionSpec]
    prefixes: list[tuple[str, str]]  # (prefix, import | export)
    notes: str = ""


@dataclass
class Active:
    """A POP's router view: the POP and the peers with a session there that have not de-peered."""

    pop: PeeringPop
    peers: list[tuple[Peer, list[PeerSession]]] = field(default_factory=list)


def _invalid(exc: PolicyError) -> Invalid:
    return Invalid(str(exc), field=exc.field, rule=exc.rule)


def add_pop(ops: OperatorData, spec: PopSpec) -> PeeringPop:
    ops.require_operator()
    name = spec.name.strip().lower()
    if not name or not name.replace("-", "").isalnum() or len(name) > 32:
        raise Invalid(f"name must be a short slug (letters, digits, '-'), got {spec.name!r}", "name", "slug")
    if not spec.facility.strip() or not spec.city.strip():
        raise Invalid("facility and city are required", "facility", "required")
    try:
        router_id = str(parse_router_id(spec.router_id))
        local_asn = parse_asn(spec.local_asn, "local_asn")
    except PolicyError as exc:
        raise _invalid(exc) from None
    if ops.session.scalar(select(PeeringPop.id).where(PeeringPop.name == name)) is not None:
        raise Conflict(f"POP {name} exists", field="name", rule="unique")
    return ops.create(
        PeeringPop,
        "peering.pop.add",
        name=name,
        facility=spec.facility.strip(),
        city=spec.city.strip(),
        router_id=router_id,
        local_asn=local_asn,
        meet_me_room=spec.meet_me_room,
    )


def list_pops(ops: OperatorData) -> list[PeeringPop]:
    ops.require_operator()
    return list(ops.session.scalars(select(PeeringPop).order_by(PeeringPop.name)))


def find_pop(ops: OperatorData, ref: str | uuid.UUID) -> PeeringPop:
    ops.require_operator()
    pop: PeeringPop | None = None
    try:
        pop = ops.session.get(PeeringPop, uuid.UUID(str(ref)))
    except ValueError:
        pop = ops.session.scalar(select(PeeringPop).where(PeeringPop.name == str(ref).strip().lower()))
    if pop is None:
        raise NotFound(f"no POP {ref}")
    return pop


def add_peer(ops: OperatorData, spec: PeerSpec) -> Peer:
    """A peer with its contacts, sessions and agreed prefixes, all checked, in one flush."""
    ops.require_operator()
    if not spec.name.strip():
        raise Invalid("name is required", "name", "required")
    try:
        asn = parse_asn(spec.asn)
        contacts = check_contacts(spec.contacts)
        prefixes = parse_prefixes(spec.prefixes)
    except PolicyError as exc:
        raise _invalid(exc) from None
    if active_peer_by_asn(ops, asn) is not None:
        raise Conflict(f"AS{asn} already peers with us; de-peer it first", field="asn", rule="unique")
    if not spec.sessions:
        # peering-policy.txt, Peering with OfficeTone: "you must meet us at one of our Points of
        # Presence (POPs)".
        raise Invalid("sessions: at least one session at one of our POPs is required", "sessions", "required")
    sessions: list[PeerSession] = []
    seen: set[tuple[uuid.UUID, str]] = set()
    for i, s in enumerate(spec.sessions):
        where = f"sessions[{i}]"
        try:
            pop = find_pop(ops, s.pop)
        except NotFound:
            raise Invalid(f"{where}.pop: {s.pop!r} is not one of our POPs", f"{where}.pop", "pop") from None
        try:
            neighbor = parse_neighbor(s.neighbor, f"{where}.neighbor")
            local = parse_neighbor(s.local_address, f"{where}.local_address") if s.local_address else None
            connection = check_connection(s.connection, pop.meet_me_room, pop.name, f"{where}.connection")
        except PolicyError as exc:
            raise _invalid(exc) from None
        if local is not None and local.version != neighbor.version:
            raise Invalid(f"{where}: local and neighbor addresses differ in family", where, "family")
        if (pop.id, str(neighbor)) in seen:
            raise Invalid(
                f"{where}: a session with {neighbor} at {pop.name} is listed twice", where, "unique"
            )
        seen.add((pop.id, str(neighbor)))
        if not any(p.family == neighbor.version for p in prefixes):
            raise Invalid(
                f"{where}: no prefix is agreed for IPv{neighbor.version}, so the session would carry nothing",
                where,
                "prefix_family",
            )
        sessions.append(
            PeerSession(
                pop_id=pop.id,
                pop=pop,
                position=i,
                neighbor=str(neighbor),
                local_address=str(local) if local else None,
                connection=connection.value,
            )
        )
    peer = Peer(name=spec.name.strip(), asn=asn, notes=spec.notes.strip())
    peer.contacts = [
        PeerContact(position=i, name=n, phone=p, email=e) for i, (n, p, e) in enumerate(contacts)
    ]
    peer.sessions = sessions
    peer.prefixes = [
        PeerPrefix(position=i, prefix=str(p.network), direction=p.direction.value)
        for i, p in enumerate(prefixes)
    ]
    ops.session.add(peer)
    ops.session.flush()
    ops.audit("peering.peer.add", Peer.__tablename__, peer.id, None, describe(peer), None)
    return peer


def active_peer_by_asn(ops: OperatorData, asn: int) -> Peer | None:
    return ops.session.scalar(select(Peer).where(Peer.asn == asn, Peer.depeered_at.is_(None)))


def list_peers(ops: OperatorData, include_depeered: bool = False) -> list[Peer]:
    ops.require_operator()
    stmt = select(Peer).order_by(Peer.asn, Peer.created_at)
    if not include_depeered:
        stmt = stmt.where(Peer.depeered_at.is_(None))
    return list(ops.session.scalars(stmt))


def find_peer(ops: OperatorData, ref: str | uuid.UUID) -> Peer:
    """By id, or by ASN ("AS13335", "13335": the active peer of that ASN)."""
    ops.require_operator()
    peer: Peer | None = None
    try:
        peer = ops.session.get(Peer, uuid.UUID(str(ref)))
    except ValueError:
        text = str(ref).strip().upper().removeprefix("AS")
        if text.isdigit():
            peer = active_peer_by_asn(ops, int(text))
    if peer is None:
        raise NotFound(f"no peer {ref}")
    return peer


def depeer(ops: OperatorData, peer: Peer, reason: str, now: datetime | None = None) -> Peer:
    """peering-policy.txt, General Terms: peering is "at will", either side may "discontinue the
    peering relationship at any time" -- no notice period, effective now, recorded with its reason."""
    ops.require_operator()
    if peer.depeered_at is not None:
        raise Conflict(
            f"AS{peer.asn} was de-peered at {peer.depeered_at:%Y-%m-%d %H:%M} UTC", "peer", "depeered"
        )
    if not reason.strip():
        raise Invalid("reason is required: it is the record of why the peering ended", "reason", "required")
    before = snapshot(peer)
    peer.depeered_at = now or utcnow()
    peer.depeer_reason = reason.strip()[:500]
    peer.depeered_by = ops.principal.label[:200]
    ops.session.flush()
    ops.audit("peering.peer.depeer", Peer.__tablename__, peer.id, before, snapshot(peer), None)
    return peer


def active_at(ops: OperatorData, pop: PeeringPop) -> Active:
    """What the router at ``pop`` must carry: peers not de-peered, with their sessions there."""
    ops.require_operator()
    view = Active(pop)
    for peer in list_peers(ops):
        here = [s for s in peer.sessions if s.pop_id == pop.id]
        if here:
            view.peers.append((peer, here))
    return view


def describe(peer: Peer) -> dict[str, object]:
    """A peer as JSON-able data (the audit record and ``centrex peering show --json``)."""
    return {
        "id": str(peer.id),
        "name": peer.name,
        "asn": peer.asn,
        "notes": peer.notes,
        "status": "depeered" if peer.depeered_at else "active",
        "depeered_at": peer.depeered_at.isoformat() if peer.depeered_at else None,
        "depeer_reason": peer.depeer_reason,
        "contacts": [{"name": c.name, "phone": c.phone, "email": c.email} for c in peer.contacts],
        "sessions": [
            {
                "pop": s.pop.name,
                "neighbor": s.neighbor,
                "local_address": s.local_address,
                "connection": s.connection,
            }
            for s in peer.sessions
        ],
        "prefixes": [{"prefix": p.prefix, "direction": p.direction} for p in peer.prefixes],
    }
