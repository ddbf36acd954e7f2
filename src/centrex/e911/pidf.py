"""Location by value on a 911 INVITE: PIDF-LO, the Geolocation header, and the multipart body.

RFC 4119 (PIDF-LO), RFC 5139 (civic address elements), RFC 5491 (PIDF-LO usage: the location goes
in a `dm:device` element with one location and a `gp:method`), RFC 6442 (SIP location conveyance:
`Geolocation: <cid:...>` naming the body part whose Content-ID matches), RFC 2046 (multipart/mixed).
voip-service-guide.txt §V.14.2.1/§V.14.2.3: the PSAP gets the registered address and, where given,
floor and room.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from centrex.e911.address import CivicAddress, split_street

__all__ = [
    "CA_NS",
    "DM_NS",
    "GBP_NS",
    "GP_NS",
    "PIDF_NS",
    "MultipartBody",
    "geolocation_header",
    "location_headers",
    "multipart_mixed",
    "pidf_lo",
]

PIDF_NS = "urn:ietf:params:xml:ns:pidf"
DM_NS = "urn:ietf:params:xml:ns:pidf:data-model"
GP_NS = "urn:ietf:params:xml:ns:pidf:geopriv10"
CA_NS = "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"
GBP_NS = "urn:ietf:params:xml:ns:pidf:geopriv10:basicPolicy"

for _prefix, _uri in (("", PIDF_NS), ("dm", DM_NS), ("gp", GP_NS), ("ca", CA_NS), ("gbp", GBP_NS)):
    ET.register_namespace(_prefix, _uri)

_CONTENT_ID = re.compile(r"^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]+@[A-Za-z0-9.\-]+$")
_XML_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


def _civic_elements(address: CivicAddress) -> list[tuple[str, str]]:
    """RFC 5139 §4 schema order (a sequence of optional elements): country, A1–A6, PRM, PRD, RD, STS,
    POD, POM, RDSEC, RDBR, RDSUBBR, HNO, HNS, LMK, LOC, FLR, NAM, PC, BLD, UNIT, ROOM, SEAT, PLC, PCN,
    POBOX, ADDCODE."""
    prd, rd, sts, pod = split_street(address.street)
    hno = address.house_number.strip()
    match = re.fullmatch(r"(\d+)\s*(.*)", hno)
    number, suffix = (match.group(1), match.group(2).strip()) if match else (hno, "")
    pairs = [
        ("country", address.country.strip().upper()),
        ("A1", address.state.strip().upper()),
        ("A3", address.city.strip()),
        ("PRD", prd),
        ("RD", rd),
        ("STS", sts),
        ("POD", pod),
        ("HNO", number),
        ("HNS", suffix),
        ("FLR", address.floor.strip()),
        ("NAM", address.location_name.strip()),
        ("PC", address.postal_code.strip()),
        ("UNIT", address.unit.strip()),
        ("ROOM", address.room.strip()),
    ]
    return [(name, value) for name, value in pairs if value]


def _timestamp(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (UTC)")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pidf_lo(
    address: CivicAddress,
    entity: str,
    timestamp: datetime,
    *,
    device_id: str = "",
    element_id: str = "device1",
    method: str = "Manual",
    retransmission_allowed: bool = True,
    retention_expiry: datetime | None = None,
) -> str:
    """A PIDF-LO document (UTF-8 XML text) carrying `address` as the civic location of the device.

    `entity` is the presentity URI (`sip:+12125550123@example.com` or `pres:...`); `device_id` an
    RFC 4479 device identifier such as `mac:0011223344ab`; `method` how the location was learnt
    (registered locations are "Manual", RFC 4119 / IANA method tokens). Emergency routing passes
    the location on, hence `retransmission_allowed` defaults to True.
    """
    if not entity.strip():
        raise ValueError("entity (the caller's URI) is required")
    if not _XML_ID.match(element_id):
        raise ValueError(f"element_id '{element_id}' is not an XML id")
    presence = ET.Element(f"{{{PIDF_NS}}}presence", {"entity": entity})
    device = ET.SubElement(presence, f"{{{DM_NS}}}device", {"id": element_id})
    geopriv = ET.SubElement(device, f"{{{GP_NS}}}geopriv")
    info = ET.SubElement(geopriv, f"{{{GP_NS}}}location-info")
    civic = ET.SubElement(
        info, f"{{{CA_NS}}}civicAddress", {"{http://www.w3.org/XML/1998/namespace}lang": "en-US"}
    )
    for name, value in _civic_elements(address):
        ET.SubElement(civic, f"{{{CA_NS}}}{name}").text = value
    rules = ET.SubElement(geopriv, f"{{{GP_NS}}}usage-rules")
    ET.SubElement(rules, f"{{{GBP_NS}}}retransmission-allowed").text = (
        "true" if retransmission_allowed else "false"
    )
    if retention_expiry is not None:
        ET.SubElement(rules, f"{{{GBP_NS}}}retention-expiry").text = _timestamp(retention_expiry)
    ET.SubElement(geopriv, f"{{{GP_NS}}}method").text = method
    if device_id:
        ET.SubElement(device, f"{{{DM_NS}}}deviceID").text = device_id
    ET.SubElement(device, f"{{{DM_NS}}}timestamp").text = _timestamp(timestamp)
    body = ET.tostring(presence, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def geolocation_header(content_id: str) -> str:
    """RFC 6442 §4.1 Geolocation header value for location by value: `<cid:content_id>`."""
    if not _CONTENT_ID.match(content_id):
        raise ValueError(f"content id '{content_id}' is not of the form local@domain")
    return f"<cid:{content_id}>"


def location_headers(content_id: str, routing_allowed: bool = True) -> dict[str, str]:
    """The SIP headers of RFC 6442 for a 911 INVITE: Geolocation, and Geolocation-Routing ("yes":
    proxies may route the call on this location, as emergency routing must)."""
    return {
        "Geolocation": geolocation_header(content_id),
        "Geolocation-Routing": "yes" if routing_allowed else "no",
    }


@dataclass(frozen=True, slots=True)
class MultipartBody:
    content_type: str  # the Content-Type header value of the SIP message
    body: bytes


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def multipart_mixed(sdp: str, pidf: str, content_id: str, boundary: str | None = None) -> MultipartBody:
    """The INVITE body: SDP and PIDF-LO as multipart/mixed (RFC 2046 §5.1), the PIDF-LO part
    carrying `Content-ID: <content_id>` that the Geolocation header points to (RFC 6442 §4.1).
    The boundary defaults to a digest of the parts, so the same input gives the same bytes."""
    geolocation_header(content_id)  # validates it
    parts = (_crlf(sdp), _crlf(pidf))
    if boundary is None:
        boundary = "loc-" + hashlib.sha256("".join(parts).encode()).hexdigest()[:24]
    if not re.fullmatch(r"[A-Za-z0-9'()+_,\-./:=?]{1,70}", boundary):
        raise ValueError(f"boundary '{boundary}' is not a valid MIME boundary")
    if any(f"--{boundary}" in p for p in parts):
        raise ValueError("boundary occurs inside a body part")
    lines = [
        f"--{boundary}",
        "Content-Type: application/sdp",
        "",
        parts[0].rstrip("\r\n"),
        f"--{boundary}",
        "Content-Type: application/pidf+xml",
        f"Content-ID: <{content_id}>",
        "",
        parts[1].rstrip("\r\n"),
        f"--{boundary}--",
        "",
    ]
    return MultipartBody(f"multipart/mixed;boundary={boundary}", "\r\n".join(lines).encode("utf-8"))
