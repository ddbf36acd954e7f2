"""Toll-fraud spikes (issue 15 §3, migration 0021): a tenant's international and premium minutes in
the last hour far above its baseline, found by fairuse/spikes.py and listed with the other fraud
signals (fairuse/fraud_view.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime


class FraudSpike(Base, TenantOwned):
    __tablename__ = "fraud_spikes"
    __table_args__ = (Index("ix_fraud_spikes_tenant_window", "tenant_id", "window_end"),)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    classes: Mapped[str] = mapped_column(String(64))  # "international,premium"
    minutes: Mapped[int] = mapped_column(Integer)  # billable minutes in the window (rounded up)
    calls: Mapped[int] = mapped_column(Integer)
    baseline_minutes: Mapped[int] = mapped_column(Integer)  # per hour, over the baseline days
    top_destination: Mapped[str] = mapped_column(String(32), default="")
