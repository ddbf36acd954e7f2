"""A tenant's event subscriptions (issue 16 §3, "the way Wazo's webhookd does"): a URL, the event
types it wants, and its signing secrets — through ``TenantData`` so policy (Resource.WEBHOOK) and
the audit trail apply.

Secrets: made here (``whsec_`` + base64 of 32 bytes), sealed at rest, shown once — in the answer
to the create or the rotation. A rotation adds a new active secret and keeps the older ones active
until ``grace`` has passed (24 h by default, Svix's figure), so the receiver can switch without
losing a request: meanwhile every request carries one signature per active secret.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from centrex.cpaas import outbox
from centrex.cpaas.webhook_signing import new_secret
from centrex.store.access import TenantData
from centrex.store.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret
from centrex.store.policy import Action, Resource
from centrex.store.sealed import seal

# The events a tenant can subscribe to (docs/webhooks.md has their payloads).
EVENT_TYPES = (
    "call.started",
    "call.answered",
    "call.ended",
    "cdr.written",
    "voicemail.left",
    "registration.changed",
    "flow.step",  # a flow's widget ran (issue 20 §1, cpaas/flows/runtime.py)
    # messages (issue 20 §3: every message an insights event) and insights' own alerts
    "message.sent",
    "message.delivered",
    "message.undelivered",
    "message.failed",
    "message.received",
    "insights.alert",
)
ALL = "*"
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=7)


class SubscriptionError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_events(events: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(e.strip() for e in events))
    if not wanted:
        raise SubscriptionError("events", f"at least one event type: {', '.join(EVENT_TYPES)} or *")
    unknown = [e for e in wanted if e != ALL and e not in EVENT_TYPES]
    if unknown:
        raise SubscriptionError(
            "events", f"unknown event type {unknown[0]!r}: one of {', '.join(EVENT_TYPES)} or *"
        )
    return [ALL] if ALL in wanted else wanted


def check_url(url: str) -> str:
    url = url.strip()
    if not url.startswith(("https://", "http://")) or len(url) > 2000 or " " in url:
        raise SubscriptionError("url", "an http(s) URL of at most 2000 characters")
    return url


def wants(events: Sequence[str], event_type: str) -> bool:
    return ALL in events or event_type in events


def create(
    data: TenantData, *, url: str, events: Sequence[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new subscription and its first secret (returned in clear: the only time it is shown)."""
    endpoint = data.create(
        WebhookEndpoint,
        "webhook.create",
        url=check_url(url),
        events=check_events(events),
        description=description[:200],
        enabled=True,
        resource=Resource.WEBHOOK,
    )
    secret = _add_secret(data, endpoint)
    return endpoint, secret


def _add_secret(data: TenantData, endpoint: WebhookEndpoint) -> str:
    secret = new_secret()
    data.add_parts(
        WebhookSecret,
        [{"endpoint_id": endpoint.id, "secret_sealed": seal(data.session, secret), "expires_at": None}],
        Resource.WEBHOOK,
    )
    return secret


def rotate(
    data: TenantData, endpoint: WebhookEndpoint, grace: timedelta = DEFAULT_GRACE
) -> tuple[str, datetime]:
    """A new secret; the ones active now stay active until now + ``grace`` (0: they stop at once)."""
    data.require(Resource.WEBHOOK, Action.UPDATE)
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise SubscriptionError("grace_seconds", f"between 0 and {int(MAX_GRACE.total_seconds())} seconds")
    now = datetime.now(UTC)
    until = now + grace
    data.session.execute(
        update(WebhookSecret)
        .where(
            WebhookSecret.tenant_id == data.tenant_id,
            WebhookSecret.endpoint_id == endpoint.id,
            (WebhookSecret.expires_at.is_(None)) | (WebhookSecret.expires_at > until),
        )
        .values(expires_at=until)
        .execution_options(synchronize_session=False)
    )
    secret = _add_secret(data, endpoint)
    data.audit(
        "webhook.rotate_secret",
        "webhook_endpoints",
        endpoint.id,
        None,
        {"old_secrets_until": until.isoformat()},
        data.tenant_id,
    )
    return secret, until


def active_secret_count(data: TenantData, endpoint_id: uuid.UUID) -> int:
    now = datetime.now(UTC)
    rows = data.session.scalars(
        select(WebhookSecret.expires_at).where(
            WebhookSecret.tenant_id == data.tenant_id, WebhookSecret.endpoint_id == endpoint_id
        )
    )
    return sum(1 for expires in rows if expires is None or expires > now)


def update_endpoint(data: TenantData, endpoint: WebhookEndpoint, changes: dict[str, Any]) -> WebhookEndpoint:
    clean: dict[str, Any] = {}
    if "url" in changes:
        clean["url"] = check_url(changes["url"])
    if "events" in changes:
        clean["events"] = check_events(changes["events"])
    if "description" in changes:
        clean["description"] = str(changes["description"])[:200]
    if "enabled" in changes:
        clean["enabled"] = bool(changes["enabled"])
        if clean["enabled"]:
            clean["disabled_reason"] = None
    return data.update(endpoint, "webhook.update", clean, Resource.WEBHOOK)


def send_test(data: TenantData, endpoint: WebhookEndpoint) -> uuid.UUID:
    """A ``webhook.test`` event to the endpoint now (signed like every other)."""
    data.require(Resource.WEBHOOK, Action.CREATE)
    now = datetime.now(UTC)
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = {
        "type": "webhook.test",
        "id": event_id,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "tenant_id": str(data.tenant_id),
        "sequence": None,
        "data": {"webhook_id": str(endpoint.id)},
    }
    return outbox.enqueue(
        data.session,
        tenant_id=data.tenant_id,
        url=endpoint.url,
        json_body=payload,
        signing="standard",
        kind="test",
        event_type="webhook.test",
        endpoint_id=endpoint.id,
        msg_id=event_id,
        now=now,
    )


def deliveries(
    data: TenantData, endpoint_id: uuid.UUID, limit: int, offset: int, status: str | None = None
) -> tuple[list[WebhookDelivery], int]:
    stmt = data.select(WebhookDelivery, Resource.WEBHOOK).where(WebhookDelivery.endpoint_id == endpoint_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    return data.page(stmt, limit, offset)


def attempts_of(data: TenantData, delivery_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
    found: dict[uuid.UUID, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return found
    rows = data.session.scalars(
        data.select(WebhookAttempt, Resource.WEBHOOK)
        .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
        .order_by(WebhookAttempt.number)
    )
    for row in rows:
        found[row.delivery_id].append(row)
    return found
