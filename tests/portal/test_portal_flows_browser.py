"""The flow designer in a real browser (issue 20 "Must show": the designer tested in Chromium, a widget
added, connected, published). playwright-core drives Debian's chromium through portal/tests/flows.mjs
against a real `centrex serve` on a temporary SQLite database with the demo tenant: the office
administrator signs in with a password, creates a flow, drags a send-message widget from the palette,
connects the trigger's incomingMessage transition to it, moves it, saves and publishes. Then the REST
API (as the office administrator's token) must show the published revision holding the new state,
the transition and the moved offset.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from centrex.store.credentials import hash_password
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import User
from tests.portal.test_portal_browser import (
    ADMIN_PASSWORD,
    CHROMIUM,
    PORTAL,
    centrex_serve,
    cli,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed: run scripts/test"),
    pytest.mark.skipif(
        not (PORTAL / "node_modules" / "@xyflow" / "react").is_dir(),
        reason="portal/node_modules missing: run scripts/test (npm ci in portal/)",
    ),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any], Path]]:
    data = tmp_path_factory.mktemp("flows-portal")
    cli(data, "db", "upgrade")
    demo = json.loads(cli(data, "demo", "--json"))
    tenant_id = demo["tenant_id"]
    engine = make_engine(f"sqlite:///{data / 'centrex.sqlite3'}")
    with make_sessionmaker(engine)() as s:
        tid = uuid.UUID(tenant_id)
        admin = s.scalars(select(User).where(User.tenant_id == tid, User.extension == "1001")).one()
        admin.password_hash = hash_password(ADMIN_PASSWORD)  # 1001 is the office administrator
        s.commit()
        admin_email = str(admin.email)
    engine.dispose()
    developer_token = cli(
        data, "token", "create", "--name", "flows-dev", "--tenant", tenant_id, "--developer"
    )

    with centrex_serve(data) as url:
        ctx = {
            "tenant_id": tenant_id,
            "office_admin_token": demo["office_admin_token"],
            "admin_email": admin_email,
            "admin_password": ADMIN_PASSWORD,
            "developer_token": developer_token.strip(),
        }
        yield url, ctx, data


def run_scenario(served: tuple[str, dict[str, Any], Path], name: str, tmp_path: Path) -> str:
    url, ctx, data = served
    shots = os.environ.get("CENTREX_SCREENSHOTS", "")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CENTREX_URL": url,
        "CENTREX_CTX": json.dumps(ctx),
        "CENTREX_SHOTS": str(Path(shots).resolve()) if shots else "",
        "CENTREX_FAIL_SHOT": str(tmp_path / f"failed-{name}.png"),
    }
    out = subprocess.run(
        ["node", "tests/flows.mjs", name], cwd=PORTAL, env=env, capture_output=True, text=True, timeout=300
    )
    report = out.stdout + out.stderr + f"\n(serve log: {data / 'serve.log'})"
    assert out.returncode == 0 and f"PASS {name}" in out.stdout, report
    return out.stdout


def test_office_admin_draws_a_flow_and_publishes_it(
    served: tuple[str, dict[str, Any], Path], tmp_path: Path
) -> None:
    url, ctx, _ = served
    stdout = run_scenario(served, "designer", tmp_path)
    report = stdout
    assert "ok: a send-message widget dragged from the palette is on the canvas" in stdout, report
    assert "labelled" in stdout, report
    assert "ok: a bad widget name is refused with the API's 422" in stdout, report
    assert "ok: the lint's warnings are shown" in stdout, report
    assert "ok: the connected draft is saved without warnings" in stdout, report
    flow_id = next(line.split(": ", 1)[1] for line in stdout.splitlines() if line.startswith("flow-id: "))

    # What the browser did, as the REST API has it.
    bearer = {"Authorization": f"Bearer {ctx['office_admin_token']}"}
    with httpx.Client(base_url=f"{url}/api/v1/tenants/{ctx['tenant_id']}", headers=bearer) as api:
        flow = api.get(f"/flows/{flow_id}")
        assert flow.status_code == 200, flow.text
        body = flow.json()
        assert body["friendly_name"] == "Designer test flow"
        published = body["published"]
        assert published is not None, body
        states = {s["name"]: s for s in published["definition"]["states"]}
        new = states["send_message_1"]
        assert new["type"] == "send-message"
        assert new["properties"]["body"] == "Hello from the designer"
        trigger = states[published["definition"]["initial_state"]]
        assert trigger["type"] == "trigger"
        assert {"event": "incomingMessage", "next": "send_message_1"} in trigger["transitions"]
        # Moved by the drag (the palette dropped it at the canvas's middle; the drag moved it right).
        assert new["properties"]["offset"]["x"] > trigger["properties"]["offset"]["x"] + 100, new
        revisions = api.get(f"/flows/{flow_id}/revisions")
        assert revisions.status_code == 200, revisions.text
        exported = api.get(f"/flows/{flow_id}/export")
        assert exported.status_code == 200, exported.text


def test_developer_opens_a_flow_made_through_the_api(
    served: tuple[str, dict[str, Any], Path], tmp_path: Path
) -> None:
    """A developer (CPaaS key) has the Flows page too; a flow created by REST opens as its graph; a
    Studio export imported from disk opens, and its export (downloaded) keeps the offsets."""
    url, ctx, _ = served
    definition = {
        "description": "made by REST",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "transitions": [
                    {"event": "incomingMessage"},
                    {"event": "incomingCall"},
                    {"event": "incomingRequest", "next": "ask"},
                ],
                "properties": {"offset": {"x": 0, "y": 0}},
            },
            {
                "name": "ask",
                "type": "send-message",
                "transitions": [{"event": "sent"}, {"event": "failed"}],
                "properties": {"body": "Hi", "offset": {"x": 300, "y": 220}},
            },
        ],
    }
    bearer = {"Authorization": f"Bearer {ctx['developer_token']}"}
    made = httpx.post(
        f"{url}/api/v1/tenants/{ctx['tenant_id']}/flows",
        json={"friendly_name": "Made by REST", "definition": definition},
        headers=bearer,
    )
    assert made.status_code == 201, made.text
    with_flow = (url, {**ctx, "developer_flow": "Made by REST"}, served[2])
    stdout = run_scenario(with_flow, "developer", tmp_path)
    assert "ok: a developer lands on the Flows page" in stdout
    assert "incomingRequest edge to 'ask'" in stdout
    assert "ok: an imported Studio flow opens with its transition drawn" in stdout
    assert "keeps the layout offsets" in stdout
