"""Real loopback sockets: UDP, TCP and TLS servers answering a tiny echo application."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from centrex.sip.events import (
    Event,
    ParseFailed,
    RequestReceived,
    ResponseReceived,
    TransactionTimedOut,
    TransportError,
)
from centrex.sip.headers import Headers
from centrex.sip.message import Request, Response, make_response, new_tag, parse_message
from centrex.sip.transaction import TimerConfig
from centrex.sip.uri import SipUri
from centrex.transport import (
    SIGNALLING_TOS,
    SipTransport,
    StreamTransport,
    UdpTransport,
    client_context,
    ensure_certificate,
    server_context,
)
from centrex.transport.dscp import get_tos


def options(transport: str, branch: str = "z9hG4bKloop1", sent_by: str = "127.0.0.1:9") -> bytes:
    lines = [
        "OPTIONS sip:echo@127.0.0.1 SIP/2.0",
        f"Via: SIP/2.0/{transport} {sent_by};branch={branch};rport",
        "Max-Forwards: 70",
        "From: <sip:probe@127.0.0.1>;tag=p1",
        "To: <sip:echo@127.0.0.1>",
        f"Call-ID: {branch}@test",
        "CSeq: 1 OPTIONS",
        "Content-Length: 0",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class EchoApp:
    """Answers every request with 200 and records every event."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.got = asyncio.Event()

    def __call__(self, event: Event, transport: SipTransport) -> None:
        self.events.append(event)
        self.got.set()
        if isinstance(event, RequestReceived) and event.request.method != "ACK":
            transport.send_response(make_response(event.request, 200, to_tag=new_tag()))


async def read_response(reader: asyncio.StreamReader) -> Response:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    message = parse_message(head, stream=True)
    assert isinstance(message, Response)
    return message


class UdpClient(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.queue.put_nowait(data)


async def test_udp_options_round_trip_with_rport_and_dscp() -> None:
    app = EchoApp()
    server = await UdpTransport.start("127.0.0.1", 0, app)
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(UdpClient, local_addr=("127.0.0.1", 0))
    try:
        client_port = transport.get_extra_info("sockname")[1]
        data = options("UDP")
        transport.sendto(data, server.local_address)
        reply = parse_message(await asyncio.wait_for(client.queue.get(), 5))
        assert isinstance(reply, Response) and reply.status == 200
        # RFC 3581: the response went to the source port, not to the (bogus) sent-by port 9.
        via = reply.top_via
        assert via.received == "127.0.0.1" and via.rport == client_port
        transport.sendto(data, server.local_address)  # retransmission: same answer, one event
        again = parse_message(await asyncio.wait_for(client.queue.get(), 5))
        assert again == reply
        assert len([e for e in app.events if isinstance(e, RequestReceived)]) == 1
        assert get_tos(server.socket) == SIGNALLING_TOS
        assert server.local_address[1] != 0
    finally:
        transport.close()
        await server.close()


async def test_udp_client_transaction_between_two_transports() -> None:
    server_app, client_app = EchoApp(), EchoApp()
    server = await UdpTransport.start("127.0.0.1", 0, server_app)
    client = await UdpTransport.start("127.0.0.1", 0, client_app)
    try:
        request = Request("OPTIONS", SipUri("127.0.0.1", "echo", port=server.local_address[1]), Headers())
        for name, value in [
            ("From", "<sip:c@127.0.0.1>;tag=c1"),
            ("To", "<sip:echo@127.0.0.1>"),
            ("Call-ID", "udp-pair"),
            ("CSeq", "1 OPTIONS"),
        ]:
            request.headers.add(name, value)
        key = client.send_request(request, server.local_address)
        await asyncio.wait_for(client_app.got.wait(), 5)
        (event,) = client_app.events
        assert isinstance(event, ResponseReceived) and event.key == key and event.response.status == 200
    finally:
        await client.close()
        await server.close()


async def test_tcp_partial_writes_keepalive_and_garbage() -> None:
    app = EchoApp()
    server = await StreamTransport.start("127.0.0.1", 0, app)
    try:
        reader, writer = await asyncio.open_connection(*server.local_address)
        # Double-CRLF ping gets a CRLF pong (RFC 5626 §3.5.1).
        writer.write(b"\r\n\r\n")
        assert await asyncio.wait_for(reader.readexactly(2), 5) == b"\r\n"
        # A message written in small pieces with pauses in between is reassembled.
        data = options("TCP")
        for i in range(0, len(data), 17):
            writer.write(data[i : i + 17])
            await writer.drain()
            await asyncio.sleep(0.002)
        reply = await read_response(reader)
        assert reply.status == 200 and reply.call_id == "z9hG4bKloop1@test"
        # Garbage that still frames (blank line, no Content-Length) is reported, not fatal...
        writer.write(b"\x00\x01 hello there\r\n\r\n")
        writer.write(options("TCP", branch="z9hG4bKloop2"))
        reply2 = await read_response(reader)
        assert reply2.call_id == "z9hG4bKloop2@test"
        assert any(isinstance(e, ParseFailed) and not e.fatal for e in app.events)
        # ...garbage that breaks framing closes this connection only.
        writer.write(b"INVITE sip:x SIP/2.0\r\nContent-Length: banana\r\n\r\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        reader2, writer2 = await asyncio.open_connection(*server.local_address)
        writer2.write(options("TCP", branch="z9hG4bKloop3"))
        assert (await read_response(reader2)).status == 200
        writer2.close()
    finally:
        await server.close()


async def test_tcp_request_opens_connection_and_response_reuses_it() -> None:
    server_app, client_app = EchoApp(), EchoApp()
    server = await StreamTransport.start("127.0.0.1", 0, server_app)
    client = await StreamTransport.start("127.0.0.1", 0, client_app)
    try:
        request = Request("OPTIONS", SipUri("127.0.0.1", "echo", port=server.local_address[1]), Headers())
        for name, value in [
            ("From", "<sip:c@127.0.0.1>;tag=c1"),
            ("To", "<sip:echo@127.0.0.1>"),
            ("Call-ID", "tcp-pair"),
            ("CSeq", "1 OPTIONS"),
        ]:
            request.headers.add(name, value)
        key = client.send_request(request, server.local_address)
        await asyncio.wait_for(client_app.got.wait(), 5)
        (event,) = client_app.events
        assert isinstance(event, ResponseReceived) and event.key == key and event.response.status == 200
        assert client.connection_count == 1 and server.connection_count == 1
        assert event.response.top_via.transport == "TCP"
    finally:
        await client.close()
        await server.close()


async def test_tcp_connect_failure_is_a_transport_error() -> None:
    app = EchoApp()
    client = await StreamTransport.start("127.0.0.1", 0, app)
    with socket.socket() as s:  # a port that is certainly closed: bound but never listening
        s.bind(("127.0.0.1", 0))
        dead = ("127.0.0.1", s.getsockname()[1])
        try:
            request = Request("OPTIONS", SipUri("127.0.0.1", port=dead[1]), Headers())
            for name, value in [
                ("From", "<sip:c@x>;tag=1"),
                ("To", "<sip:d@x>"),
                ("Call-ID", "x"),
                ("CSeq", "1 OPTIONS"),
            ]:
                request.headers.add(name, value)
            key = client.send_request(request, dead)
            await asyncio.wait_for(app.got.wait(), 5)
            assert app.events == [TransportError(key, dead, app.events[0].reason)]  # type: ignore[union-attr]
        finally:
            await client.close()


async def test_tls_with_generated_self_signed_certificate(tmp_path: Path) -> None:
    cert, key = ensure_certificate(tmp_path / "tls", "localhost")
    assert cert.exists() and (key.stat().st_mode & 0o777) == 0o600
    assert ensure_certificate(tmp_path / "tls") == (cert, key)  # reused, not regenerated
    app = EchoApp()
    server = await StreamTransport.start("127.0.0.1", 0, app, ssl_context=server_context(cert, key))
    try:
        ctx = client_context(cert)  # trust exactly that certificate
        reader, writer = await asyncio.open_connection(
            *server.local_address, ssl=ctx, server_hostname="127.0.0.1"
        )
        writer.write(options("TLS"))
        reply = await read_response(reader)
        assert reply.status == 200 and reply.top_via.transport == "TLS"
        assert server.name == "TLS"
        writer.close()
        # A client that does not trust the certificate cannot talk to us.
        with pytest.raises(ssl.SSLError):
            await asyncio.open_connection(
                *server.local_address, ssl=ssl.create_default_context(), server_hostname="127.0.0.1"
            )
    finally:
        await server.close()


async def test_application_exception_does_not_stop_the_transport() -> None:
    calls: list[Event] = []

    def broken(event: Event, transport: SipTransport) -> None:
        calls.append(event)
        raise RuntimeError("application bug")

    server = await UdpTransport.start("127.0.0.1", 0, broken)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(UdpClient, local_addr=("127.0.0.1", 0))
    try:
        transport.sendto(options("UDP", branch="z9hG4bKb1"), server.local_address)
        transport.sendto(options("UDP", branch="z9hG4bKb2"), server.local_address)
        # The second request still reaches the application after the first one raised.
        await asyncio.wait_for(_until(lambda: len(calls) >= 2), 5)
        assert [e.request.call_id for e in calls if isinstance(e, RequestReceived)] == [
            "z9hG4bKb1@test",
            "z9hG4bKb2@test",
        ]
    finally:
        transport.close()
        await server.close()


async def _until(cond: Callable[[], bool]) -> None:
    while not cond():
        await asyncio.sleep(0.005)


async def test_udp_timers_run_on_the_loop() -> None:
    """Retransmissions and Timer F driven by the transport's one timer handle (T1 shortened)."""
    app = EchoApp()
    client = await UdpTransport.start("127.0.0.1", 0, app, timers=TimerConfig(t1=0.01, t2=0.04))
    loop = asyncio.get_running_loop()
    silent, sink = await loop.create_datagram_endpoint(UdpClient, local_addr=("127.0.0.1", 0))
    try:
        dest = silent.get_extra_info("sockname")[:2]
        request = Request("OPTIONS", SipUri("127.0.0.1", port=dest[1]), Headers())
        for name, value in [
            ("From", "<sip:c@x>;tag=1"),
            ("To", "<sip:d@x>"),
            ("Call-ID", "t"),
            ("CSeq", "1 OPTIONS"),
        ]:
            request.headers.add(name, value)
        key = client.send_request(request, dest)
        await asyncio.wait_for(app.got.wait(), 5)
        assert app.events == [TransactionTimedOut(key, "F")]
        assert sink.queue.qsize() >= 8  # the original plus retransmissions at 10, 30, 70 ms...
    finally:
        silent.close()
        await client.close()


async def test_the_sip_udp_socket_queues_a_burst_the_default_buffer_would_drop() -> None:
    """A pause of the loop must not drop signalling: 2,000 OPTIONS (~0.5 MB of datagrams) sent
    while the loop is blocked all reach the switch when it wakes up (the kernel's default
    buffer holds ~150 of them; the rest would be retransmitted 500 ms later)."""
    import socket as socket_mod

    app = EchoApp()
    server = await UdpTransport.start("127.0.0.1", 0, app)
    try:
        assert server.socket.getsockopt(socket_mod.SOL_SOCKET, socket_mod.SO_RCVBUF) >= 2 * 1024 * 1024
        sender = socket_mod.socket(socket_mod.AF_INET, socket_mod.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        port = sender.getsockname()[1]
        for i in range(2000):  # no await: the loop reads nothing meanwhile
            sender.sendto(
                options("UDP", branch=f"z9hG4bKburst{i}", sent_by=f"127.0.0.1:{port}"), server.local_address
            )
        sender.close()
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(app.events) >= 2000:
                break
        requests = {e.request.headers.get("Call-ID") for e in app.events if isinstance(e, RequestReceived)}
        assert len(requests) == 2000
    finally:
        await server.close()
