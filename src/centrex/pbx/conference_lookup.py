"""Extensions that belong to apps of the app server other than attendants: conference bridges.

The engine asks ``ConferenceLookup(tenant_id, extension)`` for an extension that is no user,
hunt group or queue; the answer is the app's Request-URI user (``conf.<bridge id>``) or None.
Answers, misses included, are kept ``ttl`` seconds (a scanner dialling every extension must not
cost a query each time).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from centrex.pbx.extension_cache import ExtensionCache
from centrex.store.models.conferences import ConferenceBridge


class ConferenceLookup(ExtensionCache[str]):
    def load(self, tenant_id: uuid.UUID, extension: str) -> str | None:
        with self._sessions() as s:
            bridge = s.scalar(
                select(ConferenceBridge.id).where(
                    ConferenceBridge.tenant_id == tenant_id, ConferenceBridge.extension == extension
                )
            )
        return f"conf.{bridge}" if bridge is not None else None
