"""Dialog state (RFC 3261 §12) for both roles, and in-dialog request construction."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from centrex.sip.errors import SipParseError
from centrex.sip.headers import Headers, NameAddr
from centrex.sip.message import Request, Response
from centrex.sip.uri import SipUri, Uri

# Requests that may change the remote target (§12.2, RFC 3311, RFC 6665 §4.1.2.3).
TARGET_REFRESH = frozenset({"INVITE", "UPDATE", "SUBSCRIBE", "NOTIFY", "REFER"})


class DialogState(enum.Enum):
    EARLY = "early"
    CONFIRMED = "confirmed"
    TERMINATED = "terminated"


@dataclass
class Dialog:
    """One dialog. ``local_uri``/``remote_uri`` are the From/To addresses without tags."""

    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: NameAddr
    remote_uri: NameAddr
    remote_target: Uri
    route_set: list[NameAddr] = field(default_factory=list)
    local_seq: int | None = None
    remote_seq: int | None = None
    local_contact: NameAddr | None = None
    secure: bool = False
    is_uac: bool = True
    state: DialogState = DialogState.EARLY

    @property
    def id(self) -> tuple[str, str, str]:
        """Dialog ID (§12): Call-ID, local tag, remote tag."""
        return self.call_id, self.local_tag, self.remote_tag

    @classmethod
    def from_uac(cls, request: Request, response: Response) -> Dialog:
        """Dialog of the UAC from its request and a 1xx (with To tag) or 2xx response (§12.1.2).

        The route set is the response's Record-Route in reverse order; the remote target is
        the response's Contact.
        """
        to = response.to
        if not to.tag:
            raise SipParseError("a response without a To tag cannot create a dialog")
        from_ = request.from_
        contacts = response.contacts
        target = contacts[0].uri if contacts else request.uri
        contact = request.contacts[0] if request.contacts else None
        return cls(
            call_id=request.call_id,
            local_tag=from_.tag or "",
            remote_tag=to.tag,
            local_uri=_untagged(from_),
            remote_uri=_untagged(to),
            remote_target=target,
            route_set=list(reversed(response.header_addresses("Record-Route"))),
            local_seq=request.cseq.seq,
            remote_seq=None,
            local_contact=contact,
            secure=isinstance(request.uri, SipUri) and request.uri.secure,
            is_uac=True,
            state=DialogState.CONFIRMED if 200 <= response.status < 300 else DialogState.EARLY,
        )

    @classmethod
    def from_uas(cls, request: Request, response: Response, local_contact: NameAddr | None = None) -> Dialog:
        """Dialog of the UAS from the request and the response it sends (§12.1.1).

        The route set is the request's Record-Route in order; the remote target is its Contact.
        """
        to = response.to
        if not to.tag:
            raise SipParseError("the response must carry our To tag")
        from_ = request.from_
        contacts = request.contacts
        if local_contact is None and response.contacts:
            local_contact = response.contacts[0]
        return cls(
            call_id=request.call_id,
            local_tag=to.tag,
            remote_tag=from_.tag or "",
            local_uri=_untagged(to),
            remote_uri=_untagged(from_),
            remote_target=contacts[0].uri if contacts else request.uri,
            route_set=request.header_addresses("Record-Route"),
            local_seq=None,
            remote_seq=request.cseq.seq,
            local_contact=local_contact,
            secure=isinstance(request.uri, SipUri) and request.uri.secure,
            is_uac=False,
            state=DialogState.CONFIRMED if 200 <= response.status < 300 else DialogState.EARLY,
        )

    def matches(self, message: Request | Response) -> bool:
        """Whether a message belongs to this dialog (Call-ID and both tags, §12.2.2)."""
        try:
            if message.call_id != self.call_id:
                return False
            from_tag, to_tag = message.from_.tag, message.to.tag
        except SipParseError:
            return False
        if isinstance(message, Request):
            return from_tag == self.remote_tag and to_tag == self.local_tag
        return from_tag == self.local_tag and to_tag == self.remote_tag

    def create_request(
        self,
        method: str,
        *,
        body: bytes = b"",
        content_type: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> Request:
        """An in-dialog request (§12.2.1.1): BYE, re-INVITE, INFO, REFER, NOTIFY, UPDATE...

        Takes the next local CSeq. Loose routing puts the remote target in the Request-URI
        and the whole route set in Route; a strict first hop (no ``lr``) gets the Request-URI
        and the remote target goes last in Route.
        """
        if method in ("ACK", "CANCEL"):
            raise ValueError(f"{method} is not built with create_request (use create_ack / build_cancel)")
        self.local_seq = (self.local_seq or 0) + 1
        return self._build(method, self.local_seq, body, content_type, extra)

    def create_ack(self, invite_cseq: int, *, body: bytes = b"", content_type: str | None = None) -> Request:
        """ACK for a 2xx to an INVITE (§13.2.2.4): the INVITE's CSeq number, method ACK."""
        return self._build("ACK", invite_cseq, body, content_type, None)

    def _build(
        self,
        method: str,
        seq: int,
        body: bytes,
        content_type: str | None,
        extra: list[tuple[str, str]] | None,
    ) -> Request:
        headers = Headers()
        uri, routes = self._routing()
        for route in routes:
            headers.add("Route", str(route))
        headers.add("Max-Forwards", "70")
        headers.add("From", str(self.local_uri.with_tag(self.local_tag)))
        headers.add("To", str(self.remote_uri.with_tag(self.remote_tag)))
        headers.add("Call-ID", self.call_id)
        headers.add("CSeq", f"{seq} {method}")
        if self.local_contact is not None and method in TARGET_REFRESH:
            headers.add("Contact", str(self.local_contact))
        if content_type:
            headers.add("Content-Type", content_type)
        for name, value in extra or []:
            headers.add(name, value)
        return Request(method, uri, headers, body)

    def _routing(self) -> tuple[Uri, list[NameAddr]]:
        if not self.route_set:
            return self.remote_target.copy(), []
        first = self.route_set[0].uri
        if isinstance(first, SipUri) and first.lr:
            return self.remote_target.copy(), [r.copy() for r in self.route_set]
        # Strict routing (RFC 2543 peers, §12.2.1.1).
        uri = first.copy()
        if isinstance(uri, SipUri):
            uri.params = {
                k: v for k, v in uri.params.items() if k not in ("method", "maddr", "ttl", "transport", "lr")
            }
            uri.headers = {}
        return uri, [r.copy() for r in self.route_set[1:]] + [NameAddr(self.remote_target.copy())]

    def receive_request(self, request: Request) -> bool:
        """Account for an in-dialog request (§12.2.2). False when its CSeq is lower than or
        equal to the last one: the TU answers 500 (§12.2.2). A target refresh request
        updates the remote target from its Contact."""
        seq = request.cseq.seq
        if request.method not in ("ACK", "CANCEL"):
            if self.remote_seq is not None and seq <= self.remote_seq:
                return False
            self.remote_seq = seq
        if request.method in TARGET_REFRESH and request.contacts:
            self.remote_target = request.contacts[0].uri
        if request.method == "BYE":
            self.state = DialogState.TERMINATED
        return True

    def receive_response(self, response: Response) -> None:
        """Account for a response to our in-dialog or dialog-creating request.

        A 2xx confirms an early dialog, recomputing the route set (§12.1.2); a 2xx to a target
        refresh request updates the remote target (§12.2.1.2); 481/408 end the dialog
        (§12.2.1.2)."""
        method = response.cseq.method
        if 200 <= response.status < 300:
            if self.state is DialogState.EARLY:
                self.state = DialogState.CONFIRMED
                if self.is_uac:
                    self.route_set = list(reversed(response.header_addresses("Record-Route")))
            if method in TARGET_REFRESH and response.contacts:
                self.remote_target = response.contacts[0].uri
        elif response.status in (408, 481) or (
            response.status >= 300 and self.state is DialogState.EARLY and method == "INVITE"
        ):
            self.state = DialogState.TERMINATED


def _untagged(addr: NameAddr) -> NameAddr:
    return NameAddr(addr.uri.copy(), addr.display_name, {k: v for k, v in addr.params.items() if k != "tag"})


def next_hop(request: Request) -> Uri:
    """The URI to resolve to send ``request`` (RFC 3263 input): the first Route, else the
    Request-URI (§8.1.2)."""
    routes = request.header_addresses("Route")
    return routes[0].uri if routes else request.uri
