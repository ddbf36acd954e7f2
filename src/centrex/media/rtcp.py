"""RTCP compound packets (RFC 3550 §6.4-6.6) and the receiver statistics behind report blocks.

``parse_compound`` accepts what RFC 3550 §A.2 calls a valid compound packet: every part version 2,
lengths that add up exactly to the datagram, padding only on the last part. Packet types it does not
model (APP, RTPFB, PSFB, XR) come back as ``RawRtcp`` so a relay can forward and count them.
``ReceptionStats`` is the sequence bookkeeping of §A.1, the loss arithmetic of §A.3 and the
interarrival jitter of §A.8.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from centrex.media.errors import MediaError

SR, RR, SDES, BYE, APP = 200, 201, 202, 203, 204
SDES_CNAME, SDES_NAME, SDES_TOOL = 1, 2, 6
_HDR = struct.Struct("!BBH")
_BLOCK = struct.Struct("!IIIIII")
_SENDER_INFO = struct.Struct("!IIIII")


@dataclass(frozen=True, slots=True)
class ReportBlock:
    ssrc: int
    fraction_lost: int  # 0..255, lost/expected since the last report, as a fixed-point fraction
    cumulative_lost: int  # signed 24-bit: duplicates can make it negative (§6.4.1)
    highest_seq: int  # extended highest sequence number received
    jitter: int  # interarrival jitter in timestamp units
    lsr: int = 0
    dlsr: int = 0

    def pack(self) -> bytes:
        if not 0 <= self.fraction_lost <= 255:
            raise MediaError(f"fraction_lost: {self.fraction_lost} is not 0..255")
        lost = max(-0x800000, min(0x7FFFFF, self.cumulative_lost)) & 0xFFFFFF
        try:
            fl = (self.fraction_lost << 24) | lost
            return _BLOCK.pack(self.ssrc, fl, self.highest_seq, self.jitter, self.lsr, self.dlsr)
        except struct.error as exc:
            raise MediaError(f"report block field out of range: {exc}") from None

    @classmethod
    def unpack(cls, data: bytes, pos: int) -> ReportBlock:
        ssrc, fl, hs, jit, lsr, dlsr = _BLOCK.unpack_from(data, pos)
        lost = fl & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, fl >> 24, lost, hs, jit, lsr, dlsr)


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_timestamp: int  # 64-bit NTP format: seconds since 1900 << 32 | fraction
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    ssrc: int
    reports: tuple[ReportBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class SdesChunk:
    ssrc: int
    items: tuple[tuple[int, bytes], ...]  # (item type, text), e.g. (SDES_CNAME, b"user@host")


@dataclass(frozen=True, slots=True)
class SourceDescription:
    chunks: tuple[SdesChunk, ...]


@dataclass(frozen=True, slots=True)
class Goodbye:
    ssrcs: tuple[int, ...]
    reason: bytes = b""


@dataclass(frozen=True, slots=True)
class RawRtcp:
    packet_type: int
    count: int  # the 5-bit RC/SC/subtype field
    body: bytes


RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | RawRtcp


def _pad4(b: bytes) -> bytes:
    return b + bytes(-len(b) % 4)


def _header(pt: int, count: int, body: bytes) -> bytes:
    if count > 31:
        raise MediaError(f"RTCP count: {count} items, the field holds at most 31")
    if len(body) % 4:
        raise MediaError("RTCP body must be a whole number of 32-bit words")
    return _HDR.pack(0x80 | count, pt, len(body) // 4) + body


def build_packet(p: RtcpPacket) -> bytes:
    try:
        if isinstance(p, SenderReport):
            ntp_hi, ntp_lo = p.ntp_timestamp >> 32, p.ntp_timestamp & 0xFFFFFFFF
            info = _SENDER_INFO.pack(ntp_hi, ntp_lo, p.rtp_timestamp, p.packet_count, p.octet_count)
            body = struct.pack("!I", p.ssrc) + info + b"".join(r.pack() for r in p.reports)
            return _header(SR, len(p.reports), body)
        if isinstance(p, ReceiverReport):
            body = struct.pack("!I", p.ssrc) + b"".join(r.pack() for r in p.reports)
            return _header(RR, len(p.reports), body)
        if isinstance(p, SourceDescription):
            chunks = []
            for c in p.chunks:
                if any(not 0 < t <= 255 or len(v) > 255 for t, v in c.items):
                    raise MediaError(f"SDES item: type must be 1..255 and text at most 255 bytes in {c}")
                items = b"".join(bytes([t, len(v)]) + v for t, v in c.items)
                # A chunk ends with at least one null octet, then pads to a 32-bit boundary (§6.5).
                chunks.append(_pad4(struct.pack("!I", c.ssrc) + items + b"\x00"))
            return _header(SDES, len(p.chunks), b"".join(chunks))
        if isinstance(p, Goodbye):
            body = b"".join(struct.pack("!I", s) for s in p.ssrcs)
            if p.reason:
                if len(p.reason) > 255:
                    raise MediaError("BYE reason: longer than 255 bytes")
                body += _pad4(bytes([len(p.reason)]) + p.reason)
            return _header(BYE, len(p.ssrcs), body)
        return _header(p.packet_type, p.count, p.body)
    except struct.error as exc:
        raise MediaError(f"RTCP field out of range: {exc}") from None


def build_compound(packets: list[RtcpPacket] | tuple[RtcpPacket, ...]) -> bytes:
    """Concatenate; RFC 3550 §6.1 wants an SR or RR first, so refuse anything else."""
    if not packets or not isinstance(packets[0], SenderReport | ReceiverReport):
        raise MediaError("RTCP compound: must start with a sender or receiver report")
    return b"".join(build_packet(p) for p in packets)


def parse_compound(data: bytes) -> list[RtcpPacket]:
    """Parse a compound RTCP datagram; MediaError (only) for anything invalid."""
    out: list[RtcpPacket] = []
    pos, n = 0, len(data)
    if n < 4:
        raise MediaError(f"RTCP: {n} bytes is shorter than one header")
    while pos < n:
        if pos + 4 > n:
            raise MediaError("RTCP: trailing bytes shorter than a header")
        b0, pt, words = _HDR.unpack_from(data, pos)
        if b0 >> 6 != 2:
            raise MediaError(f"RTCP version: {b0 >> 6}, expected 2")
        end = pos + 4 + 4 * words
        if end > n:
            raise MediaError(f"RTCP length: packet type {pt} claims {words} words past the datagram")
        body_end = end
        if b0 & 0x20:
            if end != n:
                raise MediaError("RTCP padding: only the last packet of a compound may be padded")
            pad = data[end - 1]
            if pad == 0 or pad > 4 * words:
                raise MediaError(f"RTCP padding: count {pad} is zero or longer than the packet")
            body_end = end - pad
        out.append(_parse_one(pt, b0 & 0x1F, bytes(data[pos + 4 : body_end])))
        pos = end
    return out


def _blocks(body: bytes, start: int, count: int) -> tuple[ReportBlock, ...]:
    if start + 24 * count > len(body):
        raise MediaError(f"RTCP report: {count} report blocks do not fit")
    return tuple(ReportBlock.unpack(body, start + 24 * i) for i in range(count))


def _parse_one(pt: int, count: int, body: bytes) -> RtcpPacket:
    if pt == SR:
        if len(body) < 24:
            raise MediaError("RTCP SR: shorter than SSRC + sender info")
        ssrc = struct.unpack_from("!I", body)[0]
        hi, lo, rtp_ts, pc, oc = _SENDER_INFO.unpack_from(body, 4)
        return SenderReport(ssrc, (hi << 32) | lo, rtp_ts, pc, oc, _blocks(body, 24, count))
    if pt == RR:
        if len(body) < 4:
            raise MediaError("RTCP RR: shorter than its SSRC")
        return ReceiverReport(struct.unpack_from("!I", body)[0], _blocks(body, 4, count))
    if pt == SDES:
        return SourceDescription(_parse_sdes(body, count))
    if pt == BYE:
        if 4 * count > len(body):
            raise MediaError(f"RTCP BYE: {count} SSRCs do not fit")
        ssrcs = struct.unpack_from(f"!{count}I", body)
        reason = b""
        rest = body[4 * count :]
        if rest:
            ln = rest[0]
            if 1 + ln > len(rest):
                raise MediaError("RTCP BYE: reason length past the packet")
            reason = rest[1 : 1 + ln]
        return Goodbye(tuple(ssrcs), reason)
    if not 192 <= pt <= 223:
        raise MediaError(f"RTCP packet type: {pt} is not an RTCP type (192..223)")
    return RawRtcp(pt, count, body)


def _parse_sdes(body: bytes, count: int) -> tuple[SdesChunk, ...]:
    chunks = []
    pos = 0
    for _ in range(count):
        if pos + 4 > len(body):
            raise MediaError("RTCP SDES: chunk SSRC past the packet")
        ssrc = struct.unpack_from("!I", body, pos)[0]
        pos += 4
        items = []
        while True:
            if pos >= len(body):
                raise MediaError("RTCP SDES: chunk not terminated by a null item")
            t = body[pos]
            if t == 0:
                pos += 1
                pos += -pos % 4  # skip to the next 32-bit boundary
                break
            if pos + 2 > len(body) or pos + 2 + body[pos + 1] > len(body):
                raise MediaError(f"RTCP SDES: item type {t} runs past the packet")
            ln = body[pos + 1]
            items.append((t, body[pos + 2 : pos + 2 + ln]))
            pos += 2 + ln
        chunks.append(SdesChunk(ssrc, tuple(items)))
    return tuple(chunks)


MAX_DROPOUT = 3000
MAX_MISORDER = 100
RTP_SEQ_MOD = 1 << 16


class ReceptionStats:
    """Per-source receiver state: RFC 3550 §A.1 sequence tracking, §A.3 loss, §A.8 jitter."""

    __slots__ = (
        "bad_seq",
        "base_seq",
        "clock_rate",
        "cycles",
        "expected_prior",
        "jitter",
        "max_seq",
        "received",
        "received_prior",
        "started",
        "transit",
    )

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self.started = False
        self.max_seq = self.cycles = self.base_seq = 0
        self.bad_seq = RTP_SEQ_MOD + 1
        self.received = self.received_prior = self.expected_prior = 0
        self.jitter = 0.0  # timestamp units, kept unscaled as a float
        self.transit: int | None = None

    def _init_seq(self, seq: int) -> None:
        self.base_seq = self.max_seq = seq
        self.bad_seq = RTP_SEQ_MOD + 1
        self.cycles = 0
        self.received = self.received_prior = self.expected_prior = 0

    def update(self, seq: int, rtp_ts: int, arrival: float) -> bool:
        """Count one packet (``arrival`` in seconds on any steady clock); False if it was discarded.

        Probation (§A.1 ``probation``) is left out: the relay has latched the source already.
        """
        if not self.started:
            self.started = True
            self._init_seq(seq)
            self.max_seq = seq
        else:
            udelta = (seq - self.max_seq) & 0xFFFF
            if udelta < MAX_DROPOUT:
                if seq < self.max_seq:
                    self.cycles += RTP_SEQ_MOD  # wrapped
                self.max_seq = seq
            elif udelta <= RTP_SEQ_MOD - MAX_MISORDER:
                # A very large jump: restart only if two sequential packets confirm it (§A.1).
                if seq == self.bad_seq:
                    self._init_seq(seq)
                else:
                    self.bad_seq = (seq + 1) & 0xFFFF
                    return False
            # else: duplicate or reordered packet, counted below
        self.received += 1
        # §A.8: transit = arrival in timestamp units - RTP timestamp; J += (|D| - J) / 16.
        transit = int(arrival * self.clock_rate) - rtp_ts
        if self.transit is not None:
            d = transit - self.transit
            d = ((d + 0x80000000) & 0xFFFFFFFF) - 0x80000000
            self.jitter += (abs(d) - self.jitter) / 16.0
        self.transit = transit
        return True

    @property
    def extended_max(self) -> int:
        return self.cycles + self.max_seq

    @property
    def expected(self) -> int:
        return self.extended_max - self.base_seq + 1 if self.started else 0

    @property
    def lost(self) -> int:
        """Cumulative lost (§A.3): expected - received; negative when duplicates arrived."""
        return self.expected - self.received

    @property
    def jitter_ms(self) -> float:
        return 1000.0 * self.jitter / self.clock_rate

    def report_block(self, ssrc: int, lsr: int = 0, dlsr: int = 0) -> ReportBlock:
        """A report block for ``ssrc`` covering the interval since the previous call (§A.3)."""
        expected = self.expected
        expected_interval = expected - self.expected_prior
        received_interval = self.received - self.received_prior
        self.expected_prior, self.received_prior = expected, self.received
        lost_interval = expected_interval - received_interval
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = (lost_interval << 8) // expected_interval
        return ReportBlock(
            ssrc, min(fraction, 255), self.lost, self.extended_max & 0xFFFFFFFF, int(self.jitter), lsr, dlsr
        )
