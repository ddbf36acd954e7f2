"""Emergency calls are never refused.

DESIGN.md: "911 is the exception to every admission rule: emergency calls are never refused for
capacity, credit, suspension, fair use or fraud, and they carry the caller's registered location."
voip-service-guide.txt §V.14.1: a provider of interconnected VoIP "is required ... to route
emergency 911 calls"; §V.14.3 holds non-emergency calls of an unverified nomadic device, never 911.
Kari's Law (47 CFR 9.16): 911 works from every station without any prefix, so no tenant call
restriction (class of service, outbound barring) applies to it.

Admission code (capacity/, fairuse/, billing credit, pbx/ restrictions, e911/nomadic) asks
`may_refuse` before refusing anything. 933 test calls are ordinary calls for admission.
"""

from __future__ import annotations

from enum import StrEnum

from centrex.numbers.classes import CallClass

__all__ = ["EMERGENCY_CLASSES", "RefusalGround", "may_refuse"]


class RefusalGround(StrEnum):
    CAPACITY = "capacity"  # simultaneous call capacity, trunk or site limits
    CREDIT = "credit"  # credit limit, prepaid balance, unpaid invoices
    SUSPENSION = "suspension"  # tenant or user suspended
    RESTRICTION = "restriction"  # tenant call restrictions / class of service
    FAIR_USE = "fair_use"  # fair-use policy enforcement
    FRAUD = "fraud"  # fraud monitors, velocity and destination blocks
    NOMADIC_HOLD = "nomadic_hold"  # unverified nomadic device (voip-service-guide.txt §V.14.3)


EMERGENCY_CLASSES = frozenset({CallClass.EMERGENCY})


def may_refuse(call_class: CallClass, ground: RefusalGround) -> bool:
    """False for an emergency call, whatever the ground; True otherwise (the caller then applies
    its own rule)."""
    return call_class not in EMERGENCY_CLASSES
