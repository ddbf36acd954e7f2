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


def register_pair(sip: int, passwords: dict[str, str], domain: list[str]) -> tuple[int, int]:
    a, b = free_port(), free_port()
    for user, port in (("1001", a), ("1002", b)):
        register = sipp(sip, "register.xml", user, port, "-au", user, "-ap", passwords[user])
        reg = subprocess.run(
            [*register, "-m", "1", *domain, "-timeout", "10s", "-timeout_error"],
            capture_output=True,
            timeout=30,
        )
        assert reg.returncode == 0, reg.stdout[-2000:]
    return a, b


def demo_env(tmp_path: Path, **extra: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
    env = {**os.environ, "CENTREX_DATA": str(tmp_path), "CENTREX_SIP_DIGEST": "MD5,SHA-256", **extra}
    env["CENTREX_SIP_RATE"] = env["CENTREX_SIP_BURST"] = "100000"  # all SIPp traffic is one source
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    passwords = {ln["sip_username"]: ln["sip_password"] for ln in demo["lines"]}
    return env, passwords, ["-key", "domain", demo["sip_domain"]]


def test_kill_9_with_calls_answered_bills_their_talk_time_and_the_restart_hangs_them_up(
    tmp_path: Path,
) -> None:
    """Issue 13 §3: answered calls a crash cut short come back answered, with their talk time up to
    the switch's last heartbeat, and the restarted switch sends BYE to both phones of each (SIPp
    phones that wait for the far end to hang up: each call completes only if its BYE arrives)."""
    if subprocess.run(["which", "sipp"], capture_output=True).returncode != 0:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    env, passwords, domain = demo_env(tmp_path, CENTREX_SIP_HEARTBEAT_S="0.5")
    log = tmp_path / "serve.log"
    server, sip = serve(env, log)
    calls = 8
    phones: list[subprocess.Popen[bytes]] = []
    try:
        a, b = register_pair(sip, passwords, domain)
        callee = sipp(sip, "uas_answer.xml", "1002", b, *domain, "-m", str(calls))
        phones.append(subprocess.Popen(callee, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(0.3)
        caller = sipp(sip, "uac_call_callee_bye.xml", "1001", a, "-au", "1001", "-ap", passwords["1001"])
        caller += [*domain, "-key", "callee", "1002", "-r", str(calls), "-m", str(calls)]
        phones.append(subprocess.Popen(caller, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(4.0)  # all answered within ~1.5 s, then talking (nobody hangs up)
        assert all(p.poll() is None for p in phones), "the phones ended their calls before the kill"
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        killed_at = time.monotonic()
        restarted, _ = serve(env, log)  # on another port: the phones answer the BYEs wherever from
        try:
            codes = [p.wait(timeout=30) for p in phones]
        finally:
            restarted.send_signal(signal.SIGTERM)
            restarted.wait(timeout=30)
        assert time.monotonic() - killed_at < 60
    finally:
        for p in phones:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        if server.poll() is None:
            server.kill()
    assert codes == [0, 0], "a phone's call never got its BYE from the restarted switch"
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'centrex.sqlite3'}"))
    with sessions() as s:
        outcomes = {o.cdr_id: o for o in s.scalars(select(CdrOutcome))}
        cdrs = s.scalars(select(CallDetail)).all()
        journal = s.scalars(select(ActiveCall)).all()
    assert journal == []
    assert len(cdrs) == calls
    assert {outcomes[c.id].hangup_cause for c in cdrs} == {"interrupted"}
    # Answered, with ~2.5-4 s of talk each (answered in the first ~1.5 s, killed at 4 s, a heartbeat
    # every 0.5 s): rated like any answered call, not 12 failed calls of 0 s.
    assert all(c.disposition == "answered" and c.answer is not None for c in cdrs)
    assert all(2000 <= c.duration_ms <= 4500 for c in cdrs), [c.duration_ms for c in cdrs]


def call_between_vanishing_phones(
    tmp_path: Path,
    env: dict[str, str],
    passwords: dict[str, str],
    domain: list[str],
    callee: str,
    caller: str,
) -> tuple[list[int], float, CallDetail, CdrOutcome]:
    """One call from a SIPp caller (``caller`` scenario) to a SIPp callee (``callee``) that both
    wait for the switch to hang up: their exit codes, how long it took, the call's CDR and outcome."""
    server, sip = serve(env, tmp_path / "serve.log")
    phones: list[subprocess.Popen[bytes]] = []
    try:
        a, b = register_pair(sip, passwords, domain)
        answering = sipp(sip, callee, "1002", b, *domain, "-m", "1")
        phones.append(subprocess.Popen(answering, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(0.3)
        calling = sipp(sip, caller, "1001", a, "-au", "1001", "-ap", passwords["1001"])
        started = time.monotonic()
        calling += [*domain, "-key", "callee", "1002", "-m", "1"]
        phones.append(subprocess.Popen(calling, cwd=tmp_path, stdout=subprocess.DEVNULL))
        codes = [p.wait(timeout=40) for p in phones]
        took = time.monotonic() - started
        sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'centrex.sqlite3'}"))
        with sessions() as s:
            [cdr] = s.scalars(select(CallDetail)).all()
            outcome = s.scalars(select(CdrOutcome)).one()
    finally:
        for p in phones:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return codes, took, cdr, outcome


def test_phones_that_vanish_are_hung_up_when_their_media_stops(tmp_path: Path) -> None:
    """Issue 13 §3: two SIPp phones answer and then vanish — no RTP, no BYE. With a 2 s no-media
    timeout the switch hangs up both within it and the CDR is answered, cause media_timeout, with
    the time the call was up."""
    if subprocess.run(["which", "sipp"], capture_output=True).returncode != 0:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    env, passwords, domain = demo_env(tmp_path, CENTREX_MEDIA_TIMEOUT_S="2")
    codes, took, cdr, outcome = call_between_vanishing_phones(
        tmp_path, env, passwords, domain, "uas_answer.xml", "uac_call_callee_bye.xml"
    )
    assert codes == [0, 0], "a phone never got the switch's BYE"
    assert took < 30  # registration, set-up and the 2 s, on a loaded 2-core machine
    assert (cdr.disposition, outcome.hangup_cause) == ("answered", "media_timeout")
    # The time it was up: the 2 s of silence after the answer (and the relay's check period).
    assert 1500 <= cdr.duration_ms <= 6000, cdr.duration_ms


def test_a_phone_that_stops_answering_session_refreshes_is_hung_up(tmp_path: Path) -> None:
    """Issue 13 §2-§3 with real SIPp phones: the caller offers an RFC 4028 timer it never
    refreshes, the callee takes one the switch refreshes and never answers the UPDATE. With a
    4 s session (a test-only Min-SE below RFC 4028's 90 s) the switch ends the call on both sides
    2.67 s after the answer, and the CDR says why."""
    if subprocess.run(["which", "sipp"], capture_output=True).returncode != 0:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    env, passwords, domain = demo_env(
        tmp_path,
        CENTREX_SIP_SESSION_EXPIRES="4",
        CENTREX_SIP_MIN_SE="2",
        CENTREX_SIP_TEST_SHORT_TIMERS="1",
    )
    codes, _, cdr, outcome = call_between_vanishing_phones(
        tmp_path, env, passwords, domain, "uas_answer_timer_vanish.xml", "uac_call_timer.xml"
    )
    assert codes == [0, 0], "a phone never got the switch's BYE"
    assert (cdr.disposition, outcome.hangup_cause) == ("answered", "session_expired")
    assert 2000 <= cdr.duration_ms <= 6000, cdr.duration_ms


def test_sigterm_ends_answered_calls_with_bye_and_a_cdr(tmp_path: Path) -> None:
    """Issue 14/13: a SIGTERM while calls are up ends them cleanly — both SIPp phones of each call
    get the switch's BYE, each call has its CDR (answered, cause shutdown), nothing is left in the
    journal — and the process is gone within seconds."""
    if subprocess.run(["which", "sipp"], capture_output=True).returncode != 0:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    env, passwords, domain = demo_env(tmp_path)
    server, sip = serve(env, tmp_path / "serve.log")
    calls = 4
    phones: list[subprocess.Popen[bytes]] = []
    try:
        a, b = register_pair(sip, passwords, domain)
        callee = sipp(sip, "uas_answer.xml", "1002", b, *domain, "-m", str(calls))
        phones.append(subprocess.Popen(callee, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(0.3)
        caller = sipp(sip, "uac_call_callee_bye.xml", "1001", a, "-au", "1001", "-ap", passwords["1001"])
        caller += [*domain, "-key", "callee", "1002", "-r", str(calls), "-m", str(calls)]
        phones.append(subprocess.Popen(caller, cwd=tmp_path, stdout=subprocess.DEVNULL))
        time.sleep(3.0)
        stopped = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        took = time.monotonic() - stopped
        codes = [p.wait(timeout=30) for p in phones]
    finally:
        for p in phones:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        if server.poll() is None:
            server.kill()
    assert took < 10
    assert codes == [0, 0], "a phone never got the stopping switch's BYE"
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'centrex.sqlite3'}"))
    with sessions() as s:
        outcomes = {o.cdr_id: o for o in s.scalars(select(CdrOutcome))}
        cdrs = s.scalars(select(CallDetail)).all()
        assert s.scalars(select(ActiveCall)).all() == []
    assert len(cdrs) == calls
    assert {(c.disposition, outcomes[c.id].hangup_cause) for c in cdrs} == {("answered", "shutdown")}
    assert all(c.duration_ms >= 1000 for c in cdrs)
