"""The BLF and presence bodies as a phone parses them (xml.etree: namespaces, attributes, escaping)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from centrex.pbx import dialog_info, pidf
from centrex.pbx.dialog_info import DialogEntry

NS = {"d": dialog_info.NAMESPACE}


def entry(state: str = "early") -> DialogEntry:
    return DialogEntry(
        "leg-1",
        state,
        "recipient",
        "leg-1",
        "ph",
        "sw",
        "sip:1002@a.example.com",
        "sip:1001@a.example.com",
        'Ann "A&B" <x>',
    )


def test_dialog_info_carries_every_attribute_a_phone_needs() -> None:
    root = ET.fromstring(dialog_info.render("sip:1002@a.example.com", 7, [entry()]))
    assert root.tag == f"{{{dialog_info.NAMESPACE}}}dialog-info"
    assert (root.get("version"), root.get("state"), root.get("entity")) == (
        "7",
        "full",
        "sip:1002@a.example.com",
    )
    [d] = root.findall("d:dialog", NS)
    assert {k: d.get(k) for k in ("id", "call-id", "local-tag", "remote-tag", "direction")} == {
        "id": "leg-1",
        "call-id": "leg-1",
        "local-tag": "ph",
        "remote-tag": "sw",
        "direction": "recipient",
    }
    assert d.findtext("d:state", "", NS) == "early"
    assert d.find("d:remote/d:identity", NS).get("display") == 'Ann "A&B" <x>'  # type: ignore[union-attr]
    assert d.find("d:local/d:target", NS).get("uri") == "sip:1002@a.example.com"  # type: ignore[union-attr]


def test_an_ended_dialog_renders_terminated_and_an_idle_user_no_dialog() -> None:
    ended = ET.fromstring(dialog_info.render("sip:1002@a", 1, [entry("confirmed").ended()]))
    assert [d.findtext("d:state", "", NS) for d in ended.findall("d:dialog", NS)] == ["terminated"]
    idle = ET.fromstring(dialog_info.render("sip:1002@a", 2, []))
    assert idle.findall("d:dialog", NS) == [] and idle.get("version") == "2"


@pytest.mark.parametrize(
    ("state", "basic", "activity"),
    [
        ("available", "open", None),
        ("busy", "open", "on-the-phone"),
        ("dnd", "closed", "busy"),
        ("unavailable", "closed", None),
    ],
)
def test_pidf_states(state: str, basic: str, activity: str | None) -> None:
    ns = {"p": pidf.PIDF, "dm": pidf.DM, "r": pidf.RPID}
    root = ET.fromstring(pidf.render("sip:1002@a.example.com", state))
    assert root.tag == f"{{{pidf.PIDF}}}presence" and root.get("entity") == "sip:1002@a.example.com"
    assert root.findtext("p:tuple/p:status/p:basic", "", ns) == basic
    found = root.find(f"dm:person/r:activities/r:{activity}", ns) if activity else None
    assert (found is not None) == (activity is not None)
    assert root.find("dm:person/r:activities", ns) is not None or activity is None
