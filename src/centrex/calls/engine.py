"""The B2BUA call engine: SIP events in, SIP messages out through a ``Network`` port.

No sockets and no clock: ``handle(event, transport, now)`` and ``handle_timer(now)`` are the
inputs; the ``Network`` it is given sends (the SIP service binds it to the real transports, the
tests to a recorder). A call is two sides (research/sip-core.md §1.1, sippy's event-isolated
two-leg design): the A-leg, a UAS dialog with the caller, and one or more B-legs, UAC dialogs
with each registered contact of the callee (parallel forking). The first 2xx wins; the others
are cancelled. Each B-leg is a new dialog with its own Call-ID, and its From is the caller's
identity from the user record, never what the phone put in its From.

Routing never leaves the caller's tenant: the dialled extension is looked up in the tenant the
caller authenticated in. Forwarding (always / busy / no answer after N seconds), do-not-disturb
and the caller's call-restriction class are applied here; an emergency call is never refused
for a restriction or a suspension (e911/policy.py).

Media is not anchored yet: SDP passes through unchanged, so RTP flows phone to phone.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar
from urllib.parse import unquote

from centrex.calls.admission import admission
from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.directory import DeviceInfo, Directory, Restriction, TenantInfo, UserInfo
from centrex.calls.location import Binding, LocationService
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import Classification, DestinationKind, classify
from centrex.numbers.dialplan import CallerSite
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
from centrex.sip.uri import SipUri, TelUri, parse_uri

log = logging.getLogger(__name__)

_E = TypeVar("_E")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REGISTER"
DEFAULT_SITE = CallerSite("201200", "NJ")  # only when a device has no site: classification needs one


class Network(Protocol):
    """What the engine needs from the transports, by transport name ("UDP", "TCP", "TLS")."""

    def send_request(self, transport: str, request: Request, addr: Address) -> TransactionKey: ...
    def send_response(self, transport: str, response: Response) -> None: ...
    def send_cancel(self, transport: str, key: TransactionKey) -> None: ...
    def contact(self, transport: str) -> str: ...


class CallState(enum.Enum):
    ROUTING = "routing"
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class LegState(enum.Enum):
    CALLING = "calling"
    RINGING = "ringing"
    ANSWERED = "answered"
    CANCELLING = "cancelling"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class LegRecord:
    """One B-leg, for the CDR: which device contact was rung and how it ended."""

    user_id: uuid.UUID
    extension: str
    device_id: uuid.UUID
    contact: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    sip_code: int | None
    disposition: str


@dataclass(frozen=True, slots=True)
class CallStarted:
    """An authenticated caller's INVITE was accepted for routing (journalled for crash recovery)."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    site_id: uuid.UUID | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID
    from_: str
    dialled: str
    call_class: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call_id: uuid.UUID
    tenant_id: uuid.UUID
    to: str
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A finished call: what a CDR is made of (events are data, STYLE.md)."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    site_id: uuid.UUID | None
    user_id: uuid.UUID | None
    device_id: uuid.UUID
    from_: str  # the caller's extension (or device username when it has no user)
    to: str  # the extension that finally rang (after forwarding), or what was dialled
    dialled: str
    call_class: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    duration_ms: int
    disposition: str  # answered, busy, no_answer, cancelled, failed, rejected
    hangup_cause: str
    sip_code: int
    legs: tuple[LegRecord, ...] = ()


@dataclass(eq=False)
class BLeg:
    call: Call
    user: UserInfo
    binding: Binding
    invite: Request
    key: TransactionKey
    started_at: datetime
    state: LegState = LegState.CALLING
    dialog: Dialog | None = None
    status: int | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def transport(self) -> str:
        return self.binding.transport

    @property
    def addr(self) -> Address:
        return self.binding.source

    def record(self) -> LegRecord:
        disposition = {
            LegState.ANSWERED: "answered",
            LegState.CANCELLING: "cancelled",
        }.get(self.state, "answered" if self.answered_at else ("busy" if self.status == 486 else "failed"))
        return LegRecord(
            self.user.id,
            self.user.extension,
            self.binding.device_id,
            self.binding.contact,
            self.started_at,
            self.answered_at,
            self.ended_at or self.started_at,
            self.status,
            disposition,
        )


@dataclass(eq=False)
class Call:
    id: uuid.UUID
    tenant: TenantInfo
    device: DeviceInfo
    caller: UserInfo | None
    site_id: uuid.UUID | None
    a_invite: Request
    a_key: TransactionKey
    a_transport: str
    a_addr: Address
    a_tag: str
    dialled: str
    classification: Classification
    started_at: datetime
    started_mono: float
    state: CallState = CallState.ROUTING
    target: UserInfo | None = None
    legs: list[BLeg] = field(default_factory=list)
    all_legs: list[BLeg] = field(default_factory=list)
    answered: BLeg | None = None
    a_dialog: Dialog | None = None
    answered_at: datetime | None = None
    answered_mono: float | None = None
    ringing_sent: bool = False
    busy_seen: bool = False
    hops: int = 0
    timers: dict[str, float] = field(default_factory=dict)

    @property
    def a_from_tag(self) -> str:
        return self.a_invite.from_.tag or ""


@dataclass(eq=False)
class Relay:
    """An in-dialog request passed to the other side, waiting for its final response."""

    call: Call
    request: Request  # as received
    transport: str  # where it came in
    forwarded: Request
    other: Dialog
    other_transport: str
    other_addr: Address


def restriction_allows(restriction: Restriction | None, call_class: CallClass) -> bool:
    """hosted-pbx.txt MAC 4 (call restriction change): what a user's class lets them dial.
    On-net calls are always allowed; 911 is never restricted (e911/policy.py decides that)."""
    if not may_refuse(call_class, RefusalGround.RESTRICTION) or restriction is None:
        return True
    r = restriction
    allowed = {
        CallClass.ON_NET: True,
        CallClass.LOCAL: r.allow_local,
        CallClass.LD_INTRASTATE: r.allow_long_distance,
        CallClass.LD_INTERSTATE: r.allow_long_distance,
        CallClass.INTERNATIONAL: r.allow_international,
        CallClass.TOLL_FREE: r.allow_toll_free,
        CallClass.DIRECTORY_ASSISTANCE: r.allow_directory_assistance,
        CallClass.PREMIUM: r.allow_premium,
    }
    return allowed.get(call_class, True)


def dialled_of(uri: object) -> str:
    if isinstance(uri, SipUri):
        return unquote(uri.user or "")
    if isinstance(uri, TelUri):
        return uri.number
    return ""


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
        max_ring_s: float = 120.0,
        max_forward_hops: int = 5,
    ) -> None:
        self.directory = directory
        self.auth = auth
        self.location = location
        self.network = network
        self.wall = wall_clock or (lambda: datetime.now(UTC))
        self.on_call_ended = on_call_ended
        self.on_call_started = on_call_started
        self.on_call_answered = on_call_answered
        self.max_ring_s = max_ring_s
        self.max_forward_hops = max_forward_hops
        self.calls: dict[uuid.UUID, Call] = {}
        self._by_a_key: dict[TransactionKey, Call] = {}
        self._by_a_dialog: dict[tuple[str, str], Call] = {}
        self._legs_by_key: dict[TransactionKey, BLeg] = {}
        self._legs_by_callid: dict[str, BLeg] = {}
        self._relays: dict[TransactionKey, Relay] = {}
        self._heap: list[tuple[float, int, uuid.UUID, str]] = []
        self._seq = itertools.count()

    # -- inputs ----------------------------------------------------------------------------
    def handle(self, event: Event, transport: str, now: float) -> None:
        if isinstance(event, RequestReceived):
            try:
                self._request(event, transport, now)
            except SipParseError as exc:
                if event.key is not None:
                    self._reply(transport, event.request, 400, f"Bad Request ({exc.reason[:80]})")
        elif isinstance(event, ResponseReceived):
            self._response(event.key, event.response, now)
        elif isinstance(event, CancelReceived):
            self._cancelled(event.invite_key, now)
        elif isinstance(event, TransactionTimedOut | TransportError):
            self._timed_out(event.key, event, now)

    def next_timer(self) -> float | None:
        while self._heap:
            deadline, _, call_id, name = self._heap[0]
            call = self.calls.get(call_id)
            if call is not None and call.timers.get(name) == deadline:
                return deadline
            heapq.heappop(self._heap)
        return None

    def handle_timer(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            deadline, _, call_id, name = heapq.heappop(self._heap)
            call = self.calls.get(call_id)
            if call is None or call.timers.get(name) != deadline:
                continue
            del call.timers[name]
            if name == "no_answer" and call.state is CallState.RINGING and call.target is not None:
                self._cancel_legs(call)
                self._forward(call, call.target.forward_no_answer or "", now, "no_answer")
            elif name == "ring" and call.state is CallState.RINGING:
                self._cancel_legs(call)
                self._reject(call, 480, now, "no_answer", "no_answer")

    @property
    def active_calls(self) -> int:
        return len(self.calls)

    # -- helpers ---------------------------------------------------------------------------
    def _arm(self, call: Call, name: str, at: float) -> None:
        call.timers[name] = at
        heapq.heappush(self._heap, (at, next(self._seq), call.id, name))

    def _reply(
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

    def _send(self, transport: str, request: Request, addr: Address) -> TransactionKey:
        return self.network.send_request(transport, request, addr)

    # -- requests --------------------------------------------------------------------------
    def _request(self, event: RequestReceived, transport: str, now: float) -> None:
        req = event.request
        if req.method == "ACK":
            return  # ACK for our 2xx: B was ACKed when it answered; nothing to pass on
        if req.to.tag:
            self._in_dialog(req, transport, now)
        elif req.method == "INVITE":
            assert event.key is not None
            self._new_call(req, event.key, event.addr, transport, now)
        elif req.method == "OPTIONS":
            self._reply(transport, req, 200, extra=[("Allow", ALLOW), ("Accept", "application/sdp")])
        elif req.method in ("BYE", "UPDATE", "INFO", "PRACK"):
            self._reply(transport, req, 481)
        else:
            self._reply(transport, req, 405, extra=[("Allow", ALLOW)])

    def _new_call(self, req: Request, key: TransactionKey, addr: Address, transport: str, now: float) -> None:
        mf = req.max_forwards
        if mf is not None and mf <= 0:
            self._reply(transport, req, 483)
            return
        check = self.auth.check(req, addr, now)
        if not check.ok or check.tenant is None or check.device is None:
            assert check.response is not None
            self.network.send_response(transport, check.response)
            return
        tenant, device = check.tenant, check.device
        if not self.location.bindings((tenant.id, device.username), now):
            self._reply(transport, req, 403, "Forbidden (register first)")
            return
        caller = self.directory.user(device.user_id) if device.user_id else None
        site_id = device.site_id or (caller.site_id if caller else None)
        site = self.directory.site(site_id) if site_id else None
        dialled = dialled_of(req.uri)
        try:
            caller_site = CallerSite(site.npa_nxx, site.state) if site else DEFAULT_SITE
        except ValueError:
            caller_site = DEFAULT_SITE
        classification = classify(dialled, caller_site)
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
            classification,
            self.wall(),
            now,
        )
        self.calls[call.id] = call
        self._by_a_key[key] = call
        self._by_a_dialog[(req.call_id, call.a_from_tag)] = call
        log.info(
            "sip.call.start call=%s tenant=%s from=%s dialled=%r class=%s",
            call.id,
            tenant.id,
            device.username,
            dialled,
            classification.call_class,
        )
        self._notify(
            self.on_call_started,
            CallStarted(
                call.id,
                tenant.id,
                site_id,
                caller.id if caller else None,
                device.id,
                caller.extension if caller else device.username,
                dialled,
                classification.call_class.value,
                call.started_at,
            ),
        )
        cls = classification.call_class
        refusal = admission(tenant, cls)
        if refusal is not None:
            self._reject(
                call,
                refusal.status,
                now,
                "rejected",
                refusal.cause,
                refusal.reason,
                extra=[("Reason", f'SIP;cause={refusal.status};text="{refusal.reason}"')],  # RFC 3326
            )
            return
        if classification.kind is DestinationKind.E164:
            # A number of the caller's own tenant that rings a user: an on-net call.
            by_number = self.directory.user_by_number(tenant.id, classification.destination)
            if by_number is not None:
                call.classification = replace(classification, call_class=CallClass.ON_NET)
                self._route_to_user(call, by_number, now)
                return
        if classification.kind is DestinationKind.EXTENSION:
            user = self.directory.user_by_extension(tenant.id, classification.destination)
            if user is None:
                self._reject(call, 404, now, "failed", "not_found")
                return
            self._route_to_user(call, user, now)
            return
        if classification.is_emergency:
            # Never refused: but there is no carrier route to a PSAP in this build.
            log.error(
                "sip.emergency.no_route call=%s tenant=%s device=%s", call.id, tenant.id, device.username
            )
            self._reject(call, 503, now, "failed", "no_route", "Service Unavailable (no emergency route)")
            return
        if classification.blocked:
            self._reject(call, 403, now, "rejected", "blocked", "Forbidden (number blocked)")
            return
        if cls is CallClass.INVALID:
            self._reject(call, 484, now, "failed", "invalid_number")
            return
        restriction = caller.restriction if caller else None
        if not restriction_allows(restriction, cls):
            self._reject(
                call, 403, now, "rejected", "restricted", f"Forbidden (call restriction: {cls.value})"
            )
            return
        self._reject(call, 503, now, "failed", "no_route", "Service Unavailable (no outbound route)")

    def _route_to_user(self, call: Call, user: UserInfo, now: float) -> None:
        call.target = user
        call.hops += 1
        if call.hops > self.max_forward_hops:
            self._reject(
                call, 480, now, "failed", "forward_loop", "Temporarily Unavailable (forwarding loop)"
            )
            return
        if user.forward_always:
            self._forward(call, user.forward_always, now, "always")
            return
        if user.do_not_disturb:
            if user.forward_busy:
                self._forward(call, user.forward_busy, now, "dnd")
            else:
                self._reject(call, 486, now, "busy", "do_not_disturb")
            return
        bindings = self.location.of_user(user.id, now)
        if not bindings:
            if user.forward_no_answer:
                self._forward(call, user.forward_no_answer, now, "unavailable")
            else:
                self._reject(call, 480, now, "failed", "unavailable")
            return
        call.state = CallState.RINGING
        call.legs = []
        call.busy_seen = False
        for binding in bindings:
            self._start_leg(call, user, binding)
        call.timers.pop("no_answer", None)
        if user.forward_no_answer:
            self._arm(call, "no_answer", now + max(1, user.forward_no_answer_seconds))
        if "ring" not in call.timers:
            self._arm(call, "ring", now + self.max_ring_s)

    def _forward(self, call: Call, destination: str, now: float, why: str) -> None:
        target = self.directory.user_by_extension(call.tenant.id, destination.strip())
        log.info("sip.call.forward call=%s why=%s to=%r", call.id, why, destination)
        if target is None:
            self._reject(call, 480, now, "failed", f"forward_{why}_unroutable")
            return
        self.network.send_response(call.a_transport, make_response(call.a_invite, 181, to_tag=call.a_tag))
        self._route_to_user(call, target, now)

    def _start_leg(self, call: Call, user: UserInfo, binding: Binding) -> None:
        domain = call.tenant.domain
        caller = call.caller
        ext = caller.extension if caller else call.device.username
        name = caller.name if caller else ext
        identity = f"{quote(name)} <sip:{ext}@{domain}>"
        headers = Headers()
        mf = call.a_invite.max_forwards
        headers.add("Max-Forwards", str(max(1, (mf if mf is not None else 70) - 1)))
        headers.add("From", f"{identity};tag={new_tag()}")
        headers.add("To", f"<sip:{user.extension}@{domain}>")
        headers.add("Call-ID", new_call_id())
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", self.network.contact(binding.transport))
        headers.add("P-Asserted-Identity", identity)
        headers.add("Allow", ALLOW)
        content_type = call.a_invite.headers.get("Content-Type")
        if content_type:
            headers.add("Content-Type", content_type)
        invite = Request("INVITE", parse_uri(binding.contact), headers, call.a_invite.body)
        key = self._send(binding.transport, invite, binding.source)
        leg = BLeg(call, user, binding, invite, key, self.wall())
        call.legs.append(leg)
        call.all_legs.append(leg)
        self._legs_by_key[key] = leg
        self._legs_by_callid[invite.call_id] = leg

    def _in_dialog(self, req: Request, transport: str, now: float) -> None:
        call = self._by_a_dialog.get((req.call_id, req.from_.tag or ""))
        this: Dialog | None
        other: Dialog | None
        if call is not None and req.to.tag == call.a_tag:
            leg = call.answered
            this, other = call.a_dialog, leg.dialog if leg else None
            side = "caller"
            other_transport, other_addr = (leg.transport, leg.addr) if leg else ("", ("", 0))
        else:
            leg = self._legs_by_callid.get(req.call_id)
            call = leg.call if leg else None
            if (
                leg is None
                or call is None
                or call.answered is not leg
                or leg.dialog is None
                or not leg.dialog.matches(req)
            ):
                self._reply(transport, req, 481)
                return
            this, other = leg.dialog, call.a_dialog
            side = "callee"
            other_transport, other_addr = call.a_transport, call.a_addr
        if this is None or other is None or call.state is not CallState.ANSWERED:
            self._reply(transport, req, 481)
            return
        if not this.receive_request(req):
            self._reply(transport, req, 500, "Server Internal Error (CSeq out of order)")
            return
        if req.method == "BYE":
            self.network.send_response(transport, make_response(req, 200))
            self._send(other_transport, other.create_request("BYE"), other_addr)
            self._end(call, now, "answered", f"{side}_bye", 200)
            return
        if req.method == "OPTIONS":
            self._reply(transport, req, 200, extra=[("Allow", ALLOW)])
            return
        forwarded = other.create_request(
            req.method, body=req.body, content_type=req.headers.get("Content-Type")
        )
        key = self._send(other_transport, forwarded, other_addr)
        self._relays[key] = Relay(call, req, transport, forwarded, other, other_transport, other_addr)

    # -- responses -------------------------------------------------------------------------
    def _response(self, key: TransactionKey, resp: Response, now: float) -> None:
        leg = self._legs_by_key.get(key)
        if leg is not None:
            self._leg_response(leg, resp, now)
            return
        relay = self._relays.get(key)
        if relay is not None and resp.is_final:
            del self._relays[key]
            self._relay_response(relay, resp)

    def _leg_response(self, leg: BLeg, resp: Response, now: float) -> None:
        call, status = leg.call, resp.status
        if status == 100:
            return
        if status < 200:
            if leg.state is LegState.CALLING:
                leg.state = LegState.RINGING
            if call.state is CallState.RINGING and leg in call.legs:
                if resp.body:
                    self.network.send_response(
                        call.a_transport,
                        make_response(
                            call.a_invite,
                            183,
                            to_tag=call.a_tag,
                            body=resp.body,
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
            if leg.dialog is not None:
                assert leg.dialog is not None
                self._send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)  # 2xx again
                return
            leg.dialog = Dialog.from_uac(leg.invite, resp)
            self._send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
            leg.answered_at = self.wall()
            if (
                call.state is not CallState.RINGING
                or leg not in call.legs
                or leg.state is LegState.CANCELLING
            ):
                # Answered too late (another device won, or the caller gave up): hang it up.
                self._send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
                leg.state, leg.status, leg.ended_at = LegState.CANCELLING, status, self.wall()
                self._forget_leg(leg)
                return
            leg.state, leg.status = LegState.ANSWERED, status
            call.answered, call.state = leg, CallState.ANSWERED
            call.answered_at, call.answered_mono = leg.answered_at, now
            call.timers.clear()
            for other in call.legs:
                if other is not leg:
                    self._cancel_leg(other)
            ok = make_response(
                call.a_invite,
                200,
                to_tag=call.a_tag,
                body=resp.body,
                content_type=resp.headers.get("Content-Type"),
                extra=[("Contact", self.network.contact(call.a_transport)), ("Allow", ALLOW)],
            )
            self.network.send_response(call.a_transport, ok)
            call.a_dialog = Dialog.from_uas(call.a_invite, ok)
            log.info("sip.call.answer call=%s by=%s", call.id, leg.binding.contact)
            self._notify(
                self.on_call_answered,
                CallAnswered(call.id, call.tenant.id, leg.user.extension, leg.answered_at or self.wall()),
            )
            return
        self._leg_failed(leg, status, now)

    def _leg_failed(self, leg: BLeg, status: int, now: float) -> None:
        call = leg.call
        cancelled = leg.state is LegState.CANCELLING
        leg.status, leg.ended_at = status, self.wall()
        if not cancelled:
            leg.state = LegState.ENDED
        self._forget_leg(leg)
        if cancelled or call.state is not CallState.RINGING or leg not in call.legs:
            return
        if status in (486, 600, 603):
            call.busy_seen = True
        if any(other.state in (LegState.CALLING, LegState.RINGING) for other in call.legs):
            return
        target = call.target
        assert target is not None
        if call.busy_seen:
            if target.forward_busy:
                self._forward(call, target.forward_busy, now, "busy")
            else:
                self._reject(call, 486, now, "busy", "busy")
        elif target.forward_no_answer:
            call.timers.pop("no_answer", None)
            self._forward(call, target.forward_no_answer, now, "unavailable")
        else:
            self._reject(call, 480, now, "failed", "unavailable")

    def _relay_response(self, relay: Relay, resp: Response) -> None:
        relay.other.receive_response(resp)
        if relay.forwarded.method == "INVITE" and 200 <= resp.status < 300:
            ack = relay.other.create_ack(relay.forwarded.cseq.seq)
            self._send(relay.other_transport, ack, relay.other_addr)
        extra = []
        if 200 <= resp.status < 300 and relay.request.method in ("INVITE", "UPDATE"):
            extra.append(("Contact", self.network.contact(relay.transport)))
        out = make_response(
            relay.request,
            resp.status,
            resp.reason,
            body=resp.body,
            content_type=resp.headers.get("Content-Type"),
            extra=extra,
        )
        self.network.send_response(relay.transport, out)

    def _timed_out(
        self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float
    ) -> None:
        leg = self._legs_by_key.get(key)
        if leg is not None:
            self._leg_failed(leg, 408 if isinstance(event, TransactionTimedOut) else 503, now)
            return
        relay = self._relays.pop(key, None)
        if relay is not None:
            self._reply(relay.transport, relay.request, 408)
            return
        call = self._by_a_key.get(key)
        if call is not None and isinstance(event, TransactionTimedOut) and event.timer == "L":
            # The caller never ACKed our 200 (§13.3.1.4): end the session on both sides.
            if call.a_dialog is not None:
                self._send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
            if call.answered is not None and call.answered.dialog is not None:
                leg = call.answered
                assert leg.dialog is not None
                self._send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
            self._end(call, now, "failed", "ack_timeout", 408)

    def _cancelled(self, invite_key: TransactionKey, now: float) -> None:
        """The caller's CANCEL: the endpoint already answered 200 and 487 (§9.2)."""
        call = self._by_a_key.get(invite_key)
        if call is None or call.state not in (CallState.ROUTING, CallState.RINGING):
            return
        self._cancel_legs(call)
        self._end(call, now, "cancelled", "originator_cancel", 487)

    # -- ending ----------------------------------------------------------------------------
    def _cancel_leg(self, leg: BLeg) -> None:
        if leg.state in (LegState.CALLING, LegState.RINGING):
            leg.state = LegState.CANCELLING
            self.network.send_cancel(leg.transport, leg.key)

    def _cancel_legs(self, call: Call) -> None:
        for leg in call.legs:
            self._cancel_leg(leg)
        call.legs = []

    def _forget_leg(self, leg: BLeg) -> None:
        self._legs_by_key.pop(leg.key, None)
        self._legs_by_callid.pop(leg.invite.call_id, None)

    def _reject(
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
        response = make_response(call.a_invite, status, reason, to_tag=call.a_tag)
        for name, value in extra or ():
            response.headers.add(name, value)
        self.network.send_response(call.a_transport, response)
        self._end(call, now, disposition, cause, status)

    def _end(self, call: Call, now: float, disposition: str, cause: str, code: int) -> None:
        if call.state is CallState.ENDED:
            return
        call.state = CallState.ENDED
        call.timers.clear()
        self.calls.pop(call.id, None)
        self._by_a_key.pop(call.a_key, None)
        self._by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
        ended = self.wall()
        for leg in call.all_legs:
            if leg.state is LegState.ANSWERED:
                leg.state, leg.ended_at = LegState.ENDED, ended
                self._forget_leg(leg)
            elif leg.ended_at is None and leg.state is LegState.CANCELLING:
                leg.ended_at = ended
        duration_ms = round((now - call.answered_mono) * 1000) if call.answered_mono is not None else 0
        caller = call.caller
        record = CallEnded(
            call.id,
            call.tenant.id,
            call.site_id,
            caller.id if caller else None,
            call.device.id,
            caller.extension if caller else call.device.username,
            call.target.extension if call.target else call.classification.destination or call.dialled,
            call.dialled,
            call.classification.call_class.value,
            call.started_at,
            call.answered_at,
            ended,
            max(0, duration_ms),
            disposition,
            cause,
            code,
            tuple(leg.record() for leg in call.all_legs),
        )
        log.info(
            "sip.call.end call=%s disposition=%s cause=%s code=%d duration_ms=%d",
            call.id,
            disposition,
            cause,
            code,
            record.duration_ms,
        )
        self._notify(self.on_call_ended, record)

    def _notify(self, callback: Callable[[_E], None] | None, event: _E) -> None:
        """Hand a call event to its observer; a failing observer never breaks signalling."""
        if callback is None:
            return
        try:
            callback(event)
        except Exception:
            log.exception("call event observer failed for %s", type(event).__name__)
