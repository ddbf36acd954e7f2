"""Nomadic use: a device registering from a network it has not used before.

voip-service-guide.txt §V.14 (E-911):
- §V.14.3 IP Trunking: "detect when an end-user has moved his or her VoIP phone ... to a non-primary
  service location, and suspend VoIP Service unless and until either Customer (a) verifies that the
  end-user is at the location for which the VoIP phone is registered for service or (b)
  re-registers the VoIP phone for service ... at the end-user's current location" — and "otherwise
  block all VoIP calls attempted to be made via the nomadic service". 911 itself is never refused
  (policy.py; DESIGN.md): it still goes out, with the registered location.
- §V.14.2.4 IP Integrated Access (and IP Trunking): "E-911 will not be available" away from the
  registered primary service location; the user is warned and asked to confirm or update.
- §V.14.4.1/§V.14.4.2 Hosted IP Centrex: mobility is supported; the user "must report the change of
  location" and can register a temporary location; "a change in IP address ... may indicate ...
  that the phone may have been moved". So the user is told to confirm; calls go on. A phone moved
  "outside the Company's E-911 service area" may be suspended until it is reported (§V.14.4.1).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from centrex.numbers.service import ServiceType

__all__ = ["NomadicAction", "NomadicDecision", "decide_nomadic", "network_id"]


class NomadicAction(StrEnum):
    NONE = "none"  # known network, or location confirmed
    CONFIRM_LOCATION = "confirm_location"  # tell the user to confirm or update the registered location
    HOLD_NON_EMERGENCY = "hold_non_emergency"  # refuse every call except 911 until verified


@dataclass(frozen=True, slots=True)
class NomadicDecision:
    new_network: bool
    action: NomadicAction
    message: str  # for the user or the administrator
    rule: str  # the contract section

    @property
    def non_emergency_calls_allowed(self) -> bool:
        return self.action is not NomadicAction.HOLD_NON_EMERGENCY

    @property
    def emergency_calls_allowed(self) -> bool:
        """Always: 911 is never refused (policy.py)."""
        return True


def network_id(source_ip: str, v4_prefix: int = 24, v6_prefix: int = 64) -> str:
    """The network a registration comes from: its /24 (IPv4) or /64 (IPv6), so a new DHCP lease on
    the same LAN is not a move but a different site is. §V.14.4.2: a change in IP address may
    indicate the phone was moved."""
    address = ipaddress.ip_address(source_ip)
    prefix = v4_prefix if address.version == 4 else v6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def decide_nomadic(
    service_type: ServiceType,
    network: str,
    known_networks: Collection[str],
    location_confirmed: bool = False,
    in_e911_service_area: bool = True,
) -> NomadicDecision:
    """What to do when a device registers from `network` (see `network_id`).

    `known_networks` are those it has registered from before at its registered location;
    `location_confirmed` is true once the user (or, on IP Trunking, the Customer) verified the
    location or re-registered the device at the new location for this network.
    """
    new = network not in known_networks
    if location_confirmed or (not new and in_e911_service_area):
        return NomadicDecision(
            new, NomadicAction.NONE, "registered location in use", "voip-service-guide.txt §V.14"
        )
    if service_type is ServiceType.IP_TRUNKING:
        return NomadicDecision(
            new,
            NomadicAction.HOLD_NON_EMERGENCY,
            "this phone is registering from a new network: calls other than 911 are held until the "
            "location is verified or the phone is re-registered at its current location",
            "voip-service-guide.txt §V.14.3",
        )
    if not in_e911_service_area:
        return NomadicDecision(
            new,
            NomadicAction.HOLD_NON_EMERGENCY,
            "this phone is outside the E-911 service area: calls other than 911 are held until the "
            "change of location is reported or the phone is back in the service area",
            "voip-service-guide.txt §V.14.4.1",
        )
    if service_type is ServiceType.IP_INTEGRATED_ACCESS:
        return NomadicDecision(
            new,
            NomadicAction.CONFIRM_LOCATION,
            "this phone is registering from a new network: E-911 is available only at the registered "
            "service location; confirm you are there or update the location",
            "voip-service-guide.txt §V.14.2.4",
        )
    return NomadicDecision(
        new,
        NomadicAction.CONFIRM_LOCATION,
        "this phone is registering from a new network: confirm your 911 location or register the "
        "address where you are now, or 911 calls may not reach the right PSAP",
        "voip-service-guide.txt §V.14.4.1, §V.14.4.2",
    )
