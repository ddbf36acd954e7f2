"""The tenant's PBX settings through the whole switch (issue 4 point 1), with SIPp phones over
127.0.0.1: the office administrator moves the voicemail code through the API and, without a restart,
the new code reaches voicemail while the old one is 404; with direct media on, a phone of the same
site is offered the caller's own RTP address and port, a phone of another site (or any phone with
direct media off) the relay's."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from centrex.api.app import create_app
from centrex.apps.app_config import AppConfig
from centrex.calls.media import RelayAnchor
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.ops.demo import seed_demo
from centrex.server import start_app_server
from centrex.store.db import transaction

from .conftest import SCENARIOS, Server, free_udp_port
from .test_interop_sipp import call

pytestmark = pytest.mark.interop

CACHE_S = 2.2  # the switch's tenant cache (SipConfig.directory_cache_s = 2 s), and a little more
SIPP_MEDIA_PORTS = "6[0-9]{3}"  # SIPp's own RTP port in its SDP: 6000 (-mp), or the next free one
RELAY_PORTS = (52000, 52999)


def patch_settings(sqlite_url: str, data_dir: Path, body: dict[str, Any]) -> dict[str, Any]:
    """As the demo tenant's office administrator would, through the API on the switch's database."""
    app = create_app(sqlite_url)
    try:
        with transaction(app.state.sessionmaker) as session:
            demo = seed_demo(session, data_dir)  # the same seed as the switch's: the same tokens
        with TestClient(app) as client:
            r = client.patch(
                f"/api/v1/tenants/{demo.tenant_id}/pbx-settings",
                headers={"Authorization": f"Bearer {demo.office_admin_token}"},
                json=body,
            )
        assert r.status_code == 200, r.text
        return dict(r.json())
    finally:
        app.state.engine.dispose()


async def test_a_moved_voicemail_code_works_at_once_and_the_old_one_is_404(
    server: Server, sqlite_url: str, tmp_path: Path
) -> None:
    ports = PortAllocator(*RELAY_PORTS)
    server.service.engine.media = RelayAnchor(RelayManager(ports, bind_host="127.0.0.1"))
    apps = await start_app_server(
        server.service, server.sessions, AppConfig(data_dir=tmp_path, prompts="tones"), ports
    )
    try:
        a = free_udp_port()
        await server.register("1001", a)
        before = await server.sipp("uac_call.xml", "1001", port=a, callee="*97", timeout_s=15)
        assert before.returncode == 0, before.output[-3000:]
        settings = patch_settings(sqlite_url, tmp_path, {"feature_codes": {"voicemail": "*96"}})
        assert settings["feature_codes"]["voicemail"] == "*96"
        await asyncio.sleep(CACHE_S)  # no restart: the switch reads the tenant again
        moved = await server.sipp("uac_call.xml", "1001", port=a, callee="*96", timeout_s=15)
        assert moved.returncode == 0, moved.output[-3000:]
        cdr = server.ended[-1]
        assert cdr.disposition == "answered" and [leg.extension for leg in cdr.legs] == ["vm-main"]
        old = await server.sipp("uac_refused_404.xml", "1001", port=a, callee="*97", timeout_s=15)
        assert old.returncode == 0, old.output[-3000:]
        assert server.ended[-1].hangup_cause == "unknown_feature_code"
    finally:
        await apps.stop()


def callee_expecting(tmp_path: Path, port_pattern: str, name: str) -> str:
    """uas_answer.xml that fails unless the INVITE's SDP offers RTP to a port matching the pattern."""
    text = (SCENARIOS / "uas_answer.xml").read_text()
    check = (
        f'<ereg regexp="m=audio {port_pattern} RTP" search_in="body" check_it="true" assign_to="m"/>\n'
        '      <log message="offered [$m]"/>\n'  # SIPp refuses a variable nobody reads
        '      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>'
    )
    text = text.replace('<ereg regexp=".*" search_in="hdr" header="From:" assign_to="from"/>', check, 1)
    path = tmp_path / f"uas_{name}.xml"
    path.write_text(text)
    return str(path)


async def test_direct_media_offers_the_callers_own_address_within_one_site(
    server: Server, sqlite_url: str, tmp_path: Path
) -> None:
    anchor = RelayAnchor(RelayManager(PortAllocator(*RELAY_PORTS), bind_host="127.0.0.1"))
    server.service.engine.media = anchor
    direct = callee_expecting(tmp_path, SIPP_MEDIA_PORTS, "direct")
    relayed = callee_expecting(tmp_path, "52[0-9]{3}", "relayed")
    a, b, c = free_udp_port(), free_udp_port(), free_udp_port()
    # 1001 and 1002 are at the demo's Main Office, 1007 at its Chicago Branch.
    for ext, port in (("1001", a), ("1002", b), ("1007", c)):
        await server.register(ext, port)

    await call(server, "1001", a, "1002", "uac_call.xml", [(relayed, "1002", b)])  # off by default
    assert str(server.ended[-1].call_id) in anchor.finished

    assert patch_settings(sqlite_url, tmp_path, {"direct_media": True})["direct_media"] is True
    await asyncio.sleep(CACHE_S)
    await call(server, "1001", a, "1002", "uac_call.xml", [(direct, "1002", b)])
    assert server.ended[-1].disposition == "answered"
    await call(server, "1001", a, "1007", "uac_call.xml", [(relayed, "1007", c)])  # another site

    patch_settings(sqlite_url, tmp_path, {"direct_media": False})
    await asyncio.sleep(CACHE_S)
    await call(server, "1001", a, "1002", "uac_call.xml", [(relayed, "1002", b)])
