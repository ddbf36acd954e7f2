"""The recording tap on a real relay over loopback UDP: what each phone sends is recorded on its
channel while the relay keeps forwarding it; a relay that closes finishes the file; the feature
code keyed on one leg is seen."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from centrex.media.dtmf import encode_digits
from centrex.media.errors import MediaError
from centrex.media.g711 import alaw_decode, alaw_encode, ulaw_encode
from centrex.media.ports import PortAllocator
from centrex.media.recorder import FeatureCodeWatch
from centrex.media.relay import RelayManager
from centrex.media.rtp import RtpPacket
from centrex.media.tones import sine
from tests.media.test_relay import free_range, phone

from .test_recorder import read_stereo


async def send_audio(
    transport: asyncio.DatagramTransport, port: int, pt: int, ssrc: int, seconds: float
) -> None:
    encode = alaw_encode if pt == 8 else ulaw_encode
    audio = sine(440 if pt == 8 else 1000, seconds * 1000)
    for k in range(len(audio) // 160):
        payload = encode(audio[k * 160 : (k + 1) * 160])
        transport.sendto(RtpPacket(pt, k, 160 * k, ssrc, payload).pack(), ("127.0.0.1", port))
        await asyncio.sleep(0.02)


async def test_both_phones_are_recorded_while_the_relay_forwards(tmp_path: Path) -> None:
    mgr = RelayManager(PortAllocator(*free_range(4)), bind_host="127.0.0.1")
    relay = await mgr.create("c1")
    pa_port, pb_port = mgr.sdp_address("c1", "a").port, mgr.sdp_address("c1", "b").port
    ta, pa = await phone()
    tb, pb = await phone()
    try:
        mgr.set_remote("c1", "a", *ta.get_extra_info("sockname"))
        mgr.set_remote("c1", "b", *tb.get_extra_info("sockname"))
        rec = relay.start_recording(tmp_path / "r" / "c1.wav", flush_every_s=0.2)
        with pytest.raises(MediaError, match="already being recorded"):
            relay.start_recording(tmp_path / "other.wav")
        await asyncio.gather(send_audio(ta, pa_port, 8, 0xA, 1.0), send_audio(tb, pb_port, 0, 0xB, 1.0))
        await asyncio.sleep(0.1)
        result = relay.stop_recording()
        assert result is not None and result is rec.result
        assert relay.stop_recording() is None
        # forwarding went on as before
        assert relay.stats("a").packets_out == 50 and relay.stats("b").packets_out == 50
        assert pa.got.qsize() == 50 and pb.got.qsize() == 50
        pcm = read_stereo(tmp_path / "r" / "c1.wav")
        assert abs(result.duration_ms - 1100) < 150 and len(pcm) == result.frames
        for ch, freq in ((0, 440), (1, 1000)):
            x = pcm[:, ch].astype(np.float64)
            spectrum = np.abs(np.fft.rfft(x))
            assert abs(np.fft.rfftfreq(len(x), 1 / 8000)[np.argmax(spectrum)] - freq) < 5
            assert np.sqrt(np.mean(x**2)) > 1000
        # the caller's samples are exactly what it sent (no transcoding on the way)
        left = pcm[:, 0]
        start = int(np.argmax(left != 0))
        expected = alaw_decode(alaw_encode(sine(440, 1000)))
        assert np.array_equal(left[start : start + 8000], expected[: min(8000, len(left) - start)])
    finally:
        ta.close()
        tb.close()
        mgr.close()


async def test_a_relay_that_closes_finishes_its_recording(tmp_path: Path) -> None:
    mgr = RelayManager(PortAllocator(*free_range(4)), bind_host="127.0.0.1")
    relay = await mgr.create("c2")
    ta, _ = await phone()
    try:
        rec = relay.start_recording(tmp_path / "c2.wav")
        await send_audio(ta, mgr.sdp_address("c2", "a").port, 8, 1, 0.3)
        mgr.destroy("c2")  # hang-up (or the idle timer)
        assert rec.closed and rec.result is not None and rec.result.packets == 15
        assert len(read_stereo(tmp_path / "c2.wav")) == rec.result.frames >= 0.3 * 8000
        with pytest.raises(MediaError, match="closed"):
            relay.start_recording(tmp_path / "late.wav")
    finally:
        ta.close()


async def test_the_feature_code_keyed_on_a_leg_is_seen(tmp_path: Path) -> None:
    mgr = RelayManager(PortAllocator(*free_range(4)), bind_host="127.0.0.1")
    relay = await mgr.create("c3")
    ta, _ = await phone()
    tb, _ = await phone()
    hits: list[str] = []
    try:
        relay.watch("a", FeatureCodeWatch("*1", lambda now: hits.append("a")))
        relay.watch("b", FeatureCodeWatch("*1", lambda now: hits.append("b")))
        # recording and watching at once: both taps see the packets
        relay.start_recording(tmp_path / "c3.wav")
        for p in encode_digits("*1", sequence=1, timestamp=1000, ssrc=5):
            ta.sendto(p.pack(), ("127.0.0.1", mgr.sdp_address("c3", "a").port))
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        assert hits == ["a"]
        relay.watch("a", None)
        for p in encode_digits("*1", sequence=50, timestamp=9000, ssrc=5):
            ta.sendto(p.pack(), ("127.0.0.1", mgr.sdp_address("c3", "a").port))
        await asyncio.sleep(0.1)
        assert hits == ["a"]
        result = relay.stop_recording()
        assert result is not None and result.undecodable > 0
    finally:
        ta.close()
        tb.close()
        mgr.close()
