"""World rows of voicemail: one new message in the mailbox of the world's "other user" (who has no
token), so every role's /me routes find it not to be theirs, and administrators can list it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.store.models import Mailbox
from centrex.store.models.voicemail import VoicemailMessage
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    box = session.scalars(select(Mailbox).where(Mailbox.user_id == tw.ids["user"])).one()
    message = VoicemailMessage(
        tenant_id=tw.id,
        mailbox_id=box.id,
        user_id=tw.ids["user"],
        caller="+12175550199",
        caller_name="World Caller",
        received_at=datetime(2026, 1, 5, 15, 0, tzinfo=UTC),
        duration_ms=7000,
        file_path=f"/nonexistent/voicemail/{tw.id}/message.wav",
        size_bytes=112044,
    )
    session.add(message)
    session.flush()
    tw.ids["vm_message"] = message.id
