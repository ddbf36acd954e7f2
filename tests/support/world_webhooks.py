"""World rows of event webhooks (issue 16 §3): per tenant one subscription with a secret and a
spare one (so it can be deleted)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.cpaas.webhook_signing import new_secret
from centrex.store.models.webhooks import WebhookEndpoint, WebhookSecret
from centrex.store.sealed import seal
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    hook = WebhookEndpoint(
        tenant_id=tw.id, url="https://hooks.example.com/centrex", events=["*"], description=""
    )
    spare = WebhookEndpoint(
        tenant_id=tw.id, url="https://hooks.example.com/spare", events=["call.ended"], description=""
    )
    session.add_all([hook, spare])
    session.flush()
    session.add(
        WebhookSecret(tenant_id=tw.id, endpoint_id=hook.id, secret_sealed=seal(session, new_secret()))
    )
    session.flush()
    tw.ids.update(webhook=hook.id, spare_webhook=spare.id)
