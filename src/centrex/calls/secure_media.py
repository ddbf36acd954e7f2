"""SDES-SRTP on the built-in relay (issue 17 §4): which SDP carries keys, and the relay leg's crypto.

Every SDP the switch sends passes ``SecureMedia.sending`` (calls/service.py, the engine's
Network), every SDP it receives from a side passes ``received`` (calls/media_path.py ``learn``).
The relay leg an SDP belongs to is found by the relay port it names, so one rule covers the first
INVITE, 18x/200 answers, re-INVITEs and answers made by the switch itself.

The rules (RFC 4568; RFC 3264 for offer/answer):
- Keys only over TLS. An SDP sent over UDP or TCP never carries ``a=crypto`` (RFC 4568 §8.3:
  "the SDP MUST be protected"); it says RTP/AVP and the relay leg speaks plain RTP. So a phone on
  TLS talks SRTP to the relay and a carrier or phone on UDP gets plain RTP: the relay bridges.
- An offer says RTP/SAVP with our key (AES_CM_128_HMAC_SHA1_80, then _32) only to a phone over
  TLS; carriers are offered RTP/AVP whatever their transport.
- An answer carries crypto only when the offer from that side did (RTP/SAVP, or RTP/AVP with
  crypto lines, "best effort" SDES) and goes over TLS: the first suite of the offer we support,
  with the offer's tag and our own key (RFC 4568 §7.1.1). The relay then decrypts with the
  phone's key and encrypts toward it with ours; each direction has its own key (§6.1).
- Keys are never passed from one side to the other: each leg has its own (the relay re-keys).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from centrex.media.relay import RelayManager, RtpRelay
from centrex.media.srtp import SAVP_PROTOS, SUITES, Crypto, SdesState, SrtpLeg, new_key, parse_crypto
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address
from centrex.sip.message import Request, Response
from centrex.sip.sdp import Media, SessionDescription, parse_sdp

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

log = logging.getLogger(__name__)

SECURE_TRANSPORTS = ("TLS", "WSS")


def audio_of(sd: SessionDescription) -> Media | None:
    return next((m for m in sd.media if m.media == "audio" and m.port), None)


def cryptos(m: Media) -> list[Crypto]:
    """The crypto lines of ``m`` we can use, in the offerer's order of preference."""
    return [c for c in (parse_crypto(v) for v in m.attribute_values("crypto")) if c is not None]


def make_plain(m: Media) -> None:
    """RTP/AVP(F) and no key: what goes over plaintext signalling or to a carrier."""
    m.attributes = [(n, v) for n, v in m.attributes if n != "crypto"]
    if m.proto.upper() in SAVP_PROTOS:
        m.proto = "RTP/AVPF" if m.proto.upper().endswith("F") else "RTP/AVP"


def make_secure_offer(m: Media, key: bytes) -> list[Crypto]:
    """RTP/SAVP(F) with our key in each suite we support (tags 1, 2 in preference order)."""
    offered = [Crypto(i, suite, key) for i, suite in enumerate(SUITES, 1)]
    m.attributes = [(n, v) for n, v in m.attributes if n != "crypto"]
    m.attributes[:0] = [("crypto", str(c)) for c in offered]
    m.proto = "RTP/SAVPF" if m.proto.upper().endswith("F") else "RTP/SAVP"
    return offered


def answer_crypto(offer: list[Crypto], key: bytes) -> tuple[Crypto, Crypto] | None:
    """(theirs, ours) for an answer: their first usable line, our key under its tag and suite."""
    if not offer:
        return None
    theirs = offer[0]
    return theirs, Crypto(theirs.tag, theirs.suite, key)


def chosen(answer: list[Crypto], key: bytes) -> tuple[Crypto, Crypto] | None:
    """(theirs, ours) from the answer to our offer: the suite is the one of the tag it accepted."""
    for c in answer:
        ours = {i: s for i, s in enumerate(SUITES, 1)}.get(c.tag)
        if ours == c.suite:
            return c, Crypto(c.tag, c.suite, key)
    return None


class SecureMedia:
    def __init__(self, relays: Callable[[], RelayManager | None]) -> None:
        self._relays = relays

    def _state(self, relay: RtpRelay, leg: str) -> SdesState:
        state = relay.sdes.get(leg)
        if state is None:
            state = relay.sdes[leg] = SdesState(new_key(), [])
        return state

    @staticmethod
    def _keys(relay: RtpRelay, leg: str, state: SdesState, pair: tuple[Crypto, Crypto] | None) -> None:
        """Key the leg (unchanged keys keep the running SRTP contexts: rollover counter, replay)."""
        if pair != state.current:
            state.current = pair
            relay.set_srtp(leg, SrtpLeg(*pair) if pair else None)

    def received(self, call_id: str, leg: str, sd: SessionDescription) -> None:
        """An SDP from ``leg``'s side: an answer to our SRTP offer sets the leg's keys; an offer
        is kept until we answer it."""
        manager = self._relays()
        relay = manager.get(call_id) if manager is not None else None
        audio = audio_of(sd)
        if relay is None or audio is None:
            return
        state = self._state(relay, leg)
        theirs = cryptos(audio)
        if state.offered:  # their answer to our offer
            state.offered = False
            pair = chosen(theirs, state.local_key)
            self._keys(relay, leg, state, pair)
            if pair is None:
                log.warning("sip.srtp.answer_without_key call=%s leg=%s: plain RTP", call_id, leg)
        else:
            state.their_offer, state.their_proto = theirs, audio.proto

    def sending(
        self, transport: str, message: Request | Response, toward_phone: Callable[[RtpRelay, str], bool]
    ) -> None:
        """Rewrite ``message``'s SDP for ``transport`` (see the module's rules), in place."""
        ctype = (message.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if not message.body or ctype != "application/sdp" or b"m=audio" not in message.body:
            return
        try:
            sd = parse_sdp(message.body)
        except (SipParseError, ValueError):
            return
        audio = audio_of(sd)
        if audio is None:
            return
        secure = transport.upper() in SECURE_TRANSPORTS
        manager = self._relays()
        found = manager.by_port(audio.port) if manager is not None else None
        if found is None:  # not the relay's (rtpengine, direct media): only keep keys off plaintext
            if not secure and audio.attribute("crypto") is not None:
                make_plain(audio)
                message.body = str(sd).encode()
            return
        relay, leg = found
        state = self._state(relay, leg)
        if isinstance(message, Request):  # an offer
            if secure and toward_phone(relay, leg):
                make_secure_offer(audio, state.local_key)
                state.offered = True
            else:  # (a secure offer to another fork of the leg still waits for its answer)
                make_plain(audio)
                self._keys(relay, leg, state, None)
        else:  # an answer to the leg's offer (best-effort SDES, RTP/AVP with crypto, in kind)
            # (the same offer may be answered twice: a 183 with SDP, then the 200)
            pair = answer_crypto(state.their_offer, state.local_key) if secure else None
            if pair is None:
                if state.their_offer:
                    log.warning("sip.srtp.refused call=%s leg=%s transport=%s", relay.call_id, leg, transport)
                make_plain(audio)
            else:
                audio.attributes = [(n, v) for n, v in audio.attributes if n != "crypto"]
                audio.attributes.insert(0, ("crypto", str(pair[1])))
                audio.proto = state.their_proto  # the answer's profile is the offer's (RFC 3264 §6)
            self._keys(relay, leg, state, pair)
        message.body = str(sd).encode()


def relay_manager(anchor: object) -> RelayManager | None:
    """The built-in relay behind the engine's media anchor (calls/media.py RelayAnchor, or the
    built-in half of calls/hybrid_anchor.py); None for rtpengine alone."""
    for obj in (anchor, getattr(anchor, "builtin", None)):
        manager = getattr(obj, "manager", None)
        if isinstance(manager, RelayManager):
            return manager
    return None


def toward_phone(
    engine: CallEngine, message: Request | Response, addr: Address | None, relay: RtpRelay, leg: str
) -> bool:
    """Whether ``leg`` of the relay's call is a registered phone (not a carrier or an app). Only
    asked for SDP going over TLS."""
    if leg == "b":
        b = engine.legs_by_callid.get(message.call_id)
        if b is not None:  # in the dialog (re-INVITE, its answer)
            return b.user is not None
        # The first INVITE of a leg is sent before the engine files the leg: a phone's is sent to
        # the source of its registration (a carrier's to its gateway).
        return addr is not None and any(
            bd.source == addr and bd.transport in SECURE_TRANSPORTS for bd in engine.location.all()
        )
    try:
        call = engine.calls.get(uuid.UUID(relay.call_id))
    except ValueError:
        return False
    return call is not None and call.device is not None and call.trunk is None
