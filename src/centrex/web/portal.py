"""The portal (issue 18 §1): the browser app built from portal/ by Vite, served at `/`.

The built files live in centrex/web/static/portal/ (shipped in the wheel: no Node at run time).
`PortalMiddleware` answers GET and HEAD requests whose first path segment belongs to no route of
the application: a file of the build when there is one (`/assets/portal.js`), otherwise the app's
index.html, so a client route such as `/t/<tenant>/users` survives a reload (the SPA fallback).
Everything under a segment the API owns (`/api`, `/docs`, `/openapi.json`, `/healthz`,
`/provision`, ...) passes through untouched, so the API's 404 and 405 answers are its own.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

STATIC = Path(__file__).parent / "static" / "portal"

NOT_BUILT = (
    b"<!doctype html><meta charset=utf-8><title>Centrex</title>"
    b"<p>The portal is not built. Run <code>npm ci &amp;&amp; npm run build</code> in portal/.</p>"
)


class PortalMiddleware:
    def __init__(self, app: ASGIApp, routes: Sequence[Any], root: Path = STATIC) -> None:
        self.app = app
        self.routes = routes  # the application's route list (routes added later count too)
        self._reserved: frozenset[str] | None = None
        self.root = root.resolve()

    @property
    def reserved(self) -> frozenset[str]:
        """First path segments of the application's own routes, computed at the first request."""
        if self._reserved is None:
            self._reserved = reserved_segments([getattr(route, "path", "") for route in self.routes])
        return self._reserved

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        first = path.lstrip("/").split("/", 1)[0]
        if first in self.reserved:
            await self.app(scope, receive, send)
            return
        status, body, ctype, cache = self._resolve(path)
        headers = [
            (b"content-type", ctype.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", cache.encode()),
            (b"x-content-type-options", b"nosniff"),
        ]
        if ctype.startswith("text/html"):
            headers.append((b"x-frame-options", b"DENY"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    def _resolve(self, path: str) -> tuple[int, bytes, str, str]:
        relative = path.lstrip("/")
        if relative:
            candidate = (self.root / relative).resolve()
            if candidate.is_relative_to(self.root) and candidate.is_file():
                ctype = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
                if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
                    ctype += "; charset=utf-8"
                # File names are stable (vite.config.ts), so the browser revalidates every time.
                return 200, candidate.read_bytes(), ctype, "no-cache"
            if relative.startswith("assets/"):  # a missing asset is not a page of the app
                return 404, b"not found", "text/plain; charset=utf-8", "no-store"
        index = self.root / "index.html"
        if not index.is_file():
            return 503, NOT_BUILT, "text/html; charset=utf-8", "no-store"
        return 200, index.read_bytes(), "text/html; charset=utf-8", "no-cache"


def reserved_segments(paths: list[str]) -> frozenset[str]:
    """The first segments of the application's routes (`/api/v1/...` gives `api`)."""
    return frozenset(p.lstrip("/").split("/", 1)[0] for p in paths if p.strip("/"))
