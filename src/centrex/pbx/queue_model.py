"""Call-center queues as the queue service (pbx/queues.py) needs them (issue #4 point 4): which
agents are logged in, and the events statistics are made of.

The engine answers a queued caller at once (music on hold from the relay), offers the call to
one available agent at a time (longest idle first, ``agent_ring_s`` each), keeps agents in
wrap-up for ``wrap_up_s`` after a queue call, and sends the caller to the overflow destination
after ``max_wait_s``; every ``announce_position_s`` a waiting caller hears its place in the
queue over the music. Agents log in and out with feature codes (``*45<queue>`` / ``*46<queue>``).
``MemoryQueues`` keeps all of it in dictionaries (tests, tools); the store keeps it in tables.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from centrex.apps.phrases import say_number
from centrex.calls.directory import QueueInfo


def position_phrase(position: int) -> tuple[str, ...]:
    """The prompt keys of "You are caller number <position>" (apps/phrases.py; prompts.py makes
    the audio, spoken by espeak-ng at install time or tone stand-ins)."""
    return ("queue-you-are-caller", *say_number(position))


@dataclass(frozen=True, slots=True)
class QueueEvent:
    """One thing that happened in a queue: what live and historical statistics are made of.

    kind: entered, answered (agent, wait), abandoned (the caller hung up while waiting), overflowed
    (max wait reached), agent_login, agent_logout."""

    kind: str
    queue_id: uuid.UUID
    tenant_id: uuid.UUID
    at: datetime
    call_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    wait_ms: int | None = None


class QueueStore(Protocol):
    def queue(self, queue_id: uuid.UUID) -> QueueInfo | None: ...
    def queue_by_extension(self, tenant_id: uuid.UUID, extension: str) -> QueueInfo | None: ...
    def agents(self, queue_id: uuid.UUID) -> list[uuid.UUID]: ...  # logged-in agents' user ids
    def members(self, queue_id: uuid.UUID) -> list[uuid.UUID]: ...  # who may log in
    def set_logged_in(self, queue_id: uuid.UUID, user_id: uuid.UUID, on: bool) -> None: ...
    def record(self, event: QueueEvent) -> None: ...


@dataclass
class MemoryQueues:
    queues: dict[uuid.UUID, QueueInfo] = field(default_factory=dict)
    member_ids: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    logged_in: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)
    events: list[QueueEvent] = field(default_factory=list)

    def queue(self, queue_id: uuid.UUID) -> QueueInfo | None:
        return self.queues.get(queue_id)

    def queue_by_extension(self, tenant_id: uuid.UUID, extension: str) -> QueueInfo | None:
        return next(
            (q for q in self.queues.values() if q.tenant_id == tenant_id and q.extension == extension), None
        )

    def agents(self, queue_id: uuid.UUID) -> list[uuid.UUID]:
        return list(self.logged_in.get(queue_id, []))

    def members(self, queue_id: uuid.UUID) -> list[uuid.UUID]:
        return list(self.member_ids.get(queue_id, []))

    def set_logged_in(self, queue_id: uuid.UUID, user_id: uuid.UUID, on: bool) -> None:
        agents = self.logged_in.setdefault(queue_id, [])
        if on and user_id not in agents:
            agents.append(user_id)
        elif not on and user_id in agents:
            agents.remove(user_id)

    def record(self, event: QueueEvent) -> None:
        self.events.append(event)
