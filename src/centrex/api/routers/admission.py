"""Admission of calls (issue 15): what each site may carry and which hit its limit, the toll-fraud
guard's permissions and spend limits, and the operator's link table and high-risk prefixes.

Tenant routes (office administrator, back-up, operator):
- ``GET /tenants/{id}/capacity``: per site its units, link, the most calls it may carry (its burst
  ceiling, capacity/rules.py) and the calls refused there, by limit (voip-service-guide.txt §V.3.11:
  the provider "cannot provide specific details identifying which Customer location" — we can).
- ``PUT /tenants/{id}/capacity/hub`` (operator): the site all traffic is aggregated at (§V.3.1).
- ``GET/PUT /tenants/{id}/toll-permissions`` and ``PUT /tenants/{id}/users/{user}/toll-permissions``:
  international and premium (off until enabled for the tenant and the user), a monthly spend limit,
  the tenant's concurrent-international limit.
Operator routes: ``GET/PUT /capacity/links`` (bandwidth → most calls, §V.3.8) and
``GET/POST/DELETE /fraud/high-risk-prefixes``.
Fraud signals in one view (fairuse/fraud_view.py): ``GET /fraud/signals`` (operator, every tenant or
``tenant_id``) and ``GET /tenants/{id}/fraud/signals`` (the tenant's own; call-record readers).
Changes reach the switch within its 2 s caches.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import delete, select

from centrex.api.deps import OperatorDep, TenantDep
from centrex.api.routers.numbering import ProblemRoute, remember_session
from centrex.capacity.rules import burst_ceiling, link_max_calls
from centrex.capacity.storage import load_enterprise
from centrex.fairuse.fraud_view import signals as fraud_signals
from centrex.store.errors import Conflict, NotFound
from centrex.store.models import CallDetail, Site, User
from centrex.store.models.admission import (
    CapacityBlock,
    CapacitySettings,
    HighRiskPrefix,
    LinkCapacity,
    TollPermission,
)
from centrex.store.models.fraud import FraudSpike
from centrex.store.policy import Action, Resource
from centrex.store.types import utcnow

router = APIRouter(tags=["admission"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]


class SiteCapacityOut(BaseModel):
    site_id: uuid.UUID
    name: str
    units: int
    bandwidth_kbps: int
    metered: bool
    link_max_calls: int
    max_calls: int = Field(description="the most calls at once: its units, or its burst ceiling (§V.3.7)")
    blocked: dict[str, int] = Field(description="calls refused here, by limit")
    calls_now: int | None = Field(
        None,
        description="calls at the site now, on the node answering (none: no switch beside this API)",
    )


class CapacityOut(BaseModel):
    hub_site_id: uuid.UUID | None
    a_la_carte: bool
    sites: list[SiteCapacityOut]


class HubIn(BaseModel):
    hub_site_id: uuid.UUID | None


class TollIn(BaseModel):
    international: bool = False
    premium: bool = False
    spend_limit: Money | None = Field(None, description="per calendar month (UTC); none: no limit")
    max_international_calls: int | None = Field(None, ge=0, description="tenant only: at once")


class TollOut(TollIn):
    user_id: uuid.UUID | None


class TollPermissionsOut(BaseModel):
    tenant: TollOut
    users: list[TollOut]


class LinkIn(BaseModel):
    bandwidth_kbps: int = Field(gt=0)
    max_calls: int = Field(ge=1)


class PrefixIn(BaseModel):
    prefix: str = Field(pattern=r"^\+[1-9][0-9]{0,14}$", description="E.164 prefix, e.g. +4470")
    note: str = Field("", max_length=200)
    rate_per_minute: Money | None = None


class PrefixOut(PrefixIn):
    id: uuid.UUID


# --- capacity -------------------------------------------------------------------------------------


def _site_calls(request: Request, tenant_id: uuid.UUID) -> dict[uuid.UUID, int] | None:
    """This node's calls per site (capacity/admission.py), read from the API's thread: the switch
    may add a call while the dict is copied, so a copy that raced is taken again."""
    read = getattr(request.app.state, "site_calls", None)
    if read is None:
        return None
    for _ in range(3):
        try:
            return dict(read(tenant_id))
        except RuntimeError:  # changed size during the copy
            continue
    return None


@router.get("/tenants/{tenant_id}/capacity", response_model=CapacityOut)
def get_capacity(data: TenantDep, request: Request) -> Any:
    data.require(Resource.SITE, Action.READ)
    enterprise = load_enterprise(data.session, data.tenant_id)
    assert enterprise is not None
    blocked: dict[uuid.UUID, dict[str, int]] = {}
    for row in data.session.scalars(data.select(CapacityBlock, Resource.SITE)):
        blocked.setdefault(row.site_id, {})[row.limit_kind] = row.blocked
    now = _site_calls(request, data.tenant_id)
    sites = [
        SiteCapacityOut(
            site_id=s.id,
            name=s.name,
            units=s.units,
            bandwidth_kbps=s.bandwidth_kbps,
            metered=s.metered,
            link_max_calls=link_max_calls(s.bandwidth_kbps, enterprise.links),
            max_calls=burst_ceiling(s, enterprise),
            blocked=blocked.get(s.id, {}),
            calls_now=None if now is None else now.get(s.id, 0),
        )
        for s in sorted(enterprise.sites.values(), key=lambda s: s.name)
    ]
    return CapacityOut(hub_site_id=enterprise.hub_site_id, a_la_carte=enterprise.a_la_carte, sites=sites)


@router.put("/tenants/{tenant_id}/capacity/hub", response_model=CapacityOut)
def put_hub(body: HubIn, data: TenantDep, request: Request) -> Any:
    data.require(Resource.SITE, Action.UPDATE)
    if body.hub_site_id is not None:
        data.get(Site, body.hub_site_id, Resource.SITE)
    row = data.session.scalar(data.select(CapacitySettings, Resource.SITE))
    if row is None:
        data.create(CapacitySettings, "capacity.hub", Resource.SITE, hub_site_id=body.hub_site_id)
    else:
        data.update(row, "capacity.hub", {"hub_site_id": body.hub_site_id}, Resource.SITE)
    return get_capacity(data, request)


# --- toll-fraud guard -----------------------------------------------------------------------------


def _toll_out(row: TollPermission | None, user_id: uuid.UUID | None) -> TollOut:
    if row is None:
        return TollOut(user_id=user_id)
    return TollOut(
        user_id=row.user_id,
        international=row.international,
        premium=row.premium,
        spend_limit=row.spend_limit,
        max_international_calls=row.max_international_calls,
    )


@router.get("/tenants/{tenant_id}/toll-permissions", response_model=TollPermissionsOut)
def get_toll(data: TenantDep) -> Any:
    rows = list(data.session.scalars(data.select(TollPermission, Resource.PBX_SETTINGS)))
    tenant = next((r for r in rows if r.user_id is None), None)
    users = sorted((r for r in rows if r.user_id is not None), key=lambda r: str(r.user_id))
    return TollPermissionsOut(tenant=_toll_out(tenant, None), users=[_toll_out(r, r.user_id) for r in users])


def _put_toll(data: Any, user_id: uuid.UUID | None, body: TollIn) -> None:
    stmt = data.select(TollPermission, Resource.PBX_SETTINGS)
    stmt = stmt.where(
        TollPermission.user_id.is_(None) if user_id is None else TollPermission.user_id == user_id
    )
    row = data.session.scalar(stmt)
    values = body.model_dump()
    if user_id is not None:
        values["max_international_calls"] = None  # a tenant-wide figure
    if row is None:  # a settings row: written under the update right, like the tenant's PBX settings
        row = TollPermission(tenant_id=data.tenant_id, user_id=user_id)
        data.session.add(row)
        data.session.flush()
    data.update(row, "fraud.permissions", values, Resource.PBX_SETTINGS)


@router.put("/tenants/{tenant_id}/toll-permissions", response_model=TollPermissionsOut)
def put_tenant_toll(body: TollIn, data: TenantDep) -> Any:
    data.require(Resource.PBX_SETTINGS, Action.UPDATE)
    _put_toll(data, None, body)
    return get_toll(data)


@router.put("/tenants/{tenant_id}/users/{user_id}/toll-permissions", response_model=TollPermissionsOut)
def put_user_toll(user_id: uuid.UUID, body: TollIn, data: TenantDep) -> Any:
    data.require(Resource.PBX_SETTINGS, Action.UPDATE)
    data.get(User, user_id, Resource.PBX_SETTINGS)
    _put_toll(data, user_id, body)
    return get_toll(data)


# --- operator: link table and high-risk prefixes --------------------------------------------------


@router.get("/capacity/links", response_model=list[LinkIn])
def get_links(ops: OperatorDep) -> Any:
    ops.require_operator()
    rows = ops.session.scalars(select(LinkCapacity).order_by(LinkCapacity.bandwidth_kbps))
    return [LinkIn(bandwidth_kbps=r.bandwidth_kbps, max_calls=r.max_calls) for r in rows]


@router.put("/capacity/links", response_model=list[LinkIn])
def put_links(body: list[LinkIn], ops: OperatorDep) -> Any:
    """Replace the table; an empty list goes back to the contract's defaults (capacity/rules.py)."""
    ops.require_operator()
    if len({link.bandwidth_kbps for link in body}) != len(body):
        raise Conflict("two rows for one bandwidth", field="bandwidth_kbps", rule="unique")
    ops.session.execute(delete(LinkCapacity))
    for link in body:
        ops.create(LinkCapacity, "capacity.link", **link.model_dump())
    return get_links(ops)


@router.get("/fraud/high-risk-prefixes", response_model=list[PrefixOut])
def get_prefixes(ops: OperatorDep) -> Any:
    ops.require_operator()
    return list(ops.session.scalars(select(HighRiskPrefix).order_by(HighRiskPrefix.prefix)))


@router.post("/fraud/high-risk-prefixes", response_model=PrefixOut, status_code=201)
def post_prefix(body: PrefixIn, ops: OperatorDep) -> Any:
    ops.require_operator()
    if ops.session.scalar(select(HighRiskPrefix).where(HighRiskPrefix.prefix == body.prefix)) is not None:
        raise Conflict(f"prefix {body.prefix} is already listed", field="prefix", rule="unique")
    return ops.create(HighRiskPrefix, "fraud.high_risk", **body.model_dump())


@router.delete("/fraud/high-risk-prefixes/{prefix_id}", status_code=204)
def delete_prefix(prefix_id: uuid.UUID, ops: OperatorDep) -> Response:
    ops.require_operator()
    row = ops.session.get(HighRiskPrefix, prefix_id)
    if row is None:
        raise NotFound(f"high-risk prefix {prefix_id} not found", field="prefix_id")
    ops.audit("fraud.high_risk.delete", "high_risk_prefixes", row.id, {"prefix": row.prefix}, None, None)
    ops.session.delete(row)
    return Response(status_code=204)


# --- fraud signals in one view ---------------------------------------------------------------------


class SignalOut(BaseModel):
    kind: str = Field(description="toll_refusal, spend_cutoff, spike or sip_ban")
    at: datetime
    tenant_id: uuid.UUID | None
    subject: str = Field(description="the caller, the destination prefix or the banned address")
    detail: str
    cause: str


def _since(since: datetime | None) -> datetime:
    return since.astimezone(UTC) if since is not None and since.tzinfo else (since or utcnow() - SIGNAL_DAYS)


SIGNAL_DAYS = timedelta(days=7)
SignalLimit = Annotated[int, Query(ge=1, le=500)]


@router.get("/fraud/signals", response_model=list[SignalOut])
def operator_fraud_signals(
    ops: OperatorDep,
    tenant_id: uuid.UUID | None = None,
    since: datetime | None = None,
    limit: SignalLimit = 100,
) -> Any:
    ops.require_operator()
    calls, spikes = select(CallDetail), select(FraudSpike)
    if tenant_id is not None:
        calls = calls.where(CallDetail.tenant_id == tenant_id)
        spikes = spikes.where(FraudSpike.tenant_id == tenant_id)
    found = fraud_signals(
        ops.session,
        calls=calls,
        spikes=spikes,
        tenant_id=tenant_id,
        since=_since(since),
        now=utcnow(),
        limit=limit,
    )
    return [SignalOut(**asdict(x)) for x in found]


@router.get("/tenants/{tenant_id}/fraud/signals", response_model=list[SignalOut])
def tenant_fraud_signals(data: TenantDep, since: datetime | None = None, limit: SignalLimit = 100) -> Any:
    calls = data.select(CallDetail, Resource.CDR)
    spikes = select(FraudSpike).where(FraudSpike.tenant_id == data.tenant_id)
    found = fraud_signals(
        data.session,
        calls=calls,
        spikes=spikes,
        tenant_id=data.tenant_id,
        since=_since(since),
        now=utcnow(),
        limit=limit,
    )
    return [SignalOut(**asdict(x)) for x in found]
