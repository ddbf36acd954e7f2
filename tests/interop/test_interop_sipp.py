"""SIPp phones against a real Centrex SIP service over 127.0.0.1: registration, calls, CANCEL,
busy, no answer -> forward, and the brute-force ban."""

from __future__ import annotations

import asyncio
import socket

import pytest
from sqlalchemy import select, update

from centrex.store.models import ActiveCall, CallDetail, CdrLeg, CdrOutcome, Tenant, TenantStatus, User

from .conftest import Server, free_tcp_port, free_udp_port

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


async def test_a_call_leaves_a_durable_cdr(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_call.xml", [("uas_answer.xml", "1002", b)])
    with server.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
        outcome = s.scalars(select(CdrOutcome)).one()
        legs = s.scalars(select(CdrLeg)).all()
    assert (cdr.caller, cdr.callee, cdr.disposition, cdr.call_class) == ("1001", "1002", "answered", "on_net")
    assert cdr.duration_ms >= 400 and cdr.answer is not None
    assert (outcome.hangup_cause, outcome.sip_code) == ("caller_bye", 200)
    assert [leg.disposition for leg in legs] == ["answered"]


async def test_restart_keeps_registrations_and_closes_interrupted_calls(server: Server) -> None:
    a, b = await two_phones(server)
    ringing = [
        asyncio.create_task(server.sipp("uas_ring.xml", "1002", port=b, client=False, timeout_s=3)),
        asyncio.create_task(server.sipp("uac_call.xml", "1001", port=a, callee="1002", timeout_s=3)),
    ]
    for _ in range(100):
        if server.service.engine.active_calls:
            break
        await asyncio.sleep(0.05)
    assert server.service.engine.active_calls == 1
    # A crash: the process loses its calls without ending them (a clean stop would answer the
    # ringing call 503 itself; kill -9 of a real process is tests/calls/test_calls_crash.py).
    server.service.engine.calls.clear()
    await server.restart()  # the call was ringing: the "crash" cut it short
    await asyncio.gather(*ringing)  # both SIPp phones give up by themselves
    with server.sessions() as s:
        [outcome] = s.scalars(select(CdrOutcome)).all()
        assert outcome.hangup_cause == "interrupted"
        assert s.scalars(select(ActiveCall)).all() == []
    # No REGISTER since the restart: the registrations came back from the store.
    assert len(server.service.location.all()) == 2
    await call(server, "1001", a, "1002", "uac_call.xml", [("uas_answer.xml", "1002", b)])
    assert server.ended[-1].disposition == "answered"


async def test_call_with_bye_from_the_callee(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_call_callee_bye.xml", [("uas_answer_bye.xml", "1002", b)])
    assert server.ended[0].hangup_cause == "callee_bye"


async def test_hold_and_resume_by_reinvite(server: Server) -> None:
    a, b = await two_phones(server)
    await call(server, "1001", a, "1002", "uac_call_hold.xml", [("uas_answer_hold.xml", "1002", b)])
    assert server.ended[0].hangup_cause == "caller_bye"


async def test_caller_on_tcp_callee_on_udp(server: Server) -> None:
    a, b = free_tcp_port(), free_udp_port()
    r = await server.sipp("register.xml", "1001", port=a, transport="t1")
    assert r.returncode == 0, r.output[-2000:]
    await server.register("1002", b)
    callee = asyncio.create_task(
        server.sipp("uas_answer_bye.xml", "1002", port=b, client=False, timeout_s=15)
    )
    await asyncio.sleep(0.3)
    caller = await server.sipp(
        "uac_call_callee_bye.xml", "1001", port=a, callee="1002", transport="t1", timeout_s=15
    )
    assert caller.returncode == 0, caller.output[-3000:]
    assert (await callee).returncode == 0
    assert server.ended[0].hangup_cause == "callee_bye"
    assert {b.transport for b in server.service.location.all()} == {"TCP", "UDP"}


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


async def test_a_suspended_tenant_may_still_call_911_but_nothing_else(server: Server) -> None:
    """A call to a colleague gets 403 Service Suspended; 911 passes admission (this build has no
    emergency route yet, so it ends 503 no_route, exactly as for an active tenant)."""
    with server.sessions.begin() as session:
        session.execute(update(Tenant).values(status=TenantStatus.SUSPENDED))
    a, _b = await two_phones(server)  # phones of a suspended tenant may still register
    refused = await server.sipp("uac_refused_403.xml", "1001", port=a, callee="1002")
    assert refused.returncode == 0, refused.output[-3000:]
    emergency = await server.sipp("uac_refused_503.xml", "1001", port=a, callee="911")
    assert emergency.returncode == 0, emergency.output[-3000:]
    colleague, nine_one_one = server.ended
    assert (colleague.sip_code, colleague.hangup_cause) == (403, "tenant_suspended")
    assert (nine_one_one.call_class, nine_one_one.sip_code, nine_one_one.hangup_cause) == (
        "emergency",
        503,
        "no_route",
    )
