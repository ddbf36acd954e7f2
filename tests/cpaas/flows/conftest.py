"""Fixtures of the flow tests: the live API and the SMSC carrier of the messaging tests, and a
small JSON REST service on a free loopback port standing for the customer's system."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from centrex.cpaas.flows.engine import engine_for
from tests.cpaas.conftest import LiveApi
from tests.cpaas.messaging.conftest import app_server, carrier

__all__ = ["app_server", "carrier"]


@dataclass
class RestHit:
    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class RestService:
    base: str
    hits: list[RestHit] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)  # path → JSON answered
    status: int = 200
    # Set: a request to a path starting /hold waits for it (an execution kept active on purpose).
    hold: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def rest_service() -> Iterator[RestService]:
    state: dict[str, RestService] = {}

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0") or 0)).decode()
            svc = state["s"]
            svc.hits.append(RestHit(self.command, self.path, dict(self.headers.items()), raw))
            if self.path.startswith("/hold"):
                svc.hold.wait(30)
            body = json.dumps(svc.answer.get(self.path.split("?")[0], {})).encode()
            self.send_response(svc.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["s"] = RestService(f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["s"]
    finally:
        state["s"].hold.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def private_http(live_api: LiveApi) -> None:
    """The loopback REST service may be called (setting flow_http_private; off by default)."""
    engine_for(live_api.app.state.sessionmaker).http_private = True


def flows_url(live_api: LiveApi) -> str:
    return f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/flows"


def wait_execution(
    live_api: LiveApi, flow_sid: str, execution_sid: str, done: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """Poll the execution through the API until it is no longer active (or ``done`` says so)."""
    deadline = time.monotonic() + 60
    while True:
        r = httpx.get(
            f"{flows_url(live_api)}/{flow_sid}/executions/{execution_sid}", headers=live_api.admin, timeout=30
        )
        assert r.status_code == 200, r.text
        row = dict(r.json())
        if (done or (lambda e: e["status"] != "active"))(row):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.1)


def state(
    name: str, kind: str, transitions: list[dict[str, Any]], x: int, y: int, **props: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "transitions": transitions,
        "properties": {**props, "offset": {"x": x, "y": y}},
    }
