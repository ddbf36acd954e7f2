"""The 49 RFC 4475 messages sent over UDP to a running switch (SipService on 127.0.0.1, the demo
tenant in SQLite): each gets its answer, and the switch still answers OPTIONS afterwards.

Only the top Via's sent-by is changed, to this test's own socket, so that every answer comes
back here (the RFC's hosts are documentation addresses, never a target); the defect each
message carries is left as it is.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.service import SipConfig, SipService
from centrex.ops.demo import seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from tests.sip.rfc4475_cases import CASES, DROP, TU, message

TOP_VIA_HOST = re.compile(rb"(?im)^(?:via|v)[ \t]*:\s*SIP\s*/\s*\d+\.\d+\s*/\s*[A-Za-z]+\s+([^\s;,]+)")
CALL_ID = re.compile(rb"(?im)^(?:call-id|i)[ \t]*:[ \t]*(.*?)\r$")
# What the registrar and the engine answer to the valid requests that reach them.
TU_ANSWERS = {"INVITE": {401, 407}, "REGISTER": {401}, "OPTIONS": {200}, "MESSAGE": {405}}
# wsinv's To has a tag: a re-INVITE for a dialog the switch never had (§12.2.2).
TU_DIALOG_ANSWERS = {"wsinv": {481}}


class Peer(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait(data)


@pytest.fixture
async def switch(sqlite_url: str, tmp_path: Path) -> AsyncIterator[SipService]:
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        seed_demo(session, tmp_path)
    service = SipService(
        StoreDirectory(sessions),
        SipConfig(host="127.0.0.1", port=0, tcp=False),
        records=CallRecords(sessions),
    )
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        engine.dispose()


def addressed_to(data: bytes, here: tuple[str, int]) -> bytes:
    match = TOP_VIA_HOST.search(data)
    assert match is not None
    return data[: match.start(1)] + f"{here[0]}:{here[1]}".encode() + data[match.end(1) :]


def call_id(data: bytes) -> bytes:
    match = CALL_ID.search(data.partition(b"\r\n\r\n")[0])
    return match.group(1).strip() if match else b""


def status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


async def final_for(peer: Peer, wanted: bytes, timeout_s: float = 3.0) -> int:
    """The first final response whose Call-ID is ``wanted`` (retransmitted finals of earlier
    INVITEs, and their 100 Trying, are skipped)."""
    async with asyncio.timeout(timeout_s):
        while True:
            data = await peer.received.get()
            if status(data) >= 200 and call_id(data) == wanted:
                return status(data)


async def test_every_torture_message_is_answered_and_the_switch_stays_up(switch: SipService) -> None:
    loop = asyncio.get_running_loop()
    target = ("127.0.0.1", switch.port)
    got: dict[str, int | str] = {}
    # One socket per message: the RFC reuses branch ids (z9hG4bKkdjuw) across messages, and one
    # sent-by with one branch is one transaction (§17.2.3), so another port keeps them apart.
    for name in sorted(CASES):
        _, expected = CASES[name]
        transport, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
        try:
            data = addressed_to(message(name), transport.get_extra_info("sockname"))
            transport.sendto(data, target)
            try:
                got[name] = await final_for(peer, call_id(data), 0.3 if expected == DROP else 3.0)
            except TimeoutError:
                got[name] = DROP
        finally:
            transport.close()
    transport, peer = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    try:
        # A new request (the same one again from another port would be a merged request: 482).
        probe = message("lwsdisp").replace(b"lwsdisp.1234abcd", b"afterwards")
        transport.sendto(addressed_to(probe, transport.get_extra_info("sockname")), target)
        after = await final_for(peer, b"afterwards@funky.example.com")
    finally:
        transport.close()
    for name, answer in got.items():
        section, expected = CASES[name]
        if expected == TU:
            method = message(name).split(b" ", 1)[0].decode()
            wanted = TU_DIALOG_ANSWERS.get(name, TU_ANSWERS[method])
            assert answer in wanted, f"RFC 4475 §{section} {name}: {answer}"
        else:
            assert answer == expected, f"RFC 4475 §{section} {name}: {answer}"
    assert after == 200
    assert switch.engine.active_calls == 0
