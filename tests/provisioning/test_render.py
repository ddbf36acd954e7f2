"""The templates alone: hostile labels stay inside their value (Yealink has no escaping; XML is
escaped), the 911 location cannot end an XML comment, and file names map to the right vendor."""

from __future__ import annotations

import defusedxml.ElementTree as DET

from centrex.provisioning.render import Key, Line, PhoneConfig, posix_tz, render
from centrex.provisioning.vendors import MODELS, Family, parse_file_name


def config(family: Family, label: str, location: str | None) -> PhoneConfig:
    model = next(m for m, f in MODELS.items() if f is family)
    line = Line(1, "1001", "pw&<'\"", "acme.example.com", "Ann\nDoe", "1001")
    return PhoneConfig(
        "00:11:22:33:44:55", family, model, "198.51.100.1", 5060, (line,),
        (Key(1, "blf", "1002", label),), "Asia/Kolkata", location,
    )  # fmt: skip


def test_a_label_cannot_inject_a_yealink_setting() -> None:
    text = render(config(Family.YEALINK, "Bob\naccount.1.password = stolen", "a\nb"))
    assert "account.1.password = pw&<'\"" in text
    assert "\naccount.1.password = stolen" not in text
    assert "linekey.1.label = Bob account.1.password = stolen" in text
    assert "local_time.time_zone = +5.5" in text


def test_xml_templates_escape_everything_and_comments_stay_comments() -> None:
    for family in (Family.POLYCOM, Family.GRANDSTREAM, Family.CISCO):
        body = render(config(family, "</x><evil/>", "Suite 1 -- rear --> door"))
        root = DET.fromstring(body.encode())
        assert root.find(".//evil") is None
        assert "pw&<'\"" in body.replace("&amp;", "&").replace("&lt;", "<").replace("&#39;", "'").replace(
            "&#34;", '"'
        )  # fmt: skip
        assert "Suite 1 - - rear - -> door" in body.replace("&gt;", ">")


def test_file_names_and_time_zones() -> None:
    assert parse_file_name("001122AABBCC.cfg").mac == "00:11:22:aa:bb:cc"  # type: ignore[union-attr]
    assert parse_file_name("000000000000.cfg").boot  # type: ignore[union-attr]
    assert parse_file_name("../etc/passwd") is None and parse_file_name("0011.cfg") is None
    grandstream = parse_file_name("cfg001122aabbcc.xml")
    assert grandstream is not None and grandstream.served_by(Family.GRANDSTREAM)
    assert not grandstream.served_by(Family.YEALINK) and not grandstream.served_by(Family.CISCO)
    assert posix_tz("Europe/Berlin") == "CET-1CEST,M3.5.0,M10.5.0/3"
