"""Calls per second through Kamailio to one Centrex node and to two, on one PostgreSQL.

    CENTREX_TEST_PG=postgresql://postgres@127.0.0.1:55432/postgres \\
        PYTHONPATH=src:. .venv/bin/python bench/nodes_bench.py [--nodes 1,2] [--rates 50,100,200] \\
        [--seconds 10]

For each node count it brings up the cluster of tests/nodes (a throw-away database, the demo
tenant, ``centrex serve`` nodes, deploy/kamailio/kamailio.cfg in front), registers SIPp phones 1001
and 1002 through Kamailio, then for each rate offers that many calls a second for ``--seconds``:
INVITE → 407 → INVITE with digest → 180 → 200 → ACK, 0.5 s of talk, BYE → 200, every message
through Kamailio. It prints the calls completed, failed and completed per second of the run.
Nothing is asserted (docs/scale-out.md has the figures and the machine they came from).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.nodes.cluster import SCENARIOS, Cluster, free_port, missing_tools  # noqa: E402


def run_calls(
    cluster: Cluster, a: int, b: int, rate: int, seconds: float, work: Path
) -> tuple[int, int, float]:
    total = int(rate * seconds)
    uas = cluster.sipp(SCENARIOS / "uas_answer.xml", "1002", b, "-l", "100000")
    answering = subprocess.Popen(uas, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    uac = cluster.sipp(SCENARIOS / "uac_call.xml", "1001", a, "-au", "1001", "-ap", cluster.passwords["1001"])
    uac += ["-key", "callee", "1002", "-r", str(rate), "-m", str(total), "-l", str(max(200, rate * 4))]
    uac += ["-recv_timeout", "10000", "-timeout", f"{int(seconds * 3 + 60)}s"]
    started = time.monotonic()
    try:
        done = subprocess.run(uac, cwd=work, capture_output=True, text=True, timeout=seconds * 3 + 90)
        out = done.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    elapsed = time.monotonic() - started
    answering.kill()
    answering.wait(timeout=10)

    def last(label: str) -> int:
        found = re.findall(rf"{label}\s*\|\s*\d+\s*\|\s*(\d+)", out)
        return int(found[-1]) if found else 0

    return last("Successful call"), last("Failed call"), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", default="1,2")
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    pg = os.environ.get("CENTREX_TEST_PG", "")
    if not pg:
        sys.exit("CENTREX_TEST_PG: a PostgreSQL server URL is needed (scripts/test starts one)")
    if missing := missing_tools():
        sys.exit(f"not installed: {missing}")
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} seconds={args.seconds}")
    for count in [int(n) for n in args.nodes.split(",")]:
        work = Path(tempfile.mkdtemp(prefix=f"centrex-nodes{count}-"))
        cluster = Cluster(pg, work)
        try:
            cluster.create_database()
            for i in range(count):
                cluster.start_node(f"node-{i}", (31000 + i * 1000, 31999 + i * 1000))
            cluster.start_kamailio()
            a, b = free_port(), free_port()
            for user, port in (("1001", a), ("1002", b)):
                assert cluster.register(user, port).returncode == 0, f"{user} did not register"
            for rate in [int(r) for r in args.rates.split(",")]:
                ok, failed, elapsed = run_calls(cluster, a, b, rate, args.seconds, work)
                print(
                    f"nodes={count} offered={rate}/s completed={ok} failed={failed} "
                    f"in {elapsed:.1f}s -> {ok / max(elapsed, 0.001):.1f} calls/s "
                    f"(load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
