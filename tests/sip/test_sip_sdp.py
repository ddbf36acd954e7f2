from __future__ import annotations

import pytest

from centrex.sip.errors import SipParseError
from centrex.sip.sdp import (
    build_offer,
    hold_offer,
    is_on_hold,
    negotiate_answer,
    parse_sdp,
    resume_offer,
    rewrite_connection,
)

OFFER = (
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "i=a call\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 9 8 0 96 101\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:30\r\n"
    "a=sendonly\r\n"
    "m=video 51372 RTP/AVP 31\r\n"
    "a=rtpmap:31 H261/90000\r\n"
)


def test_parse_fields_and_emit_round_trip() -> None:
    sd = parse_sdp(OFFER)
    assert sd.origin.username == "alice" and sd.origin.session_version == 2890844526
    assert sd.connection is not None and sd.connection.address == "192.0.2.10"
    audio, video = sd.media
    assert (audio.media, audio.port, audio.proto, audio.formats) == (
        "audio",
        49170,
        "RTP/AVP",
        ["9", "8", "0", "96", "101"],
    )
    assert audio.rtpmap["96"] == "opus/48000/2" and audio.fmtp == {"101": "0-15"}
    assert audio.ptime == 30 and audio.direction == "sendonly"
    assert sd.media_direction(video) == "sendrecv"
    assert str(sd) == OFFER
    assert str(parse_sdp(str(sd).encode())) == OFFER


def test_answer_keeps_offer_payload_numbers_and_mirrors_direction() -> None:
    answer = negotiate_answer(parse_sdp(OFFER), "198.51.100.1", 20000)
    audio, video = answer.media
    assert audio.formats == ["8", "0", "101"]
    assert audio.rtpmap == {"8": "PCMA/8000", "0": "PCMU/8000", "101": "telephone-event/8000"}
    assert audio.fmtp == {"101": "0-15"}
    assert audio.direction == "recvonly"  # the offer was sendonly
    assert audio.port == 20000 and audio.ptime == 30
    assert video.port == 0  # rejected, but still present in the same position (RFC 3264 §6)
    assert answer.connection is not None and answer.connection.address == "198.51.100.1"
    parse_sdp(str(answer))


def test_dynamic_telephone_event_with_another_number() -> None:
    offer = build_offer("192.0.2.1", 4000, dynamic_base=97)
    assert offer.media[0].rtpmap["97"] == "telephone-event/8000"
    answer = negotiate_answer(offer, "198.51.100.1", 5000)
    assert answer.media[0].formats == ["0", "8", "97"]


def test_no_common_codec_rejects_stream() -> None:
    offer = parse_sdp(OFFER.replace(" 9 8 0 96 101", " 9 96 101"))
    answer = negotiate_answer(offer, "198.51.100.1", 20000)
    assert answer.media[0].port == 0
    assert all(m.port == 0 for m in answer.media)


def test_static_payload_without_rtpmap_is_understood() -> None:
    offer = parse_sdp(
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 1000 RTP/AVP 0\r\n"
    )
    answer = negotiate_answer(offer, "198.51.100.1", 2000)
    assert answer.media[0].formats == ["0"] and answer.media[0].direction == "sendrecv"


def test_hold_detection_and_resume() -> None:
    active = build_offer("192.0.2.1", 4000)
    assert not is_on_hold(active)
    held = hold_offer(active)
    assert is_on_hold(held) and held.media[0].direction == "sendonly"
    assert held.origin.session_version == active.origin.session_version + 1
    resumed = resume_offer(held)
    assert not is_on_hold(resumed) and resumed.media[0].direction == "sendrecv"
    old_style = parse_sdp(str(active).replace("c=IN IP4 192.0.2.1", "c=IN IP4 0.0.0.0"))
    assert is_on_hold(old_style)
    inactive = parse_sdp(str(active).replace("a=sendrecv", "a=inactive"))
    assert is_on_hold(inactive)


def test_rewrite_connection_for_anchoring() -> None:
    sd = parse_sdp(OFFER)
    out = rewrite_connection(sd, "203.0.113.7", [30000, 30002])
    assert out.connection is not None and out.connection.address == "203.0.113.7"
    assert out.origin.address == "203.0.113.7"
    assert [m.port for m in out.media] == [30000, 30002]
    assert sd.media[0].port == 49170  # the original is untouched
    assert "i=a call" in str(out)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        "v=0\r\ns=-\r\n",
        "v=zero\r\no=- 1 1 IN IP4 h\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\nm=audio x RTP/AVP 0\r\n",
        "v=0\r\no=-\r\n",
    ],
)
def test_bad_sdp(bad: str) -> None:
    with pytest.raises(SipParseError):
        parse_sdp(bad)
