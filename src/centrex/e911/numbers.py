"""Emergency and test numbers: the one definition admission, collections and routing use (issue 15 §4).

- **911** — in every dialled form (N11, 1+911, +1 911, 9911 and the tenant's outside-line prefix
  before it: numbers/dialplan.py ``_emergency`` reads these codes) — is an emergency call. It is
  routed to the emergency provider with the caller's registered location and is never refused, on
  any ground. DESIGN.md: "emergency calls are never refused for capacity, credit, suspension, fair
  use or fraud"; voip-service-guide.txt §V.14.1 (a provider "is required ... to route emergency 911
  calls"); Kari's Law (47 CFR 9.16): no prefix or restriction stands in its way.
- **933** — the 911 address read-back test — is routed to the same emergency provider with the
  caller's location (that is what it tests), without the tenant's "911 was called" notices. It is
  not an emergency: it passes only the grounds that would stop a customer from checking the
  location 911 would be given while costing nothing — suspension and credit (cpaas.txt §3.4 (i),
  §4.2 refuse *billable* calls; 933 is rated free, billing/categories.py) and the restriction
  class (hosted-pbx.txt MAC 4 lists no class for it). It is refused like any call for capacity
  (it takes a call path on the site's link, voip-service-guide.txt §2.2), fair use, fraud and the
  nomadic hold (§V.14.3 holds every non-emergency call of an unverified device).
"""

from __future__ import annotations

from enum import StrEnum

from centrex.numbers.classes import CallClass

__all__ = [
    "EMERGENCY_NUMBER",
    "NEVER_REFUSED",
    "TEST_CALL_PASSES",
    "TEST_NUMBER",
    "TO_EMERGENCY_PROVIDER",
    "RefusalGround",
    "may_refuse",
    "provider_number",
    "to_emergency_provider",
]

EMERGENCY_NUMBER = "911"
TEST_NUMBER = "933"
DIALLED_CODES = (EMERGENCY_NUMBER, TEST_NUMBER)  # numbers/dialplan.py, calls/features.py


class RefusalGround(StrEnum):
    CAPACITY = "capacity"  # simultaneous call capacity, trunk or site limits
    CREDIT = "credit"  # credit limit, prepaid balance, unpaid invoices
    SUSPENSION = "suspension"  # tenant or user suspended
    RESTRICTION = "restriction"  # tenant call restrictions / class of service
    FAIR_USE = "fair_use"  # fair-use policy enforcement
    FRAUD = "fraud"  # fraud monitors, velocity and destination blocks
    NOMADIC_HOLD = "nomadic_hold"  # unverified nomadic device (voip-service-guide.txt §V.14.3)


NEVER_REFUSED: frozenset[CallClass] = frozenset({CallClass.EMERGENCY})
TO_EMERGENCY_PROVIDER: frozenset[CallClass] = frozenset({CallClass.EMERGENCY, CallClass.EMERGENCY_TEST})
TEST_CALL_PASSES: frozenset[RefusalGround] = frozenset(
    {RefusalGround.SUSPENSION, RefusalGround.CREDIT, RefusalGround.RESTRICTION}
)


def may_refuse(call_class: CallClass, ground: RefusalGround) -> bool:
    """False: no rule on ``ground`` may refuse a call of ``call_class`` (911 on every ground, the
    933 test on ``TEST_CALL_PASSES``); True: the caller applies its own rule."""
    if call_class in NEVER_REFUSED:
        return False
    if call_class is CallClass.EMERGENCY_TEST:
        return ground not in TEST_CALL_PASSES
    return True


def to_emergency_provider(call_class: CallClass) -> bool:
    """Routed to the emergency provider's routes (with the caller's location), not the carriers'."""
    return call_class in TO_EMERGENCY_PROVIDER


def provider_number(call_class: CallClass) -> str:
    """The number sent to the emergency provider: 933 for the test, else 911."""
    return TEST_NUMBER if call_class is CallClass.EMERGENCY_TEST else EMERGENCY_NUMBER
