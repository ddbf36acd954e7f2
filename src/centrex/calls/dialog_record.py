"""A dialog as the call journal keeps it, so a restarted switch can still hang up a call.

After a ``kill -9`` the calls that were up are gone from memory but not from the phones and the
carriers: a carrier leg left up goes on billing. The journal keeps each answered call's dialogs
(Call-ID, tags, URIs, remote target, route set, our CSeq, where to send) and the next start sends
BYE on each (issue 13 §3). Plain data and pure functions; the journal stores ``as_json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from centrex.sip.dialog import Dialog, DialogState
from centrex.sip.errors import SipParseError
from centrex.sip.events import Address
from centrex.sip.headers import parse_name_addr
from centrex.sip.message import Request
from centrex.sip.uri import parse_uri

# Our CSeq may have moved on after the journal was written (re-INVITEs, NOTIFYs); a BYE with a
# lower number than the far end last saw is refused (RFC 3261 §12.2.2), a higher one is not.
CSEQ_MARGIN = 1000


@dataclass(frozen=True, slots=True)
class DialogRecord:
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str
    remote_uri: str
    remote_target: str
    route_set: tuple[str, ...]
    local_seq: int
    transport: str
    host: str
    port: int

    @classmethod
    def of(cls, dialog: Dialog, transport: str, addr: Address) -> DialogRecord:
        return cls(
            dialog.call_id,
            dialog.local_tag,
            dialog.remote_tag,
            str(dialog.local_uri),
            str(dialog.remote_uri),
            str(dialog.remote_target),
            tuple(str(r) for r in dialog.route_set),
            dialog.local_seq or 0,
            transport,
            addr[0],
            addr[1],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "local_tag": self.local_tag,
            "remote_tag": self.remote_tag,
            "local_uri": self.local_uri,
            "remote_uri": self.remote_uri,
            "remote_target": self.remote_target,
            "route_set": list(self.route_set),
            "local_seq": self.local_seq,
            "transport": self.transport,
            "host": self.host,
            "port": self.port,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DialogRecord:
        return cls(
            str(data["call_id"]),
            str(data["local_tag"]),
            str(data["remote_tag"]),
            str(data["local_uri"]),
            str(data["remote_uri"]),
            str(data["remote_target"]),
            tuple(str(r) for r in data.get("route_set", ())),
            int(data.get("local_seq", 0)),
            str(data.get("transport", "UDP")),
            str(data["host"]),
            int(data["port"]),
        )

    def bye(self) -> Request:
        """The BYE that ends this dialog, its CSeq well past what the journal saw."""
        dialog = Dialog(
            call_id=self.call_id,
            local_tag=self.local_tag,
            remote_tag=self.remote_tag,
            local_uri=parse_name_addr(self.local_uri),
            remote_uri=parse_name_addr(self.remote_uri),
            remote_target=parse_uri(self.remote_target),
            route_set=[parse_name_addr(r) for r in self.route_set],
            local_seq=self.local_seq + CSEQ_MARGIN,
            state=DialogState.CONFIRMED,
        )
        return dialog.create_request("BYE", extra=[("Reason", 'SIP;cause=200;text="switch restarted"')])


def records_from_json(rows: object) -> list[DialogRecord]:
    """The journal's dialogs column, tolerant of what an older or damaged row holds."""
    out: list[DialogRecord] = []
    if not isinstance(rows, list):
        return out
    for item in rows:
        try:
            if isinstance(item, dict):
                out.append(DialogRecord.from_json(item))
        except (KeyError, TypeError, ValueError, SipParseError):
            continue
    return out
