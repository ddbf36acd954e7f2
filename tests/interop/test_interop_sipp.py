"""SIPp phones against a real Centrex SIP service over 127.0.0.1: registration, calls, CANCEL,
busy, no answer -> forward, and the brute-force ban."""

from __future__ import annotations

import asyncio
import socket

import pytest
from sqlalchemy import update

from centrex.store.models import User

from .conftest import Server, free_udp_port

pytestmark = pytest.mark.interop


async def test_register_right_wrong_and_unknown_user(server: Server) -> None:
    ok = await server.sipp("register.xml", "1001", port=free_udp_port())
    assert ok.returncode == 0, ok.output[-2000:]
    # The scenario checks the realm of the first 401 and expects a second 401 after credentials.
    wrong = await server.sipp("register_refused.xml", "1001", port=free_udp_port(), password="wrong")
    assert wrong.returncode == 0, wrong.output[-2000:]
    unknown = await server.sipp("register_refused.xml", "9999", port=free_udp_port(), password="x")
    assert unknown.returncode == 0, unknown.output[-2000:]
    assert len(server.service.location.all()) == 1


async def two_phones(server: Server) -> tuple[int, int]:
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    return a, b


async def call(
    server: Server, caller: str, a: int, callee_ext: str, uac: str, uas: list[tuple[str, str, int]]
) -> None:
    callees = [
        asyncio.create_task(server.sipp(scn, ext, port=port, client=False, timeout_s=15))
        for scn, ext, port in uas
    ]
    await asyncio.sleep(0.3)  # let the callee SIPp bind its port
    caller_result = await server.sipp(uac, caller, port=a, callee=callee_ext, timeout_s=15)
    results = await asyncio.gather(*callees)
    assert caller_result.returncode == 0, caller_result.output[-3000:]
    for result in results:
        assert result.returncode == 0, result.output[-3000:]


async def test_call_with_bye_from_the_caller(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_call.xml", [("uas_answer.xml", "1002", b)])
    [cdr] = server.ended
    assert (cdr.disposition, cdr.hangup_cause, cdr.from_, cdr.to) == (
        "answered",
        "caller_bye",
        "1001",
        "1002",
    )
    assert cdr.duration_ms >= 400


async def test_call_with_bye_from_the_callee(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_call_callee_bye.xml", [("uas_answer_bye.xml", "1002", b)])
    assert server.ended[0].hangup_cause == "callee_bye"


async def test_cancel_while_ringing(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_cancel.xml", [("uas_ring.xml", "1002", b)])
    assert server.ended[0].disposition == "cancelled"


async def test_busy(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_busy.xml", [("uas_busy.xml", "1002", b)])
    assert (server.ended[0].disposition, server.ended[0].sip_code) == ("busy", 486)


async def test_no_answer_forwards_after_n_seconds(server: Server) -> None:
    a, b = await two_phones(server)
    c = free_udp_port()
    await server.register("1003", c)
    with server.sessions.begin() as session:
        session.execute(
            update(User)
            .where(User.extension == "1002")
            .values(forward_no_answer="1003", forward_no_answer_seconds=2)
        )
    await call(
        server,
        "1001",
        a,
        "1002",
        "uac_call.xml",
        [("uas_ring.xml", "1002", b), ("uas_answer.xml", "1003", c)],
    )
    [cdr] = server.ended
    assert (cdr.disposition, cdr.to) == ("answered", "1003")
    assert [leg.disposition for leg in cdr.legs] == ["cancelled", "answered"]


async def test_five_failures_ban_the_source_and_it_gets_no_answer(server: Server) -> None:
    for _ in range(5):
        r = await server.sipp("register_refused.xml", "1001", port=free_udp_port(), password="wrong")
        assert r.returncode == 0, r.output[-2000:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(1.0)
        probe = (
            b"OPTIONS sip:demo.centrex.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKban\r\n"
            b"From: <sip:x@demo.centrex.test>;tag=1\r\nTo: <sip:x@demo.centrex.test>\r\nCall-ID: ban\r\n"
            b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        s.sendto(probe, ("127.0.0.1", server.port))
        with pytest.raises(TimeoutError):
            await asyncio.get_running_loop().run_in_executor(None, s.recv, 4096)
