"""RFC 3262 reliable provisional responses (100rel, PRACK), sans-I/O.

Toward a carrier that requires it (``Require: 100rel`` in its 18x), the UAC side of the switch
answers every reliable provisional with a PRACK in the early dialog, once per RSeq and in
order (``ReliableReceiver``, ``build_prack``). As UAS, ``ReliableSender`` numbers the 18x it
makes reliable, says when to retransmit one (T1 doubling, §3) and matches the PRACK that stops
it. Nothing here reads a clock or owns a socket.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.headers import is_token, split_list
from centrex.sip.message import Request, Response

OPTION_TAG = "100rel"
RSEQ_MAX = 2**32 - 1
T1 = 0.5


def option_tags(message: Request | Response, header: str) -> list[str]:
    return [t.lower() for v in message.headers.get_all(header) for t in split_list(v)]


def is_reliable(response: Response) -> bool:
    """A 101-199 response sent reliably (§4): it requires 100rel and carries RSeq."""
    return (
        100 < response.status < 200
        and OPTION_TAG in option_tags(response, "Require")
        and response.headers.get("RSeq") is not None
    )


def parse_rseq(value: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 10 or not 1 <= int(text) <= RSEQ_MAX:
        raise SipParseError(f"bad RSeq {value!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class RAck:
    """RAck (§7.2): the RSeq and CSeq of the provisional being acknowledged."""

    rseq: int
    cseq: int
    method: str

    def __str__(self) -> str:
        return f"{self.rseq} {self.cseq} {self.method}"


def parse_rack(value: str) -> RAck:
    parts = value.split()
    if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 10 or not is_token(parts[2]):
        raise SipParseError(f"bad RAck {value!r}")
    return RAck(parse_rseq(parts[0]), int(parts[1]), parts[2])


def rack_for(provisional: Response) -> RAck:
    """The RAck that acknowledges ``provisional`` (its RSeq, CSeq number and method)."""
    cseq = provisional.cseq
    return RAck(parse_rseq(provisional.headers.get("RSeq") or ""), cseq.seq, cseq.method)


def build_prack(dialog: Dialog, provisional: Response) -> Request:
    """§7.1: the PRACK for a reliable provisional, sent in the early dialog it created (the
    dialog takes the next CSeq). No body: the switch does not make offers in PRACK."""
    return dialog.create_request("PRACK", extra=[("RAck", str(rack_for(provisional)))])


@dataclass
class ReliableReceiver:
    """UAC side, one per early dialog: which reliable provisionals to PRACK (§4).

    The first one sets the expected sequence; a retransmission (an RSeq already seen) is
    PRACKed again but not passed on; one that skips ahead is dropped until the missing ones
    arrive ("the UAC MUST NOT ... PRACK a response out of order").
    """

    last: int | None = None

    def accept(self, provisional: Response) -> tuple[bool, bool]:
        """(send a PRACK, it is new and goes to the call) for a reliable provisional."""
        rseq = parse_rseq(provisional.headers.get("RSeq") or "")
        if self.last is None or rseq == self.last + 1:
            self.last = rseq
            return True, True
        if rseq <= self.last:
            return True, False
        return False, False


@dataclass
class ReliableSender:
    """UAS side, one per INVITE transaction: numbers the reliable 18x and tracks the one in
    flight (§3: one unacknowledged reliable provisional at a time)."""

    next_rseq: int = field(default_factory=lambda: secrets.randbelow(2**31 - 1) + 1)
    pending: Response | None = None
    sent_at: float = 0.0
    retransmissions: int = 0

    def make_reliable(self, provisional: Response, now: float) -> Response:
        """Adds Require: 100rel and RSeq to a 101-199 response; it becomes the pending one."""
        if not 100 < provisional.status < 200:
            raise ValueError(f"only 101-199 responses are sent reliably, not {provisional.status}")
        if self.pending is not None:
            raise ValueError("a reliable provisional is still unacknowledged (RFC 3262 §3)")
        reliable = provisional.copy()
        reliable.headers.add("Require", OPTION_TAG)
        reliable.headers.set("RSeq", str(self.next_rseq))
        self.next_rseq += 1
        self.pending, self.sent_at, self.retransmissions = reliable, now, 0
        return reliable

    def retransmit_at(self) -> float | None:
        """T1, 2·T1, 4·T1... after the first send; None once nothing is pending."""
        if self.pending is None:
            return None
        return self.sent_at + T1 * (2 ** (self.retransmissions + 1) - 1)

    def due(self, now: float) -> Response | None:
        """The pending provisional when its retransmission is due (and counts it), else None.
        After 64·T1 with no PRACK the caller should give up and answer 5xx (§3)."""
        at = self.retransmit_at()
        if at is None or now < at:
            return None
        self.retransmissions += 1
        assert self.pending is not None
        return self.pending

    def gave_up(self, now: float) -> bool:
        return self.pending is not None and now - self.sent_at >= 64 * T1

    def prack(self, request: Request) -> int:
        """The status for a PRACK (§3): 200 when it acknowledges the pending provisional, 481
        otherwise (nothing pending, or another RSeq/CSeq)."""
        if self.pending is None:
            return 481
        try:
            rack = parse_rack(request.headers.get("RAck") or "")
        except SipParseError:
            return 400
        if rack != rack_for(self.pending):
            return 481
        self.pending = None
        return 200
