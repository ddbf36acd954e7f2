"""The phone page is served at /phone/ by the API app (no Node.js at run time): the built files
from phone/ are in the package."""

from __future__ import annotations

from fastapi.testclient import TestClient

from centrex.api.app import create_app


def test_the_phone_page_and_its_bundle_are_served() -> None:
    with TestClient(create_app("sqlite://")) as client:
        page = client.get("/phone/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert 'id="register"' in page.text and 'src="phone.js"' in page.text
        bundle = client.get("/phone/phone.js")
        assert bundle.status_code == 200
        assert "WebSocketInterface" in bundle.text and "RFC2833" in bundle.text  # JsSIP is bundled
        assert client.get("/phone/nothing-here.js").status_code == 404
