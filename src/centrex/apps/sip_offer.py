"""What the app server reads off an INVITE: the caller's X-Centrex-* headers, the audio format of an
offer and where to send it, key presses in SIP INFO — pure functions (apps/app_choice.py and
apps/server.py do the I/O)."""

from __future__ import annotations

import ipaddress
import re
import uuid

from centrex.apps.media import MediaFormat
from centrex.apps.voicemail import CallerInfo
from centrex.sip import Request
from centrex.sip.sdp import PCMA, PCMU, TELEPHONE_EVENT, Codec, SessionDescription

TEXT_MAX = 200


def host_of(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.split("%")[0]))
    except ValueError:
        return text


def clean(value: str | None) -> str:
    """Header text for storage and prompts: printable, bounded."""
    text = "".join(ch for ch in (value or "").strip() if ch.isprintable())
    return text.strip('"')[:TEXT_MAX]


def _uuid(request: Request, name: str, required: bool) -> uuid.UUID | None:
    value = request.headers.get(name)
    if value is None or not value.strip():
        if required:
            raise ValueError(f"{name} is required")
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise ValueError(f"{name} is not a UUID") from None


def caller_info(request: Request) -> CallerInfo:
    tenant = _uuid(request, "X-Centrex-Tenant", True)
    assert tenant is not None
    return CallerInfo(
        tenant_id=tenant,
        call_id=_uuid(request, "X-Centrex-Call", False),
        caller=clean(request.headers.get("X-Centrex-Caller"))[:64],
        caller_name=clean(request.headers.get("X-Centrex-Caller-Name")),
        caller_user=_uuid(request, "X-Centrex-Caller-User", False),
    )


def format_of(answer: SessionDescription) -> MediaFormat | None:
    for m in answer.media:
        if m.media != "audio" or m.port == 0:
            continue
        rtpmap = m.rtpmap
        audio = None
        event = None
        for pt in m.formats:
            name = rtpmap.get(pt, "").split("/")[0].upper() or {"0": "PCMU", "8": "PCMA"}.get(pt, "")
            if name in ("PCMU", "PCMA") and audio is None:
                audio = (name, int(pt))
            elif name == "TELEPHONE-EVENT" and event is None:
                event = int(pt)
        if audio is not None:
            return MediaFormat(audio[0], audio[1], event)
    return None


def codecs_for(fmt: MediaFormat) -> tuple[Codec, ...]:
    """Answer with the one codec in use (first), so both sides send the same, plus telephone-event."""
    first = PCMU if fmt.encoding == "PCMU" else PCMA
    return (first, TELEPHONE_EVENT)


def remote_of(offer: SessionDescription) -> tuple[str, int] | None:
    for m in offer.media:
        if m.media != "audio" or m.port == 0:
            continue
        conn = offer.media_connection(m)
        if conn is None or conn.is_null or offer.media_direction(m) in ("recvonly", "inactive"):
            return None  # on hold: nothing to send to
        return conn.address, m.port
    return None


_SIGNAL = re.compile(r"^\s*signal\s*=\s*([0-9*#A-Da-d])", re.I | re.M)


def info_digit(request: Request) -> str | None:
    """A key press in SIP INFO: application/dtmf-relay (``Signal=5``) or application/dtmf (``5``)."""
    body = request.body.decode(errors="replace")
    if request.content_type == "application/dtmf-relay":
        match = _SIGNAL.search(body)
        return match.group(1).upper() if match else None
    if request.content_type == "application/dtmf":
        text = body.strip()
        return text.upper() if len(text) == 1 and text in "0123456789*#ABCDabcd" else None
    return None
