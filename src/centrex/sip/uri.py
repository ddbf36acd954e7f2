"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), plus any other absolute URI as opaque text.

Parameter names are case-insensitive (§19.1.4), so they are stored lower-cased; values and the
user part are kept exactly as received (still %-escaped) so that serializing gives back the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from centrex.sip.errors import SipParseError

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
# RFC 3261 §25.1 hostname / IPv4 (kept permissive: the transport resolves, we only reject junk).
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-_]*[A-Za-z0-9])?\.?)+$|^[A-Za-z0-9]$")
_IPV6_RE = re.compile(r"^\[[0-9A-Fa-f:.]+\]$")
# user = 1*( unreserved / escaped / user-unreserved ); password adds ":"-free set (§25.1).
_USER_RE = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$")
_PASSWORD_RE = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$")
_PARAM_RE = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+$")
_HEADER_RE = re.compile(r"^(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$]|%[0-9A-Fa-f]{2})*$")
_TEL_RE = re.compile(r"^(?:\+[0-9\-.()]*[0-9][0-9\-.()]*|[0-9A-Fa-f*#\-.()pw]+)$")


def _check(pattern: re.Pattern[str], text: str, what: str, uri: str) -> None:
    if not pattern.match(text):
        raise SipParseError(f"bad {what} {text!r} in URI {uri!r}")


def _parse_params(text: str, uri: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for part in text.split(";"):
        name, eq, value = part.partition("=")
        _check(_PARAM_RE, name, "parameter name", uri)
        if eq:
            _check(_PARAM_RE, value, "parameter value", uri)
        params[name.lower()] = value if eq else None
    return params


def _format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


def split_host_port(text: str, uri: str = "") -> tuple[str, int | None]:
    """``host[:port]`` with IPv6 references in brackets; raises SipParseError."""
    where = uri or text
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"unterminated IPv6 reference in {where!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        _check(_IPV6_RE, host, "IPv6 host", where)
        if rest and not rest.startswith(":"):
            raise SipParseError(f"junk after IPv6 host in {where!r}")
        port_text = rest[1:] if rest else None
    else:
        host, colon, port_text_ = text.partition(":")
        port_text = port_text_ if colon else None
        if not host:
            raise SipParseError(f"empty host in {where!r}")
        _check(_HOST_RE, host, "host", where)
    if port_text is None:
        return host, None
    if not port_text.isdigit() or len(port_text) > 5 or int(port_text) > 65535:
        raise SipParseError(f"bad port {port_text!r} in {where!r}")
    return host, int(port_text)


def format_host_port(host: str, port: int | None) -> str:
    return host if port is None else f"{host}:{port}"


@dataclass(slots=True)
class SipUri:
    """``sip:`` or ``sips:`` URI. ``params`` and ``headers`` keep their order."""

    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    scheme: str = "sip"

    def __str__(self) -> str:
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out += [":", self.password]
            out.append("@")
        out.append(format_host_port(self.host, self.port))
        out.append(_format_params(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{k}={v}" for k, v in self.headers.items()))
        return "".join(out)

    @property
    def secure(self) -> bool:
        return self.scheme == "sips"

    @property
    def transport(self) -> str | None:
        value = self.params.get("transport")
        return value.upper() if value else None

    @property
    def lr(self) -> bool:
        """Loose-routing flag (§19.1.1); decides how a route set is applied (§12.2.1.1)."""
        return "lr" in self.params

    def copy(self) -> SipUri:
        return SipUri(
            self.host, self.user, self.password, self.port, dict(self.params), dict(self.headers), self.scheme
        )


@dataclass(slots=True)
class TelUri:
    """``tel:`` URI (RFC 3966): a global (+E.164) or local number with parameters."""

    number: str
    params: dict[str, str | None] = field(default_factory=dict)
    scheme: str = "tel"

    def __str__(self) -> str:
        return f"tel:{self.number}{_format_params(self.params)}"

    @property
    def is_global(self) -> bool:
        return self.number.startswith("+")

    def copy(self) -> TelUri:
        return TelUri(self.number, dict(self.params))


@dataclass(slots=True)
class AbsoluteUri:
    """Any other scheme (``urn:service:sos`` for 911, ``mailto:``...), kept as opaque text."""

    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"

    def copy(self) -> AbsoluteUri:
        return AbsoluteUri(self.scheme, self.rest)


Uri = SipUri | TelUri | AbsoluteUri


def parse_uri(text: str) -> Uri:
    """Parse a URI; raises SipParseError with the offending part named. Memoised by text (the
    same URIs come back in every request of a dialog); the caller gets its own copy."""
    if len(text) > 512:
        return _parse_uri(text)
    return _uri(text).copy()


def _parse_uri(text: str) -> Uri:
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME_RE.match(scheme) or not rest:
        raise SipParseError(f"not a URI: {text!r}")
    if any(c in text for c in ' \t\r\n<>"'):
        raise SipParseError(f"whitespace or delimiter inside URI {text!r}")
    lscheme = scheme.lower()
    if lscheme in ("sip", "sips"):
        return _parse_sip(lscheme, rest, text)
    if lscheme == "tel":
        number, _, ptext = rest.partition(";")
        _check(_TEL_RE, number, "telephone number", text)
        return TelUri(number, _parse_params(ptext, text) if ptext else {})
    return AbsoluteUri(lscheme, rest)


_uri = lru_cache(maxsize=4096)(_parse_uri)


def _parse_sip(scheme: str, rest: str, text: str) -> SipUri:
    # The user part may hold ';' and '?' (user-unreserved, §25.1) but never an unescaped '@',
    # so the last '@' ends it; the host part then carries ;params and ?headers.
    user = password = None
    userinfo, at, hostpart = rest.rpartition("@")
    if at:
        user, pcolon, pw = userinfo.partition(":")
        if not user:
            raise SipParseError(f"empty user part in {text!r}")
        _check(_USER_RE, user, "user", text)
        if pcolon:
            _check(_PASSWORD_RE, pw, "password", text)
            password = pw
    hostpart, qmark, htext = hostpart.partition("?")
    headers: dict[str, str] = {}
    if qmark:
        for item in htext.split("&"):
            name, eq, value = item.partition("=")
            if not eq or not name:
                raise SipParseError(f"bad URI header {item!r} in {text!r}")
            _check(_HEADER_RE, name, "URI header name", text)
            _check(_HEADER_RE, value, "URI header value", text)
            headers[name] = value
    hostport, semi, ptext = hostpart.partition(";")
    host, port = split_host_port(hostport, text)
    params = _parse_params(ptext, text) if semi else {}
    return SipUri(host, user, password, port, params, headers, scheme)
