"""Insights (issue 20 §3, cpaas.txt §2.2.3): aggregates of a tenant's calls, messages and flow steps,
its saved dashboards and its alert rules.

- ``insights_aggregates``: one row per (tier, bucket, metric, site, from-party, to-party) with the
  number of events and the sum of their values (talk time in ms for calls). Tiers ``minute`` (the
  real-time tier), ``hour`` and ``day``, kept 3, 14 and 90 days (cpaas.txt §2.4.2 (iii),
  insights/retention.py). ``site`` is a site id or "" (none known); parties are E.164 numbers,
  extensions or "" — never NULL, so the unique key works as an upsert key on SQLite and PostgreSQL.
- ``insights_dashboards``: a tenant's saved dashboards (the filters and the metrics shown).
- ``insights_alert_rules``: a figure crossing a threshold, or a designated field of an event
  changing (cpaas.txt §2.2.3 "notifications to desired users for changes in designated data
  fields"); who is told (users by e-mail, the tenant's webhooks).
- ``insights_alert_firings``: each time a rule fired, and what the notifications did.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class InsightsAggregate(Base, TenantOwned):
    __tablename__ = "insights_aggregates"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "tier",
            "bucket_start",
            "metric",
            "site",
            "party_from",
            "party_to",
            name="uq_insights_aggregates_key",
        ),
        Index("ix_insights_aggregates_tier_bucket", "tier", "bucket_start"),
    )
    tier: Mapped[str] = mapped_column(String(8))  # minute, hour, day
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime)
    metric: Mapped[str] = mapped_column(String(48))
    site: Mapped[str] = mapped_column(String(36), default="")
    party_from: Mapped[str] = mapped_column(String(64), default="")
    party_to: Mapped[str] = mapped_column(String(64), default="")
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class InsightsDashboard(Base, TenantOwned):
    __tablename__ = "insights_dashboards"
    name: Mapped[str] = mapped_column(String(100))
    metrics: Mapped[list[str]] = mapped_column(JSON, default=list)
    tier: Mapped[str] = mapped_column(String(8), default="hour")
    range_hours: Mapped[int] = mapped_column(Integer, default=24)
    site: Mapped[str] = mapped_column(String(36), default="")
    party: Mapped[str] = mapped_column(String(64), default="")


class InsightsAlertRule(Base, TenantOwned):
    __tablename__ = "insights_alert_rules"
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # threshold, change
    # threshold: sum of ``metric`` (its count, or its total with value="total") over the last
    # ``window_minutes`` compared with ``op`` ``threshold``
    metric: Mapped[str] = mapped_column(String(48), default="")
    value: Mapped[str] = mapped_column(String(8), default="count")
    window_minutes: Mapped[int] = mapped_column(Integer, default=5)
    op: Mapped[str] = mapped_column(String(2), default=">")
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    # change: the ``field`` of ``event_type`` events (e.g. message.* status, call.ended disposition)
    event_type: Mapped[str] = mapped_column(String(48), default="")
    field: Mapped[str] = mapped_column(String(48), default="")
    site: Mapped[str] = mapped_column(String(36), default="")
    party: Mapped[str] = mapped_column(String(64), default="")
    notify_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    notify_webhook: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    last_value: Mapped[str | None] = mapped_column(String(200), default=None)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class InsightsAlertFiring(Base, TenantOwned):
    __tablename__ = "insights_alert_firings"
    rule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("insights_alert_rules.id", ondelete="CASCADE"), index=True
    )
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    value: Mapped[str] = mapped_column(String(200))
    previous: Mapped[str | None] = mapped_column(String(200), default=None)
    message: Mapped[str] = mapped_column(String(500))
    emailed: Mapped[int] = mapped_column(Integer, default=0)
    email_detail: Mapped[str] = mapped_column(String(500), default="")
    webhook: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
