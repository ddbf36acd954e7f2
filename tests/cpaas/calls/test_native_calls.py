"""The native JSON API does the same as the Twilio one (issue 16 §2, Must show): a developer places
a call running native verbs to a SIPp phone, sees it among the live calls, records it, redirects it
to a URL (fetched by our service), hangs it up, and reads it back completed with its duration; the
recording is then listed by the Twilio-compatible Recordings API with its audio."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.apps.pcap import RtpScript
from tests.interop.conftest import free_udp_port

from .conftest import OUR_NUMBER, Stack, talking_callee

pytestmark = pytest.mark.interop

HOLD = [{"verb": "pause", "length": 60}]


async def native(stack: Stack, method: str, path: str, body: Any = None) -> httpx.Response:
    url = f"{stack.api}/api/v1/tenants/{stack.demo.tenant_id}{path}"
    headers = {"Authorization": f"Bearer {stack.demo.operator_token}"}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.request(method, url, json=body, headers=headers)


async def wait_native(stack: Stack, sid: str, wanted: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = (await native(stack, "GET", f"/calls/{sid}")).json()
        if body.get("status") == wanted:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"call {sid} stayed {body.get('status')}, wanted {wanted}")


async def test_native_api_places_controls_and_hangs_up_a_call(stack: Stack, tmp_path: Path) -> None:
    port = free_udp_port()
    await stack.switch.register("1002", port)
    pcap = RtpScript().tone(0.0, 4.0, 700.0).write(tmp_path / "talk.pcap")
    callee = asyncio.create_task(
        stack.switch.sipp(talking_callee(tmp_path, pcap), "1002", port=port, client=False, timeout_s=25)
    )
    await asyncio.sleep(0.3)
    placed = await native(stack, "POST", "/calls", {"to": "1002", "from": OUR_NUMBER, "verbs": HOLD})
    assert placed.status_code == 201, placed.text
    sid = placed.json()["sid"]
    assert placed.json()["from"] == OUR_NUMBER and placed.json()["direction"] == "outbound-api"
    await wait_native(stack, sid, "in-progress")
    live = (await native(stack, "GET", "/calls/live")).json()
    assert [(c["sid"], c["status"], c["to"]) for c in live] == [(sid, "in-progress", "1002")]
    assert (await native(stack, "POST", f"/calls/{sid}/record", {"max_s": 30})).status_code == 200
    await asyncio.sleep(2.0)
    stack.web.pages["/next"] = '<Response><Pause length="60"/></Response>'
    moved = await native(stack, "POST", f"/calls/{sid}/redirect", {"url": f"{stack.web.base}/next"})
    assert moved.status_code == 200, moved.text
    params = await stack.web.wait_for("/next")
    assert params["CallSid"] == sid and params["CallStatus"] == "in-progress"
    assert (await native(stack, "POST", f"/calls/{sid}/hangup")).status_code == 200
    done = await callee
    assert done.returncode == 0, done.output[-3000:]
    ended = await wait_native(stack, sid, "completed")
    assert ended["duration_s"] >= 2 and ended["end_time"] is not None
    assert (await native(stack, "GET", "/calls/live")).json() == []
    again = await native(stack, "POST", f"/calls/{sid}/hangup")
    assert again.status_code == 409  # not live any more
    # The recording: the callee's tone, through the Twilio-compatible Recordings API.
    client = stack.twilio()
    recordings: list[Any] = []
    for _ in range(50):
        recordings = await stack.off_loop(client.recordings.list, call_sid=sid)
        if recordings:
            break
        await asyncio.sleep(0.1)
    assert len(recordings) == 1 and recordings[0].call_sid == sid and int(recordings[0].duration) >= 1
    auth = (stack.demo.account_sid, stack.demo.auth_token)
    async with httpx.AsyncClient(timeout=30, auth=auth) as http:
        media = await http.get(
            f"{stack.api}/2010-04-01/Accounts/{stack.demo.account_sid}/Recordings/{recordings[0].sid}.wav"
        )
    assert media.status_code == 200 and media.headers["content-type"] == "audio/x-wav"
    assert media.content[:4] == b"RIFF" and len(media.content) > 8000
    mp3_url = f"{stack.api}/2010-04-01/Accounts/{stack.demo.account_sid}/Recordings/{recordings[0].sid}.mp3"
    async with httpx.AsyncClient(timeout=30, auth=auth) as http:
        mp3 = await http.get(mp3_url)
    assert mp3.status_code == 200 and mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.content[0] == 0xFF and mp3.content[1] & 0xE0 == 0xE0  # an MPEG audio frame sync


async def test_native_api_refuses_911_and_a_number_not_the_tenants(stack: Stack) -> None:
    refused = await native(stack, "POST", "/calls", {"to": "911", "from": OUR_NUMBER, "verbs": HOLD})
    assert refused.status_code == 422 and "emergency" in refused.text
    spoofed = await native(stack, "POST", "/calls", {"to": "1002", "from": "+12015550999", "verbs": HOLD})
    assert spoofed.status_code == 422 and "not yet verified" in spoofed.text
