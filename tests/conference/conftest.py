"""An app server on 127.0.0.1 over a real database, a tenant with conference bridges, and SIPp
callers playing the call engine's B-leg: each sends its own pcap of tone audio (and RFC 4733 keys)
to the app, and names in its SDP a UDP socket of the test, which records what that party hears."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from centrex.apps.conference import ConferenceSettings
from centrex.apps.server import AppServer
from centrex.media.g711 import ulaw_decode
from centrex.media.rtp import parse_rtp
from centrex.store.credentials import hash_password
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Tenant, User
from centrex.store.models.conferences import ConferenceBridge
from tests.apps.conftest import SCENARIOS, SIPP, SippResult, free_udp_port, make_server
from tests.apps.pcap import RtpScript

PIN, MODERATOR_PIN = "1357", "97531"


@dataclass
class Bridges:
    tenant_id: uuid.UUID
    users: dict[str, uuid.UUID]
    open: uuid.UUID  # 7000: no PIN, 10 parties
    locked: uuid.UUID  # 7001: PIN and moderator PIN
    small: uuid.UUID  # 7002: 2 parties, no tones


def seed(session: Session) -> Bridges:
    tenant = Tenant(name="Conf Co", sip_domain="conf.example.com")
    session.add(tenant)
    session.flush()
    users = {}
    for ext, name in (("2001", "Ann Ames"), ("2002", "Ben Bell"), ("2003", "Cy Cole")):
        user = User(tenant_id=tenant.id, name=name, extension=ext)
        session.add(user)
        session.flush()
        users[ext] = user.id
    rows = [
        ConferenceBridge(tenant_id=tenant.id, name="All hands", extension="7000"),
        ConferenceBridge(
            tenant_id=tenant.id,
            name="Board",
            extension="7001",
            pin_hash=hash_password(PIN),
            moderator_pin_hash=hash_password(MODERATOR_PIN),
        ),
        ConferenceBridge(tenant_id=tenant.id, name="Huddle", extension="7002", max_parties=2, announce=False),
    ]
    session.add_all(rows)
    session.flush()
    return Bridges(tenant.id, users, *(r.id for r in rows))


class Ear(asyncio.DatagramProtocol):
    """One party's RTP socket: every packet the app sends it, with its arrival time."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, bytes]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append((time.monotonic(), data))

    def audio(self, start: float, end: float) -> np.ndarray:
        """What the party heard between two monotonic times, in arrival order."""
        frames = [
            ulaw_decode(parse_rtp(d).payload)
            for t, d in self.packets
            if start <= t < end and d[1] & 0x7F == 0
        ]
        return np.concatenate(frames) if frames else np.zeros(0, dtype=np.int16)


@dataclass
class Conf:
    server: AppServer
    bridges: Bridges
    sessions: sessionmaker[Session]
    db_url: str
    work: Path
    ears: list[tuple[asyncio.DatagramTransport, Ear]] = field(default_factory=list)

    async def ear(self) -> tuple[Ear, int]:
        loop = asyncio.get_running_loop()
        transport, ear = await loop.create_datagram_endpoint(Ear, local_addr=("127.0.0.1", 0))
        self.ears.append((transport, ear))
        return ear, transport.get_extra_info("sockname")[1]

    async def call(
        self,
        app: str,
        script: RtpScript,
        ear_port: int,
        *,
        caller: str,
        caller_user: uuid.UUID | None = None,
        scenario: str = "vm_call_hangup.xml",
        hold_ms: int = 6000,
        timeout_s: float = 40.0,
    ) -> SippResult:
        """One SIPp caller: plays ``script`` to the app, its SDP names ``ear_port``; never hangs."""
        assert SIPP is not None
        run = self.work / uuid.uuid4().hex[:8]
        run.mkdir(parents=True)
        script.write(run / "audio.pcap", dport=6000)
        host, port = self.server.address
        args = [SIPP, "-sf", str(SCENARIOS / scenario), f"{host}:{port}", "-i", "127.0.0.1"]
        args += ["-p", str(free_udp_port()), "-mp", str(free_udp_port()), "-s", app, "-m", "1", "-nostdin"]
        args += ["-d", str(hold_ms), "-timeout", f"{int(timeout_s)}s", "-timeout_error"]
        keys = {
            "tenant": str(self.bridges.tenant_id),
            "call_uuid": str(uuid.uuid4()),
            "caller": caller,
            "caller_name": f"Caller {caller}",
            "caller_user": str(caller_user or ""),
            "reason": "unavailable",
            "rtp_sink": str(ear_port),
        }
        for k, v in keys.items():
            args += ["-key", k, v]
        proc = await asyncio.create_subprocess_exec(
            *args, cwd=run, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout_s + 10)
        except TimeoutError:
            proc.kill()
            out, _ = await proc.communicate()
            return SippResult(-9, out.decode(errors="replace"))
        return SippResult(proc.returncode or 0, out.decode(errors="replace"))

    async def settle(self, seconds: float = 5.0) -> None:
        for _ in range(int(seconds / 0.05)):
            if self.server.active_calls == 0 and not self.server.conference.rooms:
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def conf(db_url: str, tmp_path: Path) -> AsyncIterator[Conf]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        bridges = seed(session)
    server = make_server(sessions, tmp_path / "data", 1, [])
    server.conference.settings = ConferenceSettings(first_digit_s=4.0, next_digit_s=2.0)
    await server.start("127.0.0.1", 0)
    env = Conf(server, bridges, sessions, db_url, tmp_path / "sipp")
    try:
        yield env
    finally:
        for transport, _ in env.ears:
            transport.close()
        await server.stop()
        engine.dispose()
