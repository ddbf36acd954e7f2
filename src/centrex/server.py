"""Assembling one running service: migrations, the HTTP API, and (as they exist) SIP and media."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import uuid
from dataclasses import replace

import uvicorn
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from centrex.adapters.call_records import CallRecords
from centrex.adapters.directory_store import StoreDirectory
from centrex.adapters.ownership import StoreOwnership, node_address
from centrex.adapters.recording import RecordingListener
from centrex.adapters.registration_sync import RegistrationSync
from centrex.api.app import create_app, register_component
from centrex.api.portal import PortalConfig
from centrex.apps.app_config import AppConfig
from centrex.apps.server import AppServer
from centrex.calls.directory import Directory
from centrex.calls.guard import guard_config
from centrex.calls.hybrid_anchor import recording_tap, select_anchor
from centrex.calls.registrar import ExpiryPolicy
from centrex.calls.service import SipConfig, SipService
from centrex.capacity.admission import CapacityAdmission
from centrex.config import Settings
from centrex.cpaas.calls.wiring import attach_calls
from centrex.cpaas.campaigns.service import start_campaigns
from centrex.cpaas.flows.engine import start_flows
from centrex.cpaas.messaging.runtime import start_sms
from centrex.cpaas.voice.lookup import ApplicationLookup
from centrex.cpaas.webhook_service import start_webhooks
from centrex.e911.emergency_calls import EmergencyCalls
from centrex.e911.emergency_store import StoreEmergency
from centrex.e911.nomadic_listener import Listeners, NomadicListener
from centrex.e911.nomadic_store import NomadicTracker
from centrex.e911.notifier import EmergencyNotifier
from centrex.insights.service import from_settings as start_insights
from centrex.media.ports import PortAllocator
from centrex.media.relay import RelayManager, raise_fd_limit
from centrex.monitoring import build_monitor
from centrex.ops.alarm_policy import AlarmPolicy
from centrex.ops.alarm_policy import configure as configure_alarms
from centrex.ops.jobs import builtin_registry
from centrex.ops.logs import configure_logging
from centrex.ops.metrics import Metrics
from centrex.ops.metrics_switch import watch_switch
from centrex.ops.scheduler import Scheduler
from centrex.pbx.apps import Apps
from centrex.pbx.conference_lookup import ConferenceLookup
from centrex.pbx.mwi import MessageWaiting
from centrex.pbx.owners import Owners
from centrex.pbx.paging import Paging
from centrex.pbx.paging_store import StorePaging
from centrex.pbx.queue_store import StoreQueues
from centrex.pbx.queues import Queues
from centrex.routing import caller_identity
from centrex.routing.caller_ids import StoreCallerIds
from centrex.routing.resolved import ResolvingRoutes
from centrex.routing.storage import StoreRoutes
from centrex.routing.trunk_calls import TrunkCalls
from centrex.sip.session_timer import TimerPolicy
from centrex.store import media_files, secretbox
from centrex.store.db import make_engine, make_sessionmaker
from centrex.store.migrate import upgrade
from centrex.switchboard import attach_admission, standard_services
from centrex.transport.dscp import signalling_tos
from centrex.transport.resolve import Resolver

console = Console()

# SIGTERM: requests in progress get GRACE_SECONDS; the whole stop (calls ended, records and
# recordings flushed) gets STOP_DEADLINE, after which the process exits whatever is still running.
GRACE_SECONDS = 3
STOP_DEADLINE = float(os.environ.get("CENTREX_STOP_DEADLINE", "15"))


def stop_on_signal(server: uvicorn.Server) -> None:
    """First signal: stop taking requests and begin the orderly stop, with a deadline; a second
    signal stops at once (as uvicorn's own handler does)."""
    if server.should_exit:
        server.force_exit = True
        return
    server.should_exit = True
    watchdog = threading.Timer(STOP_DEADLINE, _exit_now)
    watchdog.daemon = True
    watchdog.start()


def _exit_now() -> None:
    # A worker thread stuck in a driver call cannot be interrupted; the process must not outlive
    # its stop for it (issue 14: SIGTERM left the process running).
    console.print(f"centrex: stop took over {STOP_DEADLINE:.0f} s; exiting now", highlight=False)
    os._exit(1)


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
    # Where the app server sends the calls it places (CPaaS: apps/outbound.py, pbx/app_origination.py).
    host = (
        sip.config.host
        if sip.config.host not in ("", "0.0.0.0", "::") and ":" not in sip.config.host
        else "127.0.0.1"
    )
    apps.outbound.switch = (host, sip.port)
    waiting.counts = apps.store.counts  # for phones that SUBSCRIBE to message-summary
    sip.engine.service(Queues).prompt_audio = apps.prompts.phrase  # "You are caller number N" in queues
    return apps


def attach_switch_services(
    sip: SipService,
    sessions: sessionmaker[Session],
    directory: Directory,
    notifier: EmergencyNotifier,
    resolver: Resolver | None = None,
) -> None:
    """What the switch reads besides phones and users (issue #6): trunks and routes, the DIDs of
    calls from carriers, 911 locations and notices, and nomadic use on every REGISTER. With a
    ``resolver``, trunk gateways named by host name are the addresses RFC 3263 finds for them."""
    engine = sip.engine
    stored = StoreRoutes(sessions)
    engine.service(TrunkCalls).routes = (
        ResolvingRoutes(stored, resolver.cached, resolver.prefetch) if resolver is not None else stored
    )
    engine.service(EmergencyCalls).emergency = StoreEmergency(sessions, notifier.submit)
    engine.service(TrunkCalls).identity.caller_ids = StoreCallerIds(sessions)  # issue 17 §5
    attach_admission(engine, sessions)  # capacity/ and the toll-fraud guard (issue 15)
    tracker = NomadicTracker(sessions)
    engine.nomadic = tracker
    records = sip.records if isinstance(sip.records, CallRecords) else None
    engine.service(Queues).store = StoreQueues(sessions, write_later=records.write_later if records else None)
    engine.service(Apps).conference_by_extension = ConferenceLookup(sessions)
    engine.service(Apps).application_by_extension = ApplicationLookup(sessions)  # voice apps (issue 16)
    engine.service(Paging).groups = StorePaging(sessions)  # paging groups (issue 17 §3)
    current = sip.location.listener
    nomadic = NomadicListener(tracker, directory)
    sip.location.listener = Listeners([current, nomadic] if current is not None else [nomadic])


async def serve(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)  # once, before anything logs
    secretbox.configure(settings.secrets_key_path)  # before the migrations: 0023 encrypts with it
    media_files.configure(settings.media_root)  # recordings and voicemail, shared by the nodes
    engine = make_engine(settings.database_url)
    upgrade(engine)  # idempotent: a fresh data dir or an older schema is brought up to date
    app = create_app(engine=engine, metrics=Metrics(settings.metrics_allow))
    app.state.portal = PortalConfig.from_settings(settings)  # log-in settings (api/portal.py)
    app.state.sip_ws_ports = (settings.sip_ws_port, settings.sip_wss_port)  # routers/softphone.py
    config = uvicorn.Config(
        app,
        host=settings.bind,
        port=settings.http_port,
        log_level="warning",
        lifespan="off",
        # httptools (a C parser) when installed, else h11; CENTREX_HTTP=h11 to compare (bench/).
        http=os.environ.get("CENTREX_HTTP", "auto"),
        # On SIGTERM, requests in progress get this long to finish; then their connections close.
        timeout_graceful_shutdown=GRACE_SECONDS,
        log_config=None,
        # HTTPS with CENTREX_HTTP_TLS_CERT/_KEY (phones fetch their provisioning files here).
        ssl_certfile=settings.http_tls_cert or None,
        ssl_keyfile=settings.http_tls_key or None,
    )
    server = uvicorn.Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop_on_signal, server)
    sessions = make_sessionmaker(engine)
    directory = StoreDirectory(sessions)
    sip = SipService(
        directory,
        SipConfig(
            host=settings.bind,
            port=settings.sip_port,
            # The public address behind NAT (--external-ip; docs/switch.md "Public address and NAT").
            advertised_host=settings.external_ip or None,
            advertised_tls_host=settings.external_tls_ip or None,
            expiry=ExpiryPolicy(nat_maximum=settings.sip_nat_expires),
            digest_algorithms=settings.sip_digest,  # config.py: CENTREX_SIP_DIGEST
            tls_port=settings.sip_tls_port,
            # A configured certificate (both files), else a self-signed one kept in the data dir.
            tls_cert=settings.sip_tls_cert or None,
            tls_key=settings.sip_tls_key or None,
            tls_dir=str(settings.data_dir),
            # Bans and TCP/TLS limits from CENTREX_SIP_BAN_* / CENTREX_SIP_TCP_* (calls/guard.py),
            # the request rate from the settings.
            guard=replace(guard_config(os.environ), rate_per_s=settings.sip_rate, burst=settings.sip_burst),
            heartbeat_s=settings.sip_heartbeat_s,
            node_stale_s=settings.node_stale_s,  # docs/scale-out.md
            signalling_tos=signalling_tos(settings.sip_dscp),  # CENTREX_SIP_DSCP: cs3 | cs5
            # SIP over WebSocket for browsers, their media through rtpengine (docs/softphone.md).
            ws_port=settings.sip_ws_port,
            wss_port=settings.sip_wss_port,
            rtpengine_ng=settings.rtpengine_ng,
            session=TimerPolicy(
                session_expires=settings.sip_session_expires,
                min_se=settings.sip_min_se,
                allow_short=settings.sip_test_short_timers,
            ),
        ),
        records=CallRecords(sessions, name=settings.node_name),
        services=standard_services().ordered(),
    )
    # Trunk gateways by host name (RFC 3263); CENTREX_DNS_SERVERS=host[:port],... replaces resolv.conf.
    resolver = make_resolver(settings.dns_servers)
    attach_switch_services(sip, sessions, directory, EmergencyNotifier.from_settings(settings), resolver)
    caller_identity.configure(  # STIR/SHAKEN signing and verification (config.py shaken_*)
        sip.engine.service(TrunkCalls).identity,
        key_file=settings.shaken_key_file,
        cert_url=settings.shaken_cert_url,
        cert_file=settings.shaken_cert_file,
        ca_file=settings.shaken_ca_file,
    )
    # Several nodes on one PostgreSQL: the others' registrations, by LISTEN/NOTIFY, listening
    # before the SIP service reads the stored ones (docs/scale-out.md).
    sync = None
    if RegistrationSync.wanted(engine) and isinstance(sip.records, CallRecords):
        sync = RegistrationSync(engine, sip.records, sip.location)
        sync.start(loop)
        await asyncio.to_thread(sync.listening.wait, 10.0)
    await sip.start()
    if sync is not None and isinstance(sip.records, CallRecords):
        # Several nodes: a park slot, queue or conference room another node owns is redirected
        # to it (pbx/owners.py, adapters/ownership.py; docs/scale-out.md "What is owned").
        sip.engine.service(Owners).store = StoreOwnership(
            sessions,
            sip.records.node_id,
            node_address(sip.advertised, sip.port),
            stale_s=sip.config.stale_after,
        )
    # Media anchoring (issue #4 point 1): every call's RTP through the relay, ports from --rtp-ports
    # (one allocator for the relay and the app server, so they never reach for the same port).
    ports = PortAllocator(*settings.rtp_ports)
    raise_fd_limit()  # 4 sockets per anchored call; the relay keeps within what the limit allows
    # A call whose media stopped both ways for CENTREX_MEDIA_TIMEOUT_S (default 60 s) is hung up:
    # the phones are gone and nobody will send BYE (issue 13 §3).
    relays = RelayManager(
        ports,
        bind_host=settings.bind,
        advertise=settings.external_media_ip or sip.advertised,
        idle_timeout=settings.media_timeout_s,
        on_idle=sip.media_stopped,
    )
    # Call recording by the tenants' policies.
    recordings = RecordingListener(sessions, relays, settings.media_root)
    # CENTREX_MEDIA_RELAY=rtpengine: calls are anchored on rtpengine instead (issue #4 point 8),
    # except those of tenants that may record someone: the recorder taps the built-in relay.
    tapped = recording_tap(sip.engine.calls, recordings.policy)
    sip.engine.media = select_anchor(
        settings.media_relay, settings.rtpengine_ng, settings.data_dir, relays, tapped
    )
    sip.engine.listeners.append(recordings)
    sip.engine.may_record = recordings.may_record  # recorded calls never go direct (direct_media)
    # Scheduled jobs (ops/jobs: retention, billing run, collections); --no-jobs leaves them to others.
    scheduler = Scheduler(sessions, builtin_registry(settings).without(settings.jobs_skip))
    housekeeping = (
        asyncio.create_task(scheduler.run_forever(settings.jobs_delay_s)) if settings.jobs else None
    )
    apps = await start_app_server(sip, sessions, settings, ports)
    # Tenants' event webhooks and the signed-request outbox (issue 16 §3, docs/webhooks.md).
    webhooks = start_webhooks(
        sip,
        sessions,
        deliver=settings.webhooks,
        timeout_s=settings.webhook_timeout_s,
        retry_scale=settings.webhook_retry_scale,
        block_private=settings.webhook_block_private,
    )
    insights = start_insights(webhooks.bus, sessions, settings)  # issue 20 §3: docs/insights.md
    app.state.voicemail_counts_changed = apps.counts_changed  # API deletes and marks reach MWI too
    app.state.conference_participants = apps.conference.participants
    # Calls in progress per site on this node, beside each site's capacity (GET …/capacity).
    app.state.site_calls = sip.engine.service(CapacityAdmission).site_calls
    # Each trunk gateway's state as the switch sees it (5xx/timeouts, OPTIONS probes): GET …/trunks.
    gateway_health, clock = sip.engine.service(TrunkCalls).health, sip.clock
    app.state.gateway_state = lambda gateway_id: gateway_health.view(gateway_id, clock())
    # CPaaS calls (issue 16 §2): the API's call desk on the app server, paced per account.
    app.state.cpaas_calls = attach_calls(
        apps, sessions, cps=settings.cpaas_calls_cps, queue_max=settings.cpaas_calls_queue
    )
    register_component(app, "sip", sip.health)
    # Alarms and tickets (issue 19 part 2): the operator's hours and contacts, and the monitor
    # polling this node's components (ops/monitor.py); --no-monitor leaves it off.
    alarm_policy = AlarmPolicy.from_settings(settings)
    configure_alarms(alarm_policy)
    monitoring = (
        asyncio.create_task(
            build_monitor(settings, sessions, engine, sip, ports, alarm_policy).run_forever(
                settings.monitor_interval_s
            )
        )
        if settings.monitor
        else None
    )
    # /metrics: calls, registrations, relay, record writer, gateways (ops/metrics_switch.py).
    watch_switch(app.state.metrics, sip, relays, sip.engine.service(TrunkCalls), app.state.admission)
    app.state.bans = sip.bans  # provisioning failures are banned by the same service (realm provisioning)
    app.state.sip_server = (sip.advertised, sip.port)  # where provisioned phones register
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.05)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        console.print(f"centrex: database {engine.dialect.name} {settings.database_url.split('@')[-1]}")
        scheme = "https" if settings.http_tls_cert else "http"
        console.print(
            f"centrex: HTTP API {scheme}://{settings.bind}:{port}/api/v1 "
            f"(docs /docs, OpenAPI /openapi.json, health /healthz /livez /readyz, metrics /metrics)",
            highlight=False,
        )
        console.print(f"centrex: portal {scheme}://{settings.bind}:{port}/ (docs/portal.md)", highlight=False)
        console.print(
            f"centrex: SIP {', '.join(sip.listening())} (advertised as {sip.advertised})", highlight=False
        )
        if sip.tls_certificate:
            console.print(f"centrex: SIP TLS certificate {sip.tls_certificate}", highlight=False)
    messaging = start_sms(app, settings)  # issue 16 §4: the SMS carrier connector (sms_carrier)
    flows = start_flows(app, settings.flow_max_steps, settings.flow_http_private)  # issue 20 §1
    campaigns = start_campaigns(app, settings)  # issue 20 §2: the campaign runner (docs/campaigns.md)
    try:
        await task
    finally:
        if campaigns is not None:
            await asyncio.to_thread(campaigns.stop)
        flows.stop()  # waits of send-and-wait-for-reply end with the process (docs/flows.md)
        if messaging is not None:
            await asyncio.to_thread(messaging.stop)
        if housekeeping is not None:
            housekeeping.cancel()
        if monitoring is not None:
            monitoring.cancel()
        await app.state.cpaas_calls.drain()
        await apps.stop()
        await sip.stop()
        if insights is not None:
            await asyncio.to_thread(insights.stop)  # the last counts flushed
        await webhooks.stop()  # after SIP: the last calls' events reach the outbox
        if sync is not None:
            await asyncio.to_thread(sync.stop)
        await resolver.close()
        recordings.close()  # before the relays: running recordings get their rows completed
        relays.close()
        engine.dispose()


def make_resolver(servers: tuple[str, ...]) -> Resolver:
    if not servers:
        return Resolver()
    hosts = [s.rsplit(":", 1)[0] if s.count(":") == 1 else s for s in servers]
    ports = {int(s.rsplit(":", 1)[1]) for s in servers if s.count(":") == 1}
    return Resolver(hosts, port=ports.pop() if len(ports) == 1 else 53)


def run(settings: Settings) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is optional off Linux
        pass
    asyncio.run(serve(settings))
