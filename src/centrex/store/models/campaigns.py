"""Campaigns (issue 20 §2, cpaas.txt §2.2.2 Engage): contact lists and contacts, the consent ledger,
the tenant's do-not-call list, the operator's local copies of the National Do-Not-Call Registry and
of the Reassigned Numbers Database, campaigns and their recipients (the engagement history, kept no
longer than one year: cpaas.txt §2.4.2 (ii), the campaign-engagement-retention job).

The rules live in cpaas/campaigns/ (eligibility, quiet hours, runner); these are the rows they keep.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, Row, TenantOwned
from centrex.store.types import UTCDateTime


class ContactList(Base, TenantOwned):
    __tablename__ = "contact_lists"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")


class Contact(Base, TenantOwned):
    """One person of a list: an E.164 number, the US state and IANA time zones used for quiet hours
    (given by the tenant, else from the number's area code: ``location_source`` says which)."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("list_id", "number"),)
    list_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("contact_lists.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str | None] = mapped_column(String(2), default=None)  # US state / territory code
    time_zones: Mapped[list[str]] = mapped_column(JSON, default=list)  # IANA names; several: intersect
    location_source: Mapped[str] = mapped_column(String(16), default="number")  # given | number
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class ConsentRecord(Base, TenantOwned):
    """One consent event (a grant or a revocation) of a number, for one channel and purpose: who
    (the number, and the name given), when (``obtained_at``), how (``method``: web-form, paper,
    verbal, keyword, api, import…, and ``evidence``). The latest record of (number, channel,
    purpose) decides. TCPA (47 CFR 64.1200(a)(2)): marketing needs prior express written consent."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_lookup", "tenant_id", "number", "channel", "purpose"),)
    number: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    purpose: Mapped[str] = mapped_column(String(16))  # marketing | informational
    granted: Mapped[bool] = mapped_column(default=True)  # False: a revocation
    obtained_at: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(120), default="")


class DncEntry(Base, TenantOwned):
    """The tenant's own do-not-call list (47 CFR 64.1200(d): company-specific)."""

    __tablename__ = "dnc_entries"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    number: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    added_by: Mapped[str] = mapped_column(String(120), default="")


class RegistryImport(Base, Row):
    """One operator import of a local copy: ``kind`` national-dnc or reassigned."""

    __tablename__ = "registry_imports"
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(200), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    imported_by: Mapped[str] = mapped_column(String(120), default="")


class NationalDncNumber(Base, Row):
    """A number of the National Do-Not-Call Registry (operator-imported copy; not a tenant's row)."""

    __tablename__ = "national_dnc_numbers"
    __table_args__ = (UniqueConstraint("number"),)
    number: Mapped[str] = mapped_column(String(16))
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("registry_imports.id", ondelete="SET NULL"), default=None
    )


class ReassignedNumber(Base, Row):
    """A permanent disconnection reported to the Reassigned Numbers Database (FCC 18-177): a number
    disconnected after the day its consent was given may belong to someone else now."""

    __tablename__ = "reassigned_numbers"
    __table_args__ = (UniqueConstraint("number", "disconnected_on"),)
    number: Mapped[str] = mapped_column(String(16), index=True)
    disconnected_on: Mapped[date] = mapped_column(Date)
    import_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("registry_imports.id", ondelete="SET NULL"), default=None
    )


class Campaign(Base, TenantOwned):
    __tablename__ = "campaigns"
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    purpose: Mapped[str] = mapped_column(String(16))  # marketing | informational
    list_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contact_lists.id")
    )  # NO ACTION: kept with its campaigns
    from_number: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")  # sms
    voice_url: Mapped[str | None] = mapped_column(String(2000), default=None)  # voice: the app's URL
    voice_twiml: Mapped[str | None] = mapped_column(Text, default=None)  # or its document
    rate_per_s: Mapped[float] = mapped_column(Float, default=1.0)  # throttle: sends a second
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    # scheduled | running | completed | canceled
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    runner: Mapped[str | None] = mapped_column(String(120), default=None)  # node holding it
    runner_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CampaignRecipient(Base, TenantOwned):
    """One contact of one campaign: the engagement history (cpaas.txt §2.4.2 (ii): one year).

    status: pending → sending → sent (a message or call left) | skipped (``reason``) | failed
    (``reason``); deferred (quiet hours, ``not_before``) goes back to pending at its time. Delivery
    is read from the message (sms_messages) or call (cpaas_calls) it links to."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        Index("ix_campaign_recipients_work", "campaign_id", "status", "not_before"),
        Index("ix_campaign_recipients_created", "created_at"),
    )
    campaign_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    number: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    detail: Mapped[str | None] = mapped_column(String(300), default=None)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    deferrals: Mapped[int] = mapped_column(Integer, default=0)
    message_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    call_sid: Mapped[str | None] = mapped_column(String(34), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
