"""A tenant's event webhook hears a real call (issue 16 §3, Must show "a tenant's event webhook
receiving a call's events in order"): two SIPp phones register and call each other through a real
Centrex SIP service; the tenant's receiver gets registration.changed for both phones, then
call.started, call.answered, call.ended and cdr.written, in that order, numbered 1-4 for the call,
each signed; another tenant's webhook hears nothing of it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from sqlalchemy import select

from centrex.cpaas.webhook_service import start_webhooks
from centrex.cpaas.webhook_signing import CENTREX_HEADER, new_secret, verify_centrex, verify_standard
from centrex.store.db import transaction
from centrex.store.models import CallDetail, Tenant
from centrex.store.models.webhooks import WebhookEndpoint, WebhookSecret
from centrex.store.sealed import seal
from tests.interop.conftest import Server, free_udp_port, server  # noqa: F401  (the fixture)

from .receiver import Received, receiver

pytestmark = pytest.mark.interop

CALL_EVENTS = ["call.started", "call.answered", "call.ended", "cdr.written"]


def subscribe(srv: Server, tenant_id: uuid.UUID, url: str) -> str:
    secret = new_secret()
    with transaction(srv.sessions) as s:
        endpoint = WebhookEndpoint(tenant_id=tenant_id, url=url, events=["*"], enabled=True, description="")
        s.add(endpoint)
        s.flush()
        s.add(WebhookSecret(tenant_id=tenant_id, endpoint_id=endpoint.id, secret_sealed=seal(s, secret)))
    return secret


def events_of(got: list[Received]) -> list[dict]:
    return [json.loads(r.body) for r in got]


async def test_a_real_call_reaches_the_tenants_webhook_in_order(server: Server) -> None:  # noqa: F811
    with server.sessions() as s:
        tenant_a = s.scalars(select(Tenant.id)).one()
    with transaction(server.sessions) as s:
        other = Tenant(name="Other Co", sip_domain="other.example.com")
        s.add(other)
        s.flush()
        tenant_b = other.id
    with receiver([200]) as rx_a, receiver([200]) as rx_b:
        secret_a = subscribe(server, tenant_a, rx_a.url)
        subscribe(server, tenant_b, rx_b.url)
        hooks = start_webhooks(server.service, server.sessions, retry_scale=0.01, poll_s=0.1)
        try:
            a, b = free_udp_port(), free_udp_port()
            await server.register("1001", a)
            await server.register("1002", b)
            callee = asyncio.create_task(
                server.sipp("uas_answer.xml", "1002", port=b, client=False, timeout_s=15)
            )
            await asyncio.sleep(0.3)
            caller = await server.sipp("uac_call.xml", "1001", port=a, callee="1002", timeout_s=15)
            assert caller.returncode == 0, caller.output[-3000:]
            assert (await callee).returncode == 0

            def done(got: list[Received]) -> bool:
                return "cdr.written" in [e["type"] for e in events_of(got)]

            got = await asyncio.to_thread(rx_a.wait_for, done, 30.0)
            await asyncio.sleep(1.0)  # anything stray for tenant B would have arrived by now
            got_b = list(rx_b.requests)
        finally:
            await hooks.stop()
    events = events_of(got)
    registrations = [e for e in events if e["type"] == "registration.changed"]
    assert {e["data"]["username"] for e in registrations} == {"1001", "1002"}
    assert all(e["data"]["action"] == "registered" for e in registrations)
    calls = [e for e in events if e["type"].startswith(("call.", "cdr."))]
    # In order of arrival, and numbered so a receiver could order them itself.
    assert [e["type"] for e in calls] == CALL_EVENTS
    assert [e["sequence"] for e in calls] == [1, 2, 3, 4]
    assert len({e["data"]["call_id"] for e in calls}) == 1
    assert {e["tenant_id"] for e in events} == {str(tenant_a)}
    started, answered, ended, cdr = calls
    assert (started["data"]["from"], started["data"]["dialled"]) == ("1001", "1002")
    assert answered["data"]["to"] == "1002"
    assert (ended["data"]["disposition"], ended["data"]["hangup_cause"]) == ("answered", "caller_bye")
    with server.sessions() as s:
        stored = s.scalars(select(CallDetail)).one()
    assert cdr["data"]["cdr_id"] == str(stored.id) and cdr["data"]["duration_ms"] == stored.duration_ms
    for r in got:  # every request signed with the tenant's secret, both schemes
        assert verify_standard(secret_a, r.headers, r.body, now=time.time())
        assert verify_centrex(secret_a, r.headers[CENTREX_HEADER], r.body, now=time.time())
        assert r.headers["webhook-id"] == json.loads(r.body)["id"]
    # Isolation: tenant B subscribed to everything and heard nothing of tenant A.
    assert got_b == []
