"""SIP benchmark: registrations and calls per second through Centrex, with SIPp on both sides.

    .venv/bin/python bench/sip_bench.py [--devices 2000] [--reg-rates 500,1000,2000]
                                        [--call-rates 100,200,400] [--seconds 10] [--hold 0,10]
                                        [--cpu 0] [--profile out.prof]

It makes a data dir in /tmp with the demo tenant plus ``--devices`` extra lines, starts
``centrex serve`` on free ports pinned to one CPU (taskset), and runs SIPp against it:

- registrations: REGISTER → 401 → REGISTER with digest → 200, each from the devices in turn (the
  first pass is a new registration written to the store, later passes refreshes);
- calls: SIPp UAC (1001) → Centrex → SIPp UAS (1002): INVITE → 407 → INVITE with digest →
  180 → 200 → ACK, held ``--hold`` seconds, BYE → 200. Setup time is first INVITE → 200 (SIPp
  response-time distribution, ``-trace_rtt``).

Each stage offers a rate for ``--seconds`` and prints what was completed, failed calls, and p50/p99
setup time. SIPp runs on the other CPUs. ``--profile`` runs the server under cProfile and prints the
top functions by own time at the end. Nothing is asserted: figures are printed (docs/performance.md).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIPP = shutil.which("sipp")
DOMAIN = "demo.centrex.test"
BENCH_PASSWORD = "bench-password-1"

REGISTER_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_register">
  <send retrans="500"><![CDATA[
REGISTER sip:[field0] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-r1;rport
Max-Forwards: 70
From: <sip:bench@[field0]>;tag=[pid]R[call_number]
To: <sip:bench@[field0]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:bench@[local_ip]:[local_port];tenant=[field0]>
Expires: 3600
Content-Length: 0

]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[field0] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-r2;rport
Max-Forwards: 70
From: <sip:bench@[field0]>;tag=[pid]R[call_number]
To: <sip:bench@[field0]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:bench@[local_ip]:[local_port];tenant=[field0]>
Expires: 3600
[authentication]
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""

REGISTER_ONE_XML = (
    REGISTER_XML.replace("[field0]", "[domain]")
    .replace("sip:bench@", "sip:[service]@")
    .replace(";tenant=[domain]", "")
)

UAC_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_uac">
  <send retrans="500" start_rtd="1"><![CDATA[
INVITE sip:[callee]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i1;rport
Max-Forwards: 70
From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
To: <sip:[callee]@[domain]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[service]@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="407" auth="true"/>
  <send><![CDATA[
ACK sip:[callee]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i1;rport
Max-Forwards: 70
From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
To: <sip:[callee]@[domain]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
INVITE sip:[callee]@[domain] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-i2;rport
Max-Forwards: 70
From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
To: <sip:[callee]@[domain]>
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:[service]@[local_ip]:[local_port]>
[authentication]
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rrs="true" rtd="1"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-a2;rport
Max-Forwards: 70
From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
To: <sip:[callee]@[domain]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 ACK
Content-Length: 0

]]></send>
  <pause milliseconds="[hold_ms]"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-b3;rport
Max-Forwards: 70
From: <sip:[service]@[domain]>;tag=[pid]C[call_number]
To: <sip:[callee]@[domain]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""

UAS_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench_uas">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]U[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:1002@[local_ip]:[local_port]>
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]U[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:1002@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


def free_port() -> int:
    """A port free on both UDP and TCP."""
    for _ in range(100):
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = int(t.getsockname()[1])
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@dataclass
class Stage:
    offered: float
    attempted: int
    ok: int
    failed: int
    seconds: float
    setup_ms: list[float]

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> str:
        if not self.setup_ms:
            return "-"
        values = sorted(self.setup_ms)
        return f"{values[min(len(values) - 1, int(q * len(values)))]:.1f}"


def seed(data: Path, devices: int) -> dict[str, str]:
    """The demo tenant (its lines' username -> password) plus ``devices`` small tenants
    b00000.bench.test, ... with one line each, user "bench", password BENCH_PASSWORD. One line per
    tenant because SIPp's [authentication] takes a per-call username only from -au; the realm (the
    tenant's domain) comes from each challenge, so every registration is a different phone."""
    sys.path.insert(0, str(ROOT / "src"))
    from centrex.ops.demo import seed_demo
    from centrex.store.credentials import sip_ha1s
    from centrex.store.db import make_engine, make_sessionmaker, transaction
    from centrex.store.migrate import upgrade
    from centrex.store.models import Device, Tenant

    engine = make_engine(f"sqlite:///{data / 'centrex.sqlite3'}")
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        demo = seed_demo(s, data)
        passwords = {ln.sip_username: ln.sip_password for ln in demo.lines}
        for i in range(devices):
            tenant = Tenant(name=f"Bench {i}", sip_domain=bench_domain(i))
            s.add(tenant)
            s.flush()
            md5, sha = sip_ha1s("bench", tenant.sip_domain, BENCH_PASSWORD)
            s.add(Device(tenant_id=tenant.id, sip_username="bench", ha1_md5=md5, ha1_sha256=sha))
    engine.dispose()
    return passwords


def bench_domain(i: int) -> str:
    return f"b{i:05d}.bench.test"


# Run by the server's interpreter with --gc-stats: time spent in the garbage collector, printed at exit.
GC_STATS = """
import atexit, gc, os, runpy, sys, time
spent = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
began = [0.0]
def watch(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        s = spent[info["generation"]]
        s[0] += 1
        s[1] += time.perf_counter() - began[0]
gc.callbacks.append(watch)
if os.environ.get("BENCH_GC_THRESHOLD"):
    gc.set_threshold(*(int(x) for x in os.environ["BENCH_GC_THRESHOLD"].split(",")))
atexit.register(lambda: print("gc: " + ", ".join(
    f"gen{g} {n} runs {t * 1000:.0f} ms" for g, (n, t) in spent.items()), flush=True))
sys.argv = ["centrex", *sys.argv[1:]]
runpy.run_module("centrex.cli", run_name="__main__")
"""


def start_server(
    data: Path, sip: int, http: int, tls: int, cpu: int, profile: str | None, gc_stats: bool = False
) -> subprocess.Popen[str]:
    env = {**os.environ, "CENTREX_DATA": str(data), "CENTREX_SIP_DIGEST": "MD5,SHA-256"}
    # Every SIPp message comes from 127.0.0.1: one source, which the guard would hold to its
    # per-source default (50 requests/s). The benchmark measures the switch, not the limiter.
    env["CENTREX_SIP_RATE"] = env["CENTREX_SIP_BURST"] = "1000000"
    # Calls held 10 s at 500/s are 5,000 calls up at once, each anchored on 4 relay ports (RTP
    # and RTCP per leg): the default range (10,000 ports) would run out at 2,500.
    env.setdefault("CENTREX_RTP_PORTS", "10000-60000")
    env["PYTHONPATH"] = str(ROOT / "src")
    # The scheduled jobs (billing run, retention) are another load on the same interpreter; the
    # benchmark measures the switch (a fresh data dir would have them all due at once).
    env.setdefault("CENTREX_JOBS", "false")
    py = [sys.executable] + (["-m", "cProfile", "-o", profile] if profile else [])
    serve = ["-c", GC_STATS] if gc_stats and not profile else ["-m", "centrex.cli"]  # cProfile takes -m too
    args = [*py, *serve, "serve", "--bind", "127.0.0.1", "--sip-port", str(sip)]
    args += ["--http-port", str(http), "--sip-tls-port", str(tls)]
    if shutil.which("taskset"):
        args = ["taskset", "-c", str(cpu), *args]
    # The server's output goes to a file: a pipe nobody reads would stall it once full.
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", http), timeout=1):
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(data / 'server.log').read_text()[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not come up in 60 s")


@dataclass
class Run:
    ok: int
    failed: int
    seconds: float  # wall time of the SIPp run


def sipp(work: Path, args: list[str], cpus: str, timeout_s: float) -> Run:
    """Run SIPp to the end; the counts are the cumulative ones of its final statistics screen."""
    assert SIPP is not None
    cmd = [SIPP, *args, "-nostdin"]
    if shutil.which("taskset") and cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=timeout_s)
        out = done.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    elapsed = time.monotonic() - started

    def last(label: str) -> int:
        found = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", out)
        return int(found[-1]) if found else 0

    return Run(last("Successful call"), last("Failed call"), elapsed)


def read_rtt(work: Path) -> list[float]:
    values: list[float] = []
    for f in work.glob("*_rtt.csv"):
        with f.open() as fh:
            for row in csv.reader(fh, delimiter=";"):
                with contextlib.suppress(ValueError, IndexError):
                    values.append(float(row[1]))
        f.unlink()
    return values


def register_stage(work: Path, port: int, rate: float, seconds: float, inf: Path, cpus: str) -> Stage:
    total = int(rate * seconds)
    args = ["-sf", str(work / "register.xml"), f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", str(free_port())]
    args += ["-inf", str(inf), "-au", "bench", "-ap", BENCH_PASSWORD, "-r", str(int(rate)), "-m", str(total)]
    args += ["-l", str(max(100, int(rate))), "-timeout", f"{int(seconds * 3 + 30)}s", "-recv_timeout", "5000"]
    args += ["-default_behaviors", "all,-bye"]
    run = sipp(work, args, cpus, seconds * 3 + 60)
    return Stage(rate, total, run.ok, total - run.ok, run.seconds, [])


def call_stage(
    work: Path, port: int, rate: float, seconds: float, hold_s: float, uac_port: int, password: str, cpus: str
) -> Stage:
    total = int(rate * seconds)
    read_rtt(work)
    scenario = work / f"uac-{int(hold_s * 1000)}.xml"  # SIPp's pause takes no -key value
    scenario.write_text(UAC_XML.replace("[hold_ms]", str(int(hold_s * 1000))))
    args = ["-sf", str(scenario), f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", str(uac_port)]
    args += ["-s", "1001", "-au", "1001", "-ap", password, "-key", "domain", DOMAIN, "-key", "callee", "1002"]
    args += ["-r", str(int(rate)), "-m", str(total)]
    args += ["-l", str(max(200, int(rate * (hold_s + 2) * 2))), "-recv_timeout", "10000"]
    args += ["-timeout", f"{int(seconds * 3 + hold_s + 60)}s", "-trace_rtt", "-rtt_freq", "1"]
    run = sipp(work, args, cpus, seconds * 3 + hold_s + 90)
    return Stage(rate, total, run.ok, total - run.ok, run.seconds, read_rtt(work))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--reg-rates", default="500,1000,2000")
    ap.add_argument("--call-rates", default="100,200,400")
    ap.add_argument("--hold", default="0,10", help="seconds each call is held, comma separated")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each stage")
    ap.add_argument("--cpu", type=int, default=0, help="the CPU the server is pinned to")
    ap.add_argument("--profile", help="write the server's cProfile stats here and print the top")
    ap.add_argument(
        "--gc-stats",
        action="store_true",
        help="print the server's garbage collector time (BENCH_GC_THRESHOLD=a,b,c tries other thresholds)",
    )
    ap.add_argument(
        "--pause", type=float, default=5.0, help="seconds between stages (an overloaded one drains first)"
    )
    a = ap.parse_args()
    if SIPP is None:
        raise SystemExit("SIPp is not installed (Debian package sip-tester)")
    ncpu = os.cpu_count() or 1
    others = ",".join(str(c) for c in range(ncpu) if c != a.cpu) or str(a.cpu)
    work = Path(tempfile.mkdtemp(prefix="centrex-sipbench-"))
    print(f"data and SIPp files in {work}; server on CPU {a.cpu}, SIPp on CPU {others}")
    passwords = seed(work, a.devices)
    (work / "register.xml").write_text(REGISTER_XML)
    (work / "uas.xml").write_text(UAS_XML)
    inf = work / "devices.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(f"{bench_domain(i)};\n" for i in range(a.devices)))
    sip, http, tls = free_port(), free_port(), free_port()
    profile = str(Path(a.profile).resolve()) if a.profile else None
    server = start_server(work, sip, http, tls, a.cpu, profile, a.gc_stats)
    uas_proc = None
    try:
        print(f"\nregistrations ({a.devices} devices, REGISTER+401+REGISTER each, {a.seconds:.0f} s a stage)")
        print(f"{'offered/s':>10} {'done/s':>10} {'ok':>8} {'failed':>8}")
        for rate in [float(r) for r in a.reg_rates.split(",") if r]:
            time.sleep(a.pause)
            st = register_stage(work, sip, rate, a.seconds, inf, others)
            print(f"{rate:>10.0f} {st.rate:>10.0f} {st.ok:>8} {st.failed:>8}")
        # The callee: one SIPp UAS registered as 1002, answering every call.
        uas_port, uac_port = free_port(), free_port()
        (work / "register_one.xml").write_text(REGISTER_ONE_XML)
        for ext, port in (("1002", uas_port), ("1001", uac_port)):
            one = ["-sf", str(work / "register_one.xml"), f"127.0.0.1:{sip}", "-i", "127.0.0.1"]
            one += ["-p", str(port), "-s", ext, "-au", ext, "-ap", passwords[ext]]
            sipp(work, [*one, "-key", "domain", DOMAIN, "-m", "1"], others, 30)
        uas_cmd = [SIPP, "-sf", str(work / "uas.xml"), "-i", "127.0.0.1", "-p", str(uas_port), "-nostdin"]
        if shutil.which("taskset"):
            uas_cmd = ["taskset", "-c", others, *uas_cmd]
        uas_proc = subprocess.Popen(uas_cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        for hold in [float(h) for h in a.hold.split(",") if h]:
            print(
                f"\ncalls held {hold:.0f} s (1001 -> Centrex -> 1002, INVITE+407+INVITE, "
                f"{a.seconds:.0f} s a stage)"
            )
            print(
                f"{'offered/s':>10} {'done/s':>10} {'ok':>8} {'failed':>8} {'setup p50 ms':>13} {'p99 ms':>8}"
            )
            for rate in [float(r) for r in a.call_rates.split(",") if r]:
                time.sleep(a.pause)
                st = call_stage(work, sip, rate, a.seconds, hold, uac_port, passwords["1001"], others)
                done = st.ok / max(st.seconds - hold, 0.001) if hold else st.rate
                print(
                    f"{rate:>10.0f} {done:>10.0f} {st.ok:>8} {st.failed:>8} "
                    f"{st.pct(0.5):>13} {st.pct(0.99):>8}"
                )
    finally:
        if uas_proc is not None:
            uas_proc.kill()
            uas_proc.wait(timeout=10)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    if a.gc_stats:
        print("\n" + "".join(line for line in (work / "server.log").open() if line.startswith("gc: ")))
    if profile and Path(profile).exists():
        import pstats

        print(f"\nserver profile ({profile}), top 25 by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
