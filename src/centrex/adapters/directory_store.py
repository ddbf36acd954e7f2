"""The store side of the switch's directory (calls/directory.py): tenants by SIP domain, devices,
users, restriction classes and hunt groups, read with single statements on a per-thread
connection (``ThreadReader``), so a change made through the API takes effect on the next request.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.directory import DeviceInfo, HuntGroupInfo, Restriction, SiteInfo, TenantInfo, UserInfo
from centrex.calls.features import effective
from centrex.numbers.dialplan import DialPlan
from centrex.store import changes
from centrex.store.models import (
    CallRestrictionClass,
    Device,
    HuntGroup,
    HuntGroupMember,
    HuntStrategy,
    Mailbox,
    NumberTarget,
    PhoneNumber,
    ServiceType,
    Site,
    Tenant,
    TenantStatus,
    User,
)
from centrex.store.models.attendants import AttendantMenu


def _tenant_info(row: Row[Any]) -> TenantInfo:
    status, service = TenantStatus(row.status).value, ServiceType(row.service_type).value
    plan = DialPlan(
        extension_length=row.dial_extension_length,
        outside_line_prefix=row.dial_outside_prefix or None,
        seven_digit_local=row.dial_seven_digit,
        ten_digit=row.dial_ten_digit,
    )
    return TenantInfo(
        row.id,
        row.sip_domain,
        status,
        service,
        plan,
        park_timeout_s=row.park_timeout_s,
        feature_codes=effective(row.feature_codes),
        direct_media=bool(row.direct_media),
        max_call_s=row.max_call_s,
    )


_TENANT = select(
    Tenant.id,
    Tenant.sip_domain,
    Tenant.status,
    Tenant.service_type,
    Tenant.dial_extension_length,
    Tenant.dial_outside_prefix,
    Tenant.dial_seven_digit,
    Tenant.dial_ten_digit,
    Tenant.park_timeout_s,
    Tenant.feature_codes,
    Tenant.direct_media,
    Tenant.max_call_s,
)
_TENANT_BY_DOMAIN = _TENANT.where(Tenant.sip_domain == bindparam("domain"))
_TENANT_BY_ID = _TENANT.where(Tenant.id == bindparam("tenant_id"))
_DEVICE = select(
    Device.id,
    Device.tenant_id,
    Device.sip_username,
    Device.ha1_md5,
    Device.ha1_sha256,
    Device.user_id,
    Device.site_id,
    Device.enabled,
).where(Device.tenant_id == bindparam("tenant_id"), Device.sip_username == bindparam("username"))
# A user with its restriction class, its first DID and whether its mailbox is on: one statement,
# so a call's two users cost two round trips instead of eight.
_USER = select(
    User.id,
    User.tenant_id,
    User.name,
    User.extension,
    User.site_id,
    User.forward_always,
    User.forward_busy,
    User.forward_no_answer,
    User.forward_no_answer_seconds,
    User.do_not_disturb,
    CallRestrictionClass.name.label("rc_name"),
    CallRestrictionClass.allow_local,
    CallRestrictionClass.allow_long_distance,
    CallRestrictionClass.allow_international,
    CallRestrictionClass.allow_toll_free,
    CallRestrictionClass.allow_directory_assistance,
    CallRestrictionClass.allow_premium,
    select(PhoneNumber.e164)
    .where(
        PhoneNumber.tenant_id == User.tenant_id,
        PhoneNumber.target_type == NumberTarget.USER,
        PhoneNumber.target_id == User.id,
    )
    .order_by(PhoneNumber.e164)
    .limit(1)
    .scalar_subquery()
    .label("number"),
    select(Mailbox.enabled).where(Mailbox.user_id == User.id).limit(1).scalar_subquery().label("mailbox"),
).outerjoin(CallRestrictionClass, CallRestrictionClass.id == User.restriction_class_id)
_USER_BY_ID = _USER.where(User.id == bindparam("user_id"))
_USER_BY_EXTENSION = _USER.where(User.tenant_id == bindparam("tenant_id"), User.extension == bindparam("ext"))
_USER_BY_NUMBER = _USER.where(
    User.id
    == select(PhoneNumber.target_id)
    .where(
        PhoneNumber.e164 == bindparam("e164"),
        PhoneNumber.tenant_id == bindparam("tenant_id"),
        PhoneNumber.target_type == NumberTarget.USER,
    )
    .limit(1)
    .scalar_subquery()
)
_SITE = select(Site.id, Site.npa_nxx, Site.state).where(Site.id == bindparam("site_id"))
# Auto attendants (issue 4 point 3): the engine routes a menu's extension, and a DID whose MAC 9
# target is auto_attendant, to the app server's aa.<menu id>.
_ATTENDANT_BY_EXTENSION = select(AttendantMenu.id).where(
    AttendantMenu.tenant_id == bindparam("tenant_id"), AttendantMenu.extension == bindparam("ext")
)
_ATTENDANT_MENU = select(AttendantMenu.id).where(
    AttendantMenu.tenant_id == bindparam("tenant_id"), AttendantMenu.id == bindparam("menu_id")
)


def _user_info(row: Row[Any] | None) -> UserInfo | None:
    if row is None:
        return None
    restriction = None
    if row.rc_name is not None:
        restriction = Restriction(
            row.rc_name,
            row.allow_local,
            row.allow_long_distance,
            row.allow_international,
            row.allow_toll_free,
            row.allow_directory_assistance,
            row.allow_premium,
        )
    return UserInfo(
        row.id,
        row.tenant_id,
        row.name,
        row.extension,
        row.site_id,
        row.forward_always,
        row.forward_busy,
        row.forward_no_answer,
        row.forward_no_answer_seconds,
        row.do_not_disturb,
        restriction,
        row.number,
        bool(row.mailbox),
    )


class ThreadReader:
    """Runs one read statement on a connection each thread keeps, and ends the read at once (no
    snapshot is held between questions). For the switch's hot reads (directory, queues), where
    ORM loading and pool check-outs cost more than the SIP work. A connection the database dropped
    is replaced once."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        self._engine: Engine | None = bind if isinstance(bind, Engine) else None
        self._local = threading.local()

    def rows(self, stmt: Select[Any], **params: object) -> list[Row[Any]]:
        if self._engine is None:
            with self._sessions() as s:
                return list(s.connection().execute(stmt, params))
        for attempt in (1, 2):
            conn: Connection | None = getattr(self._local, "conn", None)
            if conn is None or conn.closed:
                conn = self._local.conn = self._engine.connect()
            try:
                rows = list(conn.execute(stmt, params))
                conn.rollback()
                return rows
            except DBAPIError as exc:
                self._local.conn = None
                with contextlib.suppress(Exception):
                    conn.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        return []  # not reached


class StoreDirectory:
    """Reads the database. Every answer is a frozen copy: nothing holds a session open.

    Each question is one cached statement (no ORM objects) on a connection each thread keeps
    and ends every read on (no snapshot is held between questions): they are asked on the event
    loop for every call, where ORM loading and pool check-outs cost more than the SIP work.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._reader = ThreadReader(sessions)

    def generation(self) -> int:
        """This process's count of writes to the tables read here (CachedDirectory's invalidation)."""
        return changes.generation()

    def _one(self, stmt: Select[Any], **params: object) -> Row[Any] | None:
        rows = self._reader.rows(stmt, **params)
        return rows[0] if rows else None

    def tenant_by_domain(self, domain: str) -> TenantInfo | None:
        row = self._one(_TENANT_BY_DOMAIN, domain=domain.lower())
        return _tenant_info(row) if row is not None else None

    def tenant(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        row = self._one(_TENANT_BY_ID, tenant_id=tenant_id)
        return _tenant_info(row) if row is not None else None

    def device(self, tenant_id: uuid.UUID, username: str) -> DeviceInfo | None:
        d = self._one(_DEVICE, tenant_id=tenant_id, username=username)
        if d is None:
            return None
        return DeviceInfo(
            d.id, d.tenant_id, d.sip_username, d.ha1_md5, d.ha1_sha256, d.user_id, d.site_id, d.enabled
        )

    def user(self, user_id: uuid.UUID) -> UserInfo | None:
        return _user_info(self._one(_USER_BY_ID, user_id=user_id))

    def user_by_extension(self, tenant_id: uuid.UUID, extension: str) -> UserInfo | None:
        return _user_info(self._one(_USER_BY_EXTENSION, tenant_id=tenant_id, ext=extension))

    def user_by_number(self, tenant_id: uuid.UUID, e164: str) -> UserInfo | None:
        """The user a number of this tenant rings (hosted-pbx.txt MAC 9), if it rings a user."""
        return _user_info(self._one(_USER_BY_NUMBER, tenant_id=tenant_id, e164=e164))

    def _group(self, s: Session, g: HuntGroup | None) -> HuntGroupInfo | None:
        if g is None:
            return None
        members = s.scalars(
            select(HuntGroupMember.user_id)
            .where(HuntGroupMember.hunt_group_id == g.id)
            .order_by(HuntGroupMember.position, HuntGroupMember.id)
        )
        return HuntGroupInfo(
            g.id,
            g.tenant_id,
            g.name,
            g.extension,
            HuntStrategy(g.strategy).value,
            g.ring_seconds,
            g.no_answer_destination,
            tuple(members),
        )

    def hunt_group(self, group_id: uuid.UUID) -> HuntGroupInfo | None:
        with self._sessions() as s:
            return self._group(s, s.get(HuntGroup, group_id))

    def hunt_group_by_extension(self, tenant_id: uuid.UUID, extension: str) -> HuntGroupInfo | None:
        with self._sessions() as s:
            g = s.scalar(
                select(HuntGroup).where(HuntGroup.tenant_id == tenant_id, HuntGroup.extension == extension)
            )
            return self._group(s, g)

    def site(self, site_id: uuid.UUID) -> SiteInfo | None:
        row = self._one(_SITE, site_id=site_id)
        return SiteInfo(row.id, row.npa_nxx, row.state) if row is not None else None

    def attendant_by_extension(self, tenant_id: uuid.UUID, extension: str) -> uuid.UUID | None:
        """The attendant menu dialled by this extension of the tenant (app server: aa.<id>)."""
        row = self._one(_ATTENDANT_BY_EXTENSION, tenant_id=tenant_id, ext=extension)
        return row.id if row is not None else None

    def attendant_menu(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> uuid.UUID | None:
        """The menu's id if it is a menu of this tenant (a DID's auto_attendant target still there)."""
        row = self._one(_ATTENDANT_MENU, tenant_id=tenant_id, menu_id=menu_id)
        return row.id if row is not None else None
