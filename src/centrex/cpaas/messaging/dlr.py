"""SMPP delivery receipts (reference cpaas-e911-numbers.md §2.4) → Twilio message statuses.

A receipt is a deliver_sm with esm_class bit 0x04. Its id is the ``receipted_message_id`` TLV
(0x001E) when present, else ``id:`` of the de facto text body
``id:<msgid> sub:001 dlvrd:001 submit date:… done date:… stat:DELIVRD err:000 text:…``. The state is
the ``message_state`` TLV or ``stat:``. Ids are normalized (decimal on 3.4, hex on 3.3; leading
zeros dropped, lower case) so a receipt finds the id submit_sm_resp gave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ESM_RECEIPT = 0x04

# SMPP 3.4 §5.2.28 message_state values
_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}

# stat → (Twilio status, Twilio error code): 30003 unreachable handset, 30005 unknown handset,
# 30007 carrier filtering, 30008 unknown error.
FINAL: dict[str, tuple[str, int | None]] = {
    "DELIVRD": ("delivered", None),
    "UNDELIV": ("undelivered", 30003),
    "EXPIRED": ("undelivered", 30003),
    "REJECTD": ("undelivered", 30007),
    "DELETED": ("undelivered", 30008),
    "UNKNOWN": ("undelivered", 30008),
}
INTERIM = frozenset({"ENROUTE", "ACCEPTD"})

_FIELD = re.compile(r"(id|stat|err):(\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    carrier_id: str
    stat: str
    err: str


def normalize_id(carrier_id: str) -> str:
    value = carrier_id.strip().lower().lstrip("0")
    return value or "0"


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", errors="replace")
    return "" if value is None else str(value)


def parse_receipt(
    short_message: bytes, receipted_message_id: object = None, message_state: object = None
) -> Receipt | None:
    fields = {k.lower(): v for k, v in _FIELD.findall(_text(short_message))}
    carrier_id = _text(receipted_message_id).strip("\x00") or fields.get("id", "")
    stat = fields.get("stat", "").upper()
    if isinstance(message_state, int) and message_state in _STATES:
        stat = _STATES[message_state]
    if not carrier_id or not stat:
        return None
    return Receipt(normalize_id(carrier_id), stat, fields.get("err", "000"))


def receipt_text(carrier_id: str, stat: str, err: str, when: str, text: str = "") -> bytes:
    """What an SMSC puts in a receipt's short_message (the simulator's side)."""
    dlvrd = "001" if stat == "DELIVRD" else "000"
    body = (
        f"id:{carrier_id} sub:001 dlvrd:{dlvrd} submit date:{when} done date:{when}"
        f" stat:{stat} err:{err} text:{text[:20]}"
    )
    return body.encode("ascii", errors="replace")
