"""The switch fixture of tests/interop (a SIP service with the demo tenant and SIPp) re-exported for
the voice-app tests that call through the whole switch, a customer's web app (webapp.py) with the
demo tenant's auth token, and helpers to add an application and start the app server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from centrex.apps.app_config import AppConfig
from centrex.calls.media import RelayAnchor
from centrex.cpaas.accounts import ensure_account
from centrex.cpaas.sids import new_sid
from centrex.cpaas.voice.lookup import ApplicationLookup
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.pbx.apps import Apps
from centrex.server import start_app_server
from centrex.store.db import transaction
from centrex.store.models import Tenant
from centrex.store.models.cpaas_voice import Application
from tests.interop.conftest import (
    Server,
    server,  # noqa: F401 - the switch fixture, re-exported
)
from tests.support.outbox_worker import drain_and_stop, start_worker

from .webapp import VoiceWebApp


@pytest.fixture
def webapp(request: pytest.FixtureRequest) -> Iterator[VoiceWebApp]:
    switch: Server = request.getfixturevalue("server")
    with transaction(switch.sessions) as s:
        tenant = s.scalar(select(Tenant.id))
        assert tenant is not None
        token = ensure_account(s, tenant).auth_token
    app = VoiceWebApp(token).start()
    app.routes["/status"] = lambda p: ("text/plain", "")  # status callbacks are answered 200
    try:
        yield app
    finally:
        app.stop()


def add_application(switch: Server, web: VoiceWebApp, extension: str, **fields: Any) -> Application:
    with transaction(switch.sessions) as s:
        tenant = s.scalar(select(Tenant.id))
        row = Application(
            tenant_id=tenant,
            sid=new_sid("AP"),
            friendly_name="IVR",
            voice_url=f"{web.base}/voice",
            status_callback=f"{web.base}/status",
            extension=extension,
            **fields,
        )
        s.add(row)
        s.flush()
        s.expunge(row)
    return row


async def start_apps(switch: Server, tmp_path: Path, ports: PortAllocator) -> Any:
    switch.service.engine.media = RelayAnchor(RelayManager(ports, bind_host="127.0.0.1"))
    switch.service.engine.service(Apps).application_by_extension = ApplicationLookup(switch.sessions)
    apps = await start_app_server(
        switch.service, switch.sessions, AppConfig(data_dir=tmp_path, prompts="tones"), ports
    )
    # Status callbacks go through the webhooks outbox: a real delivery worker sends them, and
    # ``apps.stop()`` returns once every one queued has been sent.
    worker = start_worker(switch.sessions)
    stop_apps = apps.stop

    async def stop() -> None:
        await stop_apps()
        await drain_and_stop(worker)

    apps.stop = stop
    return apps
