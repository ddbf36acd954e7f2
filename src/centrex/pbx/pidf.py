"""RFC 3863 PIDF bodies for RFC 3856 presence (with the RFC 4480 RPID activity a phone shows):
pure rendering of one of four states."""

from __future__ import annotations

import xml.etree.ElementTree as ET

CONTENT_TYPE = "application/pidf+xml"
PIDF = "urn:ietf:params:xml:ns:pidf"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
RPID = "urn:ietf:params:xml:ns:pidf:rpid"

AVAILABLE, BUSY, DND, UNAVAILABLE = "available", "busy", "dnd", "unavailable"

# state → (RFC 3863 basic status, RFC 4480 activity or None, note). "basic" says whether the user
# would take a call now: on the phone stays open (call waiting, voicemail); DND and no phone
# registered are closed.
_STATES: dict[str, tuple[str, str | None, str]] = {
    AVAILABLE: ("open", None, "Available"),
    BUSY: ("open", "on-the-phone", "On the phone"),
    DND: ("closed", "busy", "Do not disturb"),
    UNAVAILABLE: ("closed", None, "Unavailable"),
}


def render(entity: str, state: str) -> bytes:
    basic, activity, note = _STATES[state]
    for prefix, uri in (("", PIDF), ("dm", DM), ("rpid", RPID)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{PIDF}}}presence", {"entity": entity})
    tup = ET.SubElement(root, f"{{{PIDF}}}tuple", {"id": "phone"})
    status = ET.SubElement(tup, f"{{{PIDF}}}status")
    ET.SubElement(status, f"{{{PIDF}}}basic").text = basic
    ET.SubElement(tup, f"{{{PIDF}}}contact").text = entity
    ET.SubElement(tup, f"{{{PIDF}}}note").text = note
    person = ET.SubElement(root, f"{{{DM}}}person", {"id": "user"})
    if activity is not None:
        activities = ET.SubElement(person, f"{{{RPID}}}activities")
        ET.SubElement(activities, f"{{{RPID}}}{activity}")
    ET.SubElement(person, f"{{{DM}}}note").text = note
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
