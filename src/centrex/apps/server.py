"""The app server: an internal SIP user agent that answers the calls the engine routes to PBX apps.

It listens on its own UDP port (127.0.0.1 by default) in the same process as the switch, like a
media server beside Kamailio. The call engine sends it a B-leg INVITE whose Request-URI user names
the app:

- ``vm-deposit.<user uuid>``: leave a message for that user (``X-Centrex-Reason: busy | no-answer |
  unavailable`` picks the greeting);
- ``vm-main``: the caller's own mailbox (``X-Centrex-Caller-User``), PIN asked;
- ``vm-login``: mailbox number, then PIN;
- ``aa.<menu uuid>``: an auto attendant menu (apps/attendant.py), which hands the caller back to
  the switch with an in-dialog REFER (``refer``) to the extension, hunt group or mailbox chosen;
- ``conf-main`` (bridge number, then PIN) and ``conf.<bridge uuid>`` (PIN if set): a conference
  room (apps/conference.py); ``conf-adhoc.<uuid>``: a room without a bridge (three-way calling);
- ``cpaas.<application uuid>``: a voice app (cpaas/voice/service.py: TwiML or native JSON verbs
  fetched from the application's URL; ``X-Centrex-Dialled`` is Twilio's ``To``).

with ``X-Centrex-Tenant``, ``X-Centrex-Call``, ``X-Centrex-Caller``, ``X-Centrex-Caller-Name`` and,
when the caller is a user, ``X-Centrex-Caller-User``. Nothing but those headers is believed, and
only from ``allowed_sources`` (anyone else: 403). Another user part: 404; a mailbox that does not
exist or is disabled: 404; no G.711 in the offer: 488; no RTP ports: 503.

The app answers the caller's SDP offer with its own RTP endpoint (the offered G.711 codec and
telephone-event when offered), runs, and sends BYE when done; a BYE from the engine ends it (a
message being recorded is kept). In-dialog re-INVITEs are answered with the same session (new
remote address, hold honoured); SIP INFO with application/dtmf-relay or application/dtmf carries
digits too; OPTIONS is answered 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from centrex.apps.attendant import AttendantApp, AttendantStore
from centrex.apps.conference import ConferenceApp, is_conference
from centrex.apps.media import CallMedia
from centrex.apps.outbound import OutboundCalls
from centrex.apps.prompts import PromptLibrary
from centrex.apps.sip_offer import caller_info, clean, codecs_for, format_of, host_of, info_digit, remote_of
from centrex.apps.vm_mail import VoicemailMailer
from centrex.apps.vm_store import MailboxInfo, VoicemailStore
from centrex.apps.voice_control import AppCallControl
from centrex.apps.voicemail import CallerInfo, VoicemailApp, VoicemailSettings
from centrex.config import Settings
from centrex.cpaas.voice.control import DialRequest, DialResult, VoiceCall
from centrex.cpaas.voice.service import Prepared, VoiceApps, application_of
from centrex.cpaas.voice.service import room_id as voice_room
from centrex.e911.notifier import SmtpConfig
from centrex.media.errors import MediaError, PortsExhausted
from centrex.media.ports import PortAllocator
from centrex.sip import (
    CancelReceived,
    Dialog,
    DialogState,
    Event,
    Request,
    RequestReceived,
    ResponseReceived,
    SipParseError,
    SipUri,
    TransactionKey,
    TransactionTimedOut,
    make_response,
    new_tag,
)
from centrex.sip.headers import parse_name_addr
from centrex.sip.sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    SessionDescription,
    negotiate_answer,
    parse_sdp,
)
from centrex.transport.base import SipTransport
from centrex.transport.dscp import SIGNALLING_TOS, signalling_tos
from centrex.transport.udp import UdpTransport

log = logging.getLogger(__name__)

Mwi = Callable[[uuid.UUID, uuid.UUID, int, int], None]
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"
REASONS = ("busy", "no-answer", "unavailable")
_DEPOSIT = re.compile(r"^vm-deposit\.([0-9a-fA-F-]{32,36})$")
_ATTENDANT = re.compile(r"^aa\.([0-9a-fA-F-]{32,36})$")
REFER_TIMEOUT_S = 8.0
VOICE_ROOM_PARTIES = 50  # a voice app's named <Conference> room (the bridges' own limit)


@dataclass(frozen=True)
class AppConfig:
    """What the app server needs from the settings. ``prompts``: auto (espeak-ng if installed, else
    tones), espeak, or tones. ``mail_from``: sender of voicemail e-mail (default
    ``voicemail@<domain of CENTREX_SMTP_FROM>``)."""

    data_dir: Path
    media_dir: Path | None = None  # voicemail audio (store/media_files.py); None: the data dir
    smtp: SmtpConfig | None = None
    mail_from: str = ""
    prompts: str = "auto"
    voicemail: VoicemailSettings = field(default_factory=VoicemailSettings)
    sip_tos: int = SIGNALLING_TOS  # its SIP socket's marking, as the switch's (config.py sip_dscp)
    cpaas_public_url: str = "http://127.0.0.1:8080"  # base of RecordingUrl (config.py cpaas_public_url)

    @classmethod
    def from_settings(cls, settings: Settings, **changes: object) -> AppConfig:
        smtp = SmtpConfig.from_settings(settings)
        domain = settings.smtp_from.rpartition("@")[2] or "localhost"
        values: dict[str, object] = {
            "data_dir": settings.data_dir,
            "media_dir": settings.media_root,
            "smtp": smtp,
            "mail_from": f"voicemail@{domain}",
            "sip_tos": signalling_tos(settings.sip_dscp),
            "cpaas_public_url": settings.cpaas_public_url or f"http://127.0.0.1:{settings.http_port}",
        }
        values.update(changes)
        return cls(**values)  # type: ignore[arg-type]


@dataclass
class _Call:
    """One answered (or being answered) INVITE."""

    key: tuple[str, str]  # Call-ID, our tag
    invite: Request
    source: tuple[str, int]
    dialog: Dialog | None = None
    media: CallMedia | None = None
    task: asyncio.Task[None] | None = None
    cancelled: bool = False
    ended_by_peer: bool = False
    answer: SessionDescription | None = None
    sdp_version: int = 0
    abandoned: Callable[[], Awaitable[None]] | None = None  # a voice app's call cancelled before answer


class AppServer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: AppConfig | Settings,
        ports: PortAllocator,
        *,
        mwi: Mwi | None = None,
        allowed_sources: Collection[str] = ("127.0.0.1", "::1"),
    ) -> None:
        self.config = config if isinstance(config, AppConfig) else AppConfig.from_settings(config)
        self.ports = ports
        self.allowed_sources = frozenset(str(ipaddress.ip_address(a)) for a in allowed_sources)
        self.store = VoicemailStore(sessions, self.config.media_dir or self.config.data_dir)
        self.prompts = PromptLibrary(self.config.data_dir, self.config.prompts)
        self.mailer = VoicemailMailer(self.config.smtp, self.config.mail_from)
        self.voicemail = VoicemailApp(self.store, self.prompts, self.mailer, self.config.voicemail, mwi)
        self.attendant = AttendantApp(AttendantStore(sessions), self.prompts)
        self.conference = ConferenceApp(sessions, self.prompts)
        self.voice = VoiceApps(
            sessions,
            self.config.media_dir or self.config.data_dir,
            public_url=self.config.cpaas_public_url,
            tts=self.config.prompts,
            conference=self._voice_conference,
        )
        # <Dial> of voice apps: the cpaas-calls part's bridge; None: one extension by REFER.
        self.voice_dialer: Callable[[_Call, DialRequest], Awaitable[DialResult]] | None = None
        self._answers: dict[TransactionKey, asyncio.Future[int]] = {}  # our REFERs: final status
        self.prompt_mode = ""
        self.transport: SipTransport | None = None
        self._calls: dict[tuple[str, str], _Call] = {}
        self._pending: dict[tuple[str, str, int], _Call] = {}  # INVITEs not answered yet
        self._tasks: set[asyncio.Task[None]] = set()  # answering INVITEs
        self._running: set[asyncio.Task[None]] = set()  # apps, until they have stored what they must
        self._host = "127.0.0.1"
        self._loop: asyncio.AbstractEventLoop | None = None
        self.outbound = OutboundCalls(self)  # calls it places through the switch (CPaaS)

    # -- life -------------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._loop = asyncio.get_running_loop()
        self.prompt_mode = await asyncio.to_thread(self.prompts.prepare)
        self._host = host
        self.transport = await UdpTransport.start(host, port, self._on_event, tos=self.config.sip_tos)
        log.info("app server on %s:%d (prompts: %s)", *self.address, self.prompt_mode)

    @property
    def address(self) -> tuple[str, int]:
        if self.transport is None:
            raise RuntimeError("the app server is not started")
        return self.transport.local_address

    @property
    def active_calls(self) -> int:
        """Calls in progress, counting apps still storing after the caller hung up."""
        return len(self._calls) + len(self._running) + len(self._pending)

    def counts_changed(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Messages changed elsewhere (the API, ``app.state.voicemail_counts_changed``): call the MWI
        callback with the new counts. Safe from any thread; does nothing before ``start``."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(
            lambda: self.voicemail.spawn(self.voicemail.refresh_counts(tenant_id, user_id))
        )

    async def stop(self) -> None:
        """Hang up every call (BYE), wait for the apps to finish storing, close the socket."""
        for call in list(self._calls.values()):
            self._hangup(call)
        tasks = list(self._running) + list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        for task in tasks:
            task.cancel()
        await self.voicemail.drain(5.0)
        await self.voice.close()
        await asyncio.sleep(0.05)  # let the BYEs leave
        if self.transport is not None:
            await self.transport.close()
            self.transport = None

    # -- SIP events -------------------------------------------------------------------------------
    def _on_event(self, event: Event, transport: SipTransport) -> None:
        if isinstance(event, (ResponseReceived, TransactionTimedOut)) and self.outbound.on_event(event):
            return  # our own INVITEs (apps/outbound.py)
        if isinstance(event, RequestReceived):
            self._on_request(event.request, event.addr, transport)
        elif isinstance(event, TransactionTimedOut) and event.timer == "L":
            # Our 200 was never acknowledged (RFC 3261 §13.3.1.4): end the session with BYE.
            for call in list(self._calls.values()):
                if call.invite.top_via.branch == event.key.branch:
                    self._hangup(call)
        elif isinstance(event, ResponseReceived) and event.response.status >= 200:
            waiting = self._answers.pop(event.key, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(event.response.status)
        elif isinstance(event, TransactionTimedOut) and event.key in self._answers:
            waiting = self._answers.pop(event.key)
            if not waiting.done():
                waiting.set_result(408)
        elif isinstance(event, CancelReceived):
            # The endpoint already answered 200 and 487; the lookup in _answer must not answer too.
            for call in self._pending.values():
                if call.invite.top_via.branch == event.invite_key.branch:
                    call.cancelled = True

    def _reply(self, request: Request, status: int, reason: str | None = None, **kw: object) -> None:
        assert self.transport is not None
        self.transport.send_response(make_response(request, status, reason, to_tag=new_tag(), **kw))  # type: ignore[arg-type]

    def _on_request(self, request: Request, addr: tuple[str, int], transport: SipTransport) -> None:
        if host_of(addr[0]) not in self.allowed_sources:
            if request.method != "ACK":
                self._reply(request, 403, "Forbidden (not an allowed source)")
            return
        try:
            to_tag = request.to.tag
            call_id = request.call_id
        except SipParseError:
            if request.method != "ACK":
                self._reply(request, 400)
            return
        if to_tag:
            self._in_dialog(request, self._calls.get((call_id, to_tag)))
            return
        if request.method == "INVITE":
            self._new_invite(request, addr)
        elif request.method == "OPTIONS":
            self._reply(request, 200, extra=[("Allow", ALLOW), ("Accept", "application/sdp")])
        elif request.method == "ACK":
            return
        else:
            self._reply(request, 405, extra=[("Allow", ALLOW)])

    def _in_dialog(self, request: Request, call: _Call | None) -> None:
        method = request.method
        if call is None or call.dialog is None:
            if method != "ACK":
                self._reply(request, 481)
            return
        if method != "ACK" and not call.dialog.receive_request(request):
            self._reply(request, 500, "Server Internal Error (CSeq out of order)")
            return
        if method == "ACK":
            return
        if method == "BYE":
            call.ended_by_peer = True
            self._respond_in_dialog(call, request, 200)
            self._end(call)
        elif method == "INVITE":
            self._reinvite(call, request)
        elif method == "INFO":
            digit = info_digit(request)
            if digit is not None and call.media is not None:
                call.media.push_digit(digit)
            self._respond_in_dialog(call, request, 200)
        elif method == "OPTIONS":
            self._respond_in_dialog(call, request, 200, extra=[("Allow", ALLOW)])
        elif method == "NOTIFY":
            self._respond_in_dialog(call, request, 200)  # progress of our REFER (sipfrag)
        else:
            self._respond_in_dialog(call, request, 501)

    def _respond_in_dialog(self, call: _Call, request: Request, status: int, **kw: object) -> None:
        assert self.transport is not None and call.dialog is not None
        response = make_response(request, status, to_tag=call.dialog.local_tag, **kw)  # type: ignore[arg-type]
        self.transport.send_response(response)

    def _reinvite(self, call: _Call, request: Request) -> None:
        try:
            offer = parse_sdp(request.body) if request.body else None
        except SipParseError:
            self._respond_in_dialog(call, request, 488)
            return
        if offer is not None and call.media is not None:
            call.media.set_remote(remote_of(offer))
        call.sdp_version += 1
        answer = call.answer
        if answer is not None and offer is not None and call.media is not None:
            try:
                answer = negotiate_answer(
                    offer,
                    self._host,
                    call.media.port,
                    codecs_for(call.media.fmt),
                    session_id=call.key[1],
                    session_version=call.sdp_version,
                )
            except SipParseError:
                self._respond_in_dialog(call, request, 488)
                return
            call.answer = answer
        body = answer.to_bytes() if answer is not None else b""
        self._respond_in_dialog(
            call,
            request,
            200,
            body=body,
            content_type="application/sdp" if body else None,
            extra=[("Contact", self._contact()), ("Allow", ALLOW)],
        )

    # -- new calls --------------------------------------------------------------------------------
    def _new_invite(self, request: Request, addr: tuple[str, int]) -> None:
        pending_key = (request.call_id, request.from_.tag or "", request.cseq.seq)
        if pending_key in self._pending:
            return  # a retransmission while we look things up: the transaction sent 100 already
        call = _Call((request.call_id, new_tag()), request, addr)
        self._pending[pending_key] = call
        task = asyncio.ensure_future(self._answer(call, pending_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, call: _Call, pending_key: tuple[str, str, int]) -> None:
        request = call.invite
        try:
            outcome = await self._prepare(call)
            if isinstance(outcome, tuple):
                status, reason = outcome
                if not call.cancelled:
                    self._reply(request, status, reason)
                return
            app = outcome
            if call.cancelled or call.media is None:
                if call.media is not None:
                    call.media.close()
                if call.abandoned is not None:
                    await call.abandoned()
                return
            self._send_200(call)
            self._calls[call.key] = call
        except Exception:
            log.exception("app server: INVITE from %s failed", call.source)
            if not call.cancelled:
                self._reply(request, 500)
            if call.media is not None:
                call.media.close()
            return
        finally:
            self._pending.pop(pending_key, None)
        call.task = asyncio.ensure_future(self._run(call, app))
        self._running.add(call.task)
        call.task.add_done_callback(self._running.discard)

    async def _prepare(self, call: _Call) -> tuple[int, str] | Callable[[CallMedia], object]:
        """Check the INVITE, find the mailbox, open the RTP endpoint: the app to run, or a refusal."""
        request = call.invite
        uri = request.uri
        user = uri.user if isinstance(uri, SipUri) else None
        deposit = _DEPOSIT.match(user or "")
        attendant = _ATTENDANT.match(user or "")
        conference = is_conference(user)
        voice_app = application_of(user)
        if (
            user not in ("vm-main", "vm-login")
            and deposit is None
            and attendant is None
            and not conference
            and voice_app is None
        ):
            return 404, "Not Found (no such app)"
        try:
            caller = caller_info(request)
        except ValueError as exc:
            return 400, f"Bad Request ({exc})"
        if request.content_type != "application/sdp" or not request.body:
            return 488, "Not Acceptable Here (an SDP offer is required)"
        try:
            offer = parse_sdp(request.body)
        except SipParseError as exc:
            return 400, f"Bad Request (SDP: {exc.reason[:80]})"
        box: MailboxInfo | None = None
        reason = "unavailable"
        if deposit is not None:
            try:
                owner = uuid.UUID(deposit.group(1))
            except ValueError:
                return 404, "Not Found (no such mailbox)"
            box = await asyncio.to_thread(self.store.mailbox, caller.tenant_id, owner)
            if box is None or not box.enabled:
                return 404, "Not Found (no such mailbox)"
            header = (request.headers.get("X-Centrex-Reason") or "unavailable").strip().lower()
            reason = header if header in REASONS else "unavailable"
        elif conference:
            if not await self.conference.exists(caller.tenant_id, user):
                return 404, "Not Found (no such conference)"
        elif attendant is not None:
            try:
                menu_id = uuid.UUID(attendant.group(1))
            except ValueError:
                return 404, "Not Found (no such attendant)"
            if not await asyncio.to_thread(self.attendant.store.exists, caller.tenant_id, menu_id):
                return 404, "Not Found (no such attendant)"
        elif voice_app is not None:
            if not await self.voice.exists(caller.tenant_id, voice_app):
                return 404, "Not Found (no such application)"
        elif user == "vm-main":
            if caller.caller_user is None:
                return 400, "Bad Request (X-Centrex-Caller-User is required for vm-main)"
            box = await asyncio.to_thread(self.store.mailbox, caller.tenant_id, caller.caller_user)
            if box is None or not box.enabled:
                return 404, "Not Found (no such mailbox)"
        # Offer/answer: our port first (any port: negotiate only looks at the offer's formats).
        probe = negotiate_answer(offer, self._host, 9, (PCMU, PCMA, TELEPHONE_EVENT))
        fmt = format_of(probe)
        if fmt is None:
            return 488, "Not Acceptable Here (PCMU or PCMA required)"
        media = CallMedia(
            self.ports,
            self._host,
            fmt,
            remote_of(offer),
            trusted_hosts=self.allowed_sources,
        )
        try:
            await media.start()
        except (PortsExhausted, MediaError, OSError):
            log.warning("app server: no RTP port for a call from %s", call.source, exc_info=True)
            return 503, "Service Unavailable (no media ports)"
        ready: Prepared | None = None
        if voice_app is not None:
            # The first document before answer: a first <Reject> refuses the INVITE (486/603).
            dialled = clean(request.headers.get("X-Centrex-Dialled")) or caller.caller
            prepared = await self.voice.prepare(
                caller.tenant_id,
                voice_app,
                caller.caller,
                dialled,
                caller.caller_name or None,
                str(caller.call_id) if caller.call_id else None,
            )
            if isinstance(prepared, tuple):
                media.close()
                return prepared
            ready = prepared
            call.abandoned = functools.partial(self.voice.abandoned, prepared)
        call.media = media
        call.answer = negotiate_answer(
            offer, self._host, media.port, codecs_for(fmt), session_id=call.key[1], session_version=0
        )
        if ready is not None:
            voice = ready
            return lambda m: self.voice.run(voice, m, self._voice_control(call, voice.interpreter.notice))
        if conference:
            assert user is not None
            room_user = user
            return lambda m: self.conference.run(m, caller, room_user)
        if attendant is not None:
            return lambda m: self.attendant.run(m, caller, menu_id, lambda to: self.refer(call, to))
        if deposit is not None:
            assert box is not None
            deposit_box = box
            return lambda m: self.voicemail.deposit(m, deposit_box, caller, reason)
        own = box
        return lambda m: self.voicemail.retrieve(m, caller, own)

    def _voice_control(self, call: _Call, notice: Callable[..., Awaitable[None]]) -> AppCallControl:
        dialer = self.voice_dialer
        return AppCallControl(
            lambda: self._hangup(call),
            lambda target: self.refer(call, target),
            (lambda request: dialer(call, request)) if dialer is not None else None,
            notice,
            call.media.closed if call.media is not None else None,
        )

    async def _voice_conference(self, media: CallMedia, call: VoiceCall, name: str) -> None:
        """<Dial><Conference>name</Conference></Dial>: the app server's room of that name."""
        tenant = call.tenant_id
        assert isinstance(tenant, uuid.UUID)
        caller = CallerInfo(tenant, None, call.from_number[:64], call.caller_name or "", None)
        await self.conference.run_named(media, caller, voice_room(tenant, name), name, VOICE_ROOM_PARTIES)

    def _send_200(self, call: _Call) -> None:
        assert self.transport is not None and call.answer is not None
        response = make_response(
            call.invite,
            200,
            to_tag=call.key[1],
            body=call.answer.to_bytes(),
            content_type="application/sdp",
            extra=[("Contact", self._contact()), ("Allow", ALLOW)],
        )
        call.dialog = Dialog.from_uas(call.invite, response, parse_name_addr(self._contact()))
        self.transport.send_response(response)

    @property
    def host(self) -> str:
        return self._host

    def contact(self) -> str:
        return self._contact()

    def adopt(self, invite: Request, source: tuple[str, int], dialog: Dialog, media: CallMedia) -> _Call:
        """A call we placed was answered (apps/outbound.py): in-dialog requests find it from now on."""
        call = _Call((invite.call_id, dialog.local_tag), invite, source, dialog=dialog, media=media)
        self._calls[call.key] = call
        return call

    def end_call(self, call: _Call) -> None:
        """Hang up a call (BYE unless already ended) and release its media."""
        self._hangup(call)
        self._end(call)

    def _contact(self) -> str:
        host, port = self.address
        return f"<sip:apps@{host}:{port}>" if ":" not in host else f"<sip:apps@[{host}]:{port}>"

    async def _run(self, call: _Call, app: Callable[[CallMedia], object]) -> None:
        assert call.media is not None
        try:
            await app(call.media)  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("app server: app failed on call %s", call.key[0])
        finally:
            if not call.ended_by_peer:
                self._hangup(call)
            self._end(call)

    async def refer(self, call: _Call, target: str, timeout_s: float = REFER_TIMEOUT_S) -> int:
        """Hand the caller back to the switch: an in-dialog REFER to ``target`` (an extension or an
        app user part). Returns the final status (202: the switch took it and will BYE us)."""
        dialog = call.dialog
        if dialog is None or dialog.state is DialogState.TERMINATED or self.transport is None:
            return 481
        host, port = call.source
        refer = dialog.create_request(
            "REFER",
            extra=[
                ("Refer-To", f"<sip:{target}@{host}:{port}>"),
                ("Referred-By", self._contact()),
            ],
        )
        waiting: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        key = self.transport.send_request(refer, self._target_of(call))
        self._answers[key] = waiting
        try:
            return await asyncio.wait_for(waiting, timeout_s)
        except TimeoutError:
            return 408
        finally:
            self._answers.pop(key, None)

    def _target_of(self, call: _Call) -> tuple[str, int]:
        """Where in-dialog requests go: the remote target's address, else where the INVITE came from."""
        assert call.dialog is not None
        target = call.dialog.remote_target
        if isinstance(target, SipUri):
            with contextlib.suppress(ValueError):
                return (str(ipaddress.ip_address(target.host.strip("[]"))), target.port or 5060)
        return call.source

    # -- ending -----------------------------------------------------------------------------------
    def _hangup(self, call: _Call) -> None:
        """We end the call: BYE to the engine (once)."""
        dialog = call.dialog
        if dialog is None or dialog.state is DialogState.TERMINATED or self.transport is None:
            return
        bye = dialog.create_request("BYE")
        dialog.state = DialogState.TERMINATED
        target = bye.uri
        addr = call.source
        if isinstance(target, SipUri):
            with contextlib.suppress(ValueError):
                addr = (str(ipaddress.ip_address(target.host.strip("[]"))), target.port or 5060)
        self.transport.send_request(bye, addr)
        if call.media is not None:
            call.media.close()

    def _end(self, call: _Call) -> None:
        if call.media is not None:
            call.media.close()
        if call.dialog is not None:
            call.dialog.state = DialogState.TERMINATED
        self._calls.pop(call.key, None)
