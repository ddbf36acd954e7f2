"""kill -9 of a real `centrex serve` in the middle of SIPp calls: at the next start every call whose
caller had heard the end (its 200 OK to the BYE) has its CDR, and the calls that were in progress
are closed as interrupted (DESIGN.md: "a CDR that was produced is never lost, even if the process
is killed"; the record writer and output gate of calls/records.py)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import ActiveCall, CallDetail, CdrOutcome

pytestmark = pytest.mark.interop

SCENARIOS = Path(__file__).parents[1] / "interop" / "scenarios"
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


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], int]:
    http, sip = free_port(), free_port()
    args = [*CENTREX, "serve", "--bind", "127.0.0.1", "--http-port", str(http), "--sip-port", str(sip)]
    args += ["--sip-tls-port", str(free_port())]
    proc = subprocess.Popen(args, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{http}/healthz", timeout=2).status_code == 200:
                return proc, sip
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("centrex serve did not come up")


def sipp(sip: int, scenario: str, user: str, port: int, *extra: str) -> list[str]:
    return [
        "sipp",
        "-sf",
        str(SCENARIOS / scenario),
        f"127.0.0.1:{sip}",
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-s",
        user,
        "-nostdin",
        *extra,
    ]


def ends_heard(messages: Path) -> int:
    """How many calls' 200 OK to the BYE the caller's SIPp received (its -trace_msg log: one block
    per message, each after a line of dashes and a time stamp)."""
    text = messages.read_text(errors="replace") if messages.exists() else ""
    calls = set()
    for block in re.split(r"(?m)^-{20,} .*$", text):
        head, _, message = block.strip().partition("\n")
        if "message received" not in head or not message.strip().startswith("SIP/2.0 200"):
            continue
        cseq = re.search(r"(?im)^CSeq:\s*\d+\s+(\S+)", message)
        call_id = re.search(r"(?im)^Call-ID:\s*(\S+)", message)
        if cseq and call_id and cseq.group(1) == "BYE":
            calls.add(call_id.group(1))
    return len(calls)


def test_kill_9_during_calls_loses_no_cdr_of_an_ended_call(tmp_path: Path) -> None:
    if subprocess.run(["which", "sipp"], capture_output=True).returncode != 0:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    env = {**os.environ, "CENTREX_DATA": str(tmp_path), "CENTREX_SIP_DIGEST": "MD5,SHA-256"}
    env["CENTREX_SIP_RATE"] = env["CENTREX_SIP_BURST"] = "100000"  # all SIPp traffic is one source
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    passwords = {ln["sip_username"]: ln["sip_password"] for ln in demo["lines"]}
    domain = ["-key", "domain", demo["sip_domain"]]
    log = tmp_path / "serve.log"
    server, sip = serve(env, log)
    phones: list[subprocess.Popen[bytes]] = []
    try:
        a, b = free_port(), free_port()
        for user, port in (("1001", a), ("1002", b)):
            register = sipp(sip, "register.xml", user, port, "-au", user, "-ap", passwords[user])
            reg = subprocess.run(
                [*register, "-m", "1", *domain, "-timeout", "10s", "-timeout_error"],
                capture_output=True,
                timeout=30,
            )
            assert reg.returncode == 0, reg.stdout[-2000:]
        callee = sipp(sip, "uas_answer.xml", "1002", b, *domain)  # answers every call (no -m)
        phones.append(subprocess.Popen(callee, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(0.3)
        caller = sipp(sip, "uac_call.xml", "1001", a, "-au", "1001", "-ap", passwords["1001"])
        caller += [*domain, "-key", "callee", "1002", "-r", "20", "-m", "400", "-trace_msg"]
        caller += ["-message_file", str(tmp_path / "caller.log")]
        phones.append(subprocess.Popen(caller, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(3.0)  # ~60 calls placed, each rings 0.2 s and talks 0.5 s: many up at any time
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    finally:
        for p in phones:
            p.kill()
            p.wait(timeout=10)
        if server.poll() is None:
            server.kill()
    heard = ends_heard(tmp_path / "caller.log")
    assert heard >= 10, "too few calls ended before the kill to prove anything"

    restarted, _ = serve(env, log)  # the next start closes what was in progress
    try:
        sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'centrex.sqlite3'}"))
        with sessions() as s:
            outcomes = {o.cdr_id: o for o in s.scalars(select(CdrOutcome))}
            cdrs = s.scalars(select(CallDetail)).all()
            journal = s.scalars(select(ActiveCall)).all()
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=30)
    causes = [outcomes[c.id].hangup_cause for c in cdrs]
    answered = [c for c in cdrs if outcomes[c.id].hangup_cause == "caller_bye"]
    assert all(c.disposition == "answered" and c.duration_ms >= 400 for c in answered)
    # Every call whose end the caller heard is in the store, and no more ended than were written.
    assert len(answered) >= heard, (len(answered), heard, causes)
    assert "interrupted" in causes, causes  # the calls cut short by the kill...
    assert journal == []  # ...were closed at the start, nothing is left open
    assert set(causes) <= {"caller_bye", "interrupted"}, causes
