"""Header names, the header list, and the typed headers the transaction layer needs.

RFC 3261 §7.3: names are case-insensitive and have compact forms; a header whose grammar is a
comma-separated list may be split across lines or joined on one, with the same meaning. The
parser stores one value per entry, so ``Via: a, b`` and two ``Via`` lines parse equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from centrex.sip.errors import SipParseError
from centrex.sip.uri import Uri, format_host_port, parse_uri, split_host_port

# RFC 3261 §7.3.3 plus the later registrations (IANA "Header Fields" compact forms).
COMPACT_FORMS: dict[str, str] = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

# Names whose conventional spelling is not plain Title-Case.
_SPECIAL_NAMES = {
    n.lower(): n
    for n in (
        "Call-ID",
        "CSeq",
        "WWW-Authenticate",
        "MIME-Version",
        "RAck",
        "RSeq",
        "SIP-ETag",
        "SIP-If-Match",
        "P-Asserted-Identity",
        "P-Preferred-Identity",
        "Min-SE",
        "P-Charging-Vector",
        "P-Access-Network-Info",
    )
}

# Headers whose grammar is a comma-separated list (§7.3.1). Authorization-type headers are NOT
# here: their commas separate parameters of one value.
MULTI_VALUE = frozenset(
    {
        "Via",
        "Route",
        "Record-Route",
        "Contact",
        "Path",
        "Service-Route",
        "Allow",
        "Supported",
        "Require",
        "Proxy-Require",
        "Unsupported",
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Content-Encoding",
        "Allow-Events",
        "In-Reply-To",
        "P-Asserted-Identity",
    }
)

_TOKEN_RE = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")

# Parsed values are memoised by their text: one message's From, To, Via and CSeq are read many
# times (validation, transaction matching, the registrar, the engine) and a dialog's repeat. The
# cache returns copies of what callers may change, and skips long values, so a flood of large
# headers cannot fill memory.
MEMO_SIZE = 4096
MEMO_MAX_LEN = 512


def is_token(text: str) -> bool:
    return bool(_TOKEN_RE.match(text))


@lru_cache(maxsize=1024)
def canonical_name(name: str) -> str:
    """``v`` -> ``Via``, ``call-id`` -> ``Call-ID``, ``x-foo-bar`` -> ``X-Foo-Bar``."""
    lower = name.lower()
    if lower in COMPACT_FORMS:
        return COMPACT_FORMS[lower]
    if lower in _SPECIAL_NAMES:
        return _SPECIAL_NAMES[lower]
    return "-".join(part[:1].upper() + part[1:] for part in lower.split("-"))


def _scan(text: str, seps: str) -> list[str]:
    """Split on any of ``seps`` outside quoted strings and <...>; backslash escapes honoured."""
    parts: list[str] = []
    start = 0
    i = 0
    in_quote = in_angle = False
    n = len(text)
    while i < n:
        c = text[i]
        if in_quote:
            if c == "\\":
                i += 1
            elif c == '"':
                in_quote = False
        elif c == '"':
            in_quote = True
        elif in_angle:
            if c == ">":
                in_angle = False
        elif c == "<":
            in_angle = True
        elif c in seps:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if in_quote:
        raise SipParseError(f"unterminated quoted string in {text!r}")
    if in_angle:
        raise SipParseError(f"unterminated <...> in {text!r}")
    parts.append(text[start:])
    return parts


def split_list(value: str) -> list[str]:
    """Elements of a comma-separated header value, trimmed; empty elements are dropped."""
    parts = value.split(",") if '"' not in value and "<" not in value else _scan(value, ",")
    return [p.strip() for p in parts if p.strip()]


# Characters a quoted-string may only carry as a quoted-pair (§25.1): NUL...US but HT, and DEL.
_NEEDS_ESCAPE_RE = re.compile(r'[\\"\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


def quote(text: str) -> str:
    """A quoted-string of ``text``. CR and LF cannot be escaped (they would end the header
    line), so they become spaces."""
    if "\r" in text or "\n" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    return '"' + _NEEDS_ESCAPE_RE.sub(lambda m: "\\" + m.group(0), text) + '"'


_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.S)


def unquote(text: str) -> str:
    """Strip one level of quoting (RFC 3261 §25.1 quoted-pair); unquoted text is returned as is."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        return _QUOTED_PAIR_RE.sub(r"\1", inner) if "\\" in inner else inner
    return text


def parse_params(text: str) -> dict[str, str | None]:
    """``;a=b;c;d="x;y"`` (leading ';' optional). Names lower-cased, values kept verbatim."""
    params: dict[str, str | None] = {}
    parts = text.split(";") if '"' not in text and "<" not in text else _scan(text, ";")
    for part in parts:
        part = part.strip()
        if not part:
            continue
        name, eq, value = part.partition("=")
        name = name.strip()
        if not is_token(name):
            raise SipParseError(f"bad parameter name {name!r}")
        value = value.strip()
        if eq and not value:
            raise SipParseError(f"empty value for parameter {name!r}")
        if eq and not (is_token(value) or _is_quoted(value) or _is_host_value(value)):
            raise SipParseError(f"bad value {value!r} for parameter {name!r}")
        params[name.lower()] = value if eq else None
    return params


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == '"' and value[-1] == '"'


def _is_host_value(value: str) -> bool:
    # gen-value = token / host / quoted-string; an IPv6 reference is the one host that is no token.
    return value.startswith("[") and value.endswith("]")


def format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


@dataclass(slots=True)
class Via:
    """One Via value (§20.42): ``SIP/2.0/UDP host:port;branch=...;rport;received=...``."""

    transport: str
    host: str
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"SIP/2.0/{self.transport} {format_host_port(self.host, self.port)}{format_params(self.params)}"
        )

    @property
    def branch(self) -> str | None:
        return self.params.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def rport(self) -> int | None:
        """The rport value filled in by the server (RFC 3581), None if absent or still empty."""
        value = self.params.get("rport")
        return int(value) if value and value.isdigit() else None

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def sent_by(self) -> tuple[str, int]:
        """sent-by with the default port of the transport (§18.2.2: 5061 for TLS, else 5060)."""
        return self.host.lower(), self.port or (5061 if self.transport == "TLS" else 5060)


_VIA_RE = re.compile(r"^SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-.!%*_+`'~]+)\s+(.*)$", re.I | re.S)


def parse_via(value: str) -> Via:
    v = _via(value) if len(value) <= MEMO_MAX_LEN else _parse_via(value)
    return Via(v.transport, v.host, v.port, dict(v.params))  # callers stamp received/rport


def _parse_via(value: str) -> Via:
    match = _VIA_RE.match(value.strip())
    if not match:
        raise SipParseError(f"bad Via {value!r}")
    transport, rest = match.group(1).upper(), match.group(2)
    hostport, semi, ptext = rest.partition(";")
    host, port = split_host_port(hostport.strip().replace(" ", ""), value)
    params = parse_params(ptext) if semi else {}
    branch = params.get("branch", "")
    if "branch" in params and not branch:
        raise SipParseError(f"empty branch in Via {value!r}")
    rport = params.get("rport")
    if rport is not None and not (rport.isdigit() and int(rport) <= 65535):
        raise SipParseError(f"bad rport in Via {value!r}")
    return Via(transport, host, port, params)


_via = lru_cache(maxsize=MEMO_SIZE)(_parse_via)


@dataclass(slots=True)
class NameAddr:
    """From/To/Contact/Route value (§20.10): optional display name, a URI, header parameters."""

    uri: Uri
    display_name: str | None = None
    params: dict[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        display = quote(self.display_name) + " " if self.display_name else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri.copy(), self.display_name, {**self.params, "tag": tag})

    def copy(self) -> NameAddr:
        return NameAddr(self.uri.copy(), self.display_name, dict(self.params))


def parse_name_addr(value: str) -> NameAddr:
    a = _name_addr(value) if len(value) <= MEMO_MAX_LEN else _parse_name_addr(value)
    return NameAddr(a.uri.copy(), a.display_name, dict(a.params))


def _parse_name_addr(value: str) -> NameAddr:
    text = value.strip()
    if not text:
        raise SipParseError("empty address")
    display: str | None = None
    if text.startswith('"'):
        end = 1
        while end < len(text):
            if text[end] == "\\":
                end += 2
                continue
            if text[end] == '"':
                break
            end += 1
        else:
            raise SipParseError(f"unterminated display name in {value!r}")
        display = unquote(text[: end + 1])
        text = text[end + 1 :].lstrip()
        if not text.startswith("<"):
            raise SipParseError(f"quoted display name without <URI> in {value!r}")
    lt = text.find("<")
    if lt >= 0:
        if display is None:
            name = text[:lt].strip()
            if name and not all(is_token(w) for w in name.split()):
                raise SipParseError(f"bad display name {name!r}")
            display = " ".join(name.split()) or None
        gt = text.find(">", lt)
        if gt < 0:
            raise SipParseError(f"missing '>' in {value!r}")
        inner = text[lt + 1 : gt]
        if inner != inner.strip():
            # LWS inside <> is not allowed (§25.1 name-addr; RFC 4475 §3.1.2.14).
            raise SipParseError(f"spaces inside <...> in {value!r}")
        uri = parse_uri(inner)
        rest = text[gt + 1 :].strip()
        if rest and not rest.startswith(";"):
            raise SipParseError(f"junk after <URI> in {value!r}")
    else:
        # addr-spec form: the parameters belong to the header, not the URI (§20.10).
        uri_text, _, rest = text.partition(";")
        uri_text = uri_text.strip()
        if any(c in uri_text for c in "?, "):
            raise SipParseError(f"addr-spec with '?', ',' or spaces must use <...>: {value!r}")
        uri = parse_uri(uri_text.strip())
        rest = ";" + rest if rest else ""
    return NameAddr(uri, display, parse_params(rest) if rest else {})


_name_addr = lru_cache(maxsize=MEMO_SIZE)(_parse_name_addr)


@dataclass(frozen=True, slots=True)
class CSeq:
    seq: int
    method: str

    def __str__(self) -> str:
        return f"{self.seq} {self.method}"


def parse_cseq(value: str) -> CSeq:
    return _cseq(value) if len(value) <= MEMO_MAX_LEN else _parse_cseq(value)  # CSeq is frozen


def _parse_cseq(value: str) -> CSeq:
    parts = value.split()
    # §8.1.1.5: the number is a 32-bit unsigned integer.
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 10 or int(parts[0]) >= 2**32:
        raise SipParseError(f"bad CSeq {value!r}")
    if not is_token(parts[1]):
        raise SipParseError(f"bad CSeq method {parts[1]!r}")
    return CSeq(int(parts[0]), parts[1])


_cseq = lru_cache(maxsize=MEMO_SIZE)(_parse_cseq)


def parse_auth_params(value: str) -> tuple[str, dict[str, str]]:
    """``Digest realm="x", nonce="y"`` -> (``Digest``, {realm: x, nonce: y}); values unquoted."""
    if len(value) > MEMO_MAX_LEN * 2:
        return _parse_auth_params(value)
    scheme, params = _auth_params(value)
    return scheme, dict(params)


def _parse_auth_params(value: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = value.strip().partition(" ")
    if not is_token(scheme):
        raise SipParseError(f"bad auth scheme in {value!r}")
    params: dict[str, str] = {}
    for item in _scan(rest, ","):
        item = item.strip()
        if not item:
            continue
        name, eq, val = item.partition("=")
        name = name.strip().lower()
        if not eq or not is_token(name):
            raise SipParseError(f"bad auth parameter {item!r}")
        params[name] = unquote(val.strip())
    return scheme, params


_auth_params = lru_cache(maxsize=MEMO_SIZE)(_parse_auth_params)


class Headers:
    """Ordered header list with case-insensitive, compact-form-aware access.

    Names are stored canonical (``Call-ID``), values as strings without the line break.
    """

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(n), v) for n, v in items or []]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        cname = canonical_name(name)
        return any(n == cname for n, _ in self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def get(self, name: str, default: str | None = None) -> str | None:
        cname = canonical_name(name)
        for n, v in self._items:
            if n == cname:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        cname = canonical_name(name)
        return [v for n, v in self._items if n == cname]

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def prepend(self, name: str, value: str) -> None:
        """Insert before the first header of that name (a new top Via or Record-Route)."""
        cname = canonical_name(name)
        for i, (n, _) in enumerate(self._items):
            if n == cname:
                self._items.insert(i, (cname, value))
                return
        self._items.append((cname, value))

    def set(self, name: str, value: str) -> None:
        """Replace every header of that name by one value, keeping the first one's position."""
        cname = canonical_name(name)
        for i, (n, _) in enumerate(self._items):
            if n == cname:
                self._items[i] = (cname, value)
                self._items = [item for j, item in enumerate(self._items) if j <= i or item[0] != cname]
                return
        self._items.append((cname, value))

    def set_all(self, name: str, values: list[str]) -> None:
        self.remove(name)
        for v in values:
            self.add(name, v)

    def remove(self, name: str) -> int:
        cname = canonical_name(name)
        before = len(self._items)
        self._items = [item for item in self._items if item[0] != cname]
        return before - len(self._items)

    def replace_first(self, name: str, value: str) -> None:
        cname = canonical_name(name)
        for i, (n, _) in enumerate(self._items):
            if n == cname:
                self._items[i] = (cname, value)
                return
        raise KeyError(name)

    def copy(self) -> Headers:
        h = Headers()
        h._items = list(self._items)
        return h
