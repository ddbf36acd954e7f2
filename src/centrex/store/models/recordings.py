"""Call recording (issue 4 point 5; hosted-pbx.txt, "Hosted Call Recording"): who is recorded, and
the recordings made.

- ``recording_settings``: one row per tenant that uses the service — the tenant's default mode, the
  on-demand feature code and the retention period (hosted-pbx.txt, data protection 2.f: "all call
  records will be deleted on expiration of the retention period (i.e. default of 12 months)"). A
  tenant without a row records nothing.
- ``recording_user_policies``: a user's own mode, overriding the tenant's default.
- ``call_recordings``: one row per recording (a call recorded from its answer, or each on-demand
  segment), linked to the call's CDR by ``call_id`` (``cdrs.call_id``; no foreign key, because the
  CDR and the recording are written by different writers and either may land first). The WAV is a
  file under the data dir; retention deletes the file and marks the row (``deleted_at``), so what
  was recorded and when it went stays auditable.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import EnumText, UTCDateTime

DEFAULT_RETENTION_MONTHS = 12  # hosted-pbx.txt, data protection 2.f
DEFAULT_FEATURE_CODE = "*1"


class RecordingMode(enum.StrEnum):
    OFF = "off"
    ALL = "all"  # every answered call of the user, internal ones too
    INBOUND = "inbound"  # calls from outside (a carrier or peer)
    OUTBOUND = "outbound"  # calls to outside
    ON_DEMAND = "on_demand"  # started and stopped by the user with the feature code


class RecordingTrigger(enum.StrEnum):
    POLICY = "policy"
    ON_DEMAND = "on_demand"


class RecordingSettings(Base, TenantOwned):
    __tablename__ = "recording_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    mode: Mapped[RecordingMode] = mapped_column(EnumText(RecordingMode), default=RecordingMode.OFF)
    feature_code: Mapped[str] = mapped_column(String(8), default=DEFAULT_FEATURE_CODE)
    retention_months: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETENTION_MONTHS)


class RecordingUserPolicy(Base, TenantOwned):
    __tablename__ = "recording_user_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[RecordingMode] = mapped_column(EnumText(RecordingMode))


class CallRecording(Base, TenantOwned):
    __tablename__ = "call_recordings"
    __table_args__ = (
        Index("ix_call_recordings_tenant_started", "tenant_id", "started_at"),
        Index("ix_call_recordings_call", "tenant_id", "call_id"),
    )
    call_id: Mapped[str] = mapped_column(String(100))  # = cdrs.call_id
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )  # whose policy (or feature code) made it; none for a PBX trunk's calls under the tenant default
    trigger: Mapped[RecordingTrigger] = mapped_column(EnumText(RecordingTrigger))
    direction: Mapped[str] = mapped_column(String(16))  # internal / inbound / outbound
    caller: Mapped[str] = mapped_column(String(64), default="")
    callee: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # None: in progress
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    # A key under the media directory (store/media_files.py; absolute in rows older than keys).
    file_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # 115 MB an hour
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
