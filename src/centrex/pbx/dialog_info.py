"""RFC 4235 dialog-info+xml bodies (the BLF key's NOTIFY): pure rendering, no SIP, no clock.

One ``DialogEntry`` per dialog of the watched user's; a NOTIFY carries the full state (every dialog
the user is in now) plus, once, the dialogs that just ended as ``terminated`` — what Yealink, Polycom
and Snom need to turn a key from red/blinking back to green.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

CONTENT_TYPE = "application/dialog-info+xml"
NAMESPACE = "urn:ietf:params:xml:ns:dialog-info"

# RFC 4235 §4.1.2 states the switch reports (it sends no "trying"/"proceeding": a phone's key
# shows idle, ringing or busy, and ringing is the first thing a watched phone does).
EARLY, CONFIRMED, TERMINATED = "early", "confirmed", "terminated"


@dataclass(frozen=True, slots=True)
class DialogEntry:
    """One dialog of the watched user, as RFC 4235 §4.1 describes it.

    ``call_id``/``local_tag``/``remote_tag`` are those of the dialog between the switch and the
    watched phone (local: the watched phone's side), which is what a phone needs to pick the call
    up with Replaces; ``remote_uri`` is the other party (shown on the key and dialled back)."""

    id: str
    state: str  # early, confirmed, terminated
    direction: str  # initiator (the watched user called) or recipient (it is being called)
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_display: str = ""

    def ended(self) -> DialogEntry:
        return DialogEntry(
            self.id,
            TERMINATED,
            self.direction,
            self.call_id,
            self.local_tag,
            self.remote_tag,
            self.local_uri,
            self.remote_uri,
            self.remote_display,
        )


def render(entity: str, version: int, entries: list[DialogEntry], *, full: bool = True) -> bytes:
    """The dialog-info document: ``version`` counts up per subscription (RFC 4235 §4.1.1)."""
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(
        f"{{{NAMESPACE}}}dialog-info",
        {"version": str(version), "state": "full" if full else "partial", "entity": entity},
    )
    for entry in entries:
        attrs = {"id": entry.id, "call-id": entry.call_id, "direction": entry.direction}
        if entry.local_tag:
            attrs["local-tag"] = entry.local_tag
        if entry.remote_tag:
            attrs["remote-tag"] = entry.remote_tag
        dialog = ET.SubElement(root, f"{{{NAMESPACE}}}dialog", attrs)
        ET.SubElement(dialog, f"{{{NAMESPACE}}}state").text = entry.state
        local = ET.SubElement(dialog, f"{{{NAMESPACE}}}local")
        ET.SubElement(local, f"{{{NAMESPACE}}}identity").text = entry.local_uri
        ET.SubElement(local, f"{{{NAMESPACE}}}target", {"uri": entry.local_uri})
        remote = ET.SubElement(dialog, f"{{{NAMESPACE}}}remote")
        identity = ET.SubElement(
            remote,
            f"{{{NAMESPACE}}}identity",
            {"display": entry.remote_display} if entry.remote_display else {},
        )
        identity.text = entry.remote_uri
        ET.SubElement(remote, f"{{{NAMESPACE}}}target", {"uri": entry.remote_uri})
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
