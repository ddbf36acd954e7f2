"""A device's auto-provisioning settings and HTTP credentials (issue 17 §2; docs/provisioning.md).

The credentials are made with the device (``POST …/devices`` shows them once, beside the SIP
password) or here when the device has none; rotating them shows the new password once. Neither the
HTTP password nor the SIP password is ever returned again, nor written to the audit log.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from centrex.api.deps import TenantDep
from centrex.provisioning import storage
from centrex.provisioning.render import valid_time_zone
from centrex.provisioning.vendors import MODELS, family_of
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models import Device
from centrex.store.models.provisioning import DeviceProvisioning
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/devices/{device_id}/provisioning", tags=["provisioning"])


class ProvisioningIn(BaseModel):
    model: str | None = Field(None, description=f"one of: {', '.join(sorted(MODELS))}")
    time_zone: str | None = Field(None, description="IANA time zone, e.g. America/Chicago")


class ProvisioningOut(BaseModel):
    device_id: uuid.UUID
    model: str | None
    family: str | None
    time_zone: str
    http_username: str | None
    sip_password_kept: bool = Field(description="false: reset the SIP password so the file can carry it")
    http_password: str | None = Field(None, description="shown once, when made or rotated")


class ProvisioningCredentialsOut(BaseModel):
    http_username: str
    http_password: str


def _out(row: DeviceProvisioning, password: str | None = None) -> dict[str, Any]:
    family = family_of(row.model)
    return {
        "device_id": row.device_id,
        "model": row.model,
        "family": family.value if family else None,
        "time_zone": row.time_zone,
        "http_username": row.http_username,
        "sip_password_kept": bool(row.sip_secret_sealed),
        "http_password": password,
    }


def _visible(row: DeviceProvisioning) -> dict[str, Any]:
    """What the audit log may show: never a secret or its hash."""
    return {"model": row.model, "time_zone": row.time_zone, "http_username": row.http_username}


def _row(data: TenantData, device_id: uuid.UUID) -> tuple[Device, DeviceProvisioning | None]:
    device = data.get(Device, device_id)
    return device, storage.provisioning_of(data.session, data.tenant_id, device.id)


@router.get("", response_model=ProvisioningOut)
def get_provisioning(device_id: uuid.UUID, data: TenantDep) -> Any:
    device, row = _row(data, device_id)
    if row is None:  # a device made before provisioning existed: nothing chosen, no credentials
        return {
            "device_id": device.id,
            "model": None,
            "family": None,
            "time_zone": DeviceProvisioning.time_zone.default.arg,
            "http_username": None,
            "sip_password_kept": False,
        }
    return _out(row)


@router.put("", response_model=ProvisioningOut)
def put_provisioning(device_id: uuid.UUID, body: ProvisioningIn, data: TenantDep) -> Any:
    """Choose the phone model (which picks the vendor template) and its time zone. A device
    without provisioning credentials gets them now (the password shown once)."""
    data.require(Resource.DEVICE, Action.UPDATE)
    device, row = _row(data, device_id)
    if body.model is not None and body.model.lower() not in MODELS:
        raise Invalid(f"unknown phone model {body.model!r}", field="model", rule="known_model")
    if body.time_zone is not None and not valid_time_zone(body.time_zone):
        raise Invalid(f"unknown time zone {body.time_zone!r}", field="time_zone", rule="iana_time_zone")
    password = None
    before = None
    if row is None:
        creds, digest = storage.new_credentials()
        row = DeviceProvisioning(
            tenant_id=data.tenant_id,
            device_id=device.id,
            http_username=creds.username,
            http_secret_hash=digest,
        )
        data.session.add(row)
        password = creds.password
    else:
        before = _visible(row)
    if body.model is not None:
        row.model = body.model.lower()
    if body.time_zone is not None:
        row.time_zone = body.time_zone
    data.session.flush()
    data.audit("device.provisioning", "device_provisioning", row.id, before, _visible(row), data.tenant_id)
    return _out(row, password)


@router.post("/credentials", response_model=ProvisioningCredentialsOut)
def rotate_credentials(device_id: uuid.UUID, data: TenantDep) -> Any:
    """New HTTP credentials for the phone, shown once; the old ones stop working at once. A device
    without any gets its first ones."""
    data.require(Resource.DEVICE, Action.UPDATE)
    device, row = _row(data, device_id)
    if row is None:
        made, digest = storage.new_credentials()
        row = DeviceProvisioning(
            tenant_id=data.tenant_id,
            device_id=device.id,
            http_username=made.username,
            http_secret_hash=digest,
        )
        data.session.add(row)
        data.session.flush()
        password = made.password
    else:
        password = storage.rotate_credentials(row).password
    after = _visible(row)
    data.audit("device.provisioning_credentials", "device_provisioning", row.id, None, after, data.tenant_id)
    return {"http_username": row.http_username, "http_password": password}
