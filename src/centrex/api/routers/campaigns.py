"""Campaigns and contact lists (issue 20 §2; cpaas.txt §2.2.2 Atmosphere Engage): the tenant's
administrators and developers, and the operator (Resource.CAMPAIGN).

- ``/contact-lists`` (GET, POST), ``/contact-lists/{id}`` (GET, DELETE: 409 while a campaign uses
  it), ``/contact-lists/{id}/contacts`` (GET; POST adds or updates up to 10,000 contacts: numbers
  written any usual way are stored E.164, a contact without a state or time zone gets them from
  its number; one bad contact refuses the whole request with its index), ``…/contacts/{id}`` DELETE.
- ``/campaigns`` (GET, POST), ``/campaigns/{id}`` (GET), ``/campaigns/{id}/cancel`` (POST),
  ``/campaigns/{id}/report`` (GET), ``/campaigns/{id}/recipients`` (GET: the engagement history).
  A campaign sends from one of the tenant's numbers: SMS (``body``) or a voice app (``voice_url``
  or ``voice_twiml``), ``marketing`` or ``informational``, at ``rate_per_s`` sends a second from
  ``scheduled_at`` (default now). The runner (cpaas/campaigns/runner.py) does the rest.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import func, select

from centrex.api.deps import TenantDep
from centrex.cpaas.campaigns.location import BadNumber, locate
from centrex.cpaas.campaigns.report import report
from centrex.cpaas.voice.twiml import parse_twiml
from centrex.cpaas.voice.verbs import VerbError
from centrex.store.errors import Conflict, Invalid, NotFound
from centrex.store.models import PhoneNumber
from centrex.store.models.campaigns import Campaign, CampaignRecipient, Contact, ContactList
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["campaigns"])
CAMPAIGN = Resource.CAMPAIGN
MAX_CONTACTS = 10_000


class ListIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=500)


class ListContactIn(BaseModel):
    number: str = Field(min_length=3, max_length=32)
    name: str = Field("", max_length=200)
    state: str | None = Field(None, min_length=2, max_length=2)
    time_zone: str | None = Field(None, max_length=64)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=50)


class ContactsIn(BaseModel):
    contacts: list[ListContactIn] = Field(min_length=1, max_length=MAX_CONTACTS)


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    list_id: uuid.UUID
    channel: Literal["sms", "voice"]
    purpose: Literal["marketing", "informational"]
    from_: str = Field(alias="from", pattern=r"^\+[1-9]\d{6,14}$")
    body: str = Field("", max_length=1600)
    voice_url: str | None = Field(None, max_length=2000, pattern=r"^https?://")
    voice_twiml: str | None = Field(None, max_length=20_000)
    rate_per_s: float = Field(1.0, gt=0, le=1000)
    scheduled_at: datetime | None = None

    @model_validator(mode="after")
    def _content(self) -> CampaignIn:
        if self.channel == "sms" and not self.body:
            raise ValueError("an SMS campaign needs a body")
        if self.channel == "voice" and bool(self.voice_url) == bool(self.voice_twiml):
            raise ValueError("a voice campaign needs exactly one of voice_url or voice_twiml")
        if self.scheduled_at is not None:
            if self.scheduled_at.tzinfo is None:
                raise ValueError("scheduled_at must carry its time zone (e.g. 2026-12-07T15:00:00Z)")
            if not 2000 <= self.scheduled_at.year <= 2100:
                raise ValueError("scheduled_at must be between the years 2000 and 2100")
        return self


def _list_out(row: ContactList, count: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(row.id), "name": row.name, "description": row.description}
    if count is not None:
        out["contacts"] = count
    return out


def _contact_out(c: Contact) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "number": c.number,
        "name": c.name,
        "state": c.state,
        "time_zones": list(c.time_zones),
        "location_source": c.location_source,
        "attributes": dict(c.attributes),
    }


def _campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "id": str(c.id),
        "name": c.name,
        "list_id": str(c.list_id),
        "channel": c.channel,
        "purpose": c.purpose,
        "from": c.from_number,
        "body": c.body,
        "voice_url": c.voice_url,
        "voice_twiml": c.voice_twiml,
        "rate_per_s": c.rate_per_s,
        "status": c.status,
        "scheduled_at": c.scheduled_at.isoformat(),
        "started_at": c.started_at.isoformat() if c.started_at else None,
        "finished_at": c.finished_at.isoformat() if c.finished_at else None,
    }


def _list(data: TenantDep, list_id: uuid.UUID) -> ContactList:
    return data.get(ContactList, list_id, CAMPAIGN)


# -- contact lists -------------------------------------------------------------------------------
@router.get("/contact-lists")
def list_lists(data: TenantDep) -> list[dict[str, Any]]:
    stmt = data.select(ContactList, CAMPAIGN).order_by(ContactList.name)
    rows = list(data.session.scalars(stmt))
    counts: dict[uuid.UUID, int] = {
        list_id: n
        for list_id, n in data.session.execute(
            select(Contact.list_id, func.count())
            .where(Contact.tenant_id == data.tenant_id)
            .group_by(Contact.list_id)
        )
    }
    return [_list_out(r, counts.get(r.id, 0)) for r in rows]


@router.post("/contact-lists", status_code=201)
def create_list(data: TenantDep, body: ListIn) -> dict[str, Any]:
    data.require(CAMPAIGN, Action.CREATE)
    if data.session.scalar(data.select(ContactList, CAMPAIGN).where(ContactList.name == body.name)):
        raise Conflict(f"a contact list named {body.name!r} exists", field="name", rule="unique")
    row = data.create(ContactList, "contact_list.create", CAMPAIGN, **body.model_dump())
    return _list_out(row, 0)


@router.get("/contact-lists/{list_id}")
def get_list(data: TenantDep, list_id: uuid.UUID) -> dict[str, Any]:
    row = _list(data, list_id)
    count = data.session.scalar(select(func.count()).where(Contact.list_id == row.id)) or 0
    return _list_out(row, count)


@router.delete("/contact-lists/{list_id}", status_code=204)
def delete_list(data: TenantDep, list_id: uuid.UUID) -> None:
    row = _list(data, list_id)
    if data.session.scalar(select(Campaign.id).where(Campaign.list_id == row.id).limit(1)):
        raise Conflict(
            "campaigns use this list: it is kept with their history", field="list_id", rule="in_use"
        )
    data.delete(row, "contact_list.delete", CAMPAIGN)


@router.get("/contact-lists/{list_id}/contacts")
def list_campaign_contacts(
    data: TenantDep,
    list_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    _list(data, list_id)
    stmt = data.select(Contact, CAMPAIGN).where(Contact.list_id == list_id).order_by(Contact.number)
    rows, total = data.page(stmt, limit, offset)
    return {"items": [_contact_out(c) for c in rows], "total": total, "limit": limit, "offset": offset}


@router.post("/contact-lists/{list_id}/contacts", status_code=201)
def add_contacts(data: TenantDep, list_id: uuid.UUID, body: ContactsIn) -> dict[str, Any]:
    data.require(CAMPAIGN, Action.CREATE)
    _list(data, list_id)
    located = []
    for i, c in enumerate(body.contacts):
        try:
            located.append((c, locate(c.number, c.state, c.time_zone)))
        except BadNumber as exc:
            raise Invalid(str(exc), field=f"contacts[{i}]", rule="e164") from None
    have = {
        c.number: c
        for c in data.session.scalars(
            data.select(Contact, CAMPAIGN).where(
                Contact.list_id == list_id, Contact.number.in_([loc.number for _, loc in located])
            )
        )
    }
    added = updated = 0
    rows = []
    for given, loc in located:
        values = {
            "name": given.name,
            "state": loc.state,
            "time_zones": list(loc.time_zones),
            "location_source": loc.source,
            "attributes": given.attributes,
        }
        row = have.get(loc.number)
        if row is None:
            row = Contact(tenant_id=data.tenant_id, list_id=list_id, number=loc.number, **values)
            data.session.add(row)
            have[loc.number] = row
            added += 1
        else:
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
        rows.append(row)
    data.session.flush()
    data.audit(
        "contact_list.contacts",
        "contacts",
        list_id,
        None,
        {"added": added, "updated": updated},
        data.tenant_id,
    )
    return {"added": added, "updated": updated, "contacts": [_contact_out(c) for c in rows]}


@router.delete("/contact-lists/{list_id}/contacts/{contact_id}", status_code=204)
def delete_campaign_contact(data: TenantDep, list_id: uuid.UUID, contact_id: uuid.UUID) -> None:
    _list(data, list_id)
    row = data.get(Contact, contact_id, CAMPAIGN)
    if row.list_id != list_id:
        raise NotFound(f"contact {contact_id} not found", field="contact_id")
    data.delete(row, "contact.delete", CAMPAIGN)


# -- campaigns -----------------------------------------------------------------------------------
@router.get("/campaigns")
def list_campaigns(
    data: TenantDep, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[dict[str, Any]]:
    stmt = data.select(Campaign, CAMPAIGN)
    if status:
        stmt = stmt.where(Campaign.status == status)
    return [_campaign_out(c) for c in data.session.scalars(stmt.order_by(Campaign.scheduled_at.desc()))]


@router.post("/campaigns", status_code=201)
def create_campaign(request: Request, data: TenantDep, body: CampaignIn) -> dict[str, Any]:
    data.require(CAMPAIGN, Action.CREATE)
    _list(data, body.list_id)
    owned = data.session.scalar(
        select(PhoneNumber.id).where(PhoneNumber.tenant_id == data.tenant_id, PhoneNumber.e164 == body.from_)
    )
    if owned is None:  # cpaas.txt §2.3.2 (vii): no fake or misleading sender numbers
        raise Invalid(
            f"{body.from_} is not one of the tenant's numbers", field="from", rule="cpaas.txt §2.3.2 (vii)"
        )
    if body.voice_twiml:
        try:
            parse_twiml(body.voice_twiml)
        except VerbError as exc:
            raise Invalid(f"the TwiML cannot be run: {exc}", field="voice_twiml") from None
    limit = getattr(request.app.state, "campaign_max_rate_per_s", None)  # serve: the setting
    if limit is not None and body.rate_per_s > limit:
        raise Invalid(f"rate_per_s is at most {limit}", field="rate_per_s", rule="campaign_max_rate_per_s")
    values = body.model_dump(exclude={"from_", "scheduled_at"})
    row = data.create(
        Campaign,
        "campaign.create",
        CAMPAIGN,
        from_number=body.from_,
        scheduled_at=body.scheduled_at.astimezone(UTC) if body.scheduled_at else datetime.now(UTC),
        status="scheduled",
        **values,
    )
    return _campaign_out(row)


def _campaign(data: TenantDep, campaign_id: uuid.UUID) -> Campaign:
    return data.get(Campaign, campaign_id, CAMPAIGN)


@router.get("/campaigns/{campaign_id}")
def get_campaign(data: TenantDep, campaign_id: uuid.UUID) -> dict[str, Any]:
    return _campaign_out(_campaign(data, campaign_id))


@router.post("/campaigns/{campaign_id}/cancel")
def cancel_campaign(data: TenantDep, campaign_id: uuid.UUID) -> dict[str, Any]:
    row = _campaign(data, campaign_id)
    if row.status not in ("scheduled", "running"):
        raise Conflict(f"the campaign is {row.status}", field="status", rule="not_running")
    data.update(row, "campaign.cancel", {"status": "canceled", "finished_at": datetime.now(UTC)}, CAMPAIGN)
    return _campaign_out(row)


@router.get("/campaigns/{campaign_id}/report")
def campaign_report(data: TenantDep, campaign_id: uuid.UUID) -> dict[str, Any]:
    return report(data.session, _campaign(data, campaign_id))


@router.get("/campaigns/{campaign_id}/recipients")
def campaign_recipients(
    data: TenantDep,
    campaign_id: uuid.UUID,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    _campaign(data, campaign_id)
    stmt = data.select(CampaignRecipient, CAMPAIGN).where(CampaignRecipient.campaign_id == campaign_id)
    if status:
        stmt = stmt.where(CampaignRecipient.status == status)
    rows, total = data.page(stmt.order_by(CampaignRecipient.number), limit, offset)
    items = [
        {
            "number": r.number,
            "contact_id": str(r.contact_id) if r.contact_id else None,
            "status": r.status,
            "reason": r.reason,
            "detail": r.detail,
            "not_before": r.not_before.isoformat() if r.not_before else None,
            "deferrals": r.deferrals,
            "message_sid": r.message_sid,
            "call_sid": r.call_sid,
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
