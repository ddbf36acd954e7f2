"""A Centrex SIP service on 127.0.0.1 (port 0) over the demo tenant, and a bounded SIPp runner."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.events import CallEnded
from centrex.calls.service import SipConfig, SipService
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.switchboard import standard_services

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP = shutil.which("sipp")
SIPP_TIMEOUT_S = 30.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SippResult:
    returncode: int
    output: str


@dataclass
class Server:
    service: SipService
    passwords: dict[str, str]
    sessions: sessionmaker[Session]
    ended: list[CallEnded] = field(default_factory=list)

    async def restart(self) -> None:
        """Stop as a crash would (nothing is written on the way down), start a new service."""
        await self.service.stop()
        self.service = make_service(self.sessions, self.ended)
        await self.service.start()

    @property
    def port(self) -> int:
        return self.service.port

    async def sipp(
        self,
        scenario: str,
        user: str,
        *,
        port: int,
        password: str | None = None,
        callee: str | None = None,
        client: bool = True,
        timeout_s: float = 10.0,
        transport: str = "u1",
        extra: Sequence[str] = (),
    ) -> SippResult:
        """Run one SIPp call of ``scenario`` as ``user`` from 127.0.0.1:``port``; never hangs."""
        assert SIPP is not None
        args = [SIPP, "-sf", str(SCENARIOS / scenario)]
        if client:
            args.append(f"127.0.0.1:{self.port}")
        args += ["-i", "127.0.0.1", "-p", str(port), "-t", transport, "-s", user, "-m", "1", "-nostdin"]
        args += ["-key", "domain", DEMO_DOMAIN, "-key", "server_port", str(self.port)]
        args += [
            "-timeout",
            f"{int(timeout_s)}s",
            "-timeout_error",
            "-recv_timeout",
            f"{int(timeout_s * 1000)}",
        ]
        if callee:
            args += ["-key", "callee", callee]
        args += list(extra)  # e.g. -trace_msg -message_file F: what the phone saw, with times
        if client:
            args += ["-au", user, "-ap", password if password is not None else self.passwords.get(user, "x")]
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), SIPP_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            return SippResult(-9, out.decode(errors="replace"))
        return SippResult(proc.returncode or 0, out.decode(errors="replace"))

    async def register(self, user: str, port: int) -> None:
        result = await self.sipp("register.xml", user, port=port)
        assert result.returncode == 0, result.output[-2000:]


@pytest.fixture
async def server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        demo = seed_demo(session, tmp_path)
    ended: list[CallEnded] = []
    server = Server(
        make_service(sessions, ended), {ln.extension: ln.sip_password for ln in demo.lines}, sessions, ended
    )
    await server.service.start()
    try:
        yield server
    finally:
        await server.service.stop()
        engine.dispose()


def make_service(sessions: sessionmaker[Session], ended: list[CallEnded]) -> SipService:
    # SIPp 3.6 answers the first challenge whatever its algorithm and knows only MD5.
    config = SipConfig(host="127.0.0.1", port=0, digest_algorithms=("MD5", "SHA-256"))
    return SipService(
        StoreDirectory(sessions),
        config,
        records=CallRecords(sessions),
        on_call_ended=ended.append,
        services=standard_services().ordered(),
    )
