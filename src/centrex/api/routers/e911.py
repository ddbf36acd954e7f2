"""911 data on the API: the operator's address table (MSAG-like), each user's and device's registered
dispatchable location (validated against that table, voip-service-guide.txt §V.14.2), and the
tenant's 911 notification contacts. The rules are in e911/; e911/storage.py applies them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select

from centrex.api.deps import OperatorDep, PagingDep, TenantDep
from centrex.api.fields import Out, Page, page_of
from centrex.api.routers.numbering import ImportOut, ProblemRoute, csv_text, remember_session
from centrex.e911 import storage
from centrex.numbers.storage import now
from centrex.store.errors import NotFound
from centrex.store.models.numbering import (
    AddressRange,
    EmergencyContact,
    LocationSubject,
    NotifyKind,
    RegisteredLocation,
)
from centrex.store.policy import Resource

router = APIRouter(tags=["e911"], route_class=ProblemRoute, dependencies=[Depends(remember_session)])


# --- the address table (operator) ----------------------------------------------------------------


class AddressRangeOut(Out):
    state: str
    community: str
    street: str
    low: int
    high: int
    parity: str
    postal_code: str
    esn: str
    psap: str


@router.post("/e911/address-table", response_model=ImportOut, status_code=201)
async def import_address_table(request: Request, ops: OperatorDep) -> Any:
    """Replace the address table: CSV `state,community,street,low,high[,parity,postal_code,esn,psap]`.
    A file with a bad row is refused whole; each problem names its row and field."""
    ops.require_operator()
    text = await csv_text(request)
    return ImportOut(rows=storage.import_address_table(ops, text))


@router.get("/e911/address-table", response_model=Page[AddressRangeOut])
def list_address_table(
    ops: OperatorDep,
    paging: PagingDep,
    state: Annotated[str | None, Query(max_length=2)] = None,
    community: Annotated[str | None, Query(max_length=100)] = None,
) -> Any:
    ops.require_operator()
    stmt = select(AddressRange).order_by(
        AddressRange.state, AddressRange.community, AddressRange.street, AddressRange.low
    )
    if state:
        stmt = stmt.where(AddressRange.state == state.upper())
    if community:
        stmt = stmt.where(func.upper(AddressRange.community) == community.upper())
    total = ops.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(ops.session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return page_of(rows, total, paging.limit, paging.offset)


# --- registered locations ------------------------------------------------------------------------


class CivicIn(BaseModel):
    house_number: Annotated[str, Field(max_length=16)] = ""
    street: Annotated[str, Field(max_length=200)] = ""
    city: Annotated[str, Field(max_length=100)] = ""
    state: Annotated[str, Field(max_length=2)] = ""
    postal_code: Annotated[str, Field(max_length=10)] = ""
    country: Annotated[str, Field(max_length=2)] = "US"
    unit: Annotated[str, Field(max_length=50)] = ""
    floor: Annotated[str, Field(max_length=50)] = ""
    room: Annotated[str, Field(max_length=50)] = ""
    location_name: Annotated[str, Field(max_length=200)] = ""


class LocationOut(Out):
    id: uuid.UUID
    subject_type: LocationSubject
    subject_id: uuid.UUID
    house_number: str
    street: str
    city: str
    state: str
    postal_code: str
    country: str
    unit: str
    floor: str
    room: str
    location_name: str
    validated: bool
    esn: str
    psap: str
    validated_at: datetime | None


def _put(data: Any, subject: LocationSubject, subject_id: uuid.UUID, body: CivicIn) -> Any:
    return storage.register_location(data, subject, subject_id, body.model_dump(), now())


def _get(data: Any, subject: LocationSubject, subject_id: uuid.UUID) -> Any:
    found = storage.get_location(data, subject, subject_id)
    if found is None:
        raise NotFound(f"no 911 location is registered for this {subject.value}", field="location")
    return found


@router.put("/tenants/{tenant_id}/e911/locations/users/{user_id}", response_model=LocationOut)
def put_user_location(user_id: uuid.UUID, body: CivicIn, data: TenantDep) -> Any:
    """A user's registered dispatchable location; 422 naming each field that does not match the
    address table, with the table's spelling when one is close ("did you mean 'Main St'?")."""
    return _put(data, LocationSubject.USER, user_id, body)


@router.get("/tenants/{tenant_id}/e911/locations/users/{user_id}", response_model=LocationOut)
def get_user_location(user_id: uuid.UUID, data: TenantDep) -> Any:
    return _get(data, LocationSubject.USER, user_id)


@router.put("/tenants/{tenant_id}/e911/locations/devices/{device_id}", response_model=LocationOut)
def put_device_location(device_id: uuid.UUID, body: CivicIn, data: TenantDep) -> Any:
    return _put(data, LocationSubject.DEVICE, device_id, body)


@router.get("/tenants/{tenant_id}/e911/locations/devices/{device_id}", response_model=LocationOut)
def get_device_location(device_id: uuid.UUID, data: TenantDep) -> Any:
    return _get(data, LocationSubject.DEVICE, device_id)


@router.get("/tenants/{tenant_id}/e911/locations", response_model=Page[LocationOut])
def list_locations(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(RegisteredLocation, Resource.E911_LOCATION).order_by(
        RegisteredLocation.subject_type, RegisteredLocation.created_at
    )
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


# --- 911 notification contacts -------------------------------------------------------------------


class ContactIn(BaseModel):
    kind: NotifyKind
    address: Annotated[str, Field(min_length=3, max_length=2048)]
    name: Annotated[str, Field(max_length=200)] = ""


class ContactOut(Out):
    id: uuid.UUID
    kind: NotifyKind
    address: str
    name: str
    signed: bool = Field(False, description="a webhook with a signing secret on file")

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, value: Any) -> Any:
        if isinstance(value, EmergencyContact):  # the secret itself never leaves the row
            return {
                "id": value.id,
                "kind": value.kind,
                "address": value.address,
                "name": value.name,
                "signed": bool(value.signing_secret),
            }
        return value


class ContactCreated(ContactOut):
    signing_secret: str | None = Field(
        None,
        description="webhooks only, shown this once: the key of the Centrex-Signature header "
        "(t=<unix>,v1=<hex HMAC-SHA256 of '<t>.<body>'>); see e911/notice.py verify_signature",
    )


def _created(row: EmergencyContact) -> ContactCreated:
    return ContactCreated(
        id=row.id,
        kind=row.kind,
        address=row.address,
        name=row.name,
        signed=bool(row.signing_secret),
        signing_secret=row.signing_secret,
    )


@router.post("/tenants/{tenant_id}/e911/contacts", response_model=ContactCreated, status_code=201)
def add_contact(body: ContactIn, data: TenantDep) -> Any:
    """Who is told of every 911 call from this tenant: an e-mail address or an https webhook. A
    webhook's signing secret is in this response only; keep it (a new one can be made)."""
    return _created(storage.add_contact(data, body.kind, body.address, body.name))


@router.post("/tenants/{tenant_id}/e911/contacts/{contact_id}/secret", response_model=ContactCreated)
def new_contact_secret(contact_id: uuid.UUID, data: TenantDep) -> Any:
    """A new signing secret for a webhook contact, shown this once; the old one stops at once."""
    return _created(storage.new_contact_secret(data, contact_id))


@router.get("/tenants/{tenant_id}/e911/contacts", response_model=Page[ContactOut])
def list_contacts(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(EmergencyContact, Resource.E911_CONTACT).order_by(EmergencyContact.created_at)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of(rows, total, paging.limit, paging.offset)


@router.delete("/tenants/{tenant_id}/e911/contacts/{contact_id}", status_code=204)
def delete_contact(contact_id: uuid.UUID, data: TenantDep) -> Response:
    storage.delete_contact(data, contact_id)
    return Response(status_code=204)
