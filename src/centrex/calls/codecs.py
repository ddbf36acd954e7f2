"""G.711 choices on SDP bodies: the relay forwards, never transcodes, so every side of a call
must end up on one codec."""

from __future__ import annotations

from centrex.sip.errors import SipParseError
from centrex.sip.sdp import PCMA, PCMU, Codec, SessionDescription, parse_sdp


def common_g711(first: SessionDescription, second: SessionDescription) -> Codec | None:
    """The first G.711 codec of ``first``'s audio that ``second`` offers too."""

    def g711(sd: SessionDescription) -> list[Codec]:
        audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
        out = []
        for pt in audio.formats if audio else []:
            enc = (audio.rtpmap.get(pt) if audio else None) or {"0": "PCMU/8000", "8": "PCMA/8000"}.get(
                pt, ""
            )
            for codec in (PCMU, PCMA):
                if codec.matches(enc):
                    out.append(codec)
        return out

    theirs = g711(second)
    return next((c for c in g711(first) if c in theirs), None)


def only_codec(body: bytes, payload_type: int) -> bytes:
    """An offer reduced to one codec (and telephone-event): after an app answered the caller with
    it, whoever the call goes to next must use the same one (the relay does not transcode)."""
    try:
        sd = parse_sdp(body)
    except (SipParseError, ValueError):
        return body
    for m in sd.media:
        if m.media != "audio":
            continue
        events = {pt for pt, enc in m.rtpmap.items() if enc.lower().startswith("telephone-event/")}
        keep = [f for f in m.formats if f == str(payload_type) or f in events]
        if str(payload_type) not in keep:
            return body
        m.formats = keep
        m.attributes = [
            (n, v)
            for n, v in m.attributes
            if n not in ("rtpmap", "fmtp") or (v or "").split(" ", 1)[0] in keep
        ]
    return str(sd).encode()


def first_g711_pt(body: bytes) -> int | None:
    try:
        sd = parse_sdp(body)
    except (SipParseError, ValueError):
        return None
    audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
    return next((int(f) for f in (audio.formats if audio else []) if f in ("0", "8")), None)
