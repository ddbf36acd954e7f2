"""An app server on 127.0.0.1 over a real database with an office's attendant menus, and a SIPp
runner playing the call engine's B-leg: it presses RFC 4733 keys and answers the attendant's REFER
(202 or 404) as the engine does. SIPp's message trace shows what the attendant sent."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from centrex.apps.server import AppServer
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import HuntGroup, Mailbox, Tenant, User
from centrex.store.models.attendants import (
    AttendantAction,
    AttendantHoliday,
    AttendantHours,
    AttendantMenu,
    AttendantOption,
    AttendantSchedule,
)
from tests.apps.conftest import SIPP, RtpSink, free_udp_port, make_server
from tests.apps.conftest import empty_db_url as empty_db_url  # the migration test's fixture
from tests.apps.pcap import RtpScript
from tests.e911_store.servers import smtp_server

SCENARIOS = Path(__file__).parent / "scenarios"
OPEN_HOURS = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
A = AttendantAction


@dataclass
class AaOffice:
    tenant_id: uuid.UUID
    alice: uuid.UUID  # 1001 Alice Smith
    bob: uuid.UUID  # 1002 Bob Smithers
    main: uuid.UUID  # the entry menu, with a Chicago schedule
    support: uuid.UUID  # a sub-menu
    night: uuid.UUID  # after hours and holidays


def seed_attendant(session: Session) -> AaOffice:
    tenant = Tenant(name="Acme", sip_domain="acme.example.com")
    session.add(tenant)
    session.flush()
    t = tenant.id
    users = {}
    for ext, name, listed in (
        ("1001", "Alice Smith", True),
        ("1002", "Bob Smithers", True),
        ("1003", "Carol Jones", True),
        ("1004", "Dave Smithson", False),  # not in the directory: dial by name never offers him
        ("1000", "Olive Operator", True),
    ):
        user = User(tenant_id=t, name=name, extension=ext, directory_listed=listed)
        session.add(user)
        session.flush()
        users[ext] = user.id
    session.add_all(
        [Mailbox(tenant_id=t, user_id=users["1001"]), Mailbox(tenant_id=t, user_id=users["1002"])]
    )
    session.add(HuntGroup(tenant_id=t, name="Sales", extension="2000"))
    main = AttendantMenu(
        tenant_id=t,
        name="Main",
        extension="500",
        greeting_text="Thank you for calling Acme.",
        timeout_seconds=1,
        max_invalid=3,
        timeout_action=A.OPERATOR,
        invalid_action=A.HANGUP,
        operator_extension="1000",
    )
    support = AttendantMenu(tenant_id=t, name="Support", timeout_seconds=2, operator_extension="1000")
    night = AttendantMenu(
        tenant_id=t,
        name="Night",
        greeting_text="Our office is closed.",
        timeout_seconds=2,
        timeout_action=A.HANGUP,
    )
    session.add_all([main, support, night])
    session.flush()
    options = [
        (main, "1", A.EXTENSION, "1001", "Alice"),
        (main, "2", A.HUNT_GROUP, "2000", "sales"),
        (main, "3", A.VOICEMAIL, str(users["1002"]), None),
        (main, "4", A.SUB_MENU, str(support.id), "support"),
        (main, "5", A.DIAL_BY_NAME, None, None),
        (main, "6", A.EXTENSION, "1999", "a number that was removed"),
        (main, "0", A.OPERATOR, None, None),
        (main, "9", A.REPEAT, None, None),
        (support, "1", A.EXTENSION, "1003", "technical support"),
        (night, "1", A.VOICEMAIL, str(users["1001"]), "to leave a message"),
    ]
    for menu, digit, action, target, label in options:
        session.add(
            AttendantOption(
                tenant_id=t, menu_id=menu.id, digit=digit, action=action, target=target, label=label
            )
        )
    schedule = AttendantSchedule(
        tenant_id=t, menu_id=main.id, time_zone="America/Chicago", after_hours_menu_id=night.id
    )
    session.add(schedule)
    session.flush()
    for day in range(5):
        session.add(
            AttendantHours(tenant_id=t, schedule_id=schedule.id, weekday=day, opens=time(9), closes=time(17))
        )
    session.add(
        AttendantHoliday(tenant_id=t, schedule_id=schedule.id, day=date(2026, 11, 26), name="Thanksgiving")
    )
    session.flush()
    return AaOffice(t, users["1001"], users["1002"], main.id, support.id, night.id)


@dataclass
class CallResult:
    returncode: int
    output: str
    messages: str  # SIPp's message trace

    @property
    def refer_targets(self) -> list[str]:
        """The user part of each REFER's Refer-To the attendant sent, in order."""
        found = []
        for block in self.messages.split("----------------------------------------------"):
            if re.search(r"^\s*REFER sip:", block, re.M):
                match = re.search(r"^\s*Refer-To:\s*<sip:([^@>]+)@", block, re.M | re.I)
                if match:
                    found.append(match.group(1))
        return found

    @property
    def bye_received(self) -> bool:
        return re.search(r"^\s*BYE sip:", self.messages, re.M) is not None and "received" in self.messages


@dataclass
class AaRig:
    server: AppServer
    office: AaOffice
    sessions: sessionmaker[Session]
    sink_port: int
    work: Path

    async def call(
        self, menu: uuid.UUID, script: RtpScript, scenario: str, *, timeout_s: float = 30.0
    ) -> CallResult:
        assert SIPP is not None
        run = self.work / uuid.uuid4().hex[:8]
        run.mkdir(parents=True)
        script.write(run / "audio.pcap", dport=6000)
        host, port = self.server.address
        trace = run / "messages.log"
        args = [SIPP, "-sf", str(SCENARIOS / scenario), f"{host}:{port}", "-i", "127.0.0.1"]
        args += ["-p", str(free_udp_port()), "-mp", str(free_udp_port()), "-s", f"aa.{menu}", "-m", "1"]
        args += ["-nostdin", "-timeout", f"{int(timeout_s)}s", "-timeout_error"]
        args += ["-trace_msg", "-message_file", str(trace)]
        keys = {
            "tenant": str(self.office.tenant_id),
            "call_uuid": str(uuid.uuid4()),
            "caller": "+13125550100",
            "caller_name": "Pat Caller",
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
        messages = trace.read_text(errors="replace") if trace.exists() else ""
        result = CallResult(
            proc.returncode if proc.returncode is not None else -9, out.decode(errors="replace"), messages
        )
        assert result.returncode == 0, result.output[-3000:] + messages[-3000:]
        return result

    async def settle(self, seconds: float = 5.0) -> None:
        for _ in range(int(seconds / 0.05)):
            if self.server.active_calls == 0:
                return
            await asyncio.sleep(0.05)


@pytest.fixture
async def rig(db_url: str, tmp_path: Path) -> AsyncIterator[AaRig]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        office = seed_attendant(session)
    with smtp_server() as (_, smtp_port):
        server = make_server(sessions, tmp_path / "data", smtp_port, [])
        server.attendant.clock = lambda: OPEN_HOURS  # a Wednesday 10:00 in Chicago; tests change it
        await server.start("127.0.0.1", 0)
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(RtpSink, local_addr=("127.0.0.1", 0))
        try:
            yield AaRig(server, office, sessions, transport.get_extra_info("sockname")[1], tmp_path / "sipp")
        finally:
            transport.close()
            await server.stop()
            engine.dispose()
