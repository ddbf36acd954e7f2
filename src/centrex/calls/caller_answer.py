"""Answering the caller's INVITE: 181 while its call is forwarded; our 200 (our Contact, the
session timer) with the SDP of the leg that answered or of a pickup; or an answer of the switch's
own on the relay with one G.711 codec (a queue, a page), which whoever is rung next must keep
(an app, a park recall).

Functions of the core, which ``CallEngine`` binds as its methods (no wrapper on a call's path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from centrex.calls.codecs import common_g711, only_codec
from centrex.calls.in_dialog import ALLOW
from centrex.calls.model import Call
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.message import make_response
from centrex.sip.sdp import TELEPHONE_EVENT, negotiate_answer, parse_sdp

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine


def ring_back(core: CallEngine, call: Call) -> None:
    """181 Call Is Being Forwarded to a caller still waiting for its answer."""
    core.network.send_response(call.a_transport, make_response(call.a_invite, 181, to_tag=call.a_tag))


def answer_invite(core: CallEngine, call: Call, body: bytes, content_type: str | None, now: float) -> Dialog:
    """200 OK to the caller's INVITE with our Contact and its session timer; the UAS dialog."""
    ok = make_response(
        call.a_invite,
        200,
        to_tag=call.a_tag,
        body=body,
        content_type=content_type,
        extra=[
            ("Contact", core.network.contact(call.a_transport)),
            ("Allow", ALLOW),
            *core.session_timers.answer_headers(call),
        ],
    )
    core.network.send_response(call.a_transport, ok)
    core.session_timers.caller_answered(call, body, now)
    return Dialog.from_uas(call.a_invite, ok)


def answer_locally(core: CallEngine, call: Call, now: float) -> int | None:
    """Answer the caller ourselves on the relay's a side, on one G.711 codec; the payload type,
    or None when the offer has no G.711 (then the caller got 488)."""
    assert call.anchor is not None
    try:
        offer = parse_sdp(call.a_invite.body)
    except (SipParseError, ValueError):
        offer = None
    codec = common_g711(offer, offer) if offer is not None else None
    if offer is None or codec is None:
        core.reject(call, 488, now, "failed", "no_g711", "Not Acceptable Here (PCMU or PCMA required)")
        return None
    answer = negotiate_answer(offer, *call.anchor[0], (codec, TELEPHONE_EVENT))
    call.a_dialog = core.answer_invite(call, str(answer).encode(), "application/sdp", now)
    call.answered_at, call.answered_mono = core.wall(), now
    call.a_codec = codec.payload_type
    if call.b_offer is not None and codec.payload_type is not None:
        call.b_offer = only_codec(call.b_offer, codec.payload_type)
    return codec.payload_type


def keep_codec(core: CallEngine, call: Call) -> None:
    """After the caller was answered on one codec, whoever is rung next gets only that one."""
    if call.a_codec is not None and call.b_offer is not None:
        call.b_offer = only_codec(call.b_offer, call.a_codec)
