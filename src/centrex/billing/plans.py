"""Plans: how usage is rated (RatingPlan), what recurring items cost (PriceList), and the contents of
the per-user voice bundle (voice-bundles.txt §2.7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from centrex.billing.categories import DOMESTIC_OUTBOUND, UsageCategory
from centrex.billing.increments import SIXTY_SIXTY, Increment

#: Categories that are never charged, whatever the plan: calls inside the enterprise, 911/933,
#: dialling a toll-free number, and N11 services. (Premium 900/976 is blocked, voip-service-guide.txt
#: §III.3.7, and rated from the deck if it ever completes.)
ALWAYS_FREE: frozenset[UsageCategory] = frozenset(
    {
        UsageCategory.ON_NET,
        UsageCategory.EMERGENCY,
        UsageCategory.TOLL_FREE_OUTBOUND,
        UsageCategory.N11,
        UsageCategory.INVALID,
    }
)

#: hosted-pbx.txt usage 1: "an allotment ... of inbound and outbound domestic long distance calling
#: minutes". Local calling is part of the seat (hosted-pbx.txt 1.a.ii "Call origination and
#: termination within the 48 contiguous United States").
HOSTED_PBX_POOLED: frozenset[UsageCategory] = frozenset({UsageCategory.DOMESTIC_LD, UsageCategory.INBOUND})

#: voice-bundles.txt §2.7, the Rating Model column: Domestic Outbound (local and long distance,
#: §1.3.1), Toll-Free, Inbound and Emergency Services are "Unlimited".
VOICE_BUNDLE_UNLIMITED: frozenset[UsageCategory] = DOMESTIC_OUTBOUND | {
    UsageCategory.TOLL_FREE_INBOUND,
    UsageCategory.INBOUND,
    UsageCategory.EMERGENCY,
}


@dataclass(frozen=True, slots=True)
class RatingPlan:
    """The usage side of a plan.

    - `increment`: minimum and step for domestic, pooled, overage and conference minutes
      (hosted-pbx.txt usage 1.b: 60/60 by default; other plans 30/6, 6/6, 1/1).
    - `unlimited`: bundle categories charged nothing (voice-bundles.txt §2.7).
    - `pooled` + `pool_minutes`: the tenant's monthly allotment (hosted-pbx.txt usage 1); minutes
      beyond it are Overage "billed at the per minute of use (MOU) rate set forth in the SOA"
      (usage 1.a) = `overage_per_minute`.
    - `local_per_minute`: local calls outside the pool and not unlimited (0 = included in the seat).
    - `directory_assistance_per_call`: 411 and NPA-555-1212 (usage 1.c).
    - `conference_per_minute`: conference calling (usage 1.d).
    - International calls are rated from the deck (usage 1: "then-current service rates").
    """

    code: str
    increment: Increment = SIXTY_SIXTY
    unlimited: frozenset[UsageCategory] = frozenset()
    pooled: frozenset[UsageCategory] = HOSTED_PBX_POOLED
    pool_minutes: int = 0
    overage_per_minute: Decimal = Decimal("0")
    local_per_minute: Decimal = Decimal("0")
    directory_assistance_per_call: Decimal = Decimal("0")
    conference_per_minute: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if self.pool_minutes < 0:
            raise ValueError(f"plan {self.code}: pool_minutes must be >= 0")
        for name in (
            "overage_per_minute",
            "local_per_minute",
            "directory_assistance_per_call",
            "conference_per_minute",
        ):
            value: Decimal = getattr(self, name)
            if value < 0:
                raise ValueError(f"plan {self.code}: {name} must be >= 0")
            exponent = value.as_tuple().exponent
            if isinstance(exponent, int) and exponent < -6:
                raise ValueError(f"plan {self.code}: {name} has more than six decimal places")


class Feature(StrEnum):
    """hosted-pbx.txt 1.b Feature Set Enhancements/Applications: "listed on the SOA under separate
    line items and are not included under the Active Seat Unit Charge"."""

    AUTO_ATTENDANT = "auto_attendant"  # 1.b.i
    CALL_CENTER_AGENT = "call_center_agent"  # 1.b.ii
    CALL_CENTER_QUEUE = "call_center_queue"  # 1.b.ii
    CALL_ACCOUNTING = "call_accounting"  # 1.b.iii
    FAX = "fax"  # 1.b.iv
    VOICEMAIL = "voicemail"  # 1.b.v (standalone voice mailbox)


FEATURE_LABELS: dict[Feature, str] = {
    Feature.AUTO_ATTENDANT: "Auto Attendant",
    Feature.CALL_CENTER_AGENT: "Call Center Agent",
    Feature.CALL_CENTER_QUEUE: "Call Center Queue",
    Feature.CALL_ACCOUNTING: "Call Accounting",
    Feature.FAX: "Faxing",
    Feature.VOICEMAIL: "Voice Mailbox (standalone)",
}


@dataclass(frozen=True, slots=True)
class VoiceBundle:
    """Contents of one per-user Voice Services Bundle, voice-bundles.txt §2.7.

    Per user: unlimited Domestic Outbound, Toll-Free, Inbound and Emergency Services; one DID or
    toll-free number (assigned or ported) with its set-up and port fees included; one Caller ID
    Name delivery with its set-up fee included; directory listing included.
    """

    monthly_rate: Decimal
    unlimited: frozenset[UsageCategory] = VOICE_BUNDLE_UNLIMITED
    numbers_per_user: int = 1
    cnam_per_user: int = 1
    directory_listing_included: bool = True
    number_setup_fee_included: bool = True
    number_port_fee_included: bool = True
    cnam_setup_fee_included: bool = True


@dataclass(frozen=True, slots=True)
class PriceList:
    """Recurring and one-time prices of a tenant's order (the SOA / Order Form)."""

    seat_monthly: Decimal  # hosted-pbx.txt 1.a Basic Service Active Seat Unit Charge
    features_monthly: dict[Feature, Decimal] = field(default_factory=dict)  # hosted-pbx.txt 1.b
    number_monthly: Decimal = Decimal("0")
    number_setup_fee: Decimal = Decimal("0")
    number_port_fee: Decimal = Decimal("0")
    cnam_monthly: Decimal = Decimal("0")
    cnam_setup_fee: Decimal = Decimal("0")
    bundle: VoiceBundle | None = None
    cpaas_platform_monthly: Decimal = Decimal("0")  # cpaas.txt §4.3 Monthly Platform Fee

    def feature_price(self, feature: Feature) -> Decimal:
        try:
            return self.features_monthly[feature]
        except KeyError:
            raise KeyError(f"no price for feature {feature.value!r} on this price list") from None


def bundle_rating_plan(code: str, bundle: VoiceBundle, base: RatingPlan | None = None) -> RatingPlan:
    """The rating plan of a tenant on voice bundles: the bundle's unlimited categories added to base."""
    base = base or RatingPlan(code=code, pooled=frozenset())
    return RatingPlan(
        code=code,
        increment=base.increment,
        unlimited=base.unlimited | bundle.unlimited,
        pooled=base.pooled - bundle.unlimited,
        pool_minutes=base.pool_minutes,
        overage_per_minute=base.overage_per_minute,
        local_per_minute=base.local_per_minute,
        directory_assistance_per_call=base.directory_assistance_per_call,
        conference_per_minute=base.conference_per_minute,
    )
