"""Nomadic use on SQLite and PostgreSQL (voip-service-guide.txt §V.14.3, §V.14.4): the first network
is the known one, a new network flags the phone, IP Trunking holds its calls other than 911 until the
location is confirmed or registered anew, Hosted IP Centrex only asks to confirm."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from centrex.e911.nomadic import NomadicAction
from centrex.e911.nomadic_store import NomadicTracker, current_decision, note_registration
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass
from centrex.store.db import transaction
from centrex.store.models.e911_nomadic import DeviceNetwork
from tests.api.conftest import Api
from tests.api.matrix_roles import ADM, EU, GRANTED

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
OFFICE, OFFICE_2, CAFE = "198.51.100.23", "198.51.100.77", "203.0.113.7"


def _tenant(api: Api) -> str:
    return f"/api/v1/tenants/{api.world.a.id}"


def set_service(api: Api, service: str) -> None:
    r = api.call("PATCH", _tenant(api), api.world.operator_token, json={"service_type": service})
    assert r.status_code == 200, r.text


def new_device(api: Api, username: str, user: str = "end_user") -> uuid.UUID:
    body = {"sip_username": username, "user_id": str(api.world.a.ids[user])}
    r = api.call("POST", f"{_tenant(api)}/devices", api.world.a.tokens[ADM], json=body)
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


def test_first_registration_is_the_known_network(api: Api, session_factory: Any) -> None:
    """§V.14.2.4/§V.14.3: a move is away from the registered primary service location; the network a
    phone first registers from is taken as that location's."""
    set_service(api, "ip-trunking")
    device = new_device(api, "3100")
    tenant = api.world.a.id
    with transaction(session_factory) as s:
        first = note_registration(s, tenant, device, OFFICE, "ip-trunking", T0)
    assert first.action is NomadicAction.NONE and not first.new_network
    with session_factory() as s:
        (row,) = s.scalars(select(DeviceNetwork).where(DeviceNetwork.device_id == device))
        assert row.network == "198.51.100.0/24" and row.confirmed_by == "first registration"
        assert row.location_confirmed_at == T0 and row.first_seen == row.last_seen == T0
    # Another address on the same LAN (a new DHCP lease) is not a move.
    with transaction(session_factory) as s:
        again = note_registration(s, tenant, device, OFFICE_2, "ip-trunking", T0 + timedelta(hours=2))
    assert again.action is NomadicAction.NONE


def test_ip_trunking_holds_calls_other_than_911_on_a_new_network(api: Api, session_factory: Any) -> None:
    set_service(api, "ip-trunking")
    device = new_device(api, "3101")
    tenant = api.world.a.id
    tracker = NomadicTracker(session_factory)
    assert tracker.registered(tenant, device, OFFICE, "ip-trunking", T0).action is NomadicAction.NONE
    assert tracker.held(tenant, device, T0) is None
    moved = tracker.registered(tenant, device, CAFE, "ip-trunking", T0 + timedelta(hours=1))
    assert moved.new_network and moved.action is NomadicAction.HOLD_NON_EMERGENCY
    assert moved.rule == "voip-service-guide.txt §V.14.3"
    held = tracker.held(tenant, device, T0 + timedelta(hours=1))
    assert held is not None and not held.non_emergency_calls_allowed
    # The engine asks may_refuse before refusing: never for 911, always for the rest.
    assert not may_refuse(CallClass.EMERGENCY, RefusalGround.NOMADIC_HOLD)
    assert may_refuse(CallClass.LOCAL, RefusalGround.NOMADIC_HOLD)
    # The same network again is still held: moving is not cured by registering again from there.
    later = tracker.registered(tenant, device, CAFE, "ip-trunking", T0 + timedelta(hours=3))
    assert later.action is NomadicAction.HOLD_NON_EMERGENCY
    # Back at the office: the phone is at its registered location again, nothing is held.
    back = tracker.registered(tenant, device, OFFICE, "ip-trunking", T0 + timedelta(hours=4))
    assert back.action is NomadicAction.NONE and tracker.held(tenant, device, T0 + timedelta(hours=4)) is None
    # ...and a fresh tracker (another node, or after a restart) reads the same from the database.
    with session_factory() as s:
        assert current_decision(s, tenant, device).action is NomadicAction.NONE  # type: ignore[union-attr]


def test_hosted_centrex_only_asks_to_confirm(api: Api, session_factory: Any) -> None:
    device = new_device(api, "3102")  # the world's tenants are hosted centrex
    tenant = api.world.a.id
    tracker = NomadicTracker(session_factory)
    tracker.registered(tenant, device, OFFICE, "hosted-centrex", T0)
    moved = tracker.registered(tenant, device, CAFE, "hosted-centrex", T0 + timedelta(hours=1))
    assert moved.action is NomadicAction.CONFIRM_LOCATION and moved.non_emergency_calls_allowed
    assert "confirm your 911 location" in moved.message and "§V.14.4" in moved.rule
    assert tracker.held(tenant, device, T0 + timedelta(hours=1)) is None


def test_administrator_confirmation_lifts_the_hold(api: Api, session_factory: Any) -> None:
    """§V.14.3 (a): the Customer verifies the phone is at its registered location. The tracker sees it
    at the next call without being told (the API may run on another node)."""
    set_service(api, "ip-trunking")
    tenant, device = api.world.a.id, api.world.a.ids["device"]  # registered from a cafe (world)
    tracker = NomadicTracker(session_factory)
    assert tracker.held(tenant, device) is not None
    path = f"{_tenant(api)}/e911/devices/{device}/nomadic"
    shown = api.call("GET", path, api.world.a.tokens[ADM]).json()
    assert shown["held"] is True and shown["action"] == "hold_non_emergency"
    assert shown["network"] == "203.0.113.0/24" and len(shown["networks"]) == 2
    flagged = api.call("GET", f"{_tenant(api)}/e911/nomadic", api.world.a.tokens[ADM]).json()
    assert [d["device_id"] for d in flagged["items"]] == [str(device)]
    r = api.call(
        "POST", f"{_tenant(api)}/e911/devices/{device}/location-confirmation", api.world.a.tokens[ADM]
    )
    assert r.status_code == 200, r.text
    assert r.json()["held"] is False and r.json()["action"] == "none"
    assert tracker.held(tenant, device) is None
    assert api.call("GET", f"{_tenant(api)}/e911/nomadic", api.world.a.tokens[ADM]).json()["total"] == 0
    (entry,) = api.audit(action="e911.location.confirm")
    assert entry["actor"] == "user:2001@alpha.example.com"
    assert entry["after"]["confirmed_by"] == "user:2001@alpha.example.com"


def test_user_confirms_their_own_phone(api: Api, session_factory: Any) -> None:
    set_service(api, "ip-trunking")
    tenant, device = api.world.a.id, api.world.a.ids["device"]
    mine = api.call("GET", f"{_tenant(api)}/me/e911", api.world.a.tokens[EU]).json()
    assert [(d["sip_username"], d["held"]) for d in mine] == [("2001", True)]
    # Someone else's phone is not theirs to confirm.
    other = api.call(
        "POST",
        f"{_tenant(api)}/me/e911/location-confirmation",
        api.world.a.tokens[GRANTED],
        json={"device_id": str(device)},
    )
    assert other.status_code == 404 and other.json()["field"] == "device_id"
    r = api.call("POST", f"{_tenant(api)}/me/e911/location-confirmation", api.world.a.tokens[EU], json={})
    assert r.status_code == 200 and r.json()[0]["held"] is False
    assert NomadicTracker(session_factory).held(tenant, device) is None
    assert len(api.audit(action="self.e911.location.confirm")) == 1


def test_registering_the_location_where_the_phone_is_now_lifts_the_hold(
    api: Api, session_factory: Any
) -> None:
    """§V.14.3 (b): "re-registers the VoIP phone for service ... at the end-user's current location"."""
    set_service(api, "ip-trunking")
    tenant, device = api.world.a.id, api.world.a.ids["device"]
    address = {
        "house_number": "5",
        "street": "N State St",
        "city": "Chicago",
        "state": "IL",
        "postal_code": "60602",
    }
    r = api.call(
        "PUT", f"{_tenant(api)}/e911/locations/devices/{device}", api.world.a.tokens[ADM], json=address
    )
    assert r.status_code == 200, r.text
    assert NomadicTracker(session_factory).held(tenant, device) is None
    (entry,) = api.audit(action="e911.location.confirm")
    assert entry["after"]["confirmed_by"].endswith("(location registered)")


def test_a_phone_without_any_registered_location_cannot_be_confirmed(api: Api, session_factory: Any) -> None:
    set_service(api, "ip-trunking")
    device = new_device(
        api, "3103", user="user"
    )  # the world's other_user  # neither the phone nor its user has one
    tracker = NomadicTracker(session_factory)
    tracker.registered(api.world.a.id, device, OFFICE, "ip-trunking", T0)
    tracker.registered(api.world.a.id, device, CAFE, "ip-trunking", T0 + timedelta(minutes=5))
    r = api.call(
        "POST", f"{_tenant(api)}/e911/devices/{device}/location-confirmation", api.world.a.tokens[ADM]
    )
    assert r.status_code == 409 and r.json()["field"] == "location"
    assert "§V.14.3" in r.json()["rule"]


def test_registrations_reach_the_database_only_when_something_changed(api: Api, session_factory: Any) -> None:
    device = new_device(api, "3104")
    tenant = api.world.a.id
    tracker = NomadicTracker(session_factory, refresh=timedelta(hours=1))
    for minute in range(120):  # a phone re-registering every minute for two hours
        tracker.registered(tenant, device, OFFICE, "hosted-centrex", T0 + timedelta(minutes=minute))
    assert tracker.writes == 2  # the first registration, and last_seen refreshed after an hour
    tracker.registered(tenant, device, CAFE, "hosted-centrex", T0 + timedelta(minutes=121))
    assert tracker.writes == 3  # a new network is written at once
    with session_factory() as s:
        rows = {
            r.network: r for r in s.scalars(select(DeviceNetwork).where(DeviceNetwork.device_id == device))
        }
    assert rows["198.51.100.0/24"].last_seen == T0 + timedelta(minutes=60)
    assert rows["203.0.113.0/24"].location_confirmed_at is None


def test_tenants_do_not_see_each_others_phones(api: Api, session_factory: Any) -> None:
    b_device = api.world.b.ids["device"]
    r = api.call("GET", f"{_tenant(api)}/e911/devices/{b_device}/nomadic", api.world.operator_token)
    assert r.status_code == 404
    # The tracker keys by tenant: tenant A's id with tenant B's device finds no networks.
    assert NomadicTracker(session_factory).held(api.world.a.id, b_device) is None
