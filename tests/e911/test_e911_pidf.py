"""PIDF-LO (RFC 4119/5139/5491), Geolocation (RFC 6442) and the multipart/mixed INVITE body."""

from __future__ import annotations

import email
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from centrex.e911.address import CivicAddress
from centrex.e911.pidf import (
    CA_NS,
    DM_NS,
    GBP_NS,
    GP_NS,
    PIDF_NS,
    geolocation_header,
    location_headers,
    multipart_mixed,
    pidf_lo,
)

WHEN = datetime(2025, 6, 2, 14, 30, tzinfo=UTC)
HQ = CivicAddress(
    "100A",
    "North Main Street",
    "Springfield",
    "IL",
    "62701",
    unit="200",
    floor="2",
    room="Lab",
    location_name="Acme HQ",
)
SDP = "v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 4000 RTP/AVP 0\n"


def parse(doc: str) -> ET.Element:
    return ET.fromstring(doc.encode())


def test_pidf_lo_structure_rfc_5491() -> None:
    doc = pidf_lo(HQ, "sip:+12175550100@tenant.example.com", WHEN, device_id="mac:0011223344ab")
    assert doc.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = parse(doc)
    assert root.tag == f"{{{PIDF_NS}}}presence"
    assert root.get("entity") == "sip:+12175550100@tenant.example.com"
    device = root.find(f"{{{DM_NS}}}device")
    assert device is not None and device.get("id") == "device1"
    geopriv = device.find(f"{{{GP_NS}}}geopriv")
    assert geopriv is not None
    assert geopriv.findtext(f"{{{GP_NS}}}method") == "Manual"
    rules = geopriv.find(f"{{{GP_NS}}}usage-rules")
    assert rules is not None and rules.findtext(f"{{{GBP_NS}}}retransmission-allowed") == "true"
    assert device.findtext(f"{{{DM_NS}}}deviceID") == "mac:0011223344ab"
    assert device.findtext(f"{{{DM_NS}}}timestamp") == "2025-06-02T14:30:00Z"


def test_civic_address_elements_rfc_5139() -> None:
    root = parse(pidf_lo(HQ, "sip:+12175550100@tenant.example.com", WHEN))
    civic = root.find(f".//{{{CA_NS}}}civicAddress")
    assert civic is not None
    got = [(child.tag.split("}")[1], child.text) for child in civic]
    assert got == [
        ("country", "US"),
        ("A1", "IL"),
        ("A3", "Springfield"),
        ("PRD", "N"),
        ("RD", "Main"),
        ("STS", "St"),
        ("HNO", "100"),
        ("HNS", "A"),
        ("FLR", "2"),
        ("NAM", "Acme HQ"),
        ("PC", "62701"),
        ("UNIT", "200"),
        ("ROOM", "Lab"),
    ]
    assert civic.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"


def test_text_is_escaped() -> None:
    odd = CivicAddress("1", "Main St", "Springfield", "IL", "62701", location_name="Smith & <Sons>")
    root = parse(pidf_lo(odd, "sip:a@b", WHEN))
    assert root.findtext(f".//{{{CA_NS}}}NAM") == "Smith & <Sons>"


def test_retention_and_no_retransmission() -> None:
    root = parse(
        pidf_lo(
            HQ,
            "sip:a@b",
            WHEN,
            retransmission_allowed=False,
            retention_expiry=datetime(2025, 6, 3, tzinfo=UTC),
        )
    )
    assert root.findtext(f".//{{{GBP_NS}}}retransmission-allowed") == "false"
    assert root.findtext(f".//{{{GBP_NS}}}retention-expiry") == "2025-06-03T00:00:00Z"


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pidf_lo(HQ, "sip:a@b", datetime(2025, 6, 2))
    with pytest.raises(ValueError, match="entity"):
        pidf_lo(HQ, " ", WHEN)
    with pytest.raises(ValueError, match="not of the form local@domain"):
        geolocation_header("<loc@x>")


def test_geolocation_header_rfc_6442() -> None:
    assert geolocation_header("loc1@tenant.example.com") == "<cid:loc1@tenant.example.com>"
    assert location_headers("loc1@tenant.example.com") == {
        "Geolocation": "<cid:loc1@tenant.example.com>",
        "Geolocation-Routing": "yes",
    }
    assert location_headers("loc1@x.example", routing_allowed=False)["Geolocation-Routing"] == "no"


def test_multipart_body_carries_sdp_and_pidf_with_matching_content_id() -> None:
    pidf = pidf_lo(HQ, "sip:+12175550100@tenant.example.com", WHEN)
    body = multipart_mixed(SDP, pidf, "loc1@tenant.example.com")
    assert body.content_type.startswith("multipart/mixed;boundary=")
    assert b"\r\n" in body.body and b"\n\n" not in body.body.replace(b"\r\n", b"")
    message = email.message_from_bytes(
        b"Content-Type: " + body.content_type.encode() + b"\r\n\r\n" + body.body
    )
    assert message.is_multipart()
    parts = [p for p in message.walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == ["application/sdp", "application/pidf+xml"]
    assert parts[1]["Content-ID"] == "<loc1@tenant.example.com>"
    assert geolocation_header("loc1@tenant.example.com") == "<cid:" + parts[1]["Content-ID"].strip("<>") + ">"
    sdp_text, pidf_text = (str(p.get_payload()) for p in parts)
    assert "m=audio 4000 RTP/AVP 0" in sdp_text
    root = parse(pidf_text)
    assert root.findtext(f".//{{{CA_NS}}}A3") == "Springfield"


def test_multipart_is_deterministic_and_checks_the_boundary() -> None:
    pidf = pidf_lo(HQ, "sip:a@b", WHEN)
    assert multipart_mixed(SDP, pidf, "l@x").body == multipart_mixed(SDP, pidf, "l@x").body
    assert b"--b1--\r\n" in multipart_mixed(SDP, pidf, "l@x", boundary="b1").body
    with pytest.raises(ValueError, match="boundary occurs inside"):
        multipart_mixed("--b1\n", pidf, "l@x", boundary="b1")
    with pytest.raises(ValueError, match="not a valid MIME boundary"):
        multipart_mixed(SDP, pidf, "l@x", boundary="bad boundary;")
