"""SIP requests and responses: parse, serialize, build responses (RFC 3261 §7, §8.2.6, §20).

``parse_message`` raises only SipParseError, whatever the input. It checks what the transaction
layer relies on (Via, From, To, Call-ID, CSeq, Max-Forwards, Content-Length) so that a message
that gets past it can be matched and answered without further error handling.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache

from centrex.sip.errors import SipParseError
from centrex.sip.headers import (
    MULTI_VALUE,
    CSeq,
    Headers,
    NameAddr,
    Via,
    canonical_name,
    is_token,
    parse_cseq,
    parse_name_addr,
    parse_via,
    split_list,
)
from centrex.sip.uri import AbsoluteUri, SipUri, Uri, parse_uri

SIP_VERSION = "SIP/2.0"
BRANCH_COOKIE = "z9hG4bK"  # §8.1.1.7: marks an RFC 3261 branch, unique per transaction

REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    489: "Bad Event",
    491: "Request Pending",
    493: "Undecipherable",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024


def new_branch() -> str:
    return BRANCH_COOKIE + secrets.token_hex(10)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str = "") -> str:
    return secrets.token_hex(12) + (f"@{host}" if host else "")


class _MessageBase:
    """Typed accessors shared by requests and responses. Headers stay the source of truth."""

    headers: Headers
    body: bytes

    def _required(self, name: str) -> str:
        value = self.headers.get(name)
        if value is None:
            raise SipParseError(f"missing {name} header")
        return value

    @property
    def call_id(self) -> str:
        return self._required("Call-ID").strip()

    @property
    def cseq(self) -> CSeq:
        return parse_cseq(self._required("CSeq"))

    @property
    def vias(self) -> list[Via]:
        return [parse_via(v) for v in self.headers.get_all("Via")]

    @property
    def top_via(self) -> Via:
        return parse_via(self._required("Via"))

    @property
    def from_(self) -> NameAddr:
        return parse_name_addr(self._required("From"))

    @property
    def to(self) -> NameAddr:
        return parse_name_addr(self._required("To"))

    @property
    def contacts(self) -> list[NameAddr]:
        """Contact addresses; a ``Contact: *`` (REGISTER removal, §10.2.2) gives an empty list."""
        return [parse_name_addr(v) for v in self.headers.get_all("Contact") if v.strip() != "*"]

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("Content-Type")
        return value.split(";")[0].strip().lower() if value else None

    def header_addresses(self, name: str) -> list[NameAddr]:
        """Route, Record-Route, Path... as parsed name-addrs."""
        return [parse_name_addr(v) for v in self.headers.get_all(name)]

    def _serialize(self, start_line: str) -> bytes:
        lines = [start_line]
        for name, value in self.headers:
            if name != "Content-Length":
                lines.append(f"{name}: {value}")
        # Content-Length always written and always true: stream framing depends on it (§18.3).
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(eq=True)
class Request(_MessageBase):
    method: str
    uri: Uri
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def serialize(self) -> bytes:
        return self._serialize(f"{self.method} {self.uri} {self.version}")

    def __bytes__(self) -> bytes:
        return self.serialize()

    @property
    def max_forwards(self) -> int | None:
        value = self.headers.get("Max-Forwards")
        return int(value) if value is not None else None

    def copy(self) -> Request:
        return Request(self.method, self.uri.copy(), self.headers.copy(), self.body, self.version)


@dataclass(eq=True)
class Response(_MessageBase):
    status: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = SIP_VERSION

    def serialize(self) -> bytes:
        return self._serialize(f"{self.version} {self.status} {self.reason}")

    def __bytes__(self) -> bytes:
        return self.serialize()

    @property
    def is_provisional(self) -> bool:
        return self.status < 200

    @property
    def is_final(self) -> bool:
        return self.status >= 200

    def copy(self) -> Response:
        return Response(self.status, self.reason, self.headers.copy(), self.body, self.version)


Message = Request | Response

_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")
_VERSION_RE = re.compile(r"^SIP/(\d+)\.(\d+)$", re.I)


def _split_head(data: bytes) -> tuple[bytes, bytes]:
    match = _HEADER_END_RE.search(data)
    if match is None:
        # A datagram with headers only and no blank line: accept it, there is no body.
        head, body = data.rstrip(b"\r\n"), b""
    else:
        head, body = data[: match.start()], data[match.end() :]
    if len(head) > MAX_HEADER_BYTES:
        raise SipParseError("header section too large", status=513)
    return head, body


_LINE_RE = re.compile(r"\r?\n")


def _header_lines(head: str) -> tuple[str, list[tuple[str, str]]]:
    raw_lines = _LINE_RE.split(head)
    start = raw_lines[0]
    unfolded: list[str] = []
    for line in raw_lines[1:]:
        if line[:1] in (" ", "\t"):
            # Line folding (§7.3.1): a continuation line joins the previous value with one space.
            if not unfolded:
                raise SipParseError("continuation line before any header")
            unfolded[-1] = unfolded[-1].rstrip() + " " + line.strip()
        elif line:
            unfolded.append(line)
    items: list[tuple[str, str]] = []
    for line in unfolded:
        name, colon, value = line.partition(":")
        cname = _header_name(name) if colon else None
        if cname is None:
            raise SipParseError(f"bad header line {line[:60]!r}")
        value = value.strip()
        if cname in MULTI_VALUE and "," in value and value != "*":
            items.extend((cname, v) for v in split_list(value))
        else:
            items.append((cname, value))
    return start, items


@lru_cache(maxsize=2048)
def _header_name(raw: str) -> str | None:
    """Canonical name of a header as written, None if it is not a token (cached: names repeat)."""
    name = raw.rstrip(" \t")
    return canonical_name(name) if is_token(name) else None


_BARE_NUL_RE = re.compile(r"(?<!\\)\x00")


def _parse_start_line(start: str) -> tuple[str, str, str]:
    # Split loosely so that a request line with extra spaces is still read far enough to be
    # answered with 400 (the strict check is in _parse, once the headers are known).
    parts = start.split(None, 2)
    if len(parts) < 2 or (len(parts) == 2 and not parts[0].upper().startswith("SIP/")):
        raise SipParseError(f"bad start line {start[:80]!r}")
    return parts[0], parts[1], parts[2].strip() if len(parts) > 2 else ""


def _check_version(version: str) -> None:
    match = _VERSION_RE.match(version)
    if not match:
        raise SipParseError(f"bad SIP version {version!r}")
    if (match.group(1), match.group(2)) != ("2", "0"):
        raise SipParseError(f"unsupported SIP version {version!r}", status=505)


def parse_message(data: bytes, *, stream: bool = False) -> Request | Response:
    """Parse one whole message. ``stream`` marks TCP/TLS input, where Content-Length is binding."""
    try:
        return _parse(data, stream)
    except SipParseError:
        raise
    except (ValueError, IndexError, KeyError, UnicodeError, RecursionError) as exc:
        # A guard for parser bugs: garbage must only ever produce SipParseError.
        raise SipParseError(f"unparseable message: {exc}") from exc


def _parse(data: bytes, stream: bool) -> Request | Response:
    data = data.lstrip(b"\r\n")  # §7.5: CRLFs before the start line are ignored
    if not data:
        raise SipParseError("empty message")
    head_bytes, body = _split_head(data)
    try:
        head = head_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"header section is not UTF-8 at byte {exc.start}") from None
    if "\x00" in head and _BARE_NUL_RE.search(head):
        # A NUL is legal only escaped inside a quoted string (§25.1 quoted-pair; RFC 4475
        # §3.1.1.2 puts one in a display name).
        raise SipParseError("NUL byte in header section")
    first, _, _ = head.partition("\n")
    first = first.rstrip("\r")
    a, b, c = _parse_start_line(first)
    message: Request | Response
    if a.upper().startswith("SIP/"):
        _check_version(a)
        if len(b) != 3 or not b.isdigit() or not "100" <= b <= "699":
            raise SipParseError(f"bad status code {b!r}")
        _, items = _header_lines(head)
        message = Response(int(b), c, Headers(items), b"", SIP_VERSION)
    else:
        if not is_token(a):
            raise SipParseError(f"bad method {a!r}")
        # The request line was read: from here on a failure can still be answered with 400.
        try:
            _, items = _header_lines(head)
        except SipParseError:
            raise
        partial = Request(a, AbsoluteUri("x-unparsed", b or "-"), Headers(items))
        try:
            _check_version(c)
            if first != f"{a} {b} {c}":
                # Request-Line = Method SP Request-URI SP SIP-Version (§25.1): RFC 4475
                # §3.1.2.9 and §3.1.2.10 (extra or trailing SP) are refused, not guessed at.
                raise SipParseError("request line must be Method SP Request-URI SP SIP-Version")
            uri = parse_uri(b)
            if isinstance(uri, SipUri) and uri.headers:
                # §19.1.5: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
                raise SipParseError(f"Request-URI with headers {b[:80]!r}")
        except SipParseError as exc:
            exc.partial = partial
            raise
        message = Request(a, uri, partial.headers, b"", SIP_VERSION)
    try:
        message.body = _frame_body(message.headers, body, stream)
        _validate(message)
    except SipParseError as exc:
        if isinstance(message, Request):
            exc.partial = message
        raise
    return message


def _frame_body(headers: Headers, body: bytes, stream: bool) -> bytes:
    values = headers.get_all("Content-Length")
    if not values:
        # §18.3: on UDP the body runs to the end of the datagram; on a stream, no header means 0.
        return b"" if stream else body
    if len(set(values)) > 1:
        raise SipParseError("conflicting Content-Length headers")
    text = values[0]
    if not text.isdigit() or len(text) > 9:
        raise SipParseError(f"bad Content-Length {text!r}")
    length = int(text)
    if length > len(body):
        raise SipParseError(f"Content-Length {length} exceeds the {len(body)} body bytes received")
    if len(headers.get_all("Content-Length")) > 1:
        headers.set("Content-Length", text)
    return body[:length]  # extra bytes after Content-Length are discarded (§18.3)


_REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")


_SINGLE = frozenset({"From", "To", "Call-ID", "CSeq", "Max-Forwards"})
_ADDRESSES = frozenset({"From", "To", "Contact", "Route", "Record-Route"})


def _validate(message: Request | Response) -> None:
    seen: dict[str, str] = {}
    top_branch: str | None = None
    for name, value in message.headers:
        if name in _SINGLE and name in seen:
            raise SipParseError(f"more than one {name} header")
        if name == "Via":
            via = parse_via(value)
            if name not in seen:
                top_branch = via.branch
        elif name in _ADDRESSES and value != "*":
            parse_name_addr(value)
        seen.setdefault(name, value)
    for name in _REQUIRED:
        if name not in seen:
            raise SipParseError(f"missing {name} header")
    call_id = seen["Call-ID"]
    if not call_id or len(call_id.split()) != 1:
        raise SipParseError(f"bad Call-ID {call_id!r}")
    cseq = parse_cseq(seen["CSeq"])
    if isinstance(message, Request):
        if top_branch == BRANCH_COOKIE:
            # The magic cookie and nothing after it: no transaction id (RFC 4475 §3.2.1).
            raise SipParseError(f"Via branch {BRANCH_COOKIE!r} carries no transaction id")
        if cseq.method != message.method:
            raise SipParseError(f"CSeq method {cseq.method} does not match request method {message.method}")
        mf = seen.get("Max-Forwards")
        if mf is not None and (not mf.isdigit() or int(mf) > 255):
            raise SipParseError(f"bad Max-Forwards {mf!r}")


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    body: bytes = b"",
    content_type: str | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """Response to ``request`` per §8.2.6.2: Via, From, To, Call-ID and CSeq copied.

    ``to_tag`` is added to To unless it already has one or the status is 100. Record-Route is
    copied into 1xx/2xx (not 100) so that the dialog's route set reaches the caller (§12.1.1).
    """
    headers = Headers()
    for via in request.headers.get_all("Via"):
        headers.add("Via", via)
    headers.add("From", request.headers.get("From") or "")
    to_value = request.headers.get("To") or ""
    if to_tag and status != 100:
        try:
            to = parse_name_addr(to_value)
            if to.tag is None:
                to_value = str(to.with_tag(to_tag))
        except SipParseError:
            pass  # a 400 for a bad To keeps the To as received
    headers.add("To", to_value)
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", request.headers.get("CSeq") or "")
    if 100 < status < 300:
        for rr in request.headers.get_all("Record-Route"):
            headers.add("Record-Route", rr)
    if content_type:
        headers.add("Content-Type", content_type)
    for name, value in extra or []:
        headers.add(name, value)
    return Response(status, reason or REASON_PHRASES.get(status, ""), headers, body)


def bad_request_response(error: SipParseError) -> Response | None:
    """The 400 (or 505) for a request whose start line parsed but whose headers did not.

    None when there is nothing to answer: no request line was read, the request is an ACK
    (never answered, §17.2.1), or the headers a response must copy are not there at all.
    """
    request = error.partial
    if request is None or request.method == "ACK":
        return None
    if not request.headers.get_all("Via"):
        return None
    reason = re.sub(r"[\r\n\x00-\x1f]", " ", error.reason)[:120]
    status = error.status if error.status in (400, 505, 513) else 400
    return make_response(request, status, f"{REASON_PHRASES[status]} ({reason})", to_tag=new_tag())


class StreamFramer:
    """Cuts a TCP/TLS byte stream into whole messages by Content-Length (§18.3).

    ``feed`` takes any chunk and returns the messages completed by it. Between messages, a
    double CRLF is a keep-alive ping (RFC 5626 §3.5.1) and is returned as the ``PING`` marker;
    single CRLFs (pongs) are skipped. A framing error leaves the stream unusable: the caller
    must close the connection.
    """

    PING = b"\r\n\r\n"

    def __init__(self, max_header: int = MAX_HEADER_BYTES, max_body: int = MAX_BODY_BYTES) -> None:
        self._buf = bytearray()
        self._max_header = max_header
        self._max_body = max_body
        self._need: int | None = None  # total length of the message at the front, once known
        self.broken = False

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        if self.broken:
            raise SipParseError("stream already failed framing")
        self._buf += data
        out: list[bytes] = []
        while True:
            if self._need is None:
                if self._buf.startswith(b"\r\n"):
                    if self._buf.startswith(b"\r\n\r\n"):
                        del self._buf[:4]
                        out.append(self.PING)
                        continue
                    if b"\r\n\r\n".startswith(self._buf):
                        break  # could still become a ping
                    del self._buf[:2]
                    continue
                end = self._buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buf) > self._max_header:
                        self.broken = True
                        raise SipParseError("header section too large on stream", status=513)
                    break
                self._need = end + 4 + self._content_length(bytes(self._buf[:end]))
            if len(self._buf) < self._need:
                break
            out.append(bytes(self._buf[: self._need]))
            del self._buf[: self._need]
            self._need = None
        return out

    def _content_length(self, head: bytes) -> int:
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if colon and name.strip().lower() in (b"content-length", b"l"):
                text = value.strip()
                if not text.isdigit() or int(text) > self._max_body:
                    self.broken = True
                    raise SipParseError(f"bad Content-Length {text[:20]!r} on stream")
                return int(text)
        return 0
