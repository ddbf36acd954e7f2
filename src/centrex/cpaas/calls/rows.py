"""The cpaas_calls rows of calls placed by the API or a <Dial> (issue 16 §2): written as they go.

The app server's loop never waits on the database: these run in a worker thread
(``asyncio.to_thread``). Twilio's statuses: queued, ringing, in-progress, completed, busy, failed,
no-answer, canceled (twilio-oai ``call_enum_status``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.cpaas.sids import sid_of
from centrex.store.db import transaction
from centrex.store.models.cpaas_voice import CpaasCall, CpaasCallNotice

FINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def now() -> datetime:
    return datetime.now(UTC)


def new_row(session: Session, tenant_id: uuid.UUID, **values: Any) -> CpaasCall:
    """A call row whose SID is its id's (cpaas/sids.py sid_of), so either finds the other."""
    row_id = uuid.uuid4()
    row = CpaasCall(id=row_id, tenant_id=tenant_id, sid=sid_of("CA", row_id), **values)
    session.add(row)
    session.flush()
    return row


def update(sessions: sessionmaker[Session], sid: str, **changes: Any) -> None:
    """Change a call's row; a final status is never replaced by another."""
    with transaction(sessions) as session:
        row = session.scalar(select(CpaasCall).where(CpaasCall.sid == sid))
        if row is None:
            return
        if row.status in FINAL and "status" in changes:
            return
        for name, value in changes.items():
            setattr(row, name, value)


def ended(sessions: sessionmaker[Session], sid: str, status: str, answered_at: datetime | None) -> None:
    end = now()
    duration = int((end - answered_at).total_seconds()) if answered_at is not None else 0
    update(sessions, sid, status=status, end_time=end, duration_s=duration)


def notice(sessions: sessionmaker[Session], sid: str, message: str, *, code: int | None = None) -> None:
    """A line in the call's log (Twilio's debugger): why a call could not go where it was sent."""
    with transaction(sessions) as session:
        row = session.scalar(select(CpaasCall).where(CpaasCall.sid == sid))
        if row is not None:
            session.add(
                CpaasCallNotice(tenant_id=row.tenant_id, call_id=row.id, code=code, message=message[:1000])
            )


def create_child(sessions: sessionmaker[Session], tenant_id: uuid.UUID, **values: Any) -> str:
    with transaction(sessions) as session:
        return new_row(session, tenant_id, **values).sid
