"""World rows of voice applications (issue 16 §1): per tenant one application."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.cpaas.sids import new_sid
from centrex.store.models.cpaas_voice import Application
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    app = Application(tenant_id=tw.id, sid=new_sid("AP"), voice_url="https://example.com/voice")
    session.add(app)
    session.flush()
    tw.ids.update(application=app.id)
