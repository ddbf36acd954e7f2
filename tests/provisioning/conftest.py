"""The HTTP service (create_app) over HTTPS on 127.0.0.1 with a self-signed certificate, in a
thread of its own as `centrex serve` runs it, and a demo tenant to provision phones of."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from centrex.api.app import create_app
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.transport.tls import ensure_certificate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Https:
    base: str
    cert: Path
    tenant_id: str
    domain: str
    admin: dict[str, str]
    app: Any
    operator: dict[str, str]

    def api(self, operator: bool = False) -> httpx.Client:
        headers = self.operator if operator else self.admin
        return httpx.Client(
            base_url=f"{self.base}/api/v1",
            headers=headers,
            verify=ssl.create_default_context(cafile=str(self.cert)),
            timeout=30,
        )

    def phone(self, agent: str) -> httpx.Client:
        """A phone's HTTP client: its User-Agent, trusting the service's certificate."""
        return httpx.Client(
            base_url=self.base,
            headers={"User-Agent": agent},
            verify=ssl.create_default_context(cafile=str(self.cert)),
            timeout=30,
        )


@pytest.fixture
def https(db_url: str, tmp_path: Path) -> Iterator[Https]:
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        demo = seed_demo(session, tmp_path)
    app = create_app(engine=engine)
    app.state.sip_server = ("203.0.113.10", 5060)
    cert, key = ensure_certificate(tmp_path, "localhost")
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ssl_certfile=str(cert), ssl_keyfile=str(key),
        log_level="warning", lifespan="off", log_config=None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "the HTTPS server did not start"
    try:
        yield Https(
            f"https://127.0.0.1:{port}",
            cert,
            demo.tenant_id,
            demo.sip_domain,
            {"Authorization": f"Bearer {demo.office_admin_token}"},
            app,
            {"Authorization": f"Bearer {demo.operator_token}"},
        )
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        bans = getattr(app.state, "bans", None)
        if bans is not None:
            bans.stop()
        engine.dispose()
