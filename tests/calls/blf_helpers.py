"""SUBSCRIBE as a desk phone sends it (RFC 6665), authenticated like the MWI ones."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from centrex.sip.message import Request, Response

from .engine_harness import Bench
from .helpers import DOMAIN_A, answer, msg

NS = {"d": "urn:ietf:params:xml:ns:dialog-info"}


def subscribe_req(
    watcher: str,
    target: str,
    *,
    event: str = "dialog",
    call_id: str = "blf-1",
    cseq: int = 1,
    expires: int | None = 3600,
    to_tag: str | None = None,
    port: int = 5064,
    domain: str = DOMAIN_A,
    watcher_domain: str = DOMAIN_A,
) -> Request:
    lines = [
        f"SUBSCRIBE sip:{target}@{domain} SIP/2.0",
        f"Via: SIP/2.0/UDP 10.0.0.9:{port};branch=z9hG4bK{call_id}{cseq}",
        "Max-Forwards: 70",
        f"From: <sip:{watcher}@{watcher_domain}>;tag=w{watcher}{call_id}",
        f"To: <sip:{target}@{domain}>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} SUBSCRIBE",
        f"Contact: <sip:{watcher}@10.0.0.9:{port}>",
        f"Event: {event}",
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    lines.append("Content-Length: 0")
    return msg("\n".join(lines))


def subscribe(b: Bench, watcher: str, target: str, **kw: object) -> tuple[Response, list[Request]]:
    """Challenge, then the authenticated SUBSCRIBE: its final response and the NOTIFYs sent."""
    port = int(kw.get("port", 5064))  # type: ignore[call-overload]
    first = subscribe_req(watcher, target, **kw)  # type: ignore[arg-type]
    b.request(first, ("10.0.0.9", port))
    challenge = [s.message for s in b.net.take() if isinstance(s.message, Response)][-1]
    assert challenge.status == 407
    cseq = int(kw.pop("cseq", 1)) + 1  # type: ignore[call-overload]
    req = subscribe_req(watcher, target, cseq=cseq, **kw)  # type: ignore[arg-type]
    req.headers.add("Proxy-Authorization", answer(challenge, req, watcher))
    b.request(req, ("10.0.0.9", port))
    sent = b.net.take()
    [resp] = [s.message for s in sent if isinstance(s.message, Response)]
    return resp, [s.message for s in sent if isinstance(s.message, Request) and s.message.method == "NOTIFY"]


def notifies(b: Bench) -> list[Request]:
    return [
        s.message for s in b.net.take() if isinstance(s.message, Request) and s.message.method == "NOTIFY"
    ]


def dialog_states(note: Request) -> list[tuple[str, str]]:
    """(direction, state) of each dialog in a dialog-info NOTIFY, and checks the document."""
    assert note.headers.get("Event") == "dialog"
    assert note.headers.get("Content-Type") == "application/dialog-info+xml"
    root = ET.fromstring(note.body)
    assert root.tag == "{urn:ietf:params:xml:ns:dialog-info}dialog-info"
    return [(d.get("direction", ""), d.findtext("d:state", "", NS)) for d in root.findall("d:dialog", NS)]


def version(note: Request) -> int:
    return int(ET.fromstring(note.body).get("version", "-1"))
