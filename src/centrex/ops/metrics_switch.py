"""The switch's figures for ``/metrics`` (ops/metrics.py): calls, registrations, the media relay,
the record writer, trunk gateways, the SIP guard, the API gate.

Read at scrape time, on the event loop, from what the switch keeps anyway (its calls, bindings,
relays, gateway health), plus the plain counters of ``CallCounts``: one engine listener that adds
1 to a dictionary entry per call event (started, answered, ended: three a call). Nothing on the
call path takes a lock or touches prometheus_client; docs/performance.md "Metrics on the call
path" has what it costs.

Every metric is listed with its meaning in docs/operations.md "Logs and metrics".
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from centrex.calls.events import CallAnswered, CallEnded, CallStarted
from centrex.calls.location import AorKey, Binding, LocationListener
from centrex.calls.model import CallState
from centrex.routing.model import Gateway, RoutingTable
from centrex.routing.resolved import expand_table

if TYPE_CHECKING:
    from centrex.calls.service import SipService
    from centrex.media.relay import RelayManager
    from centrex.ops.metrics import Metrics
    from centrex.routing.trunk_calls import TrunkCalls

# A call that ended unanswered because it was refused here (admission: capacity, toll-fraud guard,
# restriction, blocked number, suspension, 911 location hold) is "blocked"; one the caller gave up
# on is "cancelled"; the others (busy, no answer, failed) are failures.
BLOCKED = "rejected"
NOT_FAILURES = ("answered", "cancelled", BLOCKED)


@dataclass
class CallCounts:
    """An engine listener (``CallEngine.listeners``): call events counted in plain dictionaries."""

    attempts: Counter[str] = field(default_factory=Counter)  # direction
    answered: int = 0
    ended: Counter[str] = field(default_factory=Counter)  # disposition
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)  # (disposition, cause)
    blocked: Counter[str] = field(default_factory=Counter)  # cause

    def __call__(self, event: object) -> None:
        kind = type(event)
        if kind is CallStarted:
            self.attempts[event.direction] += 1  # type: ignore[attr-defined]
        elif kind is CallAnswered:
            self.answered += 1
        elif kind is CallEnded:
            ended: CallEnded = event  # type: ignore[assignment]
            disposition = ended.disposition
            self.ended[disposition] += 1
            if disposition == BLOCKED:
                self.blocked[ended.hangup_cause] += 1
            elif disposition not in NOT_FAILURES:
                self.failures[(disposition, ended.hangup_cause)] += 1


@dataclass
class RegistrationCounts:
    """REGISTERs that saved or refreshed a binding, and removals."""

    saved: int = 0
    removed: int = 0


class _CountingListener:
    """The location listener the switch had (the records, nomadic 911), then a count."""

    def __init__(self, inner: LocationListener | None, counts: RegistrationCounts) -> None:
        self.inner = inner
        self.counts = counts

    def saved(self, binding: Binding) -> None:
        if self.inner is not None:
            self.inner.saved(binding)
        self.counts.saved += 1

    def removed(self, aor: AorKey, contact: str | None) -> None:
        if self.inner is not None:
            self.inner.removed(aor, contact)
        self.counts.removed += 1


class _Gateways:
    """The enabled trunks' gateways. The stored routing table is read in a worker thread before
    each scrape (it may need the store; the event loop must not wait for it); gateways named by
    host name are expanded on the loop from the DNS answers already cached (routing/resolved.py),
    never looked up for a scrape."""

    def __init__(self, trunks: TrunkCalls, clock: Callable[[], float]) -> None:
        self.trunks = trunks
        self.clock = clock
        self.table: RoutingTable | None = None

    def refresh(self) -> None:
        routes = getattr(self.trunks, "routes", None)
        stored = getattr(routes, "routes", routes)  # under ResolvingRoutes, the store's table
        self.table = stored.table(self.clock()) if stored is not None else None

    def listed(self) -> list[tuple[str, Gateway]]:
        table = self.table
        if table is None:
            return []
        lookup = getattr(getattr(self.trunks, "routes", None), "lookup", None)
        if lookup is not None:
            table = expand_table(table, lookup, lambda query: None)
        return [(t.name, g) for t in table.trunks.values() if t.enabled for g in t.gateways]


class SwitchCollector(Collector):
    def __init__(
        self,
        sip: SipService,
        calls: CallCounts,
        registrations: RegistrationCounts,
        relays: RelayManager | None = None,
        gateways: _Gateways | None = None,
        api_gate: Any = None,
    ) -> None:
        self.sip = sip
        self.calls = calls
        self.registrations = registrations
        self.relays = relays
        self.gateways = gateways
        self.api_gate = api_gate

    def collect(self) -> Iterator[Metric]:
        yield from self._calls()
        yield from self._registrations()
        if self.relays is not None:
            yield from self._relay(self.relays)
        yield from self._records()
        if self.gateways is not None:
            yield from self._gateways(self.gateways)
        yield from self._guard()
        if self.api_gate is not None:
            yield from self._api(self.api_gate)

    # -- calls -------------------------------------------------------------------------------
    def _calls(self) -> Iterator[Metric]:
        c = self.calls
        states = Counter(call.state for call in self.sip.engine.calls.values())
        active = GaugeMetricFamily(
            "centrex_calls_active",
            "Calls in progress by state: routing, ringing, answered (answered = calls up).",
            labels=["state"],
        )
        for state in (CallState.ROUTING, CallState.RINGING, CallState.ANSWERED):
            active.add_metric([state.value], states.get(state, 0))
        yield active
        attempts = CounterMetricFamily(
            "centrex_call_attempts",
            "New calls accepted for routing (after authentication), by direction.",
            labels=["direction"],
        )
        for direction in sorted(set(c.attempts) | {"internal", "outbound", "inbound"}):
            attempts.add_metric([direction], c.attempts.get(direction, 0))
        yield attempts
        yield CounterMetricFamily("centrex_calls_answered", "Calls answered.", value=c.answered)
        ended = CounterMetricFamily(
            "centrex_calls_ended",
            "Calls ended, by disposition (answered, busy, no_answer, cancelled, failed, rejected).",
            labels=["disposition"],
        )
        for disposition, n in sorted(c.ended.items()):
            ended.add_metric([disposition], n)
        yield ended
        failures = CounterMetricFamily(
            "centrex_call_failures",
            "Calls that ended unanswered and were neither cancelled by the caller nor blocked, by "
            "disposition (busy, no_answer, failed) and hang-up cause.",
            labels=["disposition", "cause"],
        )
        for (disposition, cause), n in sorted(c.failures.items()):
            failures.add_metric([disposition, cause], n)
        yield failures
        blocked = CounterMetricFamily(
            "centrex_calls_blocked",
            "Calls refused by the switch, by reason (capacity_site, capacity_burst, "
            "capacity_enterprise, toll_premium, spend_limit, restricted, blocked, tenant_suspended...).",
            labels=["reason"],
        )
        for reason, n in sorted(c.blocked.items()):
            blocked.add_metric([reason], n)
        yield blocked

    # -- registrations -----------------------------------------------------------------------
    def _registrations(self) -> Iterator[Metric]:
        now = self.sip.clock()
        by_transport: Counter[str] = Counter()
        aors = set()
        for binding in self.sip.location.all():
            if binding.expires_at > now:
                by_transport[binding.transport] += 1
                aors.add(binding.aor)
        contacts = GaugeMetricFamily(
            "centrex_registrations",
            "Registered contacts (unexpired bindings) by transport.",
            labels=["transport"],
        )
        for transport in ("UDP", "TCP", "TLS"):
            contacts.add_metric([transport], by_transport.get(transport, 0))
        yield contacts
        yield GaugeMetricFamily(
            "centrex_registered_devices", "Devices with at least one registered contact.", value=len(aors)
        )
        yield CounterMetricFamily(
            "centrex_registration_saves",
            "Successful REGISTERs that added or refreshed a contact.",
            value=self.registrations.saved,
        )
        yield CounterMetricFamily(
            "centrex_registration_removals",
            "Contacts removed (unregistered, or replaced past the per-device limit).",
            value=self.registrations.removed,
        )

    # -- media relay -------------------------------------------------------------------------
    def _relay(self, relays: RelayManager) -> Iterator[Metric]:
        ports = relays.allocator
        yield GaugeMetricFamily(
            "centrex_relay_calls", "Calls anchored on the built-in relay.", value=len(relays)
        )
        yield GaugeMetricFamily(
            "centrex_relay_port_pairs_in_use",
            "RTP/RTCP port pairs in use (relay and app server).",
            value=ports.in_use,
        )
        yield GaugeMetricFamily(
            "centrex_relay_port_pairs_capacity",
            "RTP/RTCP port pairs in the configured range.",
            value=ports.capacity,
        )
        t = relays.totals()
        packets = CounterMetricFamily(
            "centrex_relay_packets",
            "RTP packets through the relay: in = received from phones, out = sent to them.",
            labels=["direction"],
        )
        packets.add_metric(["in"], t.packets_in)
        packets.add_metric(["out"], t.packets_out)
        yield packets
        yield CounterMetricFamily(
            "centrex_relay_packets_lost",
            "RTP packets lost on their way to the relay (RFC 3550 A.3, from sequence numbers).",
            value=t.lost,
        )
        yield CounterMetricFamily(
            "centrex_relay_packets_dropped",
            "RTP packets the relay dropped (no destination yet, or from an unlatched source).",
            value=t.dropped,
        )

    # -- record writer -----------------------------------------------------------------------
    def _records(self) -> Iterator[Metric]:
        writer = getattr(self.sip.records, "writer", None)
        pending = max(0, writer.submitted - writer.durable) if writer is not None else 0
        lag = writer.lag_s(time.monotonic()) if writer is not None else 0.0
        yield GaugeMetricFamily(
            "centrex_record_writer_pending",
            "Call records (CDRs, journal rows) queued and not yet committed.",
            value=pending,
        )
        yield GaugeMetricFamily(
            "centrex_record_writer_lag_seconds",
            "Age of the oldest call record not yet committed (0 when none waits); signalling for "
            "that call waits as long.",
            value=lag,
        )
        yield CounterMetricFamily(
            "centrex_record_writer_commits",
            "Transactions the record writer committed.",
            value=writer.commits if writer is not None else 0,
        )
        yield CounterMetricFamily(
            "centrex_record_writer_lost",
            "Call records the store refused (each logged in full at ERROR).",
            value=writer.lost if writer is not None else 0,
        )

    # -- trunk gateways ----------------------------------------------------------------------
    def _gateways(self, gateways: _Gateways) -> Iterator[Metric]:
        health = gateways.trunks.health
        now = self.sip.clock()
        up = GaugeMetricFamily(
            "centrex_gateway_up",
            "1 when a trunk gateway is taking calls, 0 while it is marked down (a 5xx or timeout; "
            "probed by OPTIONS until it answers).",
            labels=["trunk", "gateway"],
        )
        failures = GaugeMetricFamily(
            "centrex_gateway_failures",
            "Failures (5xx, timeouts, failed OPTIONS) since the gateway last answered.",
            labels=["trunk", "gateway"],
        )
        for trunk, g in gateways.listed():
            labels = [trunk, f"{g.transport.lower()}:{g.host}:{g.port}"]
            up.add_metric(labels, 1 if health.is_up(g, now) else 0)
            state = health.states.get(g.id)
            failures.add_metric(labels, state.failures if state is not None else 0)
        yield up
        yield failures

    # -- SIP guard and API gate --------------------------------------------------------------
    def _guard(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "centrex_sip_dropped",
            "SIP datagrams dropped unread: from a banned source or over the per-source rate.",
            value=self.sip.guard.dropped,
        )

    def _api(self, gate: Any) -> Iterator[Metric]:
        yield GaugeMetricFamily("centrex_api_inside", "API requests being served now.", value=gate.inside)
        yield GaugeMetricFamily(
            "centrex_api_waiting", "API requests waiting at the admission gate.", value=len(gate.waiting)
        )
        yield CounterMetricFamily(
            "centrex_api_shed", "API requests refused with 503 at the admission gate.", value=gate.shed
        )


def watch_switch(
    metrics: Metrics,
    sip: SipService,
    relays: RelayManager | None = None,
    trunks: TrunkCalls | None = None,
    api_gate: Any = None,
) -> SwitchCollector:
    """Hook the counters into the switch and register the collector (server.py, once)."""
    calls = CallCounts()
    sip.engine.listeners.append(calls)
    registrations = RegistrationCounts()
    sip.location.listener = _CountingListener(sip.location.listener, registrations)
    gateways = _Gateways(trunks, sip.clock) if trunks is not None else None
    if gateways is not None:
        metrics.before_scrape.append(gateways.refresh)
    collector = SwitchCollector(sip, calls, registrations, relays, gateways, api_gate)
    metrics.register(collector)
    return collector
