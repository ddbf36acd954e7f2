"""Relays by call id for the B2BUA (``RelayManager``), and the descriptor budget they live within.

One ``RtpRelay`` (rtp_relay.py: latching, DSCP EF, SRTP, recording taps) per anchored call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
from collections.abc import Callable
from dataclasses import astuple, dataclass

from centrex.media.errors import MediaError, PortsExhausted
from centrex.media.ports import PortAllocator
from centrex.media.rtp_relay import (  # noqa: F401 (the relay's names, imported from here by callers)
    EF_TOS,
    LEGS,
    LegStats,
    RelayTotals,
    RtpRelay,
    bind_pair,
    mark_ef,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MediaAddress:
    """What goes into the c= and m= lines of the SDP sent to one leg (sip.sdp.rewrite_connection)."""

    address: str
    port: int


SOCKETS_PER_RELAY = 4  # RTP and RTCP on each of two legs
FD_RESERVE = 1024  # descriptors kept for everything else: the database, SIP and HTTP connections


def relay_budget(reserve: int = FD_RESERVE) -> int | None:
    """How many relays this process's descriptor limit allows while keeping ``reserve`` free (None:
    no limit). Past it a call goes unanchored rather than starve the store of descriptors: a
    switch that cannot open its database file loses CDRs, one without a relay only loses media
    anchoring for the calls beyond the budget."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    return max(0, (soft - reserve) // SOCKETS_PER_RELAY)


def raise_fd_limit() -> int:
    """Raise the soft descriptor limit to the hard one (each anchored call holds 4 sockets; the
    usual soft default of 1,024 would cap a switch at ~250 anchored calls). Returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


class RelayManager:
    """Relays by call id, for the B2BUA: create at the offer, rewrite SDP per leg, destroy at hang-up.

    ``advertise`` is the address phones and carriers can reach (the public address when Centrex
    sits behind 1:1 NAT); it defaults to the bind address. The same four methods are what an
    rtpengine-backed manager would implement (docs/performance.md, Media).
    """

    def __init__(
        self,
        allocator: PortAllocator,
        bind_host: str = "0.0.0.0",
        advertise: str | None = None,
        idle_timeout: float = 60.0,
        on_idle: Callable[[str], None] | None = None,
        max_relays: int | None = None,
    ) -> None:
        if advertise is None and bind_host in ("0.0.0.0", "::"):
            raise MediaError("advertise: required when binding to the wildcard address")
        self.allocator = allocator
        self.bind_host = bind_host
        self.advertise = advertise or bind_host
        self.idle_timeout = idle_timeout
        self._on_idle = on_idle
        self._relays: dict[str, RtpRelay] = {}
        self._port_calls: dict[tuple[int, str], str] = {}  # (RTP port, leg) -> call id, for by_port
        self._attaching: set[asyncio.Task[RtpRelay]] = set()
        # Packets of the relays already closed (ops/metrics_switch.py adds the open ones' at scrape).
        self.closed_totals = RelayTotals()
        # By default what the descriptor limit allows (relay_budget); the port range is the other cap.
        self.max_relays = max_relays if max_relays is not None else relay_budget()

    def _room(self) -> None:
        if self.max_relays is not None and len(self._relays) >= self.max_relays:
            raise PortsExhausted(
                f"relays: {len(self._relays)} calls anchored, the most this process's descriptor"
                f" limit allows ({self.max_relays}, {FD_RESERVE} descriptors kept in reserve)"
            )

    async def create(self, call_id: str) -> RtpRelay:
        if call_id in self._relays:
            raise MediaError(f"call_id: {call_id!r} already has a relay")
        self._room()
        relay = RtpRelay(call_id, self.allocator, self.bind_host, self.idle_timeout, on_idle=self._idle)
        self._relays[call_id] = relay  # reserved before the await so a second create is refused
        try:
            await relay.start()
        except BaseException:
            self._relays.pop(call_id, None)
            raise
        self._index(relay)
        return relay

    def create_now(self, call_id: str) -> RtpRelay:
        """``create`` for synchronous callers running in the event loop (the call engine): the
        sockets are bound before this returns, forwarding starts on the loop's next turn."""
        if call_id in self._relays:
            raise MediaError(f"call_id: {call_id!r} already has a relay")
        self._room()
        relay = RtpRelay(call_id, self.allocator, self.bind_host, self.idle_timeout, on_idle=self._idle)
        relay.bind()
        self._relays[call_id] = relay
        self._index(relay)
        task = asyncio.get_running_loop().create_task(relay.attach())
        self._attaching.add(task)
        task.add_done_callback(self._attached)
        return relay

    def _attached(self, task: asyncio.Task[RtpRelay]) -> None:
        self._attaching.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("media relay could not start: %s", task.exception())

    def get(self, call_id: str) -> RtpRelay | None:
        return self._relays.get(call_id)

    def by_port(self, port: int) -> tuple[RtpRelay, str] | None:
        """The open relay and leg whose RTP port is ``port`` (the one an SDP we send names)."""
        for name in LEGS:
            relay = self._relays.get(self._port_calls.get((port, name), ""))
            if relay is not None and not relay.closed and relay.local_port(name) == port:
                return relay, name
        return None

    def _index(self, relay: RtpRelay) -> None:
        for name in LEGS:
            self._port_calls[(relay.local_port(name), name)] = relay.call_id

    def _unindex(self, relay: RtpRelay) -> None:
        for name in LEGS:
            with contextlib.suppress(MediaError):
                key = (relay.local_port(name), name)
                if self._port_calls.get(key) == relay.call_id:
                    del self._port_calls[key]

    def sdp_address(self, call_id: str, leg: str) -> MediaAddress:
        """The address/port to write into the SDP sent to ``leg`` ('a' caller, 'b' callee)."""
        relay = self._relays.get(call_id)
        if relay is None:
            raise MediaError(f"call_id: {call_id!r} has no relay")
        return MediaAddress(self.advertise, relay.local_port(leg))

    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None:
        relay = self._relays.get(call_id)
        if relay is None:
            raise MediaError(f"call_id: {call_id!r} has no relay")
        relay.set_remote(leg, address, port)

    def destroy(self, call_id: str) -> dict[str, LegStats] | None:
        """Close the call's relay; returns its final per-leg statistics (for the CDR / insights)."""
        relay = self._relays.pop(call_id, None)
        if relay is None:
            return None
        stats = {leg: relay.stats(leg) for leg in LEGS}
        self._unindex(relay)
        relay.close("hang-up")
        self.closed_totals.add(stats.values())
        return stats

    def totals(self) -> RelayTotals:
        """Packets relayed since start: the closed relays' and the open ones' so far."""
        total = RelayTotals(*astuple(self.closed_totals))
        for relay in self._relays.values():
            total.add(relay.stats(leg) for leg in LEGS)
        return total

    def _idle(self, relay: RtpRelay) -> None:
        if self._relays.pop(relay.call_id, None) is not None:
            self._unindex(relay)
            self.closed_totals.add(relay.stats(leg) for leg in LEGS)
        if self._on_idle is not None:
            self._on_idle(relay.call_id)

    def __len__(self) -> int:
        return len(self._relays)

    def close(self) -> None:
        for call_id in list(self._relays):
            self.destroy(call_id)
