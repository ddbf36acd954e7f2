"""PBX features of the switch with real SIPp phones over 127.0.0.1 (issue #4 points 4 and 6): a
sequential hunt group that moves on when the first member does not answer, and a call-center queue
whose caller is answered at once, hears music from the relay, and is connected to the agent."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from centrex.calls.directory import QueueInfo
from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.pbx.queue_model import MemoryQueues
from centrex.pbx.queues import Queues
from centrex.store.db import transaction
from centrex.store.models import HuntGroup, HuntGroupMember, HuntStrategy, Tenant, User

from .conftest import SCENARIOS, Server, free_udp_port
from .test_interop_sipp import call

pytestmark = pytest.mark.interop


def users(server: Server) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    with server.sessions() as s:
        tenant = s.scalar(select(Tenant.id))
        rows = s.execute(select(User.extension, User.id)).all()
    assert tenant is not None
    return tenant, {ext: uid for ext, uid in rows}


async def test_sequential_hunt_group_rings_the_next_member_when_the_first_does_not_answer(
    server: Server,
) -> None:
    tenant, ids = users(server)
    with transaction(server.sessions) as s:
        group = HuntGroup(
            tenant_id=tenant, name="Sales", extension="2000", strategy=HuntStrategy.SEQUENTIAL, ring_seconds=2
        )
        s.add(group)
        s.flush()
        s.add_all(
            [
                HuntGroupMember(tenant_id=tenant, hunt_group_id=group.id, user_id=ids["1002"], position=0),
                HuntGroupMember(tenant_id=tenant, hunt_group_id=group.id, user_id=ids["1003"], position=1),
            ]
        )
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b), ("1003", c)):
        await server.register(ext, port)
    await call(
        server,
        "1001",
        a,
        "2000",
        "uac_call.xml",
        [("uas_ring.xml", "1002", b), ("uas_answer.xml", "1003", c)],
    )
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.to) == ("answered", "2000")
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [
        ("1002", "cancelled"),
        ("1003", "answered"),
    ]


async def test_a_queue_caller_hears_music_then_reaches_the_agent(server: Server) -> None:
    tenant, ids = users(server)
    anchor = RelayAnchor(RelayManager(PortAllocator(45000, 45999), bind_host="127.0.0.1"))
    engine = server.service.engine
    engine.media = anchor
    queues = MemoryQueues()
    q = QueueInfo(uuid.uuid4(), tenant, "Support", "3000", agent_ring_s=10)
    queues.queues[q.id] = q
    queues.member_ids[q.id] = [ids["1002"]]
    engine.service(Queues).store = queues
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    # The agent logs in with *45<queue>: answered and hung up by the switch after a second.
    login = await server.sipp("uac_call_callee_bye.xml", "1002", port=b, callee="*453000", timeout_s=10)
    assert login.returncode == 0, login.output[-3000:]
    assert queues.logged_in[q.id] == [ids["1002"]]
    await asyncio.sleep(0.2)
    await call(server, "1001", a, "3000", "uac_call_rtp.xml", [("uas_answer.xml", "1002", b)])
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.to) == ("answered", "1002")
    assert [e.kind for e in queues.events] == ["agent_login", "entered", "answered"]
    stats = anchor.finished[str(cdr.call_id)]
    # The caller's audio went to the agent through the relay; before that the caller had music.
    assert stats["a"].packets_in > 50 and stats["b"].packets_out > 50
    assert stats["a"].packets_out > 0  # the agent (SIPp) sends no audio: these were hold music


async def test_blind_transfer_by_refer_moves_the_caller_to_the_target(server: Server) -> None:
    """1002 answers 1001 and REFERs it to 1003 (RFC 3515): 202, NOTIFYs, 1002 released; 1001 never
    sees a change (it talks to the relay), its audio now reaches 1003, and its BYE goes to 1003."""
    anchor = RelayAnchor(RelayManager(PortAllocator(46000, 46999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b), ("1003", c)):
        await server.register(ext, port)
    transferor = asyncio.create_task(
        server.sipp("uas_answer_refer.xml", "1002", port=b, client=False, callee="1003", timeout_s=15)
    )
    await call(server, "1001", a, "1002", "uac_call_rtp.xml", [("uas_answer.xml", "1003", c)])
    result = await transferor
    assert result.returncode == 0, result.output[-3000:]
    cdr = server.ended[-1]
    assert (cdr.disposition, cdr.to, cdr.hangup_cause) == ("answered", "1003", "caller_bye")
    assert [leg.extension for leg in cdr.legs] == ["1002", "1003"]
    stats = anchor.finished[str(cdr.call_id)]
    assert stats["a"].packets_in > 50 and stats["b"].packets_out > 50


def longer(tmp_path: Path, scenario: str, hold_ms: int) -> str:
    text = (
        (SCENARIOS / scenario)
        .read_text()
        .replace('<pause milliseconds="2000"/>', f'<pause milliseconds="{hold_ms}"/>')
    )
    # A phone that offers A-law too (the relay does not transcode: the parked caller talks A-law).
    text = text.replace(
        "RTP/AVP 0\n      a=rtpmap:0 PCMU/8000",
        "RTP/AVP 0 8\n      a=rtpmap:0 PCMU/8000\n      a=rtpmap:8 PCMA/8000",
    )
    path = tmp_path / f"long_{scenario}"
    path.write_text(text)
    return str(path)


async def test_directed_pickup_takes_a_call_ringing_another_phone(server: Server) -> None:
    anchor = RelayAnchor(RelayManager(PortAllocator(47000, 47999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b), ("1003", c)):
        await server.register(ext, port)
    ringing = asyncio.create_task(server.sipp("uas_ring.xml", "1002", port=b, client=False, timeout_s=15))
    await asyncio.sleep(0.3)
    caller = asyncio.create_task(server.sipp("uac_call.xml", "1001", port=a, callee="1002", timeout_s=15))
    await asyncio.sleep(0.8)  # 1002 is ringing
    picker = await server.sipp("uac_call_callee_bye.xml", "1003", port=c, callee="*81002", timeout_s=15)
    assert picker.returncode == 0, picker.output[-3000:]
    assert (await caller).returncode == 0
    assert (await ringing).returncode == 0  # 1002 was cancelled
    cdr = next(e for e in server.ended if e.to == "1003" and e.hangup_cause == "caller_bye")
    assert [(leg.extension, leg.disposition) for leg in cdr.legs] == [
        ("1002", "cancelled"),
        ("1003", "answered"),
    ]
    assert any(e.hangup_cause == "picked_up" for e in server.ended)


async def test_park_and_retrieve_with_music_while_parked(server: Server, tmp_path: Path) -> None:
    anchor = RelayAnchor(RelayManager(PortAllocator(48000, 48999), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    for ext, port in (("1001", a), ("1002", b), ("1003", c)):
        await server.register(ext, port)
    parker = asyncio.create_task(
        server.sipp("uas_answer_refer.xml", "1002", port=b, client=False, callee="*705", timeout_s=15)
    )
    await asyncio.sleep(0.3)
    caller = asyncio.create_task(
        server.sipp(longer(tmp_path, "uac_call_rtp.xml", 5000), "1001", port=a, callee="1002", timeout_s=20)
    )
    await asyncio.sleep(2.0)  # answered by 1002, parked in slot 5
    assert (await parker).returncode == 0
    retriever = await server.sipp(
        longer(tmp_path, "uac_call_callee_bye.xml", 0), "1003", port=c, callee="*715", timeout_s=15
    )
    assert retriever.returncode == 0, retriever.output[-3000:]
    result = await caller
    assert result.returncode == 0, result.output[-3000:]
    cdr = server.ended[-1]
    assert (cdr.to, cdr.disposition) == ("1003", "answered")
    assert [leg.extension for leg in cdr.legs] == ["1002", "1003"]
    stats = anchor.finished[str(cdr.call_id)]
    assert stats["b"].packets_out > 20  # the caller's audio reached 1003 after the retrieval
