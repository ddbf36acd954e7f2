"""`centrex serve --external-ip`: the service binds one loopback address (127.0.0.2, the "private"
one) and advertises another (127.0.0.3, the "public" one of a 1:1 NAT). Real SIPp phones register
and call through it; what they receive carries the advertised address in Via, Contact and the SDP
c=/o= lines of the relay, never the bound one. STUN Binding keep-alives on the UDP SIP port and
CRLF keep-alives on TCP are answered; a phone registering a private Contact gets the short NAT
expiry (docs/switch.md "Public address and NAT")."""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from centrex.transport.tls import ensure_certificate
from tests.interop.conftest import SCENARIOS, SIPP

pytestmark = pytest.mark.interop

CENTREX = [sys.executable, "-m", "centrex.cli"]
BOUND, PUBLIC = "127.0.0.2", "127.0.0.3"
COOKIE = 0x2112A442


def free_port(host: str) -> int:
    """A port free on both UDP and TCP at ``host``."""
    for _ in range(50):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind((host, 0))
            port = int(t.getsockname()[1])
            try:
                u.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@dataclass
class Served:
    proc: subprocess.Popen[str]
    sip_port: int
    http_port: int
    domain: str
    passwords: dict[str, str]
    tmp: Path
    demo: dict[str, Any]
    tls: ssl.SSLContext

    def sipp(
        self, scenario: str, user: str, port: int, *extra: str, client: bool = True
    ) -> subprocess.Popen[str]:
        assert SIPP is not None
        args = [SIPP, "-sf", str(SCENARIOS / scenario)]
        if client:
            args.append(f"{BOUND}:{self.sip_port}")
        args += ["-i", "127.0.0.1", "-p", str(port), "-s", user, "-m", "1", "-nostdin"]
        args += ["-key", "domain", self.domain, "-timeout", "20s", "-timeout_error", "-recv_timeout", "20000"]
        if client:
            args += ["-au", user, "-ap", self.passwords[user]]
        args += list(extra)
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finished(proc: subprocess.Popen[str]) -> None:
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out[-3000:]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("nat")
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    sip_port, http_port = free_port(BOUND), free_port(BOUND)
    env = {**os.environ, "CENTREX_DATA": str(tmp_path), "CENTREX_SIP_DIGEST": "MD5,SHA-256"}
    env["CENTREX_RTP_PORTS"] = "31000-31999"
    # HTTPS on the HTTP port (phones fetch their provisioning files there).
    cert, key = ensure_certificate(tmp_path / "https", "localhost")
    env["CENTREX_HTTP_TLS_CERT"], env["CENTREX_HTTP_TLS_KEY"] = str(cert), str(key)
    tls = ssl.create_default_context(cafile=str(cert))
    tls.check_hostname = False  # the certificate names 127.0.0.1, we bind 127.0.0.2: trust it alone
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    args = ["serve", "--bind", BOUND, "--external-ip", PUBLIC, "--http-port", str(http_port)]
    args += ["--sip-port", str(sip_port), "--sip-tls-port", "0", "--no-jobs"]
    proc = subprocess.Popen(
        [*CENTREX, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 180  # slow on a loaded machine
        up = False
        while time.monotonic() < deadline and not up and proc.poll() is None:
            try:
                up = (
                    httpx.get(f"https://{BOUND}:{http_port}/healthz", timeout=2, verify=tls).status_code
                    == 200
                )
            except httpx.TransportError:
                time.sleep(0.2)
        if not up:
            proc.kill()
            pytest.fail(f"server did not come up: {proc.communicate()[0][-3000:]}")
        passwords = {ln["sip_username"]: ln["sip_password"] for ln in demo["lines"]}
        yield Served(proc, sip_port, http_port, demo["sip_domain"], passwords, tmp_path, demo, tls)
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"(advertised as {PUBLIC})" in out


def received(path: Path) -> list[str]:
    """The messages a SIPp phone received, from its -trace_msg file."""
    text = path.read_text(errors="replace")
    out = []
    for part in re.split(r"^-{10,}.*$", text, flags=re.M):
        if "message received" in part and "\n\n" in part:
            out.append(part.split("\n\n", 1)[1].lstrip())
    return out


def header(message: str, name: str) -> list[str]:
    head = message.split("\n\n", 1)[0]
    return [
        ln.split(":", 1)[1].strip() for ln in head.splitlines() if ln.lower().startswith(name.lower() + ":")
    ]


def sdp_addresses(message: str) -> set[str]:
    body = message.split("\n\n", 1)[1] if "\n\n" in message else ""
    return set(re.findall(r"^(?:c=IN IP4|o=\S+ \S+ \S+ IN IP4) (\S+)", body, flags=re.M))


def test_sdp_contact_and_via_carry_the_advertised_address(served: Served) -> None:
    caller_port, callee_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    # The callee is behind NAT: its Contact is a private address it cannot be reached at. It gets
    # the short expiry, and the call still reaches it at the address its REGISTER came from.
    finished(served.sipp("register_nat.xml", "1002", callee_port, "-key", "contact_host", "10.0.0.5"))
    finished(served.sipp("register.xml", "1001", caller_port))
    callee_log, caller_log = served.tmp / "callee.log", served.tmp / "caller.log"
    callee = served.sipp(
        "uas_answer.xml", "1002", callee_port, "-trace_msg", "-message_file", str(callee_log), client=False
    )
    time.sleep(0.5)
    caller = served.sipp(
        "uac_call.xml", "1001", caller_port, "-key", "callee", "1002",
        "-trace_msg", "-message_file", str(caller_log),
    )  # fmt: skip
    finished(caller)
    finished(callee)

    invite = next(m for m in received(callee_log) if m.startswith("INVITE "))
    assert sdp_addresses(invite) == {PUBLIC}, invite
    assert header(invite, "Contact") == [f"<sip:{PUBLIC}:{served.sip_port}>"], invite
    assert header(invite, "Via")[0].startswith(f"SIP/2.0/UDP {PUBLIC}:{served.sip_port};"), invite
    assert BOUND not in invite

    answers = [m for m in received(caller_log) if m.startswith("SIP/2.0 200")]
    ok = next(m for m in answers if header(m, "CSeq")[0].endswith("INVITE"))
    assert sdp_addresses(ok) == {PUBLIC}, ok
    assert header(ok, "Contact") == [f"<sip:{PUBLIC}:{served.sip_port}>"], ok
    assert BOUND not in ok
    # The BYE the callee received came from the switch, which names itself by the public address.
    bye = next(m for m in received(callee_log) if m.startswith("BYE "))
    assert header(bye, "Via")[0].startswith(f"SIP/2.0/UDP {PUBLIC}:{served.sip_port};"), bye


def test_keepalives_stun_on_udp_and_crlf_on_tcp(served: Served) -> None:
    tid = os.urandom(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind(("127.0.0.1", 0))
        u.settimeout(5)
        u.sendto(struct.pack("!HHI12s", 0x0001, 0, COOKIE, tid), (BOUND, served.sip_port))
        answer = u.recv(2048)
        me = u.getsockname()
    kind, _length, cookie, got_tid = struct.unpack_from("!HHI12s", answer)
    assert (kind, cookie, got_tid) == (0x0101, COOKIE, tid)
    a_type, _a_len, family, xport, xaddr = struct.unpack_from("!HHxBHI", answer, 20)
    assert (a_type, family) == (0x0020, 1)
    assert (socket.inet_ntoa(struct.pack("!I", xaddr ^ COOKIE)), xport ^ (COOKIE >> 16)) == me
    with socket.create_connection((BOUND, served.sip_port), timeout=5) as t:
        t.sendall(b"\r\n\r\n")  # RFC 5626 §3.5.1 ping
        assert t.recv(16) == b"\r\n"  # pong


def test_a_provisioned_phone_is_told_the_public_address_over_https(served: Served) -> None:
    """`centrex serve` with CENTREX_HTTP_TLS_CERT/_KEY: a Yealink fetches its file over HTTPS and
    is pointed at the advertised SIP address, not the bound one."""
    api = httpx.Client(
        base_url=f"https://{BOUND}:{served.http_port}/api/v1",
        headers={"Authorization": f"Bearer {served.demo['office_admin_token']}"},
        verify=served.tls,
        timeout=30,
    )
    with api:
        made = api.post(
            f"/tenants/{served.demo['tenant_id']}/devices",
            json={"sip_username": "desk-nat", "mac_address": "80:5e:c0:00:00:01"},
        ).json()
        put = api.put(
            f"/tenants/{served.demo['tenant_id']}/devices/{made['id']}/provisioning",
            json={"model": "yealink-t46u"},
        )
        assert put.status_code == 200, put.text
    phone = httpx.Client(
        base_url=f"https://{BOUND}:{served.http_port}",
        headers={"User-Agent": "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:00:01"},
        verify=served.tls,
        timeout=30,
    )
    with phone:
        assert phone.get("/provision/805ec0000001.cfg").status_code == 401
        r = phone.get(
            "/provision/805ec0000001.cfg", auth=(made["provisioning_username"], made["provisioning_password"])
        )
    assert r.status_code == 200, r.text
    assert f"account.1.outbound_proxy.1.address = {PUBLIC}\n" in r.text
    assert f"account.1.outbound_proxy.1.port = {served.sip_port}\n" in r.text
    assert f"account.1.password = {made['sip_password']}\n" in r.text and BOUND not in r.text
