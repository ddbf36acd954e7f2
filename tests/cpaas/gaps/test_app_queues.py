"""Issue 16 gap 2: <Enqueue> to an app server queue, <Dial><Queue> and <Leave>, with real SIPp calls.

- A caller (1001) dials an application that enqueues it in "support" (no call-centre queue of that
  name): it hears the wait URL, asked with QueuePosition=1 and CurrentQueueSize=1. A second caller
  (1002) dials an application whose <Dial><Queue>support</Queue></Dial> takes it; the two are
  bridged until 1001 hangs up: 1002's Dial action gets DialCallStatus=completed and 1001's CallSid,
  1001's Enqueue action gets QueueResult=bridged.
- A caller whose wait URL answers <Leave/> leaves the queue and its document goes on with the verb
  after the <Enqueue> (Twilio's), here a <Redirect> that is then fetched."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from centrex.media.ports import PortAllocator
from tests.apps.pcap import RtpScript
from tests.cpaas.voice.conftest import add_application, start_apps
from tests.cpaas.voice.conftest import server as server  # the switch fixture
from tests.cpaas.voice.conftest import webapp as webapp  # the customer's web app fixture
from tests.cpaas.voice.webapp import VoiceWebApp, twiml
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_voicemail import caller_scenario

pytestmark = pytest.mark.interop


def hits(web: VoiceWebApp, path: str) -> list[dict[str, str]]:
    return [h.params for h in web.hits if h.path == path]


async def wait_hit(web: VoiceWebApp, path: str, timeout_s: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if hits(web, path):
            return hits(web, path)[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never requested: {[h.path for h in web.hits]}")


async def test_dial_queue_takes_the_waiting_caller(
    server: Server, webapp: VoiceWebApp, tmp_path: Path
) -> None:
    docs = {
        "6100": '<Enqueue waitUrl="/wait" action="/queued">support</Enqueue>',
        "6101": '<Dial action="/dequeued" timeout="15"><Queue>support</Queue></Dial>',
    }
    webapp.routes["/voice"] = lambda p: twiml(docs[p["To"]])  # one web app for both applications
    webapp.routes["/wait"] = lambda p: twiml('<Say>Please hold.</Say><Pause length="1"/>')
    webapp.routes["/queued"] = lambda p: twiml("<Hangup/>")
    webapp.routes["/dequeued"] = lambda p: twiml('<Pause length="10"/>')
    add_application(server, webapp, "6100")
    add_application(server, webapp, "6101")
    apps = await start_apps(server, tmp_path, PortAllocator(41000, 41499))
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        tone_a = RtpScript().tone(0.0, 7.0, 1000.0, -30.0).write(tmp_path / "a" / "a.pcap")
        tone_b = RtpScript().tone(0.0, 10.0, 440.0, -30.0).write(tmp_path / "b" / "b.pcap")
        waiting = asyncio.create_task(
            server.sipp(
                str(caller_scenario(tmp_path / "a", tone_a, 7000)),
                "1001",
                port=a,
                callee="6100",
                timeout_s=30,
            )
        )
        first_wait = await wait_hit(webapp, "/wait")
        assert (first_wait["QueuePosition"], first_wait["CurrentQueueSize"]) == ("1", "1")
        assert first_wait["QueueSid"].startswith("QU")
        agent = asyncio.create_task(
            server.sipp(
                str(caller_scenario(tmp_path / "b", tone_b, 10000)),
                "1002",
                port=b,
                callee="6101",
                timeout_s=30,
            )
        )
        for phone in (waiting, agent):
            done = await phone
            assert done.returncode == 0, done.output[-3000:]
        dequeued = await wait_hit(webapp, "/dequeued")
        queued = await wait_hit(webapp, "/queued")
    finally:
        await apps.stop()
    caller_sid = next(p["CallSid"] for p in hits(webapp, "/voice") if p["To"] == "6100")
    assert dequeued["DialCallStatus"] == "completed" and dequeued["DialCallSid"] == caller_sid
    assert int(dequeued["DialCallDuration"]) >= 2
    assert queued["CallSid"] == caller_sid and queued["QueueResult"] == "bridged"
    assert int(queued["QueueTime"]) >= 1
    assert all(h.signed for h in webapp.hits)


async def test_leave_goes_on_after_the_enqueue(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    webapp.routes["/voice"] = lambda p: twiml(
        '<Enqueue waitUrl="/wait">sales</Enqueue><Redirect>/after</Redirect>'
    )
    webapp.routes["/wait"] = lambda p: twiml("<Say>One moment.</Say><Leave/>")
    webapp.routes["/after"] = lambda p: twiml('<Say>Back with you.</Say><Pause length="1"/><Hangup/>')
    add_application(server, webapp, "6102")
    apps = await start_apps(server, tmp_path, PortAllocator(41500, 41999))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.0, 10.0, 440.0, -40.0).write(tmp_path / "t.pcap")
        call = asyncio.create_task(
            server.sipp(
                str(caller_scenario(tmp_path, pcap, 12000)), "1001", port=a, callee="6102", timeout_s=30
            )
        )
        after = await wait_hit(webapp, "/after")
        await asyncio.wait({call}, timeout=20)
        call.cancel()
    finally:
        await apps.stop()
    assert [h.path for h in webapp.hits if h.path != "/status"] == ["/voice", "/wait", "/after"]
    assert after["CallSid"] == hits(webapp, "/voice")[0]["CallSid"]
