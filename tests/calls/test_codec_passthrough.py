"""G.722 and Opus through the call engine (issue 17 §4): offered to the callee as the caller offered
them when nothing on the call decodes; G.711 only when the call may be recorded; a hold re-INVITE
reduced to G.711 so the held phone can play the relay's music."""

from __future__ import annotations

import uuid

import pytest

from centrex.calls.codecs import audio_codecs
from centrex.sip.sdp import parse_sdp

from . import engine_harness
from .engine_harness import in_dialog, make_bench
from .test_calls_transfer import Anchor

WIDE = (
    b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    b"m=audio 4000 RTP/AVP 9 111 0 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:111 opus/48000/2\r\n"
    b"a=fmtp:111 useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-15\r\na=sendrecv\r\n"
)
WIDE_ANSWER = WIDE.replace(b"10.0.0.1", b"10.0.0.2").replace(b"4000", b"6000")


@pytest.fixture
def wideband(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_harness, "SDP", WIDE)


def bench(recorded: bool = False):  # type: ignore[no-untyped-def]
    b = make_bench()
    anchor = Anchor()
    b.engine.media = anchor
    asked: list[tuple[uuid.UUID, tuple[uuid.UUID, ...]]] = []

    def may_record(tenant: uuid.UUID, users: tuple[uuid.UUID, ...]) -> bool:
        asked.append((tenant, users))
        return recorded

    b.engine.may_record = may_record
    for ext, port in (("1001", 5061), ("1002", 5062)):
        b.register(ext, port)
    return b, anchor


@pytest.mark.usefixtures("wideband")
def test_wideband_codecs_reach_the_callee_in_the_callers_order() -> None:
    b, _ = bench()
    b.call("1001", "1002")
    [leg] = b.invites()
    offer = parse_sdp(leg.message.body)
    assert audio_codecs(offer) == ["g722/8000", "opus/48000", "pcmu/8000", "telephone-event/8000"]
    assert offer.media[0].fmtp["111"] == "useinbandfec=1" and offer.media[0].port == 40002
    b.respond(leg, 200, to_tag="b1", body=WIDE_ANSWER)
    ok = [r for r in b.responses() if r.status == 200][-1]
    assert audio_codecs(parse_sdp(ok.body))[:2] == ["g722/8000", "opus/48000"]


@pytest.mark.usefixtures("wideband")
def test_a_call_that_may_be_recorded_is_offered_g711_only() -> None:
    b, _ = bench(recorded=True)
    b.call("1001", "1002")
    [leg] = b.invites()
    assert audio_codecs(parse_sdp(leg.message.body)) == ["pcmu/8000", "telephone-event/8000"]


@pytest.mark.usefixtures("wideband")
def test_hold_offer_is_reduced_to_g711_for_the_music_and_resume_restores_wideband() -> None:
    b, anchor = bench()
    b.call("1001", "1002")
    [leg] = b.invites()
    b.respond(leg, 200, to_tag="b1", body=WIDE_ANSWER)
    ok = [r for r in b.responses() if r.status == 200][-1]
    a_tag = ok.to.tag or ""
    b.net.take()
    hold = in_dialog(
        "INVITE",
        b.a_invite.call_id,
        "fa1001",
        a_tag,
        3,
        "z9hG4bKhold",
        WIDE.replace(b"sendrecv", b"sendonly"),
    )
    hold.headers.add("Content-Type", "application/sdp")
    b.request(hold, ("10.0.0.9", 5061))
    [fwd] = [s for s in b.net.take() if s.message.__class__.__name__ == "Request"]
    assert audio_codecs(parse_sdp(fwd.message.body)) == ["pcmu/8000", "telephone-event/8000"]
    assert ("music-on", "b", 0) in anchor.remotes
    b.respond(fwd, 200, body=WIDE_ANSWER.replace(b"sendrecv", b"recvonly"))
    b.net.take()
    resume = in_dialog("INVITE", b.a_invite.call_id, "fa1001", a_tag, 4, "z9hG4bKresume", WIDE)
    resume.headers.add("Content-Type", "application/sdp")
    b.request(resume, ("10.0.0.9", 5061))
    [fwd] = [s for s in b.net.take() if s.message.__class__.__name__ == "Request"]
    assert audio_codecs(parse_sdp(fwd.message.body))[:2] == ["g722/8000", "opus/48000"]
