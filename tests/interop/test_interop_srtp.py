"""An SRTP call between two real phones (issue 17 §4 "must show"): two baresip phones register over
TLS with ``mediaenc=srtp-mand`` (RTP/SAVP with SDES keys, RFC 4568, nothing else accepted) and
offer G.722 first, then Opus and G.711. 1001 calls 1002 through the switch's built-in relay, which
answers each phone with its own key and re-encrypts between them (calls/secure_media.py).

Media is checked three ways: the relay authenticated and decrypted a steady stream from each phone
under the key that phone sent (packets counted on each leg, none failing authentication), each phone
says it turned SRTP on and set up G.722 (passed through: nothing on this call decodes), and the
phones' tone source keeps the streams going both ways for the whole call."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.calls.events import CallEnded
from centrex.calls.media import RelayAnchor
from centrex.calls.service import SipService
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager
from centrex.ops.demo import DEMO_DOMAIN, seed_demo
from centrex.store.db import make_engine, make_sessionmaker, transaction
from centrex.switchboard import standard_services

from ..media.test_relay import free_range
from .conftest import Server, free_tcp_port, free_udp_port, make_service
from .test_baresip import BARESIP, MODULES, Phone, free_port_pair

pytestmark = pytest.mark.interop


@pytest.fixture
async def tls_server(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    if BARESIP is None:
        pytest.skip("baresip is not installed (Debian package baresip)")
    engine = make_engine(sqlite_url)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        demo = seed_demo(session, tmp_path)
    ended: list[CallEnded] = []
    config = replace(
        make_service(sessions, ended).config,
        digest_algorithms=("MD5",),  # baresip 1.0 (see test_baresip.py)
        tls_port=free_tcp_port(),
        tls_dir=str(tmp_path),
    )
    service = SipService(
        StoreDirectory(sessions),
        config,
        records=CallRecords(sessions),
        on_call_ended=ended.append,
        services=standard_services().ordered(),
    )
    low, high = free_range(8)
    service.engine.media = RelayAnchor(RelayManager(PortAllocator(low, high), bind_host="127.0.0.1"))
    server = Server(service, {ln.extension: ln.sip_password for ln in demo.lines}, sessions, ended)
    await service.start()
    try:
        yield server
    finally:
        await server.service.stop()
        engine.dispose()


async def start_tls_phone(tmp_path: Path, server: Server, user: str, *, auto_answer: bool) -> Phone:
    home = tmp_path / f"baresip-{user}"
    home.mkdir()
    sip, ctrl = free_port_pair(), free_tcp_port()
    rtp = free_udp_port() // 2 * 2
    tls_port = server.service.config.tls_port
    config = {
        "poll_method": "epoll",
        "sip_listen": f"127.0.0.1:{sip}",
        "sip_cafile": str(server.service.tls_certificate),
        "net_interface": "127.0.0.1",
        "audio_player": "aubridge,speaker",
        "audio_source": "ausine,440",
        "ausrc_srate": "48000",
        "ausrc_channels": "2",
        "audio_alert": "aubridge,alert",
        "rtp_ports": f"{rtp}-{rtp + 20}",
        "module_path": str(MODULES),
        "ctrl_tcp_listen": f"127.0.0.1:{ctrl}",
    }
    lines = [f"{k}\t{v}" for k, v in config.items()]
    # Codecs in preference order: G.722 first, so that both phones end up on it if it passes.
    lines += [f"module\t{m}.so" for m in ("g722", "opus", "g711", "ausine", "aubridge", "srtp")]
    lines += [f"module_app\t{m}.so" for m in ("account", "menu", "ctrl_tcp")]
    (home / "config").write_text("\n".join(lines) + "\n")
    params = [
        f"auth_pass={server.passwords[user]}",
        f'outbound="sip:127.0.0.1:{tls_port};transport=tls"',
        "mediaenc=srtp-mand",
        "regint=600",
        "answermode=" + ("auto" if auto_answer else "manual"),
    ]
    (home / "accounts").write_text(f"<sip:{user}@{DEMO_DOMAIN};transport=tls>;" + ";".join(params) + "\n")
    (home / "contacts").write_text("")
    proc = await asyncio.create_subprocess_exec(
        str(BARESIP), "-f", str(home), "-v",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(100):
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


async def test_srtp_call_between_two_baresip_phones_over_tls(tls_server: Server, tmp_path: Path) -> None:
    server = tls_server
    caller = await start_tls_phone(tmp_path, server, "1001", auto_answer=False)
    callee = await start_tls_phone(tmp_path, server, "1002", auto_answer=True)
    logs: dict[str, str] = {}
    stats = {}
    keyed = {}
    try:
        for _ in range(150):
            registered = {b.username: b for b in server.service.location.all()}
            if set(registered) == {"1001", "1002"}:
                break
            await asyncio.sleep(0.1)
        assert set(registered) == {"1001", "1002"}, (caller.events, callee.events)
        assert {b.transport for b in registered.values()} == {"TLS"}
        await caller.command("dial", f"sip:1002@{DEMO_DOMAIN}")
        await callee.wait_event("CALL_ESTABLISHED", 20)
        await caller.wait_event("CALL_ESTABLISHED", 20)
        await asyncio.sleep(3.0)  # 3 s of tone each way, about 150 packets per direction
        anchor = server.service.engine.media
        assert isinstance(anchor, RelayAnchor)
        (call_id,) = [str(c) for c in server.service.engine.calls]
        relay = anchor.manager.get(call_id)
        assert relay is not None
        for leg in ("a", "b"):
            srtp = relay.srtp(leg)
            keyed[leg] = srtp is not None and srtp.inbound is not None and srtp.outbound is not None
            stats[leg] = (relay.stats(leg), srtp.failed if srtp else None, srtp.failed_rtcp if srtp else None)
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
    # Each leg of the relay is SRTP both ways (the phone's key in, ours out)...
    assert keyed == {"a": True, "b": True}, (stats, logs)
    for leg, (leg_stats, failed, _failed_rtcp) in stats.items():
        # ... and each phone's RTP authenticated and decrypted under its key, and was relayed
        # (re-encrypted) to the other phone. (An RTCP packet may be dropped: baresip 1.0 starts RTCP
        # before SRTP and its first report can go out unprotected, which the relay refuses.)
        assert leg_stats.packets_in >= 50 and failed == 0, (leg, stats, logs)
        assert leg_stats.packets_out >= 50, (leg, stats, logs)
    for user, out in logs.items():
        assert re.search(r"SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_(80|32)\)", out), (user, out)
        # G.722 passed through the relay, untouched: nothing on this call decodes.
        assert re.search(r"audio: Set audio encoder: G722", out), (user, out)
    assert server.ended and server.ended[-1].disposition == "answered"
