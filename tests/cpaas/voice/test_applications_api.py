"""The native API of voice applications (issue 16 §1) on a live server: a developer's resource (the
office administrator is refused), an inline document is checked when it is given (422 naming the
verb and Twilio's code), an extension shares the tenant's plan (409), and a number of the tenant is
pointed at an application by its incoming-call routing."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.models import PhoneNumber
from tests.cpaas.conftest import LiveApi


def test_applications_crud_checks_and_number_pointing(live_api: LiveApi) -> None:
    t = live_api.demo.tenant_id
    url = f"{live_api.base}/api/v1/tenants/{t}/cpaas/applications"
    op = live_api.operator
    assert (
        httpx.post(url, json={"voice_url": "https://example.com/v"}, headers=live_api.admin).status_code
        == 403
    )

    made = httpx.post(
        url,
        json={
            "voice_url": "https://example.com/voice",
            "status_callback": "https://example.com/s",
            "extension": "6100",
        },
        headers=op,
    )
    assert made.status_code == 201, made.text
    app = made.json()
    assert (
        app["sid"].startswith("AP") and app["voice_method"] == "POST" and app["app"] == f"cpaas.{app['id']}"
    )

    bad = httpx.post(url, json={"document": "<Response><Dance/></Response>"}, headers=op)
    assert bad.status_code == 422 and "<Dance>" in bad.text and "12100" in bad.text
    assert httpx.post(url, json={"friendly_name": "nothing to run"}, headers=op).status_code == 422
    inline = httpx.post(url, json={"document": '[{"verb": "say", "text": "hi"}]'}, headers=op)
    assert inline.status_code == 201

    taken = httpx.post(url, json={"voice_url": "https://example.com/v", "extension": "1001"}, headers=op)
    assert taken.status_code == 409 and "extension" in taken.text  # 1001 is a demo user's

    patched = httpx.patch(f"{url}/{app['id']}", json={"voice_method": "GET", "extension": None}, headers=op)
    assert patched.status_code == 200 and patched.json()["voice_method"] == "GET"
    assert patched.json()["extension"] is None

    engine = make_engine(str(live_api.app.state.engine.url))
    with make_sessionmaker(engine)() as s:
        number = s.scalar(select(PhoneNumber).where(PhoneNumber.tenant_id == uuid.UUID(t)))
    engine.dispose()
    assert number is not None
    routing = f"{live_api.base}/api/v1/tenants/{t}/numbers/{number.id}/routing"
    routed = httpx.put(routing, json={"target_type": "app", "target_id": app["id"]}, headers=op)
    assert routed.status_code == 200, routed.text
    assert routed.json()["target_type"] == "app" and routed.json()["target_id"] == app["id"]

    listed = httpx.get(url, headers=op).json()
    assert listed["total"] == 2
    assert httpx.delete(f"{url}/{inline.json()['id']}", headers=op).status_code == 204
    assert httpx.get(f"{url}/{inline.json()['id']}", headers=op).status_code == 404
