"""Devices (lines): SIP credentials and button programming (hosted-pbx.txt MAC 1 and 7)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.checks import same_tenant, site_ref
from centrex.api.deps import Listing, TenantDep, listing
from centrex.api.fields import Out, Page, page_of
from centrex.provisioning.storage import remember_sip_password
from centrex.store.credentials import new_sip_secret, sip_ha1s
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import ButtonKind, Device, DeviceButton, User
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/devices", tags=["devices"])


class DeviceIn(BaseModel):
    sip_username: str = Field(pattern=r"^[A-Za-z0-9_.\-]{3,64}$")
    user_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    description: str | None = Field(None, max_length=200)
    mac_address: str | None = Field(None, pattern=r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
    password: str | None = Field(
        None, min_length=12, max_length=128, description="omit to have a strong one generated"
    )


class DevicePatch(BaseModel):
    user_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    description: str | None = Field(None, max_length=200)
    mac_address: str | None = Field(None, pattern=r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")
    enabled: bool | None = None


class DeviceOut(Out):
    id: uuid.UUID
    tenant_id: uuid.UUID
    sip_username: str
    user_id: uuid.UUID | None
    site_id: uuid.UUID | None
    description: str | None
    mac_address: str | None
    enabled: bool


class DeviceCreated(DeviceOut):
    sip_password: str = Field(description="shown once; only digest HA1 values are stored")
    sip_domain: str
    # Auto-provisioning (issue 17 §2, api/routers/provisioning.py): the phone's HTTP credentials.
    provisioning_username: str | None = None
    provisioning_password: str | None = Field(None, description="shown once")


class SecretOut(BaseModel):
    sip_username: str
    sip_domain: str
    sip_password: str


class Button(BaseModel):
    position: int = Field(ge=1, le=120)
    kind: ButtonKind
    value: str = Field(min_length=1, max_length=64)
    label: str | None = Field(None, max_length=32)


class ButtonsIn(BaseModel):
    buttons: list[Button] = Field(max_length=120)


DeviceListing = Annotated[
    Listing,
    Depends(
        listing(
            {
                "sip_username": Device.sip_username,
                "description": Device.description,
                "created_at": Device.created_at,
            },
            (Device.sip_username, Device.description),
        )
    ),
]


@router.get("", response_model=Page[DeviceOut])
def list_devices(data: TenantDep, paging: DeviceListing, user_id: uuid.UUID | None = None) -> Any:
    stmt = paging.apply(data.select(Device).order_by(Device.sip_username))
    if user_id:
        stmt = stmt.where(Device.user_id == user_id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.post("", response_model=DeviceCreated, status_code=201)
def create_device(body: DeviceIn, data: TenantDep) -> Any:
    taken = data.session.scalar(
        select(Device.id).where(Device.tenant_id == data.tenant_id, Device.sip_username == body.sip_username)
    )
    if taken:
        raise Conflict(
            f"sip_username {body.sip_username} is already in use", field="sip_username", rule="unique"
        )
    same_tenant(data, User, body.user_id, "user_id")
    site_ref(data, body.site_id)
    password = body.password or new_sip_secret()
    md5, sha = sip_ha1s(body.sip_username, data.tenant.sip_domain, password)
    values = body.model_dump(exclude={"password"})
    device = data.create(Device, "device.create", ha1_md5=md5, ha1_sha256=sha, **values)
    provisioning = remember_sip_password(data.session, device, password)  # sealed, for its file
    return {
        **DeviceOut.model_validate(device).model_dump(),
        "sip_password": password,
        "sip_domain": data.tenant.sip_domain,
        "provisioning_username": provisioning.username if provisioning else None,
        "provisioning_password": provisioning.password if provisioning else None,
    }


@router.get("/{device_id}", response_model=DeviceOut)
def get_device(device_id: uuid.UUID, data: TenantDep) -> Any:
    return data.get(Device, device_id)


@router.patch("/{device_id}", response_model=DeviceOut)
def patch_device(device_id: uuid.UUID, body: DevicePatch, data: TenantDep) -> Any:
    device = data.get(Device, device_id)
    changes = body.model_dump(exclude_unset=True)
    if "user_id" in changes:
        same_tenant(data, User, changes["user_id"], "user_id")
    if "site_id" in changes:
        site_ref(data, changes["site_id"])
    if changes.get("enabled", True) is None:
        changes.pop("enabled")
    return data.update(device, "device.update", changes)


@router.delete("/{device_id}", status_code=204)
def delete_device(device_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(data.get(Device, device_id), "device.delete")


@router.post("/{device_id}/secret-reset", response_model=SecretOut)
def reset_secret(device_id: uuid.UUID, data: TenantDep) -> Any:
    """MAC 7 for a phone: a new SIP password, shown once."""
    device = data.get(Device, device_id)
    password = new_sip_secret()
    md5, sha = sip_ha1s(device.sip_username, data.tenant.sip_domain, password)
    data.update(device, "mac.password_reset", {"ha1_md5": md5, "ha1_sha256": sha})
    remember_sip_password(data.session, device, password)  # the provisioning file carries the new one
    return {
        "sip_username": device.sip_username,
        "sip_domain": data.tenant.sip_domain,
        "sip_password": password,
    }


@router.get("/{device_id}/buttons", response_model=ButtonsIn)
def get_buttons(device_id: uuid.UUID, data: TenantDep) -> Any:
    device = data.get(Device, device_id)
    rows = data.session.scalars(
        data.select(DeviceButton).where(DeviceButton.device_id == device.id).order_by(DeviceButton.position)
    )
    return {"buttons": [Button(position=b.position, kind=b.kind, value=b.value, label=b.label) for b in rows]}


@router.put("/{device_id}/buttons", response_model=ButtonsIn)
def set_buttons(device_id: uuid.UUID, body: ButtonsIn, data: TenantDep) -> Any:
    """MAC 1: telephone button programming. The list replaces the device's buttons as a whole."""
    data.require(Resource.DEVICE, Action.UPDATE)
    device = data.get(Device, device_id)
    positions = [b.position for b in body.buttons]
    if len(positions) != len(set(positions)):
        raise Invalid("two buttons share one position", field="buttons.position", rule="unique")
    old = list(data.session.scalars(data.select(DeviceButton).where(DeviceButton.device_id == device.id)))
    before = [{"position": b.position, "kind": b.kind.value, "value": b.value, "label": b.label} for b in old]
    for b in old:
        data.session.delete(b)
    data.session.flush()
    for b in body.buttons:
        data.session.add(DeviceButton(tenant_id=data.tenant_id, device_id=device.id, **b.model_dump()))
    data.session.flush()
    after = [b.model_dump(mode="json") for b in sorted(body.buttons, key=lambda b: b.position)]
    data.audit(
        "mac.button_programming",
        "device_buttons",
        device.id,
        {"buttons": before},
        {"buttons": after},
        data.tenant_id,
    )
    return {"buttons": sorted(body.buttons, key=lambda b: b.position)}
