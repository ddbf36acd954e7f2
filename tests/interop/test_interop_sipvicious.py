"""sipvicious against a real Centrex SIP service on 127.0.0.1: svwar finds no extensions and svcrack
gets banned before it reaches the right password (issue 3 §6 and §7).

Two defences are at work and each is tested alone: the source guard drops requests whose
User-Agent names a known scanner (``friendly-scanner`` is sipvicious's) without a word, and, with
that filter off, every user — known or not — gets the same 401 challenge, and five failed answers
ban the source (fail2ban's default: 5 failures in 10 minutes).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.guard import GuardConfig
from centrex.calls.service import SipService
from centrex.switchboard import standard_services

from .conftest import Server, make_service

pytestmark = pytest.mark.interop

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(f"sipvicious_{name}", path=str(BIN)) or shutil.which(f"sipvicious_{name}")
    if found is None:
        pytest.skip("sipvicious is not installed (pip install sipvicious: the dev extras)")
    return found


async def run(*args: str, timeout_s: float = 90) -> str:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return out.decode(errors="replace")


def target(server: Server) -> list[str]:
    # Bind and advertise loopback so replies (sent to the Via) come back to the tool.
    return ["-b", "127.0.0.1", "-x", "127.0.0.1", f"udp://127.0.0.1:{server.port}"]


@pytest.fixture
async def open_server(server: Server) -> AsyncIterator[Server]:
    """The same service with the scanner User-Agent filter off: only the protocol defends it."""
    await server.service.stop()
    base = make_service(server.sessions, server.ended)
    config = replace(base.config, guard=GuardConfig(drop_scanners=False))
    server.service = SipService(
        StoreDirectory(server.sessions),
        config,
        records=CallRecords(server.sessions),
        services=standard_services().ordered(),
    )
    await server.service.start()
    yield server


async def test_svwar_finds_no_extension_when_scanners_are_dropped(server: Server) -> None:
    out = await run(
        tool("svwar"), "-e1000-1010", "--domain", "demo.centrex.test", "--maximumtime", "3", *target(server)
    )
    assert "found nothing" in out, out
    assert server.service.guard.dropped > 0  # dropped unparsed: not even a 100 Trying


async def test_svwar_finds_no_extension_from_the_challenges(open_server: Server) -> None:
    """1001-1003 exist, 1000 and 1004-1010 do not: every REGISTER and INVITE gets the same 401/407,
    so svwar stops at its sanity check, and with --force it still cannot tell them apart."""
    for method, challenge in (("REGISTER", "401"), ("INVITE", "407")):
        for force in ((), ("--force",)):
            out = await run(
                tool("svwar"),
                "-e1000-1010",
                "-m",
                method,
                *force,
                "--domain",
                "demo.centrex.test",
                "--maximumtime",
                "3",
                *target(open_server),
            )
            assert "found nothing" in out, out
            assert challenge in out or "authentication request for an unknown extension" in out, out
            for ext in ("1001", "1002", "1003"):
                assert f"| {ext} " not in out, out
    assert open_server.service.guard.dropped == 0


async def test_svcrack_is_banned_before_it_reaches_the_password(open_server: Server, tmp_path: Path) -> None:
    """The right password is the 13th of the list: after 5 wrong answers the source is banned and
    gets no answer at all, so svcrack never tries it successfully."""
    password = open_server.passwords["1001"]
    words = tmp_path / "passwords.txt"
    words.write_text("\n".join([*(f"wrong{i}" for i in range(12)), password]) + "\n")
    out = await run(
        tool("svcrack"),
        "-u",
        "1001",
        "-d",
        str(words),
        "--domain",
        "demo.centrex.test",
        "--maximumtime",
        "5",
        *target(open_server),
    )
    assert password not in out, out
    assert "found nothing" in out or "no server response" in out, out
    assert open_server.service.guard.bans.is_banned("127.0.0.1", open_server.service.clock())
