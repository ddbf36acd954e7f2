"""The browser phone as the portal's user opens it (issue 18 §3): signed in to the portal with an
e-mail and password, the page at /phone/ gets the user's own browser device from the API (a device
record of its own, `<extension>-web`, with its own SIP password: POST /me/softphone) and registers
over SIP over *secure* WebSocket (wss://, the switch's self-signed certificate) from headless
Chromium driven by playwright-core (browser/portal_phone.mjs; fake microphone playing 1 kHz). It
calls a SIPp desk phone, whose scenario requires the call to come from the user (1001, not the
device's name); the tone is found by FFT in the RTP that reaches the desk phone's side (media
through rtpengine); the page hangs up. The device is then in the user's /me/devices and in the
administrator's device list."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.interop.conftest import SIPP
from tests.rtpengine.conftest import Rtpengine

from .browser_rig import (
    CENTREX,
    CHROMIUM,
    PHONE_DIR,
    RtpReceiver,
    Served,
    browser_missing,
    free_port,
    peak_hz,
    read_steps,
    tone_share,
    write_tone,
)
from .test_browser_phone import finish, register, sipp

pytestmark = pytest.mark.interop

SCENARIOS = Path(__file__).parent / "scenarios"
DRIVER = Path(__file__).parent / "browser" / "portal_phone.mjs"
EMAIL = "ada@demo.centrex.test"  # the demo's 1001 (docs/portal-auth.md "The demo")


def url(served: Served) -> str:
    return f"http://127.0.0.1:{served.http_port}"


@pytest.fixture(scope="module")
def served(rtpengine: Rtpengine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`centrex serve` with SIP over secure WebSocket only (no ws://): the page must take wss://."""
    why = browser_missing()
    if why or SIPP is None:
        pytest.skip(why or "SIPp is not installed (Debian package sip-tester)")
    data = tmp_path_factory.mktemp("serve-wss")
    http_port, sip_port, wss_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "CENTREX_DATA": str(data),
        "CENTREX_SIP_DIGEST": "MD5,SHA-256",  # SIPp knows MD5 only
        "CENTREX_RTPENGINE_NG": rtpengine.ng,
        "CENTREX_SIP_TLS_PORT": str(free_port()),
        "CENTREX_SIP_WSS_PORT": str(wss_port),
    }
    env.pop("CENTREX_SIP_WS_PORT", None)
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    cmd = [
        *CENTREX,
        "serve",
        "--bind",
        "127.0.0.1",
        "--http-port",
        str(http_port),
        "--sip-port",
        str(sip_port),
    ]
    cmd += ["--rtp-ports", "32000-32999", "--no-jobs", "--no-monitor"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 90
    try:
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with socket.create_connection(("127.0.0.1", wss_port), timeout=1):
                    pass
                if httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=5).status_code == 200:
                    break
            except (OSError, httpx.TransportError):
                pass
            assert time.monotonic() < deadline, "centrex serve did not come up"
            time.sleep(0.3)
        yield Served(proc, http_port, sip_port, wss_port, demo)  # ws_port: the WSS port here
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        print((out or "")[-3000:])


def test_the_portal_users_browser_phone_registers_over_wss_as_its_own_device_and_calls(
    served: Served, tmp_path: Path
) -> None:
    tone = write_tone(tmp_path / "tone-1khz.wav")
    receiver = RtpReceiver()
    desk = free_port()
    try:
        register(served, "1002", desk)
        callee = sipp(
            served,
            SCENARIOS / "uas_browser_device_callee.xml",
            "1002",
            desk,
            "-key",
            "rtp_port",
            str(receiver.port),
        )
        time.sleep(0.5)
        shot = os.environ.get("CENTREX_DOCS_SCREENSHOTS") == "1"
        env = {
            **os.environ,
            "BASE": url(served),
            "EMAIL": EMAIL,
            "PASSWORD": str(served.demo["portal_password"]),
            "TARGET": "1002",
            "TONE_WAV": str(tone),
            "CHROMIUM": CHROMIUM,
            "PHONE_DIR": str(PHONE_DIR),
            "SCREENSHOT": str(Path(__file__).resolve().parents[2] / "docs/images/softphone-portal.png")
            if shot
            else str(tmp_path / "softphone-portal.png"),
        }
        browser = subprocess.Popen(
            ["node", str(DRIVER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        steps = read_steps(browser, "done", timeout_s=150)
        code, _ = finish(browser)
        assert code == 0, "\n".join(map(str, steps))
        registered = next(s for s in steps if s["step"] == "registered")
        # The page took the secure WebSocket and the device of the user's own.
        assert str(registered["server"]).startswith(f"wss://127.0.0.1:{served.ws_port}"), registered
        assert registered["user"] == "1001-web", registered
        names = [s["step"] for s in steps if not str(s["step"]).startswith("console")]
        assert {"signed-in", "confirmed", "media", "ended", "done"} <= set(names), names
        sipp_code, sipp_out = finish(callee)
        assert sipp_code == 0, sipp_out[-3000:]  # the call came from 1001 and ended with the page's BYE
    finally:
        receiver.close()
    pcm = receiver.audio(payload_type=0)
    assert len(pcm) >= 8000, f"too little PCMU reached the desk phone: {receiver.payload_types()}"
    assert abs(peak_hz(pcm) - 1000) <= 25, peak_hz(pcm)
    assert tone_share(pcm) > 0.8

    # The device record: the user's (in /me/devices), and in the administrator's list.
    tenant = served.demo["tenant_id"]
    api = httpx.Client(base_url=f"{url(served)}/api/v1")
    admin = {"Authorization": f"Bearer {served.demo['office_admin_token']}"}  # Ada, 1001, is the admin
    devices = api.get(f"/tenants/{tenant}/devices", params={"limit": 100}, headers=admin).json()["items"]
    [web] = [d for d in devices if d["sip_username"] == "1001-web"]
    assert web["description"] == "Browser phone"
    desk_phone = next(d for d in devices if d["sip_username"] == "1001")
    assert web["user_id"] == desk_phone["user_id"] and web["id"] != desk_phone["id"]
    mine = api.get(f"/tenants/{tenant}/me/devices", headers=admin).json()["items"]
    assert {"1001", "1001-web"} <= {d["sip_username"] for d in mine}
