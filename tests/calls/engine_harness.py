"""Drive a CallEngine without sockets: a recording network and phones made of parsed messages."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.engine import CallEngine
from centrex.calls.events import CallEnded
from centrex.calls.guard import SourceGuard
from centrex.calls.location import Binding, LocationService
from centrex.sip.events import (
    Address,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    TransactionKey,
    TransactionTimedOut,
)
from centrex.sip.headers import Via
from centrex.sip.message import Request, Response, make_response, new_tag
from centrex.switchboard import standard_services

from .helpers import DOMAIN_A, Org, answer, make_org, msg

SDP = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


@dataclass
class Sent:
    transport: str
    message: Request | Response
    addr: Address | None = None
    key: TransactionKey | None = None


@dataclass
class FakeNetwork:
    sent: list[Sent] = field(default_factory=list)
    cancels: list[TransactionKey] = field(default_factory=list)
    _n: itertools.count = field(default_factory=itertools.count)  # type: ignore[type-arg]

    def send_request(self, transport: str, request: Request, addr: Address) -> TransactionKey:
        branch = f"z9hG4bKsrv{next(self._n)}"
        request.headers.prepend("Via", str(Via(transport, "192.0.2.1", 5060, {"branch": branch})))
        key = TransactionKey(branch, "INVITE" if request.method == "ACK" else request.method)
        self.sent.append(Sent(transport, request, addr, key))
        return key

    def send_response(self, transport: str, response: Response) -> None:
        self.sent.append(Sent(transport, response))

    def send_cancel(self, transport: str, key: TransactionKey) -> None:
        self.cancels.append(key)

    def contact(self, transport: str) -> str:
        return f"<sip:192.0.2.1:5060;transport={transport.lower()}>"

    def take(self) -> list[Sent]:
        out, self.sent = self.sent, []
        return out


@dataclass
class Bench:
    org: Org
    engine: CallEngine
    net: FakeNetwork
    location: LocationService
    guard: SourceGuard
    ended: list[CallEnded]
    now: float = 0.0

    def user(self, ext: str, domain: str = DOMAIN_A):  # type: ignore[no-untyped-def]
        return self.org.users[(domain, ext)]

    def register(self, ext: str, port: int, domain: str = DOMAIN_A, transport: str = "UDP") -> None:
        tenant = self.org.directory.tenants[domain]
        device = self.org.directory.devices[(tenant.id, ext)]
        self.location.save(
            Binding(
                tenant.id,
                ext,
                device.id,
                device.user_id,
                f"sip:{ext}@10.0.0.9:{port}",
                self.now + 3600,
                f"reg{port}",
                1,
                ("10.0.0.9", port),
                transport,
            )
        )

    def set_user(self, ext: str, **changes: object) -> None:
        from dataclasses import replace

        u = self.user(ext)
        nu = replace(u, **changes)  # type: ignore[arg-type]
        self.org.directory.users[u.id] = nu
        self.org.users[(DOMAIN_A, ext)] = nu

    def request(self, req: Request, addr: Address, transport: str = "UDP") -> TransactionKey:
        via = req.top_via
        key = TransactionKey(
            via.branch or "", "INVITE" if req.method == "ACK" else req.method, via.sent_by, True
        )
        self.engine.handle(
            RequestReceived(req, addr, None if req.method == "ACK" else key), transport, self.now
        )
        return key

    def respond(self, sent: Sent, status: int, to_tag: str = "", body: bytes = b"") -> None:
        assert isinstance(sent.message, Request) and sent.key is not None
        resp = make_response(
            sent.message,
            status,
            to_tag=to_tag or None,
            body=body,
            content_type="application/sdp" if body else None,
            extra=[("Contact", f"<sip:phone@{sent.addr[0]}:{sent.addr[1]}>")] if sent.addr else None,
        )
        self.engine.handle(ResponseReceived(resp, sent.addr or ("0", 0), sent.key), sent.transport, self.now)

    def cancel(self, key: TransactionKey) -> None:
        self.engine.handle(CancelReceived(msg(_cancel_text()), ("10.0.0.9", 5061), key), "UDP", self.now)

    def timeout(self, key: TransactionKey, timer: str = "B") -> None:
        self.engine.handle(TransactionTimedOut(key, timer), "UDP", self.now)

    def tick(self, seconds: float) -> None:
        self.now += seconds
        self.engine.handle_timer(self.now)

    def call(self, caller: str, dialled: str, port: int = 5061, domain: str = DOMAIN_A) -> TransactionKey:
        """INVITE from ``caller`` (challenged with 407, then authenticated). Returns the A key."""
        first = invite_req(caller, dialled, domain, call_id=f"a-{uuid.uuid4().hex[:8]}", port=port)
        self.request(first, ("10.0.0.9", port))
        challenge = self.net.take()[-1].message
        assert isinstance(challenge, Response) and challenge.status == 407
        second = invite_req(
            caller, dialled, domain, call_id=first.call_id, cseq=2, port=port, branch="z9hG4bKa2"
        )
        second.headers.add("Proxy-Authorization", answer(challenge, second, caller))
        self.a_invite = second
        return self.request(second, ("10.0.0.9", port))

    def invites(self) -> list[Sent]:
        return [s for s in self.net.sent if isinstance(s.message, Request) and s.message.method == "INVITE"]

    def responses(self) -> list[Response]:
        return [s.message for s in self.net.sent if isinstance(s.message, Response)]


def _cancel_text() -> str:
    return "\n".join(
        [
            "CANCEL sip:1002@a.example.com SIP/2.0",
            "Via: SIP/2.0/UDP 10.0.0.9:5061;branch=z9hG4bKa2",
            "From: <sip:1001@a.example.com>;tag=fa",
            "To: <sip:1002@a.example.com>",
            "Call-ID: x",
            "CSeq: 2 CANCEL",
            "Content-Length: 0",
        ]
    )


def invite_req(
    caller: str,
    dialled: str,
    domain: str = DOMAIN_A,
    *,
    call_id: str = "a-call",
    cseq: int = 1,
    port: int = 5061,
    branch: str = "z9hG4bKa1",
) -> Request:
    text = "\n".join(
        [
            f"INVITE sip:{dialled}@{domain} SIP/2.0",
            f"Via: SIP/2.0/UDP 10.0.0.9:{port};branch={branch}",
            "Max-Forwards: 70",
            f'From: "Spoofed Name" <sip:{caller}@{domain}>;tag=fa{caller}',
            f"To: <sip:{dialled}@{domain}>",
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} INVITE",
            f"Contact: <sip:{caller}@10.0.0.9:{port}>",
            "Content-Type: application/sdp",
        ]
    )
    req = msg(text)
    req.body = SDP
    return req


def in_dialog(
    method: str, call_id: str, from_tag: str, to_tag: str, cseq: int, branch: str, body: bytes = b""
) -> Request:
    req = msg(
        "\n".join(
            [
                f"{method} sip:192.0.2.1:5060 SIP/2.0",
                f"Via: SIP/2.0/UDP 10.0.0.9:5061;branch={branch}",
                "Max-Forwards: 70",
                f"From: <sip:x@a.example.com>;tag={from_tag}",
                f"To: <sip:y@a.example.com>;tag={to_tag}",
                f"Call-ID: {call_id}",
                f"CSeq: {cseq} {method}",
                "Contact: <sip:x@10.0.0.9:5061>",
            ]
        )
    )
    req.body = body
    if body:
        req.headers.add("Content-Type", "application/sdp")
    return req


def make_bench() -> Bench:
    org = make_org()
    guard = SourceGuard()
    location = LocationService()
    net = FakeNetwork()
    ended: list[CallEnded] = []
    auth = PhoneAuthenticator(org.directory, b"k" * 32, guard)
    engine = CallEngine(
        org.directory, auth, location, net, on_call_ended=ended.append, services=standard_services().ordered()
    )
    return Bench(org, engine, net, location, guard, ended)


def fresh_tag() -> str:
    return new_tag()
