"""The four RFC 3261 §17 transaction state machines, with RFC 6026's Accepted state.

A transaction never touches a socket or a clock: it asks its ``TransactionHost`` (the
SipEndpoint) to send bytes, emit events and arm timers, and is called back with ``now``.
Timers armed by name replace the previous deadline of that name; an unreliable transport
(UDP) retransmits, a reliable one (TCP/TLS) sets the retransmit timers off and the
wait-for-retransmission timers (D, I, J, K) to zero (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from centrex.sip.events import (
    Address,
    Event,
    ResponseReceived,
    TransactionKey,
    TransactionTimedOut,
)
from centrex.sip.headers import Headers
from centrex.sip.message import Request, Response, make_response


@dataclass(frozen=True, slots=True)
class TimerConfig:
    """T1 (RTT estimate), T2 (max non-INVITE retransmit interval), T4 (max network lifetime)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    d: float = 32.0  # Timer D on UDP: "> 32 s" (§17.1.1.2), not derived from T1

    @property
    def timeout(self) -> float:
        """64*T1: timers B, F, H, J, L, M."""
        return 64 * self.t1


class State(enum.Enum):
    CALLING = "Calling"
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    ACCEPTED = "Accepted"
    TERMINATED = "Terminated"


class TransactionHost(Protocol):
    timers: TimerConfig

    def send(self, data: bytes, addr: Address) -> None: ...
    def emit(self, event: Event) -> None: ...
    def arm(self, txn: Transaction, name: str, deadline: float) -> None: ...
    def terminated(self, txn: Transaction) -> None: ...


class Transaction:
    """State shared by the four kinds. ``deadlines`` maps timer name -> absolute time."""

    initial_state = State.TRYING

    def __init__(
        self, host: TransactionHost, key: TransactionKey, request: Request, addr: Address, reliable: bool
    ) -> None:
        self.host = host
        self.key = key
        self.request = request
        self.addr = addr
        self.reliable = reliable
        self.state = self.initial_state
        self.deadlines: dict[str, float] = {}
        self.interval = host.timers.t1

    @property
    def t(self) -> TimerConfig:
        return self.host.timers

    def arm(self, name: str, deadline: float) -> None:
        self.deadlines[name] = deadline
        self.host.arm(self, name, deadline)

    def disarm(self, *names: str) -> None:
        for name in names:
            self.deadlines.pop(name, None)

    def terminate(self) -> None:
        self.state = State.TERMINATED
        self.deadlines.clear()
        self.host.terminated(self)

    def wait_or_terminate(self, name: str, now: float, delay: float) -> None:
        """Timers D/I/J/K: linger to absorb retransmissions on UDP, end at once on a stream."""
        if self.reliable:
            self.terminate()
        else:
            self.arm(name, now + delay)

    def fire(self, name: str, now: float) -> None:
        """Called by the host when timer ``name`` reaches its deadline."""
        self.deadlines.pop(name, None)
        getattr(self, f"timer_{name}")(now)


class ClientTransaction(Transaction):
    def __init__(
        self, host: TransactionHost, key: TransactionKey, request: Request, addr: Address, reliable: bool
    ) -> None:
        super().__init__(host, key, request, addr, reliable)
        self.wire = request.serialize()

    def start(self, now: float) -> None:
        self.host.send(self.wire, self.addr)
        if not self.reliable:
            self.arm("A" if self.key.method == "INVITE" else "E", now + self.t.t1)
        self.arm("B" if self.key.method == "INVITE" else "F", now + self.t.timeout)

    def receive(self, response: Response, addr: Address, now: float) -> None:
        raise NotImplementedError


class InviteClientTransaction(ClientTransaction):
    """§17.1.1, Figure 5, with the Accepted state of RFC 6026 §7.2."""

    initial_state = State.CALLING

    def __init__(
        self, host: TransactionHost, key: TransactionKey, request: Request, addr: Address, reliable: bool
    ) -> None:
        super().__init__(host, key, request, addr, reliable)
        self.ack_wire: bytes | None = None
        self.cancel_pending: Request | None = None  # §9.1: CANCEL waits for a provisional
        self.provisional_seen = False

    def timer_A(self, now: float) -> None:
        if self.state is State.CALLING:
            self.host.send(self.wire, self.addr)
            self.interval *= 2  # Timer A doubles without the T2 cap (§17.1.1.2)
            self.arm("A", now + self.interval)

    def timer_B(self, now: float) -> None:
        if self.state is State.CALLING:
            self.host.emit(TransactionTimedOut(self.key, "B"))
            self.terminate()

    def timer_D(self, now: float) -> None:
        self.terminate()

    def timer_M(self, now: float) -> None:
        self.terminate()

    def receive(self, response: Response, addr: Address, now: float) -> None:
        status = response.status
        if self.state in (State.CALLING, State.PROCEEDING):
            if status < 200:
                self.state = State.PROCEEDING
                self.provisional_seen = True
                self.disarm("A", "B")
                self.host.emit(ResponseReceived(response, addr, self.key))
            elif status < 300:
                self.state = State.ACCEPTED
                self.disarm("A", "B")
                self.arm("M", now + self.t.timeout)
                self.host.emit(ResponseReceived(response, addr, self.key))
            else:
                self.state = State.COMPLETED
                self.disarm("A", "B")
                self.ack_wire = build_non2xx_ack(self.request, response).serialize()
                self.host.send(self.ack_wire, self.addr)
                self.host.emit(ResponseReceived(response, addr, self.key))
                self.wait_or_terminate("D", now, self.t.d)
        elif self.state is State.COMPLETED and status >= 300 and self.ack_wire:
            self.host.send(self.ack_wire, self.addr)  # the final was retransmitted: our ACK was lost
        elif self.state is State.ACCEPTED and 200 <= status < 300:
            # Retransmitted (or forked) 2xx: the TU must ACK it again (RFC 6026 §7.2).
            self.host.emit(ResponseReceived(response, addr, self.key))


class NonInviteClientTransaction(ClientTransaction):
    """§17.1.2, Figure 6."""

    def timer_E(self, now: float) -> None:
        if self.state in (State.TRYING, State.PROCEEDING):
            self.host.send(self.wire, self.addr)
            self.interval = self.t.t2 if self.state is State.PROCEEDING else min(2 * self.interval, self.t.t2)
            self.arm("E", now + self.interval)

    def timer_F(self, now: float) -> None:
        if self.state in (State.TRYING, State.PROCEEDING):
            self.host.emit(TransactionTimedOut(self.key, "F"))
            self.terminate()

    def timer_K(self, now: float) -> None:
        self.terminate()

    def receive(self, response: Response, addr: Address, now: float) -> None:
        if self.state not in (State.TRYING, State.PROCEEDING):
            return  # Completed: a retransmitted final is absorbed
        if response.status < 200:
            self.state = State.PROCEEDING
            self.host.emit(ResponseReceived(response, addr, self.key))
            return
        self.state = State.COMPLETED
        self.disarm("E", "F")
        self.host.emit(ResponseReceived(response, addr, self.key))
        self.wait_or_terminate("K", now, self.t.t4)


class ServerTransaction(Transaction):
    def __init__(
        self, host: TransactionHost, key: TransactionKey, request: Request, addr: Address, reliable: bool
    ) -> None:
        super().__init__(host, key, request, addr, reliable)
        self.last_response: bytes | None = None
        self.final_status: int | None = None

    def send_wire(self, response: Response) -> None:
        self.last_response = response.serialize()
        self.host.send(self.last_response, self.addr)

    def resend(self) -> None:
        if self.last_response is not None:
            self.host.send(self.last_response, self.addr)

    def retransmission(self, now: float) -> None:
        raise NotImplementedError

    def respond(self, response: Response, now: float) -> bool:
        raise NotImplementedError


class InviteServerTransaction(ServerTransaction):
    """§17.2.1, Figure 7, with RFC 6026 §7.1 Accepted state (2xx retransmitted until the ACK,
    §13.3.1.4, which the TU would otherwise have to do itself)."""

    initial_state = State.PROCEEDING

    def __init__(
        self, host: TransactionHost, key: TransactionKey, request: Request, addr: Address, reliable: bool
    ) -> None:
        super().__init__(host, key, request, addr, reliable)
        self.acked = False
        self.to_tag: str | None = None

    def start(self, now: float) -> None:
        # Sent at once rather than after 200 ms (§17.2.1): stops the caller's Timer A early.
        self.send_wire(make_response(self.request, 100))

    def retransmission(self, now: float) -> None:
        if self.state in (State.PROCEEDING, State.COMPLETED):
            self.resend()
        # Accepted, Confirmed: absorbed (RFC 6026 §7.1).

    def respond(self, response: Response, now: float) -> bool:
        status = response.status
        if self.state is State.ACCEPTED and 200 <= status < 300:
            self.send_wire(response)  # the TU may retransmit its 2xx itself
            return True
        if self.state is not State.PROCEEDING:
            return False
        self.send_wire(response)
        if status < 200:
            return True
        self.final_status = status
        if status < 300:
            self.state = State.ACCEPTED
            try:
                self.to_tag = response.to.tag
            except ValueError:
                self.to_tag = None
            if not self.reliable:
                self.interval = self.t.t1
                self.arm("G2", now + self.interval)
            self.arm("L", now + self.t.timeout)
        else:
            self.state = State.COMPLETED
            if not self.reliable:
                self.interval = self.t.t1
                self.arm("G", now + self.interval)
            self.arm("H", now + self.t.timeout)
        return True

    def timer_G(self, now: float) -> None:
        if self.state is State.COMPLETED:
            self.resend()
            self.interval = min(2 * self.interval, self.t.t2)
            self.arm("G", now + self.interval)

    def timer_G2(self, now: float) -> None:
        """2xx retransmission by the UAS core (§13.3.1.4): T1 doubling up to T2 until the ACK."""
        if self.state is State.ACCEPTED and not self.acked:
            self.resend()
            self.interval = min(2 * self.interval, self.t.t2)
            self.arm("G2", now + self.interval)

    def timer_H(self, now: float) -> None:
        if self.state is State.COMPLETED:
            self.host.emit(TransactionTimedOut(self.key, "H"))
            self.terminate()

    def timer_I(self, now: float) -> None:
        self.terminate()

    def timer_L(self, now: float) -> None:
        if not self.acked:
            self.host.emit(TransactionTimedOut(self.key, "L"))
        self.terminate()

    def ack_for_error(self, now: float) -> None:
        """The ACK for a 3xx-6xx (same branch): stop retransmitting and linger for Timer I."""
        if self.state is State.COMPLETED:
            self.state = State.CONFIRMED
            self.disarm("G", "H")
            self.wait_or_terminate("I", now, self.t.t4)

    def ack_for_2xx(self) -> bool:
        """Returns True for the first ACK (to hand to the TU), False for retransmitted ones."""
        first = not self.acked
        self.acked = True
        self.disarm("G2")
        return first


class NonInviteServerTransaction(ServerTransaction):
    """§17.2.2, Figure 8."""

    def start(self, now: float) -> None:
        pass

    def retransmission(self, now: float) -> None:
        if self.state in (State.PROCEEDING, State.COMPLETED):
            self.resend()  # Trying: nothing sent yet, the retransmission is just absorbed

    def respond(self, response: Response, now: float) -> bool:
        if self.state not in (State.TRYING, State.PROCEEDING):
            return False
        self.send_wire(response)
        if response.status < 200:
            self.state = State.PROCEEDING
            return True
        self.final_status = response.status
        self.state = State.COMPLETED
        self.wait_or_terminate("J", now, self.t.timeout)
        return True

    def timer_J(self, now: float) -> None:
        self.terminate()


def build_non2xx_ack(request: Request, response: Response) -> Request:
    """ACK sent by the INVITE client transaction for a 3xx-6xx (§17.1.1.3): same Request-URI,
    Call-ID, From, CSeq number and top Via as the INVITE, To from the response, same Route."""
    headers = Headers()
    headers.add("Via", request.headers.get("Via") or "")
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("Max-Forwards", "70")
    headers.add("From", request.headers.get("From") or "")
    headers.add("To", response.headers.get("To") or "")
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", f"{request.cseq.seq} ACK")
    return Request("ACK", request.uri.copy(), headers)


def build_cancel(request: Request) -> Request:
    """CANCEL for a pending request (§9.1): same Request-URI, Call-ID, To, From, CSeq number,
    the same single top Via (so it reaches the same server transaction), and the same Route."""
    headers = Headers()
    headers.add("Via", request.headers.get("Via") or "")
    for route in request.headers.get_all("Route"):
        headers.add("Route", route)
    headers.add("Max-Forwards", "70")
    headers.add("From", request.headers.get("From") or "")
    headers.add("To", request.headers.get("To") or "")
    headers.add("Call-ID", request.headers.get("Call-ID") or "")
    headers.add("CSeq", f"{request.cseq.seq} CANCEL")
    return Request("CANCEL", request.uri.copy(), headers)
