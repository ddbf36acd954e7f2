"""The app server: an internal SIP user agent that answers the calls the engine routes to PBX apps.

It listens on its own UDP port (127.0.0.1 by default) in the same process as the switch, like a
media server beside Kamailio. The call engine sends it a B-leg INVITE whose Request-URI user names
the app — voicemail, an auto attendant, a conference room or a voice app (apps/app_choice.py: which
user part runs which app, the X-Centrex-* headers it reads, the refusals). Nothing but those headers
is believed, and only from ``allowed_sources`` (anyone else: 403).

The app answers the caller's SDP offer with its own RTP endpoint (the offered G.711 codec and
telephone-event when offered), runs, and sends BYE when done; a BYE from the engine ends it (a
message being recorded is kept). In-dialog re-INVITEs are answered with the same session (new
remote address, hold honoured); SIP INFO with application/dtmf-relay or application/dtmf carries
digits too; OPTIONS is answered 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection

from sqlalchemy.orm import Session, sessionmaker

from centrex.apps.app_call import AppCall
from centrex.apps.app_choice import App, choose_app
from centrex.apps.app_config import AppConfig
from centrex.apps.attendant import AttendantApp, AttendantStore
from centrex.apps.conference import ConferenceApp
from centrex.apps.media import CallMedia
from centrex.apps.outbound import OutboundCalls
from centrex.apps.prompts import PromptLibrary
from centrex.apps.sip_offer import codecs_for, host_of, info_digit, remote_of
from centrex.apps.vm_mail import VoicemailMailer
from centrex.apps.vm_store import VoicemailStore
from centrex.apps.voicemail import CallerInfo, VoicemailApp
from centrex.config import Settings
from centrex.cpaas.voice.control import DialRequest, DialResult, VoiceCall
from centrex.cpaas.voice.service import VoiceApps
from centrex.cpaas.voice.service import room_id as voice_room
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
from centrex.sip.sdp import negotiate_answer, parse_sdp
from centrex.transport.base import SipTransport
from centrex.transport.udp import UdpTransport

log = logging.getLogger(__name__)

Mwi = Callable[[uuid.UUID, uuid.UUID, int, int], None]
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"
REFER_TIMEOUT_S = 8.0
VOICE_ROOM_PARTIES = 50  # a voice app's named <Conference> room (the bridges' own limit)


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
        self.voice_dialer: Callable[[AppCall, DialRequest], Awaitable[DialResult]] | None = None
        self._answers: dict[TransactionKey, asyncio.Future[int]] = {}  # our REFERs: final status
        self.prompt_mode = ""
        self.transport: SipTransport | None = None
        self._calls: dict[tuple[str, str], AppCall] = {}
        self._pending: dict[tuple[str, str, int], AppCall] = {}  # INVITEs not answered yet
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
            self.hangup(call)
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
                    self.hangup(call)
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

    def _in_dialog(self, request: Request, call: AppCall | None) -> None:
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

    def _respond_in_dialog(self, call: AppCall, request: Request, status: int, **kw: object) -> None:
        assert self.transport is not None and call.dialog is not None
        response = make_response(request, status, to_tag=call.dialog.local_tag, **kw)  # type: ignore[arg-type]
        self.transport.send_response(response)

    def _reinvite(self, call: AppCall, request: Request) -> None:
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
        call = AppCall((request.call_id, new_tag()), request, addr)
        self._pending[pending_key] = call
        task = asyncio.ensure_future(self._answer(call, pending_key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, call: AppCall, pending_key: tuple[str, str, int]) -> None:
        request = call.invite
        try:
            outcome = await choose_app(self, call)
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

    async def _voice_conference(self, media: CallMedia, call: VoiceCall, name: str) -> None:
        """<Dial><Conference>name</Conference></Dial>: the app server's room of that name."""
        tenant = call.tenant_id
        assert isinstance(tenant, uuid.UUID)
        caller = CallerInfo(tenant, None, call.from_number[:64], call.caller_name or "", None)
        await self.conference.run_named(media, caller, voice_room(tenant, name), name, VOICE_ROOM_PARTIES)

    def _send_200(self, call: AppCall) -> None:
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

    def adopt(self, invite: Request, source: tuple[str, int], dialog: Dialog, media: CallMedia) -> AppCall:
        """A call we placed was answered (apps/outbound.py): in-dialog requests find it from now on."""
        call = AppCall((invite.call_id, dialog.local_tag), invite, source, dialog=dialog, media=media)
        self._calls[call.key] = call
        return call

    def end_call(self, call: AppCall) -> None:
        """Hang up a call (BYE unless already ended) and release its media."""
        self.hangup(call)
        self._end(call)

    def _contact(self) -> str:
        host, port = self.address
        return f"<sip:apps@{host}:{port}>" if ":" not in host else f"<sip:apps@[{host}]:{port}>"

    async def _run(self, call: AppCall, app: App) -> None:
        assert call.media is not None
        try:
            await app(call.media)  # type: ignore[misc]
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("app server: app failed on call %s", call.key[0])
        finally:
            if not call.ended_by_peer:
                self.hangup(call)
            self._end(call)

    async def refer(self, call: AppCall, target: str, timeout_s: float = REFER_TIMEOUT_S) -> int:
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

    def _target_of(self, call: AppCall) -> tuple[str, int]:
        """Where in-dialog requests go: the remote target's address, else where the INVITE came from."""
        assert call.dialog is not None
        target = call.dialog.remote_target
        if isinstance(target, SipUri):
            with contextlib.suppress(ValueError):
                return (str(ipaddress.ip_address(target.host.strip("[]"))), target.port or 5060)
        return call.source

    # -- ending -----------------------------------------------------------------------------------
    def hangup(self, call: AppCall) -> None:
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

    def _end(self, call: AppCall) -> None:
        if call.media is not None:
            call.media.close()
        if call.dialog is not None:
            call.dialog.state = DialogState.TERMINATED
        self._calls.pop(call.key, None)
