"""Calls-per-second pacing of API-originated calls, per account and across nodes (issue 16 §2).

Each node's call desk queues its calls per account; before one leaves for the switch the desk
reserves a slot here. The slot is the account's ``next_at`` (or now, if that is past), and
``next_at`` moves ``1/cps`` past the slot, in one transaction holding the row's lock
(an UPDATE first, then ``SELECT … FOR UPDATE``: PostgreSQL locks the row, SQLite the
database). Two nodes sharing PostgreSQL so take turns: the account's calls leave ``1/cps``
apart whichever node placed them, as a generic cell rate algorithm with no burst. The nodes' clocks
are assumed NTP-synchronised (as the job leases and the webhook outbox assume); a skew of δ shifts
slots by at most δ.

Blocking (the desk calls it through ``asyncio.to_thread``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from centrex.store.db import transaction
from centrex.store.models.cpaas_pacing import CpaasCallPacing
from centrex.store.types import utcnow


class SharedPacer:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def reserve(self, tenant_id: uuid.UUID, gap_s: float, now: datetime | None = None) -> datetime:
        """The time this account's next call may leave (now or later); the one after it may leave
        ``gap_s`` later (``1/cps``)."""
        gap = timedelta(seconds=max(gap_s, 0.0))
        for _ in range(3):
            try:
                with transaction(self.sessions) as s:
                    # Lock first with a write (PostgreSQL: the row; SQLite: the database, whose
                    # driver would otherwise read outside the transaction), then read.
                    s.execute(
                        update(CpaasCallPacing)
                        .where(CpaasCallPacing.tenant_id == tenant_id)
                        .values(next_at=CpaasCallPacing.next_at)
                    )
                    at = now or utcnow()
                    row = s.scalar(
                        select(CpaasCallPacing)
                        .where(CpaasCallPacing.tenant_id == tenant_id)
                        .with_for_update()
                    )
                    if row is None:
                        s.add(CpaasCallPacing(tenant_id=tenant_id, next_at=at + gap))
                        s.flush()  # a node racing us for the first row: IntegrityError, try again
                        return at
                    slot = max(row.next_at, at)
                    row.next_at = slot + gap
                    return slot
            except IntegrityError:
                continue
        return now or utcnow()  # the store keeps refusing: pace on this node alone
