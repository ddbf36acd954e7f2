"""The Must-show of issue 18 §3: the browser softphone (/phone/, JsSIP in headless Chromium with a
fake microphone playing a 1 kHz tone) registered over SIP-over-WebSocket to `centrex serve`,
calling a SIPp desk phone and called by one; the tone found by FFT in the RTP that reaches the
desk phone's side (a receiver of our own: SIPp does not record); hold and resume seen by SIPp
as re-INVITEs with a=sendonly/inactive then a=sendrecv; DTMF keys arriving as RFC 4733 events."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.interop.conftest import SCENARIOS as INTEROP_SCENARIOS
from tests.interop.conftest import SIPP
from tests.rtpengine.conftest import Rtpengine

from .browser_rig import (
    RtpReceiver,
    Served,
    browser_missing,
    driver,
    free_port,
    peak_hz,
    read_steps,
    start_serve,
    stop_serve,
    tone_share,
    write_tone,
)

pytestmark = pytest.mark.interop

SCENARIOS = Path(__file__).parent / "scenarios"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"


def screenshot(tmp_path: Path, name: str) -> str:
    """Where the driver saves its screenshot: docs/images with CENTREX_DOCS_SCREENSHOTS=1 (to
    refresh the documentation's pictures), else the test's own directory."""
    if os.environ.get("CENTREX_DOCS_SCREENSHOTS") == "1":
        return str(DOCS / name)
    return str(tmp_path / name)


@pytest.fixture(scope="module", params=["builtin", "rtpengine"])
def served(
    request: pytest.FixtureRequest, rtpengine: Rtpengine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`centrex serve` with each media anchor (CENTREX_MEDIA_RELAY): the browser's leg goes
    through rtpengine's WebRTC bridge either way, then the built-in relay or rtpengine again."""
    why = browser_missing()
    if why or SIPP is None:
        pytest.skip(why or "SIPp is not installed (Debian package sip-tester)")
    s = start_serve(tmp_path_factory.mktemp("serve"), rtpengine.ng, media_relay=request.param)
    try:
        yield s
    finally:
        out = stop_serve(s)
        print(out[-3000:])


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    return write_tone(tmp_path / "tone-1khz.wav")


def sipp(served: Served, scenario: Path, user: str, port: int, *args: str) -> subprocess.Popen[str]:
    assert SIPP is not None
    cmd = [SIPP, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(port), "-s", user, "-m", "1"]
    cmd += ["-nostdin", "-timeout", "90s", "-timeout_error", "-key", "domain", served.domain, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def register(served: Served, user: str, port: int) -> None:
    reg = sipp(
        served,
        INTEROP_SCENARIOS / "register.xml",
        user,
        port,
        f"127.0.0.1:{served.sip_port}",
        "-au",
        user,
        "-ap",
        served.password(user),
    )
    out, _ = reg.communicate(timeout=30)
    assert reg.returncode == 0, out[-2000:]


def finish(proc: subprocess.Popen[str], timeout_s: float = 90) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return proc.returncode, out


def test_the_browser_calls_a_desk_phone_which_hears_the_tone_the_dtmf_and_the_hold(
    served: Served, tone: Path, tmp_path: Path, rtpengine: Rtpengine
) -> None:
    receiver = RtpReceiver()
    desk = free_port()
    try:
        register(served, "1002", desk)
        callee = sipp(
            served, SCENARIOS / "uas_browser_callee.xml", "1002", desk, "-key", "rtp_port", str(receiver.port)
        )
        time.sleep(0.5)
        shot = screenshot(tmp_path, "softphone-call.png")
        browser = driver(served, "call-out", "1001", tone, TARGET="1002", SCREENSHOT=shot)
        steps = read_steps(browser, "media", timeout_s=120)
        assert steps and steps[-1]["step"] == "media", "\n".join(map(str, steps))
        # Mid-call: the browser's leg is an rtpengine call (ws-<Call-ID>); with rtpengine as the
        # anchor, the call's anchor is a second one.
        client = rtpengine.client()
        try:
            calls = [str(c) for c in client.request("list").get("calls", [])]
        finally:
            client.close()
        assert len([c for c in calls if c.startswith("ws-")]) == 1, calls
        assert len(calls) == (2 if served.media_relay == "rtpengine" else 1), calls
        steps += read_steps(browser, "done", timeout_s=120)
        code, _ = finish(browser)
        assert code == 0, "\n".join(map(str, steps))
        names = [s["step"] for s in steps if not str(s["step"]).startswith("console")]
        assert names[:1] == ["registered"] and {"confirmed", "dtmf", "held", "resumed", "ended"} <= set(names)
        sipp_code, sipp_out = finish(callee)
        # The SIPp scenario checks the hold re-INVITE (a=sendonly|inactive) and the resume (sendrecv).
        assert sipp_code == 0, sipp_out[-3000:]
    finally:
        receiver.close()
    pcm = receiver.audio(payload_type=0)
    assert len(pcm) >= 8000, f"too little PCMU reached the desk phone: {receiver.payload_types()}"
    assert abs(peak_hz(pcm) - 1000) <= 25, peak_hz(pcm)
    assert tone_share(pcm) > 0.8
    events = [receiver.events(pt) for pt in receiver.payload_types() if pt >= 96]
    print(f"desk phone heard {peak_hz(pcm):.0f} Hz ({tone_share(pcm):.0%} of the energy), events {events}")
    assert [1, 5, 11] in events, events  # the keys 1, 5 and # (event 11)


def test_a_desk_phone_calls_the_browser_which_answers_and_is_heard(
    served: Served, tone: Path, tmp_path: Path
) -> None:
    receiver = RtpReceiver()
    caller_port = free_port()
    try:
        shot = screenshot(tmp_path, "softphone-incoming.png")
        browser = driver(served, "call-in", "1001", tone, SCREENSHOT=shot)
        steps = read_steps(browser, "registered", timeout_s=60)
        assert steps and steps[-1]["step"] == "registered", steps
        caller = sipp(
            served,
            SCENARIOS / "uac_browser_caller.xml",
            "1002",
            caller_port,
            f"127.0.0.1:{served.sip_port}",
            "-au",
            "1002",
            "-ap",
            served.password("1002"),
            "-key",
            "callee",
            "1001",
            "-key",
            "rtp_port",
            str(receiver.port),
        )
        steps += read_steps(browser, "done", timeout_s=120)
        code, _ = finish(browser)
        assert code == 0, "\n".join(map(str, steps))
        assert {"incoming", "confirmed", "ended"} <= {s["step"] for s in steps}
        sipp_code, sipp_out = finish(caller)
        assert sipp_code == 0, sipp_out[-3000:]
    finally:
        receiver.close()
    pcm = receiver.audio(payload_type=0)
    assert len(pcm) >= 8000, f"too little PCMU reached the desk phone: {receiver.payload_types()}"
    assert abs(peak_hz(pcm) - 1000) <= 25, peak_hz(pcm)
    assert tone_share(pcm) > 0.8


def test_the_browser_blind_transfers_a_desk_phone_to_another(
    served: Served, tone: Path, tmp_path: Path
) -> None:
    """The page's Transfer sends REFER: the switch moves 1002 (who never sees a change: it talks
    to the anchor) to 1003, which rings and answers; the browser is released; 1002's BYE later
    reaches 1003 (both SIPp scenarios end cleanly only if so)."""
    transferee, target = free_port(), free_port()
    register(served, "1002", transferee)
    register(served, "1003", target)
    # 1002 answers, talks 8 s (the transfer happens meanwhile), then hangs up.
    answer_then_bye = tmp_path / "uas_answer_bye_late.xml"
    answer_then_bye.write_text(
        (INTEROP_SCENARIOS / "uas_answer_bye.xml")
        .read_text()
        .replace(
            '<recv request="ACK"/>\n  <pause milliseconds="500"/>',
            '<recv request="ACK"/>\n  <pause milliseconds="8000"/>',
        )
    )
    assert "8000" in answer_then_bye.read_text()
    new_party = sipp(served, INTEROP_SCENARIOS / "uas_answer.xml", "1003", target)
    moved = sipp(
        served,
        answer_then_bye,
        "1002",
        transferee,
        "-key",
        "server_port",
        str(served.sip_port),
    )
    time.sleep(0.5)
    browser = driver(served, "transfer", "1001", tone, TARGET="1002", TRANSFER_TO="1003")
    steps = read_steps(browser, "done", timeout_s=120)
    code, _ = finish(browser)
    assert code == 0, "\n".join(map(str, steps))
    events = next(s["events"] for s in steps if s["step"] == "done")
    assert "transfer to 1003" in events and events[-1] == "call ended", events
    moved_code, moved_out = finish(moved)
    assert moved_code == 0, moved_out[-3000:]
    target_code, target_out = finish(new_party)
    assert target_code == 0, target_out[-3000:]
