"""DSCP seen on the wire (issue 19 part 4; peering-policy.txt offers peers our "Quality of Service
DSCP packet markings"): ``centrex serve`` as an operator runs it, a SIPp phone calling an extension
that sends it to voicemail, and tshark capturing on the loopback. Every packet the service sends
carries its class, read back by tshark from the IP header (``ip.dsfield.dscp``):

- SIP from the UDP listener, the TLS listener and the app server: CS3 (24) by default, CS5 (40)
  with CENTREX_SIP_DSCP=cs5;
- RTP on the three media paths: the built-in relay (to the phone and to the app server), the app
  server's own RTP (voicemail prompts), and rtpengine (started without ``--tos``: Centrex asks for
  EF in the ng offer) -- all EF (46);
- while SIPp's own packets stay unmarked (0): the capture tells marked from unmarked.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.apps.pcap import RtpScript
from tests.interop.conftest import SCENARIOS, SIPP
from tests.interop.test_interop_serve import free_port
from tests.interop.test_interop_voicemail import caller_scenario
from tests.interop.tls_phone import TlsPhone
from tests.rtpengine.conftest import start_rtpengine, stop

TSHARK = shutil.which("tshark")
CENTREX = [sys.executable, "-m", "centrex.cli"]
EF, CS3, CS5 = 46, 24, 40

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package tshark)"),
    pytest.mark.skipif(SIPP is None, reason="SIPp is not installed (Debian package sip-tester)"),
]


@dataclass(frozen=True)
class Packet:
    proto: str  # udp | tcp
    src: int
    dst: int
    dscp: int


@dataclass
class Service:
    sip: int
    tls: int
    rtp: tuple[int, int]
    demo: dict[str, object]
    data: Path


def rtp_range() -> tuple[int, int]:
    """100 ports for the service's RTP, below rtpengine's (the fixture picks 40000-59000)."""
    base = random.randrange(31000, 39800, 100)
    return base, base + 99


@contextmanager
def serve(tmp: Path, rtp: tuple[int, int], **env: str) -> Iterator[Service]:
    environ = {
        **os.environ,
        "CENTREX_DATA": str(tmp),
        "CENTREX_SIP_DIGEST": "MD5,SHA-256",  # SIPp 3.6 knows MD5 only
        "CENTREX_JOBS": "false",
        **env,
    }
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=environ, capture_output=True, text=True, check=True, timeout=180
        ).stdout
    )
    http, sip, tls = free_port(), free_port(), free_port()
    args = ["serve", "--bind", "127.0.0.1", "--http-port", str(http), "--sip-port", str(sip)]
    args += ["--sip-tls-port", str(tls), "--rtp-ports", f"{rtp[0]}-{rtp[1]}"]
    proc = subprocess.Popen(
        [*CENTREX, *args], env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "centrex serve did not come up"
            try:
                if httpx.get(f"http://127.0.0.1:{http}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        yield Service(sip, tls, rtp, demo, tmp)
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


@contextmanager
def capture(tmp: Path, bpf: str) -> Iterator[list[Packet]]:
    """tshark on lo with ``bpf``; the packets (with their DSCP) once the block ends."""
    assert TSHARK is not None
    pcap = tmp / "wire.pcapng"
    proc = subprocess.Popen(
        [TSHARK, "-i", "lo", "-f", bpf, "-w", str(pcap)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    deadline = time.monotonic() + 60
    while "Capturing on" not in seen:
        assert proc.poll() is None and time.monotonic() < deadline, seen + (
            proc.stderr.read() if proc.stderr else ""
        )
        seen += proc.stderr.readline() if proc.stderr else ""
    time.sleep(1.0)  # "Capturing on" comes as dumpcap starts: give it a moment before traffic
    packets: list[Packet] = []
    try:
        yield packets
    finally:
        time.sleep(1.0)  # the last packets reach the capture
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    fields = ["-e", "udp.srcport", "-e", "udp.dstport", "-e", "tcp.srcport", "-e", "tcp.dstport"]
    out = subprocess.run(
        [TSHARK, "-r", str(pcap), "-T", "fields", "-E", "separator=,", *fields, "-e", "ip.dsfield.dscp"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    for line in out.splitlines():
        usrc, udst, tsrc, tdst, dscp = line.split(",")
        if usrc:
            packets.append(Packet("udp", int(usrc), int(udst), int(dscp)))
        elif tsrc:
            packets.append(Packet("tcp", int(tsrc), int(tdst), int(dscp)))


def voicemail_call(svc: Service, tmp: Path) -> tuple[int, int]:
    """1001 calls 1002, who has no phone registered: the voicemail greeting plays, the caller sends
    3 s of tone and hangs up. Returns the caller's SIP and RTP ports."""
    assert SIPP is not None
    line = next(ln for ln in svc.demo["lines"] if ln["extension"] == "1001")  # type: ignore[attr-defined]
    sip_port, media_port = free_port(), free_port()
    pcap = RtpScript().tone(0.2, 3.0, 1000.0).write(tmp / "tone.pcap")
    common = [f"127.0.0.1:{svc.sip}", "-i", "127.0.0.1", "-p", str(sip_port), "-mp", str(media_port)]
    common += ["-s", line["sip_username"], "-au", line["sip_username"], "-ap", line["sip_password"]]
    common += ["-key", "domain", str(svc.demo["sip_domain"]), "-key", "callee", "1002"]
    common += ["-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error"]
    # A phone calls from where it registered ("403 register first" otherwise).
    for scenario in (SCENARIOS / "register.xml", caller_scenario(tmp, pcap, 4000)):
        done = subprocess.run(
            [SIPP, "-sf", str(scenario), *common], capture_output=True, text=True, timeout=60, cwd=tmp
        )
        assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-3000:]
    return sip_port, media_port


def tls_register(svc: Service) -> None:
    line = next(ln for ln in svc.demo["lines"] if ln["extension"] == "1003")  # type: ignore[attr-defined]
    phone = TlsPhone("127.0.0.1", svc.tls, svc.data / "sip-cert.pem")
    try:
        assert phone.register(line["sip_username"], str(svc.demo["sip_domain"]), line["sip_password"]) == (
            401,
            200,
        )
    finally:
        phone.close()


def in_range(port: int, span: tuple[int, int]) -> bool:
    return span[0] <= port <= span[1]


def assert_signalling(packets: list[Packet], svc: Service, caller_sip: int, dscp: int) -> None:
    from_udp = [p for p in packets if p.proto == "udp" and p.src == svc.sip]
    from_tls = [p for p in packets if p.proto == "tcp" and p.src == svc.tls]
    # The app server answers the switch's INVITE from its own port on 127.0.0.1.
    from_apps = [p for p in packets if p.proto == "udp" and p.dst == svc.sip and p.src != caller_sip]
    assert len(from_udp) >= 5 and len(from_tls) >= 2 and len(from_apps) >= 2, (from_udp, from_tls, from_apps)
    assert {p.dscp for p in from_udp} == {dscp}
    assert {p.dscp for p in from_tls} == {dscp}
    assert {p.dscp for p in from_apps} == {dscp}
    # SIPp marks nothing: the capture shows unmarked packets as 0.
    assert {p.dscp for p in packets if p.proto == "udp" and p.src == caller_sip} == {0}


def test_builtin_relay_and_app_server_rtp_are_ef_and_sip_is_cs3_by_default(tmp_path: Path) -> None:
    rtp = rtp_range()
    with serve(tmp_path, rtp) as svc:
        bpf = f"(udp and (port {svc.sip} or portrange {rtp[0]}-{rtp[1]})) or (tcp port {svc.tls})"
        with capture(tmp_path, bpf) as packets:
            caller_sip, caller_media = voicemail_call(svc, tmp_path)
            tls_register(svc)
    assert_signalling(packets, svc, caller_sip, CS3)
    media = [p for p in packets if p.proto == "udp" and in_range(p.src, rtp)]
    to_phone = [p for p in media if p.dst == caller_media]  # the relay's leg a to the phone
    hop = [p for p in media if in_range(p.dst, rtp)]  # relay leg b <-> the app server, both ways
    assert len(to_phone) > 50, len(to_phone)
    assert len({p.src for p in hop}) == 2 and len(hop) > 100, hop[:5]
    assert {p.dscp for p in media} == {EF}
    # The phone's RTP reached the relay unmarked; what the service sent on is EF.
    assert {p.dscp for p in packets if p.src == caller_media} == {0}


def test_rtpengine_media_is_ef_and_sip_is_cs5_when_set(tmp_path: Path) -> None:
    rtp = rtp_range()
    proc, daemon = start_rtpengine(tmp_path)  # no --tos: unmarked unless Centrex asks for EF
    try:
        with serve(
            tmp_path,
            rtp,
            CENTREX_SIP_DSCP="cs5",
            CENTREX_MEDIA_RELAY="rtpengine",
            CENTREX_RTPENGINE_NG=daemon.ng,
        ) as svc:
            engine = (daemon.port_min, daemon.port_max)
            bpf = (
                f"(udp and (port {svc.sip} or portrange {rtp[0]}-{rtp[1]} or "
                f"portrange {engine[0]}-{engine[1]})) or (tcp port {svc.tls})"
            )
            with capture(tmp_path, bpf) as packets:
                caller_sip, caller_media = voicemail_call(svc, tmp_path)
                tls_register(svc)
    finally:
        stop(proc)
    assert_signalling(packets, svc, caller_sip, CS5)
    from_engine = [p for p in packets if p.proto == "udp" and in_range(p.src, engine)]
    to_phone = [p for p in from_engine if p.dst == caller_media]
    to_apps = [p for p in from_engine if in_range(p.dst, rtp)]
    assert len(to_phone) > 50 and len(to_apps) > 50, (len(to_phone), len(to_apps))
    # This call's media from rtpengine (to the phone, to the app server). Not every packet from the
    # engine's port range: on a shared 127.0.0.1 another test's socket can take a port in it.
    assert {p.dscp for p in to_phone + to_apps} == {EF}
    # The app server's own RTP (prompts) to rtpengine: EF too; the built-in relay is not in the path.
    from_apps = [p for p in packets if p.proto == "udp" and in_range(p.src, rtp)]
    assert len(from_apps) > 50 and {p.dst for p in from_apps} <= set(range(engine[0], engine[1] + 1))
    assert {p.dscp for p in from_apps} == {EF}
