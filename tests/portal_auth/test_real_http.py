"""The log-in over real HTTPS (uvicorn with TLS on 127.0.0.1, httpx as the browser): the demo's
accounts log in, the cookies are Secure, the CSRF header is needed for changes, and failures from
127.0.0.1 end in a ban of that address."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from centrex.api.app import create_app
from centrex.ops.demo import OPERATOR_EMAIL, seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.transport.tls import ensure_certificate
from tests.provisioning.conftest import free_port


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, str, str]]:
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        demo = seed_demo(session, tmp_path)
    app = create_app(engine=engine)
    cert, key = ensure_certificate(tmp_path, "localhost")
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, ssl_certfile=str(cert), ssl_keyfile=str(key),
        log_level="warning", lifespan="off", log_config=None,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    assert server.started, "the HTTPS server did not start"
    client = httpx.Client(
        base_url=f"https://127.0.0.1:{port}", verify=ssl.create_default_context(cafile=str(cert)), timeout=60
    )
    try:
        yield client, demo.portal_password, demo.tenant_id
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=15)
        bans = getattr(app.state, "bans", None)
        if bans is not None:
            bans.stop()
        engine.dispose()


def test_login_over_https_then_a_ban_of_the_source(served: tuple[httpx.Client, str, str]) -> None:
    client, password, tenant_id = served
    r = client.post("/api/v1/auth/login", json={"email": "ada@demo.centrex.test", "password": password})
    assert r.status_code == 200, r.text
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("centrex_session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    csrf_cookie = next(c for c in cookies if c.startswith("centrex_csrf="))
    assert "Secure" in csrf_cookie and "HttpOnly" not in csrf_cookie
    users = client.get(f"/api/v1/tenants/{tenant_id}/users")
    assert users.status_code == 200 and users.json()["total"] == 10
    body = {"do_not_disturb": True}
    assert client.patch(f"/api/v1/tenants/{tenant_id}/me", json=body).status_code == 403
    csrf = {"X-CSRF-Token": client.cookies["centrex_csrf"]}
    assert client.patch(f"/api/v1/tenants/{tenant_id}/me", json=body, headers=csrf).status_code == 200

    anonymous = httpx.Client(base_url=str(client.base_url), verify=False, timeout=60)
    for _ in range(5):
        wrong = anonymous.post("/api/v1/auth/login", json={"email": OPERATOR_EMAIL, "password": "guess"})
        assert wrong.status_code == 401
    banned = anonymous.post("/api/v1/auth/login", json={"email": OPERATOR_EMAIL, "password": password})
    assert banned.status_code == 429 and "127.0.0.1" in banned.json()["message"]
    anonymous.close()
