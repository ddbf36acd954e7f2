"""What refuses a message before it is sent, each with the reason and Twilio's error code.

- The From must be one of the tenant's numbers (cpaas.txt §2.3.2 (vii): no fake numbers or attempts
  to mislead as to the origin of a message): 21606.
- A2P rules of US carriers (reference cpaas-e911-numbers.md §2.3; unregistered traffic blocked since
  Feb 2025): a long code sends only under an approved 10DLC brand + campaign that lists it (30034),
  a toll-free number only once its toll-free verification is approved (30032).
- Consent (cpaas.txt §2.3.4 (ii)–(iii): TCPA and CTIA guidelines; §2.5 Prohibited Use): a remote
  that sent STOP to this number gets nothing more from it until START: 21610.
- To must be an E.164 number (21211); the body is required (21602) and at most 1,600 characters (21617).
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.orm import Session

from centrex.cpaas.messaging import records
from centrex.store.models import NumberKind

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_BODY = 1600


class Refusal(Exception):
    """A send refused: Twilio's error ``code``, the ``reason`` said to the developer, the HTTP status."""

    def __init__(self, code: int, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.status = status


def check_send(
    session: Session, tenant_id: uuid.UUID, from_: str, to: str, body: str, *, keyword_reply: bool = False
) -> str:
    """Raises Refusal; returns the kind of the sending number ("long-code" | "toll-free").
    ``keyword_reply``: the one confirmation of a STOP/START/HELP, which consent does not stop."""
    if not E164.match(to or ""):
        raise Refusal(21211, f"The 'To' number {to!r} is not a valid phone number (E.164, e.g. +16175551234)")
    if not body:
        raise Refusal(21602, "Message body is required")
    if len(body) > MAX_BODY:
        raise Refusal(21617, f"The concatenated message body exceeds the {MAX_BODY} character limit")
    number = records.tenant_number(session, tenant_id, from_)
    if number is None:
        raise Refusal(
            21606,
            f"The From phone number {from_} is not a valid, SMS-capable phone number of this account"
            " (cpaas.txt §2.3.2 (vii): no fake or misleading sender numbers)",
        )
    toll_free = number.kind is NumberKind.TOLL_FREE
    kind = "toll-free" if toll_free else "10dlc"
    if records.approved_registration(session, tenant_id, kind, from_) is None:
        other = records.registration_for(session, tenant_id, from_)
        state = ""
        if other is not None:
            why = f": {other.rejection_reason}" if other.rejection_reason else ""
            state = f" (its registration is {other.status}{why})"
        if toll_free:
            raise Refusal(
                30032,
                f"Toll-free number {from_} has not been verified{state}: US carriers block unverified"
                " toll-free messaging; submit a toll-free verification for it",
            )
        raise Refusal(
            30034,
            f"Message from an unregistered number: {from_} is not in an approved 10DLC campaign{state};"
            " US carriers block unregistered A2P traffic on long codes (register a brand and campaign)",
        )
    if not keyword_reply:
        row = records.consent(session, tenant_id, from_, to)
        if row is not None and row.opted_out:
            raise Refusal(
                21610,
                f"Attempt to send to unsubscribed recipient: {to} replied {row.keyword or 'STOP'} to {from_};"
                " sending to it without consent is a prohibited use (cpaas.txt §2.5, §2.3.4; CTIA)"
                " until it replies START",
            )
    return "toll-free" if toll_free else "long-code"
