"""A voice campaign: the runner places a voice-app call through the call desk and the switch (as
the Calls API does) to a contact — here the tenant's own number of extension 1002, a SIPp phone
that answers — the campaign's TwiML runs on the answered leg, and the report counts it delivered.
A contact of the same campaign on the tenant's do-not-call list is never called."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from centrex.cpaas.campaigns.location import locate
from centrex.cpaas.campaigns.runner import CampaignRunner
from centrex.store.models.cpaas_voice import CpaasCall
from tests.cpaas.calls.conftest import OUR_NUMBER, Stack, hanging_up_callee
from tests.cpaas.calls.conftest import stack as stack
from tests.cpaas.campaigns.conftest import numbers_where
from tests.interop.conftest import free_udp_port

pytestmark = pytest.mark.interop


async def call(stack: Stack, method: str, path: str, body: Any = None) -> httpx.Response:
    url = f"{stack.api}/api/v1/tenants/{stack.demo.tenant_id}{path}"
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.request(method, url, json=body, headers=stack.admin)


async def test_voice_campaign_calls_the_contact_through_the_switch(stack: Stack, tmp_path: Path) -> None:
    port = free_udp_port()
    await stack.switch.register("1002", port)
    callee = asyncio.create_task(
        stack.switch.sipp(hanging_up_callee(tmp_path, 1500), "1002", port=port, client=False, timeout_s=40)
    )
    await asyncio.sleep(0.3)
    target = stack.demo.lines[1].number  # the tenant's number of extension 1002: on-net
    (awake,) = numbers_where(True, 1)  # a place where it is day now; the contact says it lives there
    zone = locate(awake).time_zones[0]
    lst = (await call(stack, "POST", "/contact-lists", {"name": "Reminders"})).json()
    contacts = [{"number": target, "time_zone": zone}, {"number": "+12125550166", "time_zone": zone}]
    added = await call(stack, "POST", f"/contact-lists/{lst['id']}/contacts", {"contacts": contacts})
    assert added.status_code == 201, added.text
    assert added.json()["contacts"][0]["location_source"] == "given"
    assert (await call(stack, "POST", "/dnc", {"number": "+12125550166"})).status_code == 201
    twiml = "<Response><Say>Your appointment is tomorrow at nine.</Say><Pause length='5'/></Response>"
    body = {
        "name": "Appointment reminders",
        "list_id": lst["id"],
        "channel": "voice",
        "purpose": "informational",
        "from": OUR_NUMBER,
        "voice_twiml": twiml,
        "rate_per_s": 1,
    }
    created = await call(stack, "POST", "/campaigns", body)
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    sessions = stack.desk.sessions
    runner = CampaignRunner(sessions, desk=lambda: stack.desk, tick_s=0.2).start()
    try:
        deadline = time.monotonic() + 60
        report: dict[str, Any] = {}
        while time.monotonic() < deadline:
            report = (await call(stack, "GET", f"/campaigns/{cid}/report")).json()
            if report["delivered"] == 1 and report["status"] == "completed":
                break
            await asyncio.sleep(0.3)
    finally:
        await asyncio.to_thread(runner.stop)
    assert report["delivered"] == 1 and report["sent"] == 1, report
    assert report["skipped_by_reason"] == {"tenant_dnc": 1} and report["status"] == "completed"
    done = await callee
    assert done.returncode == 0, done.output[-3000:]
    with sessions() as s:
        (row,) = s.scalars(select(CpaasCall).where(CpaasCall.to_number == target)).all()
        assert row.status == "completed" and row.from_number == OUR_NUMBER
    recipients = (await call(stack, "GET", f"/campaigns/{cid}/recipients")).json()["items"]
    assert {r["number"]: r["call_sid"] is not None for r in recipients} == {
        target: True,
        "+12125550166": False,
    }
