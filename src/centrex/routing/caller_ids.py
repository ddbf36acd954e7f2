"""Which numbers a tenant may send as its caller ID, from the store (routing/caller_policy.py
``CallerIds``): its assigned numbers (the DIDs, users' numbers among them) are owned, its verified
caller IDs (store/models/caller_ids.py) verified. Answers are kept ``ttl_s`` seconds, like
routing/storage.py StoreRoutes, so a call costs a dictionary lookup."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.routing.caller_policy import Standing
from centrex.store.models import NumberStatus, PhoneNumber
from centrex.store.models.caller_ids import VerifiedCallerId


def standing_of(session: Session, tenant_id: uuid.UUID, e164: str) -> Standing:
    owned = session.scalar(
        select(PhoneNumber.id).where(
            PhoneNumber.e164 == e164,
            PhoneNumber.tenant_id == tenant_id,
            PhoneNumber.status == NumberStatus.ASSIGNED,
        )
    )
    if owned is not None:
        return Standing.OWNED
    verified = session.scalar(
        select(VerifiedCallerId.id).where(
            VerifiedCallerId.tenant_id == tenant_id, VerifiedCallerId.e164 == e164
        )
    )
    return Standing.VERIFIED if verified is not None else Standing.FOREIGN


class StoreCallerIds:
    def __init__(
        self, sessions: sessionmaker[Session], ttl_s: float = 5.0, max_entries: int = 100_000
    ) -> None:
        self._sessions = sessions
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._cache: dict[tuple[uuid.UUID, str], tuple[float, Standing]] = {}

    def standing(self, tenant_id: uuid.UUID, e164: str, now: float) -> Standing:
        hit = self._cache.get((tenant_id, e164))
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._sessions() as session:
            answer = standing_of(session, tenant_id, e164)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[(tenant_id, e164)] = (now + self.ttl_s, answer)
        return answer
