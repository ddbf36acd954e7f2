"""Park timeout with real SIPp phones over 127.0.0.1 (issue #4 point 6): 1001 calls 1002, who
answers and parks the call by REFER to *70. Nobody takes it back within the tenant's
``park_timeout_s``: 1002's phone gets a new INVITE whose caller ID name reads "Park 1: ...",
answers it, and is talking to 1001 again (1002's BYE reaches 1001). Taken back by 1003 with *711
first, 1002's phone hears nothing.

The timeout is set on the tenant row directly (the API's rule is 30..3600 s, too slow for a test).
When the park and the recall happened is read from the phones' own message traces (SIPp's
``-trace_msg``), the hold music from what reached the caller's RTP port (a socket of this test)."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.store.db import transaction
from centrex.store.models import CallDetail, CdrLeg, Tenant

from .conftest import SCENARIOS, Server, free_udp_port
from .test_interop_queue_announce import Ear

pytestmark = pytest.mark.interop

# Short enough for a quick test, long enough that a SIPp start on a loaded 2-core machine (the
# retrieving phone, the parker's second process) fits well inside it.
TIMEOUT_S = 3
LATE_S = 1.5  # how late the recall may come: loop lag, a retransmitted INVITE (T1 = 0.5 s)
EARLY_S = 0.25  # SIPp's trace times and the switch's timer are read from different clocks


def set_park_timeout(server: Server, seconds: int) -> None:
    with transaction(server.sessions) as s:
        s.execute(update(Tenant).values(park_timeout_s=seconds))


def caller_scenario(tmp_path: Path, audio_port: int) -> str:
    """uac_call_callee_bye.xml (call, then wait for the other side's BYE) with the caller's audio
    at our socket: what the relay sends the caller is what the test hears."""
    text = (SCENARIOS / "uac_call_callee_bye.xml").read_text()
    text = text.replace("c=IN IP[media_ip_type] [media_ip]", "c=IN IP4 127.0.0.1")
    text = text.replace("m=audio [media_port] RTP/AVP 0", f"m=audio {audio_port} RTP/AVP 0")
    assert text.count(f"m=audio {audio_port}") == 2  # both INVITEs (before and after the 407)
    path = tmp_path / "park_caller.xml"
    path.write_text(text)
    return str(path)


def trace(path: Path) -> list[tuple[float, str]]:
    """A SIPp message trace: (wall time, message) for each message the phone received."""
    text = path.read_text(errors="replace")
    stamp = re.compile(r"^-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$", re.M)
    marks = list(stamp.finditer(text))
    out = []
    for i, m in enumerate(marks):
        body = text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        if "message received" not in body:
            continue
        message = body.split("\n\n", 1)[1].lstrip() if "\n\n" in body else body
        out.append((datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp(), message))
    return out


def first(messages: list[tuple[float, str]], start: str) -> tuple[float, str]:
    found = [(t, m) for t, m in messages if m.startswith(start)]
    assert found, f"no {start!r} in {[m.split(chr(10), 1)[0] for _, m in messages]}"
    return found[0]


def traced(path: Path) -> list[str]:
    return ["-trace_msg", "-message_file", str(path)]


async def test_an_unclaimed_parked_call_rings_the_parker_back_and_they_talk_again(
    server: Server, tmp_path: Path
) -> None:
    set_park_timeout(server, TIMEOUT_S)
    anchor = RelayAnchor(RelayManager(PortAllocator(43000, 43999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    loop = asyncio.get_running_loop()
    transport, ear = await loop.create_datagram_endpoint(Ear, local_addr=("127.0.0.1", 0))
    wall = time.time() - loop.time()  # the ear's loop times as wall times, like SIPp's traces
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    parking, recall = tmp_path / "parking.log", tmp_path / "recall.log"
    try:
        parker = asyncio.create_task(
            server.sipp(
                "uas_answer_refer.xml",
                "1002",
                port=b,
                client=False,
                callee="*70",
                timeout_s=10,
                extra=traced(parking),
            )
        )
        await asyncio.sleep(0.3)  # let 1002's SIPp bind its port
        caller = asyncio.create_task(
            server.sipp(
                caller_scenario(tmp_path, transport.get_extra_info("sockname")[1]),
                "1001",
                port=a,
                callee="1002",
                timeout_s=20,
            )
        )
        parked = await parker
        assert parked.returncode == 0, parked.output[-3000:]
        # The same phone (same port, same registration) now waits for the recall.
        rung_back = await server.sipp(
            "uas_park_recall.xml", "1002", port=b, client=False, timeout_s=15, extra=traced(recall)
        )
        assert rung_back.returncode == 0, rung_back.output[-3000:]
        result = await caller
        assert result.returncode == 0, result.output[-3000:]  # 1002's BYE reached 1001
    finally:
        transport.close()

    parked_at, _ = first(trace(parking), "SIP/2.0 202")  # the switch took the REFER: parked
    invited_at, invite = first(trace(recall), "INVITE ")
    answered_at, _ = first(trace(recall), "ACK ")
    waited = invited_at - parked_at
    assert TIMEOUT_S - EARLY_S <= waited <= TIMEOUT_S + LATE_S, waited
    [from_] = [h for h in invite.splitlines() if h.lower().startswith("from:")]
    assert re.match(r'From: *"Park 1: [^"]+" <sip:1001@', from_), from_
    assert "Spoofed" not in from_  # the directory's name of 1001, not what its phone claimed
    # Music from the relay while parked, and only then: 1002 sends no audio, so after the recall
    # is answered the caller's port goes quiet (the music stopped).
    heard = [wall + t for t, _ in ear.packets]
    assert len([t for t in heard if parked_at <= t <= invited_at]) > 25 * (TIMEOUT_S - 1)
    assert all(parked_at - 1 <= t <= answered_at + 1 for t in heard), (parked_at, answered_at, heard)

    cdr = server.ended[-1]
    assert (cdr.to, cdr.disposition, cdr.hangup_cause) == ("1002", "answered", "callee_bye")
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [("1002", "answered")] * 2
    stats = anchor.finished[str(cdr.call_id)]
    assert stats["a"].packets_out > 25 * (TIMEOUT_S - 1)
    with server.sessions() as s:
        row = s.scalars(select(CallDetail)).one()
        legs = s.scalars(select(CdrLeg).order_by(CdrLeg.position)).all()
    assert (row.caller, row.callee, row.disposition) == ("1001", "1002", "answered")
    assert [leg.extension for leg in legs] == ["1002", "1002"]


class Phone(asyncio.DatagramProtocol):
    """1002's SIP port after it parked the call: every request the switch sends it."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.requests.append(data.decode(errors="replace").split("\r\n", 1)[0])


async def test_a_call_taken_back_before_the_timeout_never_rings_the_parker(
    server: Server, tmp_path: Path
) -> None:
    set_park_timeout(server, TIMEOUT_S)
    anchor = RelayAnchor(RelayManager(PortAllocator(44000, 44999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b), ("1003", c)):
        await server.register(ext, port)
    parking = tmp_path / "parking.log"
    parker = asyncio.create_task(
        server.sipp(
            "uas_answer_refer.xml",
            "1002",
            port=b,
            client=False,
            callee="*70",
            timeout_s=10,
            extra=traced(parking),
        )
    )
    await asyncio.sleep(0.3)
    caller = asyncio.create_task(
        server.sipp("uac_call_callee_bye.xml", "1001", port=a, callee="1002", timeout_s=20)
    )
    parked = await parker
    assert parked.returncode == 0, parked.output[-3000:]
    parked_at, _ = first(trace(parking), "SIP/2.0 202")
    loop = asyncio.get_running_loop()
    transport, phone = await loop.create_datagram_endpoint(Phone, local_addr=("127.0.0.1", b))
    try:
        retrieving = tmp_path / "retrieving.log"
        retriever = await server.sipp(
            "uac_call.xml", "1003", port=c, callee="*711", timeout_s=10, extra=traced(retrieving)
        )
        assert retriever.returncode == 0, retriever.output[-3000:]
        retrieved_at, _ = first(trace(retrieving), "SIP/2.0 200")
        assert retrieved_at < parked_at + TIMEOUT_S - 0.5, "retrieved too late for this test to mean anything"
        result = await caller
        assert result.returncode == 0, result.output[-3000:]  # 1003's BYE reached 1001
        await asyncio.sleep(max(0.0, parked_at + TIMEOUT_S + LATE_S - time.time()))
    finally:
        transport.close()
    assert phone.requests == []  # no recall INVITE (nor anything else) for 1002
    # The retrieving call's own record (it became the parked call), then the parked call's.
    retrieval, cdr = server.ended
    assert (retrieval.from_, retrieval.dialled, retrieval.disposition) == ("1003", "*711", "picked_up")
    assert (cdr.from_, cdr.to, cdr.disposition, cdr.hangup_cause) == (
        "1001",
        "1003",
        "answered",
        "callee_bye",
    )
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [
        ("1002", "answered"),
        ("1003", "answered"),
    ]
