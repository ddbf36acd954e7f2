"""The SIP service: UDP and TCP transports, the guard in front, registrar and call engine behind.

This is the I/O shell around the pure parts (guard, registrar, engine): it owns the transports,
one loop timer for the engine, and a housekeeping tick. Time given to the pure parts is the wall
clock (``time.time()``), so nonces and registration expiry mean the same after a restart.

The guard sits *before* parsing: each transport's SipEndpoint is replaced by a GuardedEndpoint
right after it binds (before any datagram can be read), so a banned or flooding source costs a
dictionary lookup and gets no answer at all, not even 100 Trying.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.directory import CachedDirectory, Directory
from centrex.calls.engine import CallEngine
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.guard import GuardConfig, SourceGuard, guard_config, stream_limits
from centrex.calls.location import LocationService
from centrex.calls.log_labels import CallLabels
from centrex.calls.ports import CallJournal
from centrex.calls.registrar import ExpiryPolicy, Registrar
from centrex.calls.secure_media import SecureMedia, relay_manager, toward_phone
from centrex.calls.services import CallService
from centrex.calls.webrtc_gateway import WS_TRANSPORTS, WebRtcGateway, browser_media
from centrex.calls.ws_listeners import start_websockets
from centrex.fairuse.ban_service import BanService
from centrex.fairuse.ban_store import service_key
from centrex.fairuse.bans import Realm
from centrex.ops.logs import call_scoped, index_calls, sip_logged
from centrex.sip.conformance import SWITCH_CONFORMANCE, Conformance
from centrex.sip.digest import ALGORITHMS
from centrex.sip.endpoint import SipEndpoint
from centrex.sip.events import Address, Event, RequestReceived, TransactionKey
from centrex.sip.message import Request, Response
from centrex.sip.session_timer import TimerPolicy, policy_from_env
from centrex.sip.transaction import TimerConfig
from centrex.transport import StreamTransport, UdpTransport
from centrex.transport.base import OutputGate, SipTransport
from centrex.transport.dscp import SIGNALLING_TOS
from centrex.transport.stream import StreamLimits
from centrex.transport.tls import client_context, ensure_certificate, server_context
from centrex.transport.websocket import WsTransport

_T = TypeVar("_T")

log = logging.getLogger(__name__)

HOUSEKEEPING_S = 30.0
# Bans started by other nodes and lifted by operators (API) apply here within this time.
BAN_SYNC_S = 5.0
NONCE_KEY = "sip-digest-nonce"
_gc_frozen = False
_GC_DEFAULT = (700, 10, 10)
GC_THRESHOLD = (50_000, 20, 100)


def freeze_startup_objects() -> None:
    """Once per process, at the first start: what exists by then (modules, the API app, the ORM's
    mappers) lives as long as the process, so the collector stops re-scanning it. Measured under
    250 calls/s: a full collection held the event loop ~145 ms with it, ~100 ms without (the rest
    is what the calls and transactions in progress hold)."""
    global _gc_frozen
    if not _gc_frozen:
        _gc_frozen = True
        gc.collect()
        gc.freeze()
        # Young cycles are still found every GC_THRESHOLD[0] allocations; older generations are
        # scanned rarely. With the defaults (700, 10, 10) a loaded switch ran 16 full collections
        # of ~150 ms each in 20 s (bench/sip_bench.py --gc-stats), every one a stall that made
        # phones retransmit; with these, one, and call-setup p99 at 300 calls/s fell from 628 to
        # 28 ms (docs/performance.md).
        if gc.get_threshold() == _GC_DEFAULT:
            gc.set_threshold(*GC_THRESHOLD)


class GuardedEndpoint(SipEndpoint):
    """A SipEndpoint that asks the SourceGuard before it parses anything."""

    def __init__(
        self,
        guard: SourceGuard,
        clock: Callable[[], float],
        local: Address,
        transport: str,
        timers: TimerConfig | None = None,
        conformance: Conformance | None = None,
    ) -> None:
        super().__init__(local, transport, timers=timers, conformance=conformance)
        self.guard = guard
        self.clock = clock

    def receive_datagram(self, data: bytes, addr: Address, now: float) -> None:
        if self.guard.admit(addr[0], data, self.clock()):
            super().receive_datagram(data, addr, now)


@dataclass(frozen=True)
class SipConfig:
    host: str = "0.0.0.0"
    port: int = 5060
    advertised_host: str | None = None
    # The TLS listener's public address where it differs (its own load balancer or NAT rule).
    advertised_tls_host: str | None = None
    tcp: bool = True
    # SIP over TLS (RFC 3261 §26.2) on this port (0: any free port; None: no TLS). Without a
    # configured certificate, a self-signed one is made at first start in ``tls_dir`` and reused.
    tls_port: int | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_dir: str = "."
    guard: GuardConfig = field(default_factory=lambda: guard_config(os.environ))
    stream: StreamLimits = field(default_factory=lambda: stream_limits(os.environ))
    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)
    max_ring_s: float = 120.0
    timers: TimerConfig | None = None
    # Offered in this order of preference (RFC 8760 §2.4). Clients that take the first challenge
    # whatever its algorithm (SIPp 3.6, some old phones) need MD5 first.
    digest_algorithms: tuple[str, ...] = ("SHA-256", "MD5")
    # Tenants and devices are cached this long on the authentication path (0: always read).
    directory_cache_s: float = 2.0
    # How often this process tells the store it is alive: after a crash, an answered call is
    # billed up to its node's last heartbeat (issue 13 §3). Other nodes' calls are closed once
    # their heartbeat is ``3 ×`` this old.
    heartbeat_s: float = field(default_factory=lambda: _positive_env("CENTREX_SIP_HEARTBEAT_S", 10.0))
    # A node whose heartbeat is this old is dead: a survivor closes, bills and hangs up its calls
    # (docs/scale-out.md). 0: three heartbeats.
    node_stale_s: float = 0.0
    # RFC 4028 session timers (CENTREX_SIP_SESSION_EXPIRES, CENTREX_SIP_MIN_SE; sip/session_timer.py).
    session: TimerPolicy = field(default_factory=lambda: policy_from_env(os.environ))
    # The TOS byte of every SIP listener, UDP, TCP and TLS (transport/dscp.py; config.py sip_dscp).
    signalling_tos: int = SIGNALLING_TOS
    # SIP over WebSocket (RFC 7118) for browsers, plain and over TLS (0: any free port; None: off);
    # their media through rtpengine at ``rtpengine_ng`` (calls/ws_listeners.py, docs/softphone.md).
    ws_port: int | None = None
    wss_port: int | None = None
    rtpengine_ng: str = "127.0.0.1:2223"

    @property
    def stale_after(self) -> float:
        return self.node_stale_s if self.node_stale_s > 0 else 3 * self.heartbeat_s

    def __post_init__(self) -> None:
        bad = [a for a in self.digest_algorithms if a not in ALGORITHMS]
        if bad or not self.digest_algorithms:
            raise ValueError(
                f"SIP digest algorithms {list(self.digest_algorithms)}: "
                f"each must be one of {list(ALGORITHMS)}"
            )


def _positive_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: must be a number of seconds") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r}: must be more than 0")
    return value


def _hold_for_registration(transport: StreamTransport, addr: Address, response: Response) -> None:
    """A phone registered over TCP/TLS is reached through that connection: keep it open until the
    longest binding it was granted expires, although the phone may send nothing meanwhile."""
    longest = 0
    for contact in response.headers.get_all("Contact"):
        _, _, rest = contact.partition(";expires=")
        digits = rest.split(";", 1)[0].strip()
        if digits.isdigit():
            longest = max(longest, int(digits))
    if longest:
        transport.hold_open(addr, float(longest))


def guess_local_ip() -> str:
    """The address other hosts reach us at when we listen on 0.0.0.0 (no packet is sent)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))
        return str(s.getsockname()[0])
    return "127.0.0.1"


def _certificate_name(host: str) -> str:
    """The DNS name the self-signed certificate is made for ("localhost" when we have only an IP)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return "localhost"


class SipService:
    def __init__(
        self,
        directory: Directory,
        config: SipConfig | None = None,
        *,
        records: CallJournal | None = None,
        services: Sequence[CallService] = (),
        on_call_ended: Callable[[CallEnded], None] | None = None,
        clock: Callable[[], float] = time.time,
        bans: BanService | None = None,
    ) -> None:
        self.config = config or SipConfig()
        self.clock = clock
        self.records = records
        self._on_call_ended = on_call_ended
        # Bans live in the store the records go to (fairuse/ban_service.py): they survive a
        # restart, and the digest nonce key with them, so that a nonce issued before a restart is
        # still known as ours after it (an answer to it with a wrong password still counts).
        # The store behind a store-backed journal (adapters/call_records.py CallRecords.sessions).
        sessions = getattr(records, "sessions", None)
        if bans is None:
            g = self.config.guard
            bans = BanService({Realm.SIP: g.ban_policy}, sessions=sessions, allow=g.allow, clock=clock)
        self.bans = bans
        self.guard = SourceGuard(self.config.guard, bans)
        secret = service_key(sessions, NONCE_KEY) if sessions is not None else secrets.token_bytes(32)
        self.location = LocationService(listener=records)
        if self.config.directory_cache_s > 0:
            directory = CachedDirectory(directory, ttl=self.config.directory_cache_s)
        self.auth = PhoneAuthenticator(
            directory, secret, self.guard, algorithms=self.config.digest_algorithms
        )
        self.registrar = Registrar(self.auth, self.location, self.config.expiry)
        # Output commit: what is sent after a call's start, answer or end waits until the
        # record writer has committed it (records.py; transport/base.py OutputGate).
        self.gate = OutputGate()
        self.engine = CallEngine(
            directory,
            self.auth,
            self.location,
            self,
            on_call_ended=self._call_ended,
            on_call_started=self._call_started if records else None,
            on_call_answered=self._call_answered if records else None,
            on_call_dialogs=self._call_dialogs if records else None,
            max_ring_s=self.config.max_ring_s,
            services=services,
            session_policy=self.config.session,
        )
        # Every line of a call carries its Call-ID and tenant (ops/logs.py), timers and ends too.
        self.engine.register(CallLabels())
        index_calls(self.engine)
        # SDES-SRTP (issue 17 §4): every SDP out and in passes calls/secure_media.py.
        self.secure_media = SecureMedia(lambda: relay_manager(self.engine.media))
        self.engine.media_path.secure = self.secure_media
        self.transports: dict[str, SipTransport] = {}
        self.tls_certificate: str | None = None  # the PEM file phones may pin, once TLS is up
        self.webrtc: WebRtcGateway | None = None  # browsers' media (calls/webrtc_gateway.py)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._ban_sync: asyncio.Task[None] | None = None
        self.advertised = self.config.advertised_host or (
            guess_local_ip() if self.config.host in ("0.0.0.0", "::") else self.config.host
        )

    # -- lifecycle -------------------------------------------------------------------------
    def _call_started(self, started: CallStarted) -> None:
        assert self.records is not None
        self.gate.depend(self.records.call_started(started))

    def _call_answered(self, answered: CallAnswered) -> None:
        assert self.records is not None
        self.gate.depend(self.records.call_answered(answered))

    def _call_dialogs(self, dialogs: CallDialogs) -> None:
        assert self.records is not None
        self.records.call_dialogs(dialogs)  # nothing waits for it: a restart's BYE is best effort

    def _call_ended(self, ended: CallEnded) -> None:
        if self.records is not None:
            # Queued for the writer; the BYE's 200 OK, the final response or the BYE to the
            # other side that this step sent are held until it is committed.
            self.gate.depend(self.records.call_ended(ended))
        if self._on_call_ended is not None:
            self._on_call_ended(ended)

    async def start(self) -> None:
        c = self.config
        freeze_startup_objects()
        if self.records is not None:
            # Before the first packet: close what a crash left open (billed up to its last
            # heartbeat), bring registrations back; the calls' dialogs get BYE once we listen.
            recovered = self.records.recover(stale_s=c.stale_after)
            self.records.register_node()
            restored = self.records.load_registrations(self.location, self.clock())
            log.info("sip.registrations.restored count=%d", restored)
            self.records.start(asyncio.get_running_loop(), self.gate.committed)
        # Bans that were running when the service stopped, and the allowlist (trunks, operator).
        self.bans.load(self.clock())
        self.bans.attach(asyncio.get_running_loop())
        for attempt in range(10):
            udp = await UdpTransport.start(
                c.host,
                c.port,
                self._on_event,
                tos=c.signalling_tos,
                timers=c.timers,
                advertised_host=self.advertised,
            )
            self._guard(udp)
            self.transports["UDP"] = udp
            if not c.tcp:
                break
            port = udp.local_address[1]
            try:
                tcp = await StreamTransport.start(
                    c.host,
                    port,
                    self._on_event,
                    tos=c.signalling_tos,
                    timers=c.timers,
                    advertised_host=self.advertised,
                    limits=c.stream,
                )
            except OSError:
                await udp.close()
                if c.port != 0 or attempt == 9:
                    raise
                continue  # port 0: the UDP port picked is taken for TCP; try another
            self._guard(tcp)
            self.transports["TCP"] = tcp
            break
        if c.tls_port is not None:
            await self._start_tls(c)
        await start_websockets(self)  # RFC 7118, when ws_port / wss_port are set
        loop = asyncio.get_running_loop()
        self._housekeeping = loop.create_task(self._housekeep())
        if self.records is not None:
            if recovered.dialogs:
                sent = self.engine.end_dialogs(recovered.dialogs)
                log.warning("sip.recovery.bye sent=%d calls=%d", sent, recovered.calls)
            self._heartbeat = loop.create_task(self._beat())
            self._watch = loop.create_task(self._watch_nodes())
        self._ban_sync = loop.create_task(self._sync_bans())
        # Services' own timers (trunk registrations, gateway probes) run from the start, not only
        # after the first SIP message arrives (a registration trunk on an idle switch, issue 17 §5).
        self._arm_engine_timer()

    async def _start_tls(self, c: SipConfig) -> None:
        if c.tls_cert and c.tls_key:
            cert, key = c.tls_cert, c.tls_key
        else:
            made = ensure_certificate(c.tls_dir, _certificate_name(self.advertised))
            cert, key = str(made[0]), str(made[1])
        self.tls_certificate = cert
        try:
            tls = await StreamTransport.start(
                c.host,
                c.tls_port or 0,
                self._on_event,
                ssl_context=server_context(cert, key),
                client_ssl=client_context(),
                tos=c.signalling_tos,
                timers=c.timers,
                advertised_host=c.advertised_tls_host or self.advertised,
                limits=c.stream,
            )
        except OSError:
            for transport in self.transports.values():
                await transport.close()
            self.transports.clear()
            raise
        self._guard(tls)
        self.transports["TLS"] = tls

    def _guard(self, transport: SipTransport) -> None:
        old = transport.endpoint
        # RFC 3261 §8.2 checks (sip/conformance.py) answer what the engine must never see.
        conformance = SWITCH_CONFORMANCE.with_local([old.local])
        transport.endpoint = GuardedEndpoint(
            self.guard, self.clock, old.local, old.transport, old.timers, conformance
        )
        transport.gate = self.gate
        if isinstance(transport, StreamTransport | WsTransport):
            transport.admit = lambda source: self.guard.admit_connection(source, self.clock())

    async def stop(self) -> None:
        for task in (self._housekeeping, self._heartbeat, self._watch, self._ban_sync):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._timer is not None:
            self._timer.cancel()
        # Calls in progress end cleanly: BYE (or 503) on every side and a CDR each. Their messages
        # wait in the output gate for the CDRs' commit, so the writer is flushed first and the
        # transports get a moment to send before they close.
        ended = self.engine.hang_up_all(self.clock()) if self.transports else 0
        if self.records is not None:
            await self.records.stop()  # what was queued is committed before we return
        if ended:
            log.warning("sip.stop.calls_ended count=%d", ended)
            await asyncio.sleep(0.1)
        for transport in self.transports.values():
            await transport.close()
        self.transports.clear()
        if self.webrtc is not None:
            self.webrtc.client.close()  # its calls were deleted at the BYEs above, or time out
        await asyncio.to_thread(self.bans.stop)  # bans started are written before we return

    @property
    def port(self) -> int:
        return self.transports["UDP"].local_address[1]

    def listening(self) -> list[str]:
        return [f"{name} {self.config.host}:{t.local_address[1]}" for name, t in self.transports.items()]

    def health(self) -> tuple[bool, str]:
        ready = "UDP" in self.transports
        detail = ", ".join(self.listening()) or "not started"
        return ready, (
            f"{detail}; {len(self.location.all())} contacts registered, {self.engine.active_calls} calls"
        )

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            now = self.clock()
            self.location.purge(now)
            self.guard.purge(now)
            if self.records is not None:
                try:
                    self.records.purge_registrations(now)
                except Exception:
                    log.exception("purging expired registrations failed")

    async def _beat(self) -> None:
        """The heartbeat: this node is alive, and its calls were up, until now."""
        assert self.records is not None
        while True:
            await asyncio.sleep(self.config.heartbeat_s)
            try:
                self.records.heartbeat()
            except Exception:
                log.exception("sip.heartbeat.failed")

    async def _watch_nodes(self) -> None:
        """The calls of other nodes whose heartbeat stopped: closed, billed and hung up here (two
        nodes on one store; docs/scale-out.md). Apart from the heartbeat, so a slow store read
        here never delays this node's own heartbeat. Each pass is two small reads while every
        node is alive (switch_nodes, then the journal rows of nodes not alive), so a dead node's
        calls end within ``stale_after`` and a heartbeat."""
        assert self.records is not None
        while True:
            await asyncio.sleep(self.config.heartbeat_s)
            try:
                recovered = await asyncio.to_thread(self.records.recover, stale_s=self.config.stale_after)
                if recovered.calls:
                    log.warning(
                        "sip.nodes.took_over calls=%d dialogs=%d", recovered.calls, len(recovered.dialogs)
                    )
                if recovered.dialogs:
                    self.engine.end_dialogs(recovered.dialogs)
            except Exception:
                log.exception("sip.nodes.watch_failed")

    @call_scoped
    def media_stopped(self, call_id: str) -> None:
        """The media relay's no-media timeout for a call (media/relay.py ``on_idle``)."""
        self.engine.media_stopped(call_id, self.clock())
        self._arm_engine_timer()

    async def _sync_bans(self) -> None:
        while True:
            await asyncio.sleep(BAN_SYNC_S)
            self.bans.sync()

    # -- events ----------------------------------------------------------------------------
    def _name(self, transport: SipTransport) -> str:
        return transport.endpoint.transport

    @sip_logged  # ops/logs.py: the event's Call-ID and tenant on every line logged while handling it
    def _on_event(self, event: Event, transport: SipTransport) -> None:
        now = self.clock()
        name = self._name(transport)
        if self.webrtc is not None and name in WS_TRANSPORTS:
            browser_media(self.webrtc, event)  # a browser's SDP made plain RTP for the engine
        if isinstance(event, RequestReceived) and event.request.method == "REGISTER":
            response = self.registrar.handle(event.request, event.addr, name, now)
            transport.send_response(response)
            if response.status == 200 and isinstance(transport, StreamTransport):
                _hold_for_registration(transport, event.addr, response)
        else:
            self.engine.handle(event, name, now)
        self._arm_engine_timer()

    def run_in_engine(self, work: Callable[[float], _T]) -> _T:
        """``work(now)`` on the engine from outside a SIP event (ops/monitor.py probes every trunk
        gateway this way), then the engine's timer armed for the transactions it started."""
        result = work(self.clock())
        self._arm_engine_timer()
        return result

    def _arm_engine_timer(self) -> None:
        at = self.engine.next_timer()
        if at == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        if at is None:
            self._timer = None
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, at - self.clock()), self._on_engine_timer)

    @call_scoped
    def _on_engine_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        try:
            with self.gate.corked():  # a timer that ends a call sends and writes in one step
                self.engine.handle_timer(self.clock())
        except Exception:
            log.exception("call engine timer failed")
        self._arm_engine_timer()

    # -- the engine's Network --------------------------------------------------------------
    def _transport(self, name: str) -> SipTransport:
        return self.transports.get(name) or self.transports["UDP"]

    def send_request(self, transport: str, request: Request, addr: Address) -> TransactionKey:
        t = self._transport(transport)
        self._secure_sdp(self._name(t), request, addr)
        return t.send_request(request, addr)

    def send_response(self, transport: str, response: Response) -> None:
        t = self._transport(transport)
        self._secure_sdp(self._name(t), response, None)
        t.send_response(response)

    def _secure_sdp(self, transport: str, message: Request | Response, addr: Address | None) -> None:
        if self.webrtc is not None and transport in WS_TRANSPORTS:
            # To a browser: plain RTP to rtpengine (no SDES keys), made WebRTC there.
            self.secure_media.sending("UDP", message, lambda relay, leg: False)
            self.webrtc.to_browser(message)
            return
        if message.body:
            self.secure_media.sending(
                transport, message, lambda relay, leg: toward_phone(self.engine, message, addr, relay, leg)
            )

    def send_cancel(self, transport: str, key: TransactionKey) -> None:
        self._transport(transport).send_cancel(key)

    def contact(self, transport: str) -> str:
        t = self._transport(transport)
        suffix = "" if self._name(t) == "UDP" else f";transport={self._name(t).lower()}"
        host, port = t.local_address  # the listener's advertised address (Via sent-by too)
        host = f"[{host}]" if ":" in host else host
        return f"<sip:{host}:{port}{suffix}>"
