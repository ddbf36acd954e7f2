"""Service types and calling plans of the enterprise VoIP service.

voip-service-guide.txt §I.1 "Service Types. IP Integrated Access, IP Trunking, Hosted IP Centrex."
§I.2 "Two pricing plans are A LA CARTE and BUNDLED"; §I.2.2 BUNDLED includes "unlimited outbound
U.S. long distance and local calling"; §V.2 speaks of "the unlimited local and LD pricing option".
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CallingPlan", "ServiceType"]


class ServiceType(StrEnum):
    IP_INTEGRATED_ACCESS = "ip_integrated_access"
    IP_TRUNKING = "ip_trunking"
    HOSTED_IP_CENTREX = "hosted_ip_centrex"


class CallingPlan(StrEnum):
    """How local and U.S. long distance calls are charged."""

    UNLIMITED_LOCAL_LD = "unlimited_local_ld"  # the "unlimited local and LD pricing option" (§V.2)
    METERED = "metered"  # usage-rated
