"""Tenants, their sites and designated administrators. Creating tenants is the operator's."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from centrex.api.checks import same_tenant
from centrex.api.deps import Listing, OperatorDep, PagingDep, PrincipalDep, SessionDep, TenantDep, listing
from centrex.api.fields import Out, Page, SipDomain, page_of
from centrex.billing.availability import require_site_available
from centrex.ops.lifecycle import clear_terminated, mark_terminated
from centrex.store.errors import Conflict
from centrex.store.models import (
    CallingScope,
    PricingPlan,
    Role,
    ServiceType,
    Site,
    Tenant,
    TenantDesignation,
    TenantStatus,
    User,
)
from centrex.store.policy import Action, Resource, may
from centrex.store.types import utcnow

router = APIRouter(tags=["tenants"])


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    sip_domain: SipDomain
    service_type: ServiceType = ServiceType.HOSTED_CENTREX
    pricing_plan: PricingPlan = PricingPlan.BUNDLED


class TenantPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    status: TenantStatus | None = None
    service_type: ServiceType | None = None
    pricing_plan: PricingPlan | None = None
    # The dial plan (issue 6 point 1): how the tenant's phones dial extensions and the outside.
    dial_extension_length: int | None = Field(None, ge=2, le=6, description="digits of an extension")
    dial_outside_prefix: str | None = Field(
        None, pattern=r"^[0-9]?$", description="one digit for an outside line; empty: dial out directly"
    )
    dial_seven_digit: bool | None = Field(None, description="7-digit local dialling (the site's NPA)")
    dial_ten_digit: bool | None = Field(None, description="10-digit dialling without the leading 1")


class TenantOut(Out):
    id: uuid.UUID
    name: str
    sip_domain: str
    status: TenantStatus
    service_type: ServiceType
    pricing_plan: PricingPlan
    dial_extension_length: int
    dial_outside_prefix: str | None
    dial_seven_digit: bool
    dial_ten_digit: bool
    created_at: datetime


TenantListing = Annotated[
    Listing,
    Depends(
        listing(
            {"name": Tenant.name, "sip_domain": Tenant.sip_domain, "created_at": Tenant.created_at},
            (Tenant.name, Tenant.sip_domain),
        )
    ),
]


@router.get("/tenants", response_model=Page[TenantOut])
def list_tenants(
    session: SessionDep,
    principal: PrincipalDep,
    paging: TenantListing,
    status: TenantStatus | None = None,
    name: Annotated[str | None, Query(description="substring of the name")] = None,
) -> Any:
    stmt = paging.apply(select(Tenant).order_by(Tenant.name))
    if not principal.is_operator:
        # A tenant's people see their own tenant, and only if their role may read it.
        if not may(principal.roles, Resource.TENANT, Action.READ):
            return page_of([], 0, paging.limit, paging.offset)
        stmt = stmt.where(Tenant.id == principal.tenant_id)
    if status:
        stmt = stmt.where(Tenant.status == status)
    if name:
        stmt = stmt.where(Tenant.name.ilike(f"%{name}%"))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/tenants", response_model=TenantOut, status_code=201)
def create_tenant(body: TenantIn, ops: OperatorDep) -> Any:
    ops.require_operator()
    if ops.session.scalar(select(Tenant.id).where(Tenant.sip_domain == body.sip_domain)):
        raise Conflict(f"sip_domain {body.sip_domain} is already in use", field="sip_domain", rule="unique")
    return ops.create(Tenant, "tenant.create", **body.model_dump())


@router.get("/tenants/{tenant_id}", response_model=TenantOut)
def get_tenant(data: TenantDep) -> Any:
    data.require(Resource.TENANT, Action.READ)
    return data.tenant


@router.patch("/tenants/{tenant_id}", response_model=TenantOut)
def patch_tenant(body: TenantPatch, data: TenantDep, ops: OperatorDep) -> Any:
    data.require(Resource.TENANT, Action.UPDATE)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if changes.get("dial_outside_prefix") == "":
        changes["dial_outside_prefix"] = None  # no outside-line prefix
    if changes.get("status") is TenantStatus.SUSPENDED and data.tenant.status is not TenantStatus.SUSPENDED:
        changes["suspended_at"] = utcnow()
    elif "status" in changes and changes["status"] is not TenantStatus.SUSPENDED:
        changes["suspended_at"] = None
    if changes.get("status") is TenantStatus.TERMINATED:  # the 30-day export window opens
        mark_terminated(data.session, data.tenant_id, utcnow())
    elif "status" in changes:
        clear_terminated(data.session, data.tenant_id)
    if "pricing_plan" in changes:  # issue 15 §4: every site must be available on the new plan
        for site in data.session.scalars(select(Site).where(Site.tenant_id == data.tenant_id)):
            require_site_available(site.state, site.country, changes["pricing_plan"])
    return ops.update(data.tenant, "tenant.update", changes)


# -- designations: office administrator, back-up, CPNI administrator ---------------------------


class DesignationsIn(BaseModel):
    office_admin_user_id: uuid.UUID | None = None
    backup_admin_user_id: uuid.UUID | None = None
    cpni_admin_user_id: uuid.UUID | None = None


DESIGNATED = {
    "office_admin_user_id": Role.OFFICE_ADMIN,
    "backup_admin_user_id": Role.BACKUP_ADMIN,
    "cpni_admin_user_id": Role.CPNI_ADMIN,
}


def _designations(data: TenantDep) -> dict[str, uuid.UUID | None]:
    rows = data.session.scalars(
        select(TenantDesignation).where(TenantDesignation.tenant_id == data.tenant_id)
    ).all()
    by_role = {d.role: d.user_id for d in rows}
    return {field: by_role.get(role) for field, role in DESIGNATED.items()}


@router.get("/tenants/{tenant_id}/designations", response_model=DesignationsIn)
def get_designations(data: TenantDep) -> Any:
    data.require(Resource.DESIGNATION, Action.READ)
    return _designations(data)


@router.patch("/tenants/{tenant_id}/designations", response_model=DesignationsIn)
def set_designations(body: DesignationsIn, data: TenantDep) -> Any:
    """hosted-pbx.txt: one Office Administrator and one back-up; voip-service-guide.txt §V.12: CPNI."""
    data.require(Resource.DESIGNATION, Action.UPDATE)
    changes = body.model_dump(exclude_unset=True)
    for field, user_id in changes.items():
        same_tenant(data, User, user_id, field)
    if changes.get("office_admin_user_id") is not None and changes.get("office_admin_user_id") == changes.get(
        "backup_admin_user_id"
    ):
        raise Conflict(
            "the back-up administrator must be a different person",
            field="backup_admin_user_id",
            rule="distinct_from_office_admin",
        )
    before = _designations(data)
    for field, user_id in changes.items():
        role = DESIGNATED[field]
        current = data.session.scalar(
            select(TenantDesignation).where(
                TenantDesignation.tenant_id == data.tenant_id, TenantDesignation.role == role
            )
        )
        if current is not None:
            data.session.delete(current)
            data.session.flush()
        if user_id is not None:
            data.session.add(TenantDesignation(tenant_id=data.tenant_id, role=role, user_id=user_id))
    data.session.flush()
    after = _designations(data)
    data.audit(
        "tenant.designations",
        "tenant_designations",
        data.tenant_id,
        {k: str(v) if v else None for k, v in before.items()},
        {k: str(v) if v else None for k, v in after.items()},
        data.tenant_id,
    )
    return after


# -- sites ---------------------------------------------------------------------------------


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    street: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(pattern=r"^[A-Z]{2}$", description="two-letter state code")
    postal_code: str = Field(pattern=r"^[0-9]{5}(-[0-9]{4})?$")
    country: str = Field("US", pattern=r"^[A-Z]{2}$")
    npa_nxx: str = Field(pattern=r"^[2-9][0-9]{2}[2-9][0-9]{2}$", description="NPA-NXX, six digits")
    rate_center: str | None = Field(None, max_length=100)
    bandwidth_kbps: int = Field(1536, ge=64, le=10_000_000)
    calling_units: int = Field(1, ge=1, le=100_000, description="simultaneous calls")
    metered: bool = False
    calling_scope: CallingScope = CallingScope.LOCAL_AND_LD


class SitePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    street: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=100)
    state: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    postal_code: str | None = Field(None, pattern=r"^[0-9]{5}(-[0-9]{4})?$")
    npa_nxx: str | None = Field(None, pattern=r"^[2-9][0-9]{2}[2-9][0-9]{2}$")
    rate_center: str | None = Field(None, max_length=100)
    bandwidth_kbps: int | None = Field(None, ge=64, le=10_000_000)
    calling_units: int | None = Field(None, ge=1, le=100_000)
    metered: bool | None = None
    calling_scope: CallingScope | None = None


class SiteOut(Out):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    street: str
    city: str
    state: str
    postal_code: str
    country: str
    npa_nxx: str
    rate_center: str | None
    bandwidth_kbps: int
    calling_units: int
    metered: bool
    calling_scope: CallingScope


@router.get("/tenants/{tenant_id}/sites", response_model=Page[SiteOut])
def list_sites(data: TenantDep, paging: PagingDep) -> Any:
    rows, total = data.page(data.select(Site).order_by(Site.name), paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("/tenants/{tenant_id}/sites", response_model=SiteOut, status_code=201)
def create_site(body: SiteIn, data: TenantDep) -> Any:
    if data.session.scalar(select(Site.id).where(Site.tenant_id == data.tenant_id, Site.name == body.name)):
        raise Conflict(f"a site named {body.name!r} exists", field="name", rule="unique")
    data.require(Resource.SITE, Action.CREATE)
    require_site_available(body.state, body.country, data.tenant.pricing_plan)  # issue 15 §4
    return data.create(Site, "site.create", **body.model_dump())


@router.get("/tenants/{tenant_id}/sites/{site_id}", response_model=SiteOut)
def get_site(site_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get(Site, site_id)


@router.patch("/tenants/{tenant_id}/sites/{site_id}", response_model=SiteOut)
def patch_site(site_id: uuid.UUID, body: SitePatch, data: TenantDep) -> Any:
    site = data.get(Site, site_id)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    data.require(Resource.SITE, Action.UPDATE)
    require_site_available(
        changes.get("state", site.state), site.country, data.tenant.pricing_plan
    )  # issue 15 §4
    return data.update(site, "site.update", changes)


@router.delete("/tenants/{tenant_id}/sites/{site_id}", status_code=204)
def delete_site(site_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(Site, site_id), "site.delete")
