"""The location service: which contacts each device has registered, until when.

An address-of-record here is a device of a tenant: (tenant_id, sip_username). A device may hold
several contacts (a desk phone and its softphone twin, or one phone on two transports). Each
binding also keeps where the REGISTER really came from (``source`` and ``transport``): requests
to the device are sent there, which is what reaches a phone behind NAT (the Contact fix-up that
Kamailio's ``fix_nated_register`` does). Times are the caller's clock (``now``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from centrex.sip.events import Address

AorKey = tuple[uuid.UUID, str]


@dataclass
class Binding:
    tenant_id: uuid.UUID
    username: str
    device_id: uuid.UUID
    user_id: uuid.UUID | None
    contact: str  # the Contact URI as registered
    expires_at: float
    call_id: str
    cseq: int
    source: Address
    transport: str  # "UDP", "TCP", "TLS"
    q: float | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    registered_at: float | None = None  # when the REGISTER that made or refreshed it arrived

    @property
    def aor(self) -> AorKey:
        return self.tenant_id, self.username

    def expires_in(self, now: float) -> int:
        return max(0, round(self.expires_at - now))


def contact_key(uri: str) -> str:
    """Contacts compare as URIs (§10.3 step 7 via §19.1.4); scheme and host are case-insensitive."""
    scheme, _, rest = uri.partition(":")
    user, at, host = rest.rpartition("@")
    return f"{scheme.lower()}:{user}{at}{host.lower()}"


class LocationListener(Protocol):
    """Told of every change made by a REGISTER (records.py keeps the store in step)."""

    def saved(self, binding: Binding) -> None: ...
    def removed(self, aor: AorKey, contact: str | None) -> None: ...


class LocationService:
    """In-memory bindings, indexed by device and by user. ``listener`` hears of registrations
    and unregistrations (not of expiry, which every reader checks by time)."""

    def __init__(self, max_contacts: int = 10, listener: LocationListener | None = None) -> None:
        self.max_contacts = max_contacts
        self.listener = listener
        self._aors: dict[AorKey, dict[str, Binding]] = {}
        self._by_user: dict[uuid.UUID, set[AorKey]] = {}

    def bindings(self, aor: AorKey, now: float) -> list[Binding]:
        """The live bindings of a device, oldest first."""
        found = self._aors.get(aor)
        if not found:
            return []
        for key in [k for k, b in found.items() if b.expires_at <= now]:
            del found[key]
        if not found:
            self._drop_aor(aor)
            return []
        return list(found.values())

    def get(self, aor: AorKey, contact: str) -> Binding | None:
        return self._aors.get(aor, {}).get(contact_key(contact))

    def of_user(self, user_id: uuid.UUID, now: float) -> list[Binding]:
        """Every live binding of every device of a user (what an incoming call forks to)."""
        out: list[Binding] = []
        for aor in sorted(self._by_user.get(user_id, set()), key=lambda a: (str(a[0]), a[1])):
            out.extend(self.bindings(aor, now))
        return out

    def save(self, binding: Binding, *, notify: bool = True) -> None:
        """Add or refresh a binding; past ``max_contacts`` the oldest one of the device goes."""
        contacts = self._aors.setdefault(binding.aor, {})
        key = contact_key(binding.contact)
        contacts.pop(key, None)
        contacts[key] = binding
        dropped = []
        while len(contacts) > self.max_contacts:
            dropped.append(contacts.pop(next(iter(contacts))))
        if binding.user_id is not None:
            self._by_user.setdefault(binding.user_id, set()).add(binding.aor)
        if notify and self.listener is not None:
            for old in dropped:
                self.listener.removed(binding.aor, old.contact)
            self.listener.saved(binding)

    def remove(self, aor: AorKey, contact: str, *, notify: bool = True) -> None:
        contacts = self._aors.get(aor)
        if contacts is not None:
            contacts.pop(contact_key(contact), None)
            if not contacts:
                self._drop_aor(aor)
        if notify and self.listener is not None:
            self.listener.removed(aor, contact)

    def remove_all(self, aor: AorKey, *, notify: bool = True) -> None:
        self._drop_aor(aor)
        if notify and self.listener is not None:
            self.listener.removed(aor, None)

    def purge(self, now: float) -> int:
        """Drop expired bindings everywhere; returns how many remain."""
        for aor in list(self._aors):
            self.bindings(aor, now)
        return sum(len(c) for c in self._aors.values())

    def all(self) -> list[Binding]:
        return [b for contacts in self._aors.values() for b in contacts.values()]

    def _drop_aor(self, aor: AorKey) -> None:
        contacts = self._aors.pop(aor, None)
        for binding in (contacts or {}).values():
            users = self._by_user.get(binding.user_id) if binding.user_id else None
            if users is not None:
                users.discard(aor)
                if not users:
                    del self._by_user[binding.user_id]  # type: ignore[arg-type]
