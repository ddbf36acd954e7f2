"""Desk phones fetch their files over HTTPS as each vendor's firmware does (User-Agent, file name,
Basic credentials after a 401 challenge), and what each template renders parses — Yealink's
``key = value`` lines, the others' XML with defusedxml — and holds every stored line and key, the
time zone and the 911 location. Wrong credentials, another phone's, and unknown MACs get 401;
repeated failures ban the source like SIP guessing does (docs/provisioning.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import defusedxml.ElementTree as DET
import httpx
import pytest

from centrex.store.db import transaction
from centrex.store.models.numbering import LocationSubject, RegisteredLocation

from .conftest import Https


@dataclass(frozen=True)
class Phone:
    model: str
    mac: str
    agent: str
    path: str


PHONES = [
    Phone(
        "yealink-t54w",
        "80:5e:c0:11:22:33",
        "Yealink SIP-T54W 96.86.0.70 80:5e:c0:11:22:33",
        "805ec0112233.cfg",
    ),
    Phone(
        "polycom-vvx450",
        "64:16:7f:44:55:66",
        "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018 Type/Application",
        "64167f445566.cfg",
    ),
    Phone(
        "grandstream-grp2614",
        "c0:74:ad:77:88:99",
        "Grandstream Model HW GRP2614 SW 1.0.5.33 DevId c074ad778899",
        "cfgc074ad778899.xml",
    ),
    Phone(
        "cisco-mpp8851", "00:56:2b:0a:ab:bc", "Cisco-CP-8851-3PCC/11.3.7 (00562b0aabbc)", "00562B0AABBC.xml"
    ),
]
BUTTONS = [
    {"position": 1, "kind": "line", "value": "line1", "label": "Main"},
    {"position": 2, "kind": "blf", "value": "1002", "label": "Bob <Sales>"},
    {"position": 3, "kind": "speed_dial", "value": "+12125550100", "label": "HQ & Co"},
]


@dataclass
class Provisioned:
    device_id: str
    sip_username: str
    sip_password: str
    http: tuple[str, str]
    name: str


def provision(https: Https, phone: Phone, username: str, time_zone: str = "America/Chicago") -> Provisioned:
    with https.api() as api:
        users = api.get(f"/tenants/{https.tenant_id}/users", params={"limit": 100}).json()["items"]
        user = next(u for u in users if u["extension"] == "1005")
        made = api.post(
            f"/tenants/{https.tenant_id}/devices",
            json={"sip_username": username, "user_id": user["id"], "mac_address": phone.mac},
        )
        assert made.status_code == 201, made.text
        device = made.json()
        assert device["provisioning_username"] and device["provisioning_password"]
        r = api.put(f"/tenants/{https.tenant_id}/devices/{device['id']}/buttons", json={"buttons": BUTTONS})
        assert r.status_code == 200, r.text
        r = api.put(
            f"/tenants/{https.tenant_id}/devices/{device['id']}/provisioning",
            json={"model": phone.model, "time_zone": time_zone},
        )
        assert r.status_code == 200, r.text
        assert r.json()["http_password"] is None  # made with the device, shown then only
        assert "http_secret_hash" not in r.text and device["sip_password"] not in r.text
    with transaction(https.app.state.sessionmaker) as session:
        session.add(
            RegisteredLocation(
                tenant_id=uuid.UUID(https.tenant_id),
                subject_type=LocationSubject.DEVICE,
                subject_id=uuid.UUID(device["id"]),
                house_number="350",
                street="5th Ave",
                city="New York",
                state="NY",
                postal_code="10118",
                floor="Floor 21",
            )
        )
    return Provisioned(
        device["id"],
        username,
        device["sip_password"],
        (device["provisioning_username"], device["provisioning_password"]),
        user["name"],
    )


def fetch(https: Https, phone: Phone, path: str, auth: tuple[str, str] | None) -> httpx.Response:
    """As the phone does it: the request without credentials, then again with them on 401."""
    with https.phone(phone.agent) as client:
        first = client.get(f"/provision/{path}")
        if first.status_code != 401 or auth is None:
            return first
        assert first.headers["www-authenticate"].startswith("Basic realm=")
        return client.get(f"/provision/{path}", auth=auth)


def yealink_values(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, sep, value = line.partition(" = ")
            assert sep, f"not a key = value line: {line!r}"
            assert key not in values, f"{key} twice"
            values[key] = value
    return values


def xml_text(body: str) -> tuple[Any, list[str]]:
    """The parsed document (defusedxml: no entities, no external references) and its comments."""
    root = DET.fromstring(body.encode())
    comments = [c.split("-->")[0].strip() for c in body.split("<!--")[1:]]
    return root, comments


def check_file(phone: Phone, body: str, p: Provisioned, https: Https) -> None:
    location = "350 5th Ave, Floor 21, New York, NY 10118"
    if phone.model.startswith("yealink"):
        v = yealink_values(body)
        assert v["account.1.user_name"] == p.sip_username and v["account.1.password"] == p.sip_password
        assert v["account.1.sip_server.1.address"] == https.domain
        assert v["account.1.outbound_proxy.1.address"] == "203.0.113.10"
        assert v["account.1.label"] == "1005"
        assert v["local_time.time_zone"] == "-6" and v["local_time.time_zone_name"] == "America/Chicago"
        assert v["phone_setting.emergency.number"] == "911"
        assert f"## 911 location: {location}" in body
        assert [
            (v[f"linekey.{b['position']}.value"], v[f"linekey.{b['position']}.label"]) for b in BUTTONS
        ] == [(b["value"], b["label"]) for b in BUTTONS]
        assert [v[f"linekey.{n}.type"] for n in (1, 2, 3)] == ["15", "16", "13"]
        return
    root, comments = xml_text(body)
    assert f"911 location: {location}" in comments
    if phone.model.startswith("polycom"):
        attrs: dict[str, str] = {}
        for el in root:
            attrs.update(el.attrib)
        assert root.tag == "polycomConfig"
        assert attrs["reg.1.auth.userId"] == p.sip_username and attrs["reg.1.auth.password"] == p.sip_password
        assert attrs["reg.1.address"] == f"{p.sip_username}@{https.domain}"
        assert attrs["reg.1.outboundProxy.address"] == "203.0.113.10"
        assert attrs["tcpIpApp.sntp.gmtOffset"] == "-21600"
        assert attrs["dialplan.routing.emergency.1.value"] == "911"
        keys = sorted(
            (attrs[f"attendant.resourceList.{i}.position"], attrs[f"attendant.resourceList.{i}.address"],
             attrs[f"attendant.resourceList.{i}.label"], attrs[f"attendant.resourceList.{i}.type"])
            for i in (1, 2)
        )  # fmt: skip
        assert keys == [("2", "1002", "Bob <Sales>", "normal"), ("3", "+12125550100", "HQ & Co", "automata")]
        assert attrs["reg.1.lineKeys"] == "1"  # the one line button
    elif phone.model.startswith("grandstream"):
        cfg = {el.tag: el.text or "" for el in root.find("config")}
        assert root.findtext("mac") == phone.mac.replace(":", "")
        assert (cfg["P35"], cfg["P34"], cfg["P3"]) == (p.sip_username, p.sip_password, p.name)
        assert cfg["P47"] == f"{https.domain}:5060" and cfg["P48"] == "203.0.113.10:5060"
        assert cfg["P64"] == "customize" and cfg["P246"] == "CST6CDT,M3.2.0,M11.1.0"
        # Multi-purpose key n: mode P(323+n-1), name P(302+3(n-1)), value P(303+3(n-1)).
        assert [(cfg[f"P{323 + i}"], cfg[f"P{302 + 3 * i}"], cfg[f"P{303 + 3 * i}"]) for i in range(3)] == [
            ("11", "Main", "line1"), ("1", "Bob <Sales>", "1002"), ("0", "HQ & Co", "+12125550100")
        ]  # fmt: skip
    else:
        cfg = {el.tag: el.text or "" for el in root}
        assert root.tag == "flat-profile"
        assert (cfg["User_ID_1_"], cfg["Password_1_"], cfg["Proxy_1_"]) == (
            p.sip_username, p.sip_password, https.domain
        )  # fmt: skip
        assert cfg["Outbound_Proxy_1_"] == "203.0.113.10:5060"
        assert cfg["Time_Zone"] == "GMT-06:00" and cfg["Emergency_Number"] == "911"
        assert cfg["Extension_1_"] == "1" and cfg["Short_Name_1_"] == "Main"
        assert cfg["Extended_Function_2_"] == "fnc=blf+sd+cp;sub=1002@$PROXY;nme=Bob <Sales>"
        assert cfg["Extended_Function_3_"] == "fnc=sd;ext=+12125550100@$PROXY;nme=HQ & Co"


@pytest.mark.parametrize("phone", PHONES, ids=[p.model for p in PHONES])
def test_each_vendor_phone_fetches_its_file_over_https(https: Https, phone: Phone) -> None:
    p = provision(https, phone, f"desk-{phone.model}")
    if phone.model.startswith("polycom"):  # the master file first, with the same credentials
        boot = fetch(https, phone, "000000000000.cfg", p.http)
        assert boot.status_code == 200, boot.text
        root, _ = xml_text(boot.text)
        assert root.tag == "APPLICATION" and root.attrib["CONFIG_FILES"] == "[PHONE_MAC_ADDRESS].cfg"
    r = fetch(https, phone, phone.path, p.http)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-type"].startswith(
        "text/plain" if "yealink" in phone.model else "application/xml"
    )
    check_file(phone, r.text, p, https)


def test_wrong_credentials_another_phone_and_unknown_mac_are_refused(https: Https) -> None:
    yealink, cisco = PHONES[0], PHONES[3]
    a = provision(https, yealink, "desk-a")
    b = provision(https, cisco, "desk-b")
    assert fetch(https, yealink, yealink.path, (a.http[0], "wrong")).status_code == 401
    assert fetch(https, yealink, yealink.path, ("nobody", a.http[1])).status_code == 401
    # b's credentials never open a's file, and no file is served for a MAC nobody has.
    assert fetch(https, yealink, yealink.path, b.http).status_code == 401
    assert fetch(https, yealink, "001122334455.cfg", a.http).status_code == 401
    # a's own credentials, but a name its vendor never asks for: nothing to serve (and no secret).
    assert fetch(https, yealink, "cfg805ec0112233.xml", a.http).status_code == 404
    assert fetch(https, cisco, cisco.path, b.http).status_code == 200


def test_rotated_credentials_and_a_reset_sip_password(https: Https) -> None:
    phone = PHONES[0]
    p = provision(https, phone, "desk-rotate")
    base = f"/tenants/{https.tenant_id}/devices/{p.device_id}"
    with https.api() as api:
        new = api.post(f"{base}/provisioning/credentials").json()
        assert new["http_username"] == p.http[0] and new["http_password"] != p.http[1]
        reset = api.post(f"{base}/secret-reset").json()
        shown = api.get(f"{base}/provisioning").json()
        assert shown["sip_password_kept"] and shown["http_password"] is None
        assert api.put(f"{base}/provisioning", json={"model": "nokia-3310"}).status_code == 422
        assert api.put(f"{base}/provisioning", json={"time_zone": "Mars/Olympus"}).status_code == 422
    assert fetch(https, phone, phone.path, p.http).status_code == 401
    r = fetch(https, phone, phone.path, (new["http_username"], new["http_password"]))
    assert r.status_code == 200
    assert yealink_values(r.text)["account.1.password"] == reset["sip_password"] != p.sip_password


def test_repeated_failures_ban_the_source(https: Https) -> None:
    phone = PHONES[0]
    p = provision(https, phone, "desk-ban")
    # Asking without credentials (the phone's first request) counts for nothing.
    for _ in range(6):
        assert fetch(https, phone, phone.path, None).status_code == 401
    assert fetch(https, phone, phone.path, p.http).status_code == 200
    for _ in range(5):  # fail2ban's defaults, as for SIP: 5 failures within 10 minutes
        assert fetch(https, phone, phone.path, (p.http[0], "guess")).status_code == 401
    banned = fetch(https, phone, phone.path, p.http)
    assert banned.status_code == 403 and phone.mac.replace(":", "") not in banned.text
    https.app.state.bans.flush()  # written by the ban writer thread
    with https.api(operator=True) as api:  # the operator sees it with the SIP bans
        listed = api.get("/bans", params={"realm": "provisioning"}).json()["items"]
    assert [(b["realm"], b["source"]) for b in listed] == [("provisioning", "127.0.0.1")]
