"""What SipEndpoint tells its user: frozen dataclasses, the vocabulary of the SIP layer."""

from __future__ import annotations

from dataclasses import dataclass

from centrex.sip.message import Request, Response

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class TransactionKey:
    """Identifies a transaction (RFC 3261 §17.1.3 / §17.2.3).

    ``branch`` is the top Via branch; ``method`` is the CSeq method with ACK folded into INVITE;
    ``sent_by`` is the top Via sent-by for server transactions (None for client ones).
    """

    branch: str
    method: str
    sent_by: tuple[str, int] | None = None
    server: bool = False


@dataclass(frozen=True, slots=True)
class RequestReceived:
    """A new request for the TU. Retransmissions are absorbed and never produce this twice.

    ``key`` is the server transaction to answer through ``send_response``; it is None for an
    ACK (which has no transaction of its own: the ACK to a 2xx belongs to the dialog).
    """

    request: Request
    addr: Address
    key: TransactionKey | None


@dataclass(frozen=True, slots=True)
class ResponseReceived:
    """A response to one of our requests. For INVITE, 2xx retransmissions are passed on as
    well so that the TU can send its ACK again (RFC 6026 §8.4)."""

    response: Response
    addr: Address
    key: TransactionKey


@dataclass(frozen=True, slots=True)
class RequestRefused:
    """A request the endpoint answered itself because RFC 3261 §8.2 forbids processing it
    (unknown method, scheme, option-tag, body type; a loop). For logs and counters only: the
    response already went out through the request's server transaction."""

    request: Request
    addr: Address
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class CancelReceived:
    """A CANCEL matched a pending INVITE. The endpoint has already answered the CANCEL with
    200 and the INVITE with 487 (§9.2); the TU only has to tear down what it started."""

    request: Request
    addr: Address
    invite_key: TransactionKey


@dataclass(frozen=True, slots=True)
class TransactionTimedOut:
    """A transaction gave up. ``timer`` says why: B/F = no final response to our request
    (treat as 408, §8.1.3.1); H = no ACK for our error response; L = no ACK for our 2xx to an
    INVITE (§13.3.1.4: the session should be ended with BYE)."""

    key: TransactionKey
    timer: str


@dataclass(frozen=True, slots=True)
class TransportError:
    """The transport could not deliver for this transaction (§17.1.4, §17.2.4)."""

    key: TransactionKey
    addr: Address
    reason: str


@dataclass(frozen=True, slots=True)
class ParseFailed:
    """Bytes from ``addr`` that were not a SIP message. ``answered`` when a 400 went back;
    ``fatal`` when a stream lost its framing and its connection must be closed."""

    addr: Address
    reason: str
    answered: bool = False
    fatal: bool = False


Event = (
    RequestReceived
    | RequestRefused
    | ResponseReceived
    | CancelReceived
    | TransactionTimedOut
    | TransportError
    | ParseFailed
)
