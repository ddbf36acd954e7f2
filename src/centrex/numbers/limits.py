"""How many telephone numbers (DIDs) a configuration may carry per simultaneous call.

voip-service-guide.txt §V.2, Hosted IP Centrex Service Restrictions: "use of HIPC VoIP Service with
the unlimited local and LD pricing option is restricted in the following manner: ... Customer's
design may not be configured with more than 8:1 oversubscription, i.e., no more than eight DIDs per
simultaneous call."

The rule binds Hosted IP Centrex on the unlimited local and LD option only; other service types and
metered plans have no DID ratio limit from the contract (`max_dids` returns None).
"""

from __future__ import annotations

from dataclasses import dataclass

from centrex.numbers.service import CallingPlan, ServiceType

__all__ = ["DIDS_PER_SIMULTANEOUS_CALL", "DidLimitExceeded", "check_did_count", "max_dids"]

DIDS_PER_SIMULTANEOUS_CALL = 8
"""voip-service-guide.txt §V.2: "no more than eight DIDs per simultaneous call" (8:1)."""

RULE = (
    "voip-service-guide.txt §V.2: Hosted IP Centrex with unlimited local and LD may not be configured "
    "with more than 8:1 oversubscription, i.e., no more than eight DIDs per simultaneous call"
)


def max_dids(calling_units: int, service_type: ServiceType, plan: CallingPlan) -> int | None:
    """Most DIDs allowed for `calling_units` simultaneous calls; None when the contract sets no limit."""
    if calling_units < 0:
        raise ValueError(f"calling_units {calling_units} is negative")
    if service_type is ServiceType.HOSTED_IP_CENTREX and plan is CallingPlan.UNLIMITED_LOCAL_LD:
        return DIDS_PER_SIMULTANEOUS_CALL * calling_units
    return None


@dataclass(frozen=True, slots=True)
class DidLimitExceeded:
    """A configuration with more DIDs than its simultaneous calling units allow."""

    did_count: int
    calling_units: int
    limit: int
    rule: str = RULE

    @property
    def excess(self) -> int:
        return self.did_count - self.limit

    @property
    def units_needed(self) -> int:
        """Simultaneous calling units that would make `did_count` DIDs allowed."""
        return -(-self.did_count // DIDS_PER_SIMULTANEOUS_CALL)

    def __str__(self) -> str:
        return (
            f"{self.did_count} DIDs on {self.calling_units} simultaneous calling unit(s) exceeds the "
            f"limit of {self.limit}; remove {self.excess} DID(s) or raise simultaneous calling to "
            f"{self.units_needed} unit(s) ({self.rule})"
        )


def check_did_count(
    did_count: int, calling_units: int, service_type: ServiceType, plan: CallingPlan
) -> DidLimitExceeded | None:
    """None if `did_count` DIDs are allowed, else the violation naming the §V.2 rule."""
    if did_count < 0:
        raise ValueError(f"did_count {did_count} is negative")
    limit = max_dids(calling_units, service_type, plan)
    if limit is None or did_count <= limit:
        return None
    return DidLimitExceeded(did_count, calling_units, limit)
