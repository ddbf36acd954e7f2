"""The routing table and DID routes from the database, for the call engine.

``load_routing_table`` reads the enabled trunks with their gateways and the routes that use them
(four queries, whatever the size). ``StoreRoutes`` keeps the table ``ttl_s`` seconds, so a call
costs a dictionary lookup and a change made through the API is used within ``ttl_s``; it answers
"where does a call to this DID go" the same way (``number``), negative answers included, because
the engine asks it for every incoming call.

The rows' enumerations are store/models/trunks.py's; this module turns them into
routing/model.py's (the values are the same, tested). The operator's changes (api/routers/trunks.py)
come through the functions at the end: checked by rules.py, through OperatorData, audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import Enum
from typing import Any, TypeAlias

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.numbers.classes import CallClass
from centrex.numbers.storage import Problem, ProblemList
from centrex.routing.credentials import with_credentials
from centrex.routing.model import (
    EmergencyRoute,
    Gateway,
    GatewayRole,
    NumberRoute,
    OutboundRoute,
    RoutingTable,
    Trunk,
    TrunkKind,
)
from centrex.routing.rules import (
    RuleError,
    check_emergency_route,
    check_outbound_route,
    check_trunk,
    parse_call_classes,
    trunk_keeps_its_routes,
)
from centrex.store.access import OperatorData, snapshot
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import NumberStatus, NumberTarget, PhoneNumber, Site, Tenant
from centrex.store.models.trunks import (
    EmergencyRouteRow,
    NumberFormat,
    OutboundRouteRow,
    SipTransport,
    TrunkGatewayRow,
    TrunkRow,
)
from centrex.store.models.trunks import GatewayRole as StoreGatewayRole
from centrex.store.models.trunks import TrunkKind as StoreTrunkKind

Sessions: TypeAlias = Session | sessionmaker[Session]
_CLASSES = {c.value: c for c in CallClass}


def gateway_of(row: TrunkGatewayRow) -> Gateway:
    return Gateway(
        id=row.id,
        host=row.host,
        port=row.port,
        transport=row.transport.value,
        role=GatewayRole(row.role.value),
        position=row.position,
    )


def trunk_of(row: TrunkRow, gateways: Iterable[TrunkGatewayRow]) -> Trunk:
    ordered = sorted(gateways, key=lambda g: (g.role.value != "primary", g.position))
    return Trunk(
        id=row.id,
        name=row.name,
        kind=TrunkKind(row.kind.value),
        gateways=tuple(gateway_of(g) for g in ordered),
        tenant_id=row.tenant_id,
        inbound_networks=tuple(row.inbound_networks or ()),
        agreed_prefixes=tuple(row.agreed_prefixes or ()),
        trusted=row.trusted,
        number_format=row.number_format.value,
        tech_prefix=row.tech_prefix,
        enabled=row.enabled,
        max_calls=row.max_calls,
        max_cps=row.max_cps,
        site_id=row.site_id,
        origin_npa_nxx=row.origin_npa_nxx,
        origin_state=row.origin_state,
    )


def call_classes_of(values: Iterable[str]) -> frozenset[CallClass]:
    # Values were checked on the way in (rules.parse_call_classes); one retired since is ignored.
    return frozenset(_CLASSES[v] for v in values if v in _CLASSES)


def route_of(row: OutboundRouteRow) -> OutboundRoute:
    return OutboundRoute(
        id=row.id,
        trunk_id=row.trunk_id,
        prefix=row.prefix,
        call_classes=call_classes_of(row.call_classes or ()),
        priority=row.priority,
        weight=row.weight,
        tenant_id=row.tenant_id,
    )


def emergency_of(row: EmergencyRouteRow) -> EmergencyRoute:
    return EmergencyRoute(id=row.id, trunk_id=row.trunk_id, psap=row.psap, priority=row.priority)


def gateways_by_trunk(
    session: Session, trunk_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, list[TrunkGatewayRow]]:
    stmt = select(TrunkGatewayRow)
    if trunk_ids is not None:
        stmt = stmt.where(TrunkGatewayRow.trunk_id.in_(list(trunk_ids)))
    out: dict[uuid.UUID, list[TrunkGatewayRow]] = {}
    for g in session.scalars(stmt):
        out.setdefault(g.trunk_id, []).append(g)
    return out


def load_routing_table(session: Session) -> RoutingTable:
    """The enabled trunks and the routes to them. Routes to a disabled trunk are left out with it,
    so the engine never sees a route it cannot use."""
    rows = list(session.scalars(select(TrunkRow).where(TrunkRow.enabled.is_(True)).order_by(TrunkRow.name)))
    gws = gateways_by_trunk(session)
    trunks = {r.id: trunk_of(r, gws.get(r.id, ())) for r in rows}
    # Plain column tuples, not ORM objects: routes are the big table, and this runs every ttl_s
    # seconds on the event loop (measured: half the time of loading whole rows).
    r = OutboundRouteRow
    routes = tuple(
        OutboundRoute(
            id=rid,
            trunk_id=trunk_id,
            prefix=prefix,
            call_classes=call_classes_of(classes or ()),
            priority=priority,
            weight=weight,
            tenant_id=tenant_id,
        )
        for rid, trunk_id, prefix, classes, priority, weight, tenant_id in session.execute(
            select(r.id, r.trunk_id, r.prefix, r.call_classes, r.priority, r.weight, r.tenant_id).order_by(
                r.priority, r.id
            )
        )
        if trunk_id in trunks
    )
    er = EmergencyRouteRow
    emergency = tuple(
        EmergencyRoute(id=eid, trunk_id=trunk_id, psap=psap, priority=priority)
        for eid, trunk_id, psap, priority in session.execute(
            select(er.id, er.trunk_id, er.psap, er.priority).order_by(er.priority, er.id)
        )
        if trunk_id in trunks
    )
    # Digest credentials and registrations of carrier trunks (routing/credentials.py, issue 17 §5).
    return with_credentials(session, RoutingTable(trunks=trunks, routes=routes, emergency=emergency))


def _number_route(session: Session, e164: str) -> NumberRoute | None:
    row = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
    if (
        row is None
        or row.status is not NumberStatus.ASSIGNED
        or row.tenant_id is None
        or row.target_type is None
    ):
        return None
    return NumberRoute(
        e164=row.e164, tenant_id=row.tenant_id, target_type=row.target_type.value, target_id=row.target_id
    )


def number_route(sessions: Sessions, e164: str) -> NumberRoute | None:
    """Where an incoming call to ``e164`` goes: the tenant and the MAC 9 target of an assigned DID,
    or None (not ours, in the pool, reserved but not routed)."""
    if isinstance(sessions, Session):
        return _number_route(sessions, e164)
    with sessions() as session:
        return _number_route(session, e164)


class StoreRoutes:
    """The routing table and DID routes, each kept ``ttl_s`` seconds (the pattern of
    calls/directory.py ``CachedDirectory``). ``now`` is the caller's monotonic clock."""

    def __init__(
        self, sessions: sessionmaker[Session], ttl_s: float = 2.0, max_numbers: int = 100_000
    ) -> None:
        self._sessions = sessions
        self.ttl_s = ttl_s
        self.max_numbers = max_numbers
        self._table: tuple[float, RoutingTable] | None = None
        self._numbers: dict[str, tuple[float, NumberRoute | None]] = {}

    def table(self, now: float) -> RoutingTable:
        if self._table is not None and self._table[0] > now:
            return self._table[1]
        with self._sessions() as session:
            table = load_routing_table(session)
        self._table = (now + self.ttl_s, table)
        return table

    def number(self, e164: str, now: float) -> NumberRoute | None:
        hit = self._numbers.get(e164)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = number_route(self._sessions, e164)
        if len(self._numbers) >= self.max_numbers:
            self._numbers.clear()  # a scanner dialling every number must not grow this without end
        self._numbers[e164] = (now + self.ttl_s, value)
        return value

    def invalidate(self) -> None:
        """Forget everything: the next call reads the store (after a change made in this process)."""
        self._table = None
        self._numbers.clear()


# --- changes through the access layer (the API's operator routes) ----------------------------------
#
# Trunks and routes are the operator's: every function below goes through OperatorData (404 to
# anyone else) and writes one audit entry per change in the same transaction. A trunk's gateways
# are part of the trunk: given and audited with it.


def _raise_problems(errors: list[RuleError], message: str) -> None:
    if errors:
        raise ProblemList(message, [Problem(e.field, e.message, e.rule) for e in errors])


def _gateway_snapshot(g: TrunkGatewayRow) -> dict[str, Any]:
    return {
        "host": g.host,
        "port": g.port,
        "transport": g.transport.value,
        "role": g.role.value,
        "position": g.position,
    }


def trunk_gateways(session: Session, trunk_id: uuid.UUID) -> list[TrunkGatewayRow]:
    stmt = select(TrunkGatewayRow).where(TrunkGatewayRow.trunk_id == trunk_id)
    return sorted(session.scalars(stmt), key=lambda g: (g.role.value != "primary", g.position))


def trunk_snapshot(session: Session, row: TrunkRow) -> dict[str, Any]:
    return {**snapshot(row), "gateways": [_gateway_snapshot(g) for g in trunk_gateways(session, row.id)]}


def _gateway_specs(gateways: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Positions left out are the order within each role (0, 1, …)."""
    counters: dict[str, int] = {}
    out = []
    for g in gateways:
        role = str(g.get("role") or "primary")
        pos = g.get("position")
        if pos is None:
            pos = counters.get(role, 0)
        counters[role] = max(counters.get(role, 0), int(pos) + 1)
        out.append({**g, "role": role, "position": int(pos)})
    return out


def _as_model_trunk(values: dict[str, Any], gateways: list[dict[str, Any]], trunk_id: uuid.UUID) -> Trunk:
    return Trunk(
        id=trunk_id,
        name=str(values["name"]),
        kind=TrunkKind(str(values["kind"])),
        gateways=tuple(
            Gateway(
                id=uuid.uuid4(),
                host=str(g["host"]),
                port=int(g.get("port", 5060)),
                transport=str(g.get("transport", "UDP")),
                role=GatewayRole(g["role"]),
                position=int(g["position"]),
            )
            for g in gateways
        ),
        tenant_id=values.get("tenant_id"),
        inbound_networks=tuple(values.get("inbound_networks") or ()),
        agreed_prefixes=tuple(values.get("agreed_prefixes") or ()),
        trusted=bool(values.get("trusted", True)),
        number_format=str(values.get("number_format", "e164")),
        tech_prefix=str(values.get("tech_prefix", "")),
        enabled=bool(values.get("enabled", True)),
        max_calls=values.get("max_calls"),
        max_cps=values.get("max_cps"),
        site_id=values.get("site_id"),
        origin_npa_nxx=values.get("origin_npa_nxx"),
        origin_state=values.get("origin_state"),
    )


def _enum_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}


def _trunk_columns(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values (as checked) to what the columns hold: the store's enumerations."""
    out = dict(values)
    if "kind" in out:
        out["kind"] = StoreTrunkKind(out["kind"])
    if "number_format" in out:
        out["number_format"] = NumberFormat(out["number_format"])
    return out


def _gateway_columns(g: dict[str, Any]) -> dict[str, Any]:
    return {
        "host": g["host"],
        "port": int(g.get("port", 5060)),
        "transport": SipTransport(g.get("transport", "UDP")),
        "role": StoreGatewayRole(g["role"]),
        "position": int(g["position"]),
    }


def _check_tenant(session: Session, tenant_id: uuid.UUID | None) -> None:
    if tenant_id is not None and session.get(Tenant, tenant_id) is None:
        raise Invalid(f"tenant {tenant_id} does not exist", field="tenant_id", rule="exists")


def _check_site(session: Session, site_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> None:
    """A pbx trunk's originating site (voip-service-guide.txt §V.9) is one of its tenant's."""
    if site_id is None:
        return
    site = session.get(Site, site_id)
    if site is None or site.tenant_id != tenant_id:
        raise Invalid(f"site {site_id} is not a site of the trunk's tenant", field="site_id", rule="exists")


def _check_name_free(session: Session, name: str, exclude: uuid.UUID | None = None) -> None:
    found = session.scalar(select(TrunkRow.id).where(TrunkRow.name == name))
    if found is not None and found != exclude:
        raise Conflict(f"a trunk is already named {name!r}", field="name", rule="unique")


def _routes_of_trunk(
    session: Session, trunk_id: uuid.UUID
) -> tuple[list[OutboundRoute], list[EmergencyRoute]]:
    routes = [
        route_of(r)
        for r in session.scalars(select(OutboundRouteRow).where(OutboundRouteRow.trunk_id == trunk_id))
    ]
    emergency = [
        emergency_of(r)
        for r in session.scalars(select(EmergencyRouteRow).where(EmergencyRouteRow.trunk_id == trunk_id))
    ]
    return routes, emergency


def find_trunk(ops: OperatorData, trunk_id: uuid.UUID) -> TrunkRow:
    ops.require_operator()
    row = ops.session.get(TrunkRow, trunk_id)
    if row is None:
        raise NotFound(f"trunk {trunk_id} not found", field="trunk_id")
    return row


def create_trunk(ops: OperatorData, values: dict[str, Any], gateways: list[dict[str, Any]]) -> TrunkRow:
    """A trunk with its gateways, checked by rules.check_trunk (every problem named at once)."""
    ops.require_operator()
    values, gws = _enum_values(values), [_enum_values(g) for g in _gateway_specs(gateways)]
    _raise_problems(check_trunk(_as_model_trunk(values, gws, uuid.uuid4())), "the trunk is not valid")
    _check_tenant(ops.session, values.get("tenant_id"))
    _check_site(ops.session, values.get("site_id"), values.get("tenant_id"))
    _check_name_free(ops.session, values["name"])
    row = TrunkRow(**_trunk_columns(values))
    ops.session.add(row)
    ops.session.flush()
    ops.session.add_all(TrunkGatewayRow(trunk_id=row.id, **_gateway_columns(g)) for g in gws)
    ops.session.flush()
    ops.audit(
        "trunk.create", TrunkRow.__tablename__, row.id, None, trunk_snapshot(ops.session, row), row.tenant_id
    )
    return row


def _sync_gateways(session: Session, trunk_id: uuid.UUID, wanted: list[dict[str, Any]]) -> None:
    """Replace the trunk's gateways with ``wanted``. A gateway that stays at the same address, role
    and position keeps its id, so the engine's health state for it (routing/select.py) survives."""
    have = trunk_gateways(session, trunk_id)
    by_key = {(g.host, g.port, g.role.value, g.position): g for g in have}
    kept: set[uuid.UUID] = set()
    new: list[dict[str, Any]] = []
    for g in wanted:
        row = by_key.get((g["host"], int(g.get("port", 5060)), g["role"], g["position"]))
        if row is not None and row.id not in kept:
            kept.add(row.id)
            row.transport = SipTransport(g.get("transport", "UDP"))
        else:
            new.append(g)
    for row in have:
        if row.id not in kept:
            session.delete(row)
    session.flush()  # free the (trunk, role, position) slots before the new gateways take them
    session.add_all(TrunkGatewayRow(trunk_id=trunk_id, **_gateway_columns(g)) for g in new)
    session.flush()


def update_trunk(
    ops: OperatorData, row: TrunkRow, changes: dict[str, Any], gateways: list[dict[str, Any]] | None
) -> TrunkRow:
    """Change a trunk; ``gateways`` (when given) replaces its list. The merged trunk is checked as a
    whole, and so are the routes that use it (a peer's agreed prefixes cannot shrink under its
    routes, a carrier with routes cannot become a pbx trunk)."""
    ops.require_operator()
    changes = _enum_values(changes)
    current = _enum_values({k: getattr(row, k) for k in _TRUNK_FIELDS})
    merged = {**current, **changes}
    gws = (
        [_enum_values(g) for g in _gateway_specs(gateways)]
        if gateways is not None
        else [_gateway_snapshot(g) for g in trunk_gateways(ops.session, row.id)]
    )
    trunk = _as_model_trunk(merged, gws, row.id)
    routes, emergency = _routes_of_trunk(ops.session, row.id)
    _raise_problems(
        check_trunk(trunk) + trunk_keeps_its_routes(trunk, routes, emergency), "the trunk is not valid"
    )
    if "tenant_id" in changes:
        _check_tenant(ops.session, changes["tenant_id"])
        if row.tenant_id is not None and changes["tenant_id"] != row.tenant_id:
            _check_not_routed_to(ops.session, row, "tenant_id")
    if "site_id" in changes or "tenant_id" in changes:
        _check_site(ops.session, merged.get("site_id"), merged.get("tenant_id"))
    if "name" in changes:
        _check_name_free(ops.session, changes["name"], exclude=row.id)
    if merged["kind"] != TrunkKind.PBX.value and row.kind.value == TrunkKind.PBX.value:
        _check_not_routed_to(ops.session, row, "kind")
    before = trunk_snapshot(ops.session, row)
    for k, v in _trunk_columns(changes).items():
        setattr(row, k, v)
    ops.session.flush()
    if gateways is not None:
        _sync_gateways(ops.session, row.id, gws)
    after = trunk_snapshot(ops.session, row)
    changed = {k for k in after if before.get(k) != after.get(k) and k != "updated_at"}
    if changed:
        ops.audit(
            "trunk.update",
            TrunkRow.__tablename__,
            row.id,
            {k: before[k] for k in changed},
            {k: after[k] for k in changed},
            row.tenant_id,
        )
    return row


_TRUNK_FIELDS = (
    "name",
    "kind",
    "tenant_id",
    "inbound_networks",
    "agreed_prefixes",
    "trusted",
    "number_format",
    "tech_prefix",
    "enabled",
    "max_calls",
    "max_cps",
    "site_id",
    "origin_npa_nxx",
    "origin_state",
)


def _numbers_routed_to(session: Session, trunk_id: uuid.UUID) -> list[str]:
    stmt = select(PhoneNumber.e164).where(
        PhoneNumber.target_type == NumberTarget.TRUNK, PhoneNumber.target_id == trunk_id
    )
    return sorted(session.scalars(stmt))


def _check_not_routed_to(session: Session, row: TrunkRow, field: str) -> None:
    numbers = _numbers_routed_to(session, row.id)
    if numbers:
        raise Conflict(
            f"{len(numbers)} number(s) of the tenant are routed to {row.name} ({', '.join(numbers[:5])}): "
            "route them elsewhere first",
            field=field,
            rule="trunk.in_use",
        )


def delete_trunk(ops: OperatorData, row: TrunkRow) -> None:
    """Refused (409) while routes or numbers use the trunk: deleting it would silently drop them."""
    ops.require_operator()
    routes, emergency = _routes_of_trunk(ops.session, row.id)
    if routes or emergency:
        raise Conflict(
            f"{row.name} is used by {len(routes)} outbound and {len(emergency)} emergency route(s): "
            "delete or move them first (or disable the trunk)",
            field="trunk_id",
            rule="trunk.in_use",
        )
    _check_not_routed_to(ops.session, row, "trunk_id")
    ops.audit(
        "trunk.delete", TrunkRow.__tablename__, row.id, trunk_snapshot(ops.session, row), None, row.tenant_id
    )
    ops.session.delete(row)
    ops.session.flush()


def _trunk_model(session: Session, trunk_id: uuid.UUID | None, field: str = "trunk_id") -> Trunk:
    row = session.get(TrunkRow, trunk_id) if trunk_id is not None else None
    if row is None:
        raise Invalid(f"trunk_id {trunk_id} does not name a trunk", field=field, rule="exists")
    return trunk_of(row, trunk_gateways(session, row.id))


_ROUTE_FIELDS = ("trunk_id", "prefix", "call_classes", "priority", "weight", "tenant_id")


def _checked_route(session: Session, values: dict[str, Any], route_id: uuid.UUID) -> None:
    trunk = _trunk_model(session, values.get("trunk_id"))
    classes, errors = parse_call_classes(values.get("call_classes") or ())
    route = OutboundRoute(
        id=route_id,
        trunk_id=trunk.id,
        prefix=str(values.get("prefix", "")),
        call_classes=classes,
        priority=int(values.get("priority", 100)),
        weight=int(values.get("weight", 100)),
        tenant_id=values.get("tenant_id"),
    )
    _raise_problems(errors + check_outbound_route(route, trunk), "the route is not valid")
    _check_tenant(session, values.get("tenant_id"))


def find_route(ops: OperatorData, route_id: uuid.UUID) -> OutboundRouteRow:
    ops.require_operator()
    row = ops.session.get(OutboundRouteRow, route_id)
    if row is None:
        raise NotFound(f"outbound route {route_id} not found", field="route_id")
    return row


def create_route(ops: OperatorData, values: dict[str, Any]) -> OutboundRouteRow:
    ops.require_operator()
    _checked_route(ops.session, values, uuid.uuid4())
    return ops.create(OutboundRouteRow, "outbound_route.create", **values)


def update_route(ops: OperatorData, row: OutboundRouteRow, changes: dict[str, Any]) -> OutboundRouteRow:
    ops.require_operator()
    merged = {**{k: getattr(row, k) for k in _ROUTE_FIELDS}, **changes}
    _checked_route(ops.session, merged, row.id)
    return ops.update(row, "outbound_route.update", changes)


def delete_route(ops: OperatorData, row: OutboundRouteRow) -> None:
    ops.require_operator()
    ops.audit("outbound_route.delete", row.__tablename__, row.id, snapshot(row), None, row.tenant_id)
    ops.session.delete(row)
    ops.session.flush()


def _checked_emergency(session: Session, values: dict[str, Any], route_id: uuid.UUID) -> None:
    trunk = _trunk_model(session, values.get("trunk_id"))
    route = EmergencyRoute(
        id=route_id, trunk_id=trunk.id, psap=values.get("psap"), priority=int(values.get("priority", 100))
    )
    _raise_problems(check_emergency_route(route, trunk), "the emergency route is not valid")


def find_emergency_route(ops: OperatorData, route_id: uuid.UUID) -> EmergencyRouteRow:
    ops.require_operator()
    row = ops.session.get(EmergencyRouteRow, route_id)
    if row is None:
        raise NotFound(f"emergency route {route_id} not found", field="route_id")
    return row


def create_emergency_route(ops: OperatorData, values: dict[str, Any]) -> EmergencyRouteRow:
    ops.require_operator()
    _checked_emergency(ops.session, values, uuid.uuid4())
    return ops.create(EmergencyRouteRow, "emergency_route.create", **values)


def update_emergency_route(
    ops: OperatorData, row: EmergencyRouteRow, changes: dict[str, Any]
) -> EmergencyRouteRow:
    ops.require_operator()
    merged = {"trunk_id": row.trunk_id, "psap": row.psap, "priority": row.priority, **changes}
    _checked_emergency(ops.session, merged, row.id)
    return ops.update(row, "emergency_route.update", changes)


def delete_emergency_route(ops: OperatorData, row: EmergencyRouteRow) -> None:
    ops.require_operator()
    ops.audit("emergency_route.delete", row.__tablename__, row.id, snapshot(row), None, None)
    ops.session.delete(row)
    ops.session.flush()
