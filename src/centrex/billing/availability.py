"""Where the service and its pricing are available, and which traffic a bundle covers.

- voip-service-guide.txt §2.2: "VoIP BUNDLED Pricing is not available for Customer facilities
  located in the following states: Kentucky, Maine, New Hampshire, North Dakota, South Dakota,
  Vermont, West Virginia, and Wyoming."
- voip-service-guide.txt §I.5 / §V.8: no service in Alaska (e911/address.py UNSERVED_STATES is the
  one list of places not served).
- voice-bundles.txt §1.3.2: "Atmosphere Toll-Free excludes Traffic originating from Alaska, Guam,
  Hawaii, Puerto Rico, Saipan, US Virgin Islands and Canada."
"""

from __future__ import annotations

from centrex.e911.address import UNSERVED_STATES
from centrex.numbers.classes import CallClass, Direction
from centrex.numbers.e164 import region_of
from centrex.numbers.geography import state_of
from centrex.store.errors import Invalid

BUNDLED_UNAVAILABLE_STATES: dict[str, str] = {
    "KY": "Kentucky",
    "ME": "Maine",
    "NH": "New Hampshire",
    "ND": "North Dakota",
    "SD": "South Dakota",
    "VT": "Vermont",
    "WV": "West Virginia",
    "WY": "Wyoming",
}
"""voip-service-guide.txt §2.2: states where BUNDLED pricing is not offered."""

TOLL_FREE_EXCLUDED_REGIONS = frozenset({"GU", "PR", "MP", "VI", "CA"})  # Saipan is in MP
TOLL_FREE_EXCLUDED_STATES = frozenset({"AK", "HI"})
"""voice-bundles.txt §1.3.2: origins whose toll-free traffic is outside the bundle."""


def site_refusal(state: str, country: str, pricing_plan: str) -> tuple[str, str, str] | None:
    """(field, message, rule) when a site may not be served on this plan, else None. (§V.3.3,
    metered capacity only with A LA CARTE, is applied where it matters: a metered site of a bundled
    tenant never bursts, capacity/rules.py ``may_burst``.)"""
    st, ctry = state.strip().upper(), country.strip().upper()
    if ctry == "US" and st in UNSERVED_STATES:
        return (
            "state",
            f"service is not available in {UNSERVED_STATES[st]} (voip-service-guide.txt §I.5)",
            "service_area",
        )
    if pricing_plan == "bundled" and st in BUNDLED_UNAVAILABLE_STATES:
        return (
            "state",
            f"BUNDLED pricing is not available for sites in {BUNDLED_UNAVAILABLE_STATES[st]}"
            " (voip-service-guide.txt §2.2); use the A LA CARTE plan",
            "bundled_unavailable",
        )
    return None


def require_site_available(state: str, country: str, pricing_plan: str) -> None:
    """422 naming the field and the rule when ``site_refusal`` refuses the site."""
    refused = site_refusal(state, country, pricing_plan)
    if refused is not None:
        field, message, rule = refused
        raise Invalid(message, field=field, rule=rule)


def toll_free_origin_excluded(caller: str) -> bool:
    """True when a call to a toll-free number comes from where the bundle's Toll-Free does not
    cover (voice-bundles.txt §1.3.2). A caller that is not an E.164 number is not excluded."""
    if not caller.startswith("+1") or len(caller) != 12:
        return False
    if region_of(caller) in TOLL_FREE_EXCLUDED_REGIONS:
        return True
    return state_of(caller) in TOLL_FREE_EXCLUDED_STATES


def toll_free_excluded(call_class: CallClass, direction: Direction, caller: str) -> bool:
    """Whether an inbound toll-free call's origin is outside the bundle (only toll-free inbound
    calls are looked up: the lookup is not free and rating runs over millions of calls)."""
    return (
        call_class is CallClass.TOLL_FREE
        and direction is Direction.INBOUND
        and toll_free_origin_excluded(caller)
    )
