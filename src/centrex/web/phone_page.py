"""The browser phone's page at ``/phone/`` on the HTTP port (docs/softphone.md).

Its built assets (phone/ in the repository, built by ``npm run build`` with esbuild into
web/phone/) ship in the package, so serving it needs no Node.js. The page talks SIP over
WebSocket to the WS/WSS port (``CENTREX_SIP_WS_PORT`` / ``CENTREX_SIP_WSS_PORT``), never to the API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

PHONE_DIR = Path(__file__).parent / "phone"


def mount_phone(app: FastAPI, path: str = "/phone") -> bool:
    """Serve the phone page under ``path``; False when the assets were not built."""
    if not (PHONE_DIR / "index.html").exists():
        return False
    app.mount(path, StaticFiles(directory=PHONE_DIR, html=True), name="phone")
    return True
