"""The operator's ban API: list bans, lift one (the running switch hears the source again after
its sync), manage the allowlist; clear 4xx for bad input; anyone but the operator gets 404
(tests/api/matrix_bans.py tries every role)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.api.app import create_app
from centrex.calls.service import SipService
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.store.db import transaction
from tests.support.world import World, build_world

from .sip_udp import UdpPhone
from .switch import base_config


@pytest.fixture
def api(sqlite_url: str, tmp_path: Any) -> Iterator[tuple[TestClient, World, Any]]:
    app = create_app(sqlite_url)
    with transaction(app.state.sessionmaker) as session:
        world = build_world(session)
        demo = seed_demo(session, tmp_path)
    app.state.demo_passwords = {ln.extension: ln.sip_password for ln in demo.lines}
    with TestClient(app) as client:
        yield client, world, app
    app.state.engine.dispose()


def op(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.operator_token}"}


async def test_an_operator_lifts_a_ban_and_the_switch_hears_the_source_again(
    api: tuple[TestClient, World, Any],
) -> None:
    client, world, app = api
    sip = SipService(
        StoreDirectory(app.state.sessionmaker), base_config(), records=CallRecords(app.state.sessionmaker)
    )
    await sip.start()
    guesser = UdpPhone("127.0.0.30", sip.port, DEMO_DOMAIN)
    try:
        for i in range(5):
            await guesser.guess("1001", f"wrong{i}")
        assert await guesser.register("1001") is None
        sip.bans.flush()
        listed = client.get("/api/v1/bans", headers=op(world), params={"source": "127.0.0.30"}).json()
        [ban] = listed["items"]
        assert (ban["realm"], ban["failures"], ban["last_username"], ban["active"]) == (
            "sip",
            5,
            "1001",
            True,
        )
        r = client.delete(f"/api/v1/bans/{ban['id']}", headers=op(world))
        assert r.status_code == 204
        again = client.delete(f"/api/v1/bans/{ban['id']}", headers=op(world))
        assert again.status_code == 409 and "already ended" in again.text
        sip.bans.sync()  # what the switch does every BAN_SYNC_S
        sip.bans.flush()
        await asyncio.sleep(0.05)
        assert not sip.bans.is_banned("127.0.0.30", time.time())
        challenge = await guesser.challenge("1001")
        ok = await guesser.register(
            "1001", guesser.answer(challenge, "1001", app.state.demo_passwords["1001"])
        )
        assert ok is not None and ok.status == 200
        lifted = client.get(f"/api/v1/bans/{ban['id']}", headers=op(world)).json()
        assert lifted["active"] is False and lifted["lifted_by"]
        assert (
            client.get("/api/v1/bans", headers=op(world), params={"source": "127.0.0.30"}).json()["total"]
            == 0
        )
        history = client.get(
            "/api/v1/bans", headers=op(world), params={"source": "127.0.0.30", "include_ended": "true"}
        ).json()
        assert history["total"] == 1
    finally:
        guesser.close()
        await sip.stop()


def test_the_allowlist_takes_networks_and_names_bad_input(api: tuple[TestClient, World, Any]) -> None:
    client, world, _ = api
    made = client.post(
        "/api/v1/ban-allowlist", headers=op(world), json={"network": "192.0.2.77/24", "note": "HQ"}
    )
    assert made.status_code == 201 and made.json()["network"] == "192.0.2.0/24"
    dup = client.post("/api/v1/ban-allowlist", headers=op(world), json={"network": "192.0.2.0/24"})
    assert dup.status_code == 409 and "already on the allowlist" in dup.text
    bad = client.post("/api/v1/ban-allowlist", headers=op(world), json={"network": "sbc.carrier.example"})
    assert bad.status_code == 422
    assert "network" in bad.text and "not an IP address or CIDR network" in bad.text
    networks = [e["network"] for e in client.get("/api/v1/ban-allowlist", headers=op(world)).json()["items"]]
    assert "192.0.2.0/24" in networks
    gone = client.delete(f"/api/v1/ban-allowlist/{made.json()['id']}", headers=op(world))
    assert gone.status_code == 204
    assert client.delete(f"/api/v1/ban-allowlist/{made.json()['id']}", headers=op(world)).status_code == 404
    admin = {"Authorization": f"Bearer {world.a.tokens['office_admin']}"}
    assert client.get("/api/v1/bans", headers=admin).status_code == 404
