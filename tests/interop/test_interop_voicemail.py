"""Voicemail through the whole switch (issue #4 points 1, 2 and 7): a SIPp phone calls an
extension that is not registered; the engine sends the call to the app server's mailbox over the
relay; the caller skips the greeting with RFC 4733 '#' and leaves 3 s of a 1 kHz tone. The stored
WAV is 3 s long at 1 kHz, and the CDR names the mailbox leg."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.apps.app_config import AppConfig
from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.wav import read_wav
from centrex.server import start_app_server
from centrex.store.models import User
from centrex.store.models.voicemail import VoicemailMessage
from tests.apps.pcap import RtpScript, dominant_hz

from .conftest import SCENARIOS, Server, free_udp_port

pytestmark = pytest.mark.interop


def caller_scenario(tmp_path: Path, pcap: Path, hold_ms: int) -> Path:
    text = (SCENARIOS / "uac_call_rtp.xml").read_text()
    text = text.replace("/usr/share/sip-tester/g711a.pcap", str(pcap))
    text = text.replace("RTP/AVP 8", "RTP/AVP 0 101").replace(
        "a=rtpmap:8 PCMA/8000", "a=rtpmap:0 PCMU/8000\n      a=rtpmap:101 telephone-event/8000"
    )
    text = text.replace('<pause milliseconds="2000"/>', f'<pause milliseconds="{hold_ms}"/>')
    path = tmp_path / "uac_vm.xml"
    path.write_text(text)
    return path


async def test_an_unanswered_extension_takes_a_message_through_the_relay(
    server: Server, tmp_path: Path
) -> None:
    ports = PortAllocator(44000, 44999)
    server.service.engine.media = RelayAnchor(RelayManager(ports, bind_host="127.0.0.1"))
    apps = await start_app_server(
        server.service, server.sessions, AppConfig(data_dir=tmp_path, prompts="tones"), ports
    )
    try:
        a = free_udp_port()
        await server.register("1001", a)
        # '#' skips the greeting; after the beep, 3 s of 1 kHz; the caller hangs up at 6 s.
        pcap = RtpScript().digits(0.5, "#").tone(2.0, 3.0, 1000.0).write(tmp_path / "vm.pcap")
        scenario = caller_scenario(tmp_path, pcap, 6000)
        result = await server.sipp(str(scenario), "1001", port=a, callee="1002", timeout_s=20)
        assert result.returncode == 0, result.output[-3000:]
        for _ in range(50):  # the app stores after the hang-up
            await asyncio.sleep(0.1)
            with server.sessions() as s:
                bob = s.scalar(select(User.id).where(User.extension == "1002"))
                rows = s.scalars(select(VoicemailMessage).where(VoicemailMessage.user_id == bob)).all()
            if rows:
                break
        [row] = rows
        assert row.caller == "1001" and row.reason == "unavailable"
        samples = read_wav(row.file_path)
        assert abs(len(samples) / 8000 - 3.0) < 0.3, len(samples) / 8000
        assert abs(dominant_hz(samples) - 1000.0) < 10.0
        cdr = server.ended[-1]
        assert cdr.to == "1002" and cdr.disposition == "answered"
        assert [leg.extension for leg in cdr.legs] == [f"vm-deposit.{bob}"]
    finally:
        await apps.stop()
