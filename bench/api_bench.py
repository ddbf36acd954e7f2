"""REST API benchmark: open-loop load on ``centrex serve`` as a portal or an integration would send it.

    .venv/bin/python bench/api_bench.py [--rates 100,500,1000] [--seconds 10] [--mix read,write]
                                        [--connections 64] [--db sqlite|pg|URL] [--cpu 0]

It makes a data dir in /tmp with the demo tenant plus ``--users`` users and ``--cdrs`` call records,
starts ``centrex serve`` on free ports pinned to one CPU (taskset), and offers each rate for
``--seconds`` on ``--connections`` keep-alive connections (the client runs on the other CPUs):

- read mix: the users list, one user, and a CDR search with filters (date range, number, disposition);
- write mix: moves/adds/changes (PATCH of a user's name, the audited ``mac.station_name``).

Open loop: request i is due at start + i / rate whatever happened before it, and its latency is
measured from when it was due (so a server that stalls is charged for the queue it causes, no
coordinated omission). A request not answered within ``--timeout`` counts as an error ("timeout").
After the rates, a 2 s probe at 20/s checks the service still answers (recovery), and SIGTERM is
sent: the time until the process exits is printed. ``--db pg`` starts a throw-away PostgreSQL
(as scripts/test does). Nothing is asserted: figures are printed (docs/performance.md, "API").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_tcp_port() -> int:
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


# --- the data ---------------------------------------------------------------------------------


@dataclass
class Seeded:
    tenant_id: str
    admin_token: str
    operator_token: str
    user_ids: list[str]


def seed(db_url: str, data: Path, users: int, cdrs: int) -> Seeded:
    sys.path.insert(0, str(ROOT / "src"))
    from centrex.ops.demo import seed_demo
    from centrex.store.db import make_engine, make_sessionmaker, transaction
    from centrex.store.migrate import upgrade
    from centrex.store.models import CallDetail, User

    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        demo = seed_demo(s, data)
        tid = __import__("uuid").UUID(demo.tenant_id)
        for i in range(users):
            s.add(User(tenant_id=tid, extension=str(3000 + i), name=f"Bench User {i}"))
        s.flush()
        rng = random.Random(7)
        t0 = datetime(2026, 11, 1, tzinfo=UTC)
        for i in range(cdrs):
            start = t0 + timedelta(seconds=i * 60)
            s.add(
                CallDetail(
                    tenant_id=tid,
                    call_id=f"bench-{i}",
                    caller=f"+1217528{1000 + rng.randrange(12):04d}",
                    callee=f"+1617555{rng.randrange(10000):04d}",
                    dialled="",
                    call_class="domestic",
                    direction="outbound",
                    start=start,
                    answer=start + timedelta(seconds=3),
                    duration_ms=rng.randrange(1000, 600_000),
                    disposition=rng.choice(["answered", "answered", "no_answer", "busy"]),
                )
            )
        s.flush()
        ids = [str(u.id) for u in s.query(User).filter(User.tenant_id == tid).all()]
    engine.dispose()
    return Seeded(demo.tenant_id, demo.office_admin_token, demo.operator_token, ids)


# --- a throw-away PostgreSQL ------------------------------------------------------------------


def start_pg(work: Path) -> tuple[str, subprocess.Popen[bytes] | None, Path]:
    pg_bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not pg_bins:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    pgbin = pg_bins[-1]
    # Its own directory under /tmp: the postgres user cannot enter the (0700) work directory.
    pgdir = Path(tempfile.mkdtemp(prefix="centrex-apibench-pg-"))
    port = free_port()
    run: list[str] = []
    if os.geteuid() == 0:
        subprocess.run(["chown", "postgres", str(pgdir)], check=True)
        run = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *run,
            str(pgbin / "initdb"),
            "-D",
            str(pgdir / "data"),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    opts = f"-p {port} -k {pgdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(
        [
            *run,
            str(pgbin / "pg_ctl"),
            "-D",
            str(pgdir / "data"),
            "-w",
            "-l",
            str(pgdir / "log"),
            "-o",
            opts,
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return f"postgresql://postgres@127.0.0.1:{port}/postgres", None, pgdir


def stop_pg(pgdir: Path) -> None:
    pgbin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
    run = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*run, str(pgbin / "pg_ctl"), "-D", str(pgdir / "data"), "-m", "immediate", "stop"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    for _ in range(20):  # the server's last processes may still be removing their files
        shutil.rmtree(pgdir, ignore_errors=True)
        if not pgdir.exists():
            break
        time.sleep(0.25)


# --- the server -------------------------------------------------------------------------------


def start_server(
    data: Path, db_url: str, http: int, cpu: int, profile: str | None = None, http_parser: str = "auto"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CENTREX_DATA": str(data), "CENTREX_DB": db_url, "PYTHONPATH": str(ROOT / "src")}
    env["CENTREX_HTTP"] = http_parser
    sip, tls = free_udp_tcp_port(), free_udp_tcp_port()
    args = [
        sys.executable,
        *(["-m", "cProfile", "-o", profile] if profile else []),
        "-m",
        "centrex.cli",
        "serve",
        "--bind",
        "127.0.0.1",
        "--sip-port",
        str(sip),
        "--sip-tls-port",
        str(tls),
        "--http-port",
        str(http),
        "--rtp-ports",
        "40000-40999",
    ]
    if shutil.which("taskset"):
        args = ["taskset", "-c", str(cpu), *args]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    # Generous: on a shared, loaded machine (load average 15 on 2 cores) the imports and the
    # migrations alone took over a minute on the one pinned CPU.
    wait = float(os.environ.get("CENTREX_BENCH_START_TIMEOUT", "300"))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", http), timeout=1):
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(data / 'server.log').read_text()[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server did not come up in {wait:.0f} s")


# --- the open-loop client ---------------------------------------------------------------------


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    ok_ms: list[float] = field(default_factory=list)  # the 200s alone
    statuses: Counter[str] = field(default_factory=Counter)

    def pct(self, q: float, which: list[float] | None = None) -> float:
        values = sorted(self.latencies_ms if which is None else which)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))]


class Conn:
    """One keep-alive HTTP/1.1 connection; a bare client so the load generator is not the bottleneck."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, token: str, body: bytes | None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write((head + "\r\n").encode() + (body or b""))
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


Request = tuple[str, str, bytes | None, str]  # method, path, body, token


def read_mix(s: Seeded, rng: random.Random) -> Request:
    t = f"/api/v1/tenants/{s.tenant_id}"
    pick = rng.random()
    if pick < 0.4:
        return "GET", f"{t}/users?limit=50&offset={rng.randrange(0, 200)}", None, s.admin_token
    if pick < 0.8:
        return "GET", f"{t}/users/{rng.choice(s.user_ids)}", None, s.admin_token
    day = 1 + rng.randrange(3)
    q = f"from=2026-11-0{day}&to=2026-11-0{day + 1}&number=1217528&disposition=answered&limit=25"
    # Call records are CPNI: a billing job reads them with the operator's token.
    return "GET", f"{t}/cdrs?{q}", None, s.operator_token


def write_mix(s: Seeded, rng: random.Random) -> Request:
    uid = rng.choice(s.user_ids)
    body = json.dumps({"name": f"Bench {rng.randrange(1_000_000)}"}).encode()
    return "PATCH", f"/api/v1/tenants/{s.tenant_id}/users/{uid}", body, s.admin_token


async def offer(
    port: int, s: Seeded, rate: float, seconds: float, connections: int, mix: str, timeout: float
) -> Result:
    rng = random.Random(int(rate))
    make = write_mix if mix == "write" else read_mix
    queue: asyncio.Queue[tuple[float, Request] | None] = asyncio.Queue()
    result = Result()

    async def worker() -> None:
        conn = Conn(port)
        while True:
            item = await queue.get()
            if item is None:
                conn.close()
                return
            due, (method, path, body, token) = item
            try:
                status, _ = await asyncio.wait_for(conn.request(method, path, token, body), timeout)
                result.statuses[str(status)] += 1
                if status == 200:
                    result.ok_ms.append((time.perf_counter() - due) * 1000)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                result.statuses["timeout" if isinstance(exc, TimeoutError) else "conn-error"] += 1
            result.latencies_ms.append((time.perf_counter() - due) * 1000)

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter() + 0.05
    total = int(rate * seconds)
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, make(s, rng)))
    for _ in workers:
        queue.put_nowait(None)
    # Whatever is still queued past the run plus the timeout is a request the server never took.
    _, pending = await asyncio.wait(workers, timeout=seconds + timeout + 5)
    for task in pending:
        task.cancel()
    result.statuses["never sent"] += queue.qsize()
    return result


def report(label: str, rate: float, seconds: float, r: Result) -> None:
    ok = r.statuses.get("200", 0)
    errors = {k: v for k, v in sorted(r.statuses.items()) if k != "200"}
    print(
        f"{label:<6} {rate:>6.0f}/s  ok {ok / seconds:>6.0f}/s  p50 {r.pct(0.5):>7.1f} ms  "
        f"p99 {r.pct(0.99):>7.1f} ms  max {max(r.latencies_ms, default=float('nan')):>7.1f} ms  "
        f"(200s: p50 {r.pct(0.5, r.ok_ms):.1f} p99 {r.pct(0.99, r.ok_ms):.1f} ms)  "
        f"errors {errors or 0}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="100,500,1000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--mix", default="read,write")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--db", default="sqlite", help="sqlite, pg (a throw-away cluster) or a database URL")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--cdrs", type=int, default=5000)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--http", default="auto", help="uvicorn's HTTP parser: auto (httptools), h11")
    ap.add_argument("--profile", help="run the server under cProfile, writing this file at its exit")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="centrex-apibench-"))
    pgdir: Path | None = None
    try:
        if args.db == "sqlite":
            db_url = f"sqlite:///{work / 'centrex.sqlite3'}"
        elif args.db == "pg":
            db_url, _, pgdir = start_pg(work)
        else:
            db_url = args.db
        seeded = seed(db_url, work, args.users, args.cdrs)
        http = free_port()
        proc = start_server(work, db_url, http, args.cpu, args.profile, args.http)
        if shutil.which("taskset"):  # the client on the other CPUs
            others = {c for c in range(os.cpu_count() or 1) if c != args.cpu} or {args.cpu}
            os.sched_setaffinity(0, others)
        print(
            f"centrex serve on CPU {args.cpu}, {args.db}, HTTP parser {args.http}, "
            f"{args.connections} connections, "
            f"{args.seconds:.0f} s per rate",
            flush=True,
        )
        # Warm-up (imports on first use, caches, the pool): not measured.
        asyncio.run(offer(http, seeded, 50, 2, args.connections, "read", args.timeout))
        for mix in args.mix.split(","):
            for rate in (float(x) for x in args.rates.split(",")):
                r = asyncio.run(offer(http, seeded, rate, args.seconds, args.connections, mix, args.timeout))
                report(mix, rate, args.seconds, r)
                time.sleep(1)
        probe = asyncio.run(offer(http, seeded, 20, 2, 4, "read", args.timeout))
        report("after", 20, 2, probe)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
            print(f"SIGTERM: exited in {time.monotonic() - t0:.1f} s (code {proc.returncode})")
        except subprocess.TimeoutExpired:
            print("SIGTERM: still running after 30 s; killed")
            proc.kill()
            proc.wait()
    finally:
        if pgdir is not None:
            stop_pg(pgdir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
