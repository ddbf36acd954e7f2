"""Issue 19 §1, what it must show: ``/metrics`` of a running ``centrex serve`` scraped before,
during and after a SIPp run, the figures moving — registrations, calls up, attempts, answers,
failures and blocked calls by cause, relay ports and packets, the record writer, API latency —
and the JSON log of the same run, where every line of a call carries the caller's Call-ID and
the tenant (the answer too, which arrives on the callee's leg with another Call-ID)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.interop

SIPP = shutil.which("sipp")
HERE = Path(__file__).parent
INTEROP = HERE.parent / "interop" / "scenarios"
CENTREX = [sys.executable, "-m", "centrex.cli"]
CALLS = 3  # answered calls in the run, held long enough to be scraped while up
HOLD_MS = 4000


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


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(http: int, headers: dict[str, str] | None = None) -> Samples:
    r = httpx.get(f"http://127.0.0.1:{http}/metrics", headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


@dataclass
class Served:
    http: int
    sip: int
    demo: dict[str, Any]
    log: Path
    proc: subprocess.Popen[bytes]

    def sipp(
        self, scenario: Path, user: str, *, port: int, client: bool = True, extra: tuple[str, ...] = ()
    ) -> list[str]:
        assert SIPP is not None
        args = [SIPP, "-sf", str(scenario)]
        if client:
            args.append(f"127.0.0.1:{self.sip}")
        args += ["-i", "127.0.0.1", "-p", str(port), "-s", user, "-nostdin"]
        args += ["-key", "domain", self.demo["sip_domain"], "-timeout", "40s", "-timeout_error"]
        if client:
            password = next(ln["sip_password"] for ln in self.demo["lines"] if ln["sip_username"] == user)
            args += ["-au", user, "-ap", password]
        return [*args, *extra]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    # SIPp 3.6 answers the first challenge whatever its algorithm and knows only MD5.
    env = {**os.environ, "CENTREX_DATA": str(tmp_path), "CENTREX_SIP_DIGEST": "MD5,SHA-256"}
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    http, sip = free_port(), free_port()
    log = tmp_path / "serve.log"
    cmd = [*CENTREX, "serve", "--bind", "127.0.0.1", "--http-port", str(http), "--sip-port", str(sip)]
    cmd += ["--sip-tls-port", str(free_port()), "--no-jobs", "--log-level", "INFO", "--log-format", "json"]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{http}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        yield Served(http, sip, demo, log, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_metrics_move_during_a_sipp_run_and_the_calls_lines_carry_call_id_and_tenant(served: Served) -> None:
    s = served
    users = f"http://127.0.0.1:{s.http}/api/v1/tenants/{s.demo['tenant_id']}/users"
    admin = {"Authorization": f"Bearer {s.demo['office_admin_token']}"}
    route = "/api/v1/tenants/{tenant_id}/users"

    before = scrape(s.http)
    assert total(before, "centrex_call_attempts_total") == 0
    assert value(before, "centrex_calls_answered_total") == 0
    assert value(before, "centrex_registrations", transport="UDP") == 0
    assert httpx.get(users, headers=admin, timeout=10).status_code == 200

    a, b = free_port(), free_port()
    run(s.sipp(INTEROP / "register.xml", "1001", port=a, extra=("-m", "1")))
    run(s.sipp(INTEROP / "register.xml", "1002", port=b, extra=("-m", "1")))
    registered = scrape(s.http)
    assert value(registered, "centrex_registrations", transport="UDP") == 2
    assert value(registered, "centrex_registered_devices") == 2
    assert value(registered, "centrex_registration_saves_total") == 2
    # The API histogram counted the users list (by its route template, not the tenant's path).
    assert (
        value(before, "centrex_api_request_duration_seconds_count", method="GET", route=route, status="200")
        == 0
    )
    assert (
        value(
            registered, "centrex_api_request_duration_seconds_count", method="GET", route=route, status="200"
        )
        == 1
    )

    # CALLS calls from 1001 to 1002, all at once, each held HOLD_MS with audio from the caller.
    uas = subprocess.Popen(
        s.sipp(INTEROP / "uas_answer.xml", "1002", port=b, client=False, extra=("-m", str(CALLS))),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(0.5)  # the callee's SIPp binds its port
    uac = subprocess.Popen(
        s.sipp(
            HERE / "scenarios" / "uac_call_held.xml",
            "1001",
            port=a,
            extra=(
                "-key",
                "callee",
                "1002",
                "-m",
                str(CALLS),
                "-l",
                str(CALLS),
                "-r",
                "10",
                "-d",
                str(HOLD_MS),
            ),
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    during: Samples = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and uac.poll() is None:
        during = scrape(s.http)
        if value(during, "centrex_calls_active", state="answered") >= CALLS:
            break
        time.sleep(0.2)
    out_uac, _ = uac.communicate(timeout=90)
    out_uas, _ = uas.communicate(timeout=90)
    assert uac.returncode == 0, out_uac[-3000:]
    assert uas.returncode == 0, out_uas[-3000:]
    # While the calls were up.
    assert value(during, "centrex_calls_active", state="answered") == CALLS, during
    assert value(during, "centrex_call_attempts_total", direction="internal") == CALLS
    assert value(during, "centrex_calls_answered_total") == CALLS
    assert value(during, "centrex_relay_calls") == CALLS
    assert value(during, "centrex_relay_port_pairs_in_use") >= 2 * CALLS  # two legs a call

    # A call to an extension nobody has (a failure) and one to a 900 number (blocked by the
    # toll-fraud guard, fairuse/toll_guard.py, before the dial plan's own block would).
    run(s.sipp(INTEROP / "uac_refused_404.xml", "1001", port=a, extra=("-key", "callee", "1099", "-m", "1")))
    run(
        s.sipp(
            INTEROP / "uac_refused_403.xml",
            "1001",
            port=a,
            extra=("-key", "callee", "19005550100", "-m", "1"),
        )
    )
    assert httpx.get(users, headers=admin, timeout=10).status_code == 200

    after = scrape(s.http)
    assert value(after, "centrex_calls_active", state="answered") == 0
    assert total(after, "centrex_calls_active") == 0
    assert value(after, "centrex_call_attempts_total", direction="internal") == CALLS + 1
    assert value(after, "centrex_call_attempts_total", direction="outbound") == 1
    assert value(after, "centrex_calls_answered_total") == CALLS
    assert value(after, "centrex_calls_ended_total", disposition="answered") == CALLS
    assert value(after, "centrex_call_failures_total", disposition="failed", cause="not_found") == 1
    assert total(after, "centrex_call_failures_total") == 1
    assert value(after, "centrex_calls_blocked_total", reason="toll_premium") == 1, [
        k for k in after if k[0] == "centrex_calls_blocked_total"
    ]
    assert value(after, "centrex_relay_calls") == 0
    assert value(after, "centrex_relay_port_pairs_in_use") == 0
    assert value(after, "centrex_relay_packets_total", direction="in") > 0  # the caller's audio
    assert value(after, "centrex_relay_packets_total", direction="out") > 0
    assert value(after, "centrex_relay_packets_lost_total") >= 0
    assert value(after, "centrex_record_writer_commits_total") > value(
        before, "centrex_record_writer_commits_total"
    )
    assert value(after, "centrex_record_writer_pending") == 0
    assert value(after, "centrex_record_writer_lag_seconds") == 0
    assert value(after, "centrex_record_writer_lost_total") == 0
    assert (
        value(after, "centrex_api_request_duration_seconds_count", method="GET", route=route, status="200")
        == 2
    )

    # The log of the run: every line about a call (call=<id> in its message) names the caller's
    # Call-ID and the tenant, the same on the call's start, answer and end.
    s.proc.terminate()
    s.proc.wait(timeout=30)
    lines = [json.loads(line) for line in s.log.read_text().splitlines() if line.startswith("{")]
    by_call: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        found = re.search(r"\bcall=([0-9a-f-]{36})\b", str(line["msg"]))
        if found:
            by_call.setdefault(found.group(1), []).append(line)
    assert len(by_call) == CALLS + 2
    answered = 0
    for call_lines in by_call.values():
        kinds = [str(line["msg"]).split()[0] for line in call_lines]
        assert kinds[0] == "sip.call.start" and kinds[-1] == "sip.call.end", kinds
        assert {line.get("tenant") for line in call_lines} == {s.demo["sip_domain"]}, call_lines
        call_ids = {line.get("call_id") for line in call_lines}
        assert len(call_ids) == 1 and None not in call_ids, call_lines
        answered += "sip.call.answer" in kinds
    assert answered == CALLS
