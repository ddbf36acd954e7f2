"""Usage categories: how a rated call is grouped on an invoice and matched against a bundle.

A call class (numbers/classes.py) says what was dialled; the category adds the direction. The
categories follow the contracts: the voice bundle's rating model (voice-bundles.txt §2.7: Domestic
Outbound = local and long distance per §1.3.1, Toll-Free, Inbound, Emergency Services), the hosted
PBX usage clauses (hosted-pbx.txt usage 1: domestic minutes, international, directory assistance,
conference calling), and on-net calls which are never charged.
"""

from __future__ import annotations

from enum import StrEnum

from centrex.numbers.classes import CallClass, Direction


class UsageCategory(StrEnum):
    LOCAL = "local"
    DOMESTIC_LD = "domestic_ld"
    INBOUND = "inbound"
    TOLL_FREE_INBOUND = "toll_free_inbound"
    TOLL_FREE_OUTBOUND = "toll_free_outbound"
    INTERNATIONAL = "international"
    DIRECTORY_ASSISTANCE = "directory_assistance"
    CONFERENCE = "conference"
    EMERGENCY = "emergency"
    N11 = "n11"
    PREMIUM = "premium"
    ON_NET = "on_net"
    INVALID = "invalid"
    # voice-bundles.txt §1.3.2: toll-free traffic from AK, GU, HI, PR, MP, VI or Canada is outside
    # the bundle's Toll-Free (billing/availability.py); appended so the batch codes keep their values.
    TOLL_FREE_INBOUND_EXCLUDED = "toll_free_inbound_excluded"


#: Stable small-integer codes for the vectorized batch path (never reorder; append only).
CATEGORY_CODES: dict[UsageCategory, int] = {c: i for i, c in enumerate(UsageCategory)}
CATEGORIES_BY_CODE: tuple[UsageCategory, ...] = tuple(UsageCategory)

#: voice-bundles.txt §1.3.1: "Domestic Atmosphere Outbound includes the delivery of Local and Long
#: Distance Traffic".
DOMESTIC_OUTBOUND: frozenset[UsageCategory] = frozenset({UsageCategory.LOCAL, UsageCategory.DOMESTIC_LD})

_OUTBOUND: dict[CallClass, UsageCategory] = {
    CallClass.ON_NET: UsageCategory.ON_NET,
    CallClass.LOCAL: UsageCategory.LOCAL,
    CallClass.LD_INTRASTATE: UsageCategory.DOMESTIC_LD,
    CallClass.LD_INTERSTATE: UsageCategory.DOMESTIC_LD,
    CallClass.INTERNATIONAL: UsageCategory.INTERNATIONAL,
    CallClass.TOLL_FREE: UsageCategory.TOLL_FREE_OUTBOUND,
    CallClass.PREMIUM: UsageCategory.PREMIUM,
    CallClass.DIRECTORY_ASSISTANCE: UsageCategory.DIRECTORY_ASSISTANCE,
    CallClass.N11: UsageCategory.N11,
    CallClass.EMERGENCY: UsageCategory.EMERGENCY,
    CallClass.EMERGENCY_TEST: UsageCategory.EMERGENCY,
    CallClass.CONFERENCE: UsageCategory.CONFERENCE,
    CallClass.INVALID: UsageCategory.INVALID,
}


def usage_category(
    call_class: CallClass,
    direction: Direction,
    is_intra_enterprise: bool = False,
    toll_free_excluded: bool = False,
) -> UsageCategory:
    """The invoice/bundle category of a call.

    Internal and intra-enterprise calls are on-net. An inbound call to one of the tenant's toll-free
    numbers is Toll-Free (voice-bundles.txt §2.7 "Atmosphere Toll-Free"); other inbound calls are
    Inbound ("Atmosphere Inbound"); outbound calls follow the dialled number's class. A toll-free
    call from an origin the bundle excludes (``toll_free_excluded``, billing/availability.py
    ``toll_free_origin_excluded``: voice-bundles.txt §1.3.2) is its own category, never unlimited.
    """
    if is_intra_enterprise or direction is Direction.INTERNAL or call_class is CallClass.ON_NET:
        return UsageCategory.ON_NET
    if direction is Direction.INBOUND:
        if call_class is CallClass.TOLL_FREE:
            return (
                UsageCategory.TOLL_FREE_INBOUND_EXCLUDED
                if toll_free_excluded
                else UsageCategory.TOLL_FREE_INBOUND
            )
        return UsageCategory.INBOUND
    return _OUTBOUND[call_class]
