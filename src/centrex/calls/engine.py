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

import heapq
import itertools
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from centrex.calls import caller_answer, ending, legs, origination
from centrex.calls.activity import Activity
from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.dialog_record import DialogRecord
from centrex.calls.directory import DeviceInfo, Directory, TenantInfo, UserInfo
from centrex.calls.events import CallAnswered, CallDialogs, CallEnded, CallStarted
from centrex.calls.in_dialog import ALLOW, in_dialog, relay_response
from centrex.calls.legs import leg_response
from centrex.calls.location import LocationService
from centrex.calls.media_path import MediaPath
from centrex.calls.model import BLeg, Call, CallState, Relay
from centrex.calls.origination import new_phone_call
from centrex.calls.ports import MediaAnchor, Network, NomadicHold
from centrex.calls.services import HOOKS, CallService, Destination
from centrex.calls.session_timers import SessionTimers
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
from centrex.sip.message import Request, Response, make_response, new_tag
from centrex.sip.session_timer import TimerPolicy

log = logging.getLogger(__name__)

_E = TypeVar("_E")
_S = TypeVar("_S", bound=CallService)


class CallEngine:
    # A new call's admission and first route (calls/origination.py), what a B-leg does
    # (calls/legs.py), how a call ends (calls/ending.py) and how the caller is answered
    # (calls/caller_answer.py) are functions of the core in their own modules. Bound here they are
    # its methods, called as before and at the same cost: no wrapper in between.
    admit = origination.admit
    route_new = origination.route_new
    caller_id = legs.caller_id
    leg_headers = legs.leg_headers
    start_leg = legs.start_leg
    launch = legs.launch
    resend = legs.resend
    leg_failed = legs.leg_failed
    cancel_leg = legs.cancel_leg
    cancel_legs = legs.cancel_legs
    forget_leg = legs.forget_leg
    release_leg = legs.release_leg
    reject = ending.reject
    end = ending.end
    hang_up = ending.hang_up
    hang_up_all = ending.hang_up_all
    media_stopped = ending.media_stopped
    end_dialogs = ending.end_dialogs
    ring_back = caller_answer.ring_back
    answer_invite = caller_answer.answer_invite
    answer_locally = caller_answer.answer_locally
    keep_codec = caller_answer.keep_codec

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
        self.by_a_key: dict[TransactionKey, Call] = {}
        self.by_a_dialog: dict[tuple[str, str], Call] = {}
        self.legs_by_key: dict[TransactionKey, BLeg] = {}
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
        self.by_a_key[call.a_key] = call
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

    # -- responses -------------------------------------------------------------------------
    def _response(self, key: TransactionKey, resp: Response, now: float) -> None:
        if self.session_timers.response(key, resp, now):
            return
        for response in self.asking("response"):
            if response(key, resp, now):
                return
        leg = self.legs_by_key.get(key)
        if leg is not None:
            leg_response(self, leg, resp, now)
            return
        relay = self.relays.get(key)
        if relay is not None and resp.is_final:
            del self.relays[key]
            relay_response(self, relay, resp, now)

    def _timed_out(
        self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float
    ) -> None:
        if self.session_timers.timed_out(key, now):
            return
        for timed_out in self.asking("timed_out"):
            if timed_out(key, event, now):
                return
        leg = self.legs_by_key.get(key)
        if leg is not None:
            self.leg_failed(leg, 408 if isinstance(event, TransactionTimedOut) else 503, now)
            return
        relay = self.relays.pop(key, None)
        if relay is not None:
            self.reply(relay.transport, relay.request, 408)
            return
        call = self.by_a_key.get(key)
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
        call = self.by_a_key.get(invite_key)
        if call is None or call.state not in (CallState.ROUTING, CallState.RINGING):
            return
        self.cancel_legs(call)
        self.end(call, now, "cancelled", "originator_cancel", 487)

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
