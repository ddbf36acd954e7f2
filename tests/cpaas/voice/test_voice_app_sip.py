"""Must-show of issue 16 §1: a TwiML app driven end to end by a real SIPp call through the switch.

A SIPp phone (1001) dials 6000, an extension pointed at an application whose voice URL is a tiny
HTTP app of this test (it checks every request's X-Twilio-Signature with the `twilio` package's
RequestValidator). The app answers <Gather numDigits="1"><Say>…</Say></Gather>; the phone presses 1
in RFC 4733; the action URL receives Digits=1 and answers <Dial>1002</Dial>; the SIPp phone 1002
answers (the app server hands the caller to the switch by REFER). Status callbacks arrive in order
with SequenceNumber 0, 1, 2 and the call's row says completed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.media.ports import PortAllocator
from centrex.store.models.cpaas_voice import CpaasCall, CpaasCallNotice
from tests.apps.pcap import RtpScript
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import add_application, start_apps
from .webapp import VoiceWebApp, twiml

pytestmark = pytest.mark.interop


async def test_gather_by_rfc4733_then_dial_to_an_extension_that_answers(
    server: Server, webapp: VoiceWebApp, tmp_path: Path
) -> None:
    webapp.routes["/voice"] = lambda p: twiml(
        '<Gather numDigits="1" action="/menu" timeout="6"><Say>Press one for sales.</Say></Gather>'
        "<Say>We did not get that.</Say>"
    )
    webapp.routes["/menu"] = lambda p: twiml("<Dial>1002</Dial>" if p.get("Digits") == "1" else "<Hangup/>")
    webapp.routes["/status"] = lambda p: ("text/plain", "")
    app = add_application(server, webapp, "6000")
    apps = await start_apps(server, tmp_path, PortAllocator(45000, 45999))
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        callee = asyncio.create_task(
            server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=25)
        )
        await asyncio.sleep(0.3)
        # Quiet audio first (SIPp plays a pcap from its first packet), '1' at 1.5 s, then a tone
        # toward whoever answers.
        script = RtpScript().tone(0.0, 1.4, 440.0, -40.0).digits(1.5, "1").tone(3.5, 3.0, 1000.0)
        pcap = script.write(tmp_path / "ivr.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 8000)), "1001", port=a, callee="6000", timeout_s=25
        )
        assert result.returncode == 0, result.output[-3000:]
        done = await callee
        assert done.returncode == 0, done.output[-3000:]
        for _ in range(50):
            if len([h for h in webapp.hits if h.path == "/status"]) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await apps.stop()

    # Every request was signed so that the twilio package's RequestValidator accepts it.
    assert webapp.hits and all(h.signed for h in webapp.hits), webapp.hits
    docs = [h for h in webapp.hits if h.path != "/status"]
    assert [h.path for h in docs] == ["/voice", "/menu"]
    first, menu = docs
    assert first.params["CallStatus"] == "ringing" and first.params["Direction"] == "inbound"
    assert first.params["From"] == "1001" and first.params["To"] == "6000"
    assert first.params["AccountSid"].startswith("AC") and first.params["ApiVersion"] == "2010-04-01"
    assert menu.params["Digits"] == "1" and menu.params["CallSid"] == first.params["CallSid"]
    status = [h.params for h in webapp.hits if h.path == "/status"]
    assert [(p["CallStatus"], p["SequenceNumber"]) for p in status] == [
        ("ringing", "0"),
        ("in-progress", "1"),
        ("completed", "2"),
    ]
    assert int(status[-1]["CallDuration"]) >= 1
    # The switch: the caller reached the app, then 1002 answered.
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.to) == ("answered", "1002")
    assert [leg.extension for leg in cdr.legs] == [f"cpaas.{app.id}", "1002"]
    with server.sessions() as s:
        row = s.scalar(select(CpaasCall).where(CpaasCall.sid == first.params["CallSid"]))
        assert row is not None and row.status == "completed" and row.application_id == app.id


async def test_dial_to_911_is_refused_and_logged(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    webapp.routes["/voice"] = lambda p: twiml('<Dial action="/after">911</Dial>')
    webapp.routes["/after"] = lambda p: twiml("<Hangup/>")
    add_application(server, webapp, "6001")
    apps = await start_apps(server, tmp_path, PortAllocator(46000, 46999))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.5, 2.0, 1000.0).write(tmp_path / "t.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 4000)), "1001", port=a, callee="6001", timeout_s=20
        )
        # The app hangs up after the refusal: SIPp's scenario expects to send BYE itself, so either
        # way the call reached the app and ended; what matters is what the app and the log saw.
        assert "INVITE" in result.output or result.returncode in (0, 1)
    finally:
        await apps.stop()
    after = [h for h in webapp.hits if h.path == "/after"]
    assert after and after[0].params["DialCallStatus"] == "failed"
    with server.sessions() as s:
        notes = s.scalars(select(CpaasCallNotice.message)).all()
    assert any("911" in n and "cpaas.txt §2.4.4" in n for n in notes), notes
    assert not any(leg.extension == "911" for cdr in server.ended for leg in cdr.legs)


async def test_first_reject_refuses_the_invite_busy(
    server: Server, webapp: VoiceWebApp, tmp_path: Path
) -> None:
    webapp.routes["/voice"] = lambda p: twiml('<Reject reason="busy"/>')
    add_application(server, webapp, "6002")
    apps = await start_apps(server, tmp_path, PortAllocator(47000, 47999))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.5, 1.0, 1000.0).write(tmp_path / "t.pcap")
        await server.sipp(
            str(caller_scenario(tmp_path, pcap, 2000)), "1001", port=a, callee="6002", timeout_s=10
        )
    finally:
        await apps.stop()
    cdr = server.ended[-1]
    assert cdr.disposition != "answered"
    assert cdr.legs and cdr.legs[-1].extension.startswith("cpaas.")
    assert [h.path for h in webapp.hits if h.path != "/status"] == ["/voice"]
    status = [
        (h.params["CallStatus"], h.params["SequenceNumber"]) for h in webapp.hits if h.path == "/status"
    ]
    assert status == [("ringing", "0"), ("busy", "1")]


async def test_a_failing_voice_url_falls_back(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    webapp.routes["/fallback"] = lambda p: twiml('<Say>Sorry, try later.</Say><Pause length="5"/>')
    add_application(server, webapp, "6003", voice_fallback_url=f"{webapp.base}/fallback")
    # No /voice route: the customer's server answers 404, so the fallback URL is asked.
    apps = await start_apps(server, tmp_path, PortAllocator(49000, 49499))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.0, 2.0, 440.0, -40.0).write(tmp_path / "t.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 3000)), "1001", port=a, callee="6003", timeout_s=15
        )
        assert result.returncode == 0, result.output[-3000:]
    finally:
        await apps.stop()
    assert [h.path for h in webapp.hits if h.path != "/status"] == ["/voice", "/fallback"]
    assert all(h.signed for h in webapp.hits)
    assert server.ended[-1].disposition == "answered"
    with server.sessions() as s:
        notes = s.scalars(select(CpaasCallNotice)).all()
    assert [(n.code, n.level) for n in notes] == [(11200, "warning")]
    assert "answered 404" in notes[0].message and "fallback" in notes[0].message


async def test_a_caller_who_hangs_up_before_answer_is_no_answer(
    server: Server, webapp: VoiceWebApp, tmp_path: Path
) -> None:
    import time

    from tests.interop.conftest import SCENARIOS

    def slow(p: dict[str, str]) -> tuple[str, str]:
        time.sleep(2.0)  # a slow customer server: the caller gives up first
        return twiml("<Say>Too late.</Say>")

    webapp.routes["/voice"] = slow
    webapp.routes["/status"] = lambda p: ("text/plain", "")
    add_application(server, webapp, "6004")
    apps = await start_apps(server, tmp_path, PortAllocator(42500, 42999))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        # No 180 comes (the app server rings nobody): wait for the 100 Trying, then CANCEL.
        text = (SCENARIOS / "uac_cancel.xml").read_text()
        text = text.replace(
            '<recv response="100" optional="true"/>\n  <recv response="180"/>', '<recv response="100"/>'
        )
        scenario = tmp_path / "cancel.xml"
        scenario.write_text(text.replace('<pause milliseconds="300"/>', '<pause milliseconds="800"/>'))
        result = await server.sipp(str(scenario), "1001", port=a, callee="6004", timeout_s=15)
        assert result.returncode == 0, result.output[-3000:]
        for _ in range(60):
            if len([h for h in webapp.hits if h.path == "/status"]) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await apps.stop()
    status = [
        (h.params["CallStatus"], h.params["SequenceNumber"]) for h in webapp.hits if h.path == "/status"
    ]
    assert status == [("ringing", "0"), ("no-answer", "1")]
    with server.sessions() as s:
        row = s.scalar(select(CpaasCall).where(CpaasCall.to_number == "6004"))
    assert row is not None and row.status == "no-answer" and row.answer_time is None


async def test_redirect_by_get_then_play_a_wav(server: Server, webapp: VoiceWebApp, tmp_path: Path) -> None:
    import io
    import wave

    import numpy as np

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:  # 1 s of 1 kHz at 16 kHz: resampled to 8 kHz by the app server
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes((8000 * np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000)).astype("<i2").tobytes())
    webapp.routes["/voice"] = lambda p: twiml(
        '<Redirect method="GET">/next?step=2</Redirect><Say>not reached</Say>'
    )
    webapp.routes["/next"] = lambda p: twiml('<Play loop="2">tone.wav</Play><Pause length="10"/>')
    webapp.routes["/tone.wav"] = lambda p: ("audio/wav", buf.getvalue())
    add_application(server, webapp, "6005")
    apps = await start_apps(server, tmp_path, PortAllocator(42000, 42499))
    try:
        a = free_udp_port()
        await server.register("1001", a)
        pcap = RtpScript().tone(0.0, 3.0, 440.0, -40.0).write(tmp_path / "t.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 4000)), "1001", port=a, callee="6005", timeout_s=15
        )
        assert result.returncode == 0, result.output[-3000:]
    finally:
        await apps.stop()
    assert [(h.method, h.path) for h in webapp.hits if h.path != "/status"] == [
        ("POST", "/voice"),
        ("GET", "/next"),
        ("GET", "/tone.wav"),  # fetched once: the second loop is the cache's
    ]
    nxt = next(h for h in webapp.hits if h.path == "/next")
    assert nxt.signed and nxt.params["step"] == "2" and nxt.params["CallStatus"] == "in-progress"
    with server.sessions() as s:
        assert s.scalars(select(CpaasCallNotice)).all() == []  # nothing went wrong
