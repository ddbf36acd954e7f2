"""RTP and RTCP: round trips, wrap-around arithmetic, statistics, and garbage in."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from centrex.media import rtcp
from centrex.media.errors import MediaError
from centrex.media.rtp import RtpPacket, is_rtcp, parse_rtp, seq_add, seq_diff, seq_newer, ts_add, ts_diff


def test_rtp_round_trip_with_every_header_feature() -> None:
    p = RtpPacket(
        payload_type=0, sequence=65535, timestamp=0xFFFFFFF0, ssrc=0xDEADBEEF, payload=b"\xff" * 160,
        marker=True, csrcs=(1, 2, 3), extension=(0xBEDE, b"\x10\x01\x00\x00"), padding=4,
    )  # fmt: skip
    data = p.pack()
    assert len(data) == 12 + 12 + 8 + 160 + 4
    assert data[0] == 0x80 | 0x20 | 0x10 | 3 and data[1] == 0x80
    assert parse_rtp(data) == p
    plain = RtpPacket(8, 1, 2, 3, b"abc")
    assert parse_rtp(plain.pack()) == plain and len(plain.pack()) == 15


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"\x80\x00", "shorter"),
        (b"\x40" + bytes(11), "version"),
        (b"\x8f" + bytes(11), "CSRC"),
        (b"\x90" + bytes(11), "extension"),
        (b"\x90" + bytes(11) + b"\x00\x00\x00\x05", "extension"),
        (b"\xa0" + bytes(11), "padding"),
        (b"\xa0" + bytes(11) + b"\x00\x09", "padding"),
    ],
)
def test_bad_rtp_says_which_rule(data: bytes, rule: str) -> None:
    with pytest.raises(MediaError, match=rule):
        parse_rtp(data)


def test_sequence_and_timestamp_wrap_around() -> None:
    assert seq_add(65535, 1) == 0 and seq_diff(0, 65535) == 1 and seq_diff(65535, 0) == -1
    assert seq_newer(2, 65530) and not seq_newer(65530, 2)
    assert seq_diff(32767, 0) == 32767 and seq_diff(32768, 0) == -32768
    assert ts_add(0xFFFFFF00, 0x200) == 0x100 and ts_diff(0x100, 0xFFFFFF00) == 0x200
    assert ts_diff(0xFFFFFF00, 0x100) == -0x200


def test_rtcp_compound_round_trip() -> None:
    block = rtcp.ReportBlock(
        7, fraction_lost=25, cumulative_lost=-3, highest_seq=70000, jitter=41, lsr=9, dlsr=8
    )
    packets: list[rtcp.RtcpPacket] = [
        rtcp.SenderReport(1, (3_900_000_000 << 32) | 12345, 160_000, 1000, 160_000, (block,)),
        rtcp.SourceDescription(
            (rtcp.SdesChunk(1, ((rtcp.SDES_CNAME, b"alice@10.0.0.1"),)), rtcp.SdesChunk(2, ()))
        ),
        rtcp.Goodbye((1, 2), b"hang-up"),
    ]
    data = rtcp.build_compound(packets)
    assert len(data) % 4 == 0 and is_rtcp(data)
    assert rtcp.parse_compound(data) == packets
    rr = [rtcp.ReceiverReport(5, (block, block)), rtcp.Goodbye((5,))]
    assert rtcp.parse_compound(rtcp.build_compound(rr)) == rr
    with pytest.raises(MediaError, match="must start"):
        rtcp.build_compound([rtcp.Goodbye((1,))])


def test_rtcp_unknown_types_are_kept_and_bad_lengths_refused() -> None:
    app = rtcp.build_packet(rtcp.RawRtcp(rtcp.APP, 1, b"\x00\x00\x00\x01NAME"))
    rr = rtcp.build_packet(rtcp.ReceiverReport(1))
    assert rtcp.parse_compound(rr + app)[1] == rtcp.RawRtcp(rtcp.APP, 1, b"\x00\x00\x00\x01NAME")
    with pytest.raises(MediaError, match="length"):
        rtcp.parse_compound(rr[:2] + b"\x00\x05" + rr[4:])
    with pytest.raises(MediaError, match="not an RTCP type"):
        rtcp.parse_compound(b"\x80\x10\x00\x00")


def test_reception_stats_loss_and_jitter_rfc3550() -> None:
    s = rtcp.ReceptionStats(clock_rate=8000)
    # 100 packets starting near the wrap; 5 lost; every packet exactly on time -> jitter 0
    for i in range(100):
        if i not in (10, 11, 50, 70, 98):
            s.update(seq_add(65500, i), i * 160, i * 0.020)
    assert s.expected == 100 and s.received == 95 and s.lost == 5
    assert s.jitter == pytest.approx(0, abs=1)
    block = s.report_block(ssrc=9)
    assert block.cumulative_lost == 5 and block.fraction_lost == (5 << 8) // 100
    assert block.highest_seq == 65536 + (65500 + 99) % 65536
    # a constant 10 ms alternation of arrival times converges to |D| = 80 timestamp units
    j = rtcp.ReceptionStats()
    for i in range(400):
        j.update(i, i * 160, i * 0.020 + (0.010 if i % 2 else 0))
    assert j.jitter == pytest.approx(80, rel=0.02) and j.jitter_ms == pytest.approx(10, rel=0.02)


def test_reception_stats_counts_duplicates_as_negative_loss() -> None:
    s = rtcp.ReceptionStats()
    for seq in (1, 2, 2, 3):
        s.update(seq, seq * 160, seq * 0.02)
    assert s.lost == -1 and s.report_block(1).cumulative_lost == -1


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_media_error(data: bytes) -> None:
    for parse in (parse_rtp, rtcp.parse_compound):
        with contextlib.suppress(MediaError):
            parse(data)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([200, 201, 202, 203, 204]), min_size=1, max_size=4), st.binary(max_size=80))
def test_rtcp_shaped_garbage_raises_only_media_error(types: list[int], body: bytes) -> None:
    words = (len(body) // 4).to_bytes(2, "big")
    data = b"".join(bytes([0x80 | (len(body) % 32), t]) + words for t in types) + body
    with contextlib.suppress(MediaError):
        rtcp.parse_compound(data)
