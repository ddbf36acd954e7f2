"""Enumerations of the data model. Values are what the API and the database show."""

from __future__ import annotations

from enum import StrEnum


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class ServiceType(StrEnum):
    """voip-service-guide.txt: the three enterprise VoIP services."""

    HOSTED_CENTREX = "hosted-centrex"
    IP_TRUNKING = "ip-trunking"
    INTEGRATED_ACCESS = "integrated-access"


class PricingPlan(StrEnum):
    """voip-service-guide.txt §VI: a-la-carte or bundled."""

    A_LA_CARTE = "a-la-carte"
    BUNDLED = "bundled"


class CallingScope(StrEnum):
    """Per site: local and long distance, or long distance only."""

    LOCAL_AND_LD = "local+ld"
    LD_ONLY = "ld-only"


class NumberKind(StrEnum):
    DID = "did"
    TOLL_FREE = "toll-free"


class NumberStatus(StrEnum):
    AVAILABLE = "available"  # in the operator's pool
    RESERVED = "reserved"  # allocated to a tenant, not yet routed
    ASSIGNED = "assigned"  # routed to a target inside the tenant
    PORTING = "porting"
    AGING = "aging"  # released, waiting before it returns to the pool


class NumberTarget(StrEnum):
    """What an incoming call to a number rings (hosted-pbx.txt MAC 9, incoming call routing)."""

    USER = "user"
    HUNT_GROUP = "hunt_group"
    QUEUE = "queue"
    AUTO_ATTENDANT = "auto_attendant"
    APP = "app"
    # IP trunking (voip-service-guide.txt §I.4): the DID rings the tenant's own PBX over a pbx trunk.
    TRUNK = "trunk"


class HuntStrategy(StrEnum):
    SIMULTANEOUS = "simultaneous"
    SEQUENTIAL = "sequential"
    ROUND_ROBIN = "round_robin"
    LONGEST_IDLE = "longest_idle"


class ButtonKind(StrEnum):
    """hosted-pbx.txt MAC 1, telephone button programming."""

    LINE = "line"
    SPEED_DIAL = "speed_dial"
    BLF = "blf"


class TokenKind(StrEnum):
    OPERATOR = "operator"  # provider staff, all tenants
    USER = "user"  # a tenant's user; the role follows the tenant's designations
    DEVELOPER = "developer"  # CPaaS key of one tenant


class Role(StrEnum):
    OPERATOR = "operator"
    OFFICE_ADMIN = "office_admin"
    BACKUP_ADMIN = "backup_admin"
    CPNI_ADMIN = "cpni_admin"
    END_USER = "end_user"
    DEVELOPER = "developer"
