"""The browser phone as one of the user's own devices (issue 18 §3; docs/softphone.md).

- ``POST /tenants/{id}/me/softphone``: the signed-in user's browser phone — its device record
  (``devices``, user = the caller, SIP user ``<extension>-web``), made at the first call and the same
  one afterwards — with its SIP password (kept sealed, so every browser of the user gets the same
  one) and where the SIP-over-WebSocket ports are. The phone page (/phone/) calls it with the
  portal's session and registers with these credentials: the switch sees one more device of the
  user (calls to the user ring it with the desk phones; its calls carry the user's identity), and
  it shows in ``/me/devices`` and in the administrator's device list.
- ``DELETE /tenants/{id}/me/softphone``: removes it, if there is one (its registrations end at their
  expiry; the next POST makes a new one with a new password).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from centrex.api.deps import TenantDep
from centrex.store.credentials import new_sip_secret, sip_ha1s
from centrex.store.models import Device
from centrex.store.models.portal_tasks import SoftphoneDevice
from centrex.store.policy import Action, Resource
from centrex.store.sealed import seal, unseal

router = APIRouter(prefix="/tenants/{tenant_id}/me/softphone", tags=["self service"])
RES = Resource.SOFTPHONE


class SoftphoneOut(BaseModel):
    device_id: uuid.UUID
    sip_username: str
    sip_domain: str
    sip_password: str = Field(description="the browser phone's own SIP password (not the desk phone's)")
    ws_url: str | None = Field(description="ws://host:port when SIP over WebSocket is on")
    wss_url: str | None = Field(description="wss://host:port when SIP over secure WebSocket is on")


def _ws_urls(request: Request) -> tuple[str | None, str | None]:
    ws_port, wss_port = getattr(request.app.state, "sip_ws_ports", (None, None))
    host = request.url.hostname or "localhost"
    if ":" in host:
        host = f"[{host}]"
    return (f"ws://{host}:{ws_port}" if ws_port else None, f"wss://{host}:{wss_port}" if wss_port else None)


def _username(data: Any, extension: str) -> str:
    base = f"{extension}-web"
    taken = set(
        data.session.scalars(
            select(Device.sip_username).where(
                Device.tenant_id == data.tenant_id, Device.sip_username.like(f"{base}%")
            )
        )
    )
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, 1000) if f"{base}{n}" not in taken)


def _mine(data: Any, user_id: uuid.UUID) -> SoftphoneDevice | None:
    stmt = select(SoftphoneDevice).where(
        SoftphoneDevice.tenant_id == data.tenant_id, SoftphoneDevice.user_id == user_id
    )
    return data.session.scalar(stmt)


@router.post("", response_model=SoftphoneOut)
def my_softphone(request: Request, data: TenantDep) -> Any:
    user = data.me()
    data.require(RES, Action.READ)
    domain = data.tenant.sip_domain
    mine = _mine(data, user.id)
    device = data.session.get(Device, mine.device_id) if mine is not None else None
    if mine is not None and device is not None:
        password = unseal(data.session, mine.secret_sealed)
    else:
        password = new_sip_secret()
        username = _username(data, user.extension)
        md5, sha = sip_ha1s(username, domain, password)
        device = data.create(
            Device,
            "device.softphone",
            resource=RES,
            sip_username=username,
            ha1_md5=md5,
            ha1_sha256=sha,
            user_id=user.id,
            site_id=user.site_id,
            description="Browser phone",
        )
        data.create(
            SoftphoneDevice,
            "softphone.create",
            resource=RES,
            device_id=device.id,
            user_id=user.id,
            secret_sealed=seal(data.session, password),
        )
    ws_url, wss_url = _ws_urls(request)
    return SoftphoneOut(
        device_id=device.id,
        sip_username=device.sip_username,
        sip_domain=domain,
        sip_password=password,
        ws_url=ws_url,
        wss_url=wss_url,
    )


@router.delete("", status_code=204)
def delete_my_softphone(data: TenantDep) -> Response:
    user = data.me()
    data.require(RES, Action.DELETE)
    mine = _mine(data, user.id)
    if mine is None:
        return Response(status_code=204)  # already gone: the same end state
    device = data.session.get(Device, mine.device_id)
    data.delete(mine, "softphone.delete", resource=RES)
    if device is not None:
        data.delete(device, "device.softphone_delete", resource=RES)
    return Response(status_code=204)
