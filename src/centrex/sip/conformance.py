"""Which answer a request gets before the switch acts on it (RFC 3261 §8.2, RFC 4475 §3).

Pure functions over a parsed Request: no sockets, no clock. ``check_request`` walks the UAS
checks of RFC 3261 §8.2 in the RFC's order and returns the Response the server must send, or
None when the request may go on to the registrar or the call engine:

1. §8.2.1 method: an unknown method (any token, ``RE%47IST%45R`` included) is 501 with Allow;
2. §8.2.2.1 Request-URI scheme: one the switch does not serve is 416 (sip, sips and tel are
   served: carriers send tel);
3. §8.2.2.2 loops: a request that carries one of our own Via sent-bys came back to us: 482;
4. §16.3 / RFC 4475 §3.3.11 Max-Forwards 0 on a request the switch would forward: 483;
5. §8.2.2.3 Require: an option-tag not in ``supported`` is 420 with Unsupported;
6. §8.2.3 content: a body of a type or encoding the switch cannot read is 415 with Accept /
   Accept-Encoding; an INVITE whose Accept rules out SDP is 406;
7. RFC 4475 §3.1.2.12: a Date that is not an RFC 1123 date in GMT is 400.

Malformed messages never get here: ``parse_message`` refuses them with SipParseError, and
``parse_failure_response`` turns that into 400/505, or 501 for an unknown method (RFC 4475
§3.1.2.18: a method check comes before the header checks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from centrex.sip.errors import SipParseError
from centrex.sip.headers import parse_params, split_list
from centrex.sip.message import (
    REASON_PHRASES,
    Request,
    Response,
    bad_request_response,
    make_response,
    new_tag,
)

# The IANA "Methods" registry: a method here that the switch does not handle is 405 (the engine
# says so, with Allow); anything else is unknown and 501 (§8.2.1, §21.5.2).
KNOWN_METHODS = frozenset(
    {
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "PRACK",
        "SUBSCRIBE",
        "NOTIFY",
        "PUBLISH",
        "INFO",
        "REFER",
        "MESSAGE",
        "UPDATE",
    }
)
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, REGISTER"
SERVED_SCHEMES = frozenset({"sip", "sips", "tel"})
# Requests the switch passes on to another hop (a B leg): Max-Forwards 0 stops them (§16.3 step
# 3 applied by a B2BUA). OPTIONS and REGISTER are answered here, as an endpoint would (RFC 4475
# §3.3.11: "an endpoint should process the request as if Max-Forwards were still positive").
FORWARDED_METHODS = frozenset({"INVITE", "MESSAGE", "SUBSCRIBE", "REFER"})
# Methods whose body the switch reads as a session description (offer/answer, RFC 3264).
SDP_METHODS = frozenset({"INVITE", "UPDATE", "PRACK", "ACK"})
# multipart/mixed: SDP with a PIDF-LO (RFC 6442) from phones that send their location.
SDP_BODY_TYPES = frozenset({"application/sdp", "multipart/mixed"})

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_DATE_RE = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$"
)


@dataclass(frozen=True)
class Conformance:
    """What this server is: the option-tags it really implements and the addresses it sends from.

    ``supported``: RFC 3261 §8.2.2.3 option-tags a request may Require. Only what the switch
    does end to end belongs here (the call engine adds ``timer``, ``100rel`` and ``replaces``
    once it handles them; see docs/switch.md "Conformance"). ``local``: the (host, port) sent-bys
    of our own Vias, for loop detection.
    """

    supported: frozenset[str] = frozenset()
    local: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def with_local(self, addresses: Iterable[tuple[str, int]]) -> Conformance:
        extra = {(host.lower(), port) for host, port in addresses}
        return Conformance(self.supported, self.local | extra)


# The switch today: RFC 4028 session timers on both sides of a call (calls/session_timers.py).
# Not claimed: 100rel as a UAS toward phones (the switch PRACKs carriers' reliable provisionals
# but sends none itself) and Replaces in an INVITE (it is honoured in a REFER's Refer-To only).
SWITCH_CONFORMANCE = Conformance(frozenset({"timer"}))


def check_request(request: Request, policy: Conformance) -> Response | None:
    """The response RFC 3261 §8.2 requires before processing ``request``, or None to go on.

    ACK and CANCEL are never refused here: an ACK gets no response at all (§17.2.1) and a
    CANCEL is matched to its INVITE by the transaction layer (§9.2). A header read only here
    (Require, Accept, Content-Encoding) that does not parse is a 400 naming it.
    """
    try:
        return _check(request, policy)
    except SipParseError as exc:
        return _reply(request, 400, f"Bad Request ({exc.reason[:100]})")


def _check(request: Request, policy: Conformance) -> Response | None:
    method = request.method
    if method in ("ACK", "CANCEL"):
        return None
    if method not in KNOWN_METHODS:
        return _reply(request, 501, f"Not Implemented (method {method[:40]})", [("Allow", ALLOW)])
    scheme = request.uri.scheme.lower()
    if scheme not in SERVED_SCHEMES:
        return _reply(request, 416, f"Unsupported URI Scheme ({scheme[:40]})")
    if method == "REGISTER":
        refused = _register_schemes(request)
        if refused is not None:
            return refused
    if _looped(request, policy.local):
        return _reply(request, 482)
    if method in FORWARDED_METHODS and request.max_forwards == 0 and not _in_dialog(request):
        return _reply(request, 483)
    unsupported = unsupported_option_tags(request, policy.supported)
    if unsupported:
        return _reply(request, 420, extra=[("Unsupported", ", ".join(unsupported))])
    refused = _content(request)
    if refused is not None:
        return refused
    date = request.headers.get("Date")
    if date is not None and not _DATE_RE.match(date.strip()):
        return _reply(request, 400, "Bad Request (Date must be an RFC 1123 date in GMT)")
    return None


def parse_failure_response(error: SipParseError) -> Response | None:
    """What a request that did not parse gets: 501 when its method is unknown (method
    inspection comes first, §8.2.1; RFC 4475 §3.1.2.18 prefers 501 to 400), else the 400/505
    of ``bad_request_response``. None when nothing can be answered (no request line, an ACK,
    no Via to send the answer along)."""
    request = error.partial
    if request is not None and request.method not in KNOWN_METHODS and request.headers.get_all("Via"):
        return make_response(request, 501, extra=[("Allow", ALLOW)], to_tag=new_tag())
    return bad_request_response(error)


def unsupported_option_tags(request: Request, supported: frozenset[str]) -> list[str]:
    """Require option-tags not in ``supported``, in the order written (§8.2.2.3: compared
    case-sensitively... in practice tags are lower-case tokens; we compare lower-cased)."""
    wanted = [tag for value in request.headers.get_all("Require") for tag in split_list(value)]
    return [tag for tag in wanted if tag.lower() not in supported]


def accepts_sdp(request: Request) -> bool:
    """Whether the request's Accept takes application/sdp (§20.1: no Accept means SDP; an empty
    one means nothing). The most specific matching range decides; q=0 refuses."""
    values = request.headers.get_all("Accept")
    if not values:
        return True
    best: tuple[int, float] | None = None  # (specificity, q)
    for value in values:
        for item in split_list(value):
            mtype, _, ptext = item.partition(";")
            mtype = mtype.strip().lower()
            specificity = {"application/sdp": 2, "application/*": 1, "*/*": 0}.get(mtype)
            if specificity is None:
                continue
            try:
                q = float(parse_params(ptext).get("q") or "1") if ptext else 1.0
            except (SipParseError, ValueError):
                q = 1.0
            if best is None or specificity > best[0]:
                best = (specificity, q)
    return best is not None and best[1] > 0


def _content(request: Request) -> Response | None:
    if request.method not in SDP_METHODS:
        return None
    encoding = request.headers.get("Content-Encoding")
    if encoding is not None and any(e.lower() != "identity" for e in split_list(encoding)):
        return _reply(
            request, 415, "Unsupported Media Type (Content-Encoding)", [("Accept-Encoding", "identity")]
        )
    if request.body:
        ctype = request.content_type
        if ctype is None:
            return _reply(request, 400, "Bad Request (a body needs a Content-Type)")
        if ctype not in SDP_BODY_TYPES:
            accept = ", ".join(sorted(SDP_BODY_TYPES))
            return _reply(request, 415, f"Unsupported Media Type ({ctype[:60]})", [("Accept", accept)])
    if request.method == "INVITE" and not accepts_sdp(request):
        return _reply(
            request, 406, "Not Acceptable (Accept rules out application/sdp)", [("Accept", "application/sdp")]
        )
    return None


def _register_schemes(request: Request) -> Response | None:
    """A registration binds a sip/sips address-of-record (§10.3 step 3) to contacts the switch
    can call; any other scheme in To or Contact is one it does not serve (RFC 4475 §3.3.4)."""
    to = request.to.uri.scheme.lower()
    if to not in ("sip", "sips"):
        return _reply(request, 416, f"Unsupported URI Scheme ({to[:40]} in To)")
    for contact in request.contacts:
        scheme = contact.uri.scheme.lower()
        if scheme not in SERVED_SCHEMES:
            return _reply(request, 416, f"Unsupported URI Scheme ({scheme[:40]} in Contact)")
    return None


def _looped(request: Request, local: frozenset[tuple[str, int]]) -> bool:
    if not local:
        return False
    raw = [v.lower() for v in request.headers.get_all("Via")]
    # Most requests never name one of our hosts: a substring test spares parsing their Vias.
    if not any(host in v for v in raw for host, _ in local):
        return False
    return any(via.sent_by in local for via in request.vias)


def _in_dialog(request: Request) -> bool:
    return request.to.tag is not None


def _reply(
    request: Request, status: int, reason: str | None = None, extra: list[tuple[str, str]] | None = None
) -> Response:
    # A reason phrase may quote the request; control characters would break the status line.
    text = _CONTROL_RE.sub(" ", reason) if reason else REASON_PHRASES[status]
    return make_response(request, status, text, to_tag=new_tag(), extra=extra)
