"""Sans-I/O SIP: messages, URIs, headers, SDP, transactions and their timers, dialogs, digest auth.

Standard library only: no sockets, no asyncio, no clock (time is always a parameter). The
transport package owns the I/O and drives ``SipEndpoint``.
"""

from centrex.sip.dialog import Dialog, DialogState, next_hop
from centrex.sip.endpoint import SipEndpoint
from centrex.sip.errors import SipParseError
from centrex.sip.events import (
    Address,
    CancelReceived,
    Event,
    ParseFailed,
    RequestReceived,
    ResponseReceived,
    TransactionKey,
    TransactionTimedOut,
    TransportError,
)
from centrex.sip.headers import CSeq, Headers, NameAddr, Via
from centrex.sip.message import (
    Request,
    Response,
    StreamFramer,
    bad_request_response,
    make_response,
    new_branch,
    new_call_id,
    new_tag,
    parse_message,
)
from centrex.sip.transaction import TimerConfig
from centrex.sip.uri import AbsoluteUri, SipUri, TelUri, parse_uri

__all__ = [
    "AbsoluteUri",
    "Address",
    "CSeq",
    "CancelReceived",
    "Dialog",
    "DialogState",
    "Event",
    "Headers",
    "NameAddr",
    "ParseFailed",
    "Request",
    "RequestReceived",
    "Response",
    "ResponseReceived",
    "SipEndpoint",
    "SipParseError",
    "SipUri",
    "StreamFramer",
    "TelUri",
    "TimerConfig",
    "TransactionKey",
    "TransactionTimedOut",
    "TransportError",
    "Via",
    "bad_request_response",
    "make_response",
    "new_branch",
    "new_call_id",
    "new_tag",
    "next_hop",
    "parse_message",
    "parse_uri",
]
