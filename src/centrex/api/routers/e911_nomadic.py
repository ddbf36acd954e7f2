"""Nomadic use on the API (voip-service-guide.txt §V.14.3, §V.14.4): which phones registered from a
network where their 911 location was not confirmed, and confirming it — by the office
administrator, back-up or operator for any phone of the tenant, or by a user for their own phones
under /me. Confirming lifts the IP Trunking hold on calls other than 911 (§V.14.3 (a)); on Hosted IP
Centrex it answers the request to confirm (§V.14.4.1, §V.14.4.2). Rules in e911/nomadic.py, storage
in e911/nomadic_store.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.e911.nomadic_store import NomadicState, confirm_location, nomadic_state
from centrex.numbers.storage import now
from centrex.store.access import TenantData
from centrex.store.errors import NotFound
from centrex.store.models import Device
from centrex.store.models.e911_nomadic import DeviceNetwork
from centrex.store.policy import Resource

router = APIRouter(tags=["e911"])


class NetworkOut(Out):
    network: str
    first_seen: datetime
    last_seen: datetime
    location_confirmed_at: datetime | None
    confirmed_by: str | None


class NomadicOut(BaseModel):
    device_id: uuid.UUID
    sip_username: str
    network: str | None  # the network it registered from last; None: never registered
    action: str | None  # e911/nomadic.py NomadicAction: none, confirm_location, hold_non_emergency
    held: bool  # calls other than 911 are held (911 never is)
    message: str
    rule: str
    networks: list[NetworkOut]


class SelfConfirmation(BaseModel):
    device_id: uuid.UUID | None = None  # one of your phones; none: every one of them


def _out(state: NomadicState) -> NomadicOut:
    d = state.decision
    current = state.current
    return NomadicOut(
        device_id=state.device.id,
        sip_username=state.device.sip_username,
        network=current.network if current is not None else None,
        action=d.action.value if d is not None else None,
        held=state.held,
        message=d.message if d is not None else "this phone has not registered yet",
        rule=d.rule if d is not None else "",
        networks=[NetworkOut.model_validate(n) for n in state.networks],
    )


# --- the tenant's administrators -------------------------------------------------------------------


@router.get("/tenants/{tenant_id}/e911/nomadic", response_model=Page[NomadicOut])
def list_flagged(data: TenantDep, paging: PagingDep) -> Any:
    """Phones whose last registration came from a network where their 911 location is not confirmed."""
    stmt = (
        data.select(DeviceNetwork, Resource.E911_NOMADIC)
        .where(DeviceNetwork.location_confirmed_at.is_(None))
        .with_only_columns(DeviceNetwork.device_id)
        .distinct()
    )
    ids = set(data.session.scalars(stmt))
    devices = data.session.scalars(
        select(Device)
        .where(Device.tenant_id == data.tenant_id, Device.id.in_(ids))
        .order_by(Device.sip_username)
    )
    flagged = [s for s in (nomadic_state(data, d, Resource.E911_NOMADIC) for d in devices) if _unconfirmed(s)]
    window = flagged[paging.offset : paging.offset + paging.limit]
    return page_of([_out(s) for s in window], len(flagged), paging.limit, paging.offset)


def _unconfirmed(state: NomadicState) -> bool:
    return state.current is not None and state.current.location_confirmed_at is None


@router.get("/tenants/{tenant_id}/e911/devices/{device_id}/nomadic", response_model=NomadicOut)
def device_nomadic(device_id: uuid.UUID, data: TenantDep) -> Any:
    device = data.get(Device, device_id, Resource.E911_NOMADIC)
    return _out(nomadic_state(data, device, Resource.E911_NOMADIC))


@router.post("/tenants/{tenant_id}/e911/devices/{device_id}/location-confirmation", response_model=NomadicOut)
def confirm_device(device_id: uuid.UUID, data: TenantDep) -> Any:
    """The administrator verifies that the phone is at its registered 911 location on the network it
    registers from now (§V.14.3 (a)); 409 when neither it nor its user has a registered location."""
    device = data.get(Device, device_id, Resource.E911_NOMADIC)
    confirm_location(data, device, now(), Resource.E911_NOMADIC)
    return _out(nomadic_state(data, device, Resource.E911_NOMADIC))


# --- a user's own phones -----------------------------------------------------------------------------


def _my_devices(data: TenantData) -> list[Device]:
    me = data.me()
    return list(
        data.session.scalars(
            select(Device)
            .where(Device.tenant_id == data.tenant_id, Device.user_id == me.id)
            .order_by(Device.sip_username)
        )
    )


@router.get("/tenants/{tenant_id}/me/e911", response_model=list[NomadicOut])
def my_nomadic(data: TenantDep) -> Any:
    """Your phones, and whether one asks you to confirm your 911 location."""
    return [_out(nomadic_state(data, d, Resource.SELF)) for d in _my_devices(data)]


@router.post("/tenants/{tenant_id}/me/e911/location-confirmation", response_model=list[NomadicOut])
def confirm_mine(body: SelfConfirmation, data: TenantDep) -> Any:
    """Confirm that you are at your registered 911 location (§V.14.4.2): for one of your phones, or
    for every one of them registering from a network not yet confirmed."""
    devices = _my_devices(data)
    if body.device_id is not None:
        devices = [d for d in devices if d.id == body.device_id]
        if not devices:
            raise NotFound(f"device {body.device_id} is not one of your phones", field="device_id")
    at = now()
    for device in devices:
        confirm_location(data, device, at, Resource.SELF, action="self.e911.location.confirm")
    return [_out(nomadic_state(data, d, Resource.SELF)) for d in devices]
