"""Assembling one running service: migrations, the HTTP API, and (as they exist) SIP and media."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid

import uvicorn
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.adapters.recording import RecordingListener
from centrex.api.app import create_app, register_component
from centrex.apps.server import AppConfig, AppServer
from centrex.calls.directory import Directory
from centrex.calls.hybrid_anchor import recording_tap, select_anchor
from centrex.calls.service import SipConfig, SipService
from centrex.config import Settings
from centrex.e911.emergency_calls import EmergencyCalls
from centrex.e911.emergency_store import StoreEmergency
from centrex.e911.nomadic_listener import Listeners, NomadicListener
from centrex.e911.nomadic_store import NomadicTracker
from centrex.e911.notifier import EmergencyNotifier
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager, raise_fd_limit
from centrex.ops.recording_retention import retention_daily
from centrex.pbx.apps import Apps
from centrex.pbx.conference_lookup import ConferenceLookup
from centrex.pbx.mwi import MessageWaiting
from centrex.pbx.queue_store import StoreQueues
from centrex.pbx.queues import Queues
from centrex.routing.storage import StoreRoutes
from centrex.routing.trunk_calls import TrunkCalls
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.migrate import upgrade
from centrex.switchboard import attach_admission, standard_services

console = Console()


def media_timeout_s() -> float:
    raw = os.environ.get("CENTREX_MEDIA_TIMEOUT_S", "").strip()
    try:
        value = float(raw) if raw else 60.0
    except ValueError:
        raise SystemExit(f"CENTREX_MEDIA_TIMEOUT_S={raw!r}: must be a number of seconds") from None
    if value <= 0:
        raise SystemExit(f"CENTREX_MEDIA_TIMEOUT_S={raw!r}: must be more than 0")
    return value


async def start_app_server(
    sip: SipService, sessions: sessionmaker[Session], settings: Settings | AppConfig, ports: PortAllocator
) -> AppServer:
    """The app server (voicemail, attendants, conferences) on a free port of 127.0.0.1, told to the
    engine; message-waiting changes go out as NOTIFYs to the user's phones."""

    waiting = sip.engine.service(MessageWaiting)

    def mwi(tenant_id: uuid.UUID, user_id: uuid.UUID, new: int, old: int) -> None:
        waiting.notify(tenant_id, user_id, new, old, sip.clock())

    apps = AppServer(sessions, settings, ports, mwi=mwi)
    await apps.start("127.0.0.1", 0)
    sip.engine.service(Apps).address = apps.address
    waiting.counts = apps.store.counts  # for phones that SUBSCRIBE to message-summary
    sip.engine.service(Queues).prompt_audio = apps.prompts.phrase  # "You are caller number N" in queues
    return apps


def attach_switch_services(
    sip: SipService,
    sessions: sessionmaker[Session],
    directory: Directory,
    notifier: EmergencyNotifier,
) -> None:
    """What the switch reads besides phones and users (issue #6): trunks and routes, the DIDs of
    calls from carriers, 911 locations and notices, and nomadic use on every REGISTER."""
    engine = sip.engine
    engine.service(TrunkCalls).routes = StoreRoutes(sessions)
    engine.service(EmergencyCalls).emergency = StoreEmergency(sessions, notifier.submit)
    attach_admission(engine, sessions)  # capacity/ and the toll-fraud guard (issue 15)
    tracker = NomadicTracker(sessions)
    engine.nomadic = tracker
    records = sip.records if isinstance(sip.records, CallRecords) else None
    engine.service(Queues).store = StoreQueues(sessions, write_later=records.write_later if records else None)
    engine.service(Apps).conference_by_extension = ConferenceLookup(sessions)
    current = sip.location.listener
    nomadic = NomadicListener(tracker, directory)
    sip.location.listener = Listeners([current, nomadic] if current is not None else [nomadic])


async def serve(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)  # idempotent: a fresh data dir or an older schema is brought up to date
    app = create_app(engine=engine)
    config = uvicorn.Config(
        app, host=settings.bind, port=settings.http_port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    sessions = make_sessionmaker(engine)
    # Digest algorithms offered, most preferred first (RFC 8760). CENTREX_SIP_DIGEST=MD5,SHA-256
    # serves clients that answer the first challenge whatever its algorithm (SIPp 3.6, old phones).
    digest = tuple(a.strip().upper() for a in os.environ.get("CENTREX_SIP_DIGEST", "SHA-256,MD5").split(","))
    directory = StoreDirectory(sessions)
    sip = SipService(
        directory,
        SipConfig(
            host=settings.bind,
            port=settings.sip_port,
            digest_algorithms=digest,
            tls_port=settings.sip_tls_port,
            # A configured certificate (both files), else a self-signed one kept in the data dir.
            tls_cert=os.environ.get("CENTREX_SIP_TLS_CERT") or None,
            tls_key=os.environ.get("CENTREX_SIP_TLS_KEY") or None,
            tls_dir=str(settings.data_dir),
        ),
        records=CallRecords(sessions),
        services=standard_services().ordered(),
    )
    attach_switch_services(sip, sessions, directory, EmergencyNotifier.from_settings(settings))
    await sip.start()
    # Media anchoring (issue #4 point 1): every call's RTP through the relay, ports from --rtp-ports
    # (one allocator for the relay and the app server, so they never reach for the same port).
    ports = PortAllocator(*settings.rtp_ports)
    raise_fd_limit()  # 4 sockets per anchored call; the relay keeps within what the limit allows
    # A call whose media stopped both ways for CENTREX_MEDIA_TIMEOUT_S (default 60 s) is hung up:
    # the phones are gone and nobody will send BYE (issue 13 §3).
    relays = RelayManager(
        ports,
        bind_host=settings.bind,
        advertise=sip.advertised,
        idle_timeout=media_timeout_s(),
        on_idle=sip.media_stopped,
    )
    # Call recording by the tenants' policies, and the daily retention purge (hosted-pbx.txt 2.f).
    recordings = RecordingListener(sessions, relays, settings.data_dir)
    # CENTREX_MEDIA_RELAY=rtpengine: calls are anchored on rtpengine instead (issue #4 point 8),
    # except those of tenants that may record someone: the recorder taps the built-in relay.
    tapped = recording_tap(sip.engine.calls, recordings.policy)
    sip.engine.media = select_anchor(
        settings.media_relay, settings.rtpengine_ng, settings.data_dir, relays, tapped
    )
    sip.engine.listeners.append(recordings)
    sip.engine.may_record = recordings.may_record  # recorded calls never go direct (direct_media)
    housekeeping = asyncio.create_task(retention_daily(sessions))
    apps = await start_app_server(sip, sessions, settings, ports)
    app.state.voicemail_counts_changed = apps.counts_changed  # API deletes and marks reach MWI too
    app.state.conference_participants = apps.conference.participants
    register_component(app, "sip", sip.health)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        console.print(f"centrex: database {engine.dialect.name} {settings.database_url.split('@')[-1]}")
        console.print(
            f"centrex: HTTP API http://{settings.bind}:{port}/api/v1 "
            f"(docs /docs, OpenAPI /openapi.json, health /healthz)",
            highlight=False,
        )
        console.print(
            f"centrex: SIP {', '.join(sip.listening())} (advertised as {sip.advertised})", highlight=False
        )
        if sip.tls_certificate:
            console.print(f"centrex: SIP TLS certificate {sip.tls_certificate}", highlight=False)
    try:
        await task
    finally:
        housekeeping.cancel()
        await apps.stop()
        await sip.stop()
        recordings.close()  # before the relays: running recordings get their rows completed
        relays.close()
        engine.dispose()


def run(settings: Settings) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is optional off Linux
        pass
    asyncio.run(serve(settings))
