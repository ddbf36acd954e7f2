"""The one exception type the SIP parser raises."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from centrex.sip.message import Request


class SipParseError(ValueError):
    """Bytes that are not a valid SIP message (or URI, header, SDP).

    ``reason`` says which part is wrong. ``status`` is the response a server should send
    (400, or 505 for an unsupported version). ``partial`` is set when the request line and the
    header lines could be read, so that a 400 can be built with ``bad_request_response``.
    """

    def __init__(self, reason: str, *, status: int = 400, partial: Request | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.partial = partial
