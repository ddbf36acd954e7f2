"""Voicemail messages (issue 4 point 2): one row per message left in a user's mailbox.

The audio is a WAV file (8 kHz 16-bit mono) written by the app server under the data dir; the row
keeps what a mailbox listing shows and where the file is. ``folder`` is new until the owner hears
or saves it (then saved); a deleted message loses both row and file.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import EnumText, UTCDateTime


class VoicemailFolder(enum.StrEnum):
    NEW = "new"
    SAVED = "saved"


class VoicemailMessage(Base, TenantOwned):
    __tablename__ = "voicemail_messages"
    __table_args__ = (Index("ix_voicemail_messages_box", "tenant_id", "user_id", "folder", "received_at"),)
    mailbox_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("mailboxes.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    # Who called, as the switch named them: an extension or an E.164 number, and a display name.
    caller: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(200), default="")
    call_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # X-Centrex-Call
    reason: Mapped[str] = mapped_column(String(16), default="unavailable")  # busy/no-answer/unavailable
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    folder: Mapped[VoicemailFolder] = mapped_column(EnumText(VoicemailFolder), default=VoicemailFolder.NEW)
    # A key under the media directory (store/media_files.py; absolute in rows older than keys).
    file_path: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(Integer)
