"""Who is on a call and since when each user is idle: what hunt groups, queues and park read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass
class Activity:
    on_call: dict[uuid.UUID, int] = field(default_factory=dict)  # users in answered calls
    idle_since: dict[uuid.UUID, float] = field(default_factory=dict)  # when their last call ended

    def answered(self, user_id: uuid.UUID) -> None:
        self.on_call[user_id] = self.on_call.get(user_id, 0) + 1

    def busy(self, user_id: uuid.UUID) -> bool:
        return self.on_call.get(user_id, 0) > 0

    def off_call(self, user_id: uuid.UUID, now: float) -> None:
        """One call fewer for the user; idle since ``now`` (longest-idle hunting)."""
        left = self.on_call.get(user_id, 1) - 1
        if left > 0:
            self.on_call[user_id] = left
        else:
            self.on_call.pop(user_id, None)
        self.idle_since[user_id] = now
