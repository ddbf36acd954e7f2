"""The monitor polls real components and turns what it finds into alarms: a real SIP service (its
UDP and TCP listeners, and the carriers' gateways by OPTIONS), a real rtpengine, a real disk, a
database that is really unreachable (then the NOC is mailed directly, on a real SMTP server)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.service import SipConfig, SipService
from centrex.config import Settings
from centrex.monitoring import gateway_states
from centrex.ops.alarm_policy import AlarmPolicy
from centrex.ops.mailer import Mailer, SmtpConfig
from centrex.ops.monitor import Monitor
from centrex.ops.monitor_checks import (
    carrier_check,
    database_check,
    disk_check,
    rtpengine_check,
    sip_udp_check,
    tcp_listener_check,
)
from centrex.routing.model import Gateway, NumberRoute, RoutingTable, Trunk, TrunkKind
from centrex.routing.trunk_calls import TrunkCalls
from centrex.sip.transaction import TimerConfig
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import OutageRow, Tenant
from centrex.store.models.alarms import AlarmRow
from centrex.switchboard import standard_services
from tests.e911_store.servers import free_port, smtp_server
from tests.ops_alarms.disk import p2_threshold
from tests.rtpengine.conftest import start_rtpengine, stop

POLICY = AlarmPolicy.from_settings(Settings(alarm_notify="noc@provider.example"))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Routes:
    routing: RoutingTable

    def table(self, now: float) -> RoutingTable:
        return self.routing

    def number(self, e164: str, now: float) -> NumberRoute | None:
        return None


def sip_service(sessions: sessionmaker[Session], port: int = 0) -> SipService:
    # T1 of 100 ms: an unanswered OPTIONS times out (64*T1) in 6.4 s instead of 32 s, and a loaded
    # machine still answers one in time.
    config = SipConfig(host="127.0.0.1", port=port, timers=TimerConfig(t1=0.1))
    return SipService(
        StoreDirectory(sessions),
        config,
        records=CallRecords(sessions),
        services=standard_services().ordered(),
    )


@pytest.fixture
def sessions(sqlite_url: str) -> sessionmaker[Session]:
    engine = make_engine(sqlite_url)
    made = make_sessionmaker(engine)
    with transaction(made) as s:
        s.add(Tenant(name="Alpha", sip_domain="alpha.example.com"))
    return made


@pytest.fixture
async def switch(sessions: sessionmaker[Session]) -> AsyncIterator[SipService]:
    sip = sip_service(sessions)
    await sip.start()
    yield sip
    await sip.stop()


def alarms(sessions: sessionmaker[Session]) -> list[AlarmRow]:
    with transaction(sessions) as s:
        return list(s.scalars(select(AlarmRow).order_by(AlarmRow.raised_at, AlarmRow.key)))


async def test_a_sip_listener_that_stops_answering_is_an_outage(sessions: sessionmaker[Session]) -> None:
    sip = sip_service(sessions)
    await sip.start()
    port = sip.port
    clock = Clock()
    monitor = Monitor(
        sessions,
        [
            ("udp", sip_udp_check("0.0.0.0", lambda: port, timeout_s=3.0)),
            ("tcp", tcp_listener_check("tcp", "127.0.0.1", lambda: port, timeout_s=3.0)),
        ],
        clock=clock,
        policy=POLICY,
    )
    try:
        found = await monitor.poll()
        assert [(f.key, f.ok) for f in found] == [("sip:udp", True), ("sip:tcp", True)]
        assert "answered SIP/2.0 200" in found[0].summary
        assert alarms(sessions) == []
    finally:
        await sip.stop()
    clock.now += timedelta(minutes=1)
    found = await monitor.poll()
    assert [(f.key, f.ok) for f in found] == [("sip:udp", False), ("sip:tcp", False)]
    raised = alarms(sessions)
    assert [(a.key, a.priority, a.service_affecting, a.raised_at) for a in raised] == [
        ("sip:tcp", 1, True, clock.now),
        ("sip:udp", 1, True, clock.now),
    ]
    assert raised[1].due_at == clock.now + timedelta(hours=8)  # hosted-pbx.txt Monitoring 2.a
    # Thirteen hours later the listener is back on the same port: the alarms clear, and the
    # outage from raising to clearing is billing's (12 continuous hours on 7 December).
    first_bad = clock.now
    clock.now += timedelta(hours=13)
    again = sip_service(sessions, port)
    await again.start()
    try:
        found = await monitor.poll()
        assert all(f.ok for f in found)
    finally:
        await again.stop()
    cleared = alarms(sessions)
    assert all(a.cleared_at == clock.now for a in cleared)
    with transaction(sessions) as s:
        outages = s.scalars(select(OutageRow)).all()
        assert len(outages) == 2  # one per alarm for the tenant (each is one continuous outage)
        assert {(o.start, o.end) for o in outages} == {(first_bad, clock.now)}


async def test_carriers_are_polled_by_options(sessions: sessionmaker[Session], switch: SipService) -> None:
    carrier = sip_service(sessions)  # a real SIP peer that answers OPTIONS
    await carrier.start()
    try:
        alive = Gateway(uuid.uuid4(), "127.0.0.1", carrier.port)
        dead = Gateway(uuid.uuid4(), "127.0.0.1", free_port())
        trunk = Trunk(uuid.uuid4(), "carrier", TrunkKind.CARRIER, (alive, dead))
        # A tenant's own IP-PBX, unreachable too: customer equipment is not monitored (Monitoring 3).
        customer = Gateway(uuid.uuid4(), "127.0.0.1", free_port())
        pbx = Trunk(uuid.uuid4(), "pbx", TrunkKind.PBX, (customer,))
        trunks = switch.engine.service(TrunkCalls)
        trunks.routes = Routes(RoutingTable({trunk.id: trunk, pbx.id: pbx}))
        check = carrier_check(lambda: switch.run_in_engine(trunks.probe_all), lambda: gateway_states(switch))
        monitor = Monitor(sessions, [("carriers", check)], policy=POLICY)
        first = await monitor.poll()  # nothing known yet: both up, probes sent (not to the PBX)
        assert [f.ok for f in first] == [True, True]
        deadline = asyncio.get_running_loop().time() + 60
        while all(up for _, _, up in gateway_states(switch)):
            assert asyncio.get_running_loop().time() < deadline, "the dead gateway was never marked down"
            await asyncio.sleep(0.1)
        found = await monitor.poll()
        assert {f.key: f.ok for f in found} == {f"carrier:{alive.id}": True, f"carrier:{dead.id}": False}
        (alarm,) = alarms(sessions)
        assert (alarm.key, alarm.component, alarm.priority, alarm.service_affecting) == (
            f"carrier:{dead.id}",
            "carrier",
            2,
            False,
        )
        assert alarm.details == {"gateway": f"127.0.0.1:{dead.port}/UDP"}
        assert customer.id not in trunks.health.states  # never probed, so never marked down
    finally:
        await carrier.stop()


async def test_rtpengine_is_polled_with_ng_ping(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    proc, daemon = start_rtpengine(tmp_path)
    check = rtpengine_check(daemon.ng)
    monitor = Monitor(sessions, [("rtpengine", check)], policy=POLICY)
    try:
        (found,) = await monitor.poll()
        assert found.ok and found.summary == f"rtpengine at {daemon.ng} answers ping"
    finally:
        stop(proc)
    (found,) = await monitor.poll()
    assert not found.ok
    (alarm,) = alarms(sessions)
    assert (alarm.key, alarm.priority, alarm.service_affecting) == ("rtpengine", 1, True)


async def test_disk_space_below_the_threshold(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    # A threshold just above what is free: an alarm, and P2 (P1 only under a quarter of the threshold),
    # whatever the machine's disk holds.
    monitor = Monitor(sessions, [("disk", disk_check(tmp_path, p2_threshold(tmp_path)))], policy=POLICY)
    (found,) = await monitor.poll()
    assert not found.ok and found.priority == 2 and found.key == f"disk:{tmp_path}"
    assert [a.key for a in alarms(sessions)] == [f"disk:{tmp_path}"]
    monitor.checks = [("disk", disk_check(tmp_path, 0.0))]
    (found,) = await monitor.poll()
    assert found.ok
    (alarm,) = alarms(sessions)
    assert alarm.cleared_at is not None and alarm.outages_recorded == 0  # not service-affecting


async def test_a_dead_database_is_mailed_directly_then_recorded_when_it_answers(
    sessions: sessionmaker[Session],
) -> None:
    dead = make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/centrex")
    clock = Clock()
    with smtp_server() as (mail, smtp_port):
        mailer = Mailer(SmtpConfig("127.0.0.1", smtp_port, "monitor@provider.example"))
        # The alarm store is the dead database too: nothing can be written.
        monitor = Monitor(
            make_sessionmaker(dead),
            [("database", database_check(dead))],
            clock=clock,
            mailer=mailer,
            policy=POLICY,
        )
        (found,) = await monitor.poll()
        assert not found.ok and "does not answer" in found.summary
        clock.now += timedelta(seconds=30)
        await monitor.poll()
        assert len(mail.messages) == 1  # once, not every pass
        msg = mail.messages[0]
        assert msg["To"] == "noc@provider.example"
        assert (
            "database (database)" in msg.get_content()
            and "since 2026-12-07 06:00:00 UTC" in msg.get_content()
        )
        # Once the store answers, the alarm is written as of when the trouble began.
        monitor.sessions = sessions
        clock.now += timedelta(seconds=30)
        await monitor.poll()
    (alarm,) = alarms(sessions)
    assert alarm.raised_at == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    dead.dispose()
