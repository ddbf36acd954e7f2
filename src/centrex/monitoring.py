"""Assembling the monitor of one running service (ops/monitor.py) from its parts: which listeners,
which relay, which trunks. server.py starts it; this module is where ops/ meets calls/ and routing/."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.service import SipService
from centrex.config import Settings
from centrex.media.ports import PortAllocator
from centrex.ops.alarm_policy import AlarmPolicy
from centrex.ops.mailer import Mailer
from centrex.ops.monitor import Check, Monitor
from centrex.ops.monitor_checks import (
    GatewayState,
    carrier_check,
    database_check,
    disk_check,
    relay_check,
    rtpengine_check,
    sip_udp_check,
    tcp_listener_check,
)
from centrex.routing.trunk_calls import TrunkCalls, monitored_gateways


def _port(sip: SipService, name: str) -> int | None:
    transport = sip.transports.get(name)
    return int(transport.local_address[1]) if transport is not None else None


def _port_of(sip: SipService, name: str) -> Callable[[], int | None]:
    return lambda: _port(sip, name)


def gateway_states(sip: SipService) -> Sequence[GatewayState]:
    trunks = sip.engine.service(TrunkCalls)
    if trunks.routes is None:
        return []
    now = sip.clock()
    out = []
    for g in monitored_gateways(trunks.routes.table(now)):
        state = trunks.health.states.get(g.id)
        up = state is None or state.down_since is None
        out.append((str(g.id), f"{g.host}:{g.port}/{g.transport}", up))
    return out


def build_monitor(
    settings: Settings,
    sessions: sessionmaker[Session],
    engine: Engine,
    sip: SipService,
    ports: PortAllocator,
    policy: AlarmPolicy,
) -> Monitor:
    checks: list[tuple[str, Check]] = [
        ("sip-udp", sip_udp_check(settings.bind, lambda: _port(sip, "UDP"))),
        ("database", database_check(engine)),
        ("disk", disk_check(settings.data_dir, settings.monitor_disk_min_free)),
    ]
    for name in ("TCP", "TLS"):
        if name in sip.transports:
            checks.append(
                (f"sip-{name.lower()}", tcp_listener_check(name.lower(), settings.bind, _port_of(sip, name)))
            )
    if settings.media_relay == "rtpengine":
        checks.append(("rtpengine", rtpengine_check(settings.rtpengine_ng)))
    checks.append(("relay", relay_check(lambda: ports.available)))
    trunks = sip.engine.service(TrunkCalls)
    checks.append(
        ("carriers", carrier_check(lambda: sip.run_in_engine(trunks.probe_all), lambda: gateway_states(sip)))
    )
    return Monitor(
        sessions,
        checks,
        interval_s=settings.monitor_interval_s,
        mailer=Mailer.from_settings(settings),
        policy=policy,
    )
