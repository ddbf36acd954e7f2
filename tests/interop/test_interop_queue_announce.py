"""Queue position announcements over real RTP (issue #4 point 4): two SIPp callers wait in a queue
with nobody logged in; the RTP the relay sends each of them (to a UDP socket of this test, named in
the caller's SDP) is hold music with "You are caller number one" / "... two" in it, once on entry
and again every ``announce_position_s``, the music pausing for it and going on where it stopped.

The prompt audio is the project's own: spoken by espeak-ng (apps/prompts.py render_espeak) when it
is installed, the tone stand-ins otherwise; the test finds it in the stream byte for byte."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from pathlib import Path

import numpy as np
import pytest

from centrex.apps.phrases import TEXTS
from centrex.apps.prompts import PromptLibrary, espeak_binary, render_espeak
from centrex.calls.directory import QueueInfo
from centrex.calls.media import RelayAnchor
from centrex.media.g711 import Pcm
from centrex.media.music import FRAME, g711_frames, music_pcm
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.pbx.queue_model import MemoryQueues, position_phrase
from centrex.pbx.queues import Queues

from .conftest import SCENARIOS, Server, free_udp_port
from .test_interop_pbx import users

pytestmark = pytest.mark.interop

INTERVAL_S = 4
PCMU = 0


def prompts() -> PromptLibrary:
    """The phrases the queue says, spoken by espeak-ng when it is here (as `centrex serve` would
    render them at first start), else the tone stand-ins."""
    library = PromptLibrary(None, "tones")
    binary = espeak_binary()
    if binary is not None:
        for key in {k for n in (1, 2) for k in position_phrase(n)}:
            library._cache[key] = render_espeak(TEXTS[key], binary)
    return library


def waiting_caller(tmp_path: Path, audio_port: int, wait_ms: int) -> str:
    """uac_call_rtp.xml with the caller's audio at our socket, no audio of its own, and a wait."""
    text = (SCENARIOS / "uac_call_rtp.xml").read_text()
    text = text.replace("c=IN IP[media_ip_type] [media_ip]", "c=IN IP4 127.0.0.1")
    text = text.replace(
        "m=audio [media_port] RTP/AVP 8\n      a=rtpmap:8 PCMA/8000",
        f"m=audio {audio_port} RTP/AVP 0\n      a=rtpmap:0 PCMU/8000",
    )
    text = text.replace(
        '<exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/>', '<log message="waiting"/>'
    )
    text = text.replace('<pause milliseconds="2000"/>', f'<pause milliseconds="{wait_ms}"/>')
    assert f"m=audio {audio_port}" in text and "play_pcap" not in text
    path = tmp_path / f"queue_caller_{audio_port}.xml"
    path.write_text(text)
    return str(path)


class Ear(asyncio.DatagramProtocol):
    """A phone's RTP port: every packet with the time it arrived."""

    def __init__(self) -> None:
        self.packets: list[tuple[float, bytes]] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append((asyncio.get_running_loop().time(), data))


def heard(ear: Ear, prompt: list[bytes]) -> list[float]:
    """When each complete copy of ``prompt`` (G.711 frames) began in what the ear received; the
    stream is one source (one SSRC) throughout, music and prompts alike."""
    assert len({p[8:12] for _, p in ear.packets}) == 1
    payloads = [p[12:] for _, p in ear.packets]
    starts = []
    for i in range(len(payloads) - len(prompt) + 1):
        if payloads[i] == prompt[0] and payloads[i : i + len(prompt)] == prompt:
            starts.append(ear.packets[i][0])
    return starts


def music_resumes_where_it_paused(ear: Ear, prompt: list[bytes], n: int = 5) -> int:
    """How many announcements the music went on from where it paused: the ``n`` music frames
    before an announcement's silence and the ``n`` after it are consecutive frames of the loop."""
    music = g711_frames(music_pcm(), PCMU)
    loop = b"".join(music + music)
    silence = g711_frames(np.zeros(FRAME, dtype=np.int16), PCMU)[0]
    payloads = [p[12:] for _, p in ear.packets]
    resumed = 0
    for i in range(len(payloads) - len(prompt) + 1):
        if payloads[i : i + len(prompt)] != prompt:
            continue
        j = i
        while j > 0 and payloads[j - 1] == silence:
            j -= 1
        k = i + len(prompt)
        while k < len(payloads) and payloads[k] == silence:
            k += 1
        around = payloads[j - n : j] + payloads[k : k + n]
        if j >= n and k + n <= len(payloads) and b"".join(around) in loop:
            resumed += 1
    return resumed


async def test_waiting_callers_hear_their_position_over_the_music_every_interval(
    server: Server, tmp_path: Path
) -> None:
    tenant, _ = users(server)
    anchor = RelayAnchor(RelayManager(PortAllocator(41000, 41999), bind_host="127.0.0.1"))
    engine = server.service.engine
    engine.media = anchor
    library = prompts()
    engine.service(Queues).prompt_audio = library.phrase
    queues = MemoryQueues()
    q = QueueInfo(uuid.uuid4(), tenant, "Support", "3000", max_wait_s=60, announce_position_s=INTERVAL_S)
    queues.queues[q.id] = q
    engine.service(Queues).store = queues
    loop = asyncio.get_running_loop()
    ears: list[Ear] = []
    transports = []
    for _ in range(2):
        transport, ear = await loop.create_datagram_endpoint(Ear, local_addr=("127.0.0.1", 0))
        transports.append(transport)
        ears.append(ear)
    a, b = free_udp_port(), free_udp_port()
    await server.register("1001", a)
    await server.register("1002", b)
    try:
        t0 = loop.time()
        first = asyncio.create_task(
            server.sipp(
                waiting_caller(tmp_path, transports[0].get_extra_info("sockname")[1], 12000),
                "1001",
                port=a,
                callee="3000",
                timeout_s=20,
            )
        )
        await asyncio.sleep(2.0)
        second = await server.sipp(
            waiting_caller(tmp_path, transports[1].get_extra_info("sockname")[1], 8000),
            "1002",
            port=b,
            callee="3000",
            timeout_s=20,
        )
        assert second.returncode == 0, second.output[-3000:]
        result = await first
        assert result.returncode == 0, result.output[-3000:]
    finally:
        for transport in transports:
            transport.close()
    assert [e.kind for e in queues.events] == ["entered", "entered", "abandoned", "abandoned"]

    one = g711_frames(_announced(library, 1), PCMU)
    two = g711_frames(_announced(library, 2), PCMU)
    # The first caller: "one" on entry (about 1 s after its answer) and every 4 s, never "two".
    said = heard(ears[0], one)
    assert len(said) == 3, said
    assert said[0] - t0 < 3.0
    assert all(abs((y - x) - INTERVAL_S) < 0.5 for x, y in itertools.pairwise(said)), said
    assert heard(ears[1], one) == []  # it left while still behind the first
    # The second caller, behind it: "two", twice in its 8 s.
    said2 = heard(ears[1], two)
    assert len(said2) == 2 and abs((said2[1] - said2[0]) - INTERVAL_S) < 0.5, said2
    assert heard(ears[0], two) == []
    # Music around the prompts, picking up where it paused.
    assert music_resumes_where_it_paused(ears[0], one) == 3
    assert len(ears[0].packets) > 400  # 12 s of 20 ms packets, music and prompts


def _announced(library: PromptLibrary, position: int) -> Pcm:
    """The prompt audio alone (the 300 ms of silence around it is not part of the match)."""
    return library.phrase(position_phrase(position))
