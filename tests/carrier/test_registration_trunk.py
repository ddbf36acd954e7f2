"""A registration trunk created through the API registers to a carrier's registrar (a SIPp UAS
that challenges with 401 and checks the digest with the account's password), from `centrex serve`
reading the trunk and its credentials from the store; the API never gives the password back, and
gateways may be named by host name (issue 17 §5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from centrex.store.db import make_engine
from tests.interop.conftest import SCENARIOS, SIPP
from tests.nat.test_nat_serve import free_port

pytestmark = pytest.mark.interop

CENTREX = [sys.executable, "-m", "centrex.cli"]
USER, PASSWORD, DOMAIN = "acct-778", "Carr1er-s3cret!", "sip.carrier.example.net"


@dataclass
class Served:
    api: httpx.Client
    sip_port: int
    log: Path
    data: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    if SIPP is None:
        pytest.skip("SIPp is not installed (Debian package sip-tester)")
    sip_port, http_port = free_port("127.0.0.1"), free_port("127.0.0.1")
    env = {**os.environ, "CENTREX_DATA": str(tmp_path), "CENTREX_LOG_LEVEL": "INFO"}
    env["CENTREX_RTP_PORTS"] = "32000-32999"
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    args = ["serve", "--bind", "127.0.0.1", "--http-port", str(http_port), "--sip-port", str(sip_port)]
    args += ["--sip-tls-port", "0", "--no-jobs"]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([*CENTREX, *args], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    api = httpx.Client(
        base_url=f"http://127.0.0.1:{http_port}/api/v1",
        headers={"Authorization": f"Bearer {demo['operator_token']}"},
        timeout=30,
    )
    try:
        deadline = time.monotonic() + 180  # slow under a loaded machine
        up = False
        while time.monotonic() < deadline and not up and proc.poll() is None:
            try:
                up = httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert up, log.read_text()[-3000:]
        yield Served(api, sip_port, log, tmp_path)
    finally:
        api.close()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def registrar_scenario(tmp: Path) -> Path:
    text = (SCENARIOS / "registrar_digest.xml").read_text()
    text = text.replace("USER", USER).replace("PASSWORD", PASSWORD).replace("DOMAIN", DOMAIN)
    path = tmp / "registrar.xml"
    path.write_text(text)
    return path


def test_a_registration_trunk_made_by_api_registers_with_digest(served: Served, tmp_path: Path) -> None:
    assert SIPP is not None
    gw_port = free_port("127.0.0.1")
    registrar = subprocess.Popen(
        [SIPP, "-sf", str(registrar_scenario(tmp_path)), "-i", "127.0.0.1", "-p", str(gw_port), "-m", "1",
         "-nostdin", "-timeout", "90s", "-timeout_error",
         "-trace_msg", "-message_file", str(tmp_path / "reg.log")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        made = served.api.post(
            "/trunks",
            json={
                "name": "carrier-reg",
                "kind": "carrier",
                "gateways": [{"host": "127.0.0.1", "port": gw_port}],
            },
        )
        assert made.status_code == 201, made.text
        trunk_id = made.json()["id"]
        creds = served.api.put(
            f"/trunks/{trunk_id}/credentials",
            json={"auth_username": USER, "auth_password": PASSWORD, "register": True, "registrar": DOMAIN},
        )
        assert creds.status_code == 200, creds.text
        assert PASSWORD not in creds.text and creds.json()["auth_password_set"] is True
        # The switch reads the table again within its sync period (30 s) and registers.
        out, _ = registrar.communicate(timeout=100)
    finally:
        if registrar.poll() is None:
            registrar.kill()
            out, _ = registrar.communicate()
    assert registrar.returncode == 0, out[-3000:]
    shown = served.api.get(f"/trunks/{trunk_id}/credentials").json()
    assert shown == {
        "trunk_id": trunk_id,
        "auth_username": USER,
        "auth_password_set": True,
        "register": True,
        "registrar": DOMAIN,
        "register_expires": 600,
    }
    sent = (tmp_path / "reg.log").read_text()
    assert f"REGISTER sip:{DOMAIN} SIP/2.0" in sent and f'username="{USER}"' in sent
    assert PASSWORD not in sent  # the digest, never the password, goes on the wire
    deadline = time.monotonic() + 10
    while "sip.trunk.registered trunk=carrier-reg expires=120" not in served.log.read_text():
        assert time.monotonic() < deadline, served.log.read_text()[-3000:]
        time.sleep(0.2)
    # The audit log records the change with the password as "(set)", and the store keeps it sealed.
    engine = make_engine(f"sqlite:///{served.data / 'centrex.sqlite3'}")
    try:
        with engine.connect() as conn:
            entries = conn.execute(
                text("SELECT before, after FROM audit_log WHERE action = 'trunk.credentials'")
            ).all()
            stored = conn.execute(text("SELECT auth_password_sealed FROM trunk_credentials")).scalar_one()
    finally:
        engine.dispose()
    assert len(entries) == 1 and '"(set)"' in str(entries[0][1]).replace("'", '"')
    assert PASSWORD not in str(entries) and PASSWORD not in stored


def test_gateways_by_host_name_and_credentials_rules(served: Served) -> None:
    long_name = "sbc-east-1." + "a" * 60 + ".carrier.example.net"
    made = served.api.post(
        "/trunks",
        json={
            "name": "carrier-dns",
            "kind": "carrier",
            "gateways": [{"host": long_name}, {"host": "sbc2.example.net"}],
        },
    )
    assert made.status_code == 201, made.text
    assert [g["host"] for g in made.json()["gateways"]] == [long_name, "sbc2.example.net"]
    trunk_id = made.json()["id"]
    first = served.api.put(f"/trunks/{trunk_id}/credentials", json={"auth_username": "x"})
    assert first.status_code == 422 and "auth_password" in first.text
    short = served.api.put(
        f"/trunks/{trunk_id}/credentials",
        json={"auth_username": "x", "auth_password": "p", "register_expires": 30},
    )
    assert short.status_code == 422 and "register_expires" in short.text
    ok = served.api.put(f"/trunks/{trunk_id}/credentials", json={"auth_username": "x", "auth_password": "p"})
    assert ok.status_code == 200 and ok.json()["register"] is False
    kept = served.api.put(f"/trunks/{trunk_id}/credentials", json={"auth_username": "y"})  # password kept
    assert kept.status_code == 200 and kept.json()["auth_password_set"] is True
    assert served.api.delete(f"/trunks/{trunk_id}/credentials").status_code == 204
    assert served.api.get(f"/trunks/{trunk_id}/credentials").json()["auth_username"] is None
    bad = served.api.post(
        "/trunks", json={"name": "carrier-bad", "kind": "carrier", "gateways": [{"host": "bad_host!"}]}
    )
    assert bad.status_code == 422
