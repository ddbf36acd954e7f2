"""An app server on 127.0.0.1 over a real database, a tenant with mailboxes, an SMTP server, an RTP
sink that hears what the app plays, and a SIPp runner playing the call engine's B-leg."""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from centrex.apps.app_config import AppConfig
from centrex.apps.server import AppServer
from centrex.apps.vm_menu import Timing
from centrex.apps.voicemail import VoicemailSettings
from centrex.config import normalize_db_url
from centrex.e911.notifier import SmtpConfig
from centrex.media.ports import PortAllocator
from centrex.store.credentials import hash_password
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import Mailbox, Tenant, User
from tests.apps.pcap import RtpScript
from tests.conftest import PG, _with_db
from tests.e911_store.servers import MailHandler, smtp_server

SCENARIOS = Path(__file__).parent.parent / "interop" / "scenarios"
SIPP = shutil.which("sipp")
PIN = "2468"


@dataclass
class Office:
    tenant_id: uuid.UUID
    alice: uuid.UUID  # 1001: PIN, e-mail with audio
    bob: uuid.UUID  # 1002: no PIN, no e-mail
    carol: uuid.UUID  # 1003: mailbox disabled


def seed_office(session: Session) -> Office:
    tenant = Tenant(name="Acme", sip_domain="acme.example.com")
    session.add(tenant)
    session.flush()
    ids = []
    for ext, name, email in (
        ("1001", "Alice Able", "alice@acme.example.com"),
        ("1002", "Bob Baker", None),
        ("1003", "Carol Cole", None),
    ):
        user = User(tenant_id=tenant.id, name=name, extension=ext, email=email)
        session.add(user)
        session.flush()
        ids.append(user.id)
    session.add_all(
        [
            Mailbox(
                tenant_id=tenant.id,
                user_id=ids[0],
                pin_hash=hash_password(PIN),
                email_notify=True,
                attach_audio=True,
                max_message_seconds=20,
            ),
            Mailbox(tenant_id=tenant.id, user_id=ids[1]),
            Mailbox(tenant_id=tenant.id, user_id=ids[2], enabled=False),
        ]
    )
    session.flush()
    return Office(tenant.id, *ids)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RtpSink(asyncio.DatagramProtocol):
    """Where the app's RTP goes (the SDP offer names this port): counts what the caller would hear."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)


@dataclass
class SippResult:
    returncode: int
    output: str


@dataclass
class Apps:
    server: AppServer
    office: Office
    sessions: sessionmaker[Session]
    data_dir: Path
    mail: MailHandler
    mwi: list[tuple[uuid.UUID, uuid.UUID, int, int]] = field(default_factory=list)
    sink: RtpSink = field(default_factory=RtpSink)
    sink_port: int = 0
    work: Path = Path()

    async def call(
        self,
        app: str,
        script: RtpScript,
        *,
        scenario: str = "vm_call.xml",
        caller: str = "2001",
        caller_name: str = "Dana Dial",
        caller_user: uuid.UUID | None = None,
        reason: str = "no-answer",
        tenant: uuid.UUID | None = None,
        hold_ms: int = 1000,
        timeout_s: float = 30.0,
        expect_ok: bool = True,
    ) -> SippResult:
        """One SIPp call to the app server playing ``script``'s RTP; never hangs."""
        assert SIPP is not None
        run = self.work / uuid.uuid4().hex[:8]
        run.mkdir(parents=True)
        script.write(run / "audio.pcap", dport=6000)
        host, port = self.server.address
        args = [SIPP, "-sf", str(SCENARIOS / scenario), f"{host}:{port}", "-i", "127.0.0.1"]
        args += ["-p", str(free_udp_port()), "-mp", str(free_udp_port()), "-s", app, "-m", "1", "-nostdin"]
        args += ["-d", str(hold_ms), "-timeout", f"{int(timeout_s)}s", "-timeout_error"]
        keys = {
            "tenant": str(tenant or self.office.tenant_id),
            "call_uuid": str(uuid.uuid4()),
            "caller": caller,
            "caller_name": caller_name,
            "caller_user": str(caller_user or ""),
            "reason": reason,
            "rtp_sink": str(self.sink_port),
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
        result = SippResult(proc.returncode or 0, out.decode(errors="replace"))
        if expect_ok:
            assert result.returncode == 0, result.output[-3000:]
        return result

    async def settle(self, seconds: float = 5.0) -> None:
        """Wait until the app server has no call left (its BYE went, the message is stored)."""
        for _ in range(int(seconds / 0.05)):
            if self.server.active_calls == 0:
                break
            await asyncio.sleep(0.05)
        await self.server.voicemail.drain(5.0)


@pytest.fixture
def mailer() -> Iterator[tuple[MailHandler, int]]:
    with smtp_server() as (handler, port):
        yield handler, port


def make_server(
    sessions: sessionmaker[Session],
    data_dir: Path,
    smtp_port: int,
    mwi: list[tuple[uuid.UUID, uuid.UUID, int, int]],
) -> AppServer:
    config = AppConfig(
        data_dir=data_dir,
        smtp=SmtpConfig("127.0.0.1", smtp_port, "centrex@acme.example.com"),
        mail_from="voicemail@acme.example.com",
        prompts="tones",
        voicemail=VoicemailSettings(silence_s=3.0, timing=Timing(first_digit_s=3.0, next_digit_s=2.0)),
    )
    low = random.randrange(30000, 39000, 2)
    return AppServer(
        sessions,
        config,
        PortAllocator(low, low + 200),
        mwi=lambda t, u, new, old: mwi.append((t, u, new, old)),
        allowed_sources={"127.0.0.1"},
    )


@pytest.fixture
async def apps(db_url: str, tmp_path: Path, mailer: tuple[MailHandler, int]) -> AsyncIterator[Apps]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        office = seed_office(session)
    mwi: list[tuple[uuid.UUID, uuid.UUID, int, int]] = []
    server = make_server(sessions, tmp_path / "data", mailer[1], mwi)
    await server.start("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    sink = RtpSink()
    transport, _ = await loop.create_datagram_endpoint(lambda: sink, local_addr=("127.0.0.1", 0))
    sink_port = transport.get_extra_info("sockname")[1]
    apps = Apps(
        server, office, sessions, tmp_path / "data", mailer[0], mwi, sink, sink_port, tmp_path / "sipp"
    )
    try:
        yield apps
    finally:
        transport.close()
        await server.stop()
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if not PG:
        pytest.skip("PostgreSQL not configured: run the suite with scripts/test (sets CENTREX_TEST_PG)")
    admin = create_engine(normalize_db_url(PG), isolation_level="AUTOCOMMIT")
    name = f"cx_mig_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_db(PG, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
