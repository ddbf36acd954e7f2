"""`centrex serve` starts SIP on UDP and TCP at --sip-port and TLS at --sip-tls-port (with a
certificate made in the data dir at first start), says where, reports it in /healthz, registers
phones on each, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import SCENARIOS, SIPP
from .tls_phone import TlsPhone

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


def test_serve_listens_for_sip_on_udp_tcp_and_tls(tmp_path: Path) -> None:
    http_port, sip_port, tls_port = free_port(), free_port(), free_port()
    env = {**os.environ, "CENTREX_DATA": str(tmp_path), "CENTREX_SIP_DIGEST": "MD5,SHA-256"}
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    operator = {"Authorization": f"Bearer {demo['operator_token']}"}  # /healthz details are the operator's
    health_url = f"http://127.0.0.1:{http_port}/healthz"
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
            "--sip-tls-port",
            str(tls_port),
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
                health = httpx.get(f"http://127.0.0.1:{http_port}/healthz", headers=operator, timeout=2)
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
        if SIPP:
            line = demo["lines"][0]
            user, password = line["sip_username"], line["sip_password"]
            args = [SIPP, "-sf", str(SCENARIOS / "register.xml"), f"127.0.0.1:{sip_port}", "-i", "127.0.0.1"]
            args += ["-p", str(free_port()), "-s", user, "-au", user, "-ap", password]
            args += [
                "-key",
                "domain",
                demo["sip_domain"],
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "10s",
                "-timeout_error",
            ]
            reg = subprocess.run(
                args,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert reg.returncode == 0, reg.stdout[-2000:]
            sip = httpx.get(health_url, headers=operator, timeout=2).json()["components"]["sip"]
            assert "1 contacts registered" in sip["detail"]
        # A phone over TLS: it trusts the certificate made at first start in the data dir.
        cert = tmp_path / "sip-cert.pem"
        assert cert.exists() and (tmp_path / "sip-key.pem").stat().st_mode & 0o077 == 0
        line = demo["lines"][1]
        phone = TlsPhone("127.0.0.1", tls_port, cert)
        try:
            assert phone.register(line["sip_username"], demo["sip_domain"], "wrong") == (401, 401)
            phone.close()
            phone = TlsPhone("127.0.0.1", tls_port, cert)
            assert phone.register(line["sip_username"], demo["sip_domain"], line["sip_password"]) == (
                401,
                200,
            )
        finally:
            phone.close()
        sip = httpx.get(health_url, headers=operator, timeout=2).json()["components"]["sip"]
        assert f"TLS 127.0.0.1:{tls_port}" in sip["detail"]
        assert f"{2 if SIPP else 1} contacts registered" in sip["detail"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"SIP UDP 127.0.0.1:{sip_port}, TCP 127.0.0.1:{sip_port}, TLS 127.0.0.1:{tls_port}" in out
    flat = out.replace("\n", "")  # the console wraps long temporary paths
    assert "SIP TLS certificate" in flat and "sip-cert.pem" in flat
    assert proc.returncode == 0, out
