"""Call classification: from what was dialled and where the caller is, to a `CallClass`.

voip-service-guide.txt §III.1 (call types: on-net, off-net U.S. long distance, off-net local,
international), §III.3.3 (directory assistance), §III.3.7 (900/976 blocking), §V.9 (local vs
long distance, intrastate vs interstate, from the call's originating location), §V.14 (E911).
hosted-pbx.txt, usage c: "Directory Assistance (411 or NPA 555-1212)".
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from centrex.e911.numbers import NEVER_REFUSED, to_emergency_provider
from centrex.numbers.classes import CallClass
from centrex.numbers.dialplan import CallerSite, DialPlan, Shape, parse_dialled
from centrex.numbers.e164 import PhoneNumberError, nanp_parts, region_of, to_e164
from centrex.numbers.geography import DOMESTIC_NANP_REGIONS, state_of
from centrex.numbers.ratecenters import SAMPLE_RATE_CENTERS, RateCenterTable, is_local_call

__all__ = [
    "N11_SERVICES",
    "PREMIUM_NPAS",
    "PREMIUM_NXXS",
    "TOLL_FREE_NPAS",
    "Classification",
    "DestinationKind",
    "classify",
    "classify_e164",
    "premium_block_reason",
]

TOLL_FREE_NPAS = frozenset({"800", "833", "844", "855", "866", "877", "888"})
"""8YY toll-free area codes in service (NANPA). 822 is reserved and not yet in service."""

PREMIUM_NPAS = frozenset({"900"})
PREMIUM_NXXS = frozenset({"976"})
"""voip-service-guide.txt §III.3.7: "900 and 976 numbers will be blocked." 900 is an area code
(1-900-NXX-XXXX); 976 is an exchange within a geographic area code (NPA-976-XXXX)."""

N11_SERVICES: dict[str, tuple[CallClass, str]] = {
    "211": (CallClass.N11, "community information and referral"),
    "311": (CallClass.N11, "municipal non-emergency services"),
    "411": (CallClass.DIRECTORY_ASSISTANCE, "directory assistance"),
    "511": (CallClass.N11, "traffic and transportation information"),
    "611": (CallClass.N11, "repair service"),
    "711": (CallClass.N11, "telecommunications relay service"),
    "811": (CallClass.N11, "call before you dig"),
    "911": (CallClass.EMERGENCY, "emergency services"),
}
"""The N11 service codes (FCC-assigned); 411 is directory assistance (voip-service-guide.txt §III.3.3,
hosted-pbx.txt usage c)."""


class DestinationKind(StrEnum):
    E164 = "e164"
    EXTENSION = "extension"
    SERVICE_CODE = "service_code"  # N11, 933
    FEATURE_CODE = "feature_code"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Classification:
    """What a dialled string is, as routing, restriction and rating need it."""

    dialled: str
    call_class: CallClass
    destination: str  # E.164, extension digits, service code, feature code, or "" when invalid
    kind: DestinationKind
    blocked: bool = False
    reason: str = ""  # why blocked or invalid, with its source; otherwise a note or ""

    @property
    def is_emergency(self) -> bool:
        """911 in any dialled form: never refused (e911/numbers.py, the one definition)."""
        return self.call_class in NEVER_REFUSED

    @property
    def to_emergency_provider(self) -> bool:
        """911 and the 933 test: routed to the emergency provider (e911/numbers.py)."""
        return to_emergency_provider(self.call_class)

    @property
    def routable(self) -> bool:
        """Neither blocked nor invalid. (Restrictions, capacity and credit are decided elsewhere.)"""
        return not self.blocked and self.call_class is not CallClass.INVALID


def premium_block_reason(e164: str) -> str | None:
    """Why a +1 number is blocked as premium, or None. voip-service-guide.txt §III.3.7."""
    number = nanp_parts(e164)
    if number.npa in PREMIUM_NPAS:
        return f"{number.npa} numbers are blocked (voip-service-guide.txt §III.3.7: 900/976 blocking)"
    if number.nxx in PREMIUM_NXXS and number.npa not in TOLL_FREE_NPAS:
        return "976 numbers are blocked (voip-service-guide.txt §III.3.7: 900/976 blocking)"
    return None


def _domestic_class(e164: str, site: CallerSite, rate_centers: RateCenterTable) -> tuple[CallClass, str]:
    """Local, LD intrastate or LD interstate, judged from the caller's originating location
    (voip-service-guide.txt §V.9), never from the caller's own number."""
    dest = nanp_parts(e164)
    local = is_local_call(rate_centers, site.npa_nxx, dest.npa_nxx)
    if local is None and dest.npa_nxx == site.npa_nxx:
        local = True
    if local:
        return CallClass.LOCAL, ""
    far = rate_centers.lookup(dest.npa_nxx)
    dest_state = far.state if far is not None else state_of(e164)
    note = "" if local is not None else f"NPA-NXX {dest.npa}-{dest.nxx} is not in the rate-center table; "
    if dest_state is None:
        return CallClass.LD_INTERSTATE, note + "destination state unknown, classified interstate"
    if note:
        note += f"classified by state ({dest_state})"
    if dest_state == site.state.upper():
        return CallClass.LD_INTRASTATE, note
    return CallClass.LD_INTERSTATE, note


def classify_e164(
    e164: str,
    site: CallerSite,
    own_numbers: Collection[str] = frozenset(),
    rate_centers: RateCenterTable = SAMPLE_RATE_CENTERS,
    dialled: str | None = None,
) -> Classification:
    """Classify a destination that is already E.164 (what billing rates from a CDR)."""
    shown = e164 if dialled is None else dialled
    if e164 in own_numbers:
        return Classification(
            shown, CallClass.ON_NET, e164, DestinationKind.E164, reason="a number of this tenant"
        )
    if not e164.startswith("+1"):
        try:
            normal = to_e164(e164)
        except PhoneNumberError as exc:
            return Classification(shown, CallClass.INVALID, "", DestinationKind.NONE, reason=str(exc))
        return Classification(shown, CallClass.INTERNATIONAL, normal, DestinationKind.E164)
    if len(e164) == 12 and e164[2:].isdigit():
        number = nanp_parts(e164)
        why = premium_block_reason(e164)
        if why is not None:
            return Classification(
                shown, CallClass.PREMIUM, e164, DestinationKind.E164, blocked=True, reason=why
            )
        if number.npa in TOLL_FREE_NPAS:
            return Classification(shown, CallClass.TOLL_FREE, e164, DestinationKind.E164)
        if number.nxx == "555" and number.line == "1212":
            return Classification(
                shown, CallClass.DIRECTORY_ASSISTANCE, e164, DestinationKind.E164, reason="NPA-555-1212"
            )
    try:
        normal = to_e164(e164)
    except PhoneNumberError as exc:
        return Classification(shown, CallClass.INVALID, "", DestinationKind.NONE, reason=str(exc))
    region = region_of(normal)
    if region not in DOMESTIC_NANP_REGIONS:
        return Classification(
            shown, CallClass.INTERNATIONAL, normal, DestinationKind.E164, reason=f"NANP country {region}"
        )
    call_class, note = _domestic_class(normal, site, rate_centers)
    return Classification(shown, call_class, normal, DestinationKind.E164, reason=note)


def classify(
    dialled: str,
    site: CallerSite,
    plan: DialPlan | None = None,
    own_numbers: Collection[str] = frozenset(),
    rate_centers: RateCenterTable = SAMPLE_RATE_CENTERS,
) -> Classification:
    """Classify what a caller at `site` dialled under the tenant's `plan`.

    `own_numbers` are the tenant's E.164 numbers: calling one is an intra-enterprise (on-net) call
    (voip-service-guide.txt §II "Intra-enterprise Calls", §III.1.1). 900 and 976 are blocked
    (§III.3.7); 911 is never blocked here (policy.py says the same for every admission check).
    """
    plan = plan or DialPlan()
    parsed = parse_dialled(dialled, plan, site)
    shape = parsed.shape
    if shape is Shape.EMERGENCY:
        how = "dialled with the outside-line prefix; " if parsed.outside_line_prefix_used else ""
        return Classification(
            dialled,
            CallClass.EMERGENCY,
            "911",
            DestinationKind.SERVICE_CODE,
            reason=how + "emergency call: never blocked (voip-service-guide.txt §V.14)",
        )
    if shape is Shape.EMERGENCY_TEST:
        return Classification(
            dialled,
            CallClass.EMERGENCY_TEST,
            "933",
            DestinationKind.SERVICE_CODE,
            reason="911 address test call",
        )
    if shape is Shape.EXTENSION:
        return Classification(dialled, CallClass.ON_NET, parsed.value, DestinationKind.EXTENSION)
    if shape is Shape.FEATURE_CODE:
        return Classification(
            dialled, CallClass.ON_NET, parsed.value, DestinationKind.FEATURE_CODE, reason="PBX feature code"
        )
    if shape is Shape.SERVICE_CODE:
        call_class, service = N11_SERVICES[parsed.value]
        return Classification(dialled, call_class, parsed.value, DestinationKind.SERVICE_CODE, reason=service)
    if shape is Shape.INVALID:
        return Classification(dialled, CallClass.INVALID, "", DestinationKind.NONE, reason=parsed.problem)
    return classify_e164(parsed.value, site, own_numbers, rate_centers, dialled=dialled)
