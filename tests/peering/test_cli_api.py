"""``centrex peering`` as an operator types it (a subprocess, as the operator runs it) and the
operator's API: add POPs and peers, a refused default route as one line / a 422 naming the field
and rule, bird-config checked by ``bird -p``, de-peering and the config without the peer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from centrex.ops.peering_bird import bird_binary, check
from tests.api.conftest import Api

CENTREX = [sys.executable, "-m", "centrex.cli", "peering"]


def run(*args: str, data: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CENTREX, *args, "--data-dir", str(data)], capture_output=True, text=True, timeout=120, check=check
    )


@pytest.mark.skipif(bird_binary() is None, reason="bird is not installed (Debian package bird2)")
def test_the_cli_adds_a_peer_writes_a_checked_config_and_depeers(tmp_path: Path) -> None:
    run("pop-add", "chi1", "--facility", "350 E Cermak Rd", "--city", "Chicago", "--router-id", "23.128.0.1",
        "--local-asn", "AS397000", "--meet-me-room", data=tmp_path)  # fmt: skip
    peer = [
        "--asn", "13335",
        "--contact", "Alpha NOC,+1 312 555 0100,noc@alpha.example",
        "--session", "chi1,206.223.119.5,meet_me_room",
        "--import", "104.16.0.0/13",
        "--export", "23.128.0.0/22",
    ]  # fmt: skip
    # Routing Requirements: a default route is refused, in one line, exit status 2, nothing stored.
    refused = run("add", "Alpha Networks", *peer, "--import", "0.0.0.0/0", data=tmp_path, check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: prefixes[1].prefix 0.0.0.0/0 is a default route, which the peering policy forbids both ways"
    ]
    added = run("add", "Alpha Networks", *peer, data=tmp_path)
    assert "peer AS13335 Alpha Networks added" in added.stdout
    shown = json.loads(run("show", "AS13335", data=tmp_path).stdout)
    assert shown["contacts"] == [{"name": "Alpha NOC", "phone": "+13125550100", "email": "noc@alpha.example"}]
    assert shown["sessions"][0]["pop"] == "chi1" and shown["status"] == "active"

    conf = tmp_path / "bird.conf"
    run("bird-config", "--pop", "chi1", "-o", str(conf), data=tmp_path)  # --check: bird -p ran
    assert check(conf).ok and "protocol bgp peer_as13335_chi1_1 {" in conf.read_text()

    gone = run("de-peer", "13335", "--reason", "traffic moved to transit", data=tmp_path)
    assert "de-peered; regenerate the BIRD configuration of: chi1" in gone.stdout
    assert json.loads(run("list", "--json", data=tmp_path).stdout) == []
    [record] = json.loads(run("list", "--all", "--json", data=tmp_path).stdout)
    assert record["status"] == "depeered" and record["depeer_reason"] == "traffic moved to transit"
    text = run("bird-config", "--pop", "chi1", data=tmp_path).stdout
    assert check(text).ok and "13335" not in text and "protocol bgp" not in text
    again = run("de-peer", "13335", "--reason", "x", data=tmp_path, check=False)
    assert again.returncode == 2 and "no peer 13335" in again.stderr


def test_the_api_refuses_a_default_route_naming_field_and_rule(api: Api) -> None:
    op = api.world.operator_token
    r = api.call("POST", "/api/v1/peering/pops", op, json={
        "name": "chi1", "facility": "350 E Cermak Rd", "city": "Chicago", "meet_me_room": True,
        "router_id": "23.128.0.1", "local_asn": 397000,
    })  # fmt: skip
    assert r.status_code == 201, r.text
    pop_id = r.json()["id"]
    body = {
        "name": "Alpha Networks",
        "asn": 13335,
        "contacts": [{"name": "NOC", "phone": "+1 312 555 0100", "email": "noc@alpha.example"}],
        "sessions": [{"pop": "chi1", "neighbor": "206.223.119.5", "connection": "meet_me_room"}],
        "prefixes": [{"prefix": "::/0", "direction": "import"}],
    }
    r = api.call("POST", "/api/v1/peering/peers", op, json=body)
    assert r.status_code == 422, r.text
    assert (
        "::/0 is a default route" in r.text
        and "no_default_route" in r.text
        and "prefixes[0].prefix" in r.text
    )
    body["prefixes"] = [{"prefix": "104.16.0.0/13", "direction": "import"}]
    r = api.call("POST", "/api/v1/peering/peers", op, json=body)
    assert r.status_code == 201, r.text
    peer = r.json()
    assert peer["status"] == "active" and peer["sessions"][0]["pop"] == "chi1"
    conf = api.call("GET", f"/api/v1/peering/pops/{pop_id}/bird.conf", op)
    assert conf.status_code == 200 and conf.headers["content-type"].startswith("text/plain")
    assert "protocol bgp peer_as13335_chi1_1 {" in conf.text
    if bird_binary():
        assert check(conf.text).ok
    r = api.call("POST", f"/api/v1/peering/peers/{peer['id']}/depeer", op, json={"reason": "at will"})
    assert r.status_code == 200 and r.json()["status"] == "depeered"
    assert "13335" not in api.call("GET", f"/api/v1/peering/pops/{pop_id}/bird.conf", op).text
    assert (
        api.call("POST", f"/api/v1/peering/peers/{peer['id']}/depeer", op, json={"reason": "x"}).status_code
        == 409
    )
    # A tenant's office administrator: the routes do not exist for them.
    assert api.call("GET", "/api/v1/peering/peers", api.world.a.tokens["office_admin"]).status_code == 404
