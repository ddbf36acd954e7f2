"""Nomadic use, voip-service-guide.txt §V.14.2.4, §V.14.3, §V.14.4."""

from __future__ import annotations

import pytest

from centrex.e911.nomadic import NomadicAction, decide_nomadic, network_id
from centrex.numbers.service import ServiceType

HOME = network_id("198.51.100.23")
KNOWN = frozenset({HOME})
COFFEE_SHOP = network_id("203.0.113.7")


def test_network_id_groups_a_lan() -> None:
    assert network_id("198.51.100.23") == network_id("198.51.100.200") == "198.51.100.0/24"
    assert network_id("2001:db8:1:2::5") == "2001:db8:1:2::/64"
    with pytest.raises(ValueError):
        network_id("not-an-ip")


@pytest.mark.parametrize("service", list(ServiceType))
def test_known_network_needs_nothing(service: ServiceType) -> None:
    decision = decide_nomadic(service, HOME, KNOWN)
    assert not decision.new_network and decision.action is NomadicAction.NONE
    assert decision.non_emergency_calls_allowed and decision.emergency_calls_allowed


def test_ip_trunking_holds_non_911_calls_until_verified() -> None:
    decision = decide_nomadic(ServiceType.IP_TRUNKING, COFFEE_SHOP, KNOWN)
    assert decision.new_network
    assert decision.action is NomadicAction.HOLD_NON_EMERGENCY
    assert not decision.non_emergency_calls_allowed
    assert decision.emergency_calls_allowed  # 911 still goes out
    assert decision.rule == "voip-service-guide.txt §V.14.3"
    assert "held until the location is verified or the phone is re-registered" in decision.message


def test_ip_trunking_released_once_verified_or_re_registered() -> None:
    decision = decide_nomadic(ServiceType.IP_TRUNKING, COFFEE_SHOP, KNOWN, location_confirmed=True)
    assert decision.new_network and decision.action is NomadicAction.NONE


def test_hosted_centrex_user_is_told_to_confirm_and_calls_go_on() -> None:
    decision = decide_nomadic(ServiceType.HOSTED_IP_CENTREX, COFFEE_SHOP, KNOWN)
    assert decision.action is NomadicAction.CONFIRM_LOCATION
    assert decision.non_emergency_calls_allowed
    assert "§V.14.4" in decision.rule and "confirm your 911 location" in decision.message


def test_integrated_access_warns_e911_only_at_the_registered_location() -> None:
    decision = decide_nomadic(ServiceType.IP_INTEGRATED_ACCESS, COFFEE_SHOP, KNOWN)
    assert decision.action is NomadicAction.CONFIRM_LOCATION
    assert decision.rule == "voip-service-guide.txt §V.14.2.4"


def test_hosted_centrex_outside_the_e911_service_area_is_held() -> None:
    decision = decide_nomadic(ServiceType.HOSTED_IP_CENTREX, COFFEE_SHOP, KNOWN, in_e911_service_area=False)
    assert decision.action is NomadicAction.HOLD_NON_EMERGENCY
    assert decision.rule == "voip-service-guide.txt §V.14.4.1"
    assert decision.emergency_calls_allowed
