"""Messages refused because the recipient had opted out (issue 16 §4, cpaas.txt §2.5; migration
0042): what the fair-use review counts to notice non-consensual messaging (cpaas/prohibited_use.py).
A refused message is never sent or stored as a message; this row keeps only who tried to reach whom
and when — a detail record, deleted with the message records after three years (§2.4.2 (iv))."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import UTCDateTime, utcnow


class SmsRefusal(Base, TenantOwned):
    __tablename__ = "sms_refusals"
    __table_args__ = (Index("ix_sms_refusals_tenant_at", "tenant_id", "at"),)
    from_number: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(16))
    code: Mapped[int] = mapped_column(Integer)  # Twilio's: 21610 unsubscribed recipient
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
