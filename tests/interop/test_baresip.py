"""A real SIP user agent through Centrex: two baresip phones (1001 and 1002 of the demo tenant), each
with its own configuration directory, no sound card (a sine tone as microphone, a bridge as
speaker) and SIP on its own 127.0.0.1 port, register with digest, and 1001 calls 1002, which
answers by itself; 1001 hangs up. Controlled through baresip's ctrl_tcp module (netstring JSON
commands, events back). The call must be answered on both phones and leave its CDR."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.events import CallEnded
from centrex.calls.service import SipService
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.store.models import CallDetail, CdrLeg, CdrOutcome
from centrex.switchboard import standard_services

from .conftest import Server, free_tcp_port, free_udp_port, make_service

pytestmark = pytest.mark.interop

BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")


@pytest.fixture
async def md5_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """The demo tenant's SIP service challenging with MD5 only: baresip 1.0's digest code (libre)
    refuses the whole challenge when one WWW-Authenticate names an algorithm it lacks (SHA-256,
    RFC 8760), the reason CENTREX_SIP_DIGEST exists for such phones."""
    if BARESIP is None:
        pytest.skip("baresip is not installed (Debian package baresip)")
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        demo = seed_demo(session, tmp_path)
    ended: list[CallEnded] = []
    config = replace(make_service(sessions, ended).config, digest_algorithms=("MD5",))
    service = SipService(
        StoreDirectory(sessions),
        config,
        records=CallRecords(sessions),
        on_call_ended=ended.append,
        services=standard_services().ordered(),
    )
    server = Server(service, {ln.extension: ln.sip_password for ln in demo.lines}, sessions, ended)
    await service.start()
    try:
        yield server
    finally:
        await server.service.stop()
        engine.dispose()


def free_port_pair() -> int:
    """A port free for UDP and TCP (baresip listens for SIP on both)."""
    for _ in range(50):
        port = free_udp_port()
        with socket.socket() as t:
            try:
                t.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port")


@dataclass
class Phone:
    """One baresip process and its control connection."""

    name: str
    proc: asyncio.subprocess.Process
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    events: list[dict[str, Any]] = field(default_factory=list)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start_reading(self) -> None:
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, ValueError):
            while True:
                length = int((await self.reader.readuntil(b":"))[:-1])
                data = await self.reader.readexactly(length + 1)  # the payload and its ","
                self.events.append(json.loads(data[:-1]))
                self._wake.set()

    async def command(self, command: str, params: str = "") -> None:
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.writer.write(b"%d:%s," % (len(body), body))
        await self.writer.drain()

    async def wait_event(self, kind: str, timeout: float = 15.0) -> dict[str, Any]:
        async def seen() -> dict[str, Any]:
            while True:
                for e in self.events:
                    if e.get("event") and e.get("type") == kind:
                        return e
                self._wake.clear()
                await self._wake.wait()

        try:
            return await asyncio.wait_for(seen(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {kind} in {timeout} s; events: {self.events}") from None

    async def close(self) -> str:
        with contextlib.suppress(Exception):
            await self.command("quit")
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._task is not None:
            self._task.cancel()
        self.writer.close()
        out = await self.proc.stdout.read() if self.proc.stdout else b""
        return out.decode(errors="replace")


async def start_phone(tmp_path: Path, server: Server, user: str, *, auto_answer: bool) -> Phone:
    home = tmp_path / f"baresip-{user}"
    home.mkdir()
    sip, ctrl = free_port_pair(), free_tcp_port()
    rtp = free_udp_port() // 2 * 2
    config = {
        "poll_method": "epoll",
        "sip_listen": f"127.0.0.1:{sip}",
        "sip_trans_def": "udp",
        "net_interface": "127.0.0.1",  # loopback only: SIP contact and SDP say 127.0.0.1
        "audio_player": "aubridge,speaker",  # no sound card: a bridge nobody listens to
        "audio_source": "ausine,440",  # a 440 Hz tone as the microphone...
        "ausrc_srate": "48000",  # ... which ausine makes at 48 kHz stereo only (resampled for G.711)
        "ausrc_channels": "2",
        "audio_alert": "aubridge,alert",
        "rtp_ports": f"{rtp}-{rtp + 20}",
        "module_path": str(MODULES),
        "ctrl_tcp_listen": f"127.0.0.1:{ctrl}",
    }
    lines = [f"{k}\t{v}" for k, v in config.items()]
    lines += [f"module\t{m}.so" for m in ("g711", "ausine", "aubridge")]
    lines += [f"module_app\t{m}.so" for m in ("account", "menu", "ctrl_tcp")]
    (home / "config").write_text("\n".join(lines) + "\n")
    params = [
        f"auth_pass={server.passwords[user]}",
        f'outbound="sip:127.0.0.1:{server.port};transport=udp"',
        "regint=600",
        "answermode=" + ("auto" if auto_answer else "manual"),
    ]
    (home / "accounts").write_text(f"<sip:{user}@{DEMO_DOMAIN}>;" + ";".join(params) + "\n")
    (home / "contacts").write_text("")
    proc = await asyncio.create_subprocess_exec(
        str(BARESIP),
        "-f",
        str(home),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    for _ in range(100):  # the control port opens once the modules are loaded
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", ctrl)
            break
        except OSError:
            if proc.returncode is not None:
                out = await proc.stdout.read() if proc.stdout else b""
                raise AssertionError(f"baresip {user} exited: {out.decode(errors='replace')}") from None
            await asyncio.sleep(0.1)
    else:
        proc.kill()
        raise AssertionError(f"baresip {user}: no control port")
    phone = Phone(user, proc, reader, writer)
    phone.start_reading()
    return phone


async def test_baresip_phones_register_and_complete_a_call(md5_server: Server, tmp_path: Path) -> None:
    server = md5_server
    caller = await start_phone(tmp_path, server, "1001", auto_answer=False)
    callee = await start_phone(tmp_path, server, "1002", auto_answer=True)
    logs: dict[str, str] = {}
    try:
        # Both register at start, often before the control connection is up (so before any
        # REGISTER_OK event could reach us): Centrex's location service is what tells.
        for _ in range(150):
            registered = {b.username: b for b in server.service.location.all()}
            if set(registered) == {"1001", "1002"}:
                break
            await asyncio.sleep(0.1)
        assert set(registered) == {"1001", "1002"}, (caller.events, callee.events)
        assert {b.source[0] for b in registered.values()} == {"127.0.0.1"}
        await caller.command("dial", f"sip:1002@{DEMO_DOMAIN}")
        incoming = await callee.wait_event("CALL_ESTABLISHED")
        outgoing = await caller.wait_event("CALL_ESTABLISHED")
        assert incoming["direction"] == "incoming" and outgoing["direction"] == "outgoing"
        # The callee sees the caller's identity from the user record (the demo user's name).
        assert "1001@" + DEMO_DOMAIN in incoming["peeruri"]
        await asyncio.sleep(1.0)  # talk a little: RTP flows, the duration is measurable
        await caller.command("hangup")
        await caller.wait_event("CALL_CLOSED")
        await callee.wait_event("CALL_CLOSED")
    except AssertionError as exc:
        logs["1001"] = await caller.close()
        logs["1002"] = await callee.close()
        raise AssertionError(
            f"{exc}\n--- baresip 1001:\n{logs['1001']}\n--- baresip 1002:\n{logs['1002']}"
        ) from None
    finally:
        if not logs:
            logs["1001"] = await caller.close()
            logs["1002"] = await callee.close()
    assert server.ended, logs
    ended = server.ended[-1]
    assert (ended.disposition, ended.hangup_cause, ended.from_, ended.to) == (
        "answered",
        "caller_bye",
        "1001",
        "1002",
    ), logs
    with server.sessions() as s:
        cdr = s.scalars(select(CallDetail)).one()
        outcome = s.scalars(select(CdrOutcome)).one()
        legs = s.scalars(select(CdrLeg)).all()
    assert (cdr.caller, cdr.callee, cdr.disposition, cdr.call_class) == ("1001", "1002", "answered", "on_net")
    assert cdr.duration_ms >= 900 and cdr.answer is not None
    assert (outcome.hangup_cause, outcome.sip_code) == ("caller_bye", 200)
    assert [(leg.extension, leg.disposition) for leg in legs] == [("1002", "answered")]
