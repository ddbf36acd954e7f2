"""The call core: a B2BUA driven by SIP events, sending through a ``Network`` port.

No sockets and no clock: ``handle(event, transport, now)`` and ``handle_timer(now)`` are the
inputs. A call is two sides (research/sip-core.md §1.1, sippy's event-isolated two-leg design):
the A-leg, a UAS dialog with the caller, and B-legs, UAC dialogs with each registered contact of
the callee (parallel forking). The first 2xx wins; the others are cancelled. Each B-leg is a new
dialog with its own Call-ID, and its From is the caller's identity from the user record.

The core knows legs, dialogs, media anchoring (calls/media_path.py) and the call events CDRs are
made of. Everything a tenant or a developer configures — forwarding and voicemail, hunt groups,
queues, park, pickup, transfer, MWI, apps, trunks, 911 — is a service (calls/services.py) in
pbx/, routing/ or e911/, registered in one list (centrex/switchboard.py). The core asks them in
order; where a call goes is a ``Destination`` value delivered to the service of its kind.

Routing never leaves the caller's tenant: the dialled extension is looked up in the tenant the
caller authenticated in. The caller's restriction class and the tenant's standing are applied
here; an emergency call is never refused for a restriction or a suspension (e911/policy.py).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from centrex.calls.activity import Activity
from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.cdr_event import call_ended
from centrex.calls.codecs import common_g711, first_g711_pt, only_codec
from centrex.calls.dialog_record import DialogRecord
from centrex.calls.directory import DeviceInfo, Directory, TenantInfo, UserInfo
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.in_dialog import ALLOW, in_dialog, relay_response
from centrex.calls.location import Binding, LocationService
from centrex.calls.media_path import MediaPath
from centrex.calls.model import BLeg, Call, CallState, LegState, Relay
from centrex.calls.origination import admit, new_phone_call, route_new
from centrex.calls.ports import MediaAnchor, Network, NomadicHold
from centrex.calls.services import HOOKS, CallService, Destination
from centrex.calls.session_timers import SessionTimers
from centrex.routing.model import Target
from centrex.sip.dialog import Dialog
from centrex.sip.errors import SipParseError
from centrex.sip.events import (
    Address,
    CancelReceived,
    Event,
    RequestReceived,
    ResponseReceived,
    TransactionKey,
    TransactionTimedOut,
    TransportError,
)
from centrex.sip.headers import Headers, quote
from centrex.sip.message import Request, Response, make_response, new_call_id, new_tag
from centrex.sip.reliable import ReliableReceiver, build_prack, is_reliable
from centrex.sip.sdp import TELEPHONE_EVENT, negotiate_answer, parse_sdp
from centrex.sip.session_timer import TimerPolicy
from centrex.sip.uri import parse_uri

log = logging.getLogger(__name__)

_E = TypeVar("_E")
_S = TypeVar("_S", bound=CallService)

# Timers that outlive a call's ringing: cleared only when the call ends.
LIFETIME_TIMERS = ("max_duration", "session_a", "session_b")


class CallEngine:
    def __init__(
        self,
        directory: Directory,
        auth: PhoneAuthenticator,
        location: LocationService,
        network: Network,
        *,
        wall_clock: Callable[[], datetime] | None = None,
        on_call_ended: Callable[[CallEnded], None] | None = None,
        on_call_started: Callable[[CallStarted], None] | None = None,
        on_call_answered: Callable[[CallAnswered], None] | None = None,
        on_call_dialogs: Callable[[CallDialogs], None] | None = None,
        max_ring_s: float = 120.0,
        max_forward_hops: int = 5,
        nomadic: NomadicHold | None = None,
        media: MediaAnchor | None = None,
        services: Sequence[CallService] = (),
        session_policy: TimerPolicy | None = None,
    ) -> None:
        self.directory = directory
        self.auth = auth
        self.location = location
        self.network = network
        self.wall = wall_clock or (lambda: datetime.now(UTC))
        self.on_call_ended = on_call_ended
        self.on_call_started = on_call_started
        self.on_call_answered = on_call_answered
        self.on_call_dialogs = on_call_dialogs
        self.max_ring_s = max_ring_s
        self.max_forward_hops = max_forward_hops
        self.calls: dict[uuid.UUID, Call] = {}
        self._by_a_key: dict[TransactionKey, Call] = {}
        self.by_a_dialog: dict[tuple[str, str], Call] = {}
        self._legs_by_key: dict[TransactionKey, BLeg] = {}
        self.legs_by_callid: dict[str, BLeg] = {}
        self.relays: dict[TransactionKey, Relay] = {}
        self._heap: list[tuple[float, int, uuid.UUID, str]] = []
        self._seq = itertools.count()
        self.nomadic = nomadic
        self.media = media
        self.media_path = MediaPath(self)
        self.session_timers = SessionTimers(self, session_policy)
        self.activity = Activity()
        # More observers of every call event (CallStarted, CallAnswered, CallEnded), after the
        # durable records: call recording, statistics. A failing one never breaks signalling.
        self.listeners: list[Callable[[object], None]] = []
        # Whether a call between these users of the tenant could be recorded (by policy or the
        # on-demand code: RecordingListener.may_record). Such calls keep the relay even where the
        # tenant allows direct media. None: nothing records in this process.
        self.may_record: Callable[[uuid.UUID, tuple[uuid.UUID, ...]], bool] | None = None
        self.services: list[CallService] = []
        self.hooks: dict[str, list[Callable[..., Any]]] = {}
        for service in services:
            self.register(service)

    def register(self, service: CallService) -> None:
        service.attach(self)
        self.services.append(service)
        # Each hook is asked only of the services that implement it: a call event costs a few
        # method calls, not one per registered service.
        for name in HOOKS:
            if getattr(type(service), name) is not getattr(CallService, name):
                self.hooks.setdefault(name, []).append(getattr(service, name))

    def asking(self, hook: str) -> list[Callable[..., Any]]:
        """The services' implementations of ``hook``, in registration order."""
        return self.hooks.get(hook, [])

    def service(self, kind: type[_S]) -> _S:
        """The registered service of this class (tests and the assembly set its ports)."""
        for s in self.services:
            if isinstance(s, kind):
                return s
        raise LookupError(f"no {kind.__name__} service registered")

    # -- inputs ----------------------------------------------------------------------------
    def handle(self, event: Event, transport: str, now: float) -> None:
        if isinstance(event, RequestReceived):
            try:
                self._request(event, transport, now)
            except SipParseError as exc:
                if event.key is not None:
                    self.reply(transport, event.request, 400, f"Bad Request ({exc.reason[:80]})")
        elif isinstance(event, ResponseReceived):
            self._response(event.key, event.response, now)
        elif isinstance(event, CancelReceived):
            self._cancelled(event.invite_key, now)
        elif isinstance(event, TransactionTimedOut | TransportError):
            self._timed_out(event.key, event, now)

    def next_timer(self) -> float | None:
        first: float | None = None
        for next_timer in self.asking("next_timer"):
            at = next_timer()
            if at is not None and (first is None or at < first):
                first = at
        while self._heap:
            deadline, _, call_id, name = self._heap[0]
            call = self.calls.get(call_id)
            if call is not None and call.timers.get(name) == deadline:
                return deadline if first is None else min(deadline, first)
            heapq.heappop(self._heap)
        return first

    def handle_timer(self, now: float) -> None:
        for tick in self.asking("tick"):
            tick(now)
        while self._heap and self._heap[0][0] <= now:
            deadline, _, call_id, name = heapq.heappop(self._heap)
            call = self.calls.get(call_id)
            if call is None or call.timers.get(name) != deadline:
                continue
            del call.timers[name]
            if name == "ring":
                if call.state is CallState.RINGING:
                    self.cancel_legs(call)
                    self.reject(call, 480, now, "no_answer", "no_answer")
                continue
            if self.session_timers.timer(call, name, now):
                continue
            if name == "max_duration":
                log.warning("sip.call.max_duration call=%s tenant=%s", call.id, call.tenant.id)
                self.hang_up(call, now, "max_duration", 200)
                continue
            for timer in self.asking("timer"):
                if timer(call, name, now):
                    break

    @property
    def active_calls(self) -> int:
        return len(self.calls)

    # -- helpers for services --------------------------------------------------------------
    def arm(self, call: Call, name: str, at: float) -> None:
        call.timers[name] = at
        heapq.heappush(self._heap, (at, next(self._seq), call.id, name))

    def reply(
        self,
        transport: str,
        request: Request,
        status: int,
        reason: str | None = None,
        *,
        to_tag: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        self.network.send_response(
            transport, make_response(request, status, reason, to_tag=to_tag or new_tag(), extra=extra)
        )

    def send(self, transport: str, request: Request, addr: Address) -> TransactionKey:
        return self.network.send_request(transport, request, addr)

    def deliver(self, call: Call, destination: Destination, now: float) -> None:
        """Hand the call to the service that takes this kind of destination."""
        for deliver in self.asking("deliver"):
            if deliver(call, destination, now):
                return
        log.warning("sip.call.undeliverable call=%s kind=%s", call.id, destination.kind)
        self.reject(call, 404, now, "failed", f"no_{destination.kind}_service")

    def route_to_user(self, call: Call, user: UserInfo, now: float) -> None:
        self.deliver(call, Destination("user", user), now)

    def route_to_app(self, call: Call, app: str, now: float, *, reason: str | None = None) -> None:
        self.deliver(call, Destination("app", app, reason), now)

    def resolve(self, tenant_id: uuid.UUID, extension: str) -> Destination | None:
        """What an extension of the tenant rings: a user, else what a service says it is."""
        user = self.directory.user_by_extension(tenant_id, extension)
        if user is not None:
            return Destination("user", user)
        for resolve in self.asking("resolve"):
            found = resolve(tenant_id, extension)
            if found is not None:
                return found
        return None

    def ring_back(self, call: Call) -> None:
        """181 Call Is Being Forwarded to a caller still waiting for its answer."""
        self.network.send_response(call.a_transport, make_response(call.a_invite, 181, to_tag=call.a_tag))

    def authenticate(
        self, req: Request, addr: Address, transport: str, now: float
    ) -> tuple[TenantInfo, DeviceInfo] | None:
        """The phone's digest check; on failure its challenge or refusal is sent and None returned."""
        check = self.auth.check(req, addr, now)
        if not check.ok or check.tenant is None or check.device is None:
            assert check.response is not None
            self.network.send_response(transport, check.response)
            return None
        return check.tenant, check.device

    def answer_invite(self, call: Call, body: bytes, content_type: str | None, now: float) -> Dialog:
        """200 OK to the caller's INVITE with our Contact and its session timer; the UAS dialog."""
        ok = make_response(
            call.a_invite,
            200,
            to_tag=call.a_tag,
            body=body,
            content_type=content_type,
            extra=[
                ("Contact", self.network.contact(call.a_transport)),
                ("Allow", ALLOW),
                *self.session_timers.answer_headers(call),
            ],
        )
        self.network.send_response(call.a_transport, ok)
        self.session_timers.caller_answered(call, body, now)
        return Dialog.from_uas(call.a_invite, ok)

    def answer_locally(self, call: Call, now: float) -> int | None:
        """Answer the caller ourselves on the relay's a side, on one G.711 codec; the payload type,
        or None when the offer has no G.711 (then the caller got 488)."""
        assert call.anchor is not None
        try:
            offer = parse_sdp(call.a_invite.body)
        except (SipParseError, ValueError):
            offer = None
        codec = common_g711(offer, offer) if offer is not None else None
        if offer is None or codec is None:
            self.reject(call, 488, now, "failed", "no_g711", "Not Acceptable Here (PCMU or PCMA required)")
            return None
        answer = negotiate_answer(offer, *call.anchor[0], (codec, TELEPHONE_EVENT))
        call.a_dialog = self.answer_invite(call, str(answer).encode(), "application/sdp", now)
        call.answered_at, call.answered_mono = self.wall(), now
        call.a_codec = codec.payload_type
        if call.b_offer is not None and codec.payload_type is not None:
            call.b_offer = only_codec(call.b_offer, codec.payload_type)
        return codec.payload_type

    def keep_codec(self, call: Call) -> None:
        """After the caller was answered on one codec, whoever is rung next gets only that one."""
        if call.a_codec is not None and call.b_offer is not None:
            call.b_offer = only_codec(call.b_offer, call.a_codec)

    def new_call(
        self,
        req: Request,
        key: TransactionKey,
        addr: Address,
        transport: str,
        now: float,
        *,
        tenant: TenantInfo,
        device: DeviceInfo | None,
        caller: UserInfo | None,
        site_id: uuid.UUID | None,
        dialled: str,
        classification: object,
    ) -> Call:
        """A tracked call (anchored on the relay when it has an SDP offer)."""
        call = Call(
            uuid.uuid4(),
            tenant,
            device,
            caller,
            site_id,
            req,
            key,
            transport,
            addr,
            new_tag(),
            dialled,
            classification,  # type: ignore[arg-type]
            self.wall(),
            now,
        )
        self.calls[call.id] = call
        self._by_a_key[call.a_key] = call
        self.by_a_dialog[(call.a_invite.call_id, call.a_from_tag)] = call
        self.media_path.anchor(call)
        self.session_timers.started(call)
        return call

    def started(self, call: Call, from_: str) -> None:
        self.notify(
            self.on_call_started,
            CallStarted(
                call.id,
                call.tenant.id,
                call.site_id,
                call.caller.id if call.caller else None,
                call.device.id if call.device else None,
                from_,
                call.dialled,
                call.classification.call_class.value,
                call.started_at,
                call.direction,
            ),
        )

    def answered_event(self, call: Call, to: str, at: datetime | None = None) -> None:
        """The caller was answered (by a phone, a queue, a pickup): journalled with its dialogs,
        and the tenant's longest call timed from now."""
        self.notify(self.on_call_answered, CallAnswered(call.id, call.tenant.id, to, at or self.wall()))
        self.journal_dialogs(call)
        if call.answered_mono is not None and call.tenant.max_call_s > 0:
            self.arm(call, "max_duration", call.answered_mono + call.tenant.max_call_s)

    def journal_dialogs(self, call: Call) -> None:
        """Tell the journal the dialogs the call holds now, so a restart can still end them."""
        if self.on_call_dialogs is None or call.a_dialog is None:
            return
        records = [DialogRecord.of(call.a_dialog, call.a_transport, call.a_addr)]
        leg = call.answered
        if leg is not None and leg.dialog is not None:
            records.append(DialogRecord.of(leg.dialog, leg.transport, leg.addr))
        self.notify(self.on_call_dialogs, CallDialogs(call.id, call.tenant.id, tuple(records)))

    def hang_up(self, call: Call, now: float, cause: str, code: int) -> None:
        """The switch ends a call itself (media stopped, a session refresh failed, the tenant's
        longest call passed): BYE to every party it is answered with, the ringing ones cancelled."""
        if call.state is CallState.ENDED:
            return
        if call.a_dialog is None:
            self.cancel_legs(call)
            self.reject(call, 408 if code < 400 else code, now, "failed", cause)
            return
        self.send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
        leg = call.answered
        if leg is not None and leg.dialog is not None:
            self.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
        self.cancel_legs(call)
        self.end(call, now, "answered", cause, code)

    def hang_up_all(self, now: float, cause: str = "shutdown") -> int:
        """The switch is stopping (SIGTERM): every answered call gets BYE on both sides, every
        ringing one 503 and its legs cancelled; each gets its CDR. Returns how many."""
        calls = list(self.calls.values())
        for call in calls:
            if call.a_dialog is not None:
                self.hang_up(call, now, cause, 200)
            else:
                self.cancel_legs(call)
                self.reject(call, 503, now, "failed", cause, "Service Unavailable (switch stopping)")
        return len(calls)

    def media_stopped(self, call_id: str, now: float) -> None:
        """The relay heard nothing from either side for its no-media timeout: the phones are gone
        (a crash, a network cut) and nobody will send BYE, so the switch does."""
        try:
            call = self.calls.get(uuid.UUID(call_id))
        except ValueError:
            return
        if call is None or call.a_dialog is None:
            return  # still ringing: its ring timer ends it
        log.warning("sip.call.media_timeout call=%s", call.id)
        self.hang_up(call, now, "media_timeout", 408)

    def end_dialogs(self, records: Sequence[DialogRecord]) -> int:
        """BYE on dialogs a previous process left up (the journal's, after a crash)."""
        sent = 0
        for r in records:
            try:
                self.send(r.transport, r.bye(), (r.host, r.port))
                sent += 1
            except Exception:
                log.exception("sip.recovery.bye_failed call_id=%s", r.call_id)
        return sent

    def caller_id(self, call: Call) -> tuple[str, str]:
        """The caller's name and number as sent off the switch (the user's record, never the
        phone's From): the user's DID, else their extension; a call from a trunk keeps its caller."""
        if call.caller is not None:
            return call.caller.name, call.caller.number or call.caller.extension
        if call.remote_number:
            return call.remote_identity or call.remote_number, call.remote_number
        name = call.device.username if call.device else "anonymous"
        return name, name

    def move_caller(self, call: Call, dialog: Dialog, transport: str, addr: Address) -> None:
        """Another party takes the caller's place (a transfer): requests in ``dialog`` are the
        caller side's from now on."""
        self.by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
        self.legs_by_callid.pop(dialog.call_id, None)
        call.a_dialog, call.a_transport, call.a_addr = dialog, transport, addr
        call.a_tag = dialog.local_tag
        self.by_a_dialog[(dialog.call_id, dialog.remote_tag or "")] = call

    def forget_caller_dialog(self, call: Call) -> None:
        self.by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)

    def adopt_leg(self, call: Call, leg: BLeg) -> None:
        """A leg now answers for ``call`` (it came from another call: attended transfer)."""
        call.all_legs.append(leg)
        if leg.dialog is not None:
            self.legs_by_callid[leg.dialog.call_id] = leg

    # -- requests --------------------------------------------------------------------------
    def _request(self, event: RequestReceived, transport: str, now: float) -> None:
        req = event.request
        if req.method == "ACK":
            return  # ACK for our 2xx: B was ACKed when it answered; nothing to pass on
        if req.method == "INVITE" and not req.to.tag:
            assert event.key is not None
            new_phone_call(self, req, event.key, event.addr, transport, now)
            return
        for request in self.asking("request"):
            if request(event, transport, now):
                return
        if req.to.tag:
            in_dialog(self, req, transport, now)
        elif req.method == "SUBSCRIBE":
            events = ", ".join(e for s in self.services for e in s.events)
            self.reply(transport, req, 489, "Bad Event", extra=[("Allow-Events", events)] if events else None)
        elif req.method == "OPTIONS":
            self.reply(transport, req, 200, extra=[("Allow", ALLOW), ("Accept", "application/sdp")])
        elif req.method in ("BYE", "UPDATE", "INFO", "PRACK"):
            self.reply(transport, req, 481)
        else:
            self.reply(transport, req, 405, extra=[("Allow", ALLOW)])

    def admit(self, call: Call, now: float) -> bool:
        return admit(self, call, now)

    def route_new(self, call: Call, now: float) -> None:
        route_new(self, call, now)

    # -- legs ------------------------------------------------------------------------------
    def leg_headers(self, call: Call, to: str) -> Headers:
        headers = Headers()
        mf = call.a_invite.max_forwards
        headers.add("Max-Forwards", str(max(1, (mf if mf is not None else 70) - 1)))
        headers.add("To", to)
        headers.add("Call-ID", new_call_id())
        headers.add("CSeq", "1 INVITE")
        for name, value in self.session_timers.leg_headers():
            headers.add(name, value)
        return headers

    def start_leg(self, call: Call, user: UserInfo, binding: Binding, *, name_prefix: str = "") -> BLeg:
        """Ring one registered contact of a user, as the caller (the user record, not its From)."""
        domain = call.tenant.domain
        caller = call.caller
        if caller is not None:
            ext, name = caller.extension, caller.name
        elif call.remote_number:
            ext, name = call.remote_number, call.remote_identity or call.remote_number
        elif call.device is not None:
            ext = name = call.device.username
        else:
            ext = name = "anonymous"
        identity = f"{quote(name_prefix + name)} <sip:{ext}@{domain}>"
        headers = self.leg_headers(call, f"<sip:{user.extension}@{domain}>")
        headers.add("From", f"{identity};tag={new_tag()}")
        headers.add("P-Asserted-Identity", identity)
        return self.launch(
            call, binding.contact, headers, binding.transport, binding.source, user, binding, None
        )

    def launch(
        self,
        call: Call,
        uri: str,
        headers: Headers,
        transport: str,
        addr: Address,
        user: UserInfo | None,
        binding: Binding | None,
        target: Target | None,
        *,
        owner: CallService | None = None,
    ) -> BLeg:
        if call.direct and (user is None or call.group is not None or call.queue is not None):
            self.media_path.reanchor(call)  # an app, a trunk, a hunt group or a queue: back on the relay
        headers.add("Contact", self.network.contact(transport))
        headers.add("Allow", ALLOW)
        for name, value in call.extra_headers:
            headers.add(name, value)
        if call.extra_body is not None:
            content_type, body = call.extra_body
        else:
            content_type, body = call.a_invite.headers.get("Content-Type") or "", call.a_invite.body
            if call.b_offer is not None:
                body = call.b_offer
        if content_type:
            headers.add("Content-Type", content_type)
        invite = Request("INVITE", parse_uri(uri), headers, body)
        key = self.send(transport, invite, addr)
        leg = BLeg(call, user, binding, invite, key, self.wall(), target, owner=owner)
        call.legs.append(leg)
        call.all_legs.append(leg)
        self._legs_by_key[key] = leg
        self.legs_by_callid[invite.call_id] = leg
        return leg

    def resend(self, leg: BLeg, invite: Request) -> None:
        """The leg's INVITE again as a new transaction (with credentials after a challenge)."""
        self._legs_by_key.pop(leg.key, None)
        leg.invite = invite
        leg.key = self.send(leg.transport, invite, leg.addr)
        self._legs_by_key[leg.key] = leg

    # -- responses -------------------------------------------------------------------------
    def _response(self, key: TransactionKey, resp: Response, now: float) -> None:
        if self.session_timers.response(key, resp, now):
            return
        for response in self.asking("response"):
            if response(key, resp, now):
                return
        leg = self._legs_by_key.get(key)
        if leg is not None:
            self._leg_response(leg, resp, now)
            return
        relay = self.relays.get(key)
        if relay is not None and resp.is_final:
            del self.relays[key]
            relay_response(self, relay, resp, now)

    def _leg_response(self, leg: BLeg, resp: Response, now: float) -> None:
        call, status = leg.call, resp.status
        if leg.owner is not None and leg.owner.leg_response(leg, resp, now):
            return
        if status == 100:
            return
        if status < 200 and is_reliable(resp) and not self._prack(leg, resp):
            return  # a retransmitted reliable provisional: PRACKed again, not passed on
        if status == 422:
            invite = self.session_timers.retry_422(leg, resp)
            if invite is not None:
                self.resend(leg, invite)
                return
        if status < 200:
            if leg.state is LegState.CALLING:
                leg.state = LegState.RINGING
                for ringing in self.asking("leg_ringing"):
                    ringing(leg, resp, now)
            # Ringing is passed on only to a caller still waiting for its answer; a caller already
            # answered (queue, park recall, after an app) hears the relay meanwhile.
            if call.state is CallState.RINGING and leg in call.legs and call.a_dialog is None:
                if resp.body:
                    self.network.send_response(
                        call.a_transport,
                        make_response(
                            call.a_invite,
                            183,
                            to_tag=call.a_tag,
                            body=self.media_path.through(
                                call, "a", resp.body, resp.headers.get("Content-Type")
                            ),
                            content_type=resp.headers.get("Content-Type"),
                            extra=[("Contact", self.network.contact(call.a_transport))],
                        ),
                    )
                elif not call.ringing_sent:
                    call.ringing_sent = True
                    self.network.send_response(
                        call.a_transport,
                        make_response(
                            call.a_invite,
                            180,
                            to_tag=call.a_tag,
                            extra=[("Contact", self.network.contact(call.a_transport))],
                        ),
                    )
            return
        if status < 300:
            self._leg_answered(leg, resp, now)
            return
        self.leg_failed(leg, status, now)

    def _prack(self, leg: BLeg, resp: Response) -> bool:
        """RFC 3262 toward a carrier that sends its 18x reliably: PRACK each once, in order, in
        the early dialog; True when the provisional is new (to be passed on)."""
        receiver = leg.reliable = leg.reliable or ReliableReceiver()
        try:
            send, new = receiver.accept(resp)
            if leg.early is None or leg.early.remote_tag != (resp.to.tag or ""):
                leg.early = Dialog.from_uac(leg.invite, resp)
        except SipParseError:
            return True
        if send:
            self.send(leg.transport, build_prack(leg.early, resp), leg.addr)
        return new

    def _leg_answered(self, leg: BLeg, resp: Response, now: float) -> None:
        call, status = leg.call, resp.status
        if leg.dialog is not None:
            self.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)  # 2xx again
            return
        leg.dialog = Dialog.from_uac(leg.invite, resp)
        if leg.early is not None and leg.early.local_seq:
            # PRACKs used CSeq numbers of this dialog: our next request must go past them.
            leg.dialog.local_seq = max(leg.dialog.local_seq or 0, leg.early.local_seq)
        self.send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
        leg.answered_at = self.wall()
        if call.state is not CallState.RINGING or leg not in call.legs or leg.state is LegState.CANCELLING:
            # Answered too late (another device won, or the caller gave up): hang it up.
            self.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
            leg.state, leg.status, leg.ended_at = LegState.CANCELLING, status, self.wall()
            self.forget_leg(leg)
            return
        leg.state, leg.status = LegState.ANSWERED, status
        call.answered, call.state = leg, CallState.ANSWERED
        if leg.user is not None:
            self.activity.answered(leg.user.id)
        for name in [n for n in call.timers if n not in LIFETIME_TIMERS]:
            del call.timers[name]
        for other in call.legs:
            if other is not leg:
                self.cancel_leg(other)
        if call.a_dialog is not None:
            # A re-routed call: the caller was answered long ago (by an app, a queue, a park);
            # only the relay's b side learns where the new party is.
            if resp.body:
                with contextlib.suppress(SipParseError, ValueError):
                    self.media_path.learn(call, "b", parse_sdp(resp.body))
            self.session_timers.callee_answered(call, leg, resp, now)
            for answered in self.asking("answered"):
                answered(call, leg, now)
            self.journal_dialogs(call)
            log.info("sip.call.answer call=%s by=%s (re-routed)", call.id, leg.label)
            return
        call.answered_at, call.answered_mono = leg.answered_at, now
        body = self.media_path.through(call, "a", resp.body, resp.headers.get("Content-Type"))
        call.a_dialog = self.answer_invite(call, body, resp.headers.get("Content-Type"), now)
        call.a_codec = first_g711_pt(body)
        self.session_timers.callee_answered(call, leg, resp, now)
        log.info("sip.call.answer call=%s by=%s", call.id, leg.label)
        for answered in self.asking("answered"):
            answered(call, leg, now)
        self.answered_event(call, leg.label, leg.answered_at)

    def leg_failed(self, leg: BLeg, status: int, now: float) -> None:
        call = leg.call
        if leg.owner is not None and leg.owner.leg_failed(leg, status, now):
            return
        cancelled = leg.state is LegState.CANCELLING
        leg.status, leg.ended_at = status, self.wall()
        if not cancelled:
            leg.state = LegState.ENDED
        self.forget_leg(leg)
        if cancelled or call.state is not CallState.RINGING or leg not in call.legs:
            return
        if status in (486, 600, 603):
            call.busy_seen = True
        if any(other.state in (LegState.CALLING, LegState.RINGING) for other in call.legs):
            return
        for legs_failed in self.asking("legs_failed"):
            if legs_failed(call, leg, status, now):
                return
        self.reject(call, status if status >= 400 else 480, now, "failed", "unavailable")

    def _timed_out(
        self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float
    ) -> None:
        if self.session_timers.timed_out(key, now):
            return
        for timed_out in self.asking("timed_out"):
            if timed_out(key, event, now):
                return
        leg = self._legs_by_key.get(key)
        if leg is not None:
            self.leg_failed(leg, 408 if isinstance(event, TransactionTimedOut) else 503, now)
            return
        relay = self.relays.pop(key, None)
        if relay is not None:
            self.reply(relay.transport, relay.request, 408)
            return
        call = self._by_a_key.get(key)
        if call is not None and isinstance(event, TransactionTimedOut) and event.timer == "L":
            # The caller never ACKed our 200 (§13.3.1.4): end the session on both sides.
            if call.a_dialog is not None:
                self.send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
            if call.answered is not None and call.answered.dialog is not None:
                leg = call.answered
                assert leg.dialog is not None
                self.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
            self.end(call, now, "failed", "ack_timeout", 408)

    def _cancelled(self, invite_key: TransactionKey, now: float) -> None:
        """The caller's CANCEL: the endpoint already answered 200 and 487 (§9.2)."""
        call = self._by_a_key.get(invite_key)
        if call is None or call.state not in (CallState.ROUTING, CallState.RINGING):
            return
        self.cancel_legs(call)
        self.end(call, now, "cancelled", "originator_cancel", 487)

    # -- ending ----------------------------------------------------------------------------
    def cancel_leg(self, leg: BLeg) -> None:
        if leg.state in (LegState.CALLING, LegState.RINGING):
            leg.state = LegState.CANCELLING
            self.network.send_cancel(leg.transport, leg.key)

    def cancel_legs(self, call: Call) -> None:
        for leg in call.legs:
            self.cancel_leg(leg)
        call.legs = []

    def forget_leg(self, leg: BLeg) -> None:
        self._legs_by_key.pop(leg.key, None)
        self.legs_by_callid.pop(leg.invite.call_id, None)

    def release_leg(self, leg: BLeg) -> None:
        """Hang up an answered leg and let the call go on without it (park, a redirecting app)."""
        assert leg.dialog is not None
        self.send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
        leg.state, leg.ended_at = LegState.ENDED, self.wall()
        self.forget_leg(leg)

    def reject(
        self,
        call: Call,
        status: int,
        now: float,
        disposition: str,
        cause: str,
        reason: str | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        if call.state in (CallState.ANSWERED, CallState.ENDED):
            return
        if call.a_dialog is not None:
            # Re-routed after an app answered: the caller's INVITE is long done; hang up instead.
            self.send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
            self.end(call, now, disposition, cause, status)
            return
        response = make_response(call.a_invite, status, reason, to_tag=call.a_tag)
        for name, value in extra or ():
            response.headers.add(name, value)
        self.network.send_response(call.a_transport, response)
        self.end(call, now, disposition, cause, status)

    def end(self, call: Call, now: float, disposition: str, cause: str, code: int) -> None:
        if call.state is CallState.ENDED:
            return
        call.state = CallState.ENDED
        call.timers.clear()
        self.media_path.close(call)
        self.calls.pop(call.id, None)
        self._by_a_key.pop(call.a_key, None)
        self.by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
        ended = self.wall()
        self.session_timers.forget(call)
        for ended_hook in self.asking("ended"):
            ended_hook(call, now)
        answered = call.answered
        if answered is not None and answered.user is not None:
            self.activity.off_call(answered.user.id, now)
        for leg in call.all_legs:
            if leg.state is LegState.ANSWERED:
                leg.state, leg.ended_at = LegState.ENDED, ended
                self.forget_leg(leg)
            elif leg.ended_at is None and leg.state is LegState.CANCELLING:
                leg.ended_at = ended
        record = call_ended(call, ended, now, disposition, cause, code)
        log.info(
            "sip.call.end call=%s disposition=%s cause=%s code=%d duration_ms=%d",
            call.id,
            disposition,
            cause,
            code,
            record.duration_ms,
        )
        self.notify(self.on_call_ended, record)
        # Break the call's cycles with its legs so reference counting frees them at once: fewer
        # objects for the collector's full passes, whose pauses were what failed calls under load.
        call.legs, call.all_legs, call.answered, call.xfer = [], [], None, None

    def notify(self, callback: Callable[[_E], None] | None, event: _E) -> None:
        """Hand a call event to its observer; a failing observer never breaks signalling."""
        if callback is not None:
            try:
                callback(event)
            except Exception:
                log.exception("call event observer failed for %s", type(event).__name__)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("call event listener failed for %s", type(event).__name__)
