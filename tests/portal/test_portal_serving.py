"""The portal is served at `/` by the API's own application (web/portal.py), from the built files
shipped in the package, without touching what the API answers."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from centrex.api.app import create_app
from centrex.web.portal import STATIC


def client() -> TestClient:
    return TestClient(create_app("sqlite://"))


def test_the_built_portal_is_in_the_package() -> None:
    assert (STATIC / "index.html").is_file()
    assert (STATIC / "assets" / "portal.js").is_file()
    assert '<script type="module" crossorigin src="/assets/portal.js">' in (STATIC / "index.html").read_text()


def test_root_and_client_routes_answer_the_app() -> None:
    c = client()
    for path in ("/", "/login", "/op/tenants", "/t/3f1c0e7e-0000-4000-8000-000000000000/users"):
        r = c.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html")
        assert '<div id="app">' in r.text
    js = c.get("/assets/portal.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert c.get("/assets/missing.js").status_code == 404
    assert c.head("/").status_code == 200


def test_the_api_docs_health_and_provisioning_answer_as_before() -> None:
    c = client()
    assert c.get("/api/v1/tenants").status_code == 401
    missing = c.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert c.put("/api/v1/tenants").status_code == 405
    assert c.get("/openapi.json").json()["info"]["title"] == "Centrex"
    assert c.get("/docs").status_code == 200 and "swagger" in c.get("/docs").text.lower()
    assert c.get("/healthz").headers["content-type"].startswith("application/json")
    assert c.get("/provision/000000000000.cfg").headers["content-type"] != "text/html; charset=utf-8"


def test_no_file_outside_the_build_is_served() -> None:
    c = client()
    for path in ("/../web/portal.py", "/%2e%2e/portal.py", "/assets/../../portal.py"):
        r = c.get(path)
        assert "PortalMiddleware" not in r.text


def test_export_writes_the_document(tmp_path: Path) -> None:
    from centrex.web.openapi_export import export

    export(tmp_path / "openapi.json")
    text = (tmp_path / "openapi.json").read_text()
    assert '"/api/v1/tenants/{tenant_id}/me/voicemail/messages/{message_id}/audio"' in text


def test_a_route_added_after_the_app_is_made_is_not_shadowed() -> None:
    app = create_app("sqlite://")

    @app.get("/later/thing")
    def later() -> dict[str, str]:
        return {"ok": "yes"}

    c = TestClient(app)
    assert c.get("/later/thing").json() == {"ok": "yes"}
    assert c.get("/later-not").headers["content-type"].startswith("text/html")
