"""Call classes: what a dialled number is, as rating, restriction and routing see it.

voip-service-guide.txt §III (call types) and §V.9 (classification by the originating location).
"""

from __future__ import annotations

from enum import StrEnum


class CallClass(StrEnum):
    ON_NET = "on_net"  # intra-enterprise: extension or a number of the same tenant
    LOCAL = "local"
    LD_INTRASTATE = "ld_intrastate"
    LD_INTERSTATE = "ld_interstate"
    INTERNATIONAL = "international"
    TOLL_FREE = "toll_free"  # 8YY
    PREMIUM = "premium"  # 900 / 976, blocked (voip-service-guide.txt §III.3.7)
    DIRECTORY_ASSISTANCE = "directory_assistance"  # 411, NPA-555-1212
    N11 = "n11"  # 211, 311, 511, 611, 711, 811
    EMERGENCY = "emergency"  # 911
    EMERGENCY_TEST = "emergency_test"  # 933
    CONFERENCE = "conference"
    INVALID = "invalid"


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"
    INTERNAL = "internal"
