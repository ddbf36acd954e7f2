"""What the SIP service reads from the store: tenants by SIP domain, devices, users, restrictions.

Call handling depends on the ``Directory`` protocol only; ``StoreDirectory`` reads the database
(one short session per question, so a change made through the API takes effect on the next
request), ``MemoryDirectory`` serves the unit tests.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, Row, Select, bindparam, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.features import DEFAULTS as DEFAULT_FEATURE_CODES
from centrex.calls.features import FeatureCodes, effective
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


@dataclass(frozen=True, slots=True)
class TenantInfo:
    id: uuid.UUID
    domain: str
    status: str = "active"  # store.models TenantStatus: active, suspended, terminated
    service_type: str = "hosted-centrex"  # store.models ServiceType (nomadic 911 rules differ)
    dial_plan: DialPlan = field(default_factory=DialPlan)  # the tenant's (issue 6 point 1)
    park_timeout_s: int = 120  # a parked call rings its parker back after this (issue 4 point 6)
    # The tenant's effective feature codes (issue 4 point 1), built when the tenant is loaded.
    feature_codes: FeatureCodes = DEFAULT_FEATURE_CODES
    direct_media: bool = False  # phones of one site may send RTP to each other (calls/engine.py)

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: uuid.UUID
    tenant_id: uuid.UUID
    username: str
    ha1_md5: str
    ha1_sha256: str
    user_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    enabled: bool = True

    def ha1(self, algorithm: str) -> str | None:
        if algorithm == "MD5":
            return self.ha1_md5
        if algorithm == "SHA-256":
            return self.ha1_sha256
        return None


@dataclass(frozen=True, slots=True)
class Restriction:
    """A call restriction class (hosted-pbx.txt MAC 4) as the call engine needs it."""

    name: str
    allow_local: bool = True
    allow_long_distance: bool = True
    allow_international: bool = False
    allow_toll_free: bool = True
    allow_directory_assistance: bool = True
    allow_premium: bool = False


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    extension: str
    site_id: uuid.UUID | None = None
    forward_always: str | None = None
    forward_busy: str | None = None
    forward_no_answer: str | None = None
    forward_no_answer_seconds: int = 20
    do_not_disturb: bool = False
    restriction: Restriction | None = None
    # The user's own DID (E.164): caller ID and 911 callback number (ANI) off the switch.
    number: str | None = None
    voicemail: bool = False  # an enabled mailbox: busy / no answer / unavailable go there


@dataclass(frozen=True, slots=True)
class HuntGroupInfo:
    """A hunt group (hosted-pbx.txt MAC 5) as the engine rings it: members in their order."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    extension: str
    strategy: str  # store.models HuntStrategy: simultaneous, sequential, round_robin, longest_idle
    ring_seconds: int = 20
    no_answer_destination: str | None = None
    member_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteInfo:
    id: uuid.UUID
    npa_nxx: str
    state: str


class Directory(Protocol):
    def tenant_by_domain(self, domain: str) -> TenantInfo | None: ...
    def tenant(self, tenant_id: uuid.UUID) -> TenantInfo | None: ...
    def device(self, tenant_id: uuid.UUID, username: str) -> DeviceInfo | None: ...
    def user(self, user_id: uuid.UUID) -> UserInfo | None: ...
    def user_by_extension(self, tenant_id: uuid.UUID, extension: str) -> UserInfo | None: ...
    def site(self, site_id: uuid.UUID) -> SiteInfo | None: ...
    def user_by_number(self, tenant_id: uuid.UUID, e164: str) -> UserInfo | None: ...
    def hunt_group(self, group_id: uuid.UUID) -> HuntGroupInfo | None: ...
    def hunt_group_by_extension(self, tenant_id: uuid.UUID, extension: str) -> HuntGroupInfo | None: ...
    def attendant_by_extension(self, tenant_id: uuid.UUID, extension: str) -> uuid.UUID | None: ...
    def attendant_menu(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> uuid.UUID | None: ...


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


@dataclass
class MemoryDirectory:
    """A directory held in dictionaries (unit tests, tools)."""

    tenants: dict[str, TenantInfo] = field(default_factory=dict)
    devices: dict[tuple[uuid.UUID, str], DeviceInfo] = field(default_factory=dict)
    users: dict[uuid.UUID, UserInfo] = field(default_factory=dict)
    sites: dict[uuid.UUID, SiteInfo] = field(default_factory=dict)
    numbers: dict[tuple[uuid.UUID, str], uuid.UUID] = field(default_factory=dict)  # -> user id
    groups: dict[uuid.UUID, HuntGroupInfo] = field(default_factory=dict)
    attendants: dict[uuid.UUID, tuple[uuid.UUID, str | None]] = field(
        default_factory=dict
    )  # menu -> tenant, ext

    def attendant_by_extension(self, tenant_id: uuid.UUID, extension: str) -> uuid.UUID | None:
        return next(
            (m for m, (t, ext) in self.attendants.items() if t == tenant_id and ext == extension), None
        )

    def attendant_menu(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> uuid.UUID | None:
        found = self.attendants.get(menu_id)
        return menu_id if found is not None and found[0] == tenant_id else None

    def hunt_group(self, group_id: uuid.UUID) -> HuntGroupInfo | None:
        return self.groups.get(group_id)

    def hunt_group_by_extension(self, tenant_id: uuid.UUID, extension: str) -> HuntGroupInfo | None:
        return next(
            (g for g in self.groups.values() if g.tenant_id == tenant_id and g.extension == extension), None
        )

    def tenant_by_domain(self, domain: str) -> TenantInfo | None:
        return self.tenants.get(domain.lower())

    def tenant(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        return next((t for t in self.tenants.values() if t.id == tenant_id), None)

    def device(self, tenant_id: uuid.UUID, username: str) -> DeviceInfo | None:
        return self.devices.get((tenant_id, username))

    def user(self, user_id: uuid.UUID) -> UserInfo | None:
        return self.users.get(user_id)

    def user_by_extension(self, tenant_id: uuid.UUID, extension: str) -> UserInfo | None:
        for u in self.users.values():
            if u.tenant_id == tenant_id and u.extension == extension:
                return u
        return None

    def site(self, site_id: uuid.UUID) -> SiteInfo | None:
        return self.sites.get(site_id)

    def user_by_number(self, tenant_id: uuid.UUID, e164: str) -> UserInfo | None:
        user_id = self.numbers.get((tenant_id, e164))
        return self.users.get(user_id) if user_id else None


_T = TypeVar("_T")


class CachedDirectory:
    """A short-lived cache in front of a Directory for the switch's hot path.

    Every REGISTER and INVITE asks for the tenant of a domain and the device of a username, and
    every call for its caller and callee: reading them from the store each time costs more than
    all the SIP work (measured: 1.3 of 1.8 ms per registration on SQLite; ~8 % of the loop's time
    at 400 calls/s for the two user reads). An answer is kept while no write to the tables the
    directory reads has been made in this process (store/changes.py: an API change applies to the
    next call) and at most ``ttl`` seconds (a change made by another process: the CLI, another
    switch). Unknown domains and users are cached too (a scanner asking for them again costs
    nothing); the whole cache is dropped past ``max_entries``. Menus (attendants, hunt groups)
    are read live.
    """

    def __init__(
        self,
        inner: Directory,
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 50_000,
    ) -> None:
        self.inner = inner
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._memo: dict[tuple[object, ...], tuple[float, int, Any]] = {}

    def _cached(self, key: tuple[object, ...], read: Callable[[], _T]) -> _T:
        now, gen = self.clock(), changes.generation()
        hit = self._memo.get(key)
        if hit is not None and hit[0] > now and hit[1] == gen:
            return hit[2]
        value = read()
        if len(self._memo) >= self.max_entries:
            self._memo.clear()
        self._memo[key] = (now + self.ttl, gen, value)
        return value

    def tenant_by_domain(self, domain: str) -> TenantInfo | None:
        key = domain.lower()
        return self._cached(("tenant_by_domain", key), lambda: self.inner.tenant_by_domain(key))

    def device(self, tenant_id: uuid.UUID, username: str) -> DeviceInfo | None:
        return self._cached(("device", tenant_id, username), lambda: self.inner.device(tenant_id, username))

    def tenant(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        return self._cached(("tenant", tenant_id), lambda: self.inner.tenant(tenant_id))

    def hunt_group(self, group_id: uuid.UUID) -> HuntGroupInfo | None:
        return self.inner.hunt_group(group_id)

    def hunt_group_by_extension(self, tenant_id: uuid.UUID, extension: str) -> HuntGroupInfo | None:
        return self.inner.hunt_group_by_extension(tenant_id, extension)

    def user(self, user_id: uuid.UUID) -> UserInfo | None:
        return self._cached(("user", user_id), lambda: self.inner.user(user_id))

    def attendant_by_extension(self, tenant_id: uuid.UUID, extension: str) -> uuid.UUID | None:
        return self.inner.attendant_by_extension(tenant_id, extension)  # live: menus change by API

    def attendant_menu(self, tenant_id: uuid.UUID, menu_id: uuid.UUID) -> uuid.UUID | None:
        return self.inner.attendant_menu(tenant_id, menu_id)

    def user_by_extension(self, tenant_id: uuid.UUID, extension: str) -> UserInfo | None:
        return self._cached(
            ("user_by_extension", tenant_id, extension),
            lambda: self.inner.user_by_extension(tenant_id, extension),
        )

    def user_by_number(self, tenant_id: uuid.UUID, e164: str) -> UserInfo | None:
        return self._cached(
            ("user_by_number", tenant_id, e164), lambda: self.inner.user_by_number(tenant_id, e164)
        )

    def site(self, site_id: uuid.UUID) -> SiteInfo | None:
        return self._cached(("site", site_id), lambda: self.inner.site(site_id))
