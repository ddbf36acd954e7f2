"""Emergency calls are never refused.

DESIGN.md: "911 is the exception to every admission rule: emergency calls are never refused for
capacity, credit, suspension, fair use or fraud, and they carry the caller's registered location."
voip-service-guide.txt §V.14.1: a provider of interconnected VoIP "is required ... to route
emergency 911 calls"; §V.14.3 holds non-emergency calls of an unverified nomadic device, never 911.
Kari's Law (47 CFR 9.16): 911 works from every station without any prefix, so no tenant call
restriction (class of service, outbound barring) applies to it.

Admission code (capacity/, fairuse/, billing credit, pbx/ restrictions, e911/nomadic) asks
`may_refuse` before refusing anything. The definition (911 and its dialled forms; what the 933
address test passes) is e911/numbers.py, the one place admission, collections and routing read.
"""

from __future__ import annotations

from centrex.e911.numbers import NEVER_REFUSED, RefusalGround, may_refuse

__all__ = ["EMERGENCY_CLASSES", "RefusalGround", "may_refuse"]

EMERGENCY_CLASSES = NEVER_REFUSED
