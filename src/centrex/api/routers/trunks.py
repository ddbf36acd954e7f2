"""Routes off the switch: trunks with their gateways, outbound routes and emergency routes (issue #6
point 5; voip-service-guide.txt §I.4; peering-policy.txt).

All of it is the operator's (404 to anyone else, as for every operator-wide route); a tenant's
office administrator and back-up may read the pbx trunks of their own tenant. The rules are
routing/rules.py; a body that breaks several is answered with one 422 listing each, with its field
and rule. Every change is audited (routing/storage.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from centrex.api.deps import Listing, OperatorDep, PagingDep, TenantDep, listing
from centrex.api.fields import Out, Page, page_of
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.routing import storage
from centrex.store.models.trunks import (
    EmergencyRouteRow,
    GatewayRole,
    NumberFormat,
    OutboundRouteRow,
    SipTransport,
    TrunkKind,
    TrunkRow,
)
from centrex.store.policy import Resource

router = APIRouter(tags=["routing"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])

# Lists in a body are bounded so a request cannot ask for unbounded work.
MAX_ITEMS = 64


class GatewayIn(BaseModel):
    host: str = Field(max_length=255, description="IP address (inbound calls are matched by source address)")
    port: int = 5060
    transport: SipTransport = SipTransport.UDP
    role: GatewayRole = Field(GatewayRole.PRIMARY, description="primary or secondary SBC pair (§I.4)")
    position: int | None = Field(None, description="order within the role; default: order in this list")


class GatewayOut(BaseModel):
    id: uuid.UUID
    host: str
    port: int
    transport: SipTransport
    role: GatewayRole
    position: int
    up: bool | None = Field(
        None, description="taking calls now, as the switch beside this API sees it (none: no switch here)"
    )
    failures: int | None = Field(None, description="5xx, timeouts and failed OPTIONS since it last answered")


GatewayView = Callable[[uuid.UUID], tuple[bool, int]]


def gateway_view(request: Request) -> GatewayView | None:
    """The switch's gateway health (routing/select.py), set on the app by `centrex serve`."""
    view: GatewayView | None = getattr(request.app.state, "gateway_state", None)
    return view


class TrunkIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: TrunkKind
    tenant_id: uuid.UUID | None = Field(None, description="pbx trunks only: the tenant whose PBX it is")
    gateways: list[GatewayIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    inbound_networks: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    agreed_prefixes: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    trusted: bool = True
    number_format: NumberFormat = NumberFormat.E164
    tech_prefix: str = Field("", max_length=64)
    enabled: bool = True
    max_calls: int | None = Field(None, description="simultaneous calls, both directions (null: no limit)")
    max_cps: int | None = Field(None, description="new calls per second, both directions (null: no limit)")
    site_id: uuid.UUID | None = Field(
        None, description="pbx trunks: the tenant's site it originates from (§V.9)"
    )
    origin_npa_nxx: str | None = Field(
        None, max_length=6, description="carrier/peer: NPA-NXX of its origin (§V.9)"
    )
    origin_state: str | None = Field(
        None, max_length=2, description="carrier/peer: state of its origin (§V.9)"
    )


class TrunkPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: TrunkKind | None = None
    tenant_id: uuid.UUID | None = None
    gateways: list[GatewayIn] | None = Field(None, max_length=MAX_ITEMS, description="replaces the list")
    inbound_networks: list[str] | None = Field(None, max_length=MAX_ITEMS)
    agreed_prefixes: list[str] | None = Field(None, max_length=MAX_ITEMS)
    trusted: bool | None = None
    number_format: NumberFormat | None = None
    tech_prefix: str | None = Field(None, max_length=64)
    enabled: bool | None = None
    max_calls: int | None = None
    max_cps: int | None = None
    site_id: uuid.UUID | None = None
    origin_npa_nxx: str | None = Field(None, max_length=6)
    origin_state: str | None = Field(None, max_length=2)


class TrunkOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: TrunkKind
    tenant_id: uuid.UUID | None
    gateways: list[GatewayOut]
    inbound_networks: list[str]
    agreed_prefixes: list[str]
    trusted: bool
    number_format: NumberFormat
    tech_prefix: str
    enabled: bool
    max_calls: int | None
    max_cps: int | None
    site_id: uuid.UUID | None
    origin_npa_nxx: str | None
    origin_state: str | None
    created_at: datetime
    updated_at: datetime


def trunk_out(session: Session, row: TrunkRow, view: GatewayView | None = None) -> TrunkOut:
    gws = storage.trunk_gateways(session, row.id)
    live = {g.id: view(g.id) for g in gws} if view is not None else {}
    return TrunkOut(
        id=row.id,
        name=row.name,
        kind=row.kind,
        tenant_id=row.tenant_id,
        gateways=[
            GatewayOut(
                id=g.id,
                host=g.host,
                port=g.port,
                transport=g.transport,
                role=g.role,
                position=g.position,
                up=live[g.id][0] if g.id in live else None,
                failures=live[g.id][1] if g.id in live else None,
            )
            for g in gws
        ],
        inbound_networks=list(row.inbound_networks or []),
        agreed_prefixes=list(row.agreed_prefixes or []),
        trusted=row.trusted,
        number_format=row.number_format,
        tech_prefix=row.tech_prefix,
        enabled=row.enabled,
        max_calls=row.max_calls,
        max_cps=row.max_cps,
        site_id=row.site_id,
        origin_npa_nxx=row.origin_npa_nxx,
        origin_state=row.origin_state,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _page(session: Session, stmt: Any, paging: Any) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(session.scalars(stmt.limit(paging.limit).offset(paging.offset))), total


def _not_null(changes: dict[str, Any], *keys: str) -> dict[str, Any]:
    """In a PATCH, null leaves a field that cannot be empty as it is."""
    return {k: v for k, v in changes.items() if not (k in keys and v is None)}


# --- trunks (operator) ------------------------------------------------------------------------------


TrunkListing = Annotated[
    Listing,
    Depends(
        listing(
            {"name": TrunkRow.name, "kind": TrunkRow.kind, "created_at": TrunkRow.created_at},
            (TrunkRow.name,),
        )
    ),
]


@router.get("/trunks", response_model=Page[TrunkOut])
def list_trunks(
    ops: OperatorDep,
    paging: TrunkListing,
    request: Request,
    kind: TrunkKind | None = None,
    tenant_id: uuid.UUID | None = None,
) -> Any:
    ops.require_operator()
    stmt = paging.apply(select(TrunkRow).order_by(TrunkRow.name))
    if kind is not None:
        stmt = stmt.where(TrunkRow.kind == kind)
    if tenant_id is not None:
        stmt = stmt.where(TrunkRow.tenant_id == tenant_id)
    rows, total = _page(ops.session, stmt, paging)
    view = gateway_view(request)
    return page_of([trunk_out(ops.session, r, view) for r in rows], total, paging.limit, paging.offset)


@router.post("/trunks", response_model=TrunkOut, status_code=201)
def create_trunk(body: TrunkIn, ops: OperatorDep) -> Any:
    values = body.model_dump(exclude={"gateways"})
    row = storage.create_trunk(ops, values, [g.model_dump() for g in body.gateways])
    return trunk_out(ops.session, row)


@router.get("/trunks/{trunk_id}", response_model=TrunkOut)
def get_trunk(trunk_id: uuid.UUID, ops: OperatorDep, request: Request) -> Any:
    return trunk_out(ops.session, storage.find_trunk(ops, trunk_id), gateway_view(request))


@router.patch("/trunks/{trunk_id}", response_model=TrunkOut)
def patch_trunk(trunk_id: uuid.UUID, body: TrunkPatch, ops: OperatorDep) -> Any:
    row = storage.find_trunk(ops, trunk_id)
    changes = _not_null(
        body.model_dump(exclude_unset=True, exclude={"gateways"}),
        *("name", "kind", "inbound_networks", "agreed_prefixes", "trusted", "number_format"),
        *("tech_prefix", "enabled"),
    )
    gateways = None if body.gateways is None else [g.model_dump() for g in body.gateways]
    return trunk_out(ops.session, storage.update_trunk(ops, row, changes, gateways))


@router.delete("/trunks/{trunk_id}", status_code=204)
def delete_trunk(trunk_id: uuid.UUID, ops: OperatorDep) -> Response:
    storage.delete_trunk(ops, storage.find_trunk(ops, trunk_id))
    return Response(status_code=204)


# --- a tenant's own pbx trunks (read) ---------------------------------------------------------------


@router.get("/tenants/{tenant_id}/trunks", response_model=Page[TrunkOut])
def list_tenant_trunks(data: TenantDep, paging: PagingDep, request: Request) -> Any:
    stmt = data.select(TrunkRow, Resource.TRUNK).order_by(TrunkRow.name)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    view = gateway_view(request)
    return page_of([trunk_out(data.session, r, view) for r in rows], total, paging.limit, paging.offset)


@router.get("/tenants/{tenant_id}/trunks/{trunk_id}", response_model=TrunkOut)
def get_tenant_trunk(trunk_id: uuid.UUID, data: TenantDep, request: Request) -> Any:
    return trunk_out(data.session, data.get(TrunkRow, trunk_id, Resource.TRUNK), gateway_view(request))


# --- outbound routes (operator) ---------------------------------------------------------------------


class RouteIn(BaseModel):
    trunk_id: uuid.UUID
    # Generous caps: the rules (routing/rules.py) give the E.164 rule by name.
    prefix: str = Field("", max_length=64, description="E.164 digits without '+'; '' is every destination")
    call_classes: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="numbers/classes.py values; [] is every class"
    )
    priority: int = 100
    weight: int = 100
    tenant_id: uuid.UUID | None = Field(None, description="only this tenant's calls; null: every tenant")


class RoutePatch(BaseModel):
    trunk_id: uuid.UUID | None = None
    prefix: str | None = Field(None, max_length=64)
    call_classes: list[str] | None = Field(None, max_length=MAX_ITEMS)
    priority: int | None = None
    weight: int | None = None
    tenant_id: uuid.UUID | None = None


class RouteOut(Out):
    id: uuid.UUID
    trunk_id: uuid.UUID
    prefix: str
    call_classes: list[str]
    priority: int
    weight: int
    tenant_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


@router.get("/outbound-routes", response_model=Page[RouteOut])
def list_routes(
    ops: OperatorDep,
    paging: PagingDep,
    trunk_id: uuid.UUID | None = None,
    tenant_id: uuid.UUID | None = None,
    prefix: str | None = None,
) -> Any:
    ops.require_operator()
    stmt = select(OutboundRouteRow).order_by(
        OutboundRouteRow.prefix, OutboundRouteRow.priority, OutboundRouteRow.id
    )
    if trunk_id is not None:
        stmt = stmt.where(OutboundRouteRow.trunk_id == trunk_id)
    if tenant_id is not None:
        stmt = stmt.where(OutboundRouteRow.tenant_id == tenant_id)
    if prefix is not None:
        stmt = stmt.where(OutboundRouteRow.prefix.startswith(prefix, autoescape=True))
    rows, total = _page(ops.session, stmt, paging)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/outbound-routes", response_model=RouteOut, status_code=201)
def create_route(body: RouteIn, ops: OperatorDep) -> Any:
    return storage.create_route(ops, body.model_dump())


@router.get("/outbound-routes/{route_id}", response_model=RouteOut)
def get_route(route_id: uuid.UUID, ops: OperatorDep) -> Any:
    return storage.find_route(ops, route_id)


@router.patch("/outbound-routes/{route_id}", response_model=RouteOut)
def patch_route(route_id: uuid.UUID, body: RoutePatch, ops: OperatorDep) -> Any:
    row = storage.find_route(ops, route_id)
    changes = _not_null(
        body.model_dump(exclude_unset=True), "trunk_id", "prefix", "call_classes", "priority", "weight"
    )
    return storage.update_route(ops, row, changes)


@router.delete("/outbound-routes/{route_id}", status_code=204)
def delete_route(route_id: uuid.UUID, ops: OperatorDep) -> Response:
    storage.delete_route(ops, storage.find_route(ops, route_id))
    return Response(status_code=204)


# --- emergency routes (operator) --------------------------------------------------------------------


class EmergencyRouteIn(BaseModel):
    trunk_id: uuid.UUID
    psap: str | None = Field(
        None, max_length=100, description="the PSAP this route serves; null: the default"
    )
    priority: int = 100


class EmergencyRoutePatch(BaseModel):
    trunk_id: uuid.UUID | None = None
    psap: str | None = Field(None, max_length=100)
    priority: int | None = None


class EmergencyRouteOut(Out):
    id: uuid.UUID
    trunk_id: uuid.UUID
    psap: str | None
    priority: int
    created_at: datetime
    updated_at: datetime


@router.get("/emergency-routes", response_model=Page[EmergencyRouteOut])
def list_emergency_routes(
    ops: OperatorDep, paging: PagingDep, trunk_id: uuid.UUID | None = None, psap: str | None = None
) -> Any:
    ops.require_operator()
    stmt = select(EmergencyRouteRow).order_by(
        EmergencyRouteRow.psap, EmergencyRouteRow.priority, EmergencyRouteRow.id
    )
    if trunk_id is not None:
        stmt = stmt.where(EmergencyRouteRow.trunk_id == trunk_id)
    if psap is not None:
        stmt = stmt.where(EmergencyRouteRow.psap == psap)
    rows, total = _page(ops.session, stmt, paging)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/emergency-routes", response_model=EmergencyRouteOut, status_code=201)
def create_emergency_route(body: EmergencyRouteIn, ops: OperatorDep) -> Any:
    return storage.create_emergency_route(ops, body.model_dump())


@router.get("/emergency-routes/{route_id}", response_model=EmergencyRouteOut)
def get_emergency_route(route_id: uuid.UUID, ops: OperatorDep) -> Any:
    return storage.find_emergency_route(ops, route_id)


@router.patch("/emergency-routes/{route_id}", response_model=EmergencyRouteOut)
def patch_emergency_route(route_id: uuid.UUID, body: EmergencyRoutePatch, ops: OperatorDep) -> Any:
    row = storage.find_emergency_route(ops, route_id)
    changes = _not_null(body.model_dump(exclude_unset=True), "trunk_id", "priority")
    return storage.update_emergency_route(ops, row, changes)


@router.delete("/emergency-routes/{route_id}", status_code=204)
def delete_emergency_route(route_id: uuid.UUID, ops: OperatorDep) -> Response:
    storage.delete_emergency_route(ops, storage.find_emergency_route(ops, route_id))
    return Response(status_code=204)
