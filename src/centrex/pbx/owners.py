"""Requests for state another node owns go to that node (issue 19 §5; docs/scale-out.md "What
is owned").

Park slots, queues with callers waiting and open conference rooms live in the memory of one node
(pbx/park.py, pbx/queues.py, the app server's rooms). With several nodes behind Kamailio, which
hashes requests by Call-ID, a retrieval, a second queue caller or a second conference caller may
land on another node. This service, asked before park, the queues and the apps, looks the
destination up in the shared ownership table (adapters/ownership.py):
- the park retrieval code with a slot (``*71<slot>``, calls/features.py) owned by another live
  node, a queue or a conference bridge another live node owns: the INVITE is answered
  ``302 Moved Temporarily`` with ``Contact: <sip:<dialled>@<owner's address>>``; Kamailio follows
  it (its failure_route in deploy/kamailio/kamailio.cfg) so the phone never sees it;
- a queue or bridge nobody owns: this node claims it (the first caller's node owns it) and the
  call goes on here; it is released when this node's last call to it has ended;
- park slots are claimed by Park itself when it parks a call (``claim_slot``: a slot another
  node holds is taken) and released by a sweep once no call here is parked in them.
Only a call's first routing is redirected (not yet answered, no leg rung, no transfer): a call
forwarded or transferred to a queue stays on its node. Without a store port (one node, SQLite)
nothing changes. A store error never fails a call: the destination is then served here.
"""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from centrex.calls.features import Match
from centrex.calls.model import Call
from centrex.calls.services import CallService, Destination
from centrex.sip.uri import SipUri

log = logging.getLogger(__name__)

SWEEP_S = 2.0  # how often park claims of slots no longer parked here are released
Key = tuple[uuid.UUID, str, str]  # tenant, kind (park | queue | conference), key


class OwnershipPort(Protocol):
    def claim(self, tenant_id: uuid.UUID, kind: str, key: str) -> str | None: ...
    def owner(self, tenant_id: uuid.UUID, kind: str, key: str) -> str | None: ...
    def release(self, tenant_id: uuid.UUID, kind: str, key: str) -> None: ...


def owned_key(destination: Destination) -> tuple[str, str] | None:
    """The (kind, key) of a destination one node owns: a queue, a conference bridge."""
    if destination.kind == "queue":
        value = destination.value
        queue_id = value if isinstance(value, uuid.UUID) else getattr(value, "id", None)
        return ("queue", str(queue_id)) if queue_id is not None else None
    value = destination.value
    if destination.kind == "app" and isinstance(value, str) and value.startswith("conf."):
        return "conference", value.removeprefix("conf.")  # pbx/conference_lookup.py
    return None


def first_routing(call: Call) -> bool:
    return call.a_dialog is None and not call.all_legs and call.xfer is None and call.parked is None


class Owners(CallService):
    name = "owners"

    def __init__(self) -> None:
        self.store: OwnershipPort | None = None
        self._calls: dict[uuid.UUID, Key] = {}  # a call here -> the queue or room it went to
        self._users: dict[Key, set[uuid.UUID]] = {}  # a key this node holds -> its calls here
        self._parks: set[Key] = set()
        self._sweep_at: float | None = None

    # -- redirecting ---------------------------------------------------------------------------
    def feature(self, call: Call, hit: Match, now: float) -> bool:
        if self.store is None or hit.feature != "retrieve" or not hit.argument.isdigit():
            return False
        if not first_routing(call):
            return False
        try:
            address = self.store.owner(call.tenant.id, "park", hit.argument)
        except Exception:
            log.exception("sip.owners.lookup_failed call=%s", call.id)
            return False
        if address is None:
            return False
        self.redirect(call, address, now)
        return True

    def deliver(self, call: Call, destination: Destination, now: float) -> bool:
        kind_key = owned_key(destination)
        if self.store is None or kind_key is None or not first_routing(call):
            return False
        key: Key = (call.tenant.id, *kind_key)
        if key not in self._users:
            try:
                address = self.store.claim(*key)
            except Exception:
                log.exception("sip.owners.claim_failed call=%s", call.id)
                return False
            if address is not None:
                self.redirect(call, address, now)
                return True
            self._users[key] = set()
        self._users[key].add(call.id)
        self._calls[call.id] = key
        return False  # ours: the queue or the app server takes it here

    def redirect(self, call: Call, address: str, now: float) -> None:
        """302 to the owner (RFC 3261 §21.3.3): same user part, the owner's host and port."""
        uri = call.a_invite.uri
        user = uri.user if isinstance(uri, SipUri) and uri.user else call.dialled
        host = address.removeprefix("sip:")
        log.info("sip.owners.redirect call=%s dialled=%r to=%s", call.id, call.dialled, host)
        contact = f"<sip:{user}@{host}>"
        self.core.reject(call, 302, now, "failed", "moved", "Moved Temporarily", extra=[("Contact", contact)])

    # -- releasing -----------------------------------------------------------------------------
    def ended(self, call: Call, now: float) -> None:
        key = self._calls.pop(call.id, None)
        if key is None:
            return
        users = self._users.get(key)
        if users is not None:
            users.discard(call.id)
            if not users:
                del self._users[key]
                self._release(key)

    def _release(self, key: Key) -> None:
        if self.store is None:
            return
        try:
            self.store.release(*key)
        except Exception:
            log.exception("sip.owners.release_failed key=%s", key)

    # -- park slots ----------------------------------------------------------------------------
    def claim_slot(self, tenant_id: uuid.UUID, slot: int, now: float) -> bool:
        """May this node park a call in the tenant's slot (no other live node holds it)?"""
        if self.store is None:
            return True
        if self._sweep_at is None:
            self._sweep_at = now + SWEEP_S
        key: Key = (tenant_id, "park", str(slot))
        try:
            if self.store.claim(*key) is not None:
                return False
        except Exception:
            log.exception("sip.owners.claim_failed key=%s", key)
            return True
        self._parks.add(key)
        return True

    def next_timer(self) -> float | None:
        return self._sweep_at if self._parks else None

    def tick(self, now: float) -> None:
        if not self._parks:
            self._sweep_at = None
            return
        if self._sweep_at is None:
            self._sweep_at = now + SWEEP_S
            return
        if now < self._sweep_at:
            return
        self._sweep_at = now + SWEEP_S
        parked = {(c.tenant.id, "park", str(c.parked)) for c in self.core.calls.values() if c.parked}
        for key in sorted(self._parks - parked, key=str):
            self._parks.discard(key)
            self._release(key)
