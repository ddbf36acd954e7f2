"""Instructions per API request, counted by callgrind: the one figure of the API's cost that the
other processes of a shared machine do not move (CPU seconds do: cache misses, migrations,
frequency), so a change is measured by running the code before and after it through this.

    .venv/bin/python bench/api_callgrind.py --seed DIR              # once: DIR/c.sqlite3 + DIR/seed.json
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=cg.%p \\
        .venv/bin/python bench/api_callgrind.py --db DIR --kind read --requests 200

The application (`create_app`) runs in this process on the bench's data (bench/api_bench.py
`seed`: the demo tenant, 200 more users, 5,000 call records, SQLite); requests are ASGI calls
straight into it (no HTTP parsing, no sockets: uvicorn's share is the same before and after any
change of ours), with the worker threads real. After 100 requests of warm-up, callgrind's counters
are zeroed and switched on (`callgrind_control`), ``--requests`` are sent, and the counts are
dumped: "Collected" / requests is the figure. Kinds as bench/api_cpu.py: read (the read mix),
users, one, CDR, PATCH. Under valgrind a run takes a few minutes; without it, it just runs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from api_bench import ROOT, Seeded, seed
from api_cpu import kinds


def callgrind(command: str) -> None:
    """`callgrind_control -z/-i on/-d/-i off` on this process; nothing when not under valgrind."""
    if "vgpreload" not in os.environ.get("LD_PRELOAD", ""):  # valgrind preloads its own library
        return
    subprocess.run(
        ["callgrind_control", *command.split(), str(os.getpid())], stdout=subprocess.DEVNULL, check=False
    )


async def call(app: Any, method: str, path: str, body: bytes | None, token: str) -> int:
    route, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body or b"", "more_body": False}
        await asyncio.sleep(3600)  # the client stays connected
        return {"type": "http.disconnect"}

    status: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", help="make the data in this directory and exit")
    ap.add_argument("--db", help="a directory made with --seed")
    ap.add_argument("--kind", default="read", help="read, users, one, CDR, PATCH")
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    if args.seed:
        data = Path(args.seed)
        data.mkdir(parents=True, exist_ok=True)
        seeded = seed(f"sqlite:///{data / 'c.sqlite3'}", data, 200, 5000)
        (data / "seed.json").write_text(json.dumps(dataclasses.asdict(seeded)))
        return
    if not args.db:
        raise SystemExit("--db DIR (made with --seed DIR) is needed")
    data = Path(args.db)
    seeded = Seeded(**json.loads((data / "seed.json").read_text()))
    sys.path.insert(0, str(ROOT / "src"))
    from centrex.api.app import create_app

    app = create_app(f"sqlite:///{data / 'c.sqlite3'}")
    make = next(v for k, v in kinds(seeded, random.Random(1)).items() if k.startswith(args.kind))

    async def run() -> Counter[int]:
        statuses: Counter[int] = Counter()
        for _ in range(100):  # warm-up: imports on first use, caches, the pool
            statuses[await call(app, *make())] += 1  # type: ignore[operator]
        callgrind("-z")
        callgrind("-i on")
        for _ in range(args.requests):
            statuses[await call(app, *make())] += 1  # type: ignore[operator]
        callgrind("-d")
        callgrind("-i off")
        return statuses

    try:  # the event loop of `centrex serve` (server.py)
        import uvloop

        statuses = uvloop.run(run())
    except ImportError:
        statuses = asyncio.run(run())
    print(f"{args.kind}: {dict(statuses)} ({args.requests} counted after 100 of warm-up)")


if __name__ == "__main__":
    main()
