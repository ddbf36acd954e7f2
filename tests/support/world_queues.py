"""World rows of call-center queues: a queue at extension 4000 whose one member is the world's end
user (so an end user's token reads its live figures as its agent, other users' do not), logged in,
with one answered call in its history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from centrex.store.models.queues import CallQueue, QueueAgent, QueueEventRow
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    queue = CallQueue(tenant_id=tw.id, name="Support", extension="4000", overflow_destination="3000")
    session.add(queue)
    session.flush()
    login = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    session.add(
        QueueAgent(
            tenant_id=tw.id,
            queue_id=queue.id,
            user_id=tw.ids["end_user"],
            position=0,
            logged_in=True,
            logged_in_at=login,
        )
    )
    call = uuid.uuid4()
    for kind, at, agent, wait in (
        ("agent_login", login, tw.ids["end_user"], None),
        ("entered", datetime(2026, 1, 5, 10, 0, tzinfo=UTC), None, None),
        ("answered", datetime(2026, 1, 5, 10, 0, 9, tzinfo=UTC), tw.ids["end_user"], 9000),
    ):
        session.add(
            QueueEventRow(
                tenant_id=tw.id,
                queue_id=queue.id,
                kind=kind,
                at=at,
                call_id=None if kind == "agent_login" else call,
                agent_id=agent,
                wait_ms=wait,
            )
        )
    session.flush()
    tw.ids["queue"] = queue.id
