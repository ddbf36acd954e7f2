"""The delivery log of a tenant's CPaaS status callbacks (issue 16 §1, §3): every status callback
of its voice apps and API calls goes through the webhooks outbox (cpaas/outbox.py: signed
X-Twilio-Signature at each attempt, retried with back-off); here the tenant's developers and the
operator (Resource.CPAAS) read each delivery with its attempts, by call. docs/webhooks.md."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Page, page_of
from centrex.api.routers.webhooks import AttemptOut, DeliveryOut
from centrex.store.models.webhooks import WebhookAttempt, WebhookDelivery
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}/cpaas/callbacks", tags=["cpaas"])


class CallbackOut(DeliveryOut):
    url: str
    method: str
    call_sid: str | None
    sequence_number: int | None
    call_status: str | None


@router.get("", response_model=Page[CallbackOut])
def list_callbacks(
    data: TenantDep,
    paging: PagingDep,
    call_sid: str | None = Query(None, pattern="^CA[0-9a-f]{32}$", description="one call's callbacks"),
    status: str | None = Query(None, pattern="^(pending|delivered|failed|cancelled)$"),
) -> Any:
    """Status callbacks, newest first (one call's in SequenceNumber order), each with its attempts:
    status code, latency, error, the first 500 characters of the answer."""
    data.require(Resource.CPAAS, Action.READ)
    stmt = data.select(WebhookDelivery, Resource.CPAAS).where(
        WebhookDelivery.endpoint_id.is_(None), WebhookDelivery.kind == "status_callback"
    )
    order: tuple[Any, ...]
    if call_sid:
        stmt = stmt.where(WebhookDelivery.lane == f"call:{call_sid}")
        order = (WebhookDelivery.created_at, WebhookDelivery.id)
    else:
        order = (WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows, total = data.page(stmt.order_by(*order), paging.limit, paging.offset)
    attempts: dict[Any, list[WebhookAttempt]] = {r.id: [] for r in rows}
    if rows:
        for a in data.session.scalars(
            data.select(WebhookAttempt, Resource.CPAAS)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.number)
        ):
            attempts[a.delivery_id].append(a)
    return page_of([_out(r, attempts[r.id]) for r in rows], total, paging.limit, paging.offset)


def _out(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    context = row.context or {}
    seq = context.get("sequence")
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
        "url": row.url,
        "method": row.method,
        "call_sid": context.get("call_sid"),
        "sequence_number": seq if isinstance(seq, int) else None,
        "call_status": context.get("status"),
        "attempt_log": [
            AttemptOut(
                number=a.number,
                at=a.at,
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                error=a.error,
                response=a.response,
            )
            for a in attempts
        ],
    }
