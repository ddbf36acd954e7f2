"""RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1).

Parsing is strict about what RFC 3550 §A.1 calls a valid header (version 2, lengths that fit the
datagram) because the relay and the apps see packets from the open Internet: anything else raises
MediaError and nothing else. Sequence numbers and timestamps are modular; the helpers below give
signed distances so callers never compare them with ``<``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from centrex.media.errors import MediaError

RTP_VERSION = 2
HEADER_SIZE = 12
_HEADER = struct.Struct("!BBHII")
_EXT_HEADER = struct.Struct("!HH")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    # RFC 3550 §5.3.1: 16 bits "defined by profile" and a body that is a whole number of 32-bit words.
    extension: tuple[int, bytes] | None = None
    # Number of padding octets to add when packing (the last one holds the count); 0 = no P bit.
    padding: int = 0
    version: int = field(default=RTP_VERSION, repr=False)

    def pack(self) -> bytes:
        if not 0 <= self.payload_type <= 127:
            raise MediaError(f"payload_type: {self.payload_type} is not 0..127")
        if len(self.csrcs) > 15:
            raise MediaError(f"csrcs: {len(self.csrcs)} entries, the CC field holds at most 15")
        if not 0 <= self.padding <= 255:
            raise MediaError(f"padding: {self.padding} is not 0..255")
        b0 = (RTP_VERSION << 6) | (0x20 if self.padding else 0) | len(self.csrcs)
        if self.extension is not None:
            b0 |= 0x10
        b1 = (0x80 if self.marker else 0) | self.payload_type
        try:
            parts = [_HEADER.pack(b0, b1, self.sequence, self.timestamp, self.ssrc)]
            parts.extend(struct.pack("!I", c) for c in self.csrcs)
            if self.extension is not None:
                profile, body = self.extension
                if len(body) % 4:
                    raise MediaError("extension: body must be a whole number of 32-bit words")
                parts.append(_EXT_HEADER.pack(profile, len(body) // 4))
                parts.append(body)
        except struct.error as exc:
            raise MediaError(f"RTP header field out of range: {exc}") from None
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP datagram; MediaError (only) for anything that is not a valid RTP packet."""
    n = len(data)
    if n < HEADER_SIZE:
        raise MediaError(f"RTP: {n} bytes is shorter than the 12-byte fixed header")
    b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
    if b0 >> 6 != RTP_VERSION:
        raise MediaError(f"RTP version: {b0 >> 6}, expected 2")
    cc = b0 & 0x0F
    pos = HEADER_SIZE + 4 * cc
    if pos > n:
        raise MediaError(f"RTP CSRC count: {cc} CSRCs do not fit in {n} bytes")
    csrcs = struct.unpack_from(f"!{cc}I", data, HEADER_SIZE) if cc else ()
    extension = None
    if b0 & 0x10:
        if pos + 4 > n:
            raise MediaError("RTP extension: header extension does not fit in the packet")
        profile, words = _EXT_HEADER.unpack_from(data, pos)
        end = pos + 4 + 4 * words
        if end > n:
            raise MediaError(f"RTP extension: {words} words do not fit in the packet")
        extension = (profile, bytes(data[pos + 4 : end]))
        pos = end
    end = n
    padding = 0
    if b0 & 0x20:
        padding = data[-1]
        if padding == 0 or pos + padding > n:
            raise MediaError(f"RTP padding: count {padding} is zero or longer than the payload")
        end = n - padding
    return RtpPacket(
        payload_type=b1 & 0x7F,
        sequence=seq,
        timestamp=ts,
        ssrc=ssrc,
        payload=bytes(data[pos:end]),
        marker=bool(b1 & 0x80),
        csrcs=tuple(csrcs),
        extension=extension,
        padding=padding,
    )


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 §4 demultiplexing: RTCP packet types 192..223 land in the RTP marker+PT byte."""
    return len(data) >= 2 and 192 <= data[1] <= 223


def seq_add(seq: int, n: int) -> int:
    return (seq + n) & 0xFFFF


def seq_diff(a: int, b: int) -> int:
    """Signed distance a - b on the 16-bit sequence circle, in -32768..32767."""
    return ((a - b + 0x8000) & 0xFFFF) - 0x8000


def seq_newer(a: int, b: int) -> bool:
    """True when ``a`` comes after ``b`` (across wrap-around)."""
    return seq_diff(a, b) > 0


def ts_add(ts: int, n: int) -> int:
    return (ts + n) & 0xFFFFFFFF


def ts_diff(a: int, b: int) -> int:
    """Signed distance a - b on the 32-bit timestamp circle."""
    return ((a - b + 0x80000000) & 0xFFFFFFFF) - 0x80000000
