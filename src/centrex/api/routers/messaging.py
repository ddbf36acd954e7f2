"""The native messaging API (issue 16 §4): send and read messages, the tenant's A2P registrations
(10DLC brand + campaign and the long codes it covers, toll-free verifications), numbers' SMS URLs
and the consent ledger. Resource.CPAAS: the tenant's developers and the operator.

An A2P registration is created ``pending``; only the operator records the carrier's verdict
(``approved``/``rejected``, TCR or the toll-free verification desk): a tenant cannot approve itself.
A refused send answers 422 with ``rule`` naming Twilio's error code and the contract clause.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from centrex.api.deps import TenantDep
from centrex.cpaas.messaging.checks import E164, Refusal
from centrex.cpaas.messaging.records import tenant_number
from centrex.cpaas.messaging.views import messenger_of, native_message
from centrex.cpaas.sids import parse_sid
from centrex.store.errors import Forbidden, Invalid, NotFound, StoreError
from centrex.store.models.messaging import A2pRegistration, SmsConsent, SmsMessage, SmsNumberConfig
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["messaging"])
CPAAS = Resource.CPAAS
Number = Annotated[str, Field(pattern=E164.pattern, max_length=16)]


class MessageRefused(StoreError):
    status = 422
    code = "message_refused"


class MessageIn(BaseModel):
    from_: Number = Field(alias="from")
    to: Number
    body: str = Field(min_length=1, max_length=1600)
    status_callback: str | None = Field(None, max_length=2000, pattern=r"^https?://")


@router.post("/messages", status_code=201)
async def send(data: TenantDep, request: Request, body: MessageIn) -> dict[str, Any]:
    data.require(CPAAS, Action.CREATE)
    messenger = messenger_of(request)
    try:
        row = await run_in_threadpool(
            messenger.send,
            data.tenant_id,
            body.from_,
            body.to,
            body.body,
            status_callback=body.status_callback,
        )
    except Refusal as refusal:
        raise MessageRefused(refusal.reason, field="from", rule=f"twilio:{refusal.code}") from None
    return native_message(row)


@router.get("/messages")
def list_messages(
    data: TenantDep,
    to: Annotated[str | None, Query(max_length=16)] = None,
    from_: Annotated[str | None, Query(alias="from", max_length=16)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    stmt = data.select(SmsMessage, CPAAS)
    if to:
        stmt = stmt.where(SmsMessage.to_number == to)
    if from_:
        stmt = stmt.where(SmsMessage.from_number == from_)
    if status:
        stmt = stmt.where(SmsMessage.status == status)
    rows, total = data.page(stmt.order_by(SmsMessage.created_at.desc(), SmsMessage.id), limit, offset)
    return {"items": [native_message(r) for r in rows], "total": total, "limit": limit, "offset": offset}


def _message(data: TenantDep, ref: str) -> SmsMessage:
    row_id = parse_sid(ref, "SM")
    if row_id is None:
        try:
            row_id = uuid.UUID(ref)
        except ValueError:
            row_id = None
    row = None
    if row_id is not None:
        row = data.session.scalar(data.select(SmsMessage, CPAAS).where(SmsMessage.id == row_id))
    if row is None:
        row = data.session.scalar(data.select(SmsMessage, CPAAS).where(SmsMessage.sid == ref[:34]))
    if row is None:
        raise NotFound(f"message {ref} not found", field="message")
    return row


@router.get("/messages/{message}")
def get_message(data: TenantDep, message: str) -> dict[str, Any]:
    return native_message(_message(data, message))


# -- A2P registrations --------------------------------------------------------------------------
Kind = Literal["10dlc", "toll-free"]
Status = Literal["pending", "approved", "rejected"]


class RegistrationIn(BaseModel):
    kind: Kind
    brand_name: str = Field("", max_length=200)
    brand_ein: str = Field("", max_length=20)
    campaign_id: str = Field("", max_length=40)
    use_case: str = Field("", max_length=40)
    description: str = Field("", max_length=4000)
    numbers: list[Number] = Field(default_factory=list, max_length=1000)
    status: Status | None = None  # the operator's verdict; a tenant's registration starts pending


class RegistrationPatch(BaseModel):
    brand_name: str | None = Field(None, max_length=200)
    campaign_id: str | None = Field(None, max_length=40)
    use_case: str | None = Field(None, max_length=40)
    description: str | None = Field(None, max_length=4000)
    numbers: list[Number] | None = Field(None, max_length=1000)
    status: Status | None = None
    rejection_reason: str | None = Field(None, max_length=300)


def _registration_out(r: A2pRegistration) -> dict[str, Any]:
    return {
        "id": str(r.id),
        "kind": r.kind,
        "status": r.status,
        "brand_name": r.brand_name,
        "brand_ein": r.brand_ein,
        "campaign_id": r.campaign_id,
        "use_case": r.use_case,
        "description": r.description,
        "numbers": list(r.numbers or []),
        "rejection_reason": r.rejection_reason,
    }


def _verdict(data: TenantDep, status: str | None) -> None:
    if status is not None and status != "pending" and not data.principal.is_operator:
        raise Forbidden(
            "only the operator records a registration's verdict (from The Campaign Registry"
            " or the toll-free verification desk)",
            field="status",
            rule="a2p:verdict",
        )


def _own_numbers(data: TenantDep, numbers: list[str]) -> None:
    for n in numbers:
        if tenant_number(data.session, data.tenant_id, n) is None:
            raise Invalid(f"{n} is not a number of this tenant", field="numbers")


@router.get("/a2p-registrations")
def list_registrations(data: TenantDep) -> list[dict[str, Any]]:
    stmt = data.select(A2pRegistration, CPAAS).order_by(A2pRegistration.created_at, A2pRegistration.id)
    return [_registration_out(r) for r in data.session.scalars(stmt)]


@router.post("/a2p-registrations", status_code=201)
def create_registration(data: TenantDep, body: RegistrationIn) -> dict[str, Any]:
    _verdict(data, body.status)
    _own_numbers(data, body.numbers)
    values = body.model_dump()
    values["status"] = body.status or "pending"
    row = data.create(A2pRegistration, "a2p.create", CPAAS, **values)
    return _registration_out(row)


@router.get("/a2p-registrations/{registration_id}")
def get_registration(data: TenantDep, registration_id: uuid.UUID) -> dict[str, Any]:
    return _registration_out(data.get(A2pRegistration, registration_id, CPAAS))


@router.patch("/a2p-registrations/{registration_id}")
def update_registration(
    data: TenantDep, registration_id: uuid.UUID, body: RegistrationPatch
) -> dict[str, Any]:
    row = data.get(A2pRegistration, registration_id, CPAAS)
    _verdict(data, body.status)
    changes = body.model_dump(exclude_unset=True)
    if "numbers" in changes:
        _own_numbers(data, changes["numbers"] or [])
    data.update(row, "a2p.update", changes, CPAAS)
    return _registration_out(row)


@router.delete("/a2p-registrations/{registration_id}", status_code=204)
def delete_registration(data: TenantDep, registration_id: uuid.UUID) -> None:
    data.delete(data.get(A2pRegistration, registration_id, CPAAS), "a2p.delete", CPAAS)


# -- numbers' SMS URLs and the consent ledger ---------------------------------------------------
class SmsNumberIn(BaseModel):
    sms_url: str | None = Field(None, max_length=2000, pattern=r"^https?://")
    sms_method: Literal["GET", "POST"] = "POST"
    status_callback: str | None = Field(None, max_length=2000, pattern=r"^https?://")


def _sms_number_out(r: SmsNumberConfig) -> dict[str, Any]:
    return {
        "number": r.number,
        "sms_url": r.sms_url,
        "sms_method": r.sms_method,
        "status_callback": r.status_callback,
    }


@router.get("/sms-numbers")
def list_sms_numbers(data: TenantDep) -> list[dict[str, Any]]:
    stmt = data.select(SmsNumberConfig, CPAAS).order_by(SmsNumberConfig.number)
    return [_sms_number_out(r) for r in data.session.scalars(stmt)]


@router.put("/sms-numbers/{number}")
def set_sms_number(data: TenantDep, number: str, body: SmsNumberIn) -> dict[str, Any]:
    data.require(CPAAS, Action.UPDATE)
    if not E164.match(number) or tenant_number(data.session, data.tenant_id, number) is None:
        raise NotFound(f"number {number} not found", field="number")
    row = data.session.scalar(data.select(SmsNumberConfig, CPAAS).where(SmsNumberConfig.number == number))
    if row is None:
        row = data.create(SmsNumberConfig, "sms_number.create", CPAAS, number=number, **body.model_dump())
    else:
        data.update(row, "sms_number.update", body.model_dump(), CPAAS)
    return _sms_number_out(row)


@router.get("/sms-consents")
def list_consents(
    data: TenantDep, number: Annotated[str | None, Query(max_length=16)] = None
) -> list[dict[str, Any]]:
    stmt = data.select(SmsConsent, CPAAS)
    if number:
        stmt = stmt.where(SmsConsent.number == number)
    return [
        {
            "number": c.number,
            "remote": c.remote,
            "opted_out": c.opted_out,
            "keyword": c.keyword,
            "changed_at": c.changed_at.isoformat() if c.changed_at else None,
        }
        for c in data.session.scalars(stmt.order_by(SmsConsent.number, SmsConsent.remote))
    ]
