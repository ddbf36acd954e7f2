"""<Record recordingStatusCallback>: when a real SIPp caller's message is stored, the recording's
status callback (RecordingStatus=completed, its sid, url and duration) reaches the app signed, and a
first attempt that fails is retried — it goes through the webhooks outbox, as the call's own status
callbacks do, and is listed in the tenant's callback delivery log."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.media.ports import PortAllocator
from centrex.store.models.webhooks import WebhookDelivery
from tests.apps.pcap import RtpScript
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import add_application, start_apps
from .webapp import VoiceWebApp, twiml

pytestmark = pytest.mark.interop

APP = (
    '<Record maxLength="10" finishOnKey="#" playBeep="true" action="/recorded"'
    ' recordingStatusCallback="/recording-status"/>'
)


async def test_a_recordings_status_callback_is_signed_and_retried(
    server: Server, webapp: VoiceWebApp, tmp_path: Path
) -> None:
    attempts: list[dict[str, str]] = []

    def recording_status(params: dict[str, str]) -> tuple[str, str]:
        attempts.append(params)
        if len(attempts) == 1:
            raise RuntimeError("the customer's server drops the first attempt")
        return "text/plain", ""

    webapp.routes["/voice"] = lambda p: twiml(APP)
    webapp.routes["/recorded"] = lambda p: twiml('<Pause length="5"/>')
    webapp.routes["/recording-status"] = recording_status
    webapp.routes["/status"] = lambda p: ("text/plain", "")
    add_application(server, webapp, "6011")
    apps = await start_apps(server, tmp_path, PortAllocator(48000, 48999))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.0, 3.0, 1000.0).digits(3.2, "#").write(tmp_path / "rec.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 5000)), "1001", port=a, callee="6011", timeout_s=20
        )
        assert result.returncode == 0, result.output[-3000:]
        for _ in range(100):
            if len(attempts) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await apps.stop()
    assert len(attempts) == 2, attempts  # the first failed, the outbox tried again
    hits = [h for h in webapp.hits if h.path == "/recording-status"]
    assert len(hits) == 2 and all(h.signed and h.method == "POST" for h in hits)
    cb = attempts[1]
    recorded = next(h for h in webapp.hits if h.path == "/recorded").params
    assert cb["RecordingStatus"] == "completed" and cb["RecordingSid"] == recorded["RecordingSid"]
    assert cb["RecordingUrl"] == recorded["RecordingUrl"] and cb["CallSid"] == recorded["CallSid"]
    assert 1 <= int(cb["RecordingDuration"]) <= 5
    with server.sessions() as s:
        (row,) = s.scalars(select(WebhookDelivery).where(WebhookDelivery.kind == "recording_status_callback"))
    assert (row.status, row.attempts, row.lane) == ("delivered", 2, f"call:{cb['CallSid']}")
