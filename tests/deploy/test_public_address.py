"""The public address setting (docs/deployment.md, "Public address"): `centrex serve` bound to one
address advertises the one the operator names (CENTREX_PUBLIC_ADDRESS), in SIP and SDP alike."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.deploy.test_quickstart import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_serve_advertises_the_public_address(tmp_path: Path) -> None:
    http_port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "CENTREX_DATA": str(tmp_path),
        "CENTREX_PUBLIC_ADDRESS": "198.51.100.7",
        "CENTREX_JOBS": "false",
    }
    cmd = [sys.executable, "-m", "centrex.cli", "serve", "--bind", "127.0.0.1", "--http-port", str(http_port)]
    cmd += ["--sip-port", str(free_port()), "--sip-tls-port", str(free_port())]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert "(advertised as 198.51.100.7)" in out, out[-3000:]
