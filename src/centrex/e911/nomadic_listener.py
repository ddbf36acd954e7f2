"""Nomadic 911 on the registration path (voip-service-guide.txt §V.14.3, §V.14.4).

``NomadicListener`` sits beside the call records as a listener of the location service: each
accepted REGISTER tells the ``NomadicTracker`` (e911/nomadic_store.py) which network the device
is on. A device seen on a new network is flagged; on IP Trunking its calls other than 911 are held
(the call engine asks ``tracker.held``) until the location is confirmed through the API or it is
back on a known network; on Hosted Centrex the user is asked to confirm (the portal and /me show
the flag). Unregistrations mean nothing here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence

from centrex.calls.directory import Directory
from centrex.calls.location import AorKey, Binding, LocationListener
from centrex.e911.nomadic_store import NomadicTracker

log = logging.getLogger(__name__)


class NomadicListener:
    def __init__(
        self,
        tracker: NomadicTracker,
        directory: Directory,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tracker = tracker
        self.directory = directory
        self.ttl_s = ttl_s
        self.clock = clock
        self._service: dict[uuid.UUID, tuple[float, str]] = {}

    def _service_type(self, tenant_id: uuid.UUID) -> str | None:
        now = self.clock()
        hit = self._service.get(tenant_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        tenant = self.directory.tenant(tenant_id)
        if tenant is None:
            return None
        self._service[tenant_id] = (now + self.ttl_s, tenant.service_type)
        return tenant.service_type

    def saved(self, binding: Binding) -> None:
        service = self._service_type(binding.tenant_id)
        if service is None:
            return
        try:
            decision = self.tracker.registered(
                binding.tenant_id, binding.device_id, binding.source[0], service
            )
        except Exception:
            log.exception("sip.nomadic.register_failed device=%s", binding.device_id)
            return
        if decision.new_network:
            log.warning(
                "sip.nomadic.new_network tenant=%s device=%s source=%s action=%s",
                binding.tenant_id,
                binding.device_id,
                binding.source[0],
                decision.action,
            )

    def removed(self, aor: AorKey, contact: str | None) -> None:
        return None


class Listeners:
    """Several location listeners as one (the records first: durability before anything else)."""

    def __init__(self, listeners: Sequence[LocationListener]) -> None:
        self.listeners = list(listeners)

    def saved(self, binding: Binding) -> None:
        for listener in self.listeners:
            listener.saved(binding)

    def removed(self, aor: AorKey, contact: str | None) -> None:
        for listener in self.listeners:
            listener.removed(aor, contact)
