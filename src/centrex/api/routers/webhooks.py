"""A tenant's event webhooks (issue 16 §3, like Wazo's webhookd): subscribe a URL to call, CDR,
voicemail and registration events; rotate its signing secret; read its delivery log; send a test.
Office administrators, back-ups, developers and the operator (Resource.WEBHOOK). docs/webhooks.md."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Page, page_of
from centrex.cpaas import subscriptions
from centrex.cpaas.events import subscriptions_changed
from centrex.cpaas.subscriptions import EVENT_TYPES, SubscriptionError
from centrex.store.access import TenantData
from centrex.store.errors import Invalid
from centrex.store.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/webhooks", tags=["webhooks"])
RES = Resource.WEBHOOK
EVENTS_HELP = "event types: " + ", ".join(EVENT_TYPES) + ", or * for all"


class WebhookIn(BaseModel):
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL the events are POSTed to")
    events: list[str] = Field(min_length=1, max_length=20, description=EVENTS_HELP)
    description: str = Field("", max_length=200)


class WebhookPatch(BaseModel):
    url: str | None = Field(None, min_length=8, max_length=2000)
    events: list[str] | None = Field(None, min_length=1, max_length=20, description=EVENTS_HELP)
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = Field(None, description="true re-enables an endpoint disabled by a 410")


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    active_secrets: int
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret, shown this once (whsec_ + base64)")


class RotateIn(BaseModel):
    grace_seconds: int = Field(
        86400, ge=0, le=7 * 86400, description="how long the secrets active now stay active (default 24 h)"
    )


class RotateOut(BaseModel):
    secret: str = Field(description="the new signing secret, shown this once")
    previous_secrets_until: datetime


class AttemptOut(BaseModel):
    number: int
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    response: str


class DeliveryOut(BaseModel):
    id: uuid.UUID
    msg_id: str
    kind: str
    event_type: str | None
    status: str
    attempts: int
    next_try_at: datetime | None
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptOut]


class TestOut(BaseModel):
    delivery_id: uuid.UUID


def _invalid(exc: SubscriptionError) -> Invalid:
    return Invalid(str(exc), field=exc.field)


def _get(data: TenantData, webhook_id: uuid.UUID) -> WebhookEndpoint:
    return data.get(WebhookEndpoint, webhook_id, RES)


def _out(data: TenantData, row: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.events),
        "description": row.description,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "active_secrets": subscriptions.active_secret_count(data, row.id),
        "created_at": row.created_at,
    }


@router.get("", response_model=Page[WebhookOut])
def list_webhooks(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(WebhookEndpoint, RES).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(data, r) for r in rows], total, paging.limit, paging.offset)


@router.post("", response_model=WebhookCreated, status_code=201)
def create_webhook(body: WebhookIn, data: TenantDep) -> Any:
    try:
        row, secret = subscriptions.create(
            data, url=body.url, events=body.events, description=body.description
        )
    except SubscriptionError as exc:
        raise _invalid(exc) from None
    subscriptions_changed(data.tenant_id)
    return {**_out(data, row), "secret": secret}


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data, _get(data, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
def update_webhook(webhook_id: uuid.UUID, body: WebhookPatch, data: TenantDep) -> Any:
    row = _get(data, webhook_id)
    try:
        subscriptions.update_endpoint(data, row, body.model_dump(exclude_unset=True, exclude_none=True))
    except SubscriptionError as exc:
        raise _invalid(exc) from None
    subscriptions_changed(data.tenant_id)
    return _out(data, row)


@router.delete("/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: uuid.UUID, data: TenantDep) -> None:
    data.delete(_get(data, webhook_id), "webhook.delete", RES)


@router.post("/{webhook_id}/rotate", response_model=RotateOut)
def rotate_secret(webhook_id: uuid.UUID, data: TenantDep, body: RotateIn | None = None) -> Any:
    row = _get(data, webhook_id)
    grace = timedelta(seconds=(body or RotateIn()).grace_seconds)
    try:
        secret, until = subscriptions.rotate(data, row, grace)
    except SubscriptionError as exc:
        raise _invalid(exc) from None
    return {"secret": secret, "previous_secrets_until": until}


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
def list_deliveries(
    webhook_id: uuid.UUID,
    data: TenantDep,
    paging: PagingDep,
    status: str | None = Query(None, pattern="^(pending|delivered|failed|cancelled)$"),
) -> Any:
    """The endpoint's delivery log, newest first, each with its attempts (status code, latency,
    error, the first 500 characters of the answer)."""
    _get(data, webhook_id)
    rows, total = subscriptions.deliveries(data, webhook_id, paging.limit, paging.offset, status)
    attempts = subscriptions.attempts_of(data, [r.id for r in rows])
    return page_of([_delivery(r, attempts[r.id]) for r in rows], total, paging.limit, paging.offset)


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": row.id,
        "msg_id": row.msg_id,
        "kind": row.kind,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "next_try_at": row.next_try_at if row.status == "pending" else None,
        "delivered_at": row.delivered_at,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "attempt_log": [
            {
                "number": a.number,
                "at": a.at,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response": a.response,
            }
            for a in attempts
        ],
    }


@router.post("/{webhook_id}/test", response_model=TestOut, status_code=202)
def test_webhook(webhook_id: uuid.UUID, data: TenantDep) -> Any:
    """Queue a signed ``webhook.test`` event to the endpoint; its outcome shows in the deliveries."""
    row = _get(data, webhook_id)
    data.require(RES, Action.CREATE)
    return {"delivery_id": subscriptions.send_test(data, row)}
