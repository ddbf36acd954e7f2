"""The `centrex` command as an operator uses it: demo, tokens, db upgrade, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import Device, User

CENTREX = [sys.executable, "-m", "centrex.cli"]


def run(
    *args: str, data: Path, db: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    cmd = [*CENTREX, *args, "--data-dir", str(data)] + (["--db", db] if db else [])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=check)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_is_idempotent_and_prints_credentials(tmp_path: Path, db_url: str) -> None:
    first = json.loads(run("demo", "--json", data=tmp_path, db=db_url).stdout)
    second = json.loads(run("demo", "--json", data=tmp_path, db=db_url).stdout)
    assert first == second
    assert [line["extension"] for line in first["lines"]] == [str(e) for e in range(1001, 1011)]
    assert all(line["number"].startswith("+1") and len(line["number"]) == 12 for line in first["lines"])
    assert len({line["site"] for line in first["lines"]}) == 2
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 10
        assert s.scalar(select(func.count()).select_from(Device)) == 10
        stored = " ".join(f"{d.ha1_md5} {d.ha1_sha256}" for d in s.scalars(select(Device)))
    engine.dispose()
    assert first["lines"][0]["sip_password"] not in stored
    human = run("demo", data=tmp_path, db=db_url).stdout
    assert "1010" in human and first["office_admin_token"] in human


def test_token_create_and_errors(tmp_path: Path, sqlite_url: str) -> None:
    demo = json.loads(run("demo", "--json", data=tmp_path, db=sqlite_url).stdout)
    token = run(
        "token",
        "create",
        "--name",
        "ci",
        "--tenant",
        demo["sip_domain"],
        "--user",
        "1004",
        data=tmp_path,
        db=sqlite_url,
    ).stdout.strip()
    assert token.startswith("cx_")
    bad = run(
        "token",
        "create",
        "--name",
        "x",
        "--tenant",
        "nope.example.com",
        "--user",
        "1",
        data=tmp_path,
        db=sqlite_url,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == "error: no tenant 'nope.example.com'"
    bad = run("serve", "--rtp-ports", "9-5", data=tmp_path, db=sqlite_url, check=False)
    assert bad.returncode == 2 and "--rtp-ports" in bad.stderr


def test_db_upgrade_reports_an_unreachable_database(tmp_path: Path) -> None:
    r = run("db", "upgrade", data=tmp_path, db=f"postgresql://nobody@127.0.0.1:{free_port()}/x", check=False)
    assert r.returncode == 2 and r.stderr.startswith("error: cannot upgrade")


def test_serve_listens_where_it_says_and_is_healthy(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CENTREX_DATA": str(tmp_path)}
    demo = json.loads(
        subprocess.run(
            [*CENTREX, "demo", "--json"], env=env, capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )
    ports = ["--sip-port", str(free_port()), "--sip-tls-port", str(free_port())]
    proc = subprocess.Popen(
        [*CENTREX, "serve", "--bind", "127.0.0.1", "--http-port", str(port), *ports],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120  # a loaded machine: the schema and the demo data first
        health = None
        while time.monotonic() < deadline:
            try:
                # The components are shown to the operator only (api/routers/health.py).
                operator = {"Authorization": f"Bearer {demo['operator_token']}"}
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", headers=operator, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "server did not come up"
        body = health.json()
        assert body["status"] == "ready" and body["components"]["database"]["ready"]
        me = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/tenants/{demo['tenant_id']}/users",
            headers={"Authorization": f"Bearer {demo['office_admin_token']}"},
        )
        assert me.json()["total"] == 10
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/api/v1" in out
    assert proc.returncode == 0


def test_schema_upgrade_is_idempotent(db_url: str) -> None:
    from centrex.store.migrate import is_current, upgrade

    engine = make_engine(db_url)
    upgrade(engine)  # the fixture's database is already migrated: this must be a no-op
    assert is_current(engine)
    engine.dispose()
