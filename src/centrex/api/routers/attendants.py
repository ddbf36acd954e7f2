"""Auto attendants (issue 4 point 3): menus with their options and schedule, one document each.

Set up like hunt groups (hosted-pbx.txt MAC 5: moves, adds and changes by the office
administrator, back-up or operator), audited as one entry per change with the options and the
schedule in it. Every destination is checked against the tenant's own data (422 naming the field
and the rule): an extension must be a user's, a hunt group's a hunt group's, a mailbox a user with
one, a sub-menu another menu of the tenant. A menu used by another menu, a schedule or a DID cannot
be deleted (409) until they stop using it.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, time
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from centrex.api.deps import PagingDep, TenantDep
from centrex.api.fields import Extension, LocalTime, Out, Page, page_of
from centrex.store.access import jsonable
from centrex.store.errors import Conflict, Invalid
from centrex.store.models import HuntGroup, Mailbox, NumberTarget, PhoneNumber, User
from centrex.store.models.attendants import (
    AttendantAction,
    AttendantHoliday,
    AttendantHours,
    AttendantMenu,
    AttendantOption,
    AttendantSchedule,
)
from centrex.store.policy import Action, Resource

router = APIRouter(prefix="/tenants/{tenant_id}", tags=["auto attendants"])
RES = Resource.ATTENDANT
AUDIT = "mac.attendant"
A = AttendantAction
Digit = Annotated[str, Field(pattern=r"^[0-9*#]$", description="one key: 0-9, * or #")]
# Where a time-out or too many invalid keys send the caller (no repeat or directory: they loop).
LEAVING = (A.EXTENSION, A.HUNT_GROUP, A.VOICEMAIL, A.SUB_MENU, A.OPERATOR, A.HANGUP)
_WAV = re.compile(r"^/[A-Za-z0-9_./-]+\.wav$")


class OptionIn(BaseModel):
    digit: Digit
    action: AttendantAction
    target: str | None = Field(None, max_length=64)
    label: str | None = Field(None, max_length=200, description='said as "For <label>, press <digit>"')


class HoursIn(BaseModel):
    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday")
    opens: LocalTime
    closes: LocalTime = Field(description="exclusive; 00:00 is midnight")


class HolidayIn(BaseModel):
    day: date
    name: str = Field("", max_length=100)


class ScheduleIn(BaseModel):
    time_zone: str = Field(max_length=64, description="IANA, e.g. America/Chicago")
    after_hours_menu_id: uuid.UUID
    holiday_menu_id: uuid.UUID | None = None
    hours: list[HoursIn] = Field(default_factory=list, max_length=50)
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=200)


class MenuIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    extension: Extension | None = None
    greeting_text: str | None = Field(None, max_length=1000)
    greeting_path: str | None = Field(None, max_length=500)
    timeout_seconds: int = Field(5, ge=1, le=60)
    max_invalid: int = Field(3, ge=1, le=10)
    timeout_action: AttendantAction = A.OPERATOR
    timeout_target: str | None = Field(None, max_length=64)
    invalid_action: AttendantAction = A.HANGUP
    invalid_target: str | None = Field(None, max_length=64)
    operator_extension: Extension | None = None
    options: list[OptionIn] = Field(default_factory=list, max_length=12)
    schedule: ScheduleIn | None = None


class MenuPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    extension: Extension | None = None
    greeting_text: str | None = Field(None, max_length=1000)
    greeting_path: str | None = Field(None, max_length=500)
    timeout_seconds: int | None = Field(None, ge=1, le=60)
    max_invalid: int | None = Field(None, ge=1, le=10)
    timeout_action: AttendantAction | None = None
    timeout_target: str | None = Field(None, max_length=64)
    invalid_action: AttendantAction | None = None
    invalid_target: str | None = Field(None, max_length=64)
    operator_extension: Extension | None = None
    options: list[OptionIn] | None = Field(None, max_length=12, description="replaces the options")
    schedule: ScheduleIn | None = Field(None, description="replaces the schedule; null removes it")


class OptionOut(Out):
    digit: str
    action: AttendantAction
    target: str | None
    label: str | None


class HoursOut(Out):
    weekday: int
    opens: LocalTime
    closes: LocalTime


class HolidayOut(Out):
    day: date
    name: str


class ScheduleOut(Out):
    time_zone: str
    after_hours_menu_id: uuid.UUID
    holiday_menu_id: uuid.UUID | None
    hours: list[HoursOut]
    holidays: list[HolidayOut]


class MenuOut(Out):
    id: uuid.UUID
    name: str
    extension: str | None
    greeting_text: str | None
    greeting_path: str | None
    timeout_seconds: int
    max_invalid: int
    timeout_action: AttendantAction
    timeout_target: str | None
    invalid_action: AttendantAction
    invalid_target: str | None
    operator_extension: str | None
    app_user: str = Field(description="the app server's Request-URI user: aa.<id>")
    options: list[OptionOut]
    schedule: ScheduleOut | None


COLUMNS = (
    "name",
    "extension",
    "greeting_text",
    "greeting_path",
    "timeout_seconds",
    "max_invalid",
    "timeout_action",
    "timeout_target",
    "invalid_action",
    "invalid_target",
    "operator_extension",
)


# -- reading -----------------------------------------------------------------------------------------
def _out(data: TenantDep, menu: AttendantMenu) -> dict[str, Any]:
    s = data.session
    options = s.scalars(
        select(AttendantOption).where(AttendantOption.menu_id == menu.id).order_by(AttendantOption.digit)
    ).all()
    schedule = s.scalar(select(AttendantSchedule).where(AttendantSchedule.menu_id == menu.id))
    sched: dict[str, Any] | None = None
    if schedule is not None:
        hours = s.scalars(
            select(AttendantHours)
            .where(AttendantHours.schedule_id == schedule.id)
            .order_by(AttendantHours.weekday, AttendantHours.opens)
        ).all()
        holidays = s.scalars(
            select(AttendantHoliday)
            .where(AttendantHoliday.schedule_id == schedule.id)
            .order_by(AttendantHoliday.day)
        ).all()
        sched = {
            "time_zone": schedule.time_zone,
            "after_hours_menu_id": schedule.after_hours_menu_id,
            "holiday_menu_id": schedule.holiday_menu_id,
            "hours": [{"weekday": h.weekday, "opens": h.opens, "closes": h.closes} for h in hours],
            "holidays": [{"day": h.day, "name": h.name} for h in holidays],
        }
    return {
        "id": menu.id,
        **{c: getattr(menu, c) for c in COLUMNS},
        "app_user": f"aa.{menu.id}",
        "options": [
            {"digit": o.digit, "action": o.action, "target": o.target, "label": o.label} for o in options
        ],
        "schedule": sched,
    }


def _audit_doc(doc: dict[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, time):
            return value.isoformat()
        return jsonable(value)

    return {k: walk(v) for k, v in doc.items()}


# -- checks ------------------------------------------------------------------------------------------
def _user_by_extension(data: TenantDep, ext: str) -> uuid.UUID | None:
    return data.session.scalar(select(User.id).where(User.tenant_id == data.tenant_id, User.extension == ext))


def _group_by_extension(data: TenantDep, ext: str) -> uuid.UUID | None:
    return data.session.scalar(
        select(HuntGroup.id).where(HuntGroup.tenant_id == data.tenant_id, HuntGroup.extension == ext)
    )


def _menu_of_tenant(data: TenantDep, menu_id: uuid.UUID | None) -> bool:
    if menu_id is None:
        return False
    menu = data.session.get(AttendantMenu, menu_id)
    return menu is not None and menu.tenant_id == data.tenant_id


def _check_destination(
    data: TenantDep,
    field: str,
    action: AttendantAction,
    target: str | None,
    menu_id: uuid.UUID | None,
    operator_extension: str | None,
) -> str | None:
    """The target as stored (None where the action takes none), or 422 naming ``field``."""
    if action in (A.EXTENSION, A.HUNT_GROUP):
        if not target:
            raise Invalid(f"{field}: {action.value} needs an extension", field=field, rule="required")
        found = (
            _user_by_extension(data, target) if action is A.EXTENSION else _group_by_extension(data, target)
        )
        if found is None:
            what = "user" if action is A.EXTENSION else "hunt group"
            raise Invalid(f"{field}: no {what} has extension {target}", field=field, rule="exists_in_tenant")
        return target
    if action is A.OPERATOR:
        if target:
            if _user_by_extension(data, target) is None and _group_by_extension(data, target) is None:
                raise Invalid(f"{field}: no extension {target}", field=field, rule="exists_in_tenant")
            return target
        if not operator_extension:
            raise Invalid(
                f"{field}: operator needs a target or the menu's operator_extension",
                field=field,
                rule="operator_extension_required",
            )
        return None
    if action is A.VOICEMAIL:
        try:
            user_id = uuid.UUID(str(target))
        except ValueError:
            raise Invalid(f"{field}: voicemail needs a user id", field=field, rule="uuid") from None
        box = data.session.scalar(
            select(Mailbox.id).where(Mailbox.tenant_id == data.tenant_id, Mailbox.user_id == user_id)
        )
        if box is None:
            raise Invalid(f"{field}: user {user_id} has no mailbox here", field=field, rule="mailbox_exists")
        return str(user_id)
    if action is A.SUB_MENU:
        try:
            sub = uuid.UUID(str(target))
        except ValueError:
            raise Invalid(f"{field}: sub_menu needs a menu id", field=field, rule="uuid") from None
        if sub == menu_id:
            raise Invalid(f"{field}: a menu cannot be its own sub-menu", field=field, rule="not_self")
        if not _menu_of_tenant(data, sub):
            raise Invalid(f"{field}: no menu {sub} in this tenant", field=field, rule="exists_in_tenant")
        return str(sub)
    return None  # dial_by_name, repeat, hangup: no target


def _check_menu(data: TenantDep, values: dict[str, Any], menu_id: uuid.UUID | None) -> None:
    ext = values.get("extension")
    if ext:
        clash = (
            _user_by_extension(data, ext)
            or _group_by_extension(data, ext)
            or data.session.scalar(
                select(AttendantMenu.id).where(
                    AttendantMenu.tenant_id == data.tenant_id,
                    AttendantMenu.extension == ext,
                    AttendantMenu.id != menu_id if menu_id else AttendantMenu.id.is_not(None),
                )
            )
        )
        if clash is not None:
            raise Conflict(f"extension {ext} is already in use", field="extension", rule="unique")
    name_clash = data.session.scalar(
        select(AttendantMenu.id).where(
            AttendantMenu.tenant_id == data.tenant_id,
            AttendantMenu.name == values["name"],
            AttendantMenu.id != menu_id if menu_id else AttendantMenu.id.is_not(None),
        )
    )
    if name_clash is not None:
        raise Conflict(f"a menu is already named {values['name']!r}", field="name", rule="unique")
    op = values.get("operator_extension")
    if op and _user_by_extension(data, op) is None and _group_by_extension(data, op) is None:
        raise Invalid(
            f"operator_extension: no extension {op}", field="operator_extension", rule="exists_in_tenant"
        )
    path = values.get("greeting_path")
    if path and (not _WAV.match(path) or "/../" in f"{path}/"):
        raise Invalid(
            "greeting_path: an absolute path of a .wav file (letters, digits, _ . / -; no ..)",
            field="greeting_path",
            rule="wav_path",
        )
    for kind in ("timeout", "invalid"):
        action = A(values[f"{kind}_action"])
        if action not in LEAVING:
            raise Invalid(
                f"{kind}_action: one of {', '.join(a.value for a in LEAVING)}",
                field=f"{kind}_action",
                rule="one_of",
            )
        values[f"{kind}_target"] = _check_destination(
            data, f"{kind}_target", action, values.get(f"{kind}_target"), menu_id, op
        )


def _set_options(data: TenantDep, menu: AttendantMenu, options: list[OptionIn]) -> None:
    digits = [o.digit for o in options]
    if len(digits) != len(set(digits)):
        raise Invalid("options: a key is used twice", field="options", rule="unique_digit")
    rows = []
    for i, o in enumerate(options):
        target = _check_destination(
            data, f"options.{i}.target", o.action, o.target, menu.id, menu.operator_extension
        )
        rows.append(
            {"menu_id": menu.id, "digit": o.digit, "action": o.action, "target": target, "label": o.label}
        )
    for old in data.session.scalars(select(AttendantOption).where(AttendantOption.menu_id == menu.id)):
        data.session.delete(old)
    data.session.flush()
    data.add_parts(AttendantOption, rows, resource=RES)


def _set_schedule(data: TenantDep, menu: AttendantMenu, schedule: ScheduleIn | None) -> None:
    old = data.session.scalar(select(AttendantSchedule).where(AttendantSchedule.menu_id == menu.id))
    if old is not None:
        data.session.delete(old)  # hours and holidays go with it
        data.session.flush()
    if schedule is None:
        return
    if schedule.time_zone not in _zones():
        raise Invalid(
            f"schedule.time_zone: {schedule.time_zone!r} is not an IANA time zone",
            field="schedule.time_zone",
            rule="iana_time_zone",
        )
    for field in ("after_hours_menu_id", "holiday_menu_id"):
        value = getattr(schedule, field)
        if value is not None and not _menu_of_tenant(data, value):
            raise Invalid(
                f"schedule.{field}: no menu {value} in this tenant",
                field=f"schedule.{field}",
                rule="exists_in_tenant",
            )
    for i, h in enumerate(schedule.hours):
        if not (h.opens < h.closes or h.closes == time(0)):
            raise Invalid(
                f"schedule.hours.{i}: opens {h.opens} is not before closes {h.closes}",
                field=f"schedule.hours.{i}.closes",
                rule="opens_before_closes",
            )
    days = [h.day for h in schedule.holidays]
    if len(days) != len(set(days)):
        raise Invalid(
            "schedule.holidays: a day is listed twice", field="schedule.holidays", rule="unique_day"
        )
    row = AttendantSchedule(
        tenant_id=data.tenant_id,
        menu_id=menu.id,
        time_zone=schedule.time_zone,
        after_hours_menu_id=schedule.after_hours_menu_id,
        holiday_menu_id=schedule.holiday_menu_id,
    )
    data.session.add(row)
    data.session.flush()
    data.add_parts(
        AttendantHours,
        [
            {"schedule_id": row.id, "weekday": h.weekday, "opens": h.opens, "closes": h.closes}
            for h in schedule.hours
        ],
        resource=RES,
    )
    data.add_parts(
        AttendantHoliday,
        [{"schedule_id": row.id, "day": h.day, "name": h.name} for h in schedule.holidays],
        resource=RES,
    )


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


# -- routes ------------------------------------------------------------------------------------------
@router.get("/attendants", response_model=Page[MenuOut])
def list_attendants(data: TenantDep, paging: PagingDep) -> Any:
    stmt = data.select(AttendantMenu, RES).order_by(AttendantMenu.name)
    rows, total = data.page(stmt, paging.limit, paging.offset)
    return page_of([_out(data, m) for m in rows], total, paging.limit, paging.offset)


@router.post("/attendants", response_model=MenuOut, status_code=201)
def create_attendant(body: MenuIn, data: TenantDep) -> Any:
    data.require(RES, Action.CREATE)
    values = body.model_dump(include=set(COLUMNS))
    _check_menu(data, values, None)
    menu = AttendantMenu(tenant_id=data.tenant_id, **values)
    data.session.add(menu)
    data.session.flush()
    _set_options(data, menu, body.options)
    _set_schedule(data, menu, body.schedule)
    after = _out(data, menu)
    data.audit(AUDIT, AttendantMenu.__tablename__, menu.id, None, _audit_doc(after), data.tenant_id)
    return after


@router.get("/attendants/{menu_id}", response_model=MenuOut)
def get_attendant(menu_id: uuid.UUID, data: TenantDep) -> Any:
    return _out(data, data.get(AttendantMenu, menu_id, RES))


@router.patch("/attendants/{menu_id}", response_model=MenuOut)
def patch_attendant(menu_id: uuid.UUID, body: MenuPatch, data: TenantDep) -> Any:
    data.require(RES, Action.UPDATE)
    menu = data.get(AttendantMenu, menu_id, RES)
    before = _out(data, menu)
    changes = body.model_dump(exclude_unset=True)
    options = changes.pop("options", None)
    schedule_given = "schedule" in changes
    changes.pop("schedule", None)
    for required in ("name", "timeout_seconds", "max_invalid", "timeout_action", "invalid_action"):
        if required in changes and changes[required] is None:
            changes.pop(required)
    values = {c: getattr(menu, c) for c in COLUMNS} | changes
    _check_menu(data, values, menu.id)
    for key in COLUMNS:
        setattr(menu, key, values[key])
    data.session.flush()
    if options is not None:
        assert body.options is not None
        _set_options(data, menu, body.options)
    if schedule_given:
        _set_schedule(data, menu, body.schedule)
    after = _out(data, menu)
    diff = {k for k in after if before[k] != after[k]}
    if diff:
        b, a = _audit_doc(before), _audit_doc(after)
        data.audit(
            AUDIT,
            AttendantMenu.__tablename__,
            menu.id,
            {k: b[k] for k in diff},
            {k: a[k] for k in diff},
            data.tenant_id,
        )
    return after


@router.delete("/attendants/{menu_id}", status_code=204)
def delete_attendant(menu_id: uuid.UUID, data: TenantDep) -> None:
    menu = data.get(AttendantMenu, menu_id, RES)
    s = data.session
    text = str(menu.id)
    uses = [
        s.scalar(
            select(AttendantOption.menu_id).where(
                AttendantOption.tenant_id == data.tenant_id,
                AttendantOption.action == A.SUB_MENU,
                AttendantOption.target == text,
            )
        ),
        s.scalar(
            select(AttendantSchedule.menu_id).where(
                AttendantSchedule.tenant_id == data.tenant_id,
                AttendantSchedule.menu_id != menu.id,
                or_(
                    AttendantSchedule.after_hours_menu_id == menu.id,
                    AttendantSchedule.holiday_menu_id == menu.id,
                ),
            )
        ),
    ]
    if any(u is not None for u in uses):
        raise Conflict(f"menu {menu.id} is used by another menu or schedule", field="menu_id", rule="in_use")
    number = s.scalar(
        select(PhoneNumber.e164).where(
            PhoneNumber.tenant_id == data.tenant_id,
            PhoneNumber.target_type == NumberTarget.AUTO_ATTENDANT,
            PhoneNumber.target_id == menu.id,
        )
    )
    if number is not None:
        raise Conflict(f"number {number} is routed to menu {menu.id}", field="menu_id", rule="in_use")
    data.delete(menu, AUDIT, RES)
