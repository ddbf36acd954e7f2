"""Users, their devices (lines) and mailboxes."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.models.enums import ButtonKind
from centrex.store.types import EnumText


class User(Base, TenantOwned):
    """A person with an extension. Forwarding and DND are columns, not packed strings."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "extension"),)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    extension: Mapped[str] = mapped_column(String(8))
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    restriction_class_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("call_restriction_classes.id", ondelete="SET NULL"), default=None
    )
    # hosted-pbx.txt MAC 3, telephone set coverage / "ring to" change.
    forward_always: Mapped[str | None] = mapped_column(String(32), default=None)
    forward_busy: Mapped[str | None] = mapped_column(String(32), default=None)
    forward_no_answer: Mapped[str | None] = mapped_column(String(32), default=None)
    forward_no_answer_seconds: Mapped[int] = mapped_column(Integer, default=20)
    do_not_disturb: Mapped[bool] = mapped_column(Boolean, default=False)
    directory_listed: Mapped[bool] = mapped_column(Boolean, default=True)


class Device(Base, TenantOwned):
    """A line: SIP credentials stored as HA1 per digest algorithm, never the password."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("tenant_id", "sip_username"),)
    sip_username: Mapped[str] = mapped_column(String(64))
    ha1_md5: Mapped[str] = mapped_column(String(32))
    ha1_sha256: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    site_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("sites.id", ondelete="SET NULL"), default=None
    )
    description: Mapped[str | None] = mapped_column(String(200), default=None)
    mac_address: Mapped[str | None] = mapped_column(String(17), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class DeviceButton(Base, TenantOwned):
    """hosted-pbx.txt MAC 1, telephone button programming (line, speed dial, busy lamp)."""

    __tablename__ = "device_buttons"
    __table_args__ = (UniqueConstraint("device_id", "position"),)
    device_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("devices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ButtonKind] = mapped_column(EnumText(ButtonKind))
    value: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(32), default=None)


class Mailbox(Base, TenantOwned):
    """A user's voicemail box: hosted-pbx.txt MAC 8, voicemail programming change."""

    __tablename__ = "mailboxes"
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    email_notify: Mapped[bool] = mapped_column(Boolean, default=False)
    attach_audio: Mapped[bool] = mapped_column(Boolean, default=True)
    max_message_seconds: Mapped[int] = mapped_column(Integer, default=180)
    rings_before_voicemail: Mapped[int] = mapped_column(Integer, default=4)
