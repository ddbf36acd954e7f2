"""CPU time the API server spends per request, by kind: a figure a shared, noisy machine cannot skew
the way it skews wall-clock latency.

    .venv/bin/python bench/api_cpu.py [--requests 2000] [--db sqlite|pg|URL] [--connections 4]

Starts ``centrex serve`` as bench/api_bench.py does (same data: the demo tenant, 200 more users,
5,000 call records), warms it up, then for each kind of request sends ``--requests`` of them on a few
keep-alive connections, in ``--blocks`` blocks, and divides the server process's CPU seconds
(user + system, from /proc/<pid>/stat) by the number answered: the least and the median of the
blocks are printed. Kinds: the read mix of bench/api_bench.py, then its parts: the users list
(50 a page), one user, the CDR search, and the PATCH of the write mix. Nothing is asserted;
figures are printed (docs/performance.md, "API").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from api_bench import Conn, Seeded, free_port, read_mix, seed, start_pg, start_server, stop_pg, write_mix

Kind = tuple[str, str, bytes | None, str]


def kinds(s: Seeded, rng: random.Random) -> dict[str, object]:
    t = f"/api/v1/tenants/{s.tenant_id}"

    def users_list() -> Kind:
        return "GET", f"{t}/users?limit=50&offset={rng.randrange(0, 200)}", None, s.admin_token

    def one_user() -> Kind:
        return "GET", f"{t}/users/{rng.choice(s.user_ids)}", None, s.admin_token

    def cdr_search() -> Kind:
        day = 1 + rng.randrange(3)
        q = f"from=2026-11-0{day}&to=2026-11-0{day + 1}&number=1217528&disposition=answered&limit=25"
        return "GET", f"{t}/cdrs?{q}", None, s.operator_token

    def patch() -> Kind:
        return write_mix(s, rng)

    def mix() -> Kind:
        return read_mix(s, rng)

    return {
        "read mix": mix,  # bench/api_bench.py's: 40 % users list, 40 % one user, 20 % CDR search
        "users list (50)": users_list,
        "one user": one_user,
        "CDR search": cdr_search,
        "PATCH user": patch,
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def send(port: int, make: object, n: int, connections: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    left = n

    async def worker() -> None:
        nonlocal left
        conn = Conn(port)
        while left > 0:
            left -= 1
            method, path, body, token = make()  # type: ignore[operator]
            status, _ = await conn.request(method, path, token, body)
            statuses[status] += 1
        conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return statuses


def server_pid(proc: subprocess.Popen[bytes]) -> int:
    """The python process (under taskset it is the same pid: taskset execs)."""
    return proc.pid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--blocks", type=int, default=5, help="a kind's requests are sent in this many blocks")
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--cdrs", type=int, default=5000)
    ap.add_argument("--cpu", type=int, default=0)
    ap.add_argument("--only", help="comma-separated kinds (by their first word)")
    ap.add_argument("--profile", help="run the server under cProfile, writing this file at its exit")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="centrex-apicpu-"))
    pgdir: Path | None = None
    try:
        if args.db == "sqlite":
            db_url = f"sqlite:///{work / 'centrex.sqlite3'}"
        elif args.db == "pg":
            db_url, _, pgdir = start_pg(work)
        else:
            db_url = args.db
        seeded = seed(db_url, work, args.users, args.cdrs)
        port = free_port()
        proc = start_server(work, db_url, port, args.cpu, args.profile)
        pid = server_pid(proc)
        rng = random.Random(1)
        table = kinds(seeded, rng)
        for make in table.values():  # warm-up: imports on first use, caches, the pool
            asyncio.run(send(port, make, 200, args.connections))
        print(f"{args.db}: server CPU per request ({args.requests} each, {args.connections} connections)")
        for name, make in table.items():
            if args.only and not any(name.startswith(k) for k in args.only.split(",")):
                continue
            # In blocks: the least CPU a block took per request is the figure least disturbed by
            # the other processes of a shared machine (cache misses, migrations); the median too.
            per: list[float] = []
            statuses: Counter[int] = Counter()
            for _ in range(args.blocks):
                c0 = cpu_seconds(pid)
                got = asyncio.run(send(port, make, args.requests // args.blocks, args.connections))
                per.append((cpu_seconds(pid) - c0) / sum(got.values()) * 1e6)
                statuses.update(got)
            per.sort()
            print(
                f"  {name:<16} min {per[0]:>6.0f} µs  median {per[len(per) // 2]:>6.0f} µs CPU  "
                f"{dict(statuses)}",
                flush=True,
            )
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    finally:
        if pgdir is not None:
            stop_pg(pgdir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
