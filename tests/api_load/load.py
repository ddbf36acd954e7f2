"""A real `centrex serve` on free loopback ports, and many keep-alive connections hammering it.

The client is a bare HTTP/1.1 one on asyncio streams, so hundreds of requests are in flight at
once from one test process. Every request has a deadline: a server that stops answering shows up as
"timeout" in the tally, never as a test that hangs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.migrate import upgrade
from centrex.store.models import User


def free_port() -> int:
    """A port free on both UDP and TCP (the SIP ports need both)."""
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
class Service:
    proc: subprocess.Popen[bytes]
    port: int
    db_url: str
    tenant_id: str
    token: str
    user_ids: list[str]
    log: Path
    operator_token: str = ""  # /healthz shows its components to the operator only

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def start_service(data: Path, db_url: str, users: int = 50, env: dict[str, str] | None = None) -> Service:
    engine = make_engine(db_url)
    upgrade(engine)
    with transaction(make_sessionmaker(engine)) as s:
        demo = seed_demo(s, data)
        import uuid

        tid = uuid.UUID(demo.tenant_id)
        for i in range(users):
            s.add(User(tenant_id=tid, extension=str(3000 + i), name=f"Load User {i}"))
        s.flush()
        ids = [str(u.id) for u in s.query(User).filter(User.tenant_id == tid)]
    engine.dispose()
    http = free_port()
    args = [sys.executable, "-m", "centrex.cli", "serve", "--bind", "127.0.0.1", "--http-port", str(http)]
    args += ["--sip-port", str(free_port()), "--sip-tls-port", str(free_port()), "--rtp-ports", "41000-41099"]
    log = data / "server.log"
    full_env = {**os.environ, "CENTREX_DATA": str(data), "CENTREX_DB": db_url, **(env or {})}
    proc = subprocess.Popen(args, env=full_env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{http}/healthz", timeout=2).status_code == 200:
                return Service(
                    proc, http, db_url, demo.tenant_id, demo.office_admin_token, ids, log, demo.operator_token
                )
        assert proc.poll() is None, log.read_text()[-3000:]
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("centrex serve did not come up")


Request = tuple[str, str, dict[str, object] | None]


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    answered: list[tuple[Request, int, bytes]] = field(default_factory=list)
    slowest_ms: float = 0.0


async def _one(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: Request, token: str
) -> tuple[int, bytes]:
    method, path, body = req
    payload = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    writer.write((head + "\r\n").encode() + payload)
    status = int((await reader.readuntil(b"\r\n")).split()[1])
    length = 0
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, (await reader.readexactly(length) if length else b"")


async def hammer(
    port: int,
    token: str,
    make: Callable[[int], Request],
    connections: int,
    seconds: float,
    timeout: float = 10.0,
    retry_after: float = 1.0,
) -> Tally:
    """`connections` connections each sending the next request as soon as the last is answered —
    or, after a 503, `retry_after` seconds later, as its Retry-After asks — for `seconds`; each
    request gets `timeout` seconds to be answered."""
    tally = Tally()
    end = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while time.monotonic() < end:
            req = make(next(counter))
            began = time.monotonic()
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
                status, body = await asyncio.wait_for(_one(*conn, req, token), timeout)
                tally.statuses[str(status)] += 1
                tally.answered.append((req, status, body))
                if status == 503:
                    await asyncio.sleep(retry_after)
            except TimeoutError:
                tally.statuses["timeout"] += 1
                _close(conn)
                conn = None
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):  # closed
                tally.statuses["closed"] += 1
                _close(conn)
                conn = None
                await asyncio.sleep(0.05)
            tally.slowest_ms = max(tally.slowest_ms, (time.monotonic() - began) * 1000)
        _close(conn)

    await asyncio.gather(*(client() for _ in range(connections)))
    return tally


def _close(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if conn is not None:
        conn[1].close()
