"""Caller ID policy for calls leaving through a trunk (issue 17 §5; docs/switch.md "Caller identity
and STIR/SHAKEN").

A tenant sends only numbers it owns (its DIDs, which include its users' numbers) or has verified
(``verified_caller_ids``, api/routers/caller_ids.py). Anything else is refused, not replaced:
cpaas.txt §2.3.2 (vii) makes the customer avoid "fake phone numbers, or other attempts to
maliciously mislead others as to the identity of the sender or the origin of a communication", so
the switch does not carry such a call rather than silently sending a different number. 911 is never
refused (its caller ID is the callback number; e911/policy.py). A call forwarded off the switch
carries its original caller's number, which the tenant does not own: it goes out with Diversion
and History-Info and is attested C.

The attestation (RFC 8588 §4, ATIS-1000074 §5.2.3): A when the caller is authenticated (a phone
by digest, a tenant's IP-PBX by its address) and the tenant owns the number; B when authenticated
but the number is only verified (not assigned by us); C for a call we pass on without vouching for
its origin (a forwarded outside caller).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from centrex.calls.dialling import dialled_of, loose_e164
from centrex.sip.errors import SipParseError
from centrex.sip.headers import parse_name_addr
from centrex.sip.message import Request


class Standing(Enum):
    OWNED = "owned"  # one of the tenant's assigned numbers
    VERIFIED = "verified"  # in the tenant's verified caller IDs
    FOREIGN = "foreign"  # neither


class CallerIds(Protocol):
    """Which numbers a tenant may send (routing/caller_ids.py StoreCallerIds; tests by hand)."""

    def standing(self, tenant_id: uuid.UUID, e164: str, now: float) -> Standing: ...


@dataclass(frozen=True, slots=True)
class CallerIdDecision:
    allowed: bool
    number: str  # the caller number to send
    attest: str | None = None  # A, B or C; None: not signed
    reason: str = ""  # why refused (the RFC 3326 Reason text)


REFUSED_REASON = "Forbidden (caller ID not a number of this tenant)"


def is_e164(number: str | None) -> bool:
    return bool(number) and number is not None and number.startswith("+") and number[1:].isdigit()


def decide(
    number: str, standing: Standing | None, *, emergency: bool = False, forwarded: bool = False
) -> CallerIdDecision:
    """The policy as one function. ``standing`` None: the number is not a telephone number (an
    extension of a user without a DID): sent as it is, unsigned — there is nothing to attest."""
    if standing is None:
        return CallerIdDecision(True, number)
    if standing is Standing.OWNED:
        return CallerIdDecision(True, number, "A")
    if standing is Standing.VERIFIED:
        return CallerIdDecision(True, number, "B")
    if forwarded:
        return CallerIdDecision(True, number, "C")
    if emergency:  # e911/policy.py: 911 is never refused; its caller ID is the callback number
        return CallerIdDecision(True, number, "C")
    return CallerIdDecision(False, number, None, REFUSED_REASON)


def preferred_number(req: Request) -> str | None:
    """The number a phone asks to present: RFC 3325 §9.2 P-Preferred-Identity, or a From whose user
    part is an E.164 number (a phone configured with a caller ID). None: the user's own number."""
    for value in (req.headers.get("P-Preferred-Identity"),):
        if value:
            try:
                user = dialled_of(parse_name_addr(value).uri)
            except SipParseError:
                continue
            number = loose_e164(user)
            if is_e164(number):
                return number
    user = dialled_of(req.from_.uri)
    return user if is_e164(user) else None
