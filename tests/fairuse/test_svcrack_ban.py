"""sipvicious svcrack — a real password guesser — against the SIP service, from 127.0.0.1: banned
after five wrong answers to our challenges, the ban stored, and still in force after a restart of
the service on the same database (it never gets to try the right password)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from centrex.calls.guard import GuardConfig
from centrex.store.models.bans import BanRow

from .switch import Switch, base_config, running

pytestmark = pytest.mark.interop

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"  # svcrack sends from the loopback address whatever -b says


def svcrack() -> str:
    found = shutil.which("sipvicious_svcrack", path=str(BIN)) or shutil.which("sipvicious_svcrack")
    if found is None:
        pytest.skip("sipvicious is not installed (pip install sipvicious: the dev extras)")
    return found


@pytest.fixture
async def open_switch(seeded: tuple[sessionmaker[Session], dict[str, str]]) -> AsyncIterator[Switch]:
    """The scanner User-Agent filter off: the ban alone must stop it."""
    config = replace(base_config(), guard=GuardConfig(rate_per_s=1000, burst=1000, drop_scanners=False))
    async for s in running(seeded, config):
        yield s


async def crack(switch: Switch, words: Path) -> str:
    args = [svcrack(), "-u", "1001", "-d", str(words), "--domain", switch.domain, "--maximumtime", "4"]
    args += ["-b", HOST, "-x", HOST, f"udp://127.0.0.1:{switch.port}"]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 90)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    return out.decode(errors="replace")


async def test_svcrack_is_banned_and_stays_banned_after_a_restart(
    open_switch: Switch, tmp_path: Path
) -> None:
    password = open_switch.passwords["1001"]
    words = tmp_path / "words.txt"
    words.write_text("\n".join([*(f"wrong{i}" for i in range(12)), password]) + "\n")
    out = await crack(open_switch, words)
    assert password not in out, out
    assert open_switch.service.bans.is_banned(HOST, time.time())
    open_switch.service.bans.flush()
    with open_switch.sessions() as session:
        [row] = session.scalars(select(BanRow).where(BanRow.source == HOST))
        assert row.ended_at is None and row.failures == 5
    await open_switch.restart()
    first = tmp_path / "right-first.txt"
    first.write_text(password + "\n")
    again = await crack(open_switch, first)
    assert password not in again, again
    assert "no server response" in again or "found nothing" in again, again
