"""RtpengineAnchor against the real daemon: RTP forwarded both ways between two UDP sockets with
latching (the phone's real source is not its SDP address), hold music from rtpengine's player,
final statistics at close, a daemon that is down, the ng round trip measured, and the setting."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from centrex.calls.hybrid_anchor import HybridAnchor, select_anchor
from centrex.calls.media import RelayAnchor
from centrex.calls.rtpengine_anchor import RtpengineAnchor, rtpengine_anchor
from centrex.config import load_settings
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtpengine import NgClient, NgError

from .conftest import Rtpengine


def rtp(seq: int, pt: int = 8, ssrc: int = 0x1234) -> bytes:
    header = (
        bytes([0x80, pt]) + seq.to_bytes(2, "big") + (seq * 160).to_bytes(4, "big") + ssrc.to_bytes(4, "big")
    )
    return header + bytes([0xD5]) * 160


@pytest.fixture
def phones() -> Iterator[list[socket.socket]]:
    socks = []
    for _ in range(3):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.5)
        socks.append(s)
    yield socks
    for s in socks:
        s.close()


def receive(s: socket.socket, timeout: float = 0.5) -> tuple[bytes, tuple[str, int]] | None:
    s.settimeout(timeout)
    try:
        data, addr = s.recvfrom(2048)
        return data, addr
    except TimeoutError:
        return None


def drain(s: socket.socket, seconds: float) -> list[bytes]:
    got, end = [], time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        r = receive(s, left)
        if r is not None:
            got.append(r[0])
    return got


def test_rtp_flows_both_ways_through_rtpengine_and_latches_on_the_phones_real_source(
    rtpengine: Rtpengine, phones: list[socket.socket], tmp_path: Path
) -> None:
    anchor = rtpengine_anchor(rtpengine.ng, tmp_path)
    caller, caller_sdp_guess, callee = phones
    addresses = anchor.open("call-latch")
    assert addresses is not None
    (a_host, a_port), (b_host, b_port) = addresses
    assert a_host == b_host == "127.0.0.1" and a_port != b_port
    assert all(rtpengine.port_min <= p <= rtpengine.port_max for p in (a_port, b_port))
    # The caller's SDP names an address it does not send from (a NAT's private side, say).
    anchor.set_remote("call-latch", "a", *caller_sdp_guess.getsockname())
    anchor.set_remote("call-latch", "b", *callee.getsockname())

    # Before the caller has sent anything, the callee's audio goes to the SDP address.
    callee.sendto(rtp(1, pt=0), (b_host, b_port))
    first = receive(caller_sdp_guess)
    assert first is not None and first[1] == (a_host, a_port)  # sent from the port the caller was given

    # The caller talks from its real socket: the callee hears it from rtpengine's b side ...
    caller.sendto(rtp(1), (a_host, a_port))
    heard = receive(callee)
    assert heard is not None and heard[0] == rtp(1) and heard[1] == (b_host, b_port)
    # ... and rtpengine latched: the callee's audio now reaches the real socket, not the guess.
    for seq in range(2, 52):
        caller.sendto(rtp(seq), (a_host, a_port))
        callee.sendto(rtp(seq, pt=0), (b_host, b_port))
        time.sleep(0.002)
    to_caller = drain(caller, 0.3)
    to_callee = drain(callee, 0.3)
    assert len(to_caller) >= 45 and len(to_callee) >= 45
    assert to_caller[-1] == rtp(51, pt=0) and to_callee[-1] == rtp(51)
    assert drain(caller_sdp_guess, 0.1) == []

    anchor.close("call-latch")
    stats = anchor.finished["call-latch"]
    assert stats["a"].local_port == a_port and stats["b"].local_port == b_port
    assert stats["a"].remote == caller.getsockname()  # the latched source, not the SDP guess
    assert stats["a"].packets_in >= 50 and stats["b"].packets_in >= 50
    assert stats["a"].packets_out == stats["b"].packets_in
    # The call is gone from rtpengine at once (delete delay 0): its ports are free again.
    client = rtpengine.client()
    with pytest.raises(NgError, match="Unknown call-id"):
        client.request("query", **{"call-id": "call-latch"})
    assert len(anchor) == 0


def test_hold_music_is_played_to_the_held_leg_in_the_engines_codec_and_stops(
    rtpengine: Rtpengine, phones: list[socket.socket], tmp_path: Path
) -> None:
    anchor = rtpengine_anchor(rtpengine.ng, tmp_path)
    caller, _, callee = phones
    addresses = anchor.open("call-moh")
    assert addresses is not None
    anchor.set_remote("call-moh", "a", *caller.getsockname())
    anchor.set_remote("call-moh", "b", *callee.getsockname())
    assert (tmp_path / "media" / "hold-music-8k.wav").stat().st_size > 60_000

    anchor.music("call-moh", "a", 8, True)  # the callee put the caller on hold; PCMA
    music = drain(caller, 1.0)
    assert anchor.music_supported, "rtpengine refused play media (built without transcoding?)"
    assert len(music) >= 25  # 20 ms frames
    assert {p[1] & 0x7F for p in music} == {8} and all(len(p) == 12 + 160 for p in music)
    assert any(p[12:] != bytes([0xD5]) * 160 for p in music)  # not silence: the music
    assert drain(callee, 0.05) == []  # only the held party hears it

    anchor.music("call-moh", "a", 8, False)
    time.sleep(0.2)
    drain(caller, 0.1)
    assert drain(caller, 0.3) == []
    anchor.close("call-moh")


def test_a_daemon_that_is_down_leaves_calls_unanchored_and_is_retried_later() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers: each request waits out the timeout
        now = [1000.0]
        anchor = RtpengineAnchor(
            NgClient("127.0.0.1", silent.getsockname()[1], timeout_s=0.1, first_wait_s=0.02),
            retry_after_s=5.0,
            clock=lambda: now[0],
        )
        started = time.monotonic()
        assert anchor.open("c1") is None
        assert 0.09 < time.monotonic() - started < 0.4
        started = time.monotonic()
        assert anchor.open("c2") is None  # not asked again while marked down
        assert time.monotonic() - started < 0.01
        now[0] += 5.0
        started = time.monotonic()
        assert anchor.open("c3") is None
        assert time.monotonic() - started > 0.09  # asked again after retry_after_s
        # The other operations of a call that was never anchored do nothing.
        anchor.set_remote("c1", "a", "127.0.0.1", 4000)
        anchor.music("c1", "a", 0, True)
        anchor.close("c1")
        assert anchor.finished == {}


def test_ng_round_trips_on_loopback_are_well_under_a_millisecond(
    rtpengine: Rtpengine, tmp_path: Path
) -> None:
    """The engine's port is synchronous: measure what a call set-up blocks the loop for."""
    client = rtpengine.client()
    pings = []
    for _ in range(200):
        t = time.perf_counter()
        client.ping()
        pings.append((time.perf_counter() - t) * 1000)
    anchor = RtpengineAnchor(client)
    opens, closes = [], []
    for i in range(100):
        t = time.perf_counter()
        assert anchor.open(f"rt-{i}") is not None  # offer + answer
        opens.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        anchor.close(f"rt-{i}")
        closes.append((time.perf_counter() - t) * 1000)
    ping_p50, open_p50 = statistics.median(pings), statistics.median(opens)
    print(
        f"\nng round trip ms: ping p50 {ping_p50:.3f} p99 {sorted(pings)[197]:.3f}; "
        f"open (offer+answer) p50 {open_p50:.3f} p99 {sorted(opens)[98]:.3f}; "
        f"close (delete) p50 {statistics.median(closes):.3f}"
    )
    # Loose bounds for a shared 2-core machine; the measured figures are in docs/performance.md.
    assert ping_p50 < 1.0 and open_p50 < 3.0


def test_the_relay_is_chosen_by_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CENTREX_MEDIA_RELAY", raising=False)
    monkeypatch.delenv("CENTREX_RTPENGINE_NG", raising=False)
    assert load_settings().media_relay == "builtin"
    monkeypatch.setenv("CENTREX_MEDIA_RELAY", "RTPengine")
    monkeypatch.setenv("CENTREX_RTPENGINE_NG", "10.0.0.7:2223")
    s = load_settings()
    assert (s.media_relay, s.rtpengine_ng) == ("rtpengine", "10.0.0.7:2223")
    monkeypatch.setenv("CENTREX_MEDIA_RELAY", "kamailio")
    with pytest.raises(ValueError, match="CENTREX_MEDIA_RELAY must be one of builtin, rtpengine"):
        load_settings()
    monkeypatch.setenv("CENTREX_MEDIA_RELAY", "rtpengine")
    monkeypatch.setenv("CENTREX_RTPENGINE_NG", "10.0.0.7")
    with pytest.raises(ValueError, match="CENTREX_RTPENGINE_NG must look like host:port"):
        load_settings()

    relays = RelayManager(PortAllocator(44000, 44099), bind_host="127.0.0.1")
    assert isinstance(select_anchor("builtin", "127.0.0.1:2223", tmp_path, relays), RelayAnchor)
    # rtpengine comes with the built-in relay beside it, for the calls that may be recorded.
    chosen = select_anchor("rtpengine", "127.0.0.1:2223", tmp_path, relays)
    assert isinstance(chosen, HybridAnchor) and chosen.builtin.manager is relays
    assert not chosen.rtpengine.music_blob  # a local daemon reads the file
    remote = select_anchor("rtpengine", "192.0.2.10:2223", tmp_path, relays)
    assert isinstance(remote, HybridAnchor) and remote.rtpengine.music_blob  # a remote one gets the bytes
