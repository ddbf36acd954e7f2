"""A carrier for the messaging tests: the SMSC simulator on a free loopback port, the SMPP connector
bound to it and a Messenger the live API uses; and a small HTTP server standing for the customer's
app (status callback and SMS URL), which records what it was sent."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from centrex.cpaas.messaging.service import Messenger
from centrex.cpaas.messaging.simulator import SmscSimulator
from centrex.cpaas.messaging.smpp_connector import SmppConnector
from tests.cpaas.conftest import LiveApi
from tests.support.outbox_worker import worker_thread

FAILING = "+15005550009"  # the simulator's receipts say UNDELIV for this handset


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class AppServer:
    base: str
    hits: list[Hit] = field(default_factory=list)
    replies: dict[str, str] = field(default_factory=dict)  # path → TwiML answered
    cond: threading.Condition = field(default_factory=threading.Condition)

    def wait(self, pred: Callable[[Hit], bool], timeout: float = 30.0) -> Hit:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for hit in self.hits:
                    if pred(hit):
                        return hit
                left = deadline - time.monotonic()
                assert left > 0, f"no matching request; got {[(h.path, h.form) for h in self.hits]}"
                self.cond.wait(left)


@pytest.fixture
def app_server() -> Iterator[AppServer]:
    state: dict[str, AppServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0") or 0)).decode()
            server = state["s"]
            form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
            with server.cond:
                server.hits.append(Hit(self.path, dict(self.headers.items()), form))
                server.cond.notify_all()
            body = server.replies.get(self.path, "<Response/>").encode()
            self.send_response(200)
            self.send_header("content-type", "application/xml")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["s"] = AppServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["s"]
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Carrier:
    sim: SmscSimulator
    connector: SmppConnector
    messenger: Messenger


@pytest.fixture
def carrier(live_api: LiveApi) -> Iterator[Carrier]:
    sim = SmscSimulator(system_id="centrex", password="secret", failing={FAILING.lstrip("+")}).start()
    connector = SmppConnector("127.0.0.1", sim.port, "centrex", "secret")
    messenger = Messenger(live_api.app.state.sessionmaker, connector).start()
    live_api.app.state.messaging = messenger
    assert connector.wait_bound(30), "the connector did not bind to the simulator"
    try:
        # Status callbacks leave through the webhooks outbox: a real delivery worker sends them.
        with worker_thread(live_api.app.state.sessionmaker):
            yield Carrier(sim, connector, messenger)
    finally:
        messenger.stop()
        sim.stop()


def register_10dlc(live_api: LiveApi, numbers: list[str], status: str = "approved") -> dict[str, Any]:
    """The tenant's brand + campaign, recorded (and, as the operator, approved) through the native API."""
    url = f"{live_api.base}/api/v1/tenants/{live_api.demo.tenant_id}/a2p-registrations"
    body = {
        "kind": "10dlc",
        "brand_name": "Demo Co",
        "brand_ein": "12-3456789",
        "campaign_id": "CDEMO01",
        "use_case": "CUSTOMER_CARE",
        "numbers": numbers,
        "status": status,
    }
    r = httpx.post(url, json=body, headers=live_api.operator, timeout=30)
    assert r.status_code == 201, r.text
    return dict(r.json())
