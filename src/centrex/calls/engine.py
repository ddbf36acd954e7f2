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

Calls off the switch (issue #6 point 5) go through ``routes`` (routing/select.py): the targets of
the matching outbound routes are tried in order, moving to the next on a 5xx or a timeout; a
gateway that failed is marked down and probed with OPTIONS until it answers (the fail-back of the
alternate route, voip-service-guide.txt §I.4). Requests from a trunk's address are not challenged
(IP-authenticated) and are routed by the DID they are for. 911 goes to the emergency route of the
caller's registered location with the location as PIDF-LO (RFC 6442), and ``emergency`` is told
of every 911 call so that the tenant's contacts are notified.

Media is anchored on the relay (``media``): each side is offered the relay's address. A tenant
with ``direct_media`` has calls between two phones of one site that nobody records go phone to
phone instead, the SDP passed end to end (``_direct_media`` says when, and what such a call gives up).
"""

from __future__ import annotations

import contextlib
import enum
import heapq
import itertools
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable
from urllib.parse import unquote

from centrex.calls.admission import admission
from centrex.calls.auth import PhoneAuthenticator
from centrex.calls.directory import (
    DeviceInfo,
    Directory,
    HuntGroupInfo,
    Restriction,
    TenantInfo,
    UserInfo,
)
from centrex.calls.features import APPS as FEATURE_APPS
from centrex.calls.location import Binding, LocationService
from centrex.calls.queues import QueueEvent, QueueInfo, QueueStore, position_phrase
from centrex.calls.trunk_register import TrunkRegistrar
from centrex.e911.address import CivicAddress
from centrex.e911.pidf import location_headers, multipart_mixed, pidf_lo
from centrex.e911.policy import RefusalGround, may_refuse
from centrex.media.g711 import Pcm
from centrex.numbers.classes import CallClass
from centrex.numbers.classify import Classification, DestinationKind, classify, classify_e164
from centrex.numbers.dialplan import CallerSite
from centrex.routing.model import Gateway, NumberRoute, RoutingTable, Target, Trunk, TrunkKind
from centrex.routing.select import (
    GatewayHealth,
    emergency_targets,
    outbound_targets,
    pbx_targets,
    request_number,
)
from centrex.sip.dialog import Dialog
from centrex.sip.digest import build_authorization
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
from centrex.sip.headers import Headers, parse_name_addr, quote
from centrex.sip.message import REASON_PHRASES, Request, Response, make_response, new_call_id, new_tag
from centrex.sip.sdp import (
    PCMA,
    PCMU,
    TELEPHONE_EVENT,
    Codec,
    SessionDescription,
    build_offer,
    is_on_hold,
    negotiate_answer,
    parse_sdp,
    rewrite_connection,
)
from centrex.sip.uri import SipUri, TelUri, parse_uri

log = logging.getLogger(__name__)

_E = TypeVar("_E")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, REGISTER"
SIPFRAG = "message/sipfrag;version=2.0"
DEFAULT_SITE = CallerSite("201200", "NJ")  # only when a device has no site: classification needs one
# Feature codes are the tenant's (TenantInfo.feature_codes; defaults and rules in calls/features.py):
# privacy *67, voicemail *97/*98, conference *55, park *70<slot>, retrieve *71<slot>, pickup
# *8<ext>, agent login/logout *45/*46<queue>.
PARK_SLOTS = range(1, 10)
QUEUE_RETRY_S = 2.0  # nobody free: look again this often
QUEUE_FIRST_ANNOUNCE_S = 1.0  # the first "you are caller number N", once the caller hears us
PARK_RECALL_PREFIX = "Park"  # the caller ID name of a parked call ringing back: "Park 3: Alice"
TRUNK_SETUP_S = 4.0  # no answer at all from a trunk gateway this long: try the next target


class Network(Protocol):
    """What the engine needs from the transports, by transport name ("UDP", "TCP", "TLS")."""

    def send_request(self, transport: str, request: Request, addr: Address) -> TransactionKey: ...
    def send_response(self, transport: str, response: Response) -> None: ...
    def send_cancel(self, transport: str, key: TransactionKey) -> None: ...
    def contact(self, transport: str) -> str: ...


class RouteSource(Protocol):
    """The routing table and the DIDs (routing/storage.py StoreRoutes; tests build them by hand)."""

    def table(self, now: float) -> RoutingTable: ...
    def number(self, e164: str, now: float) -> NumberRoute | None: ...


@dataclass(frozen=True, slots=True)
class EmergencyLocation:
    """A caller's registered dispatchable location (e911_locations), as the 911 INVITE carries it."""

    address: CivicAddress
    psap: str | None = None
    esn: str | None = None


@dataclass(frozen=True, slots=True)
class EmergencyCallPlaced:
    """A 911 call started: the tenant's designated contacts are told (issue #6 point 6)."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    device_id: uuid.UUID | None
    caller_name: str
    extension: str
    callback: str | None  # E.164 ANI
    location: EmergencyLocation | None
    dialled: str
    at: datetime
    routed: bool  # False: no emergency route answered our INVITE attempt list (logged critical)


class EmergencyServices(Protocol):
    def location(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None, device_id: uuid.UUID | None
    ) -> EmergencyLocation | None: ...
    def placed(self, call: EmergencyCallPlaced) -> None: ...


class NomadicHold(Protocol):
    """e911/nomadic_store.py NomadicTracker: whether a device's calls other than 911 are held
    because it registered from a new network whose location is not verified (§V.14.3)."""

    def held(self, tenant_id: uuid.UUID, device_id: uuid.UUID) -> object | None: ...


class MediaAnchor(Protocol):
    """media/relay.py RelayManager: one relay per call, leg ``a`` toward the caller and ``b``
    toward the callee (or app, or trunk). ``open`` binds at once and returns the addresses to
    write into the SDP sent to each side."""

    def open(self, call_id: str) -> tuple[tuple[str, int], tuple[str, int]] | None: ...
    def set_remote(self, call_id: str, leg: str, address: str, port: int) -> None: ...
    def close(self, call_id: str) -> None: ...
    def music(self, call_id: str, leg: str, payload_type: int, on: bool) -> None: ...


@runtime_checkable
class Announcer(Protocol):
    """A media anchor that can also play a prompt to a leg over its music (calls/media.py
    RelayAnchor): the queue position announcements. Kept apart from MediaAnchor so an anchor
    without it (rtpengine) still anchors calls; its callers then just hear the music."""

    def announce(self, call_id: str, leg: str, payload_type: int, pcm: Pcm) -> None: ...


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

    user_id: uuid.UUID | None
    extension: str  # the user's extension, or the number sent to a trunk
    device_id: uuid.UUID | None
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
    device_id: uuid.UUID | None
    from_: str
    dialled: str
    call_class: str
    started_at: datetime
    direction: str = "outbound"  # internal / outbound / inbound (numbers.classes.Direction)


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
    device_id: uuid.UUID | None  # None: the call came in from a trunk
    from_: str  # the caller's extension (or device username, or the caller's number from a trunk)
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
    direction: str = "outbound"  # internal / outbound / inbound (numbers.classes.Direction)
    trunk: str | None = None  # the trunk the call left or came in by


@dataclass(eq=False)
class BLeg:
    """One INVITE we sent for a call: to a registered contact of a user, or to a trunk gateway."""

    call: Call
    user: UserInfo | None
    binding: Binding | None
    invite: Request
    key: TransactionKey
    started_at: datetime
    target: Target | None = None
    state: LegState = LegState.CALLING
    auth_tried: bool = False
    app: str = ""  # the app server's Request-URI user (vm-deposit.<user>, vm-main, …)
    app_addr: Address | None = None
    peer: tuple[str, Address] | None = None  # a phone that called in and took this call (pickup)
    dialog: Dialog | None = None
    status: int | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def transport(self) -> str:
        if self.binding is not None:
            return self.binding.transport
        if self.app_addr is not None:
            return "UDP"
        if self.peer is not None:
            return self.peer[0]
        assert self.target is not None
        return self.target.gateway.transport

    @property
    def addr(self) -> Address:
        if self.binding is not None:
            return self.binding.source
        if self.app_addr is not None:
            return self.app_addr
        if self.peer is not None:
            return self.peer[1]
        assert self.target is not None
        return (self.target.gateway.host, self.target.gateway.port)

    @property
    def label(self) -> str:
        """Who this leg rings: the user's extension, or the number sent to the trunk."""
        if self.app:
            return self.app
        if self.user is not None:
            return self.user.extension
        return self.invite.uri.user if isinstance(self.invite.uri, SipUri) and self.invite.uri.user else ""

    def record(self) -> LegRecord:
        disposition = {
            LegState.ANSWERED: "answered",
            LegState.CANCELLING: "cancelled",
        }.get(self.state, "answered" if self.answered_at else ("busy" if self.status == 486 else "failed"))
        return LegRecord(
            self.user.id if self.user else None,
            self.label,
            self.binding.device_id if self.binding else None,
            self.binding.contact if self.binding else str(self.invite.uri),
            self.started_at,
            self.answered_at,
            self.ended_at or self.started_at,
            self.status,
            disposition,
        )


@dataclass(eq=False)
class MwiSubscription:
    """A phone's RFC 3842 message-summary subscription (RFC 6665 dialog)."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID
    dialog: Dialog
    transport: str
    addr: Address
    expires_at: float


MWI_MAX_EXPIRES = 3600


@dataclass(eq=False)
class Side:
    """One party of a call as a dialog we hold with it: where to send, and how to take it over."""

    dialog: Dialog
    transport: str
    addr: Address
    leg: BLeg | None  # the party is our UAC leg (a callee); None: it is the call's caller (UAS)


@dataclass(eq=False)
class AttendedTransfer:
    """RFC 5589 §7 / RFC 3891: the transferor B (talking to S1 in ``call`` and to S2 in
    ``other``) REFERs S1 to S2 with Replaces; S2 is re-INVITEd onto ``call``'s relay side that B
    used, then B is released from both calls and ``other`` ends."""

    call: Call
    other: Call
    b_side: str  # "caller" or "callee": B's place in ``call``
    b_dialog: Dialog
    b_transport: str
    b_addr: Address
    b_in_other: Side
    s2: Side
    event_id: int
    reinvite: Request


@dataclass(eq=False)
class Transfer:
    """A blind transfer in progress (RFC 3515 REFER, RFC 5589 §6): the referrer's side is
    replaced by the target once it answers; the other side stays on the relay and never notices."""

    side: str  # "caller" or "callee": who sent the REFER
    dialog: Dialog  # the referrer's dialog, for the NOTIFYs
    transport: str
    addr: Address
    event_id: int  # the REFER's CSeq, the id of the implicit subscription
    target: UserInfo
    legs: list[BLeg] = field(default_factory=list)
    referrer_gone: bool = False  # the referrer hung up already (phones often do after 202)


@dataclass(eq=False)
class Call:
    id: uuid.UUID
    tenant: TenantInfo
    device: DeviceInfo | None  # None: the call came in from a trunk
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
    direction: str = "internal"
    trunk: Trunk | None = None  # the trunk it came in by
    remote_identity: str | None = None  # From of a call from a trunk, passed on to the callee
    remote_number: str | None = None  # the caller's number from a trunk (E.164 when it parses)
    targets: list[Target] = field(default_factory=list)  # trunk targets not tried yet
    out_number: str = ""  # the E.164 number a trunk call is for
    out_trunk: Trunk | None = None  # the trunk that answered or was tried last
    privacy: bool = False  # RFC 3325 Privacy: id (the caller dialled *67)
    emergency: EmergencyLocation | None = None
    group: HuntGroupInfo | None = None  # the hunt group being hunted
    hunt: list[UserInfo] = field(default_factory=list)  # members still to ring (one at a time)
    extra_body: tuple[str, bytes] | None = None  # (Content-Type, body) replacing the caller's SDP
    anchor: tuple[tuple[str, int], tuple[str, int]] | None = None  # relay addresses (a side, b side)
    direct: bool = False  # relay released: the phones' SDP passes end to end (tenant direct_media)
    xfer: Transfer | None = None
    parked: int | None = None  # the park slot, while the call waits there with music
    parked_by: UserInfo | None = None  # who parked it: rung back after the tenant's park_timeout_s
    recalling: bool = False  # the parker's phones are ringing with the parked call
    a_codec: int | None = None  # the G.711 payload type the caller was answered with
    queue: QueueInfo | None = None  # the call-center queue the caller waits in
    queued_at: float | None = None
    offered: set[uuid.UUID] = field(default_factory=set)  # agents offered in this round
    b_offer: bytes | None = None  # the caller's offer rewritten to the relay's b side
    extra_headers: tuple[tuple[str, str], ...] = ()

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


def loose_e164(raw: str) -> str:
    """A number as trunks write it, made E.164: +…, 10 NANP digits, or 1 + 10 digits."""
    digits = raw.lstrip("+")
    if not digits.isdigit():
        return ""
    if raw.startswith("+"):
        return raw
    if len(digits) == 10:
        return "+1" + digits
    if len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return "+" + digits


def _remote_identity(req: Request, *, trusted: bool) -> tuple[str | None, str | None]:
    """The caller of a call from a trunk: P-Asserted-Identity when the trunk is trusted (RFC 3325),
    else the From; the number made E.164 when it looks like one."""
    value = req.headers.get("P-Asserted-Identity") if trusted else None
    try:
        source = parse_name_addr(value) if value else req.from_
    except SipParseError:
        source = req.from_
    user = dialled_of(source.uri)
    number = loose_e164(user) or user or None
    return (source.display_name or None), number


def _common_g711(first: SessionDescription, second: SessionDescription) -> Codec | None:
    """The first G.711 codec of ``first``'s audio that ``second`` offers too."""

    def g711(sd: SessionDescription) -> list[Codec]:
        audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
        out = []
        for pt in audio.formats if audio else []:
            enc = (audio.rtpmap.get(pt) if audio else None) or {"0": "PCMU/8000", "8": "PCMA/8000"}.get(
                pt, ""
            )
            for codec in (PCMU, PCMA):
                if codec.matches(enc):
                    out.append(codec)
        return out

    theirs = g711(second)
    return next((c for c in g711(first) if c in theirs), None)


def _only_codec(body: bytes, payload_type: int) -> bytes:
    """An offer reduced to one codec (and telephone-event): after an app answered the caller with
    it, whoever the call goes to next must use the same one (the relay does not transcode)."""
    try:
        sd = parse_sdp(body)
    except (SipParseError, ValueError):
        return body
    for m in sd.media:
        if m.media != "audio":
            continue
        events = {pt for pt, enc in m.rtpmap.items() if enc.lower().startswith("telephone-event/")}
        keep = [f for f in m.formats if f == str(payload_type) or f in events]
        if str(payload_type) not in keep:
            return body
        m.formats = keep
        m.attributes = [
            (n, v)
            for n, v in m.attributes
            if n not in ("rtpmap", "fmtp") or (v or "").split(" ", 1)[0] in keep
        ]
    return str(sd).encode()


def _replaces_of(refer_to: str) -> tuple[str, str, str] | None:
    """The (Call-ID, tag, tag) of a Refer-To's embedded Replaces header (RFC 3891 §6.1), or None."""
    _, _, query = refer_to.partition("?")
    query = query.split(">", 1)[0]
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name.strip().lower() != "replaces":
            continue
        fields = unquote(value).split(";")
        tags = {}
        for f in fields[1:]:
            k, _, v = f.partition("=")
            tags[k.strip().lower()] = v.strip()
        if fields[0] and "to-tag" in tags and "from-tag" in tags:
            return fields[0].strip(), tags["to-tag"], tags["from-tag"]
    return None


def _expires(req: Request, most: int) -> int:
    value = (req.headers.get("Expires") or "").strip()
    return min(most, int(value)) if value.isdigit() else most


def _first_g711_pt(body: bytes) -> int | None:
    try:
        sd = parse_sdp(body)
    except (SipParseError, ValueError):
        return None
    audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
    return next((int(f) for f in (audio.formats if audio else []) if f in ("0", "8")), None)


def _privacy_requested(req: Request) -> bool:
    return any(p.strip().lower() == "id" for p in (req.headers.get("Privacy") or "").split(";"))


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
        routes: RouteSource | None = None,
        emergency: EmergencyServices | None = None,
        nomadic: NomadicHold | None = None,
        media: MediaAnchor | None = None,
        health: GatewayHealth | None = None,
        rand: Callable[[], float] = random.random,
        trunk_setup_s: float = TRUNK_SETUP_S,
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
        self.routes = routes
        self.emergency = emergency
        self.nomadic = nomadic
        self.media = media
        # More observers of every call event (CallStarted, CallAnswered, CallEnded), after the
        # durable records: call recording, statistics. A failing one never breaks signalling.
        self.listeners: list[Callable[[object], None]] = []
        self.health = health or GatewayHealth()
        self.rand = rand
        self.trunk_setup_s = trunk_setup_s
        self._probes: dict[TransactionKey, Gateway] = {}
        self.trunk_registrar = TrunkRegistrar(self._send, self.network.contact)
        self._group_next: dict[uuid.UUID, int] = {}  # round-robin: who rings first next time
        self._idle_since: dict[uuid.UUID, float] = {}  # longest idle: when each user's last call ended
        self._on_call: dict[uuid.UUID, int] = {}  # users in an answered call (members skipped)
        self.queues: QueueStore | None = None
        # Message counts (new, old) of a user's mailbox, for SUBSCRIBE (apps/vm_store.py counts).
        self.mwi_counts: Callable[[uuid.UUID, uuid.UUID], tuple[int, int]] | None = None
        self._mwi_subs: dict[tuple[str, str], MwiSubscription] = {}  # (Call-ID, remote tag)
        self._reoffers: dict[TransactionKey, AttendedTransfer] = {}
        self._waiting: dict[uuid.UUID, list[Call]] = {}  # queue id -> callers, oldest first
        self._offering: dict[uuid.UUID, Call] = {}  # agent -> the queue call ringing them
        self._wrap_up_until: dict[uuid.UUID, float] = {}
        self._dispatch_at: dict[uuid.UUID, float] = {}  # queue id -> when to look for agents
        # Where the app server (voicemail, attendants, conferences: apps/server.py) listens.
        self.app_address: Address | None = None
        # Whether a call between these users of the tenant could be recorded (by policy or the
        # on-demand code: calls/recording.py RecordingListener.may_record). Such calls keep the
        # relay even where the tenant allows direct media. None: nothing records in this process.
        self.may_record: Callable[[uuid.UUID, tuple[uuid.UUID, ...]], bool] | None = None
        # A conference bridge's extension -> "conf.<bridge id>" (calls/app_lookup.py).
        self.conference_by_extension: Callable[[uuid.UUID, str], str | None] | None = None
        # Prompt keys -> 8 kHz audio (apps/prompts.py PromptLibrary.phrase of the app server):
        # the queue position announcements. None: waiting callers hear music only.
        self.prompt_audio: Callable[[tuple[str, ...]], Pcm] | None = None

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
        probe = self.health.next_probe_at() if self.routes is not None else None
        if self._dispatch_at:
            first = min(self._dispatch_at.values())
            probe = first if probe is None else min(probe, first)
        if self.routes is not None:
            reg = self.trunk_registrar.next_at()
            probe = reg if probe is None else min(probe, reg)
        while self._heap:
            deadline, _, call_id, name = self._heap[0]
            call = self.calls.get(call_id)
            if call is not None and call.timers.get(name) == deadline:
                return deadline if probe is None else min(deadline, probe)
            heapq.heappop(self._heap)
        return probe

    def handle_timer(self, now: float) -> None:
        for queue_id, at in list(self._dispatch_at.items()):
            if at <= now:
                del self._dispatch_at[queue_id]
                self._dispatch(queue_id, now)
        if self.routes is not None and self.health.next_probe_at() is not None:
            self._probe(now)
        if self.routes is not None and self.trunk_registrar.next_at() <= now:
            self.trunk_registrar.tick(self.routes.table(now), now)
        while self._heap and self._heap[0][0] <= now:
            deadline, _, call_id, name = heapq.heappop(self._heap)
            call = self.calls.get(call_id)
            if call is None or call.timers.get(name) != deadline:
                continue
            del call.timers[name]
            if name == "no_answer" and call.state is CallState.RINGING and call.target is not None:
                self._cancel_legs(call)
                if call.target.forward_no_answer:
                    self._forward(call, call.target.forward_no_answer, now, "no_answer")
                else:
                    self._to_voicemail(call, call.target, "no-answer", now)
            elif name == "queue_offer" and call.queue is not None:
                self._queue_offer_missed(call, now)
            elif name == "queue_max" and call.queue is not None:
                self._queue_overflow(call, now)
            elif name == "queue_announce" and call.queue is not None:
                self._announce_position(call, now)
            elif name == "park_timeout" and call.parked is not None and not call.recalling:
                self._park_recall(call, now)
            elif name == "park_recall" and call.recalling:
                self._park_recall_missed(call, now)
            elif name == "feature_done" and call.a_dialog is not None:
                self._send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
                self._end(call, now, "answered", "feature_code", 200)
            elif name == "hunt" and call.state is CallState.RINGING and call.group is not None:
                self._cancel_legs(call)
                self._hunt_next(call, now)
            elif name == "trunk_setup" and call.state is CallState.RINGING:
                self._trunk_silent(call, now)
            elif name == "ring" and call.state is CallState.RINGING:
                self._cancel_legs(call)
                self._reject(call, 480, now, "no_answer", "no_answer")

    @property
    def active_calls(self) -> int:
        return len(self.calls)

    def _probe(self, now: float) -> None:
        """OPTIONS to each gateway marked down whose probe is due: any answer brings it back."""
        assert self.routes is not None
        for g in self.health.due_probes(self.routes.table(now).gateways(), now):
            headers = Headers()
            headers.add("Max-Forwards", "70")
            headers.add("From", f"<sip:ping@{g.host}>;tag={new_tag()}")
            headers.add("To", f"<sip:{g.host}:{g.port}>")
            headers.add("Call-ID", new_call_id())
            headers.add("CSeq", "1 OPTIONS")
            uri = f"sip:{g.host}:{g.port}" + (
                "" if g.transport == "UDP" else f";transport={g.transport.lower()}"
            )
            key = self._send(g.transport, Request("OPTIONS", parse_uri(uri), headers, b""), (g.host, g.port))
            self._probes[key] = g

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
            sub = self._mwi_subs.get((req.call_id, req.from_.tag or ""))
            if sub is not None and req.method == "SUBSCRIBE":
                self._mwi_refresh(sub, req, transport, now)
            else:
                self._in_dialog(req, transport, now)
        elif req.method == "SUBSCRIBE":
            self._mwi_subscribe(req, event.addr, transport, now)
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
        if self.routes is not None:
            trunk = self.routes.table(now).trunk_for_source(addr[0], addr[1])
            if trunk is not None:
                self._new_trunk_call(req, key, addr, transport, trunk, now)
                return
        who = self._authenticate(req, addr, transport, now)
        if who is None:
            return
        tenant, device = who
        if not self.location.bindings((tenant.id, device.username), now):
            self._reply(transport, req, 403, "Forbidden (register first)")
            return
        caller = self.directory.user(device.user_id) if device.user_id else None
        site_id = device.site_id or (caller.site_id if caller else None)
        site = self.directory.site(site_id) if site_id else None
        dialled = dialled_of(req.uri)
        prefix = tenant.feature_codes.match(dialled)
        privacy = prefix is not None and prefix.feature == "privacy"
        if prefix is not None and privacy:
            dialled = prefix.argument
        try:
            caller_site = CallerSite(site.npa_nxx, site.state) if site else DEFAULT_SITE
        except ValueError:
            caller_site = DEFAULT_SITE
        classification = classify(dialled, caller_site, tenant.dial_plan)
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
        call.privacy = privacy
        call.direction = "internal" if classification.kind is DestinationKind.EXTENSION else "outbound"
        self._track(call)
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
                call.direction,
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
        if self.nomadic is not None and may_refuse(cls, RefusalGround.NOMADIC_HOLD):
            hold = None
            try:
                hold = self.nomadic.held(tenant.id, device.id)
            except Exception:
                log.exception("sip.nomadic.check_failed call=%s", call.id)
            if hold is not None:
                why = "Forbidden (911 location not verified for this network)"
                self._reject(
                    call,
                    403,
                    now,
                    "rejected",
                    "nomadic_hold",
                    why,
                    extra=[("Reason", f'SIP;cause=403;text="{why}"')],
                )
                return
        if classification.kind is DestinationKind.E164:
            # A number of the caller's own tenant that rings a user: an on-net call.
            by_number = self.directory.user_by_number(tenant.id, classification.destination)
            if by_number is not None:
                call.classification = replace(classification, call_class=CallClass.ON_NET)
                self._route_to_user(call, by_number, now)
                return
        if classification.kind is DestinationKind.FEATURE_CODE:
            self._feature(call, classification.destination, now)
            return
        if classification.kind is DestinationKind.EXTENSION:
            user = self.directory.user_by_extension(tenant.id, classification.destination)
            if user is None:
                group = self.directory.hunt_group_by_extension(tenant.id, classification.destination)
                if group is not None:
                    self._route_to_group(call, group, now)
                    return
                queue = (
                    self.queues.queue_by_extension(tenant.id, classification.destination)
                    if self.queues
                    else None
                )
                if queue is not None:
                    self._route_to_queue(call, queue, now)
                    return
                app = self._app_for_extension(tenant.id, classification.destination)
                if app is not None:
                    call.direction = "internal"
                    self._route_to_app(call, app, now)
                    return
                self._reject(call, 404, now, "failed", "not_found")
                return
            self._route_to_user(call, user, now)
            return
        if classification.is_emergency:
            self._route_emergency(call, now)
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
        self._route_out(call, classification.destination, now)

    def _feature(self, call: Call, dialled: str, now: float) -> None:
        """A feature code, by the caller's tenant's own table (calls/features.py). Park is not
        dialled: it is the target of a transfer (REFER), handled with the other REFERs."""
        hit = call.tenant.feature_codes.match(dialled)
        feature = hit.feature if hit is not None else ""
        if hit is not None and feature == "pickup":
            self._pickup(call, hit.argument, now)
        elif hit is not None and feature in ("agent_login", "agent_logout"):
            self._agent_login(call, hit.argument, feature == "agent_login", now)
        elif hit is not None and feature == "retrieve":
            self._retrieve(call, hit.argument, now)
        elif feature in FEATURE_APPS:
            call.direction = "internal"
            self._route_to_app(call, FEATURE_APPS[feature], now)
        else:
            self._reject(call, 404, now, "failed", "unknown_feature_code")

    def _authenticate(
        self, req: Request, addr: Address, transport: str, now: float
    ) -> tuple[TenantInfo, DeviceInfo] | None:
        """The phone's digest check; on failure its challenge or refusal is sent and None returned."""
        check = self.auth.check(req, addr, now)
        if not check.ok or check.tenant is None or check.device is None:
            assert check.response is not None
            self.network.send_response(transport, check.response)
            return None
        return check.tenant, check.device

    def _answer_invite(self, call: Call, body: bytes, content_type: str | None) -> Dialog:
        """200 OK to the caller's INVITE with our Contact; the UAS dialog it makes."""
        ok = make_response(
            call.a_invite,
            200,
            to_tag=call.a_tag,
            body=body,
            content_type=content_type,
            extra=[("Contact", self.network.contact(call.a_transport)), ("Allow", ALLOW)],
        )
        self.network.send_response(call.a_transport, ok)
        return Dialog.from_uas(call.a_invite, ok)

    def _track(self, call: Call) -> None:
        self.calls[call.id] = call
        self._by_a_key[call.a_key] = call
        self._by_a_dialog[(call.a_invite.call_id, call.a_from_tag)] = call
        self._anchor(call)

    # -- media anchoring (issue #4 point 1) -------------------------------------------------
    def _anchor(self, call: Call) -> None:
        """Put the relay in the media path: the callee is offered the relay's b side, the caller
        is answered with its a side, and each side's own SDP address is only the relay's first
        guess (it latches on the first packet, for phones behind NAT)."""
        if self.media is None or not call.a_invite.body:
            return
        ctype = (call.a_invite.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/sdp":
            return
        try:
            offer = parse_sdp(call.a_invite.body)
        except (SipParseError, ValueError):
            return
        try:
            addresses = self.media.open(str(call.id))
        except Exception:
            log.exception("sip.media.anchor_failed call=%s", call.id)
            return
        if addresses is None:
            return
        call.anchor = addresses
        self._learn(call, "a", offer)
        b_addr, b_port = addresses[1]
        call.b_offer = str(rewrite_connection(offer, b_addr, b_port)).encode()

    # -- direct media (issue 4 point 1) ----------------------------------------------------
    def _choose_media(self, call: Call, user: UserInfo, bindings: list[Binding]) -> None:
        """Release the relay for a direct call (``_direct_media``), or take it back when the call
        is re-routed to where a direct call may not go (it is anchored again before the caller
        has heard any answer, so nobody notices)."""
        if self._direct_media(call, user, bindings):
            if not call.direct and call.anchor is not None and self.media is not None:
                try:
                    self.media.close(str(call.id))
                except Exception:
                    log.exception("sip.media.close_failed call=%s", call.id)
                    return
                call.anchor, call.b_offer, call.direct = None, None, True
                log.info("sip.media.direct call=%s to=%s", call.id, user.extension)
        elif call.direct:
            self._reanchor(call)

    def _reanchor(self, call: Call) -> None:
        if call.direct:
            call.direct = False
            self._anchor(call)

    def _direct_media(self, call: Call, user: UserInfo, bindings: list[Binding]) -> bool:
        """Media phone to phone, without the relay, when the tenant allows it (``direct_media``)
        and the call is between two phones of the tenant at one site: dialled by a user's phone,
        ringing a user's phones (not a hunt group, queue, app, trunk or park recall), nobody
        answered yet, every phone rung at the caller's site, and nobody on either side may be
        recorded (a recording policy or the on-demand code needs the relay's tap). Anything in
        doubt stays on the relay.

        What a direct call gives up, since the switch is out of the media path: music on hold
        from the relay (the holding phone's own hold applies: silence or the phone's tone), park
        and blind or attended transfer (REFER answers 501: the staying side would need a new offer),
        and recording. Pickup still works: a ringing direct call is anchored again first."""
        t = call.tenant
        caller = call.caller
        if not t.direct_media or caller is None or call.device is None or call.site_id is None:
            return False
        if call.trunk is not None or call.remote_number is not None or call.group is not None:
            return False
        if call.queue is not None or call.extra_body is not None or call.xfer is not None:
            return False
        if call.answered is not None or call.a_dialog is not None or call.parked is not None:
            return False
        if not call.direct and call.anchor is None:
            return False  # never anchored (no relay, or no SDP offer): nothing to release
        if user.tenant_id != t.id or not bindings:
            return False
        for b in bindings:
            device = self.directory.device(b.tenant_id, b.username) if b.tenant_id == t.id else None
            site = (device.site_id if device else None) or user.site_id
            if device is None or site != call.site_id:
                return False
        if self.may_record is not None:
            try:
                if self.may_record(t.id, (caller.id, user.id)):
                    return False
            except Exception:
                log.exception("sip.media.recording_check_failed call=%s", call.id)
                return False
        return True

    def _learn(self, call: Call, leg: str, sd: SessionDescription) -> None:
        assert self.media is not None
        audio = next((m for m in sd.media if m.media == "audio" and m.port), None)
        conn = (audio.connection if audio else None) or sd.connection
        if audio is not None and conn is not None and not conn.is_null:
            self.media.set_remote(str(call.id), leg, conn.address, audio.port)

    def _hold_music(self, call: Call, held: str, req: Request) -> None:
        """A re-INVITE that puts the other side on hold (sendonly / inactive, or the old c=0.0.0.0)
        starts music to it from the relay; one that resumes stops it."""
        if call.anchor is None or self.media is None or not req.body:
            return
        try:
            sd = parse_sdp(req.body)
        except (SipParseError, ValueError):
            return
        audio = next((m for m in sd.media if m.media == "audio"), None)
        pt = next((int(f) for f in (audio.formats if audio else []) if f in ("0", "8")), None)
        on = is_on_hold(sd)
        if pt is None and on:
            return
        try:
            self.media.music(str(call.id), held, pt or 0, on)
        except Exception:
            log.exception("sip.media.music_failed call=%s", call.id)

    def _caller_music_off(self, call: Call) -> None:
        """Stop what the relay plays to the caller (hold music, queue prompts): an agent or the
        parker answered, the queue overflowed, the call was taken back or the caller hung up.
        The payload type only matters for starting music."""
        if self.media is not None:
            self.media.music(str(call.id), "a", call.a_codec or 0, False)

    def _through_relay(self, call: Call, toward: str, body: bytes, content_type: str | None) -> bytes:
        """SDP from one side, rewritten for the other: ``toward`` is the leg it is sent to ('a'
        the caller, 'b' the callee); the sender's own address is learnt for the other leg."""
        if call.anchor is None or not body:
            return body
        if (content_type or "").split(";")[0].strip().lower() != "application/sdp":
            return body
        try:
            sd = parse_sdp(body)
        except (SipParseError, ValueError):
            return body
        self._learn(call, "b" if toward == "a" else "a", sd)
        address, port = call.anchor[0 if toward == "a" else 1]
        return str(rewrite_connection(sd, address, port)).encode()

    # -- calls from trunks -----------------------------------------------------------------
    def _new_trunk_call(
        self, req: Request, key: TransactionKey, addr: Address, transport: str, trunk: Trunk, now: float
    ) -> None:
        """A request from a trunk's address: IP-authenticated, never challenged (issue #6 point 5).
        From a carrier or a peer it is for one of our DIDs; from a tenant's IP-PBX it is that
        tenant's outbound call (IP trunking)."""
        assert self.routes is not None
        raw = dialled_of(req.uri)
        if trunk.tech_prefix and raw.startswith(trunk.tech_prefix):
            raw = raw[len(trunk.tech_prefix) :]
        remote_name, remote_number = _remote_identity(req, trusted=trunk.trusted)
        if trunk.kind is TrunkKind.PBX:
            tenant = self.directory.tenant(trunk.tenant_id) if trunk.tenant_id else None
            if tenant is None:
                self._reply(transport, req, 403, "Forbidden (trunk has no tenant)")
                return
            classification = classify(raw, DEFAULT_SITE, tenant.dial_plan)
            direction = "outbound"
        else:
            e164 = loose_e164(raw)
            route = self.routes.number(e164, now) if e164 else None
            tenant = self.directory.tenant(route.tenant_id) if route else None
            if route is None or tenant is None:
                # Not a number of ours: no transit for a peer (peering-policy.txt: no default route
                # in either direction) and nothing to ring for a carrier.
                log.info("sip.inbound.unknown_number trunk=%s dialled=%r", trunk.name, raw)
                self._reply(transport, req, 404, "Not Found (no such number here)")
                return
            classification = replace(classify_e164(e164, DEFAULT_SITE), dialled=raw)
            direction = "inbound"
        call = Call(
            uuid.uuid4(),
            tenant,
            None,
            None,
            None,
            req,
            key,
            transport,
            addr,
            new_tag(),
            raw,
            classification,
            self.wall(),
            now,
        )
        call.direction, call.trunk = direction, trunk
        call.remote_identity, call.remote_number = remote_name, remote_number
        call.privacy = _privacy_requested(req)
        self._track(call)
        log.info(
            "sip.call.start call=%s tenant=%s trunk=%s from=%r dialled=%r direction=%s",
            call.id,
            tenant.id,
            trunk.name,
            remote_number,
            raw,
            direction,
        )
        self._notify(
            self.on_call_started,
            CallStarted(
                call.id,
                tenant.id,
                None,
                None,
                None,
                remote_number or "",
                raw,
                classification.call_class.value,
                call.started_at,
                direction,
            ),
        )
        if direction == "inbound":
            self._route_number(call, route, now)
            return
        refusal = admission(tenant, classification.call_class)
        if refusal is not None:
            self._reject(call, refusal.status, now, "rejected", refusal.cause, refusal.reason)
            return
        if classification.is_emergency:
            self._route_emergency(call, now)
            return
        if not classification.routable:
            self._reject(call, 403 if classification.blocked else 484, now, "rejected", "not_routable")
            return
        if classification.kind is DestinationKind.E164:
            user = self.directory.user_by_number(tenant.id, classification.destination)
            if user is not None:
                call.direction = "internal"
                self._route_to_user(call, user, now)
                return
        self._route_out(call, classification.destination, now)

    def _route_number(self, call: Call, route: NumberRoute | None, now: float) -> None:
        """An incoming call to a DID: what it rings (hosted-pbx.txt MAC 9)."""
        assert route is not None and self.routes is not None
        if route.target_type == "user" and route.target_id is not None:
            user = self.directory.user(route.target_id)
            if user is not None and user.tenant_id == call.tenant.id:
                self._route_to_user(call, user, now)
                return
        if route.target_type == "auto_attendant" and route.target_id is not None:
            call.direction = "inbound"
            self._route_to_app(call, f"aa.{route.target_id}", now)
            return
        if route.target_type == "queue" and route.target_id is not None and self.queues is not None:
            queue = self.queues.queue(route.target_id)
            if queue is not None and queue.tenant_id == call.tenant.id:
                self._route_to_queue(call, queue, now)
                return
        if route.target_type == "hunt_group" and route.target_id is not None:
            group = self.directory.hunt_group(route.target_id)
            if group is not None and group.tenant_id == call.tenant.id:
                self._route_to_group(call, group, now)
                return
        if route.target_type == "trunk" and route.target_id is not None:
            trunk = self.routes.table(now).trunks.get(route.target_id)
            if trunk is not None and trunk.kind is TrunkKind.PBX and trunk.tenant_id == call.tenant.id:
                self._start_targets(call, route.e164, pbx_targets(trunk, self.health, now), now)
                return
        log.warning(
            "sip.inbound.unrouted call=%s number=%s target=%s", call.id, route.e164, route.target_type
        )
        self._reject(
            call, 480, now, "failed", "number_unrouted", "Temporarily Unavailable (number not routed)"
        )

    # -- calls to trunks -------------------------------------------------------------------
    def _route_out(self, call: Call, e164: str, now: float) -> None:
        targets: list[Target] = []
        if self.routes is not None:
            targets = outbound_targets(
                self.routes.table(now),
                call.tenant.id,
                e164,
                call.classification.call_class,
                self.health,
                now,
                self.rand,
            )
        if not targets:
            self._reject(call, 503, now, "failed", "no_route", "Service Unavailable (no outbound route)")
            return
        call.direction = "outbound" if call.direction != "inbound" else call.direction
        self._start_targets(call, e164, targets, now)

    def _start_targets(self, call: Call, number: str, targets: list[Target], now: float) -> None:
        if not targets:
            self._reject(call, 503, now, "failed", "no_route", "Service Unavailable (no route)")
            return
        call.out_number, call.targets = number, list(targets)
        call.state = CallState.RINGING
        if "ring" not in call.timers:
            self._arm(call, "ring", now + self.max_ring_s)
        self._try_next_target(call, now)

    def _try_next_target(self, call: Call, now: float) -> None:
        target = call.targets.pop(0)
        call.out_trunk = target.trunk
        g = target.gateway
        number = request_number(target.trunk, call.out_number)
        params = ";user=phone" if number.lstrip("+").isdigit() else ""
        if g.transport != "UDP":
            params += f";transport={g.transport.lower()}"
        uri = f"sip:{number}@{g.host}:{g.port}{params}"
        name, caller_number = self._caller_id(call)
        domain = call.tenant.domain
        identity = f"{quote(name)} <sip:{caller_number}@{domain};user=phone>"
        headers = self._leg_headers(call, f"<sip:{number}@{g.host}>")
        if call.privacy:
            # RFC 3325 §9.3 / RFC 3323: the From says nothing; a trusted trunk still gets the
            # identity in P-Asserted-Identity, marked private.
            headers.add("From", f'"Anonymous" <sip:anonymous@anonymous.invalid>;tag={new_tag()}')
        else:
            headers.add("From", f"{identity};tag={new_tag()}")
        if target.trunk.trusted:
            headers.add("P-Asserted-Identity", identity)
        if call.privacy:
            headers.add("Privacy", "id")
        self._launch(call, uri, headers, g.transport, (g.host, g.port), None, None, target)
        self._arm(call, "trunk_setup", now + self.trunk_setup_s)

    def _caller_id(self, call: Call) -> tuple[str, str]:
        """The caller's name and number as sent off the switch (the user's record, never the
        phone's From): the user's DID, else their extension; a call from a trunk keeps its caller."""
        if call.caller is not None:
            return call.caller.name, call.caller.number or call.caller.extension
        if call.remote_number:
            return call.remote_identity or call.remote_number, call.remote_number
        name = call.device.username if call.device else "anonymous"
        return name, name

    # -- 911 -------------------------------------------------------------------------------
    def _route_emergency(self, call: Call, now: float) -> None:
        """voip-service-guide.txt §V.14 / issue #6 point 6: to the emergency route of the caller's
        registered location, the callback number as ANI, the location as PIDF-LO (RFC 6442); the
        tenant's contacts are told of every 911 call. Never refused by any other rule."""
        caller, device = call.caller, call.device
        location: EmergencyLocation | None = None
        if self.emergency is not None and (caller is not None or device is not None):
            try:
                location = self.emergency.location(
                    call.tenant.id, caller.id if caller else None, device.id if device else None
                )
            except Exception:
                log.exception("sip.emergency.location_lookup_failed call=%s", call.id)
        call.emergency = location
        targets: list[Target] = []
        if self.routes is not None:
            targets = emergency_targets(
                self.routes.table(now),
                call.tenant.id,
                location.psap if location else None,
                self.health,
                now,
                self.rand,
            )
        name, callback = self._caller_id(call)
        log.warning(
            "sip.emergency.call call=%s tenant=%s callback=%s location=%s psap=%s routes=%d",
            call.id,
            call.tenant.id,
            callback,
            location.address.one_line() if location else "none registered",
            location.psap if location else None,
            len(targets),
        )
        if self.emergency is not None:
            placed = EmergencyCallPlaced(
                call.id,
                call.tenant.id,
                caller.id if caller else None,
                device.id if device else None,
                name,
                caller.extension if caller else (device.username if device else ""),
                caller.number if caller else call.remote_number,
                location,
                call.dialled,
                call.started_at,
                bool(targets),
            )
            try:
                self.emergency.placed(placed)
            except Exception:
                log.exception("sip.emergency.notify_failed call=%s", call.id)
        if not targets:
            log.critical("sip.emergency.no_route call=%s tenant=%s", call.id, call.tenant.id)
            self._reject(call, 503, now, "failed", "no_route", "Service Unavailable (no emergency route)")
            return
        if location is not None:
            entity = f"sip:{callback}@{call.tenant.domain}"
            pidf = pidf_lo(
                location.address,
                entity,
                call.started_at,
                device_id=f"urn:uuid:{device.id}" if device else "",
            )
            cid = f"{call.id.hex}@{call.tenant.domain}"
            sdp = (call.b_offer or call.a_invite.body).decode("utf-8", "replace")
            if sdp:
                mp = multipart_mixed(sdp, pidf, cid)
                call.extra_body = (mp.content_type, mp.body)
            else:
                call.extra_body = ("application/pidf+xml", pidf.encode())
            call.extra_headers = tuple(location_headers(cid).items())
        self._start_targets(call, "911", targets, now)

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
            elif self._has_voicemail(user):
                self._to_voicemail(call, user, "busy", now)
            else:
                self._reject(call, 486, now, "busy", "do_not_disturb")
            return
        bindings = self.location.of_user(user.id, now)
        if not bindings:
            if user.forward_no_answer:
                self._forward(call, user.forward_no_answer, now, "unavailable")
            elif self._has_voicemail(user):
                self._to_voicemail(call, user, "unavailable", now)
            else:
                self._reject(call, 480, now, "failed", "unavailable")
            return
        self._choose_media(call, user, bindings)
        call.state = CallState.RINGING
        call.legs = []
        call.busy_seen = False
        for binding in bindings:
            self._start_leg(call, user, binding)
        call.timers.pop("no_answer", None)
        if user.forward_no_answer or self._has_voicemail(user):
            self._arm(call, "no_answer", now + max(1, user.forward_no_answer_seconds))
        if "ring" not in call.timers:
            self._arm(call, "ring", now + self.max_ring_s)

    # -- hunt groups (hosted-pbx.txt MAC 5; issue #4 point 4) ---------------------------------
    def _route_to_group(self, call: Call, group: HuntGroupInfo, now: float) -> None:
        """Simultaneous rings every member at once; sequential, round-robin and longest-idle ring
        one member at a time for ``ring_seconds`` each. Members on DND, unregistered or already
        in a call are skipped; their own forwarding does not apply. When nobody answers the call
        falls through to the group's no-answer destination."""
        call.group, call.target = group, None
        members = [u for u in (self.directory.user(i) for i in group.member_ids) if u is not None]
        members = [u for u in members if u.tenant_id == call.tenant.id]
        if group.strategy == "round_robin" and members:
            start = self._group_next.get(group.id, 0) % len(members)
            self._group_next[group.id] = start + 1
            members = members[start:] + members[:start]
        elif group.strategy == "longest_idle":
            members.sort(key=lambda u: self._idle_since.get(u.id, float("-inf")))
        call.state = CallState.RINGING
        if "ring" not in call.timers:
            self._arm(call, "ring", now + self.max_ring_s)
        if group.strategy == "simultaneous":
            call.hunt = []
            call.legs = []
            for user in members:
                if self._available(user):
                    for binding in self.location.of_user(user.id, now):
                        self._start_leg(call, user, binding)
            if call.legs:
                self._arm(call, "hunt", now + max(1, group.ring_seconds))
            else:
                self._group_fall_through(call, now)
            return
        call.hunt = members
        self._hunt_next(call, now)

    def _available(self, user: UserInfo) -> bool:
        return not user.do_not_disturb and self._on_call.get(user.id, 0) == 0

    def _hunt_next(self, call: Call, now: float) -> None:
        group = call.group
        assert group is not None
        while call.hunt:
            user = call.hunt.pop(0)
            bindings = self.location.of_user(user.id, now) if self._available(user) else []
            if not bindings:
                continue
            call.legs = []
            for binding in bindings:
                self._start_leg(call, user, binding)
            self._arm(call, "hunt", now + max(1, group.ring_seconds))
            return
        self._group_fall_through(call, now)

    def _group_fall_through(self, call: Call, now: float) -> None:
        group = call.group
        assert group is not None
        call.timers.pop("hunt", None)
        destination = (group.no_answer_destination or "").strip()
        log.info("sip.hunt.fall_through call=%s group=%s to=%r", call.id, group.extension, destination)
        call.group = None
        if not destination:
            self._reject(call, 480, now, "no_answer", "hunt_group_no_answer")
            return
        user = self.directory.user_by_extension(call.tenant.id, destination)
        if user is not None:
            self.network.send_response(call.a_transport, make_response(call.a_invite, 181, to_tag=call.a_tag))
            self._route_to_user(call, user, now)
            return
        other = self.directory.hunt_group_by_extension(call.tenant.id, destination)
        if other is not None and other.id != group.id and call.hops < self.max_forward_hops:
            call.hops += 1
            self._route_to_group(call, other, now)
            return
        self._reject(call, 480, now, "no_answer", "hunt_group_unroutable")

    # -- call-center queues (issue #4 point 4) ----------------------------------------------
    def _queue_event(self, kind: str, queue: QueueInfo, call: Call | None = None, **kw: object) -> None:
        if self.queues is None:
            return
        try:
            self.queues.record(
                QueueEvent(kind, queue.id, queue.tenant_id, self.wall(), call.id if call else None, **kw)  # type: ignore[arg-type]
            )
        except Exception:
            log.exception("sip.queue.event_failed queue=%s kind=%s", queue.id, kind)

    def _answer_locally(self, call: Call, now: float) -> int | None:
        """Answer the caller ourselves on the relay's a side, on one G.711 codec; the payload type,
        or None when the offer has no G.711 (then the caller got 488)."""
        assert call.anchor is not None
        try:
            offer = parse_sdp(call.a_invite.body)
        except (SipParseError, ValueError):
            offer = None
        codec = _common_g711(offer, offer) if offer is not None else None
        if offer is None or codec is None:
            self._reject(call, 488, now, "failed", "no_g711", "Not Acceptable Here (PCMU or PCMA required)")
            return None
        answer = negotiate_answer(offer, *call.anchor[0], (codec, TELEPHONE_EVENT))
        call.a_dialog = self._answer_invite(call, str(answer).encode(), "application/sdp")
        call.answered_at, call.answered_mono = self.wall(), now
        call.a_codec = codec.payload_type
        if call.b_offer is not None and codec.payload_type is not None:
            call.b_offer = _only_codec(call.b_offer, codec.payload_type)
        return codec.payload_type

    def _route_to_queue(self, call: Call, queue: QueueInfo, now: float) -> None:
        """The caller is answered at once and hears music from the relay while agents are offered
        the call one at a time; after ``max_wait_s`` it overflows."""
        if call.anchor is None or self.media is None:
            self._reject(
                call, 480, now, "failed", "queue_needs_media", "Temporarily Unavailable (no media relay)"
            )
            return
        pt = self._answer_locally(call, now)
        if pt is None:
            return
        call.queue, call.queued_at, call.target, call.group = queue, now, None, None
        call.state, call.legs, call.direction = CallState.RINGING, [], call.direction
        call.timers.pop("ring", None)
        self._notify(
            self.on_call_answered, CallAnswered(call.id, call.tenant.id, queue.extension, self.wall())
        )
        self.media.music(str(call.id), "a", pt, True)
        self._waiting.setdefault(queue.id, []).append(call)
        self._queue_event("entered", queue, call)
        self._arm(call, "queue_max", now + max(1, queue.max_wait_s))
        if queue.announce_position_s > 0:
            self._arm(call, "queue_announce", now + QUEUE_FIRST_ANNOUNCE_S)
        log.info(
            "sip.queue.enter call=%s queue=%s waiting=%d",
            call.id,
            queue.extension,
            len(self._waiting[queue.id]),
        )
        self._dispatch(queue.id, now)

    def _announce_position(self, call: Call, now: float) -> None:
        """ "You are caller number N" over the music, N the caller's place among the queue's
        waiting callers (oldest first); once on entry, then every ``announce_position_s`` until an
        agent answers (answering clears the call's timers) or the call overflows. As Asterisk's
        app_queue announce-position / announce-frequency do."""
        queue = call.queue
        waiting = self._waiting.get(queue.id, []) if queue is not None else []
        if queue is None or call not in waiting or queue.announce_position_s <= 0:
            return
        self._arm(call, "queue_announce", now + queue.announce_position_s)
        media, prompts = self.media, self.prompt_audio
        if not isinstance(media, Announcer) or prompts is None:
            return
        position = waiting.index(call) + 1
        try:
            media.announce(str(call.id), "a", call.a_codec or 0, prompts(position_phrase(position)))
        except Exception:  # a prompt that cannot be played: the caller keeps the music
            log.exception("sip.queue.announce_failed call=%s", call.id)
            return
        log.info("sip.queue.position call=%s queue=%s position=%d", call.id, queue.extension, position)

    def _agent_free(self, user: UserInfo, now: float) -> bool:
        return (
            not user.do_not_disturb
            and self._on_call.get(user.id, 0) == 0
            and self._wrap_up_until.get(user.id, 0.0) <= now
            and user.id not in self._offering
            and bool(self.location.of_user(user.id, now))
        )

    def _dispatch(self, queue_id: uuid.UUID, now: float) -> None:
        """Offer waiting callers, oldest first, to free agents, longest idle first."""
        waiting = self._waiting.get(queue_id)
        if not waiting or self.queues is None:
            return
        agents = [u for u in (self.directory.user(i) for i in self.queues.agents(queue_id)) if u is not None]
        agents.sort(key=lambda u: self._idle_since.get(u.id, float("-inf")))
        retry = False
        for call in list(waiting):
            if call.legs:
                continue  # already ringing an agent
            free = [u for u in agents if u.tenant_id == call.tenant.id and self._agent_free(u, now)]
            if not free:
                retry = retry or bool(agents)
                break
            fresh = [u for u in free if u.id not in call.offered]
            if not fresh:
                call.offered.clear()  # everyone had a turn: start a new round
                fresh = free
            agent = fresh[0]
            call.offered.add(agent.id)
            for binding in self.location.of_user(agent.id, now):
                self._start_leg(call, agent, binding)
            self._offering[agent.id] = call
            assert call.queue is not None
            self._arm(call, "queue_offer", now + max(1, call.queue.agent_ring_s))
            agents = [u for u in agents if u.id != agent.id]
        if retry:
            self._dispatch_at[queue_id] = min(
                self._dispatch_at.get(queue_id, now + QUEUE_RETRY_S), now + QUEUE_RETRY_S
            )

    def _release_offer(self, call: Call) -> None:
        for agent_id, offered in list(self._offering.items()):
            if offered is call:
                del self._offering[agent_id]

    def _queue_offer_missed(self, call: Call, now: float) -> None:
        """The agent did not answer in ``agent_ring_s`` (or refused): the next one is tried."""
        if call.queue is None or call not in self._waiting.get(call.queue.id, []):
            return
        call.timers.pop("queue_offer", None)
        self._cancel_legs(call)
        self._release_offer(call)
        self._dispatch_at[call.queue.id] = now  # on the next timer turn, with the others

    def _queue_answered(self, call: Call, leg: BLeg, now: float) -> None:
        queue = call.queue
        assert queue is not None
        waiting = self._waiting.get(queue.id, [])
        if call in waiting:
            waiting.remove(call)
        self._release_offer(call)
        self._caller_music_off(call)
        call.target = leg.user
        wait_ms = round((now - (call.queued_at if call.queued_at is not None else now)) * 1000)
        self._queue_event(
            "answered", queue, call, agent_id=leg.user.id if leg.user else None, wait_ms=wait_ms
        )
        log.info(
            "sip.queue.answered call=%s queue=%s agent=%s wait_ms=%d",
            call.id,
            queue.extension,
            leg.label,
            wait_ms,
        )

    def _queue_overflow(self, call: Call, now: float) -> None:
        queue = call.queue
        assert queue is not None
        waiting = self._waiting.get(queue.id, [])
        if call not in waiting:
            return
        waiting.remove(call)
        self._cancel_legs(call)
        self._release_offer(call)
        self._caller_music_off(call)
        wait_ms = round((now - (call.queued_at if call.queued_at is not None else now)) * 1000)
        self._queue_event("overflowed", queue, call, wait_ms=wait_ms)
        call.queue = None
        destination = (queue.overflow_destination or "").strip()
        log.info("sip.queue.overflow call=%s queue=%s to=%r", call.id, queue.extension, destination)
        user = self.directory.user_by_extension(call.tenant.id, destination) if destination else None
        group = (
            None
            if user or not destination
            else self.directory.hunt_group_by_extension(call.tenant.id, destination)
        )
        if user is not None:
            self._route_to_user(call, user, now)
        elif group is not None:
            self._route_to_group(call, group, now)
        elif destination.startswith("vm-") or destination.startswith("aa."):
            self._route_to_app(call, destination, now)
        else:
            self._reject(call, 480, now, "no_answer", "queue_overflow")

    def _queue_call_ended(self, call: Call, now: float) -> None:
        """Abandoned while waiting, or an agent's call done: wrap-up, then the queue is looked at."""
        queue = call.queue
        if queue is not None:
            waiting = self._waiting.get(queue.id, [])
            if call in waiting:
                waiting.remove(call)
                wait_ms = round((now - (call.queued_at if call.queued_at is not None else now)) * 1000)
                self._queue_event("abandoned", queue, call, wait_ms=wait_ms)
            self._release_offer(call)
            agent = call.answered.user if call.answered is not None else None
            if agent is not None:
                self._wrap_up_until[agent.id] = now + queue.wrap_up_s
                self._dispatch_at[queue.id] = now + queue.wrap_up_s
        for queue_id, waiting in self._waiting.items():
            if waiting:  # someone may be free now
                self._dispatch_at.setdefault(queue_id, now)

    def _agent_login(self, call: Call, extension: str, on: bool, now: float) -> None:
        """*45<queue> logs the caller in as an agent, *46<queue> out: answered, confirmed with a
        short pause, hung up. Only the queue's members may log in."""
        queue = self.queues.queue_by_extension(call.tenant.id, extension) if self.queues else None
        caller = call.caller
        if queue is None or caller is None or self.queues is None:
            self._reject(call, 404, now, "failed", "no_such_queue", "Not Found (no such queue)")
            return
        if caller.id not in self.queues.members(queue.id):
            self._reject(call, 403, now, "rejected", "not_an_agent", "Forbidden (not an agent of this queue)")
            return
        self.queues.set_logged_in(queue.id, caller.id, on)
        self._queue_event("agent_login" if on else "agent_logout", queue, call, agent_id=caller.id)
        log.info(
            "sip.queue.agent call=%s queue=%s agent=%s logged_in=%s", call.id, extension, caller.extension, on
        )
        if on:
            self._dispatch_at[queue.id] = now
        if call.anchor is None:
            self._reject(call, 480, now, "answered", "agent_login_done", "Logged in" if on else "Logged out")
            return
        if self._answer_locally(call, now) is not None:
            self._arm(call, "feature_done", now + 1.0)

    # -- the app server ---------------------------------------------------------------------
    def _app_for_extension(self, tenant_id: uuid.UUID, extension: str) -> str | None:
        """An attendant menu's or a conference bridge's extension: the app server's user part."""
        if self.app_address is None:
            return None
        menu = self.directory.attendant_by_extension(tenant_id, extension)
        if menu is not None:
            return f"aa.{menu}"
        if self.conference_by_extension is not None:
            return self.conference_by_extension(tenant_id, extension)
        return None

    def _has_voicemail(self, user: UserInfo) -> bool:
        return user.voicemail and self.app_address is not None

    def _to_voicemail(self, call: Call, user: UserInfo, reason: str, now: float) -> None:
        """hosted-pbx.txt voicemail / issue #4 point 2: busy, no answer or unavailable go to the
        user's mailbox, with the greeting for the reason."""
        log.info("sip.call.voicemail call=%s user=%s reason=%s", call.id, user.extension, reason)
        call.target = user
        self._route_to_app(call, f"vm-deposit.{user.id}", now, reason=reason)

    def _route_to_app(self, call: Call, app: str, now: float, *, reason: str | None = None) -> None:
        if self.app_address is None:
            self._reject(call, 404, now, "failed", "no_app_server", "Not Found (feature not available)")
            return
        domain = call.tenant.domain
        name, number = self._caller_id(call)
        caller = call.caller
        if caller is not None:
            number = caller.extension
        headers = self._leg_headers(call, f"<sip:{app}@{domain}>")
        headers.add("From", f"{quote(name)} <sip:{number}@{domain}>;tag={new_tag()}")
        headers.add("X-Centrex-Tenant", str(call.tenant.id))
        headers.add("X-Centrex-Call", str(call.id))
        headers.add("X-Centrex-Caller", number)
        headers.add("X-Centrex-Caller-Name", quote(name))
        if caller is not None:
            headers.add("X-Centrex-Caller-User", str(caller.id))
        if reason:
            headers.add("X-Centrex-Reason", reason)
        host, port = self.app_address
        call.timers.pop("no_answer", None)  # the app answers; no more forwarding on this call
        call.state = CallState.RINGING
        call.legs = []
        if "ring" not in call.timers:
            self._arm(call, "ring", now + self.max_ring_s)
        leg = self._launch(
            call, f"sip:{app}@{host}:{port}", headers, "UDP", self.app_address, None, None, None
        )
        leg.app, leg.app_addr = app, self.app_address

    # -- message-waiting subscriptions (RFC 3842 / RFC 6665) -------------------------------
    def _mwi_subscribe(self, req: Request, addr: Address, transport: str, now: float) -> None:
        if (req.headers.get("Event") or "").split(";")[0].strip().lower() != "message-summary":
            self._reply(transport, req, 489, "Bad Event", extra=[("Allow-Events", "message-summary")])
            return
        who = self._authenticate(req, addr, transport, now)
        if who is None:
            return
        tenant, device = who
        user_id = device.user_id
        if user_id is None:
            self._reply(transport, req, 404, "Not Found (no mailbox for this phone)")
            return
        expires = _expires(req, MWI_MAX_EXPIRES)
        ok = make_response(
            req,
            200,
            to_tag=new_tag(),
            extra=[("Expires", str(expires)), ("Contact", self.network.contact(transport))],
        )
        self.network.send_response(transport, ok)
        dialog = Dialog.from_uas(req, ok)
        sub = MwiSubscription(tenant.id, user_id, dialog, transport, addr, now + expires)
        if expires > 0:
            self._mwi_subs[(req.call_id, req.from_.tag or "")] = sub
        self._mwi_notify(sub, now, terminated=expires == 0)

    def _mwi_refresh(self, sub: MwiSubscription, req: Request, transport: str, now: float) -> None:
        if not sub.dialog.receive_request(req):
            self._reply(transport, req, 500, "Server Internal Error (CSeq out of order)")
            return
        expires = _expires(req, MWI_MAX_EXPIRES)
        self.network.send_response(
            transport, make_response(req, 200, to_tag=sub.dialog.local_tag, extra=[("Expires", str(expires))])
        )
        sub.expires_at = now + expires
        if expires == 0:
            self._mwi_subs.pop((req.call_id, req.from_.tag or ""), None)
        self._mwi_notify(sub, now, terminated=expires == 0)

    def _mwi_account(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
        """The mailbox's SIP address, or None when the user is not the tenant's."""
        user = self.directory.user(user_id)
        tenant = self.directory.tenant(tenant_id)
        if user is None or tenant is None or user.tenant_id != tenant_id:
            return None
        return f"sip:{user.extension}@{tenant.domain}"

    @staticmethod
    def _mwi_body(account: str, new: int, old: int) -> bytes:
        return (
            f"Messages-Waiting: {'yes' if new else 'no'}\r\n"
            f"Message-Account: {account}\r\n"
            f"Voice-Message: {new}/{old} (0/0)\r\n"
        ).encode()

    def _mwi_notify(
        self,
        sub: MwiSubscription,
        now: float,
        *,
        terminated: bool = False,
        counts: tuple[int, int] | None = None,
        account: str | None = None,
    ) -> None:
        if counts is None:
            counts = (0, 0)
            if self.mwi_counts is not None:
                try:
                    counts = self.mwi_counts(sub.tenant_id, sub.user_id)
                except Exception:
                    log.exception("sip.mwi.counts_failed user=%s", sub.user_id)
        account = account or self._mwi_account(sub.tenant_id, sub.user_id)
        if account is None:
            return
        body = self._mwi_body(account, *counts)
        left = max(0, round(sub.expires_at - now))
        state = "terminated;reason=timeout" if terminated else f"active;expires={left}"
        notify = sub.dialog.create_request(
            "NOTIFY",
            body=body,
            content_type="application/simple-message-summary",
            extra=[("Event", "message-summary"), ("Subscription-State", state)],
        )
        self._send(sub.transport, notify, sub.addr)

    def notify_mwi(self, tenant_id: uuid.UUID, user_id: uuid.UUID, new: int, old: int, now: float) -> int:
        """RFC 3842 message-waiting indication as an unsolicited NOTIFY to every registered contact
        of the user (phones that subscribe get the same body). Returns how many were sent."""
        account = self._mwi_account(tenant_id, user_id)
        if account is None:
            return 0
        body = self._mwi_body(account, new, old)
        sent = 0
        subscribed: set[Address] = set()
        for key, sub in list(self._mwi_subs.items()):
            if sub.expires_at <= now:
                del self._mwi_subs[key]
            elif sub.user_id == user_id and sub.tenant_id == tenant_id:
                self._mwi_notify(sub, now, counts=(new, old), account=account)
                subscribed.add(sub.addr)
                sent += 1
        for binding in self.location.of_user(user_id, now):
            if binding.source in subscribed:
                continue  # that phone subscribed: it had its NOTIFY in its dialog
            headers = Headers()
            headers.add("Max-Forwards", "70")
            headers.add("From", f"<{account}>;tag={new_tag()}")
            headers.add("To", f"<{account}>")
            headers.add("Call-ID", new_call_id())
            headers.add("CSeq", "1 NOTIFY")
            headers.add("Event", "message-summary")
            headers.add("Subscription-State", "active")
            headers.add("Contact", self.network.contact(binding.transport))
            headers.add("Content-Type", "application/simple-message-summary")
            request = Request("NOTIFY", parse_uri(binding.contact), headers, body)
            self._send(binding.transport, request, binding.source)
            sent += 1
        return sent

    def _forward(self, call: Call, destination: str, now: float, why: str) -> None:
        target = self.directory.user_by_extension(call.tenant.id, destination.strip())
        log.info("sip.call.forward call=%s why=%s to=%r", call.id, why, destination)
        if target is None:
            self._reject(call, 480, now, "failed", f"forward_{why}_unroutable")
            return
        self.network.send_response(call.a_transport, make_response(call.a_invite, 181, to_tag=call.a_tag))
        self._route_to_user(call, target, now)

    def _start_leg(self, call: Call, user: UserInfo, binding: Binding, *, name_prefix: str = "") -> None:
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
        headers = self._leg_headers(call, f"<sip:{user.extension}@{domain}>")
        headers.add("From", f"{identity};tag={new_tag()}")
        headers.add("P-Asserted-Identity", identity)
        self._launch(call, binding.contact, headers, binding.transport, binding.source, user, binding, None)

    def _leg_headers(self, call: Call, to: str) -> Headers:
        headers = Headers()
        mf = call.a_invite.max_forwards
        headers.add("Max-Forwards", str(max(1, (mf if mf is not None else 70) - 1)))
        headers.add("To", to)
        headers.add("Call-ID", new_call_id())
        headers.add("CSeq", "1 INVITE")
        return headers

    def _launch(
        self,
        call: Call,
        uri: str,
        headers: Headers,
        transport: str,
        addr: Address,
        user: UserInfo | None,
        binding: Binding | None,
        target: Target | None,
    ) -> BLeg:
        if call.direct and (user is None or call.group is not None or call.queue is not None):
            self._reanchor(call)  # an app, a trunk, a hunt group or a queue: back on the relay
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
        key = self._send(transport, invite, addr)
        leg = BLeg(call, user, binding, invite, key, self.wall(), target)
        call.legs.append(leg)
        call.all_legs.append(leg)
        self._legs_by_key[key] = leg
        self._legs_by_callid[invite.call_id] = leg
        return leg

    def _trunk_silent(self, call: Call, now: float) -> None:
        """A trunk gateway gave no answer at all (not even 100 Trying): count it as failed and go
        on to the next target rather than wait for Timer B's 32 s."""
        for leg in list(call.legs):
            if leg.target is not None and leg.state is LegState.CALLING and leg.status is None:
                log.warning("sip.trunk.silent call=%s gateway=%s", call.id, leg.target.gateway.host)
                leg.state = LegState.CANCELLING  # a late 2xx is answered with ACK + BYE
                leg.status, leg.ended_at = 408, self.wall()
                call.legs.remove(leg)
                self.health.failed(leg.target.gateway, now)
        if call.legs:
            return
        if call.targets:
            self._try_next_target(call, now)
        else:
            self._reject(call, 503, now, "failed", "routes_failed", "Service Unavailable (all routes failed)")

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
        if call is not None and side == "caller" and this is not None and call.answered is None:
            # Answered but with nobody on the other side yet (parked, waiting in a queue, being
            # routed again after an app): the caller may hang up; anything else waits.
            if this.receive_request(req) and req.method == "BYE":
                self.network.send_response(transport, make_response(req, 200))
                if call.anchor is not None:
                    self._caller_music_off(call)
                self._cancel_legs(call)
                cause = "caller_bye_parked" if call.parked is not None else "caller_bye_waiting"
                self._end(call, now, "answered", cause, 200)
            else:
                self._reply(transport, req, 200 if req.method == "OPTIONS" else 491)
            return
        if this is None or other is None or call.state is not CallState.ANSWERED:
            self._reply(transport, req, 481)
            return
        if not this.receive_request(req):
            self._reply(transport, req, 500, "Server Internal Error (CSeq out of order)")
            return
        if req.method == "BYE":
            self.network.send_response(transport, make_response(req, 200))
            if call.xfer is not None and call.xfer.side == side:
                call.xfer.referrer_gone = True  # the transfer goes on without the referrer
                return
            self._send(other_transport, other.create_request("BYE"), other_addr)
            if call.xfer is not None:
                self._cancel_transfer(call)
            self._end(call, now, "answered", f"{side}_bye", 200)
            return
        if req.method == "REFER":
            self._refer(call, req, side, this, transport, now)
            return
        if req.method == "OPTIONS":
            self._reply(transport, req, 200, extra=[("Allow", ALLOW)])
            return
        toward = "b" if side == "caller" else "a"
        if req.method == "INVITE":
            self._hold_music(call, toward, req)
        forwarded = other.create_request(
            req.method,
            body=self._through_relay(call, toward, req.body, req.headers.get("Content-Type")),
            content_type=req.headers.get("Content-Type"),
        )
        key = self._send(other_transport, forwarded, other_addr)
        self._relays[key] = Relay(call, req, transport, forwarded, other, other_transport, other_addr)

    # -- an app hands the call back (attendant choices, queue overflow) ---------------------
    def _redirect_from_app(
        self, call: Call, req: Request, dialog: Dialog, transport: str, wanted: str, now: float
    ) -> None:
        """The app server REFERs its call to an extension, a hunt group or another app (an
        attendant's menu choice): the app leg is released and the call is routed afresh, with
        forwarding, hunt groups and voicemail, while the caller stays answered on the relay."""
        tenant = call.tenant.id
        user = self.directory.user_by_extension(tenant, wanted) if wanted else None
        group = (
            None if user is not None or not wanted else self.directory.hunt_group_by_extension(tenant, wanted)
        )
        is_app = bool(wanted) and (
            wanted.startswith("vm-") or wanted.startswith("conf") or wanted.startswith("aa.")
        )
        if user is None and group is None and not is_app:
            self._reply(transport, req, 404, "Not Found (no such extension)")
            return
        if call.anchor is None:
            self._reply(transport, req, 501, "Not Implemented (the call is not anchored)")
            return
        leg = call.answered
        assert leg is not None and leg.dialog is not None
        self._reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        xfer = Transfer(
            "callee",
            dialog,
            transport,
            leg.addr,
            req.cseq.seq,
            user or UserInfo(uuid.uuid4(), tenant, "", ""),
        )
        self._notify_refer(xfer, "SIP/2.0 200 OK", final=True)
        self._send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
        leg.state, leg.ended_at = LegState.ENDED, self.wall()
        self._forget_leg(leg)
        call.answered, call.state, call.legs = None, CallState.RINGING, []
        if call.a_codec is not None and call.b_offer is not None:
            call.b_offer = _only_codec(call.b_offer, call.a_codec)
        log.info("sip.call.redirect call=%s from=%s to=%s", call.id, leg.app, wanted)
        if user is not None:
            self._route_to_user(call, user, now)
        elif group is not None:
            self._route_to_group(call, group, now)
        else:
            self._route_to_app(call, wanted, now)

    # -- call park (issue #4 point 6) -------------------------------------------------------
    def _park(
        self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, slot_text: str, now: float
    ) -> None:
        """The callee transfers the caller to a park slot: the callee is released, the caller
        waits with music until someone of the tenant dials *71<slot> — or, after the tenant's
        ``park_timeout_s``, the call rings the parker back (``_park_recall``)."""
        if side != "callee" or call.anchor is None or call.xfer is not None:
            self._reply(transport, req, 501, "Not Implemented (only the answering side may park)")
            return
        taken = {c.parked for c in self.calls.values() if c.tenant.id == call.tenant.id and c.parked}
        if slot_text:
            slot = int(slot_text) if slot_text.isdigit() else -1
            if slot not in PARK_SLOTS or slot in taken:
                self._reply(transport, req, 486 if slot in taken else 404, "Park slot not available")
                return
        else:
            free = [n for n in PARK_SLOTS if n not in taken]
            if not free:
                self._reply(transport, req, 486, "Busy Here (every park slot is taken)")
                return
            slot = free[0]
        leg = call.answered
        assert leg is not None and leg.dialog is not None
        self._reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        xfer = Transfer(
            side,
            dialog,
            transport,
            leg.addr,
            req.cseq.seq,
            call.target or UserInfo(uuid.uuid4(), call.tenant.id, "", ""),
        )
        self._notify_refer(xfer, "SIP/2.0 200 OK", final=True)
        self._send(leg.transport, leg.dialog.create_request("BYE"), leg.addr)
        leg.state, leg.ended_at = LegState.ENDED, self.wall()
        self._forget_leg(leg)
        parker = leg.user
        if parker is not None and self._on_call.get(parker.id, 0) > 0:
            # The parker is free again (hunt groups, queues): the parked call is nobody's call.
            self._off_call(parker.id, now)
        queue = call.queue
        if queue is not None and call not in self._waiting.get(queue.id, []):
            # An agent parked a queue call: their part is done (wrap-up from now), and whoever
            # takes it back is not answering the queue again.
            if parker is not None:
                self._wrap_up_until[parker.id] = now + queue.wrap_up_s
                self._dispatch_at[queue.id] = now + queue.wrap_up_s
            call.queue = None
        call.answered, call.parked, call.parked_by = None, slot, parker
        log.info("sip.call.parked call=%s slot=%d tenant=%s", call.id, slot, call.tenant.id)
        if self.media is not None:
            pt = _first_g711_pt(call.a_invite.body)
            if pt is not None:
                self.media.music(str(call.id), "a", pt, True)
        if parker is not None and call.tenant.park_timeout_s > 0:
            self._arm(call, "park_timeout", now + call.tenant.park_timeout_s)

    def _off_call(self, user_id: uuid.UUID, now: float) -> None:
        """One call fewer for the user (hunt groups and queues ring only users on no call); idle
        since ``now`` (longest-idle hunting)."""
        left = self._on_call.get(user_id, 1) - 1
        if left > 0:
            self._on_call[user_id] = left
        else:
            self._on_call.pop(user_id, None)
        self._idle_since[user_id] = now

    def _park_recall(self, call: Call, now: float) -> None:
        """Nobody took the parked call back in the tenant's ``park_timeout_s``: it rings every
        phone of the user who parked it, as a new leg whose caller ID name says what it is
        ("Park 3: Alice"), still with music and still in its slot (*71<slot> still takes it).
        What Asterisk's res_parking does with ``comebacktoorigin=yes`` (Wazo's parkings run on
        it), FreePBX's "Come back to origin" and Switchvox's default; the prefix is their
        "CallerID prepend" for timed-out parked calls."""
        parked_by = call.parked_by
        assert parked_by is not None and call.parked is not None
        parker = self.directory.user(parked_by.id) or parked_by  # DND or mailbox may have changed
        bindings = [] if parker.do_not_disturb else self.location.of_user(parker.id, now)
        if not bindings:
            self._park_recall_missed(call, now)
            return
        log.info("sip.call.park_recall call=%s slot=%d parker=%s", call.id, call.parked, parker.extension)
        call.recalling, call.state, call.legs, call.busy_seen = True, CallState.RINGING, [], False
        if call.a_codec is not None and call.b_offer is not None:
            call.b_offer = _only_codec(call.b_offer, call.a_codec)
        for binding in bindings:
            self._start_leg(call, parker, binding, name_prefix=f"{PARK_RECALL_PREFIX} {call.parked}: ")
        self._arm(call, "park_recall", now + max(1, parker.forward_no_answer_seconds))

    def _park_recall_missed(self, call: Call, now: float) -> None:
        """The parker did not answer the recall in their no-answer time (or was busy, on DND, or
        not registered): the call goes to the parker's voicemail when they have one — a caller is
        not left waiting on nobody (BroadWorks' recall and Kazoo's ringback end the same way);
        without a mailbox it stays parked with music and rings the parker again after another
        ``park_timeout_s`` (Kazoo's periodic ringback), until someone takes it or the caller
        hangs up."""
        call.timers.pop("park_recall", None)
        self._cancel_legs(call)
        call.recalling, call.state = False, CallState.ANSWERED
        parked_by = call.parked_by
        parker = (self.directory.user(parked_by.id) or parked_by) if parked_by is not None else None
        if parker is not None and self._has_voicemail(parker):
            self._caller_music_off(call)
            call.parked = None
            if call.a_codec is not None and call.b_offer is not None:
                call.b_offer = _only_codec(call.b_offer, call.a_codec)
            self._to_voicemail(call, parker, "no-answer", now)
            return
        if call.tenant.park_timeout_s > 0:
            self._arm(call, "park_timeout", now + call.tenant.park_timeout_s)

    def _park_recalled(self, call: Call, leg: BLeg) -> None:
        """The parker answered the recall: the music stops and the slot is free."""
        self._caller_music_off(call)
        log.info("sip.call.park_recalled call=%s slot=%s by=%s", call.id, call.parked, leg.label)
        call.parked, call.recalling = None, False
        if leg.user is not None:
            call.target = leg.user

    def _retrieve(self, picker: Call, slot_text: str, now: float) -> None:
        parked = sorted(
            (c for c in self.calls.values() if c.tenant.id == picker.tenant.id and c.parked),
            key=lambda c: c.started_mono,
        )
        if slot_text:
            parked = [c for c in parked if str(c.parked) == slot_text]
        if not parked:
            self._reject(picker, 404, now, "failed", "nothing_parked", "Not Found (nothing parked there)")
            return
        call = parked[0]
        self._caller_music_off(call)
        if call.recalling:  # taken back while it rang the parker: their phones stop ringing
            self._cancel_legs(call)
        call.parked, call.recalling = None, False
        self._take_over(call, picker, now, answer_caller=False)

    # -- call pickup (issue #4 point 6) -----------------------------------------------------
    def _ringing_for(self, picker: Call, extension: str) -> Call | None:
        """The oldest call of the picker's tenant ringing ``extension`` — or, with no extension,
        ringing a member of a hunt group the picker belongs to (group pickup)."""
        tenant = picker.tenant.id
        groups: set[uuid.UUID] = set()
        if not extension and picker.caller is not None:
            groups = {g for g in self._groups_of(tenant, picker.caller.id)}
        for call in sorted(self.calls.values(), key=lambda c: c.started_mono):
            if call is picker or call.tenant.id != tenant or call.state is not CallState.RINGING:
                continue
            if (call.anchor is None and not call.direct) or call.xfer is not None:
                continue  # a direct call is anchored again by _pickup
            if not any(leg.user for leg in call.legs):
                continue
            if call.parked is not None:
                continue  # a parked call ringing its parker back: taken with the retrieve code
            rung = {leg.user.extension for leg in call.legs if leg.user is not None}
            if extension and extension in rung:
                return call
            if not extension and call.group is not None and call.group.id in groups:
                return call
        return None

    def _groups_of(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> list[uuid.UUID]:
        found = []
        for call in self.calls.values():
            g = call.group
            if g is not None and g.tenant_id == tenant_id and user_id in g.member_ids:
                found.append(g.id)
        return found

    def _pickup(self, picker: Call, extension: str, now: float) -> None:
        """The picker's phone takes a call ringing elsewhere: the ringing phones are cancelled, the
        caller is answered with the relay's a side and the picker with its b side, both on the
        one G.711 codec they share. The picker's own INVITE ends as a "picked_up" record."""
        ringing = self._ringing_for(picker, extension)
        if ringing is not None and ringing.direct:
            self._reanchor(ringing)  # the caller has heard no answer yet: the relay takes it back
        if ringing is None or ringing.anchor is None:
            self._reject(picker, 404, now, "failed", "nothing_to_pick_up", "Not Found (no call ringing)")
            return
        self._take_over(ringing, picker, now, answer_caller=True)

    def _take_over(self, call: Call, picker: Call, now: float, *, answer_caller: bool) -> None:
        """The picker's phone becomes the answering side of ``call`` on the relay's b side, with
        the one G.711 codec it shares with the caller. ``answer_caller``: the caller is still
        ringing (pickup) and gets its 200 on the relay's a side; a parked caller is in a dialog."""
        assert call.anchor is not None and self.media is not None
        try:
            c_offer, p_offer = parse_sdp(call.a_invite.body), parse_sdp(picker.a_invite.body)
        except (SipParseError, ValueError):
            self._reject(picker, 488, now, "failed", "pickup_sdp")
            return
        codec = _common_g711(c_offer, p_offer)
        if codec is None:
            self._reject(picker, 488, now, "failed", "pickup_codecs", "Not Acceptable Here (no common codec)")
            return
        (a_host, a_port), (b_host, b_port) = call.anchor
        to_caller = negotiate_answer(c_offer, a_host, a_port, (codec, TELEPHONE_EVENT))
        to_picker = negotiate_answer(p_offer, b_host, b_port, (codec, TELEPHONE_EVENT))
        self._learn(call, "b", p_offer)
        if answer_caller:
            self._cancel_legs(call)
        call.timers.clear()
        # The picker's INVITE is answered in the taken call's name; its own call ends here.
        picker_dialog = self._answer_invite(picker, str(to_picker).encode(), "application/sdp")
        leg = BLeg(call, picker.caller, None, picker.a_invite, picker.a_key, self.wall())
        leg.peer = (picker.a_transport, picker.a_addr)
        leg.dialog = picker_dialog
        leg.state, leg.status, leg.answered_at = LegState.ANSWERED, 200, self.wall()
        call.all_legs.append(leg)
        self._legs_by_callid[picker.a_invite.call_id] = leg
        self._end(picker, now, "picked_up", "picked_up", 200)
        if answer_caller:
            call.a_dialog = self._answer_invite(call, str(to_caller).encode(), "application/sdp")
            call.answered_at, call.answered_mono = leg.answered_at, now
        call.answered, call.state = leg, CallState.ANSWERED
        if picker.caller is not None:
            call.target = picker.caller
            self._on_call[picker.caller.id] = self._on_call.get(picker.caller.id, 0) + 1
        log.info("sip.call.taken call=%s by=%s", call.id, leg.label)
        if answer_caller:
            self._notify(
                self.on_call_answered, CallAnswered(call.id, call.tenant.id, leg.label, leg.answered_at)
            )

    # -- attended transfer (RFC 5589 §7, RFC 3891 Replaces) ------------------------------------
    def _sides(self, call: Call) -> list[tuple[str, Side]]:
        out: list[tuple[str, Side]] = []
        if call.a_dialog is not None:
            out.append(("caller", Side(call.a_dialog, call.a_transport, call.a_addr, None)))
        leg = call.answered
        if leg is not None and leg.dialog is not None:
            out.append(("callee", Side(leg.dialog, leg.transport, leg.addr, leg)))
        return out

    def _attended(
        self,
        call: Call,
        req: Request,
        side: str,
        dialog: Dialog,
        transport: str,
        replaces: tuple[str, str, str],
        now: float,
    ) -> None:
        call_id, tag1, tag2 = replaces
        found: tuple[Call, Side, Side] | None = None
        for other in self.calls.values():
            if other is call or other.tenant.id != call.tenant.id or other.state is not CallState.ANSWERED:
                continue
            sides = self._sides(other)
            for i, (_, b) in enumerate(sides):
                same = b.dialog.call_id == call_id and {b.dialog.local_tag, b.dialog.remote_tag} == {
                    tag1,
                    tag2,
                }
                if same and len(sides) == 2:
                    found = (other, b, sides[1 - i][1])
        if found is None:
            self._reply(transport, req, 481, "Call/Transaction Does Not Exist (Replaces)")
            return
        if call.anchor is None or call.xfer is not None:
            self._reply(transport, req, 501 if call.anchor is None else 491)
            return
        other, b_other, s2 = found
        # S2 is offered the relay side B used in this call, on the codec S1 talks.
        address, port = call.anchor[1] if side == "callee" else call.anchor[0]
        pt = call.a_codec if call.a_codec is not None else _first_g711_pt(call.a_invite.body)
        codec = PCMA if pt == 8 else PCMU
        offer = build_offer(address, port, (codec, TELEPHONE_EVENT), session_id=call.id.hex[:8])
        reinvite = s2.dialog.create_request(
            "INVITE",
            body=str(offer).encode(),
            content_type="application/sdp",
            extra=[("Contact", self.network.contact(s2.transport)), ("Allow", ALLOW)],
        )
        addr = call.a_addr if side == "caller" else (call.answered.addr if call.answered else call.a_addr)
        att = AttendedTransfer(
            call, other, side, dialog, transport, addr, b_other, s2, req.cseq.seq, reinvite
        )
        self._reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        key = self._send(s2.transport, reinvite, s2.addr)
        self._reoffers[key] = att
        log.info("sip.call.attended_transfer call=%s with=%s", call.id, other.id)

    def _attended_response(self, att: AttendedTransfer, resp: Response, now: float) -> None:
        fragment = f"SIP/2.0 {resp.status} {resp.reason or REASON_PHRASES.get(resp.status, '')}"
        notice = Transfer(
            att.b_side,
            att.b_dialog,
            att.b_transport,
            att.b_addr,
            att.event_id,
            UserInfo(uuid.uuid4(), att.call.tenant.id, "", ""),
        )
        if resp.status >= 300:
            self._notify_refer(notice, fragment, final=True)
            return
        att.s2.dialog.receive_response(resp)
        self._send(att.s2.transport, att.s2.dialog.create_ack(att.reinvite.cseq.seq), att.s2.addr)
        call, other = att.call, att.other
        if resp.body and call.anchor is not None:
            with contextlib.suppress(SipParseError, ValueError):
                self._learn(call, "b" if att.b_side == "callee" else "a", parse_sdp(resp.body))
        self._notify_refer(notice, fragment, final=True)
        # Release B from both calls.
        self._send(att.b_transport, att.b_dialog.create_request("BYE"), att.b_addr)
        self._send(att.b_in_other.transport, att.b_in_other.dialog.create_request("BYE"), att.b_in_other.addr)
        s2 = att.s2
        # Take S2 out of the other call without hanging it up.
        if s2.leg is not None:
            other.all_legs = [leg for leg in other.all_legs if leg is not s2.leg]
            if other.answered is s2.leg:
                other.answered = None
            leg = s2.leg
            leg.call = call
        else:
            self._by_a_dialog.pop((other.a_invite.call_id, other.a_from_tag), None)
            leg = BLeg(call, other.caller, None, other.a_invite, other.a_key, self.wall())
            leg.peer = (s2.transport, s2.addr)
            leg.dialog = s2.dialog
            leg.state, leg.status, leg.answered_at = LegState.ANSWERED, 200, self.wall()
            other.a_dialog = None
        # Put S2 in B's place in this call.
        if att.b_side == "callee":
            old = call.answered
            if old is not None:
                old.state, old.ended_at = LegState.ENDED, self.wall()
                self._forget_leg(old)
            call.answered = leg
            call.all_legs.append(leg)
            self._legs_by_callid[s2.dialog.call_id] = leg
            if leg.user is not None:
                call.target = leg.user
        else:
            self._by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
            self._legs_by_callid.pop(s2.dialog.call_id, None)
            call.a_dialog, call.a_transport, call.a_addr = s2.dialog, s2.transport, s2.addr
            call.a_tag = s2.dialog.local_tag
            self._by_a_dialog[(s2.dialog.call_id, s2.dialog.remote_tag or "")] = call
        self._end(other, now, "answered", "attended_transfer", 200)
        log.info("sip.call.transferred call=%s (attended) ended=%s", call.id, other.id)

    # -- blind transfer (RFC 3515; issue #4 point 6) ------------------------------------------
    def _refer(self, call: Call, req: Request, side: str, dialog: Dialog, transport: str, now: float) -> None:
        refer_to = req.headers.get("Refer-To")
        target: UserInfo | None = None
        if refer_to:
            try:
                uri = parse_name_addr(refer_to).uri
            except SipParseError:
                uri = None
            wanted = dialled_of(uri) if uri is not None else ""
            if side == "callee" and call.answered is not None and call.answered.app:
                self._redirect_from_app(call, req, dialog, transport, wanted, now)
                return
            parking = call.tenant.feature_codes.match(wanted)
            if parking is not None and parking.feature == "park":
                self._park(call, req, side, dialog, transport, parking.argument, now)
                return
            replaces = _replaces_of(refer_to)
            if replaces is not None:
                self._attended(call, req, side, dialog, transport, replaces, now)
                return
            target = self.directory.user_by_extension(call.tenant.id, wanted) if wanted else None
            if target is None and wanted:
                e164 = loose_e164(wanted)
                target = self.directory.user_by_number(call.tenant.id, e164) if e164 else None
        if not refer_to:
            self._reply(transport, req, 400, "Bad Request (no Refer-To)")
            return
        if call.anchor is None or call.xfer is not None:
            # Without the relay the staying side would need a re-offer; one transfer at a time.
            self._reply(transport, req, 501 if call.anchor is None else 491)
            return
        if target is None:
            self._reply(transport, req, 404, "Not Found (transfer target)")
            return
        addr = call.a_addr if side == "caller" else (call.answered.addr if call.answered else call.a_addr)
        xfer = Transfer(side, dialog, transport, addr, req.cseq.seq, target)
        self._reply(transport, req, 202, "Accepted", to_tag=dialog.local_tag)
        self._notify_refer(xfer, "SIP/2.0 100 Trying", final=False)
        bindings = self.location.of_user(target.id, now) if not target.do_not_disturb else []
        if not bindings:
            self._notify_refer(xfer, "SIP/2.0 480 Temporarily Unavailable", final=True)
            return
        call.xfer = xfer
        log.info("sip.call.transfer call=%s by=%s to=%s", call.id, side, target.extension)
        assert call.anchor is not None
        # The target is offered the relay side the referrer used, so the staying side's media path
        # is untouched: the relay re-latches to the target.
        relay_side = call.anchor[0] if side == "caller" else call.anchor[1]
        offer = call.b_offer if side == "callee" else None
        if offer is None:
            try:
                offer = str(rewrite_connection(parse_sdp(call.a_invite.body), *relay_side)).encode()
            except (SipParseError, ValueError):
                offer = call.a_invite.body
        saved = call.legs
        call.legs = []
        for binding in bindings:
            headers = self._leg_headers(call, f"<sip:{target.extension}@{call.tenant.domain}>")
            name, number = self._caller_id(call)
            headers.add("From", f"{quote(name)} <sip:{number}@{call.tenant.domain}>;tag={new_tag()}")
            keep_body = call.extra_body
            call.extra_body = ("application/sdp", offer)
            leg = self._launch(
                call, binding.contact, headers, binding.transport, binding.source, target, binding, None
            )
            call.extra_body = keep_body
            xfer.legs.append(leg)
        call.legs = saved

    def _notify_refer(self, xfer: Transfer, fragment: str, *, final: bool) -> None:
        if xfer.referrer_gone:
            return
        state = "terminated;reason=noresource" if final else "active;expires=60"
        notify = xfer.dialog.create_request(
            "NOTIFY",
            body=(fragment + "\r\n").encode(),
            content_type=SIPFRAG,
            extra=[("Event", f"refer;id={xfer.event_id}"), ("Subscription-State", state)],
        )
        self._send(xfer.transport, notify, xfer.addr)

    def _transfer_response(self, call: Call, xfer: Transfer, leg: BLeg, resp: Response, now: float) -> None:
        status = resp.status
        if status < 200:
            if status == 180 and leg.state is LegState.CALLING:
                leg.state = LegState.RINGING
                self._notify_refer(xfer, "SIP/2.0 180 Ringing", final=False)
            return
        if status >= 300:
            self._leg_failed(leg, status, now)
            return
        if leg.dialog is not None:
            self._send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
            return
        leg.dialog = Dialog.from_uac(leg.invite, resp)
        self._send(leg.transport, leg.dialog.create_ack(leg.invite.cseq.seq), leg.addr)
        leg.answered_at, leg.state, leg.status = self.wall(), LegState.ANSWERED, status
        for other in xfer.legs:
            if other is not leg:
                self._cancel_leg(other)
        if resp.body:
            with contextlib.suppress(SipParseError, ValueError):
                self._learn(call, "a" if xfer.side == "caller" else "b", parse_sdp(resp.body))
        self._notify_refer(xfer, "SIP/2.0 200 OK", final=True)
        if not xfer.referrer_gone:
            self._send(xfer.transport, xfer.dialog.create_request("BYE"), xfer.addr)
        old = call.answered if xfer.side == "callee" else None
        if xfer.side == "callee":
            if old is not None:
                old.state, old.ended_at = LegState.ENDED, self.wall()
                self._forget_leg(old)
            call.answered, call.target = leg, xfer.target
        else:
            # The target takes the caller's place: requests from it are the caller side's now.
            self._by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
            self._legs_by_callid.pop(leg.invite.call_id, None)
            call.a_dialog, call.a_transport, call.a_addr = leg.dialog, leg.transport, leg.addr
            call.a_tag = leg.dialog.local_tag
            self._by_a_dialog[(leg.dialog.call_id, leg.dialog.remote_tag or "")] = call
        call.xfer = None
        log.info("sip.call.transferred call=%s to=%s", call.id, xfer.target.extension)

    def _transfer_leg_failed(self, call: Call, xfer: Transfer, leg: BLeg, status: int, now: float) -> None:
        leg.status, leg.ended_at = status, self.wall()
        if leg.state is not LegState.CANCELLING:
            leg.state = LegState.ENDED
        self._forget_leg(leg)
        if any(o.state in (LegState.CALLING, LegState.RINGING) for o in xfer.legs):
            return
        call.xfer = None
        self._notify_refer(xfer, f"SIP/2.0 {status} {REASON_PHRASES.get(status, 'Failed')}", final=True)
        if xfer.referrer_gone:
            # Nobody to go back to: the staying side is hung up.
            staying = (
                call.a_dialog if xfer.side == "callee" else (call.answered.dialog if call.answered else None)
            )
            if staying is not None:
                where = (
                    (call.a_transport, call.a_addr)
                    if xfer.side == "callee"
                    else (
                        call.answered.transport if call.answered else "UDP",
                        call.answered.addr if call.answered else call.a_addr,
                    )
                )
                self._send(where[0], staying.create_request("BYE"), where[1])
            self._end(call, now, "answered", "transfer_failed", status)

    def _cancel_transfer(self, call: Call) -> None:
        xfer, call.xfer = call.xfer, None
        if xfer is not None:
            for leg in xfer.legs:
                self._cancel_leg(leg)

    # -- responses -------------------------------------------------------------------------
    def _response(self, key: TransactionKey, resp: Response, now: float) -> None:
        if self.trunk_registrar.response(key, resp, now):
            return
        if key in self._reoffers:
            if resp.is_final:
                self._attended_response(self._reoffers.pop(key), resp, now)
            return
        probed = self._probes.pop(key, None) if resp.is_final else self._probes.get(key)
        if probed is not None:
            if not resp.is_final:
                return
            if resp.status >= 500:
                # Out of service, or the transport's own 503 for an unreachable address (§8.1.3.1).
                self.health.failed(probed, now)
            elif self.health.answered(probed):
                log.warning(
                    "sip.trunk.gateway_up gateway=%s:%d status=%d (fail-back)",
                    probed.host,
                    probed.port,
                    resp.status,
                )
            return
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
        if call.xfer is not None and leg in call.xfer.legs:
            self._transfer_response(call, call.xfer, leg, resp, now)
            return
        if leg.target is not None:
            # Any answer shows the gateway is alive; a 5xx is counted by _leg_failed.
            if status < 500 and self.health.answered(leg.target.gateway):
                log.warning("sip.trunk.gateway_up gateway=%s (answered a call)", leg.target.gateway.host)
            if leg.status is None:
                leg.status = status if status >= 200 else None
            call.timers.pop("trunk_setup", None)
        if status == 100:
            return
        if (
            status in (401, 407)
            and leg.target is not None
            and leg.target.trunk.auth_username
            and not leg.auth_tried
            and leg.state is LegState.CALLING
        ):
            self._answer_challenge(leg, resp, now)
            return
        if status < 200:
            if leg.state is LegState.CALLING:
                leg.state = LegState.RINGING
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
                            body=self._through_relay(call, "a", resp.body, resp.headers.get("Content-Type")),
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
            if leg.user is not None:
                self._on_call[leg.user.id] = self._on_call.get(leg.user.id, 0) + 1
            call.timers.clear()
            for other in call.legs:
                if other is not leg:
                    self._cancel_leg(other)
            if call.a_dialog is not None:
                # A re-routed call: the caller was answered long ago (by an app); only the relay's
                # b side learns where the new party is.
                if resp.body:
                    with contextlib.suppress(SipParseError, ValueError):
                        self._learn(call, "b", parse_sdp(resp.body))
                if call.parked is not None:
                    self._park_recalled(call, leg)
                elif call.queue is not None:
                    self._queue_answered(call, leg, now)
                log.info("sip.call.answer call=%s by=%s (re-routed)", call.id, leg.label)
                return
            call.answered_at, call.answered_mono = leg.answered_at, now
            body = self._through_relay(call, "a", resp.body, resp.headers.get("Content-Type"))
            call.a_dialog = self._answer_invite(call, body, resp.headers.get("Content-Type"))
            call.a_codec = _first_g711_pt(body)
            log.info("sip.call.answer call=%s by=%s", call.id, leg.label)
            self._notify(
                self.on_call_answered,
                CallAnswered(call.id, call.tenant.id, leg.label, leg.answered_at or self.wall()),
            )
            return
        self._leg_failed(leg, status, now)

    def _leg_failed(self, leg: BLeg, status: int, now: float) -> None:
        call = leg.call
        if call.xfer is not None and leg in call.xfer.legs:
            self._transfer_leg_failed(call, call.xfer, leg, status, now)
            return
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
        if call.recalling:  # the parker's phones refused the recall (busy, …)
            self._park_recall_missed(call, now)
            return
        if leg.target is not None:
            self._trunk_leg_failed(call, leg.target, status, now)
            return
        if call.queue is not None and not leg.app:
            call.timers.pop("queue_offer", None)
            self._queue_offer_missed(call, now)
            return
        if call.group is not None and not leg.app:
            call.timers.pop("hunt", None)
            self._hunt_next(call, now)
            return
        if leg.app:
            log.warning("sip.app.failed call=%s app=%s status=%d", call.id, leg.app, status)
            self._reject(call, status if status >= 400 else 480, now, "failed", "app_failed")
            return
        target = call.target
        assert target is not None
        if call.busy_seen:
            if target.forward_busy:
                self._forward(call, target.forward_busy, now, "busy")
            elif self._has_voicemail(target):
                self._to_voicemail(call, target, "busy", now)
            else:
                self._reject(call, 486, now, "busy", "busy")
        elif target.forward_no_answer:
            call.timers.pop("no_answer", None)
            self._forward(call, target.forward_no_answer, now, "unavailable")
        elif self._has_voicemail(target):
            call.timers.pop("no_answer", None)
            self._to_voicemail(call, target, "unavailable", now)
        else:
            self._reject(call, 480, now, "failed", "unavailable")

    def _answer_challenge(self, leg: BLeg, resp: Response, now: float) -> None:
        """A carrier challenged our INVITE (RFC 3261 §22.2): send it again with the trunk's
        credentials, same dialog, next CSeq. Once only: a second challenge is a refusal."""
        assert leg.target is not None
        trunk = leg.target.trunk
        asked = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        answer = "Authorization" if resp.status == 401 else "Proxy-Authorization"
        challenge = resp.headers.get(asked)
        if not challenge:
            self._leg_failed(leg, resp.status, now)
            return
        invite = leg.invite.copy()
        invite.headers.remove("Via")
        invite.headers.set("CSeq", f"{leg.invite.cseq.seq + 1} INVITE")
        invite.headers.add(
            answer,
            build_authorization(
                challenge, "INVITE", str(invite.uri), trunk.auth_username, trunk.auth_password
            ),
        )
        self._legs_by_key.pop(leg.key, None)
        leg.invite, leg.auth_tried = invite, True
        leg.key = self._send(leg.transport, invite, leg.addr)
        self._legs_by_key[leg.key] = leg

    def _trunk_leg_failed(self, call: Call, target: Target, status: int, now: float) -> None:
        """Failover (issue #6 point 5): a 5xx or a timeout moves the call to the next target; any
        other final answer (busy, not found, …) is the called party's and goes back to the caller."""
        if status >= 500 or status == 408:
            self.health.failed(target.gateway, now)
            log.warning(
                "sip.trunk.failover call=%s trunk=%s gateway=%s status=%d left=%d",
                call.id,
                target.trunk.name,
                target.gateway.host,
                status,
                len(call.targets),
            )
            if call.targets:
                self._try_next_target(call, now)
                return
            self._reject(call, 503, now, "failed", "routes_failed", "Service Unavailable (all routes failed)")
            return
        if status in (401, 407):
            # The carrier refused our credentials (or we have none for it): its problem with us,
            # not the called party's answer. Never relay a challenge to the phone.
            log.error("sip.trunk.auth_refused call=%s trunk=%s status=%d", call.id, target.trunk.name, status)
            if call.targets:
                self._try_next_target(call, now)
            else:
                self._reject(
                    call, 503, now, "failed", "trunk_auth", "Service Unavailable (carrier refused us)"
                )
            return
        disposition = "busy" if status in (486, 600) else ("no_answer" if status == 480 else "failed")
        self._reject(call, status, now, disposition, f"remote_{status}")

    def _relay_response(self, relay: Relay, resp: Response) -> None:
        relay.other.receive_response(resp)
        if relay.forwarded.method == "INVITE" and 200 <= resp.status < 300:
            ack = relay.other.create_ack(relay.forwarded.cseq.seq)
            self._send(relay.other_transport, ack, relay.other_addr)
        extra = []
        if 200 <= resp.status < 300 and relay.request.method in ("INVITE", "UPDATE"):
            extra.append(("Contact", self.network.contact(relay.transport)))
        toward = "a" if relay.other is not relay.call.a_dialog else "b"
        out = make_response(
            relay.request,
            resp.status,
            resp.reason,
            body=self._through_relay(relay.call, toward, resp.body, resp.headers.get("Content-Type")),
            content_type=resp.headers.get("Content-Type"),
            extra=extra,
        )
        self.network.send_response(relay.transport, out)

    def _timed_out(
        self, key: TransactionKey, event: TransactionTimedOut | TransportError, now: float
    ) -> None:
        probed = self._probes.pop(key, None)
        if probed is not None:
            self.health.failed(probed, now)  # still down: probe again later
            return
        if self.trunk_registrar.timed_out(key, now):
            return
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
        if call.a_dialog is not None:
            # Re-routed after an app answered: the caller's INVITE is long done; hang up instead.
            self._send(call.a_transport, call.a_dialog.create_request("BYE"), call.a_addr)
            self._end(call, now, disposition, cause, status)
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
        if call.anchor is not None and self.media is not None:
            try:
                self.media.close(str(call.id))
            except Exception:
                log.exception("sip.media.close_failed call=%s", call.id)
        self.calls.pop(call.id, None)
        self._by_a_key.pop(call.a_key, None)
        self._by_a_dialog.pop((call.a_invite.call_id, call.a_from_tag), None)
        ended = self.wall()
        self._queue_call_ended(call, now)
        answered = call.answered
        if answered is not None and answered.user is not None:
            self._off_call(answered.user.id, now)
        for leg in call.all_legs:
            if leg.state is LegState.ANSWERED:
                leg.state, leg.ended_at = LegState.ENDED, ended
                self._forget_leg(leg)
            elif leg.ended_at is None and leg.state is LegState.CANCELLING:
                leg.ended_at = ended
        duration_ms = round((now - call.answered_mono) * 1000) if call.answered_mono is not None else 0
        caller = call.caller
        if caller is not None:
            from_ = caller.extension
        elif call.device is not None:
            from_ = call.device.username
        else:
            from_ = call.remote_number or ""
        if call.target is not None:
            to = call.target.extension
        elif call.group is not None:
            to = call.group.extension
        else:
            to = call.out_number or call.classification.destination or call.dialled
        trunk = call.out_trunk or call.trunk
        record = CallEnded(
            call.id,
            call.tenant.id,
            call.site_id,
            caller.id if caller else None,
            call.device.id if call.device else None,
            from_,
            to,
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
            call.direction,
            trunk.name if trunk else None,
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
        # Break the call's cycles with its legs so reference counting frees them at once: fewer
        # objects for the collector's full passes, whose pauses were what failed calls under load.
        call.legs, call.all_legs, call.answered, call.xfer = [], [], None, None

    def _notify(self, callback: Callable[[_E], None] | None, event: _E) -> None:
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
