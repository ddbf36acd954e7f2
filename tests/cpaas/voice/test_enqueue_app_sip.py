"""<Enqueue>support</Enqueue>: the caller is handed (REFER) to the tenant's call queue of that name,
whose logged-in agent (1002, SIPp) rings and answers — the existing queue path, music and agents."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.media.ports import PortAllocator
from centrex.store.db import transaction
from centrex.store.models import Tenant, User
from centrex.store.models.queues import CallQueue, QueueAgent
from tests.apps.pcap import RtpScript
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_trunks import use_store_routes
from tests.interop.test_interop_voicemail import caller_scenario

from .conftest import add_application, start_apps
from .webapp import VoiceWebApp, twiml

pytestmark = pytest.mark.interop


async def test_enqueue_hands_the_caller_to_the_queue(
    server: Server, webapp: VoiceWebApp, tmp_path: Path
) -> None:
    webapp.routes["/voice"] = lambda p: twiml("<Say>Please hold.</Say><Enqueue>support</Enqueue>")
    use_store_routes(server)
    add_application(server, webapp, "6040")
    with transaction(server.sessions) as s:
        tenant = s.scalar(select(Tenant.id))
        agent = s.scalar(select(User.id).where(User.extension == "1002"))
        queue = CallQueue(tenant_id=tenant, name="support", extension="7040")
        s.add(queue)
        s.flush()
        s.add(QueueAgent(tenant_id=tenant, queue_id=queue.id, user_id=agent, logged_in=True))
    apps = await start_apps(server, tmp_path, PortAllocator(43500, 43999))
    try:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        callee = asyncio.create_task(
            server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=20)
        )
        await asyncio.sleep(0.3)
        pcap = RtpScript().tone(0.0, 5.0, 1000.0).write(tmp_path / "q.pcap")
        result = await server.sipp(
            str(caller_scenario(tmp_path, pcap, 6000)), "1001", port=a, callee="6040", timeout_s=20
        )
        assert result.returncode == 0, result.output[-3000:]
        done = await callee
        assert done.returncode == 0, done.output[-3000:]
    finally:
        await apps.stop()
    cdr = server.ended[-1]
    assert cdr.disposition == "answered"
    assert cdr.legs[0].extension.startswith("cpaas.") and cdr.legs[-1].extension == "1002"
