"""HybridAnchor with its real parts: a real rtpengine daemon, the built-in relay on loopback ports,
and the tenants' recording policies read by RecordingListener from a real database. A call of a
tenant that may record is anchored on the built-in relay (where the recorder taps it), any other
on rtpengine; music, prompts and close reach the anchor that owns the call; rtpengine down means
the built-in relay, never a refused call."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from centrex.adapters.recording import RecordingListener
from centrex.calls.hybrid_anchor import HybridAnchor, recording_tap, select_anchor
from centrex.calls.media import RelayAnchor
from centrex.calls.rtpengine_anchor import RtpengineAnchor, rtpengine_anchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.media.rtpengine import NgClient
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models.recordings import RecordingMode
from tests.recording.helpers import office, set_policy

from .conftest import Rtpengine
from .test_anchor import rtp

BUILTIN_PORTS = (46000, 46099)


@dataclass(frozen=True)
class _Tenant:
    id: uuid.UUID


@dataclass(frozen=True)
class _Call:
    """What ``recording_tap`` reads of the engine's Call: its tenant."""

    tenant: _Tenant


@dataclass
class Rig:
    anchor: HybridAnchor
    relays: RelayManager
    calls: dict[uuid.UUID, _Call]
    recording: uuid.UUID  # a tenant whose policy records every call
    silent: uuid.UUID  # a tenant that records nobody

    def call(self, tenant_id: uuid.UUID) -> str:
        call_id = uuid.uuid4()
        self.calls[call_id] = _Call(_Tenant(tenant_id))
        return str(call_id)


@pytest.fixture
async def rig(rtpengine: Rtpengine, sqlite_url: str, tmp_path: Path) -> AsyncIterator[Rig]:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    recording = office(sessions, "rec.example.com")
    silent = office(sessions, "quiet.example.com")
    set_policy(sessions, recording, RecordingMode.ALL)
    set_policy(sessions, silent, RecordingMode.OFF)
    relays = RelayManager(PortAllocator(*BUILTIN_PORTS), bind_host="127.0.0.1")
    listener = RecordingListener(sessions, relays, tmp_path / "data")
    calls: dict[uuid.UUID, _Call] = {}
    anchor = select_anchor(
        "rtpengine",
        rtpengine.ng,
        tmp_path,
        relays,
        recording_tap(calls, listener.policy),  # type: ignore[arg-type]
    )
    assert isinstance(anchor, HybridAnchor)
    yield Rig(anchor, relays, calls, recording.tenant_id, silent.tenant_id)
    anchor.close_all()
    listener.close()
    relays.close()
    engine.dispose()


@pytest.fixture
def phones() -> Iterator[tuple[socket.socket, socket.socket]]:
    socks = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)  # read on the event loop, which the built-in relay forwards on
        socks.append(s)
    yield socks[0], socks[1]
    for s in socks:
        s.close()


def in_range(port: int, low: int, high: int) -> bool:
    return low <= port <= high


async def listen(sock: socket.socket, seconds: float) -> list[bytes]:
    loop = asyncio.get_running_loop()
    got: list[bytes] = []
    end = loop.time() + seconds
    while (left := end - loop.time()) > 0:
        try:
            got.append(await asyncio.wait_for(loop.sock_recv(sock, 2048), left))
        except TimeoutError:
            break
    return got


async def test_a_tenant_that_may_record_gets_the_built_in_relay_and_one_that_does_not_rtpengine(
    rig: Rig, rtpengine: Rtpengine, phones: tuple[socket.socket, socket.socket]
) -> None:
    recorded, plain = rig.call(rig.recording), rig.call(rig.silent)
    rec_addresses, plain_addresses = rig.anchor.open(recorded), rig.anchor.open(plain)
    assert rec_addresses is not None and plain_addresses is not None
    assert all(in_range(port, *BUILTIN_PORTS) for _, port in rec_addresses)
    assert all(in_range(port, rtpengine.port_min, rtpengine.port_max) for _, port in plain_addresses)
    assert (rig.anchor.owner(recorded), rig.anchor.owner(plain)) == ("builtin", "rtpengine")
    assert rig.relays.get(recorded) is not None  # what RecordingListener taps at the answer
    assert rig.relays.get(plain) is None

    # set_remote reaches the owner: audio flows through the rtpengine call between two phones.
    caller, callee = phones
    (_, a_port), _ = plain_addresses
    rig.anchor.set_remote(plain, "a", *caller.getsockname())
    rig.anchor.set_remote(plain, "b", *callee.getsockname())
    for seq in range(5):
        caller.sendto(rtp(seq), ("127.0.0.1", a_port))
    assert len(await listen(callee, 0.3)) == 5

    # close reaches the owner: each anchor's final statistics, read through the hybrid's.
    rig.anchor.close(plain)
    rig.anchor.close(recorded)
    assert rig.anchor.finished[plain]["a"].packets_in == 5
    assert rig.anchor.finished[plain]["a"].local_port == a_port
    assert in_range(rig.anchor.finished[recorded]["a"].local_port, *BUILTIN_PORTS)
    assert len(rig.anchor) == 0 and len(rig.anchor.rtpengine) == 0 and rig.relays.get(recorded) is None
    assert rig.anchor.owner(plain) is None


async def test_an_on_demand_or_per_user_policy_also_keeps_the_call_on_the_built_in_relay(
    rig: Rig, sqlite_url: str
) -> None:
    sessions = make_sessionmaker(make_engine(sqlite_url))
    on_demand = office(sessions, "ondemand.example.com")
    set_policy(sessions, on_demand, RecordingMode.ON_DEMAND)
    one_user = office(sessions, "oneuser.example.com")
    set_policy(sessions, one_user, None, {"1003": RecordingMode.INBOUND})
    for tenant in (on_demand.tenant_id, one_user.tenant_id):
        call_id = rig.call(tenant)
        assert rig.anchor.open(call_id) is not None
        assert rig.anchor.owner(call_id) == "builtin"


async def test_music_reaches_the_owner_of_the_call(
    rig: Rig, phones: tuple[socket.socket, socket.socket]
) -> None:
    caller, _ = phones
    for tenant in (rig.silent, rig.recording):
        call_id = rig.call(tenant)
        assert rig.anchor.open(call_id) is not None
        rig.anchor.set_remote(call_id, "a", *caller.getsockname())
        rig.anchor.music(call_id, "a", 0, True)
        music = await listen(caller, 0.6)
        assert len(music) >= 15, rig.anchor.owner(call_id)
        assert {p[1] & 0x7F for p in music} == {0}
        rig.anchor.music(call_id, "a", 0, False)
        await listen(caller, 0.3)
        assert await listen(caller, 0.3) == [], rig.anchor.owner(call_id)
        rig.anchor.close(call_id)


async def test_a_queue_prompt_on_an_rtpengine_call_is_heard_and_the_music_comes_back(
    rig: Rig, phones: tuple[socket.socket, socket.socket], tmp_path: Path
) -> None:
    caller, _ = phones
    call_id = rig.call(rig.silent)
    assert rig.anchor.open(call_id) is not None and rig.anchor.owner(call_id) == "rtpengine"
    rig.anchor.set_remote(call_id, "a", *caller.getsockname())
    rig.anchor.music(call_id, "a", 8, True)
    await listen(caller, 0.3)
    # A 1 s prompt of a 1 kHz tone (the hold music is not a pure tone).
    t = np.arange(8000)
    prompt = (np.sin(2 * np.pi * 1000 * t / 8000) * 12000).astype(np.int16)
    rig.anchor.announce(call_id, "a", 8, prompt)
    heard = await listen(caller, 0.8)
    assert len(heard) >= 30 and {p[1] & 0x7F for p in heard} == {8}
    payloads = [p[12:] for p in heard[5:]]
    # The tone in A-law is periodic with 8 samples (1 kHz at 8 kHz): the prompt, not the music.
    assert sum(1 for pl in payloads if pl[:8] * 20 == pl) >= len(payloads) // 2
    assert list((tmp_path / "media" / "prompts").glob("*.wav"))  # written once, by content
    after = await listen(caller, 1.2)  # the prompt ends after 1 s and the music starts again
    tail = [p[12:] for p in after[-20:]]
    assert len(tail) == 20 and sum(1 for pl in tail if pl[:8] * 20 == pl) == 0
    rig.anchor.close(call_id)


async def test_a_queue_prompt_on_a_built_in_call_is_played_by_the_relay(
    rig: Rig, phones: tuple[socket.socket, socket.socket]
) -> None:
    caller, _ = phones
    call_id = rig.call(rig.recording)
    assert rig.anchor.open(call_id) is not None and rig.anchor.owner(call_id) == "builtin"
    rig.anchor.set_remote(call_id, "a", *caller.getsockname())
    prompt = (np.sin(2 * np.pi * 1000 * np.arange(4000) / 8000) * 12000).astype(np.int16)
    rig.anchor.announce(call_id, "a", 0, prompt)
    got = await listen(caller, 0.4)
    assert len(got) >= 10 and {p[1] & 0x7F for p in got} == {0}
    rig.anchor.close(call_id)


async def test_rtpengine_down_means_the_built_in_relay_never_a_refused_call(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        dead.bind(("127.0.0.1", 0))  # bound, never answers
        relays = RelayManager(PortAllocator(*BUILTIN_PORTS), bind_host="127.0.0.1")
        anchor = HybridAnchor(
            RtpengineAnchor(NgClient("127.0.0.1", dead.getsockname()[1], timeout_s=0.1, first_wait_s=0.02)),
            RelayAnchor(relays),
            lambda _call_id: False,  # nobody records: rtpengine is asked first
        )
        addresses = anchor.open("c1")
        assert addresses is not None and all(in_range(p, *BUILTIN_PORTS) for _, p in addresses)
        assert anchor.owner("c1") == "builtin"
        assert anchor.open("c2") is not None and anchor.owner("c2") == "builtin"  # during the back-off
        anchor.close("c1")
        anchor.close("c2")
        assert set(anchor.finished) == {"c1", "c2"} and len(relays) == 0
        relays.close()


async def test_a_policy_that_cannot_be_read_keeps_the_call_on_the_built_in_relay(
    rtpengine: Rtpengine, tmp_path: Path
) -> None:
    def broken(_call_id: str) -> bool:
        raise RuntimeError("database is down")

    relays = RelayManager(PortAllocator(*BUILTIN_PORTS), bind_host="127.0.0.1")
    anchor = HybridAnchor(rtpengine_anchor(rtpengine.ng, tmp_path), RelayAnchor(relays), broken)
    assert anchor.open("c1") is not None and anchor.owner("c1") == "builtin"
    anchor.close_all()
    relays.close()
