"""The checks the monitor polls (ops/monitor.py), each a real probe of a real thing:

| check | how | alarm | priority | service-affecting |
| --- | --- | --- | --- | --- |
| SIP over UDP | an OPTIONS to our own listener; any SIP answer is up | sip:udp | 1 | yes |
| SIP over TCP, TLS | a TCP connection to the listener is accepted | sip:tcp, sip:tls | 1 | yes |
| database | ``SELECT 1`` (store/db.py ping) | database | 1 | yes |
| rtpengine | an ng ``ping``, answered ``pong`` | rtpengine | 1 | yes, when it anchors the calls |
| built-in relay | RTP ports left to anchor a call | relay | 1 | no: calls up go on |
| carriers | OPTIONS to carrier, peer, 911 gateways (1) | carrier:<gateway> | 2 | no: others carry calls |
| disk | free share of the data dir's file system | disk:<path> | 2 (1 under a quarter of it) | no |

(1) routing/trunk_calls.py probe_all; the gateway health the switch keeps from those answers and from
calls (routing/select.py GatewayHealth) is what the alarm reports, so nothing is probed twice.

Priorities are ours (the contract defines the two intervals, not what falls in each): priority 1 when
calls fail for everyone, priority 2 when the service is degraded but carries calls. Only the first
kind is an outage of the service for billing's credit (hosted-pbx.txt liability 1).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Engine

from centrex.ops.monitor import Check, Finding
from centrex.store.db import ping

PROBE_TIMEOUT_S = 2.0


def _options(host: str, port: int, local_port: int, call_id: str) -> bytes:
    branch = "z9hG4bK" + uuid.uuid4().hex[:16]
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:monitor@127.0.0.1>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


class _Answer(asyncio.DatagramProtocol):
    def __init__(self, call_id: str) -> None:
        self.call_id = call_id.encode()
        self.answered: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if data.startswith(b"SIP/2.0 ") and self.call_id in data and not self.answered.done():
            self.answered.set_result(data.split(b"\r\n", 1)[0])


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host


def sip_udp_check(host: str, port: Callable[[], int | None], timeout_s: float = PROBE_TIMEOUT_S) -> Check:
    async def check() -> list[Finding]:
        listening = port()
        target = _reachable(host)
        if listening is None:
            return [Finding("sip:udp", "sip", False, "SIP over UDP is not listening", 1, True)]
        loop = asyncio.get_running_loop()
        call_id = f"monitor-{uuid.uuid4().hex}"
        transport, proto = await loop.create_datagram_endpoint(
            lambda: _Answer(call_id), remote_addr=(target, listening)
        )
        try:
            local = transport.get_extra_info("sockname")[1]
            for _ in range(3):  # UDP: try again within the timeout, as Timer E would
                transport.sendto(_options(target, listening, local, call_id))
                done, _pending = await asyncio.wait({proto.answered}, timeout=timeout_s / 3)
                if done:
                    status = proto.answered.result().decode(errors="replace")
                    return [
                        Finding("sip:udp", "sip", True, f"{target}:{listening} answered {status}", 1, True)
                    ]
        finally:
            transport.close()
        summary = f"SIP over UDP at {target}:{listening}: no answer to OPTIONS within {timeout_s:g} s"
        return [Finding("sip:udp", "sip", False, summary, 1, True)]

    return check


def tcp_listener_check(
    name: str, host: str, port: Callable[[], int | None], timeout_s: float = PROBE_TIMEOUT_S
) -> Check:
    """``name``: "tcp" or "tls" (a TCP connection accepted is enough to know the listener is up)."""

    async def check() -> list[Finding]:
        key, listening, target = f"sip:{name}", port(), _reachable(host)
        if listening is None:
            return [Finding(key, "sip", False, f"SIP over {name.upper()} is not listening", 1, True)]
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(target, listening), timeout_s)
        except (OSError, TimeoutError) as exc:
            summary = f"SIP over {name.upper()} at {target}:{listening}: {type(exc).__name__}: {exc}"
            return [Finding(key, "sip", False, summary[:500], 1, True)]
        writer.close()
        return [Finding(key, "sip", True, f"{target}:{listening} accepts connections", 1, True)]

    return check


def database_check(engine: Engine) -> Check:
    async def check() -> list[Finding]:
        ok = await asyncio.to_thread(ping, engine)
        where = f"{engine.dialect.name} {engine.url.render_as_string(hide_password=True).split('@')[-1]}"
        summary = f"{where} answers" if ok else f"{where} does not answer SELECT 1"
        return [Finding("database", "database", ok, summary, 1, True)]

    return check


def rtpengine_check(ng: str, *, anchors_calls: bool = True, timeout_s: float = 1.0) -> Check:
    def ping_ng() -> str | None:
        from centrex.media.rtpengine import NgClient, NgError

        host, _, port = ng.rpartition(":")
        try:
            client = NgClient(host.strip("[]"), int(port), timeout_s=timeout_s)
        except OSError as exc:
            return f"{type(exc).__name__}: {exc}"
        try:
            client.ping()
            return None
        except NgError as exc:
            return str(exc)
        finally:
            client.close()

    async def check() -> list[Finding]:
        error = await asyncio.to_thread(ping_ng)
        summary = f"rtpengine at {ng} answers ping" if error is None else f"rtpengine at {ng}: {error}"
        return [Finding("rtpengine", "rtpengine", error is None, summary[:500], 1, anchors_calls)]

    return check


def relay_check(available: Callable[[], int], minimum: int = 1) -> Check:
    """The built-in relay runs in this process; what can fail is running out of RTP ports."""

    async def check() -> list[Finding]:
        left = available()
        ok = left >= minimum
        summary = f"{left} RTP port pairs free" if ok else "no RTP ports left: new calls cannot be anchored"
        return [Finding("relay", "relay", ok, summary, 1, False, {"free_pairs": left})]

    return check


def disk_check(path: Path, min_free: float) -> Check:
    async def check() -> list[Finding]:
        usage = await asyncio.to_thread(shutil.disk_usage, path)
        free = usage.free / usage.total if usage.total else 0.0
        ok = free >= min_free
        priority = 1 if free < min_free / 4 else 2
        summary = f"{free:.1%} free on {path} (alarm under {min_free:.0%})"
        details = {"free_bytes": usage.free, "total_bytes": usage.total}
        return [Finding(f"disk:{path}", "disk", ok, summary, priority, False, details)]

    return check


GatewayState = tuple[str, str, bool]  # (gateway id, "host:port/transport", up)


def carrier_check(probe: Callable[[], int], states: Callable[[], Sequence[GatewayState]]) -> Check:
    """``probe`` sends OPTIONS to every gateway (answers arrive later and update the health that
    ``states`` reads: this pass reports what the previous probes and the calls since found)."""

    async def check() -> list[Finding]:
        found = [
            Finding(
                f"carrier:{gateway_id}",
                "carrier",
                up,
                f"gateway {label} {'answers' if up else 'does not answer OPTIONS (or failed calls)'}",
                2,
                False,
                {"gateway": label},
            )
            for gateway_id, label, up in states()
        ]
        probe()
        return found

    return check
