"""The call core's data: a call, its legs and dialogs, and what a transfer in progress holds.

Plain dataclasses the engine and the services share (STYLE.md: events and state are data). A
call is two sides (sippy's event-isolated two-leg design): the A-leg, a UAS dialog with the caller,
and B-legs, UAC dialogs with each contact rung (parallel forking). Fields under "feature state"
are owned by the PBX services (pbx/) that set them; the core only reads them to decide what a
call may give up (direct media) and what its CDR says.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from centrex.calls.directory import DeviceInfo, HuntGroupInfo, QueueInfo, TenantInfo, UserInfo
from centrex.calls.location import Binding
from centrex.numbers.classify import Classification
from centrex.routing.model import Target, Trunk
from centrex.sip.dialog import Dialog
from centrex.sip.events import Address, TransactionKey
from centrex.sip.message import Request
from centrex.sip.reliable import ReliableReceiver
from centrex.sip.uri import SipUri

if TYPE_CHECKING:
    from centrex.calls.services import CallService
    from centrex.e911.placed import EmergencyLocation


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


@dataclass(eq=False)
class BLeg:
    """One INVITE we sent for a call: to a registered contact of a user, an app, or a trunk."""

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
    owner: CallService | None = None  # a service that launched it and takes its responses
    early: Dialog | None = None  # the early dialog of reliable provisionals (RFC 3262 PRACKs)
    reliable: ReliableReceiver | None = None

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
class Side:
    """One party of a call as a dialog we hold with it: where to send, and how to take it over."""

    dialog: Dialog
    transport: str
    addr: Address
    leg: BLeg | None  # the party is our UAC leg (a callee); None: it is the call's caller (UAS)


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
class Relay:
    """An in-dialog request passed to the other side, waiting for its final response."""

    call: Call
    request: Request  # as received
    transport: str  # where it came in
    forwarded: Request
    other: Dialog
    other_transport: str
    other_addr: Address


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
    extra_body: tuple[str, bytes] | None = None  # (Content-Type, body) replacing the caller's SDP
    extra_headers: tuple[tuple[str, str], ...] = ()
    anchor: tuple[tuple[str, int], tuple[str, int]] | None = None  # relay addresses (a side, b side)
    direct: bool = False  # relay released: the phones' SDP passes end to end (tenant direct_media)
    a_codec: int | None = None  # the G.711 payload type the caller was answered with
    b_offer: bytes | None = None  # the caller's offer rewritten to the relay's b side
    # -- feature state (set by the pbx/ services) -----------------------------------------------
    group: HuntGroupInfo | None = None  # pbx/hunt_groups.py: the group being hunted
    hunt: list[UserInfo] = field(default_factory=list)  # members still to ring (one at a time)
    xfer: Transfer | None = None  # pbx/transfer.py
    parked: int | None = None  # pbx/park.py: the slot, while the call waits there with music
    parked_by: UserInfo | None = None  # who parked it: rung back after the tenant's park_timeout_s
    recalling: bool = False  # the parker's phones are ringing with the parked call
    queue: QueueInfo | None = None  # pbx/queues.py: the call-center queue the caller waits in
    queued_at: float | None = None
    offered: set[uuid.UUID] = field(default_factory=set)  # agents offered in this round

    @property
    def a_from_tag(self) -> str:
        return self.a_invite.from_.tag or ""
