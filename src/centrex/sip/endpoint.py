"""SipEndpoint: the RFC 3261 transaction layer as a sans-I/O state machine.

Bytes and time in; events and bytes out. No sockets, no clock. The I/O shell (transport/) calls
``receive_datagram`` (or ``receive_stream_data`` on TCP/TLS) and ``handle_timer`` when
``next_timer`` is due, then sends ``datagrams_to_send`` and hands ``next_event`` results to the
application. One endpoint serves one transport: UDP (unreliable: retransmissions) or a stream
transport (reliable: no retransmissions, timers D/I/J/K zero), shared by all its connections;
``addr`` names the peer, which for streams is also the connection.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque

from centrex.sip.conformance import Conformance, check_request, parse_failure_response
from centrex.sip.errors import SipParseError
from centrex.sip.events import (
    Address,
    CancelReceived,
    Event,
    ParseFailed,
    RequestReceived,
    RequestRefused,
    TransactionKey,
    TransportError,
)
from centrex.sip.headers import Via, parse_via
from centrex.sip.message import (
    BRANCH_COOKIE,
    Request,
    Response,
    StreamFramer,
    make_response,
    new_branch,
    new_tag,
    parse_message,
)
from centrex.sip.stun import binding_response
from centrex.sip.transaction import (
    ClientTransaction,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    ServerTransaction,
    State,
    TimerConfig,
    Transaction,
    build_cancel,
)
from centrex.sip.uri import AbsoluteUri

_DUMMY_URI = AbsoluteUri("x-response", "match")
RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "WS", "WSS", "SCTP"})


def server_key(request: Request, via: Via) -> TransactionKey:
    """§17.2.3: branch + sent-by + method (ACK matches the INVITE). Pre-3261 peers without the
    magic cookie are matched on Call-ID, From tag and CSeq number instead (§17.2.3, simplified)."""
    method = "INVITE" if request.method == "ACK" else request.method
    branch = via.branch or ""
    if not branch.startswith(BRANCH_COOKIE):
        branch = f"2543:{branch}:{request.call_id}:{request.from_.tag}:{request.cseq.seq}"
    return TransactionKey(branch, method, via.sent_by, server=True)


def response_address(via: Via, source: Address | None = None, reliable: bool = False) -> Address:
    """Where a response goes (§18.2.2, RFC 3581 §4). On a stream: back on the connection the
    request came from. On UDP: ``received`` (the source IP) and the ``rport`` value when the
    client asked for rport, else the sent-by port."""
    if reliable and source is not None:
        return source
    host = via.received or via.host
    if via.rport is not None:
        return host, via.rport
    if "rport" in via.params and source is not None:
        return host, source[1]
    return host, via.port or (5061 if via.transport == "TLS" else 5060)


def stamp_via(request: Request, addr: Address) -> Via:
    """Fill ``received`` and ``rport`` into the top Via (§18.2.1, RFC 3581 §4) and return it.

    ``received`` is added when sent-by is not the source IP, or whenever rport was asked for.
    """
    via = request.top_via
    host = via.host.strip("[]")
    changed = False
    if "rport" in via.params:
        via.params["rport"] = str(addr[1])
        via.params["received"] = addr[0]
        changed = True
    elif host != addr[0]:
        via.params["received"] = addr[0]
        changed = True
    if changed:
        request.headers.replace_first("Via", str(via))
    return via


class SipEndpoint:
    """RFC 3261 transaction layer. Bytes and time in; events and bytes out. No sockets, no clock.

    ``local`` is the (host, port) written into the Via of requests we send; ``transport`` is
    UDP, TCP, TLS or WS. ``reliable`` defaults from the transport.

    ``conformance``, when set, makes this a conformant UAS front (RFC 3261 §8.2): a request
    that ``check_request`` refuses is answered through its server transaction and never reaches
    the TU (a RequestRefused event says so), and merged requests (§8.2.2.2) get 482.
    """

    def __init__(
        self,
        local: Address = ("127.0.0.1", 5060),
        transport: str = "UDP",
        *,
        reliable: bool | None = None,
        timers: TimerConfig | None = None,
        conformance: Conformance | None = None,
    ) -> None:
        self.local = local
        self.conformance = conformance
        self.transport = transport.upper()
        self.reliable = self.transport in RELIABLE_TRANSPORTS if reliable is None else reliable
        self.timers = timers or TimerConfig()
        self._client: dict[TransactionKey, ClientTransaction] = {}
        self._server: dict[TransactionKey, ServerTransaction] = {}
        # (Call-ID, CSeq number) -> INVITE server transaction in Accepted, to match the 2xx ACK.
        self._accepted: dict[tuple[str, int], InviteServerTransaction] = {}
        self._heap: list[tuple[float, int, Transaction, str]] = []
        self._seq = itertools.count()
        self._out: list[tuple[bytes, Address]] = []
        self._events: deque[Event] = deque()
        self._framers: dict[Address, StreamFramer] = {}
        # (Call-ID, From tag, CSeq, method) of live server transactions of out-of-dialog requests
        # -> their key: the same request arriving by a second path is a merged request (482).
        self._origins: dict[tuple[str, str, int, str], TransactionKey] = {}

    # -- TransactionHost -------------------------------------------------------------------
    def send(self, data: bytes, addr: Address) -> None:
        self._out.append((data, addr))

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def arm(self, txn: Transaction, name: str, deadline: float) -> None:
        heapq.heappush(self._heap, (deadline, next(self._seq), txn, name))

    def terminated(self, txn: Transaction) -> None:
        if isinstance(txn, ServerTransaction):
            if self._server.get(txn.key) is txn:
                del self._server[txn.key]
            if self._origins:
                origin = _origin(txn.request)
                if self._origins.get(origin) == txn.key:
                    del self._origins[origin]
            if isinstance(txn, InviteServerTransaction):
                akey = (txn.request.call_id, txn.request.cseq.seq)
                if self._accepted.get(akey) is txn:
                    del self._accepted[akey]
        elif self._client.get(txn.key) is txn:
            del self._client[txn.key]

    # -- public API ------------------------------------------------------------------------
    def receive_datagram(self, data: bytes, addr: Address, now: float) -> None:
        """One UDP datagram, or one whole message cut from a stream. Never raises on bad input.
        A STUN Binding request on UDP is a keep-alive (RFC 5626 §3.5.1, §4.4.2): answered with
        the source address it came from (sip/stun.py), never parsed as SIP."""
        if not self.reliable and data[:1] in (b"\x00", b"\x01"):
            answer = binding_response(data, addr)
            if answer is not None:
                self.send(answer, addr)
            return
        try:
            message = parse_message(data, stream=self.reliable)
        except SipParseError as exc:
            self._parse_failed(exc, addr)
            return
        if isinstance(message, Request):
            self._receive_request(message, addr, now)
        else:
            self._receive_response(message, addr, now)

    def receive_stream_data(self, data: bytes, addr: Address, now: float) -> None:
        """Bytes from a TCP/TLS connection (any chunking). Keep-alive pings get a CRLF pong
        (RFC 5626 §3.5.1); a framing error emits ParseFailed(fatal=True): close the connection."""
        framer = self._framers.get(addr)
        if framer is None:
            framer = self._framers[addr] = StreamFramer()
        try:
            messages = framer.feed(data)
        except SipParseError as exc:
            self._framers.pop(addr, None)
            self.emit(ParseFailed(addr, exc.reason, answered=False, fatal=True))
            return
        for message in messages:
            if message == StreamFramer.PING:
                self.send(b"\r\n", addr)
            else:
                self.receive_datagram(message, addr, now)

    def stream_pending(self, addr: Address) -> int:
        """Bytes of an unfinished message buffered from a stream (0: it stands between messages)."""
        framer = self._framers.get(addr)
        return framer.buffered if framer is not None else 0

    def connection_lost(self, addr: Address) -> None:
        """A stream to ``addr`` closed: forget its partial input."""
        self._framers.pop(addr, None)

    def send_request(self, request: Request, addr: Address, now: float) -> TransactionKey:
        """Send a request through a new client transaction and return its key.

        A top Via with our sent-by, ``rport`` and a fresh branch is added unless the request
        already has one (a Via without branch gets one); Max-Forwards defaults to 70. An ACK is
        sent without a transaction (the ACK to a 2xx is end-to-end, §13.2.2.4).
        """
        via = self._ensure_via(request)
        if "Max-Forwards" not in request.headers:
            request.headers.add("Max-Forwards", "70")
        method = request.method
        key = TransactionKey(via.branch or "", "INVITE" if method == "ACK" else method)
        if method == "ACK":
            self.send(request.serialize(), addr)
            return key
        txn: ClientTransaction
        if method == "INVITE":
            txn = InviteClientTransaction(self, key, request, addr, self.reliable)
        else:
            txn = NonInviteClientTransaction(self, key, request, addr, self.reliable)
        old = self._client.get(key)
        if old is not None:
            raise ValueError(f"branch {key.branch} is already in use by a {old.key.method} transaction")
        self._client[key] = txn
        txn.start(now)
        return key

    def send_cancel(self, invite_key: TransactionKey, now: float) -> TransactionKey | None:
        """Cancel our pending INVITE (§9.1). Sent at once if a provisional has arrived, else
        when one does. None if the INVITE already has a final response."""
        txn = self._client.get(invite_key)
        if not isinstance(txn, InviteClientTransaction) or txn.state not in (State.CALLING, State.PROCEEDING):
            return None
        cancel = build_cancel(txn.request)
        key = TransactionKey(invite_key.branch, "CANCEL")
        if txn.provisional_seen:
            self._start_cancel(cancel, txn.addr, now)
        else:
            txn.cancel_pending = cancel
        return key

    def send_response(self, response: Response, now: float) -> None:
        """Send a response through its server transaction (found from its Via and CSeq).

        Responses that match no live transaction (a 2xx retransmitted by the TU after the
        transaction ended) go out statelessly per §18.2.2. A second final response to one
        transaction is dropped: the first one won (e.g. our automatic 487 after a CANCEL).
        """
        via = response.top_via
        method = response.cseq.method
        fake = Request("ACK" if method == "ACK" else method, _DUMMY_URI, response.headers)
        key = server_key(fake, via)
        txn = self._server.get(key)
        if txn is None:
            self.send(response.serialize(), response_address(via, None, False))
            return
        sent = txn.respond(response, now)
        if sent and isinstance(txn, InviteServerTransaction) and txn.state is State.ACCEPTED:
            self._accepted[(txn.request.call_id, txn.request.cseq.seq)] = txn

    def handle_timer(self, now: float) -> None:
        """Fire every timer whose deadline is <= now."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, _, txn, name = heapq.heappop(heap)
            if txn.deadlines.get(name) == deadline and txn.state is not State.TERMINATED:
                txn.fire(name, deadline if deadline > now - 1e-9 else now)

    def next_timer(self) -> float | None:
        """The earliest deadline, or None when no timer is armed."""
        heap = self._heap
        while heap:
            deadline, _, txn, name = heap[0]
            if txn.deadlines.get(name) == deadline and txn.state is not State.TERMINATED:
                return deadline
            heapq.heappop(heap)
        return None

    def datagrams_to_send(self) -> list[tuple[bytes, Address]]:
        out, self._out = self._out, []
        return out

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    def transport_error(self, addr: Address, reason: str) -> None:
        """The transport failed to reach ``addr`` (ICMP, refused or reset connection): every
        live transaction towards it ends with a TransportError event (§17.1.4, §17.2.4)."""
        for table in (self._client, self._server):
            for txn in list(table.values()):
                if txn.addr == addr and txn.state is not State.TERMINATED:
                    self.emit(TransportError(txn.key, addr, reason))
                    txn.terminate()

    @property
    def transaction_count(self) -> int:
        return len(self._client) + len(self._server)

    # -- internals -------------------------------------------------------------------------
    def _ensure_via(self, request: Request) -> Via:
        value = request.headers.get("Via")
        if value is None:
            host, port = self.local
            via = Via(self.transport, host, port, {"branch": new_branch(), "rport": None})
            request.headers.prepend("Via", str(via))
            return via
        via = parse_via(value)
        if not via.branch:
            via.params["branch"] = new_branch()
            request.headers.replace_first("Via", str(via))
        return via

    def _start_cancel(self, cancel: Request, addr: Address, now: float) -> None:
        key = TransactionKey(cancel.top_via.branch or "", "CANCEL")
        if key not in self._client:
            txn = NonInviteClientTransaction(self, key, cancel, addr, self.reliable)
            self._client[key] = txn
            txn.start(now)

    def _parse_failed(self, exc: SipParseError, addr: Address) -> None:
        response = parse_failure_response(exc)
        if response is not None:
            try:
                via = parse_via(response.headers.get("Via") or "")
                target = response_address(via, addr, self.reliable)
                if not self.reliable and via.rport is None:
                    target = addr  # the Via itself may be the broken part: answer the source
            except SipParseError:
                target = addr
            self.send(response.serialize(), target)
        self.emit(ParseFailed(addr, exc.reason, answered=response is not None))

    def _receive_request(self, request: Request, addr: Address, now: float) -> None:
        via = stamp_via(request, addr)
        key = server_key(request, via)
        txn = self._server.get(key)
        if request.method == "ACK":
            self._receive_ack(request, addr, key, txn, now)
            return
        if txn is not None:
            txn.retransmission(now)
            return
        reply_to = addr if self.reliable else response_address(via, addr)
        new: ServerTransaction
        if request.method == "INVITE":
            new = InviteServerTransaction(self, key, request, reply_to, self.reliable)
        else:
            new = NonInviteServerTransaction(self, key, request, reply_to, self.reliable)
        self._server[key] = new
        new.start(now)
        if self.conformance is not None and request.method != "CANCEL":
            refused = self._refuse(request, key, now)
            if refused is not None:
                new.respond(refused, now)
                self.emit(RequestRefused(request, addr, refused.status, refused.reason))
                return
        if request.method == "CANCEL":
            self._receive_cancel(request, addr, new, now)
            return
        self.emit(RequestReceived(request, addr, key))

    def _refuse(self, request: Request, key: TransactionKey, now: float) -> Response | None:
        assert self.conformance is not None
        refused = check_request(request, self.conformance)
        if refused is not None or request.to.tag is not None:
            return refused
        origin = _origin(request)
        first = self._origins.get(origin)
        pending = self._server.get(first) if first is not None and first != key else None
        if pending is not None and pending.state in (State.TRYING, State.PROCEEDING):
            # §8.2.2.2: same From tag, Call-ID and CSeq as a transaction still in progress, on
            # another branch: the request forked and reached us twice. Once the first one has
            # its final answer, a copy is let through: a phone that resends its challenged
            # request without a new CSeq is wrong, but not a loop.
            return make_response(request, 482, "Loop Detected (merged request)", to_tag=new_tag())
        self._origins[origin] = key
        return None

    def _receive_ack(
        self, request: Request, addr: Address, key: TransactionKey, txn: ServerTransaction | None, now: float
    ) -> None:
        if isinstance(txn, InviteServerTransaction) and txn.state in (State.COMPLETED, State.CONFIRMED):
            txn.ack_for_error(now)  # ACK for our 3xx-6xx: hop-by-hop, never seen by the TU
            return
        accepted = self._accepted.get((request.call_id, request.cseq.seq))
        if accepted is not None and accepted.state is State.ACCEPTED:
            if accepted.ack_for_2xx():
                self.emit(RequestReceived(request, addr, None))
            return
        self.emit(RequestReceived(request, addr, None))  # stray ACK: the dialog layer decides

    def _receive_cancel(self, cancel: Request, addr: Address, txn: ServerTransaction, now: float) -> None:
        invite_key = TransactionKey(txn.key.branch, "INVITE", txn.key.sent_by, server=True)
        invite = self._server.get(invite_key)
        if not isinstance(invite, InviteServerTransaction):
            txn.respond(make_response(cancel, 481), now)  # §9.2: no matching transaction
            return
        txn.respond(make_response(cancel, 200), now)
        if invite.state is State.PROCEEDING:
            invite.respond(make_response(invite.request, 487, to_tag=new_tag()), now)
            self.emit(CancelReceived(cancel, addr, invite_key))

    def _receive_response(self, response: Response, addr: Address, now: float) -> None:
        via = response.top_via
        key = TransactionKey(via.branch or "", _client_method(response.cseq.method))
        txn = self._client.get(key)
        if txn is None:
            return  # stray response (§17.1.3): nothing to match, dropped
        txn.receive(response, addr, now)
        if (
            isinstance(txn, InviteClientTransaction)
            and txn.cancel_pending is not None
            and response.status < 200
        ):
            cancel, txn.cancel_pending = txn.cancel_pending, None
            self._start_cancel(cancel, txn.addr, now)
        elif isinstance(txn, InviteClientTransaction) and response.status >= 200:
            txn.cancel_pending = None


def _client_method(method: str) -> str:
    return "INVITE" if method == "ACK" else method


def _origin(request: Request) -> tuple[str, str, int, str]:
    return request.call_id, request.from_.tag or "", request.cseq.seq, request.method
