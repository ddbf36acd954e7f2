"""The store side of calls/queues.py: ``StoreQueues`` answers the engine's QueueStore questions
from call_queues, queue_agents and queue_events (store/models/queues.py).

The engine asks on the event loop for every queued call, so each answer is one cached Core
statement on a connection each thread keeps (as calls/directory.py StoreDirectory does), and a
queue's settings and members are kept ``ttl`` seconds (a settings change through the API applies
within that; unknown extensions are cached too, the engine asks for every extension that is not a
user or hunt group). Who is logged in is read fresh every time: an administrator's login through
the API, or another node's ``*45``, counts at the next dispatch. ``record`` is one small insert,
handed to ``write_later`` (the switch's record writer thread) when one is given, so an fsync never
runs on the loop.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.directory_store import ThreadReader
from centrex.calls.directory import QueueInfo
from centrex.pbx.queue_model import QueueEvent
from centrex.pbx.queue_stats import KINDS
from centrex.store.models.queues import CallQueue, QueueAgent, QueueEventRow

WriteLater = Callable[[Callable[[Session], None], str], Any]

_COLUMNS = (
    CallQueue.id,
    CallQueue.tenant_id,
    CallQueue.name,
    CallQueue.extension,
    CallQueue.max_wait_s,
    CallQueue.wrap_up_s,
    CallQueue.agent_ring_s,
    CallQueue.overflow_destination,
    CallQueue.announce_position_s,
)
_QUEUE = select(*_COLUMNS).where(CallQueue.id == bindparam("queue_id"))
_QUEUE_BY_EXTENSION = select(*_COLUMNS).where(
    CallQueue.tenant_id == bindparam("tenant_id"), CallQueue.extension == bindparam("ext")
)
_MEMBERS = (
    select(QueueAgent.user_id)
    .where(QueueAgent.queue_id == bindparam("queue_id"))
    .order_by(QueueAgent.position, QueueAgent.id)
)
# Logged-in agents in the order they logged in (as MemoryQueues keeps them), members' order on a tie.
_AGENTS = (
    select(QueueAgent.user_id)
    .where(QueueAgent.queue_id == bindparam("queue_id"), QueueAgent.logged_in.is_(True))
    .order_by(QueueAgent.logged_in_at, QueueAgent.position, QueueAgent.id)
)


def login_changes(on: bool, now: datetime) -> dict[str, Any]:
    """The columns of a queue_agents row that logs in (since now) or out."""
    return {"logged_in": on, "logged_in_at": now if on else None}


def event_values(event: QueueEvent) -> dict[str, Any]:
    """A QueueEvent as a queue_events row; an unknown kind is refused (statistics would miss it)."""
    if event.kind not in KINDS:
        raise ValueError(f"queue event kind {event.kind!r} is not one of {sorted(KINDS)}")
    return {
        "id": uuid.uuid4(),
        "tenant_id": event.tenant_id,
        "queue_id": event.queue_id,
        "kind": event.kind,
        "at": event.at,
        "call_id": event.call_id,
        "agent_id": event.agent_id,
        "wait_ms": event.wait_ms,
    }


def _info(row: Row[Any] | None) -> QueueInfo | None:
    if row is None:
        return None
    return QueueInfo(
        row.id,
        row.tenant_id,
        row.name,
        row.extension,
        row.max_wait_s,
        row.wrap_up_s,
        row.agent_ring_s,
        row.overflow_destination,
        row.announce_position_s,
    )


class StoreQueues:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        write_later: WriteLater | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        max_entries: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._reader = ThreadReader(sessions)
        self.ttl = ttl
        self.clock = clock
        self.wall = wall
        self.write_later = write_later
        self.max_entries = max_entries
        self._queues: dict[object, tuple[float, QueueInfo | None]] = {}
        self._members: dict[uuid.UUID, tuple[float, list[uuid.UUID]]] = {}

    # -- reads -------------------------------------------------------------------------------
    def _rows(self, stmt: Select[Any], **params: object) -> list[Row[Any]]:
        return self._reader.rows(stmt, **params)

    def _cached_queue(self, key: object, stmt: Select[Any], **params: object) -> QueueInfo | None:
        now = self.clock()
        hit = self._queues.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        rows = self._rows(stmt, **params)
        value = _info(rows[0] if rows else None)
        if len(self._queues) + len(self._members) >= self.max_entries:
            self._queues.clear()
            self._members.clear()
        self._queues[key] = (now + self.ttl, value)
        return value

    def queue(self, queue_id: uuid.UUID) -> QueueInfo | None:
        return self._cached_queue(queue_id, _QUEUE, queue_id=queue_id)

    def queue_by_extension(self, tenant_id: uuid.UUID, extension: str) -> QueueInfo | None:
        return self._cached_queue(
            (tenant_id, extension), _QUEUE_BY_EXTENSION, tenant_id=tenant_id, ext=extension
        )

    def members(self, queue_id: uuid.UUID) -> list[uuid.UUID]:
        now = self.clock()
        hit = self._members.get(queue_id)
        if hit is None or hit[0] <= now:
            hit = (now + self.ttl, [r.user_id for r in self._rows(_MEMBERS, queue_id=queue_id)])
            self._members[queue_id] = hit
        return list(hit[1])

    def agents(self, queue_id: uuid.UUID) -> list[uuid.UUID]:
        return [r.user_id for r in self._rows(_AGENTS, queue_id=queue_id)]

    # -- writes ------------------------------------------------------------------------------
    def set_logged_in(self, queue_id: uuid.UUID, user_id: uuid.UUID, on: bool) -> None:
        """Only a member's row changes (the engine asks ``members`` first); logging in again keeps
        the first login's time, so the agent keeps their place."""
        now = self.wall()
        stmt = (
            update(QueueAgent)
            .where(
                and_(
                    QueueAgent.queue_id == queue_id,
                    QueueAgent.user_id == user_id,
                    QueueAgent.logged_in.is_not(on),
                )
            )
            .values(**login_changes(on, now), updated_at=now)
        )
        with self._sessions.begin() as s:
            s.execute(stmt)

    def record(self, event: QueueEvent) -> None:
        values = event_values(event)
        stmt = insert(QueueEventRow).values(**values)

        def apply(s: Session) -> None:
            s.execute(stmt)

        if self.write_later is not None:
            self.write_later(apply, f"queue event {event.kind}")
            return
        with self._sessions.begin() as s:
            apply(s)
