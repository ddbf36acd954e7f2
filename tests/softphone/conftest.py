"""The switch with SIP over WebSocket on a free port, rtpengine for the browsers' media, over the
demo tenant (tests/interop/conftest.py's server, plus ``ws_port`` and the rtpengine gateway)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.events import CallEnded
from centrex.calls.service import SipService
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.switchboard import standard_services
from tests.interop.conftest import SIPP, Server, make_service
from tests.rtpengine.conftest import Rtpengine, start_rtpengine, stop


@pytest.fixture(scope="module")
def rtpengine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rtpengine]:
    proc, daemon = start_rtpengine(tmp_path_factory.mktemp("rtpengine"))
    try:
        yield daemon
    finally:
        stop(proc)


@pytest.fixture
async def ws_server(sqlite_url: str, tmp_path: Path, rtpengine: Rtpengine) -> AsyncIterator[Server]:
    async for server in _server(sqlite_url, tmp_path, rtpengine, ws_port=0):
        yield server


@pytest.fixture
async def wss_server(sqlite_url: str, tmp_path: Path, rtpengine: Rtpengine) -> AsyncIterator[Server]:
    """SIP over secure WebSocket only, with the self-signed certificate made in ``tmp_path``."""
    async for server in _server(sqlite_url, tmp_path, rtpengine, wss_port=0, tls_dir=str(tmp_path)):
        yield server


async def _server(
    sqlite_url: str, tmp_path: Path, rtpengine: Rtpengine, **config: object
) -> AsyncIterator[Server]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        demo = seed_demo(session, tmp_path)
    ended: list[CallEnded] = []
    base = make_service(sessions, ended)
    service = SipService(
        StoreDirectory(sessions),
        replace(base.config, rtpengine_ng=rtpengine.ng, **config),  # type: ignore[arg-type]
        records=CallRecords(sessions),
        on_call_ended=ended.append,
        services=standard_services().ordered(),
    )
    server = Server(service, {ln.extension: ln.sip_password for ln in demo.lines}, sessions, ended)
    await service.start()
    try:
        yield server
    finally:
        await service.stop()
        engine.dispose()


def ws_url(server: Server) -> str:
    return f"ws://127.0.0.1:{server.service.transports['WS'].local_address[1]}"
