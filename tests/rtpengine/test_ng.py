"""The ng message layer without rtpengine (cookies, replies, error reasons, statistics) and the
UDP transport against a real loopback socket that plays the daemon (drops, late replies, a
closed port)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from centrex.media.bencode import decode, encode
from centrex.media.rtpengine import (
    NgClient,
    NgError,
    NgProtocolError,
    NgUnreachable,
    new_cookie,
    parse_reply,
    request_datagram,
    split_reply,
    stream_stats,
)


def test_a_request_is_cookie_space_bencoded_dictionary() -> None:
    data = request_datagram("5323_1", "ping", {})
    assert data == b"5323_1 d7:command4:pinge"
    data = request_datagram("c", "delete", {"call-id": "x", "delete delay": 0})
    assert data.startswith(b"c ") and decode(data[2:]) == {
        b"command": b"delete",
        b"call-id": b"x",
        b"delete delay": 0,
    }
    assert new_cookie() != new_cookie() and " " not in new_cookie()
    with pytest.raises(ValueError, match="cookie"):
        request_datagram("a b", "ping", {})


def test_replies_split_and_parse() -> None:
    assert split_reply(b"5323_1 d6:result4:ponge") == ("5323_1", b"d6:result4:ponge")
    assert parse_reply("ping", b"d6:result4:ponge") == {"result": "pong"}
    assert parse_reply("offer", b"d6:result2:ok3:sdp3:v=0e")["sdp"] == "v=0"
    with pytest.raises(NgProtocolError, match="cookie"):
        split_reply(b"d6:result4:ponge")


def test_an_error_result_raises_naming_rtpengines_reason() -> None:
    with pytest.raises(NgError, match="rtpengine query: Unknown call-id") as err:
        parse_reply("query", encode({"result": "error", "error-reason": "Unknown call-id"}))
    assert err.value.reason == "Unknown call-id" and err.value.command == "query"
    with pytest.raises(NgError, match="load limit: over max sessions"):
        parse_reply("offer", encode({"result": "load limit", "message": "over max sessions"}))
    with pytest.raises(NgProtocolError, match="not bencode"):
        parse_reply("offer", b"d6:result")
    with pytest.raises(NgProtocolError, match="unexpected result"):
        parse_reply("offer", encode({"result": "maybe"}))
    with pytest.raises(NgProtocolError, match="not a dictionary"):
        parse_reply("offer", b"i1e")


def test_stream_stats_of_a_query_reply() -> None:
    def stream(flag: str, port: int, packets: int) -> dict[str, object]:
        return {
            "local port": port,
            "endpoint": {"family": "IPv4", "address": "10.0.0.5", "port": port + 1000},
            "flags": [flag, "filled"],
            "stats": {"packets": packets, "bytes": packets * 172, "errors": 0},
        }

    reply = {
        "result": "ok",
        "tags": {
            "a": {
                "medias": [{"type": "audio", "streams": [stream("RTP", 30000, 50), stream("RTCP", 30001, 2)]}]
            },
            "b": {"medias": [{"type": "audio", "streams": [stream("RTP", 30010, 7)]}]},
            "junk": "not a dict",
        },
    }
    stats = stream_stats(reply)
    assert set(stats) == {"a", "b"}
    assert stats["a"].local_port == 30000 and stats["a"].endpoint == ("10.0.0.5", 31000)
    assert stats["a"].packets_in == 50 and stats["a"].bytes_in == 8600 and stats["a"].rtcp_in == 2
    assert stats["b"].packets_in == 7 and stats["b"].rtcp_in == 0
    assert stream_stats({"result": "ok"}) == {}


Responder = Callable[[bytes, int], list[bytes]]
Daemon = Callable[[Responder], tuple[int, list[bytes]]]


@pytest.fixture
def fake_daemon() -> Iterator[Daemon]:
    """A UDP socket answering with whatever ``respond(datagram, n)`` returns (n counts from 0)."""
    socks: list[socket.socket] = []
    stop = threading.Event()

    def start(respond: Responder) -> tuple[int, list[bytes]]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.05)
        socks.append(s)
        seen: list[bytes] = []

        def run() -> None:
            while not stop.is_set():
                try:
                    data, addr = s.recvfrom(65535)
                except (TimeoutError, OSError):
                    continue
                seen.append(data)
                for out in respond(data, len(seen) - 1):
                    s.sendto(out, addr)

        threading.Thread(target=run, daemon=True).start()
        return s.getsockname()[1], seen

    yield start
    stop.set()
    time.sleep(0.06)
    for s in socks:
        s.close()


def test_a_lost_request_is_retransmitted_with_the_same_cookie(fake_daemon: Daemon) -> None:
    def respond(data: bytes, n: int) -> list[bytes]:
        cookie = data.split(b" ", 1)[0]
        return [] if n == 0 else [cookie + b" " + encode({"result": "pong"})]

    port, seen = fake_daemon(respond)
    client = NgClient("127.0.0.1", port, timeout_s=1.0, first_wait_s=0.02)
    assert client.request("ping") == {"result": "pong"}
    assert client.retransmissions == 1 and len(seen) == 2 and seen[0] == seen[1]


def test_replies_with_another_cookie_are_ignored(fake_daemon: Daemon) -> None:
    def respond(data: bytes, n: int) -> list[bytes]:
        cookie = data.split(b" ", 1)[0]
        stale = b"old_1 " + encode({"result": "error", "error-reason": "stale"})
        return [stale, b"garbage", cookie + b" " + encode({"result": "ok", "sdp": "v=0"})]

    port, _ = fake_daemon(respond)
    client = NgClient("127.0.0.1", port, timeout_s=1.0)
    assert client.request("offer", sdp="v=0")["sdp"] == "v=0"
    assert client.retransmissions == 0


def test_a_daemon_that_never_answers_times_out(fake_daemon: Daemon) -> None:
    port, seen = fake_daemon(lambda data, n: [])
    client = NgClient("127.0.0.1", port, timeout_s=0.2, first_wait_s=0.02)
    started = time.monotonic()
    with pytest.raises(NgUnreachable, match=r"no reply within 0\.2 s"):
        client.request("ping")
    assert 0.19 < time.monotonic() - started < 0.5
    assert len(seen) >= 3  # 20, 40, 80 ms waits: retransmitted while waiting


def test_a_closed_port_fails_at_once() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = NgClient("127.0.0.1", port, timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(NgUnreachable, match="refused"):
        client.request("ping")
    assert time.monotonic() - started < 0.5
