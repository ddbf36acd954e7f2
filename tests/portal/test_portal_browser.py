"""The portal in a real browser (issue 18 "Must show"): playwright-core drives Debian's chromium
against a real `centrex serve` on a temporary SQLite database. Each scenario is a script of
portal/tests/browser.mjs that prints what it checked and exits non-zero on the first failure.

- operator: creates a tenant (a refused SIP domain first: the API's message under the field) and
  assigns a number from the inventory to it;
- admin: adds a user with a desk phone and a hunt group, and watches a queue's live figures change
  when an agent logs in;
- enduser: plays a voicemail in the browser (the <audio> element's time advances, no media error)
  and sets call forwarding;
- isolation: another tenant's pages show "not found" and none of its data; the API answers 404.

The voicemail message is seeded as the switch leaves one (a row and a WAV file in the data dir):
recording it through a call is tested in tests/apps.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import uuid
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from centrex.store.credentials import hash_password
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import Mailbox, User
from centrex.store.models.voicemail import VoicemailMessage

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
CHROMIUM = Path("/usr/bin/chromium")
USER_PASSWORD = "correct horse battery"
ADMIN_PASSWORD = "admin staple battery"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed: run scripts/test"),
    pytest.mark.skipif(
        not (PORTAL / "node_modules" / "playwright-core").is_dir() or shutil.which("node") is None,
        reason="portal/node_modules missing: run scripts/test (npm ci in portal/)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def centrex_serve(data: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`centrex serve` over ``data``'s store on free loopback ports, without the scheduler's jobs:
    its URL once /healthz answers; stopped when the block ends. ``env`` adds to the environment."""
    port = free_port()
    full = {**os.environ, "CENTREX_DATA": str(data), "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    cmd = [sys.executable, "-m", "centrex.cli", "serve", "--bind", "127.0.0.1", "--http-port", str(port)]
    cmd += ["--sip-port", str(free_port()), "--sip-tls-port", str(free_port()), "--no-jobs"]
    log = (data / "serve.log").open("w")
    proc = subprocess.Popen(cmd, env=full, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a loaded machine is slow to start
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def cli(data: Path, *args: str) -> str:
    env = {**os.environ, "CENTREX_DATA": str(data), "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-m", "centrex.cli", *args], env=env, capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def tone_wav(path: Path, seconds: float = 4.0, hz: float = 440.0, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = (int(12000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(seconds * rate)))
    frames = b"".join(struct.pack("<h", v) for v in samples)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def seed_usage(op: httpx.Client, tenant_id: str) -> None:
    """Two weeks of calls (the billing import) and a rate deck, so the usage chart, the call records
    and the decks page have something to show."""
    now = datetime.now(UTC).replace(microsecond=0)
    cdrs = [
        {
            "id": f"portal-seed-{i}",
            "caller": "+12175281001",
            "callee": "+12125550100" if i % 3 else "+13125550111",
            "call_class": "ld_interstate" if i % 3 else "local",
            "direction": "outbound",
            "start": (now - timedelta(days=i % 14, minutes=7 * i)).isoformat(),
            "duration_ms": 30_000 + (i * 7919) % 400_000,
        }
        for i in range(120)
    ]
    assert op.post(f"/tenants/{tenant_id}/billing/cdrs", json={"cdrs": cdrs}).status_code == 201
    deck = "prefix,rate_per_minute,effective_from,destination\n1,0.012,2020-01-01,US\n44,0.05,2020-01-01,UK\n"
    made = op.post(
        "/rate-decks", params={"name": "standard"}, content=deck, headers={"Content-Type": "text/csv"}
    )
    assert made.status_code == 201, made.text


@dataclass
class Portal:
    url: str
    ctx: dict[str, Any]
    data: Path


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    data = tmp_path_factory.mktemp("portal")
    cli(data, "db", "upgrade")
    demo = json.loads(cli(data, "demo", "--json"))
    tenant_id = demo["tenant_id"]
    user_token = cli(data, "token", "create", "--name", "portal", "--tenant", tenant_id, "--user", "1004")

    # A voicemail for user 1004 (an end user: 1001-1003 are designated administrators), as the
    # voicemail app leaves one: a WAV file and its row.
    engine = make_engine(f"sqlite:///{data / 'centrex.sqlite3'}")
    wav = data / "voicemail" / tenant_id / "browser-test.wav"
    tone_wav(wav)
    with make_sessionmaker(engine)() as s:
        tid = uuid.UUID(tenant_id)
        user = s.scalars(select(User).where(User.tenant_id == tid, User.extension == "1004")).one()
        agent = s.scalars(select(User).where(User.tenant_id == tid, User.extension == "1001")).one()
        user.password_hash = hash_password(USER_PASSWORD)  # the end user signs in with a password
        agent.password_hash = hash_password(ADMIN_PASSWORD)  # 1001 is the office administrator
        box = s.scalars(select(Mailbox).where(Mailbox.user_id == user.id)).one()
        s.add(
            VoicemailMessage(
                tenant_id=tid,
                mailbox_id=box.id,
                user_id=user.id,
                caller="+12175550142",
                caller_name="Browser Caller",
                received_at=datetime.now(UTC),
                duration_ms=4000,
                file_path=str(wav),
                size_bytes=wav.stat().st_size,
            )
        )
        s.commit()
        agent_id, user_email, admin_email = str(agent.id), str(user.email), str(agent.email)
    engine.dispose()

    with centrex_serve(data) as url:
        bearer = {"Authorization": f"Bearer {demo['operator_token']}"}
        op = httpx.Client(base_url=f"{url}/api/v1", headers=bearer)
        other = op.post("/tenants", json={"name": "Other Co", "sip_domain": "other-co.example.com"}).json()
        made = op.post(f"/tenants/{other['id']}/users", json={"name": "Zed Otherton", "extension": "2001"})
        assert made.status_code == 201, made.text
        queue = op.post(
            f"/tenants/{tenant_id}/queues",
            json={"name": "Support line", "extension": "6200", "member_ids": [agent_id]},
        )
        assert queue.status_code == 201, queue.text
        seed_usage(op, tenant_id)
        ctx = {
            "tenant_id": tenant_id,
            "operator_token": demo["operator_token"],
            "office_admin_token": demo["office_admin_token"],
            "user_token": user_token.strip(),
            "user_email": user_email,
            "user_password": USER_PASSWORD,
            "admin_email": admin_email,
            "admin_password": ADMIN_PASSWORD,
            "other_tenant_id": other["id"],
            "other_user_name": "Zed Otherton",
            "queue_id": queue.json()["id"],
            "queue_extension": "6200",
            "routed_number": demo["lines"][-1]["number"],
            "agent_user_id": agent_id,
            "voicemail_caller_name": "Browser Caller",
        }
        yield Portal(url=url, ctx=ctx, data=data)


def run_scenario(portal: Portal, name: str, shots: Path | None = None) -> str:
    env = {
        **os.environ,
        "CENTREX_URL": portal.url,
        "CENTREX_CTX": json.dumps(portal.ctx),
        "CENTREX_SHOTS": str(shots or ""),
        "CENTREX_FAIL_SHOT": str(portal.data / f"failed-{name}.png"),
    }
    out = subprocess.run(
        ["node", "tests/browser.mjs", name], cwd=PORTAL, env=env, capture_output=True, text=True, timeout=300
    )
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert f"PASS {name}" in out.stdout, report
    return out.stdout


def test_operator_creates_a_tenant_and_assigns_a_number(portal: Portal) -> None:
    out = run_scenario(portal, "operator")
    assert "ok: a bad SIP domain is refused" in out
    assert "ok: the API lists the number under the tenant" in out


def test_office_admin_adds_a_user_with_a_phone_a_hunt_group_and_sees_a_queue_live(portal: Portal) -> None:
    out = run_scenario(portal, "admin")
    assert "ok: the API has the phone, tied to the user" in out
    assert "ok: the hunt group lists its members" in out
    assert "rings the hunt group (API)" in out
    assert "ok: the live figures follow without a reload: 1 agent logged in" in out
    assert "ok: calls per site against capacity" in out


def test_end_user_plays_a_voicemail_and_sets_forwarding(portal: Portal) -> None:
    out = run_scenario(portal, "enduser")
    assert "ok: the message plays in the browser" in out
    assert "ok: the uploaded greeting is kept" in out
    assert "ok: signed in with a session cookie (HttpOnly, SameSite=Strict)" in out
    assert "ok: the API has the forwarding" in out
    assert "ok: a change without the CSRF header is refused (403)" in out


def test_office_admin_turns_on_two_factor_sign_in_and_signs_in_with_a_code(portal: Portal) -> None:
    out = run_scenario(portal, "totp")
    assert "ok: a wrong code is refused" in out
    assert "ok: the password alone is not enough: the code is asked for" in out
    assert "ok: signed in with password and code, on the users page" in out


def test_no_role_sees_another_tenant(portal: Portal) -> None:
    out = run_scenario(portal, "isolation")
    assert "ok: the API answers 404 for another tenant's users (404)" in out


def test_screenshots_of_each_main_page(portal: Portal, tmp_path: Path) -> None:
    """CENTREX_SCREENSHOTS=docs/screenshots keeps them (docs/portal.md links them)."""
    target = Path(os.environ.get("CENTREX_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    run_scenario(portal, "screenshots", shots=target.resolve())
    pages = ("operator-tenants", "admin-users", "admin-queues", "admin-campaigns", "user-voicemail", "login")
    for name in pages:
        png = target / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000, name
