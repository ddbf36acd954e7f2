"""`centrex serve` starts SIP on UDP and TCP at --sip-port, says where, reports it in /healthz,
answers SIP, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.interop

CENTREX = [sys.executable, "-m", "centrex.cli"]


def free_port() -> int:
    """A port free on both UDP and TCP."""
    for _ in range(50):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


OPTIONS = (
    b"OPTIONS sip:demo.centrex.test SIP/2.0\r\nVia: SIP/2.0/{t} 127.0.0.1:{p};branch=z9hG4bKserve;rport\r\n"
    b"From: <sip:probe@demo.centrex.test>;tag=1\r\nTo: <sip:demo.centrex.test>\r\nCall-ID: serve-probe\r\n"
    b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
)


def test_serve_listens_for_sip_on_udp_and_tcp(tmp_path: Path) -> None:
    http_port, sip_port = free_port(), free_port()
    env = {**os.environ, "CENTREX_DATA": str(tmp_path)}
    proc = subprocess.Popen(
        [
            *CENTREX,
            "serve",
            "--bind",
            "127.0.0.1",
            "--http-port",
            str(http_port),
            "--sip-port",
            str(sip_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "server did not come up"
        sip = health.json()["components"]["sip"]
        assert sip["ready"] and f"UDP 127.0.0.1:{sip_port}" in sip["detail"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            u.settimeout(5)
            u.sendto(
                OPTIONS.replace(b"{t}", b"UDP").replace(b"{p}", str(u.getsockname()[1]).encode()),
                ("127.0.0.1", sip_port),
            )
            assert u.recv(4096).startswith(b"SIP/2.0 200 OK")
        with socket.create_connection(("127.0.0.1", sip_port), timeout=5) as t:
            t.sendall(OPTIONS.replace(b"{t}", b"TCP").replace(b"{p}", str(t.getsockname()[1]).encode()))
            assert t.recv(4096).startswith(b"SIP/2.0 200 OK")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"SIP UDP 127.0.0.1:{sip_port}, TCP 127.0.0.1:{sip_port}" in out
    assert proc.returncode == 0, out
