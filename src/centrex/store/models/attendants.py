"""Auto attendants (issue 4 point 3): menus, their DTMF options, and the schedule that switches menus.

A menu is what a caller hears and presses keys to (``aa.<menu id>`` at the app server). Its
destinations are columns, never packed strings: an action and a target (an extension for
extension/hunt_group/operator, a user id for voicemail, a menu id for sub_menu). A menu reached by
its DID or extension may have a schedule: business hours per weekday in the schedule's IANA time
zone and holiday dates; out of hours the after-hours menu plays, on a holiday the holiday menu (or
the after-hours one). Sub-menus are entered as they are, whatever the time.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, time

from sqlalchemy import Date, ForeignKey, Integer, String, Time, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from centrex.store.models.base import Base, TenantOwned
from centrex.store.types import EnumText


class AttendantAction(enum.StrEnum):
    EXTENSION = "extension"  # a user's extension (forwarding and voicemail as for any call to it)
    HUNT_GROUP = "hunt_group"  # a hunt group's extension
    VOICEMAIL = "voicemail"  # straight into a user's mailbox (target: the user id)
    SUB_MENU = "sub_menu"  # another menu of the tenant (target: the menu id)
    DIAL_BY_NAME = "dial_by_name"  # the directory: letters of the last name
    OPERATOR = "operator"  # the menu's operator extension
    REPEAT = "repeat"  # say the menu again
    HANGUP = "hangup"  # "goodbye" (a destination only: time-out or too many invalid keys)


class AttendantMenu(Base, TenantOwned):
    __tablename__ = "attendant_menus"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    name: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str | None] = mapped_column(String(8), default=None)  # dialled internally
    greeting_text: Mapped[str | None] = mapped_column(String(1000), default=None)  # said by espeak-ng
    greeting_path: Mapped[str | None] = mapped_column(String(500), default=None)  # a recorded WAV
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=5)
    max_invalid: Mapped[int] = mapped_column(Integer, default=3)
    timeout_action: Mapped[AttendantAction] = mapped_column(
        EnumText(AttendantAction), default=AttendantAction.OPERATOR
    )
    timeout_target: Mapped[str | None] = mapped_column(String(64), default=None)
    invalid_action: Mapped[AttendantAction] = mapped_column(
        EnumText(AttendantAction), default=AttendantAction.HANGUP
    )
    invalid_target: Mapped[str | None] = mapped_column(String(64), default=None)
    operator_extension: Mapped[str | None] = mapped_column(String(8), default=None)


class AttendantOption(Base, TenantOwned):
    __tablename__ = "attendant_options"
    __table_args__ = (UniqueConstraint("menu_id", "digit"),)
    menu_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("attendant_menus.id", ondelete="CASCADE"))
    digit: Mapped[str] = mapped_column(String(1))
    action: Mapped[AttendantAction] = mapped_column(EnumText(AttendantAction))
    target: Mapped[str | None] = mapped_column(String(64), default=None)
    label: Mapped[str | None] = mapped_column(String(200), default=None)  # "for sales", said after the key


class AttendantSchedule(Base, TenantOwned):
    """The schedule of one entry menu (in hours that menu plays)."""

    __tablename__ = "attendant_schedules"
    __table_args__ = (UniqueConstraint("menu_id"),)
    menu_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("attendant_menus.id", ondelete="CASCADE"))
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA, e.g. America/Chicago
    after_hours_menu_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("attendant_menus.id", ondelete="CASCADE")
    )
    holiday_menu_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("attendant_menus.id", ondelete="SET NULL"), default=None
    )


class AttendantHours(Base, TenantOwned):
    """Open from ``opens`` to ``closes`` (local time, closes exclusive) on ``weekday`` (0 Monday)."""

    __tablename__ = "attendant_hours"
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("attendant_schedules.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class AttendantHoliday(Base, TenantOwned):
    __tablename__ = "attendant_holidays"
    __table_args__ = (UniqueConstraint("schedule_id", "day"),)
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("attendant_schedules.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)  # a local date of the schedule's time zone
    name: Mapped[str] = mapped_column(String(100), default="")
