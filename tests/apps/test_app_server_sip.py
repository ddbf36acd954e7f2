"""What the app server answers to INVITEs it must refuse, sent over UDP on 127.0.0.1: only allowed
sources (403), only apps it runs (404), only mailboxes of the tenant the switch names (404), the
headers it needs (400) and G.711 (488)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from centrex.sip import Response, parse_message
from tests.apps.conftest import Apps, make_server

SDP_PCMU = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)
SDP_G729 = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\n"
)


class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.responses: asyncio.Queue[Response] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message = parse_message(data)
        if isinstance(message, Response):
            self.responses.put_nowait(message)


async def final_status(
    target: tuple[str, int], user: str, headers: dict[str, str], sdp: str = SDP_PCMU, method: str = "INVITE"
) -> Response:
    loop = asyncio.get_running_loop()
    client = _Client()
    transport, _ = await loop.create_datagram_endpoint(lambda: client, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    lines = [
        f"{method} sip:{user}@{target[0]}:{target[1]} SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport",
        "Max-Forwards: 70",
        f"From: <sip:engine@127.0.0.1>;tag={uuid.uuid4().hex[:8]}",
        f"To: <sip:{user}@{target[0]}>",
        f"Call-ID: {uuid.uuid4().hex}",
        f"CSeq: 1 {method}",
        f"Contact: <sip:engine@127.0.0.1:{port}>",
        *[f"{k}: {v}" for k, v in headers.items()],
    ]
    body = sdp if method == "INVITE" else ""
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    transport.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), target)
    try:
        while True:
            response = await asyncio.wait_for(client.responses.get(), 5.0)
            if response.status >= 200:
                return response
    finally:
        transport.close()


def headers(apps: Apps, **extra: str) -> dict[str, str]:
    return {
        "X-Centrex-Tenant": str(apps.office.tenant_id),
        "X-Centrex-Call": str(uuid.uuid4()),
        "X-Centrex-Caller": "2001",
        "X-Centrex-Caller-Name": "Dana Dial",
        **extra,
    }


async def test_refusals(apps: Apps) -> None:
    target = apps.server.address
    office = apps.office
    assert (await final_status(target, "music-on-hold", headers(apps))).status == 404
    assert (await final_status(target, f"vm-deposit.{uuid.uuid4()}", headers(apps))).status == 404
    assert (await final_status(target, f"vm-deposit.{office.carol}", headers(apps))).status == 404  # disabled
    other_tenant = headers(apps, **{"X-Centrex-Tenant": str(uuid.uuid4())})
    assert (await final_status(target, f"vm-deposit.{office.alice}", other_tenant)).status == 404
    no_tenant = {k: v for k, v in headers(apps).items() if k != "X-Centrex-Tenant"}
    bad = await final_status(target, f"vm-deposit.{office.alice}", no_tenant)
    assert bad.status == 400 and "X-Centrex-Tenant" in bad.reason
    assert (await final_status(target, "vm-main", headers(apps))).status == 400  # whose mailbox?
    g729 = await final_status(target, f"vm-deposit.{office.alice}", headers(apps), SDP_G729)
    assert g729.status == 488
    options = await final_status(target, "vm-main", headers(apps), method="OPTIONS")
    assert options.status == 200 and "INVITE" in (options.headers.get("Allow") or "")
    assert apps.server.active_calls == 0
    assert apps.server.ports.in_use == 0  # no RTP port kept by a refused call


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sources_not_allowed_get_403(apps: Apps, tmp_path: Path) -> None:
    strict = make_server(apps.sessions, tmp_path / "strict", 25, [])
    strict.allowed_sources = frozenset({"192.0.2.10"})
    await strict.start("127.0.0.1", 0)
    try:
        response = await final_status(strict.address, f"vm-deposit.{apps.office.alice}", headers(apps))
        assert response.status == 403
    finally:
        await strict.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_change_made_by_the_api_thread_reaches_the_mwi_callback(apps: Apps) -> None:
    office = apps.office
    await asyncio.to_thread(apps.server.counts_changed, office.tenant_id, office.alice)
    for _ in range(100):
        if apps.mwi:
            break
        await asyncio.sleep(0.02)
    assert apps.mwi == [(office.tenant_id, office.alice, 0, 0)]
