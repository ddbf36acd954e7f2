"""An auto attendant through the whole switch (issue #4 points 3 and 7): a SIPp phone dials the
attendant's extension; the engine sends it to the app server's menu over the relay; the caller
presses RFC 4733 '1'; the attendant REFERs the call back to the switch, which rings 1002 (SIPp),
and the caller — never re-answered — ends up talking to 1002."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.apps.app_config import AppConfig
from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.server import start_app_server
from centrex.store.db import transaction
from centrex.store.models import Tenant
from centrex.store.models.attendants import AttendantAction, AttendantMenu, AttendantOption
from tests.apps.pcap import RtpScript

from .conftest import Server, free_udp_port
from .test_interop_voicemail import caller_scenario

pytestmark = pytest.mark.interop


async def test_pressing_1_at_the_attendant_rings_the_extension(server: Server, tmp_path: Path) -> None:
    with transaction(server.sessions) as s:
        tenant = s.scalar(select(Tenant.id))
        menu = AttendantMenu(
            tenant_id=tenant, name="Main", extension="5000", greeting_text="Welcome", timeout_seconds=5
        )
        s.add(menu)
        s.flush()
        s.add(
            AttendantOption(
                tenant_id=tenant, menu_id=menu.id, digit="1", action=AttendantAction.EXTENSION, target="1002"
            )
        )
    ports = PortAllocator(49000, 49999)
    anchor = RelayAnchor(RelayManager(ports, bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    apps = await start_app_server(
        server.service, server.sessions, AppConfig(data_dir=tmp_path, prompts="tones"), ports
    )
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        callee = asyncio.create_task(
            server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=20)
        )
        await asyncio.sleep(0.3)
        # '1' after a second of the greeting, then 3 s of tone toward whoever answers.
        pcap = RtpScript().digits(1.0, "1").tone(3.0, 3.0, 1000.0).write(tmp_path / "aa.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 7000)), "1001", port=a, callee="5000", timeout_s=20
        )
        assert result.returncode == 0, result.output[-3000:]
        done = await callee
        assert done.returncode == 0, done.output[-3000:]
        cdr = server.ended[-1]
        assert (cdr.disposition, cdr.to) == ("answered", "1002")
        assert [leg.extension for leg in cdr.legs] == [f"aa.{menu.id}", "1002"]
        stats = anchor.finished[str(cdr.call_id)]
        assert stats["b"].packets_out > 50  # the caller's audio reached the app, then 1002
    finally:
        await apps.stop()
