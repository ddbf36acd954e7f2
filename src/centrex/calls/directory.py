"""What the switch reads about tenants, devices, users, hunt groups and queues: the core's read model.

Call handling depends on the ``Directory`` protocol only; adapters/directory_store.py
``StoreDirectory`` reads the database, ``MemoryDirectory`` serves the unit tests, and
``CachedDirectory`` keeps answers for the hot path.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from centrex.calls.features import DEFAULTS as DEFAULT_FEATURE_CODES
from centrex.calls.features import FeatureCodes
from centrex.numbers.dialplan import DialPlan


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
    # The longest a call may last (issue 13 §3): the switch hangs up past it; 0: no limit.
    max_call_s: int = 4 * 3600

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
class QueueInfo:
    """A call-center queue's settings (pbx/queues.py rings its agents)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    extension: str
    max_wait_s: int = 300
    wrap_up_s: int = 10
    agent_ring_s: int = 15
    overflow_destination: str | None = None  # an extension, hunt group or app; none: hang up
    announce_position_s: int = 30  # "you are caller number N" this often while waiting; 0: never


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


@runtime_checkable
class Versioned(Protocol):
    def generation(self) -> int: ...


def _zero() -> int:
    return 0


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
        # A store-backed directory counts this process's writes to the tables it reads
        # (adapters/directory_store.py): a change made through the API applies to the next call.
        self._generation: Callable[[], int] = inner.generation if isinstance(inner, Versioned) else _zero

    def _cached(self, key: tuple[object, ...], read: Callable[[], _T]) -> _T:
        now, gen = self.clock(), self._generation()
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
