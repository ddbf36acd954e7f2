"""End to end through the switch with rtpengine selected: two SIPp phones, G.711 audio from the
caller and the callee's echo, all through rtpengine's ports (issue #4 point 8); and, wired as
`centrex serve` wires it, a call of a tenant that records is recorded on the built-in relay while
a call of one that records nobody flows through rtpengine; a caller waiting in a queue on
rtpengine hears its position, with the hold music around it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from centrex.adapters.recording import RecordingListener
from centrex.calls.directory import QueueInfo
from centrex.calls.hybrid_anchor import HybridAnchor, recording_tap, select_anchor
from centrex.media.g711 import ulaw_decode
from centrex.media.music import music_pcm
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.ops.demo import DEMO_DOMAIN
from centrex.pbx.queue_model import MemoryQueues, position_phrase
from centrex.pbx.queues import Queues
from centrex.store.db import transaction
from centrex.store.models import Tenant
from centrex.store.models.recordings import CallRecording, RecordingMode, RecordingSettings
from tests.interop.conftest import Server, free_udp_port
from tests.interop.test_interop_media import sipp_echo_callee
from tests.interop.test_interop_pbx import users
from tests.interop.test_interop_queue_announce import prompts, waiting_caller
from tests.interop.test_interop_recording import pcap_speech, rms, stereo

from .conftest import Rtpengine

pytestmark = pytest.mark.interop


async def test_a_call_through_the_switch_flows_through_rtpengine(
    server: Server, rtpengine: Rtpengine, tmp_path: Path
) -> None:
    builtin = RelayManager(PortAllocator(45000, 45099), bind_host="127.0.0.1")
    anchor = select_anchor("rtpengine", rtpengine.ng, tmp_path, builtin)
    assert isinstance(anchor, HybridAnchor)  # nobody records: every call goes to rtpengine
    server.service.engine.media = anchor
    sdp_sent: list[bytes] = []
    network = server.service.engine.network
    send_request, send_response = network.send_request, network.send_response

    def spy_request(*args, **kwargs):  # type: ignore[no-untyped-def]
        msg = next((a for a in args if hasattr(a, "body")), None)
        if msg is not None and msg.body:
            sdp_sent.append(msg.body)
        return send_request(*args, **kwargs)

    def spy_response(*args, **kwargs):  # type: ignore[no-untyped-def]
        msg = next((a for a in args if hasattr(a, "body")), None)
        if msg is not None and msg.body:
            sdp_sent.append(msg.body)
        return send_response(*args, **kwargs)

    network.send_request, network.send_response = spy_request, spy_response  # type: ignore[method-assign]

    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    callee = await sipp_echo_callee(server, "1002", b)
    await asyncio.sleep(0.3)
    caller = await server.sipp("uac_call_rtp.xml", "1001", port=a, callee="1002", timeout_s=15)
    out, _ = await asyncio.wait_for(callee.communicate(), 30)
    assert caller.returncode == 0, caller.output[-3000:]
    assert callee.returncode == 0, out.decode(errors="replace")[-3000:]
    cdr = server.ended[-1]
    assert cdr.disposition == "answered"

    stats = anchor.finished[str(cdr.call_id)]
    ports = {stats["a"].local_port, stats["b"].local_port}
    assert all(rtpengine.port_min <= p <= rtpengine.port_max for p in ports)
    # Both SDPs the switch sent (INVITE to the callee, 200 to the caller) name rtpengine's ports only.
    media_lines = [
        line for body in sdp_sent for line in body.decode().splitlines() if line.startswith("m=audio")
    ]
    assert len(media_lines) >= 2
    assert {int(line.split()[1]) for line in media_lines} == ports
    # The caller's audio reached rtpengine (leg a) and went on to the callee, whose echo came back.
    assert stats["a"].packets_in > 50 and stats["b"].packets_in > 50
    assert stats["a"].packets_out > 50 and stats["b"].packets_out > 50
    assert stats["a"].remote is not None and stats["a"].remote[0] == "127.0.0.1"
    assert len(anchor) == 0  # deleted from rtpengine with the call


async def test_with_rtpengine_selected_a_tenant_that_records_is_recorded_and_one_that_does_not_uses_rtpengine(
    server: Server, rtpengine: Rtpengine, tmp_path: Path
) -> None:
    relays = RelayManager(PortAllocator(45100, 45199), bind_host="127.0.0.1")
    engine = server.service.engine
    recordings = RecordingListener(server.sessions, relays, tmp_path / "data", policy_ttl_s=0)
    # As server.py wires it.
    anchor = select_anchor(
        "rtpengine", rtpengine.ng, tmp_path, relays, recording_tap(engine.calls, recordings.policy)
    )
    engine.media = anchor
    engine.listeners.append(recordings)
    engine.may_record = recordings.may_record
    with server.sessions() as s:
        tenant_id = s.scalars(select(Tenant.id).where(Tenant.sip_domain == DEMO_DOMAIN)).one()

    async def call() -> str:
        a, b = free_udp_port(), free_udp_port()
        await server.register("1001", a)
        await server.register("1002", b)
        callee = await sipp_echo_callee(server, "1002", b)
        await asyncio.sleep(0.3)
        caller = await server.sipp("rec_uac_speech.xml", "1001", port=a, callee="1002", timeout_s=20)
        out, _ = await asyncio.wait_for(callee.communicate(), 30)
        assert caller.returncode == 0, caller.output[-3000:]
        assert callee.returncode == 0, out.decode(errors="replace")[-3000:]
        assert server.ended[-1].disposition == "answered"
        return str(server.ended[-1].call_id)

    def recorded() -> list[CallRecording]:
        assert recordings.drain()
        with server.sessions() as s:
            return list(s.scalars(select(CallRecording)))

    try:
        # The demo tenant records nobody: the call's media goes through rtpengine, nothing recorded.
        plain = await call()
        stats = anchor.finished[plain]
        assert all(rtpengine.port_min <= stats[leg].local_port <= rtpengine.port_max for leg in "ab")
        assert stats["a"].packets_in > 50 and stats["b"].packets_in > 50
        assert recorded() == []

        # Now it records every call: the next call stays on the built-in relay and is recorded.
        with transaction(server.sessions) as s:
            s.add(RecordingSettings(tenant_id=tenant_id, mode=RecordingMode.ALL))
        taped = await call()
        stats = anchor.finished[taped]
        assert all(45100 <= stats[leg].local_port <= 45199 for leg in "ab")
        [rec] = recorded()
        assert rec.call_id == taped and (rec.caller, rec.callee) == ("1001", "1002")
        pcm = stereo(Path(rec.file_path))
        left, right = pcm[:, 0], pcm[:, 1]
        start = int(np.argmax(left != 0))
        speech = pcap_speech()
        heard = min(len(left) - start, len(speech)) - 800  # the last 100 ms may be cut by the BYE
        assert heard > 3 * 8000
        assert np.array_equal(left[start : start + heard], speech[:heard])  # SIPp's speech, exactly
        assert rms(right) > 500  # and the callee's echo of it
        assert len(anchor) == 0 and len(anchor.rtpengine) == 0 and len(relays) == 0
    finally:
        recordings.close()
        relays.close()


class Ear(asyncio.DatagramProtocol):
    """A waiting caller's RTP port: every packet with where it came from."""

    def __init__(self) -> None:
        self.packets: list[tuple[bytes, tuple[str, int]]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append((data, addr))


async def test_with_rtpengine_selected_a_waiting_caller_hears_its_queue_position_and_the_music(
    server: Server, rtpengine: Rtpengine, tmp_path: Path
) -> None:
    tenant, _ = users(server)
    relays = RelayManager(PortAllocator(45200, 45299), bind_host="127.0.0.1")
    engine = server.service.engine
    anchor = select_anchor("rtpengine", rtpengine.ng, tmp_path, relays, lambda _call_id: False)
    engine.media = anchor
    library = prompts()
    engine.service(Queues).prompt_audio = library.phrase
    queues = MemoryQueues()
    q = QueueInfo(uuid.uuid4(), tenant, "Support", "3000", max_wait_s=60, announce_position_s=4)
    queues.queues[q.id] = q
    engine.service(Queues).store = queues
    loop = asyncio.get_running_loop()
    transport, ear = await loop.create_datagram_endpoint(Ear, local_addr=("127.0.0.1", 0))
    a = free_udp_port()
    await server.register("1001", a)
    try:
        scenario = waiting_caller(tmp_path, transport.get_extra_info("sockname")[1], 7000)
        result = await server.sipp(scenario, "1001", port=a, callee="3000", timeout_s=20)
        assert result.returncode == 0, result.output[-3000:]
    finally:
        transport.close()
        relays.close()
    assert [e.kind for e in queues.events] == ["entered", "abandoned"]
    assert len(anchor) == 0 and isinstance(anchor, HybridAnchor)
    # Everything the caller heard came from rtpengine's ports.
    assert {addr[0] for _, addr in ear.packets} == {"127.0.0.1"}
    assert all(rtpengine.port_min <= addr[1] <= rtpengine.port_max for _, addr in ear.packets)
    # rtpengine encodes the WAV itself: its G.711 differs from ours by a quantisation step here
    # and there, so the audio is found by correlation, at 20 ms frame boundaries (rtpengine's).
    heard = np.concatenate([ulaw_decode(p[12:]) for p, _ in ear.packets]).astype(np.float64)
    prompt = library.phrase(position_phrase(1)).astype(np.float64)
    music = music_pcm()[:2400].astype(np.float64)  # 0.3 s

    def found(ref: npt.NDArray[np.float64], frames: range) -> list[int]:
        return [f for f in frames if f * 160 + len(ref) <= len(heard) and similar(heard[f * 160 :], ref)]

    # "You are caller number one" on entry (~1 s after the answer) and again 4 s later.
    said = found(prompt, range(len(heard) // 160))
    assert len(said) == 2, said
    assert 150 < said[1] - said[0] < 250  # ~4 s of 20 ms frames
    # The hold music before the first prompt, and again (from its start: rtpengine's player does
    # not resume) right after each prompt.
    assert found(music, range(0, 5))
    for start in said:
        end = start + len(prompt) // 160
        assert found(music, range(end, end + 5)), start


def similar(x: npt.NDArray[np.float64], ref: npt.NDArray[np.float64]) -> bool:
    x = x[: len(ref)]
    return float(np.dot(x, ref)) > 0.99 * float(np.linalg.norm(x) * np.linalg.norm(ref))
