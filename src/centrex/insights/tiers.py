"""The three tiers of insights aggregates and their retention (cpaas.txt §2.4.2 (iii): "real-time
Insights analytics for three (3) days, hourly Insights analytics for fourteen (14) days, and daily
Insights analytics for ninety (90) days"), and the one upsert that adds counts to them.

Buckets start on whole UTC minutes, hours and days. Adding is an ``INSERT … ON CONFLICT DO UPDATE
SET count = count + excluded.count`` (SQLite ≥ 3.24 and PostgreSQL), so several nodes flushing the
same bucket add up instead of overwriting each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from centrex.store.models.insights import InsightsAggregate
from centrex.store.types import utcnow

MINUTE, HOUR, DAY = "minute", "hour", "day"
TIERS = (MINUTE, HOUR, DAY)
STEP = {MINUTE: timedelta(minutes=1), HOUR: timedelta(hours=1), DAY: timedelta(days=1)}
# cpaas.txt §2.4.2 (iii)
RETENTION = {MINUTE: timedelta(days=3), HOUR: timedelta(days=14), DAY: timedelta(days=90)}
KEY = ("tenant_id", "tier", "bucket_start", "metric", "site", "party_from", "party_to")


def floor(at: datetime, tier: str) -> datetime:
    at = at.astimezone(UTC)
    if tier == MINUTE:
        return at.replace(second=0, microsecond=0)
    if tier == HOUR:
        return at.replace(minute=0, second=0, microsecond=0)
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def add_counts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add each row's count and total to its bucket (created if new). Rows carry the KEY columns,
    ``count`` and ``total``; they are sorted so two nodes lock buckets in the same order."""
    if not rows:
        return
    table: Any = InsightsAggregate.__table__
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(table)
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table)
    else:  # pragma: no cover - the two supported stores
        raise RuntimeError(f"insights: no upsert for {dialect}")
    now = utcnow()
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in KEY],
        set_={
            "count": table.c["count"] + stmt.excluded["count"],
            "total": table.c["total"] + stmt.excluded["total"],
            "updated_at": now,
        },
    )
    ordered = sorted(rows, key=lambda r: tuple(str(r[k]) for k in KEY))
    session.execute(stmt, ordered)
