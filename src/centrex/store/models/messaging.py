"""Messaging on storage (issue 16 §4): messages (the message detail records), consent per number
pair, A2P registrations (10DLC brand + campaign, toll-free verification), the carrier's ids of each
message's parts, and where a number's incoming SMS go (its SMS URL).

The rules live in cpaas/messaging/ (segments, keywords, checks); these are the rows they keep.
cpaas.txt §2.4.2: a message's body is kept 30 days, its record 3 years (the message-retention job).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import Money, UTCDateTime


class SmsMessage(Base, TenantOwned):
    """One message in or out: Twilio's Message resource (sid SM…), and the detail record rated by
    its segments. ``body`` is emptied after 30 days (``body_erased_at``), the row deleted after 3 years."""

    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("sid"),
        Index("ix_sms_messages_tenant_created", "tenant_id", "created_at"),
    )
    sid: Mapped[str] = mapped_column(String(34))
    direction: Mapped[str] = mapped_column(String(16))  # outbound-api | outbound-reply | inbound
    from_number: Mapped[str] = mapped_column(String(16))
    to_number: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")
    body_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM")  # GSM | UCS2
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error_message: Mapped[str | None] = mapped_column(String(300), default=None)
    price: Mapped[Decimal | None] = mapped_column(Money(), default=None)  # negative, as Twilio's
    price_unit: Mapped[str] = mapped_column(String(3), default="USD")
    category: Mapped[str] = mapped_column(String(32), default="sms_outbound")  # billing category
    status_callback: Mapped[str | None] = mapped_column(String(2000), default=None)
    parts_done: Mapped[int] = mapped_column(Integer, default=0)  # parts with a final receipt
    parts_failed: Mapped[int] = mapped_column(Integer, default=0)
    date_sent: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SmsCarrierId(Base, TenantOwned):
    """The carrier's message id of one part (submit_sm_resp), so a receipt finds its message."""

    __tablename__ = "sms_carrier_ids"
    __table_args__ = (Index("ix_sms_carrier_ids_carrier_id", "carrier_id"),)
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("sms_messages.id", ondelete="CASCADE"))
    carrier_id: Mapped[str] = mapped_column(String(65))
    part: Mapped[int] = mapped_column(Integer, default=1)


class SmsConsent(Base, TenantOwned):
    """Consent per (tenant number, remote number), CTIA: a STOP from the remote opts it out of that
    number's messages until it sends START/UNSTOP/YES. Who, when and by which keyword are kept."""

    __tablename__ = "sms_consents"
    __table_args__ = (UniqueConstraint("tenant_id", "number", "remote"),)
    number: Mapped[str] = mapped_column(String(16))
    remote: Mapped[str] = mapped_column(String(16))
    opted_out: Mapped[bool] = mapped_column(default=False)
    keyword: Mapped[str] = mapped_column(String(32), default="")
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class A2pRegistration(Base, TenantOwned):
    """An A2P registration of US carriers: a 10DLC brand + campaign (The Campaign Registry) and the
    long codes it covers, or a toll-free verification of toll-free numbers. Only ``approved`` ones
    let a number send (reference: cpaas-e911-numbers.md §2.3)."""

    __tablename__ = "a2p_registrations"
    kind: Mapped[str] = mapped_column(String(16))  # 10dlc | toll-free
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    brand_name: Mapped[str] = mapped_column(String(200), default="")
    brand_ein: Mapped[str] = mapped_column(String(20), default="")
    campaign_id: Mapped[str] = mapped_column(String(40), default="")
    use_case: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    rejection_reason: Mapped[str] = mapped_column(String(300), default="")


class SmsNumberConfig(Base, TenantOwned):
    """Where a number's incoming SMS go: its SMS URL and method (Twilio's SmsUrl/SmsMethod)."""

    __tablename__ = "sms_number_configs"
    __table_args__ = (UniqueConstraint("number"),)
    number: Mapped[str] = mapped_column(String(16))
    sms_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    sms_method: Mapped[str] = mapped_column(String(8), default="POST")
    status_callback: Mapped[str | None] = mapped_column(String(2000), default=None)
