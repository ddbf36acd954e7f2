"""README command 1 and the browser phone (issue 18 §3, docs/softphone.md "Turning it on"):
scripts/serve turns SIP over WebSocket on and, rtpengine being installed, starts one for the
browsers' media, hands its address to `centrex serve`, and stops it with the service.

The script runs from a copy of the repository's scripts/ whose setup-venv does nothing and whose
.venv/bin/centrex runs this checkout (the real venv is made by scripts/setup-venv, tested by CI's
fresh machine); everything else is the script as shipped."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from centrex.media.rtpengine import NgError
from tests.rtpengine.conftest import RTPENGINE, Rtpengine

from .browser_rig import free_port
from .ws_phone import WsPhone

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]


def checkout(tmp: Path) -> Path:
    root = tmp / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "serve", root / "scripts" / "serve")
    (root / "scripts" / "setup-venv").write_text("#!/bin/sh\nexit 0\n")
    venv = root / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "centrex").write_text(f'#!/bin/sh\nexec {sys.executable} -m centrex.cli "$@"\n')
    for f in (root / "scripts" / "setup-venv", venv / "centrex", root / "scripts" / "serve"):
        f.chmod(0o755)
    return root


def alive(ng_port: int) -> bool:
    client = Rtpengine(ng_port, 0, 0, Path("/dev/null")).client(timeout_s=0.5)
    try:
        client.ping()
        return True
    except (NgError, OSError):
        return False
    finally:
        client.close()


def test_scripts_serve_turns_on_the_browser_phone_with_an_rtpengine_of_its_own(tmp_path: Path) -> None:
    if RTPENGINE is None:
        pytest.skip("rtpengine is not installed (Debian package rtpengine-daemon)")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng missing: scripts/serve would install it first")
    root = checkout(tmp_path)
    http_port, sip_port, ws_port, ng_port = free_port(), free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTREX_")}
    port_min = 41000 + (ng_port % 40) * 200
    env |= {
        "PYTHONPATH": str(ROOT / "src"),
        "CENTREX_DATA": str(tmp_path / "var"),
        "CENTREX_SIP_WS_PORT": str(ws_port),
        "CENTREX_RTPENGINE_NG_PORT": str(ng_port),
        "CENTREX_RTPENGINE_PORT_MIN": str(port_min),
        "CENTREX_RTPENGINE_PORT_MAX": str(port_min + 199),
        "CENTREX_SIP_DIGEST": "MD5,SHA-256",
    }
    args = ["--bind", "127.0.0.1", "--http-port", str(http_port), "--sip-port", str(sip_port)]
    args += ["--sip-tls-port", str(free_port()), "--rtp-ports", "33000-33199", "--no-jobs"]
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [str(root / "scripts" / "serve"), *args], cwd=root, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.5)
        out = (tmp_path / "serve.log").read_text()
        assert f"rtpengine started for the browser phone (ng 127.0.0.1:{ng_port}" in out, out[-3000:]
        assert alive(ng_port), "the script's rtpengine does not answer ng pings"
        assert httpx.get(f"http://127.0.0.1:{http_port}/phone/", timeout=10).status_code == 200
        demo = subprocess.run(
            [str(root / ".venv" / "bin" / "centrex"), "demo", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        lines = json.loads(demo)
        password = next(ln["sip_password"] for ln in lines["lines"] if ln["extension"] == "1001")

        async def register() -> int:
            phone = await WsPhone.connect(f"ws://127.0.0.1:{ws_port}", "1001", lines["sip_domain"], password)
            try:
                return (await phone.register()).status
            finally:
                await phone.close()

        assert asyncio.run(register()) == 200  # a phone over SIP-over-WebSocket, out of the box
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.close()
    assert code in (0, -signal.SIGTERM, 128 + signal.SIGTERM), code
    deadline = time.monotonic() + 10
    while alive(ng_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(ng_port), "rtpengine outlived scripts/serve"
