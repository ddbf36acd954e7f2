"""Twilio-shaped resource identifiers: two letters and 32 hex digits (issue 16 §2).

Existing Twilio code checks the prefix (AC account, CA call, SM message, RE recording, PN number,
QU queue, CF conference), so ours use the same ones."""

from __future__ import annotations

import re
import uuid

# FW flow, FN execution, FT step (Studio's)
PREFIXES = {"AC", "CA", "SM", "MM", "RE", "PN", "QU", "CF", "AP", "WH", "FW", "FN", "FT"}
_SID = re.compile(r"^(?P<prefix>[A-Z]{2})(?P<hex>[0-9a-f]{32})$")


def new_sid(prefix: str) -> str:
    if prefix not in PREFIXES:
        raise ValueError(f"unknown SID prefix {prefix!r}")
    return prefix + uuid.uuid4().hex


def sid_of(prefix: str, row_id: uuid.UUID) -> str:
    """The SID of a row whose primary key is a UUID: stable, no column needed."""
    return prefix + row_id.hex


def parse_sid(sid: str, prefix: str) -> uuid.UUID | None:
    """The UUID behind a SID made by sid_of, or None for anything else (a clear 404, never a 500)."""
    m = _SID.match(sid or "")
    if m is None or m["prefix"] != prefix:
        return None
    return uuid.UUID(hex=m["hex"])
