"""SDP (RFC 4566 / 8866) parse and emit, and the offer/answer model (RFC 3264).

Lines we do not interpret (i, u, e, p, b, z, k, r and unknown ones) are kept in order so that a
description we relay or rewrite keeps them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from centrex.sip.errors import SipParseError

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_LINE_RE = re.compile(r"^([a-z])=(.*)$")


@dataclass(slots=True)
class Origin:
    username: str
    session_id: str
    session_version: int
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    def __str__(self) -> str:
        return (
            f"{self.username} {self.session_id} {self.session_version} "
            f"{self.nettype} {self.addrtype} {self.address}"
        )


@dataclass(slots=True)
class Connection:
    address: str
    nettype: str = "IN"
    addrtype: str = "IP4"

    def __str__(self) -> str:
        return f"{self.nettype} {self.addrtype} {self.address}"

    @property
    def is_null(self) -> bool:
        """c=0.0.0.0, the RFC 2543 way of putting a call on hold (RFC 3264 §8.4)."""
        return self.address in ("0.0.0.0", "::")


@dataclass(slots=True)
class Media:
    """One m= section with its own c=, other lines and attributes."""

    media: str
    port: int
    proto: str
    formats: list[str]
    port_count: int | None = None
    connection: Connection | None = None
    lines: list[tuple[str, str]] = field(default_factory=list)  # i, b, k in order
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def attribute(self, name: str) -> str | None:
        for n, v in self.attributes:
            if n == name:
                return v if v is not None else ""
        return None

    def attribute_values(self, name: str) -> list[str]:
        return [v or "" for n, v in self.attributes if n == name]

    @property
    def direction(self) -> str | None:
        """The direction attribute of this section, or None if it has none."""
        for n, _ in self.attributes:
            if n in DIRECTIONS:
                return n
        return None

    def set_direction(self, direction: str) -> None:
        self.attributes = [(n, v) for n, v in self.attributes if n not in DIRECTIONS]
        self.attributes.append((direction, None))

    @property
    def rtpmap(self) -> dict[str, str]:
        """Payload type -> ``encoding/clock[/channels]`` from a=rtpmap."""
        out: dict[str, str] = {}
        for value in self.attribute_values("rtpmap"):
            pt, _, enc = value.partition(" ")
            out[pt] = enc.strip()
        return out

    @property
    def fmtp(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for value in self.attribute_values("fmtp"):
            pt, _, params = value.partition(" ")
            out[pt] = params.strip()
        return out

    @property
    def ptime(self) -> int | None:
        value = self.attribute("ptime")
        return int(value) if value and value.isdigit() else None


@dataclass(slots=True)
class SessionDescription:
    origin: Origin
    session_name: str = "-"
    connection: Connection | None = None
    timing: list[str] = field(default_factory=lambda: ["0 0"])
    lines: list[tuple[str, str]] = field(default_factory=list)  # i, u, e, p, b, z, k, r
    attributes: list[tuple[str, str | None]] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    version: int = 0

    def __str__(self) -> str:
        out = [f"v={self.version}", f"o={self.origin}", f"s={self.session_name}"]
        out += [f"{k}={v}" for k, v in self.lines if k in "iuepb"]
        if self.connection:
            out.append(f"c={self.connection}")
        out += [f"t={t}" for t in self.timing]
        out += [f"{k}={v}" for k, v in self.lines if k not in "iuepb"]
        out += [_attr(n, v) for n, v in self.attributes]
        for m in self.media:
            count = f"/{m.port_count}" if m.port_count is not None else ""
            out.append(f"m={m.media} {m.port}{count} {m.proto} {' '.join(m.formats)}".rstrip())
            out += [f"{k}={v}" for k, v in m.lines if k == "i"]
            if m.connection:
                out.append(f"c={m.connection}")
            out += [f"{k}={v}" for k, v in m.lines if k != "i"]
            out += [_attr(n, v) for n, v in m.attributes]
        return "\r\n".join(out) + "\r\n"

    def to_bytes(self) -> bytes:
        return str(self).encode()

    def attribute(self, name: str) -> str | None:
        for n, v in self.attributes:
            if n == name:
                return v if v is not None else ""
        return None

    def media_direction(self, media: Media) -> str:
        """Effective direction: the media's own, else the session's, else sendrecv (RFC 4566 §6)."""
        if media.direction:
            return media.direction
        for n, _ in self.attributes:
            if n in DIRECTIONS:
                return n
        return "sendrecv"

    def media_connection(self, media: Media) -> Connection | None:
        return media.connection or self.connection

    def copy(self) -> SessionDescription:
        return parse_sdp(str(self))


def _attr(name: str, value: str | None) -> str:
    return f"a={name}" if value is None else f"a={name}:{value}"


def _parse_connection(value: str) -> Connection:
    parts = value.split()
    if len(parts) != 3:
        raise SipParseError(f"bad SDP c= line {value!r}")
    return Connection(parts[2], parts[0], parts[1])


def parse_sdp(data: bytes | str) -> SessionDescription:
    """Parse an SDP body; raises SipParseError naming the bad line."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError:
        raise SipParseError("SDP is not UTF-8") from None
    origin: Origin | None = None
    sd: SessionDescription | None = None
    version = -1
    session_name = "-"
    connection: Connection | None = None
    timing: list[str] = []
    lines: list[tuple[str, str]] = []
    attributes: list[tuple[str, str | None]] = []
    media: list[Media] = []
    current: Media | None = None
    for raw in re.split(r"\r?\n", text):
        if not raw.strip():
            continue
        match = _LINE_RE.match(raw.rstrip("\r"))
        if not match:
            raise SipParseError(f"bad SDP line {raw[:60]!r}")
        key, value = match.group(1), match.group(2).strip()
        if key == "m":
            current = _parse_media(value)
            media.append(current)
        elif key == "a":
            name, colon, aval = value.partition(":")
            if not name:
                raise SipParseError(f"bad SDP attribute {value!r}")
            (current.attributes if current else attributes).append((name, aval if colon else None))
        elif key == "c":
            conn = _parse_connection(value)
            if current:
                current.connection = conn
            else:
                connection = conn
        elif current is not None:
            current.lines.append((key, value))
        elif key == "v":
            if not value.isdigit():
                raise SipParseError(f"bad SDP version {value!r}")
            version = int(value)
        elif key == "o":
            parts = value.split()
            if len(parts) != 6 or not parts[2].isdigit():
                raise SipParseError(f"bad SDP o= line {value!r}")
            origin = Origin(parts[0], parts[1], int(parts[2]), parts[5], parts[3], parts[4])
        elif key == "s":
            session_name = value or " "
        elif key == "t":
            timing.append(value)
        else:
            lines.append((key, value))
    if version < 0:
        raise SipParseError("SDP without v= line")
    if origin is None:
        raise SipParseError("SDP without o= line")
    sd = SessionDescription(
        origin, session_name, connection, timing or ["0 0"], lines, attributes, media, version
    )
    return sd


def _parse_media(value: str) -> Media:
    parts = value.split()
    if len(parts) < 3:
        raise SipParseError(f"bad SDP m= line {value!r}")
    port_text, slash, count = parts[1].partition("/")
    if not port_text.isdigit() or int(port_text) > 65535 or (slash and not count.isdigit()):
        raise SipParseError(f"bad SDP media port {parts[1]!r}")
    return Media(parts[0], int(port_text), parts[2], parts[3:], int(count) if slash else None)


@dataclass(frozen=True, slots=True)
class Codec:
    """An audio codec we can use. ``payload_type`` is None for dynamic ones (RFC 3551 §6)."""

    name: str
    clock_rate: int
    payload_type: int | None = None
    fmtp: str | None = None

    def matches(self, encoding: str) -> bool:
        name, _, rest = encoding.partition("/")
        rate = rest.partition("/")[0]
        return name.lower() == self.name.lower() and rate == str(self.clock_rate)


PCMU = Codec("PCMU", 8000, 0)
PCMA = Codec("PCMA", 8000, 8)
TELEPHONE_EVENT = Codec("telephone-event", 8000, None, "0-16")  # RFC 4733
DEFAULT_CODECS: tuple[Codec, ...] = (PCMU, PCMA, TELEPHONE_EVENT)
_STATIC = {"0": PCMU, "8": PCMA}
_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


def _encoding_of(media: Media, pt: str) -> str | None:
    rtpmap = media.rtpmap
    if pt in rtpmap:
        return rtpmap[pt]
    static = _STATIC.get(pt)
    return f"{static.name}/{static.clock_rate}" if static else None


def build_offer(
    address: str,
    port: int,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    *,
    session_id: str = "0",
    session_version: int = 0,
    direction: str = "sendrecv",
    ptime: int | None = 20,
    dynamic_base: int = 101,
) -> SessionDescription:
    """An audio offer with our codecs in preference order."""
    addrtype = "IP6" if ":" in address else "IP4"
    media = Media("audio", port, "RTP/AVP", [])
    dynamic = dynamic_base
    for codec in codecs:
        pt = codec.payload_type if codec.payload_type is not None else dynamic
        if codec.payload_type is None:
            dynamic += 1
        media.formats.append(str(pt))
        media.attributes.append(("rtpmap", f"{pt} {codec.name}/{codec.clock_rate}"))
        if codec.fmtp:
            media.attributes.append(("fmtp", f"{pt} {codec.fmtp}"))
    if ptime:
        media.attributes.append(("ptime", str(ptime)))
    media.attributes.append((direction, None))
    origin = Origin("centrex", session_id, session_version, address, "IN", addrtype)
    return SessionDescription(origin, "centrex", Connection(address, "IN", addrtype), ["0 0"], media=[media])


def negotiate_answer(
    offer: SessionDescription,
    address: str,
    port: int,
    codecs: tuple[Codec, ...] = DEFAULT_CODECS,
    *,
    session_id: str = "0",
    session_version: int = 0,
) -> SessionDescription:
    """The answer to ``offer`` (RFC 3264 §6): one m= line per offered one, in the same order.

    Audio streams keep the offerer's payload type numbers and order for the codecs we share;
    telephone-event is only accepted alongside a real codec. A stream we cannot take is
    rejected with port 0 (§6). Direction is mirrored: sendonly -> recvonly and so on (§6.1).
    """
    addrtype = "IP6" if ":" in address else "IP4"
    answer = SessionDescription(
        Origin("centrex", session_id, session_version, address, "IN", addrtype),
        "centrex",
        Connection(address, "IN", addrtype),
        ["0 0"],
    )
    audio_taken = False
    for m in offer.media:
        chosen: list[tuple[str, Codec, str]] = []
        if (
            m.media == "audio"
            and m.port != 0
            and m.proto.upper() in ("RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF")  # keys: secure_media
            and not audio_taken
        ):
            for pt in m.formats:
                encoding = _encoding_of(m, pt)
                if encoding is None:
                    continue
                for codec in codecs:
                    if codec.matches(encoding):
                        chosen.append((pt, codec, encoding))
                        break
        if not any(c.name != TELEPHONE_EVENT.name for _, c, _ in chosen):
            answer.media.append(Media(m.media, 0, m.proto, m.formats[:1] or ["0"]))
            continue
        audio_taken = True
        media = Media(m.media, port, m.proto, [pt for pt, _, _ in chosen])
        fmtp = m.fmtp
        for pt, codec, encoding in chosen:
            media.attributes.append(("rtpmap", f"{pt} {encoding}"))
            if codec.name == TELEPHONE_EVENT.name:
                media.attributes.append(("fmtp", f"{pt} {fmtp.get(pt, codec.fmtp or '0-15')}"))
        if m.ptime:
            media.attributes.append(("ptime", str(m.ptime)))
        media.attributes.append((_ANSWER_DIRECTION[offer.media_direction(m)], None))
        answer.media.append(media)
    return answer


def is_on_hold(sd: SessionDescription) -> bool:
    """True when every active audio stream is sendonly/inactive or has c=0.0.0.0 (RFC 3264 §8.4)."""
    active = [m for m in sd.media if m.port != 0]
    if not active:
        return False
    for m in active:
        conn = sd.media_connection(m)
        if conn is not None and conn.is_null:
            continue
        if sd.media_direction(m) in ("sendonly", "inactive"):
            continue
        return False
    return True


def hold_offer(sd: SessionDescription) -> SessionDescription:
    """A re-offer that puts the far end on hold: sendrecv -> sendonly, recvonly -> inactive."""
    out = sd.copy()
    out.origin = replace(out.origin, session_version=out.origin.session_version + 1)
    for m in out.media:
        if m.port:
            current = out.media_direction(m)
            m.set_direction("sendonly" if current in ("sendrecv", "sendonly") else "inactive")
    return out


def resume_offer(sd: SessionDescription) -> SessionDescription:
    """A re-offer that takes the call off hold: every active stream back to sendrecv."""
    out = sd.copy()
    out.origin = replace(out.origin, session_version=out.origin.session_version + 1)
    out.attributes = [(n, v) for n, v in out.attributes if n not in DIRECTIONS]
    for m in out.media:
        if m.port:
            m.set_direction("sendrecv")
    return out


def rewrite_connection(
    sd: SessionDescription, address: str, ports: list[int] | int | None = None
) -> SessionDescription:
    """Copy of ``sd`` with c= (session and media) and o= pointing at ``address``, for anchoring.

    ``ports`` gives the new port of each m= line in order (an int for a single stream);
    rejected streams (port 0) stay rejected.
    """
    out = sd.copy()
    addrtype = "IP6" if ":" in address else "IP4"
    out.connection = Connection(address, "IN", addrtype)
    out.origin = replace(out.origin, address=address, addrtype=addrtype)
    port_list = [ports] if isinstance(ports, int) else ports
    for i, m in enumerate(out.media):
        if m.connection is not None:
            m.connection = Connection(address, "IN", addrtype)
        if port_list is not None and i < len(port_list) and m.port != 0:
            m.port = port_list[i]
    return out
