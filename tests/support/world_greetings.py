"""Which greeting the route matrix asks for (issue 18 §2): a name, not a row."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.support.world import TenantWorld


def extend(session: Session, tw: TenantWorld) -> None:
    tw.ids.update(kind="busy")  # type: ignore[dict-item]
