"""The same interpreter on native JSON verbs (jambonz-style), through the switch with a real SIPp
phone: say, then record (beep, the phone's 1 kHz tone, '#' ends it); the actionHook — by GET, signed
over the URL — receives RecordingUrl/RecordingSid/RecordingDuration; the WAV is stored under the data
dir with a cpaas_recordings row; the call's status ends completed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.media.ports import PortAllocator
from centrex.media.wav import read_wav
from centrex.store import media_files
from centrex.store.models.cpaas_voice import CpaasCall, CpaasRecording
from tests.apps.pcap import RtpScript, dominant_hz
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import add_application, start_apps
from .webapp import VoiceWebApp

pytestmark = pytest.mark.interop


def verbs(*items: dict[str, object]) -> tuple[str, str]:
    return "application/json", json.dumps(list(items))


async def test_json_verbs_record_the_caller(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    webapp.routes["/voice"] = lambda p: verbs(
        {"verb": "say", "text": "Leave a message after the tone."},
        {
            "verb": "record",
            "maxLength": 10,
            "finishOnKey": "#",
            "playBeep": True,
            "actionHook": {"url": "/recorded", "method": "GET"},
        },
        {"verb": "say", "text": "not reached"},
    )
    webapp.routes["/recorded"] = lambda p: verbs({"verb": "pause", "length": 5})
    webapp.routes["/status"] = lambda p: ("text/plain", "")
    add_application(server, webapp, "6010")
    apps = await start_apps(server, tmp_path, PortAllocator(48000, 48999))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.0, 4.0, 1000.0).digits(4.2, "#").write(tmp_path / "rec.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 6500)), "1001", port=a, callee="6010", timeout_s=20
        )
        assert result.returncode == 0, result.output[-3000:]
        for _ in range(50):
            if any(h.params.get("CallStatus") == "completed" for h in webapp.hits if h.path == "/status"):
                break
            await asyncio.sleep(0.1)
    finally:
        await apps.stop()
    assert webapp.hits and all(h.signed for h in webapp.hits)
    assert [h.path for h in webapp.hits if h.path != "/status"] == ["/voice", "/recorded"]
    hook = next(h for h in webapp.hits if h.path == "/recorded")
    assert hook.method == "GET" and hook.params["Digits"] == "#"
    sid = hook.params["RecordingSid"]
    assert sid.startswith("RE")
    assert hook.params["RecordingUrl"].endswith(
        f"/2010-04-01/Accounts/{hook.params['AccountSid']}/Recordings/{sid}"
    )
    assert 2 <= int(hook.params["RecordingDuration"]) <= 5
    with server.sessions() as s:
        rec = s.scalar(select(CpaasRecording).where(CpaasRecording.sid == sid))
        call = s.scalar(select(CpaasCall).where(CpaasCall.sid == hook.params["CallSid"]))
    assert rec is not None and rec.path is not None and rec.call_sid == hook.params["CallSid"]
    samples = read_wav(media_files.path_of(rec.path))
    assert 2.0 < len(samples) / 8000 < 4.5, len(samples) / 8000
    assert abs(dominant_hz(samples) - 1000.0) < 10.0
    assert call is not None and call.status == "completed" and (call.duration_s or 0) >= 5
