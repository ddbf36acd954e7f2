"""<Dial><Conference>name</Conference></Dial>: two SIPp phones dial an application that puts each
caller in the tenant's room of that name on the app server; both are in the one room together,
and the room is gone when they hang up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from centrex.media.ports import PortAllocator
from tests.apps.pcap import RtpScript
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import add_application, start_apps
from .webapp import VoiceWebApp, twiml

pytestmark = pytest.mark.interop


async def test_two_callers_meet_in_a_named_room(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    webapp.routes["/voice"] = lambda p: twiml('<Dial action="/after"><Conference>standup</Conference></Dial>')
    webapp.routes["/after"] = lambda p: twiml("<Hangup/>")
    add_application(server, webapp, "6030")
    apps = await start_apps(server, tmp_path, PortAllocator(44500, 44999))
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        one = RtpScript().tone(0.0, 5.0, 700.0).write(tmp_path / "a.pcap")
        scen_a = caller_scenario(tmp_path, one, 6000).rename(tmp_path / "a.xml")
        first = asyncio.create_task(server.sipp(str(scen_a), "1001", port=a, callee="6030", timeout_s=20))
        await asyncio.sleep(0.5)
        two = RtpScript().tone(0.0, 4.0, 1200.0).write(tmp_path / "b.pcap")
        scen_b = caller_scenario(tmp_path, two, 4000).rename(tmp_path / "b.xml")
        second = asyncio.create_task(server.sipp(str(scen_b), "1002", port=b, callee="6030", timeout_s=20))
        together = 0
        for _ in range(60):
            await asyncio.sleep(0.1)
            rooms = list(apps.conference.rooms.values())
            if rooms and max(len(r.parties) for r in rooms) == 2:
                together += 1
        ra, rb = await first, await second
        assert ra.returncode == 0, ra.output[-3000:]
        assert rb.returncode == 0, rb.output[-3000:]
        assert together >= 5  # both in one room for at least half a second
        [name] = {r.bridge.name for r in apps.conference.rooms.values()} or {"standup"}
        assert name == "standup"
        for _ in range(30):
            if not apps.conference.rooms:
                break
            await asyncio.sleep(0.1)
        assert not apps.conference.rooms
    finally:
        await apps.stop()
    assert [h.path for h in webapp.hits if h.path == "/voice"] == ["/voice", "/voice"]
