"""TCP/TLS limits over real sockets on 127.0.0.x: 2,000 idle connections from one address are
capped and the kept ones closed after the idle time; the global cap; a connection that keeps
sending messages or keep-alives stays while a half-sent message does not; a banned source's
TCP and TLS connects are closed at accept."""

from __future__ import annotations

import asyncio
import resource
import ssl
import time
from pathlib import Path

import pytest

from centrex.sip.events import Event
from centrex.sip.message import Response, parse_message
from centrex.transport.base import SipTransport
from centrex.transport.stream import StreamLimits, StreamTransport
from centrex.transport.tls import client_context, ensure_certificate, server_context
from tests.fairuse.sip_udp import UdpPhone
from tests.fairuse.switch import Switch, seeded, short_idle_switch, switch

CLOSED_WAIT_S = 1.0
FIXTURES = (seeded, short_idle_switch, switch)  # the SIP service fixtures these tests use


async def connect(port: int, host: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(host, 0))


async def closed_by_server(reader: asyncio.StreamReader, wait_s: float = CLOSED_WAIT_S) -> bool:
    """True when the server closed (EOF or reset) within ``wait_s``; False when still open."""
    try:
        data = await asyncio.wait_for(reader.read(1), wait_s)
    except TimeoutError:
        return False
    except (ConnectionError, OSError):
        return True
    return data == b""


def tcp(switch: Switch) -> StreamTransport:
    transport = switch.service.transports["TCP"]
    assert isinstance(transport, StreamTransport)
    return transport


async def test_two_thousand_idle_connections_from_one_address(short_idle_switch: Switch) -> None:
    """Per-source cap 50, idle 1 s: never more than 50 held, the rest closed at accept (or, once a
    kept one went idle, taking its place); 1 s after the last, none is left."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4500:
        pytest.skip(f"needs ~4,100 descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    transport = tcp(short_idle_switch)
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    held: list[int] = []
    try:
        for _ in range(20):
            conns += await asyncio.gather(
                *(connect(short_idle_switch.port, "127.0.0.20") for _ in range(100))
            )
            await asyncio.sleep(0.01)
            held.append(transport.connection_count)
        closed = await asyncio.gather(*(closed_by_server(r, 0.3) for r, _ in conns))
        assert max(held) == 50
        assert 0 < closed.count(False) <= 50
        assert transport.refused >= 1900
        assert transport.refused + transport.idle_closed + transport.connection_count == 2000
        # Another address is not held back by the first one's cap.
        r, w = await connect(short_idle_switch.port, "127.0.0.21")
        conns.append((r, w))
        assert not await closed_by_server(r, 0.2)
        kept = [r for (r, _), c in zip(conns, [*closed, False], strict=True) if not c]
        started = time.monotonic()
        assert all(await asyncio.gather(*(closed_by_server(r, 3.0) for r in kept)))
        assert time.monotonic() - started <= 3.0
        assert transport.connection_count == 0
    finally:
        for _, w in conns:
            w.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_messages_and_keepalives_keep_a_connection_a_half_message_does_not(
    short_idle_switch: Switch,
) -> None:
    port = short_idle_switch.port
    (r_alive, w_alive), (r_slow, w_slow) = (
        await connect(port, "127.0.0.22"),
        await connect(port, "127.0.0.22"),
    )
    try:
        w_slow.write(b"REGISTER sip:x SIP/2.0\r\n")
        for _ in range(6):  # 2.4 s: more than twice the idle time
            w_alive.write(b"\r\n\r\n")  # RFC 5626 keep-alive ping; the answer is a CRLF pong
            w_slow.write(b"X")  # one more byte, never a whole message
            await asyncio.sleep(0.4)
        assert await asyncio.wait_for(r_alive.read(2), 1.0) == b"\r\n"
        assert not await closed_by_server(r_alive, 0.1)
        assert await closed_by_server(r_slow, 0.1)
    finally:
        w_alive.close()
        w_slow.close()


async def test_the_global_cap() -> None:
    def ignore(event: Event, transport: SipTransport) -> None:
        pass

    transport = await StreamTransport.start(
        "127.0.0.1", 0, ignore, limits=StreamLimits(idle_s=30, per_source=100, total=20)
    )
    port = transport.local_address[1]
    conns = []
    try:
        for i in range(30):
            conns.append(await connect(port, f"127.0.1.{i % 3 + 1}"))
        closed = await asyncio.gather(*(closed_by_server(r, 0.3) for r, _ in conns))
        assert closed.count(False) == 20 and transport.refused == 10
        assert closed[:20] == [False] * 20  # first come, first kept
        conns[0][1].close()
        await asyncio.sleep(0.1)
        r, w = await connect(port, "127.0.1.9")  # room again once one left
        conns.append((r, w))
        assert not await closed_by_server(r, 0.2)
    finally:
        for _, w in conns:
            w.close()
        await transport.close()


async def ban(switch: Switch, host: str) -> None:
    guesser = UdpPhone(host, switch.port, switch.domain)
    try:
        for i in range(5):
            await guesser.guess("1001", f"wrong{i}")
        assert await guesser.register("1001") is None
    finally:
        guesser.close()


async def test_a_banned_source_is_closed_at_accept(switch: Switch) -> None:
    r, w = await connect(switch.port, "127.0.0.23")  # connected before the ban
    await ban(switch, "127.0.0.23")
    try:
        assert not await closed_by_server(r, 0.2)  # silent: nothing read from it yet
        w.write(b"\r\n\r\n")
        assert await closed_by_server(r)  # closed at its next bytes
        refused = tcp(switch).refused
        r2, w2 = await connect(switch.port, "127.0.0.23")
        assert await closed_by_server(r2, 0.5)
        w2.close()
        assert tcp(switch).refused == refused + 1
        r3, w3 = await connect(switch.port, "127.0.0.24")  # others are served
        w3.write(b"\r\n\r\n")
        assert await asyncio.wait_for(r3.read(2), 1.0) == b"\r\n"
        w3.close()
    finally:
        w.close()


async def test_a_banned_source_gets_no_tls_handshake(switch: Switch, tmp_path: Path) -> None:
    await switch.service.stop()
    cert, key = ensure_certificate(tmp_path)
    from dataclasses import replace

    switch.config = replace(switch.config, tls_port=0, tls_cert=str(cert), tls_key=str(key))
    await switch.restart()
    tls = switch.service.transports["TLS"]
    port = tls.local_address[1]
    ctx = client_context(cert)
    ok_r, ok_w = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname="localhost", local_addr=("127.0.0.25", 0)
    )
    ok_w.write(b"\r\n\r\n")
    assert await asyncio.wait_for(ok_r.read(2), 2.0) == b"\r\n"  # a TLS client is served
    ok_w.close()
    await ban(switch, "127.0.0.26")
    with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
        await asyncio.wait_for(
            asyncio.open_connection(
                "127.0.0.1", port, ssl=ctx, server_hostname="localhost", local_addr=("127.0.0.26", 0)
            ),
            2.0,
        )
    assert isinstance(tls, StreamTransport) and tls.refused == 1


def test_server_context_is_the_one_used(tmp_path: Path) -> None:
    """The handshake after accept uses the same verified context as before (TLS 1.2 at least)."""
    cert, key = ensure_certificate(tmp_path)
    assert server_context(cert, key).minimum_version == ssl.TLSVersion.TLSv1_2


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
    message = parse_message(head)  # every answer here has no body
    assert isinstance(message, Response)
    return message


async def test_a_phone_registered_over_tcp_keeps_its_connection_past_the_idle_time(
    short_idle_switch: Switch,
) -> None:
    """It is reached through that connection (its NAT lets nothing else in) until it expires."""
    switch = short_idle_switch
    r, w = await connect(switch.port, "127.0.0.27")
    phone = UdpPhone("127.0.0.27", switch.port, switch.domain)  # only to build the messages
    try:
        local = w.get_extra_info("sockname")
        phone.host, phone.port = local[0], local[1]

        def over_tcp(data: bytes) -> bytes:
            return data.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP").replace(
                b">\r\nExpires", b";transport=tcp>\r\nExpires"
            )

        w.write(over_tcp(phone.register_bytes("1001")))
        challenge = (await read_response(r)).headers.get("WWW-Authenticate")
        assert challenge is not None
        auth = phone.answer(challenge, "1001", switch.passwords["1001"])
        w.write(over_tcp(phone.register_bytes("1001", auth)))
        assert (await read_response(r)).status == 200
        assert not await closed_by_server(r, 2.5)  # 2.5 idle seconds, idle_s is 1
    finally:
        phone.close()
        w.close()
