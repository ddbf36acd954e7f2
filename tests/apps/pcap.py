"""RTP audio for SIPp to send (``<exec play_pcap_audio=...>``): pcap files written by hand.

A classic pcap (magic a1b2c3d4, link type 1 Ethernet) of IPv4/UDP datagrams carrying RTP; SIPp
replays each packet's UDP payload to the media address of the far end's SDP, on the pcap's own
timing. Audio is G.711 µ-law (payload type 0) from media/g711.py, key presses are RFC 4733 events
(payload type 101) from media/dtmf.py.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from centrex.media.dtmf import encode_digit
from centrex.media.g711 import ulaw_encode
from centrex.media.rtp import RtpPacket
from centrex.media.tones import sine

FRAME = 160


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(payload: bytes, sport: int, dport: int) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    src = dst = bytes([127, 0, 0, 1])
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    eth = b"\0" * 12 + b"\x08\x00"
    return eth + ip + udp


@dataclass
class RtpScript:
    """RTP packets on a timeline: tones (µ-law) and RFC 4733 key presses, one SSRC, ordered."""

    ssrc: int = 0x1234ABCD
    packets: list[tuple[float, RtpPacket]] = field(default_factory=list)
    _seq: int = 1000

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFF
        return self._seq

    def tone(self, at: float, seconds: float, freq: float = 1000.0, level_dbm0: float = -10.0) -> RtpScript:
        pcm = sine(freq, seconds * 1000, level_dbm0)
        for i in range(len(pcm) // FRAME):
            t = at + i * 0.02
            ts = round(t * 8000)
            payload = ulaw_encode(pcm[i * FRAME : (i + 1) * FRAME])
            self.packets.append((t, RtpPacket(0, 0, ts, self.ssrc, payload, marker=i == 0)))
        return self

    def digits(self, at: float, keys: str, spacing: float = 0.5) -> RtpScript:
        for n, key in enumerate(keys):
            start = at + n * spacing
            ts = round(start * 8000)
            for i, p in enumerate(encode_digit(key, sequence=0, timestamp=ts, ssrc=self.ssrc)):
                self.packets.append((start + 0.02 * i, p))
        return self

    def write(self, path: Path, sport: int = 40000, dport: int = 6000) -> Path:
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
        for t, packet in sorted(self.packets, key=lambda tp: tp[0]):
            p = RtpPacket(
                packet.payload_type,
                self._next_seq(),
                packet.timestamp,
                packet.ssrc,
                packet.payload,
                packet.marker,
            )
            frame = _frame(p.pack(), sport, dport)
            sec = int(t)
            usec = round((t - sec) * 1e6)
            out.append(struct.pack("<IIII", sec + 1_700_000_000, usec, len(frame), len(frame)) + frame)
        path.write_bytes(b"".join(out))
        return path


def dominant_hz(samples: np.ndarray, rate: int = 8000) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))
