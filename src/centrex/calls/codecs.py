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


# Issue 17 §4: wideband codecs pass through the relay untouched when both sides offer them. The
# relay forwards payloads it never decodes, so G.722 (static payload type 9, RFC 3551 §4.5.2: its
# RTP clock says 8000 though it samples at 16 kHz) and Opus (dynamic, "opus/48000/2", RFC 7587 §7)
# need nothing of it. What decodes is recording (media/recorder.py: PCMU/PCMA), the conference
# mixer and the relay's music on hold and prompts (G.711 frames): a call that meets one of them is
# offered G.711 only, so that both sides end up on a codec the switch can read or play.
WIDEBAND = ("G722/8000", "opus/48000")


def audio_codecs(sd: SessionDescription) -> list[str]:
    """The offered audio encodings (``name/rate``, lower case names), in the offer's order."""
    audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
    out = []
    for pt in audio.formats if audio else []:
        enc = (audio.rtpmap.get(pt) if audio else None) or {
            "0": "PCMU/8000",
            "8": "PCMA/8000",
            "9": "G722/8000",
        }.get(pt, "")
        name, _, rest = enc.partition("/")
        out.append(f"{name.lower()}/{rest.partition('/')[0]}")
    return out


def g711_only(sd: SessionDescription) -> SessionDescription:
    """``sd`` with its audio reduced to PCMU/PCMA and telephone-event, in the offer's order;
    unchanged when it offers no G.711 (then it is the other side's to refuse, 488)."""
    out = sd.copy()
    for m in out.media:
        if m.media != "audio" or not m.port:
            continue
        rtpmap = m.rtpmap
        keep = [
            f
            for f in m.formats
            if f in ("0", "8")
            or rtpmap.get(f, "").lower().startswith(("pcmu/8000", "pcma/8000", "telephone-event/8000"))
        ]
        if not any(f in ("0", "8") or not rtpmap.get(f, "").lower().startswith("telephone") for f in keep):
            continue
        m.formats = keep
        m.attributes = [
            (n, v)
            for n, v in m.attributes
            if n not in ("rtpmap", "fmtp") or (v or "").split(" ", 1)[0] in keep
        ]
    return out


def offered_codecs(
    sd: SessionDescription, *, recorded: bool = False, conference: bool = False, hold_music: bool = False
) -> SessionDescription:
    """What the relay offers the other side: the offer as it is (G.722 and Opus included, in the
    offerer's order) when nothing on the call decodes, G.711 only when a feature must."""
    if recorded or conference or hold_music:
        return g711_only(sd)
    return sd
