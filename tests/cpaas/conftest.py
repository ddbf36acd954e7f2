"""A live Centrex API on a free loopback port with the demo tenant, and the official `twilio`
package pointed at it (issue 16 §2: a Twilio app moves by changing one base URL)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from twilio.rest import Client

from centrex.api.app import create_app
from centrex.ops.demo import DemoResult, seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveApi:
    base: str  # http://127.0.0.1:<port>
    demo: DemoResult
    app: Any

    @property
    def account_sid(self) -> str:
        return self.demo.account_sid

    @property
    def auth_token(self) -> str:
        return self.demo.auth_token

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.demo.office_admin_token}"}

    @property
    def operator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.demo.operator_token}"}

    def twilio(self, sid: str | None = None, token: str | None = None) -> Client:
        """The official helper library with its base URL pointed at us: the only change an app makes."""
        client = Client(sid or self.account_sid, token or self.auth_token)
        client.api.base_url = self.base
        return client


def serve_app(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "the API server did not start"
    return server, thread, port


@pytest.fixture
def live_api(db_url: str, tmp_path: Path) -> Iterator[LiveApi]:
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        demo = seed_demo(session, tmp_path)
    app = create_app(engine=engine)
    server, thread, port = serve_app(app)
    try:
        yield LiveApi(f"http://127.0.0.1:{port}", demo, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        engine.dispose()
