"""The switch records which of our numbers carried a call, so reclamation (numbers/reclamation.py,
cpaas.txt §2.4.5: numbers "unutilized or underutilized") lists only numbers really idle.

A service of the call core (calls/services.py): when an answered call ends it notes the tenant's
number the call used — the DID a call from a trunk was for, or the calling user's own DID on a call
out — and writes the latest use of each number in one transaction every 30 s
(numbers/storage.py ``record_number_use``). A number called and never answered has not been used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.dialling import loose_e164
from centrex.calls.model import Call
from centrex.calls.services import CallService
from centrex.numbers.storage import record_number_use
from centrex.store.db import transaction

log = logging.getLogger(__name__)

FLUSH_S = 30.0
UseWriter = Callable[[dict[str, datetime]], None]


def number_used(call: Call) -> str | None:
    """The tenant's number this call used, E.164, or None."""
    if call.answered_at is None:
        return None
    if call.trunk is not None and call.direction in ("inbound", "internal") and call.device is None:
        return loose_e164(call.dialled) or None  # the DID the carrier delivered
    if call.caller is not None and call.direction == "outbound":
        return call.caller.number
    return None


def store_writer(sessions: sessionmaker[Session]) -> UseWriter:
    def write(uses: dict[str, datetime]) -> None:
        with transaction(sessions) as session:
            for e164, at in uses.items():
                record_number_use(session, e164, at)

    return write


class NumberUse(CallService):
    name = "number_use"

    def __init__(self, writer: UseWriter | None = None) -> None:
        self.writer = writer
        self.pending: dict[str, datetime] = {}
        self._flush_at = 0.0

    def ended(self, call: Call, now: float) -> None:
        number = number_used(call) if self.writer is not None else None
        if number is None:
            return
        if not self.pending:
            self._flush_at = now + FLUSH_S
        self.pending[number] = self.core.wall()

    def next_timer(self) -> float | None:
        return self._flush_at if self.pending else None

    def tick(self, now: float) -> None:
        if self.pending and now >= self._flush_at:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        if not pending or self.writer is None:
            return
        try:
            self.writer(pending)
        except Exception:
            log.exception("numbers.use.write_failed numbers=%d", len(pending))
