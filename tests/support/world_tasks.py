"""World rows of the portal's operator tasks (issue 18 §2): one finished rate-deck import task per
tenant world, so ``GET /tasks/{task}`` has an id."""

from __future__ import annotations

from sqlalchemy.orm import Session

from centrex.store.models.portal_tasks import PortalTask
from centrex.store.types import utcnow
from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    task = PortalTask(
        kind="rate_deck_import",
        status="done",
        phase="done",
        done=1,
        total=1,
        actor="operator:ops@example.com",
        params={"name": f"deck-{tw.domain}"},
        result={"rows": 1},
        finished_at=utcnow(),
    )
    session.add(task)
    session.flush()
    tw.ids["task"] = task.id
