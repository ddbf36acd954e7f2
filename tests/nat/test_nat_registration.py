"""Phones behind NAT that send no keep-alives: a UDP registration whose Contact is not where it
came from is granted a short lifetime, so the phone's own re-REGISTER keeps the NAT binding open
(docs/switch.md "Public address and NAT")."""

from __future__ import annotations

import pytest

from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.guard import GuardConfig, SourceGuard
from centrex.calls.location import LocationService
from centrex.calls.registrar import ExpiryPolicy, Registrar
from centrex.config import SettingsError, load_settings
from centrex.sip.events import Address
from centrex.sip.message import Response

from ..calls.helpers import answer, make_org, register

PRIVATE_CONTACT = "<sip:{user}@10.0.0.5:5062>"


def registrar(nat_maximum: int | None = 60) -> tuple[Registrar, LocationService]:
    org = make_org()
    loc = LocationService()
    auth = PhoneAuthenticator(org.directory, b"k" * 32, SourceGuard(GuardConfig()))
    policy = ExpiryPolicy(default=3600, minimum=60, maximum=3600, nat_maximum=nat_maximum)
    return Registrar(auth, loc, policy), loc


def do_register(reg: Registrar, source: Address, transport: str = "UDP", **kw: object) -> Response:
    first = reg.handle(register("1001", **kw), source, transport, 0.0)  # type: ignore[arg-type]
    assert first.status == 401
    req = register("1001", cseq=2, **kw)  # type: ignore[arg-type]
    req.headers.add("Authorization", answer(first, req, "1001"))
    return reg.handle(req, source, transport, 0.0)


def test_a_natted_udp_contact_gets_the_short_expiry() -> None:
    reg, loc = registrar()
    resp = do_register(reg, ("198.51.100.20", 61000), contact=PRIVATE_CONTACT)
    assert resp.status == 200
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5:5062>;expires=60"]
    # The phone is still reached at the address its REGISTER came from (symmetric response).
    assert loc.all()[0].source == ("198.51.100.20", 61000)


def test_a_phone_that_knows_its_public_address_keeps_its_hour() -> None:
    reg, _ = registrar()
    resp = do_register(reg, ("10.0.0.5", 5062), contact=PRIVATE_CONTACT)
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5:5062>;expires=3600"]
    # Same address, port left out of the Contact: 5060 is the default (RFC 3261 §19.1.2).
    reg, _ = registrar()
    resp = do_register(reg, ("10.0.0.5", 5060), contact="<sip:{user}@10.0.0.5>")
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5>;expires=3600"]


def test_natted_over_tcp_is_not_shortened_and_the_cap_can_be_off() -> None:
    reg, _ = registrar()
    resp = do_register(reg, ("198.51.100.20", 61000), transport="TCP", contact=PRIVATE_CONTACT)
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5:5062>;expires=3600"]
    reg, _ = registrar(nat_maximum=None)
    resp = do_register(reg, ("198.51.100.20", 61000), contact=PRIVATE_CONTACT)
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5:5062>;expires=3600"]


def test_a_natted_phone_asking_less_than_the_cap_gets_what_it_asked() -> None:
    reg, _ = registrar(nat_maximum=120)
    resp = do_register(reg, ("198.51.100.20", 61000), contact=PRIVATE_CONTACT, expires=90)
    assert resp.headers.get_all("Contact") == ["<sip:1001@10.0.0.5:5062>;expires=90"]


def test_external_addresses_are_ip_literals_named_when_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CENTREX_EXTERNAL_IP", "203.0.113.10")
    monkeypatch.setenv("CENTREX_EXTERNAL_MEDIA_IP", "[2001:db8::10]")
    s = load_settings()
    assert (s.external_ip, s.external_tls_ip, s.external_media_ip) == ("203.0.113.10", "", "2001:db8::10")
    monkeypatch.setenv("CENTREX_EXTERNAL_IP", "pbx.example.com")
    with pytest.raises(SettingsError, match=r"CENTREX_EXTERNAL_IP.*IP address"):
        load_settings()
    monkeypatch.delenv("CENTREX_EXTERNAL_IP")
    monkeypatch.setenv("CENTREX_SIP_NAT_EXPIRES", "30")
    with pytest.raises(SettingsError, match="CENTREX_SIP_NAT_EXPIRES"):
        load_settings()
