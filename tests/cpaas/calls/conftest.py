"""The whole CPaaS call path in one test: the switch (SIP on a free port, media on the relay), the
app server beside it with its call desk, the API (uvicorn on a free port) that the official
`twilio` package talks to, a customer's web app (a small HTTP server serving TwiML and recording
every request it gets), and SIPp phones registered as the demo tenant's extensions."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from twilio.rest import Client

from centrex.api.app import create_app
from centrex.apps.app_config import AppConfig
from centrex.apps.server import AppServer
from centrex.calls.events import CallEnded
from centrex.calls.media import RelayAnchor
from centrex.cpaas.calls.desk import CallDesk
from centrex.cpaas.calls.wiring import attach_calls
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.ops.demo import DemoResult, seed_demo
from centrex.server import start_app_server
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import PhoneNumber, Tenant
from centrex.store.models.enums import NumberStatus
from tests.cpaas.conftest import serve_app
from tests.interop.conftest import SIPP, Server, make_service
from tests.support.outbox_worker import drain_and_stop, start_worker

OUR_NUMBER = "+12015550142"  # the demo tenant's number the calls are placed from


@dataclass
class WebApp:
    """A customer's app: answers each path with the TwiML registered for it; keeps every request."""

    base: str
    pages: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # method, path, params
    # Status codes to answer a path with, one per request, before 200 (a failing receiver).
    codes: dict[str, list[int]] = field(default_factory=dict)
    answered: list[tuple[str, int, str]] = field(default_factory=list)  # path, status, X-Twilio-Signature

    def params_of(self, path: str) -> list[dict[str, str]]:
        return [p for _, got, p in self.requests if got == path]

    async def wait_for(self, path: str, timeout_s: float = 30.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.params_of(path)
            if found:
                return found[-1]
            await asyncio.sleep(0.1)
        raise AssertionError(f"{path} was never requested; got {[r[1] for r in self.requests]}")


def start_web_app() -> tuple[WebApp, ThreadingHTTPServer]:
    web = WebApp("")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query))
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                params.update(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            web.requests.append((method, url.path, params))
            queued = web.codes.get(url.path)
            code = queued.pop(0) if queued else 200
            web.answered.append((url.path, code, self.headers.get("X-Twilio-Signature", "")))
            body = web.pages.get(url.path, "<Response/>").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    web.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return web, httpd


@dataclass
class Stack:
    switch: Server
    apps: AppServer
    desk: CallDesk
    anchor: RelayAnchor
    api: str
    demo: DemoResult
    web: WebApp

    def twilio(self) -> Client:
        client = Client(self.demo.account_sid, self.demo.auth_token)
        client.api.base_url = self.api
        return client

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.demo.office_admin_token}"}

    async def off_loop(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """A blocking client call (the twilio package, httpx) without stopping the switch's loop."""
        return await asyncio.to_thread(fn, *args, **kw)


@pytest.fixture
async def stack(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        demo = seed_demo(s, tmp_path)
        tenant = s.scalar(select(Tenant.id))
        s.add(PhoneNumber(e164=OUR_NUMBER, tenant_id=tenant, status=NumberStatus.ASSIGNED))
    ended: list[CallEnded] = []
    switch = Server(
        make_service(sessions, ended), {ln.extension: ln.sip_password for ln in demo.lines}, sessions, ended
    )
    await switch.service.start()
    ports = PortAllocator(46000, 46999)
    anchor = RelayAnchor(RelayManager(ports, bind_host="127.0.0.1"))
    switch.service.engine.media = anchor
    apps = await start_app_server(
        switch.service, sessions, AppConfig(data_dir=tmp_path, prompts="tones"), ports
    )
    desk = attach_calls(apps, sessions, cps=5.0)
    app = create_app(engine=engine)
    app.state.cpaas_calls = desk
    server, thread, port = serve_app(app)
    web, httpd = start_web_app()
    worker = start_worker(sessions)  # status callbacks go through the webhooks outbox
    try:
        yield Stack(switch, apps, desk, anchor, f"http://127.0.0.1:{port}", demo, web)
    finally:
        await desk.drain(5.0)
        await drain_and_stop(worker)
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)
        httpd.shutdown()
        await apps.stop()
        await switch.service.stop()
        engine.dispose()


SCENARIOS = Path(__file__).parents[2] / "interop" / "scenarios"


def talking_callee(tmp_path: Path, pcap: Path) -> str:
    """A phone that answers, sends the audio of ``pcap`` and waits for the BYE."""
    text = (SCENARIOS / "uas_answer.xml").read_text()
    text = text.replace(
        '<recv request="ACK"/>',
        f'<recv request="ACK"/>\n  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>',
    )
    path = tmp_path / "uas_talking.xml"
    path.write_text(text)
    return str(path)


def hanging_up_callee(tmp_path: Path, after_ms: int) -> str:
    """A phone that answers and hangs up itself after ``after_ms``."""
    text = (SCENARIOS / "uas_answer_bye.xml").read_text()
    text = text.replace(
        '<recv request="ACK"/>\n  <pause milliseconds="500"/>',
        f'<recv request="ACK"/>\n  <pause milliseconds="{after_ms}"/>',
    )
    assert f'"{after_ms}"' in text
    path = tmp_path / f"uas_bye_{after_ms}.xml"
    path.write_text(text)
    return str(path)
