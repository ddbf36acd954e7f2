"""A voice application's extension: the engine asks ``ApplicationLookup(tenant_id, extension)`` for an
extension that is no user, hunt group or queue; the answer is the app server's Request-URI user
(``cpaas.<application id>``) or None, cached like the conference bridges' (pbx/extension_cache.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from centrex.pbx.extension_cache import ExtensionCache
from centrex.store.models.cpaas_voice import Application


class ApplicationLookup(ExtensionCache[str]):
    def load(self, tenant_id: uuid.UUID, extension: str) -> str | None:
        with self._sessions() as s:
            app = s.scalar(
                select(Application.id).where(
                    Application.tenant_id == tenant_id, Application.extension == extension
                )
            )
        return f"cpaas.{app}" if app is not None else None
