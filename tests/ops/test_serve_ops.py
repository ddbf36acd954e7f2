"""``centrex serve`` with the operations pieces wired in: JSON log lines on stderr at the level asked
for, the scheduled jobs run at start (a fresh install: every job's period is due) and recorded, and
every API response carries an X-Request-ID. --no-jobs leaves the jobs to other nodes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.jobs import JobRun


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


REGISTER = (
    "REGISTER sip:ops.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-ops-log-1;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:1001@ops.example.com>;tag=ops1\r\n"
    "To: <sip:1001@ops.example.com>\r\n"
    "Call-ID: ops-log-test-1@127.0.0.1\r\n"
    "CSeq: 1 REGISTER\r\n"
    "Contact: <sip:1001@127.0.0.1:{me}>\r\n"
    'Authorization: Digest username="1001", realm="ops.example.com", nonce="bogus",'
    ' uri="sip:ops.example.com", response="00000000000000000000000000000000", algorithm=MD5\r\n'
    "Expires: 60\r\n"
    "Content-Length: 0\r\n\r\n"
)


def register_badly(sip_port: int) -> None:
    """A REGISTER whose credentials fail: the switch logs sip.auth.failed while handling it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        s.sendto(REGISTER.format(me=s.getsockname()[1]).encode(), ("127.0.0.1", sip_port))
        s.recvfrom(4096)  # the challenge


def serve(tmp_path: Path, *flags: str) -> tuple[list[dict[str, object]], list[tuple[str, str]], str]:
    port = free_port()
    sip_port = free_port()
    env = {
        **os.environ,
        "CENTREX_DATA": str(tmp_path),
        "CENTREX_LOG_FORMAT": "json",
        "CENTREX_JOBS_DELAY_S": "0",
    }
    cmd = [sys.executable, "-m", "centrex.cli", "serve", "--bind", "127.0.0.1", "--http-port", str(port)]
    cmd += ["--sip-port", str(sip_port), "--sip-tls-port", str(free_port()), *flags]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'centrex.sqlite3'}")
    try:
        deadline = time.monotonic() + 90  # a loaded machine takes 40 s to start (prompts, migrations)
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "probe-1"})
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "server did not come up"
        request_id = health.headers["X-Request-ID"]
        register_badly(sip_port)
        runs: list[tuple[str, str]] = []
        while time.monotonic() < deadline and "--no-jobs" not in flags and len(runs) < 10:
            with make_sessionmaker(engine)() as s:
                runs = [
                    (r.job, r.status) for r in s.scalars(select(JobRun).where(JobRun.status != "running"))
                ]
            time.sleep(0.2)
        if "--no-jobs" in flags:
            time.sleep(1.0)  # long enough for a scheduler to have started, were there one
            with make_sessionmaker(engine)() as s:
                runs = [(r.job, r.status) for r in s.scalars(select(JobRun))]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        engine.dispose()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return lines, runs, request_id


def test_serve_logs_json_runs_the_jobs_and_tags_responses(tmp_path: Path) -> None:
    lines, runs, request_id = serve(tmp_path, "--log-level", "INFO")
    assert request_id == "probe-1"
    assert sorted(runs) == [
        ("alarm-clocks", "ok"),
        ("billing-run", "ok"),
        ("campaign-engagement-retention", "ok"),
        ("cdr-retention", "ok"),
        ("collections", "ok"),
        ("cpaas-recording-retention", "ok"),
        ("flow-retention", "ok"),
        ("fraud-spikes", "ok"),
        ("idempotency-keys", "ok"),
        ("inactive-accounts", "ok"),
        ("insights-retention", "ok"),
        ("message-retention", "ok"),
        ("portal-tasks", "ok"),
        ("recording-retention", "ok"),
        ("tenant-deletion", "ok"),
        ("voicemail-retention", "ok"),
        ("webhook-retention", "ok"),
    ]
    done = {line["msg"].split()[1] for line in lines if str(line["msg"]).startswith("job.done")}  # type: ignore[union-attr]
    assert done == {
        "job=recording-retention",
        "job=cdr-retention",
        "job=billing-run",
        "job=collections",
        "job=alarm-clocks",
        "job=fraud-spikes",
        "job=voicemail-retention",
        "job=inactive-accounts",
        "job=tenant-deletion",
        "job=idempotency-keys",
        "job=webhook-retention",
        "job=cpaas-recording-retention",
        "job=message-retention",
        "job=flow-retention",
        "job=campaign-engagement-retention",
        "job=insights-retention",
        "job=portal-tasks",
    }
    assert all({"ts", "level", "logger", "msg"} <= line.keys() for line in lines)
    (failed,) = [line for line in lines if str(line["msg"]).startswith("sip.auth.failed")]
    assert (failed["call_id"], failed["tenant"]) == ("ops-log-test-1@127.0.0.1", "ops.example.com")
    assert {line["level"] for line in lines} <= {"INFO", "WARNING", "ERROR"}


def test_no_jobs_and_a_quieter_level(tmp_path: Path) -> None:
    lines, runs, _ = serve(tmp_path, "--no-jobs", "--log-level", "WARNING")
    assert runs == []
    assert all(line["level"] in ("WARNING", "ERROR") for line in lines)
