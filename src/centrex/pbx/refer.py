"""What every REFER handler shares: the Refer-To's target and the NOTIFYs of RFC 3515 §2.4.4."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from centrex.calls.dialling import dialled_of
from centrex.calls.model import Transfer
from centrex.sip.errors import SipParseError
from centrex.sip.headers import parse_name_addr
from centrex.sip.message import Request

if TYPE_CHECKING:
    from centrex.calls.engine import CallEngine

SIPFRAG = "message/sipfrag;version=2.0"


def refer_target(req: Request) -> tuple[str, str] | None:
    """(Refer-To as sent, the user part it names), or None without a Refer-To."""
    refer_to = req.headers.get("Refer-To")
    if not refer_to:
        return None
    try:
        uri = parse_name_addr(refer_to).uri
    except SipParseError:
        return refer_to, ""
    return refer_to, dialled_of(uri)


def replaces_of(refer_to: str) -> tuple[str, str, str] | None:
    """The (Call-ID, tag, tag) of a Refer-To's embedded Replaces header (RFC 3891 §6.1), or None."""
    _, _, query = refer_to.partition("?")
    query = query.split(">", 1)[0]
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name.strip().lower() != "replaces":
            continue
        fields = unquote(value).split(";")
        tags = {}
        for f in fields[1:]:
            k, _, v = f.partition("=")
            tags[k.strip().lower()] = v.strip()
        if fields[0] and "to-tag" in tags and "from-tag" in tags:
            return fields[0].strip(), tags["to-tag"], tags["from-tag"]
    return None


def notify_refer(core: CallEngine, xfer: Transfer, fragment: str, *, final: bool) -> None:
    """The progress of a transfer to the referrer, as a sipfrag NOTIFY in the REFER's dialog."""
    if xfer.referrer_gone:
        return
    state = "terminated;reason=noresource" if final else "active;expires=60"
    notify = xfer.dialog.create_request(
        "NOTIFY",
        body=(fragment + "\r\n").encode(),
        content_type=SIPFRAG,
        extra=[("Event", f"refer;id={xfer.event_id}"), ("Subscription-State", state)],
    )
    core.send(xfer.transport, notify, xfer.addr)
